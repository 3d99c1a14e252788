"""Issue 20 §4: every size. At the smallest usable sizes the job table comes first (rows with a prompt
fragment), dialogs wrap their sentences, the options' labels and dropdowns fit their panel, gallery captions
are one line."""

from __future__ import annotations

from typing import Any

import pytest
from tui_support import SEED_PROMPTS, open_main, screen_text, seed_finished_jobs, wait_for

from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.widgets.prompt_editor import PromptArea


def _job_lines(app: Any, main: Any) -> list[str]:
    """The screen lines inside the job table's rows (below its header), in its bordered box."""
    region = main.query_one("#jobs-box").region
    lines = screen_text(app).splitlines()
    return lines[region.y + 2:region.bottom - 1]


async def test_jobs_come_first_at_40x12(config, core) -> None:
    seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(40, 12)) as pilot:
        main = await open_main(app, pilot)
        await wait_for(lambda: main.table.row_count == 5, what="the seeded jobs")
        await pilot.pause()
        # the three newest jobs, each with the start of its prompt: rows that can be told apart
        newest = [prompt.split()[0] for prompt in reversed(SEED_PROMPTS)][:3]
        await wait_for(lambda: len(_job_lines(app, main)) >= 3, what="three job rows")
        rows = _job_lines(app, main)
        for word, line in zip(newest, rows, strict=False):
            assert word in line, (word, rows)
        assert "Prompt" in screen_text(app).splitlines()[main.table.region.y]
        # the prompt can still be written: two lines of it
        assert main.query_one(PromptArea).content_region.height >= 2


async def test_jobs_come_first_at_60x20(config, core) -> None:
    seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(60, 20)) as pilot:
        main = await open_main(app, pilot)
        await wait_for(lambda: main.table.row_count == 5, what="the seeded jobs")
        await pilot.pause()
        # the prompt took ten rows and left two job rows: now the jobs have at least four
        assert main.query_one(PromptArea).region.height <= 7
        await wait_for(lambda: len(_job_lines(app, main)) >= 4, what="four job rows")

        def prompts_shown() -> bool:
            text = " ".join(screen_text(app).split())
            return all(prompt[:6] in text for prompt in SEED_PROMPTS[1:])

        await wait_for(prompts_shown, what="a piece of each job's prompt")


async def test_options_fold_behind_ctrl_n_when_short(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(100, 14)) as pilot:
        main = await open_main(app, pilot)
        editor = main.query_one(PromptArea)
        # 14 rows: the prompt has the row, the options come in its place on ctrl+n with room for their fields
        await wait_for(lambda: not main.query_one("#options-pane").display, what="the options folded")
        await wait_for(lambda: "^n Options" in screen_text(app), what="the Options key offered")
        await pilot.press("ctrl+n")
        await wait_for(lambda: main.query_one("#options-pane").display and not editor.display, what="options shown")
        await pilot.pause()
        assert main.query_one("#options-pane").region.height >= 7
        await pilot.press("ctrl+n")
        await wait_for(lambda: editor.display and editor.has_focus, what="the prompt back")


def _flat(app: Any) -> str:
    return " ".join(screen_text(app).split())


def _shown_in(app: Any, selector: str) -> str:
    """The words drawn inside the widget ``selector`` of the screen on top (ASCII text: one cell a character)."""
    region = app.screen.query_one(selector).region
    lines = screen_text(app).splitlines()[region.y:region.bottom]
    return " ".join(" ".join(line[region.x:region.right] for line in lines).split())


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (40, 12)], ids=["80x24", "60x20", "40x12"])
async def test_dialog_sentences_wrap_whole(config, core, size) -> None:
    """The export and attach (F7) dialogs and the settings' image-mode help show their whole sentence."""
    from seedream_tui.tui.screens.confirm import PromptScreen
    from seedream_tui.tui.screens.history import HistoryScreen
    from seedream_tui.tui.screens.settings import SettingsScreen, image_mode_hint

    seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=size) as pilot:
        await open_main(app, pilot)
        await pilot.press("f7")
        await wait_for(lambda: isinstance(app.screen, PromptScreen), what="the attach dialog")
        sentence = "The RunComfy request id to follow (from the dashboard, or another tool):"
        await wait_for(lambda: _shown_in(app, "#prompt-message") == sentence, what="the whole attach sentence")
        await _dialog_fits(app, pilot)
        await pilot.press("escape")
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen) and app.screen.selected_job() is not None,
                       what="the history")
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, PromptScreen), what="the export dialog")
        sentence = "to this folder (created if missing):"
        await wait_for(lambda: _shown_in(app, "#prompt-message").endswith(sentence), what="the whole export sentence")
        await _dialog_fits(app, pilot)
        await pilot.press("escape", "escape")
        await pilot.press("f3")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), what="the settings")
        if size[1] >= 20:
            hint = " ".join(image_mode_hint().split())
            await wait_for(lambda: hint in _flat(app), what="the whole image-mode help")


