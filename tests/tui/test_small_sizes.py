"""Issue 20 §4: every size. At the smallest usable sizes the job table comes first (rows with a prompt
fragment), dialogs wrap their sentences, the options' labels and dropdowns fit their panel, gallery captions
are one line."""

from __future__ import annotations

from typing import Any

from tui_support import SEED_PROMPTS, open_main, screen_text, seed_finished_jobs, wait_for

from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.widgets.prompt_editor import PromptArea


def _job_lines(app: Any, main: Any) -> list[str]:
    """The screen lines inside the job table's rows (below its header)."""
    region = main.table.region
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
        assert "Prompt" in screen_text(app).splitlines()[main.table.region.y + 1]
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
        text = " ".join(screen_text(app).split())
        assert all(prompt[:6] in text for prompt in SEED_PROMPTS[1:]), text


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