async def _dialog_fits(app: Any, pilot: Any) -> None:
    """The dialog's input and its buttons are on screen, inside the window."""
    from textual.widgets import Button, Input

    await pilot.pause()
    width, height = app.size
    for widget in [*app.screen.query(Input), *app.screen.query(Button)]:
        region = widget.region
        assert region.height >= 1 and region.bottom <= height and region.right <= width, (widget, region)


@pytest.mark.parametrize("size", [(200, 60), (160, 48), (80, 24)], ids=["200x60", "160x48", "80x24"])
async def test_option_labels_take_a_share_of_the_panel(config, core, size) -> None:
    from rich.cells import cell_len

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=size) as pilot:
        main = await open_main(app, pilot)
        await pilot.pause()
        field = main.options.field("sequential_image_generation")
        label = field.query_one(".field-label")
        control = field.query_one(".field-control")
        if size[0] >= 160:  # wide: the whole label ("Sequential image generation"), not "Sequential im…"
            await wait_for(lambda: label.region.width > cell_len(field.spec.title), what=f"a whole label, {label.region}")
        else:  # 80 columns: the label column stays readable and the value has its room
            assert label.region.width >= 12 and control.region.width >= 16, (label.region, control.region)


async def test_option_dropdowns_open_inside_the_panel(config, core) -> None:
    from textual.widgets import Select
    from textual.widgets._select import SelectOverlay

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        pane = main.query_one("#options-pane")
        for name in ("resolution", "sequential_image_generation", "output_format"):
            select = main.options.field(name).query_one(Select)
            select.focus()
            await pilot.press("enter")
            overlay = select.query_one(SelectOverlay)
            await wait_for(lambda: select.expanded and overlay.region.height > 0, what="the dropdown")  # noqa: B023
            await pilot.pause()
            inside = pane.region.shrink((1, 1, 1, 1))  # within the panel's border
            assert inside.contains_region(overlay.region), (name, overlay.region, inside)
            assert overlay.region.height >= 2
            # over the label column too: no value is drawn beside another field's label
            assert overlay.region.x == inside.x, (name, overlay.region, inside)
            await pilot.press("escape")
            await wait_for(lambda: not select.expanded, what="the dropdown closed")  # noqa: B023
        model = main.query_one("#model-select", Select)
        model.focus()
        await pilot.press("enter")
        await wait_for(lambda: model.expanded and model.query_one(SelectOverlay).region.height > 0, what="models")
        await pilot.pause()
        assert pane.region.shrink((1, 1, 1, 1)).contains_region(model.query_one(SelectOverlay).region)


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (200, 60)], ids=["80x24", "60x20", "200x60"])
async def test_gallery_captions_are_one_line_cut_with_an_ellipsis(queue_server, size) -> None:
    from rich.cells import cell_len
    from test_gallery import open_gallery, seeded_app

    from seedream_tui.tui.widgets.gallery import Tile

    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(120, 36)) as pilot:
        screen, gallery = await open_gallery(app, pilot)
        await pilot.resize_terminal(*size)  # after a resize, as seen
        await pilot.pause()
        await wait_for(lambda: len(list(gallery.query(Tile))) == gallery.columns * gallery.rows, what="the tiles")
        await pilot.pause()
        text = screen_text(app).splitlines()
        by_id = {}
        for tile in gallery.query(Tile):
            if tile.job is None or not tile.region.height:
                continue
            caption = tile.query_one(".tile-caption").region
            line = text[caption.y]
            # the caption's cells (CJK characters take two): cut the screen line by cells
            cells, out = 0, ""
            for char in line:
                if cells >= caption.right:
                    break
                if cells >= caption.x:
                    out += char
                cells += cell_len(char)
            by_id[tile.job.id] = (out.strip(), tile.job.prompt)
        assert by_id, "no tile on screen"
        for job_id, (shown, prompt) in by_id.items():
            assert shown.startswith(f"#{job_id} "), shown
            # the prompt's start follows the status, CJK too; a prompt longer than the tile ends in "…"
            assert prompt[:2] in shown, (shown, prompt)
            assert shown.endswith("…") or prompt.endswith(shown.split()[-1]), (shown, prompt)
        # every row of tiles is filled: no blank rows under one row of tiles
        assert gallery.rows == max(2, gallery.size.height // 11)
        rows_drawn = {tile.region.y for tile in gallery.query(Tile) if tile.job is not None}
        assert len(rows_drawn) == min(gallery.rows, -(-len(gallery.jobs) // gallery.columns))
