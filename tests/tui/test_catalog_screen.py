"""The catalog browser (F4), the quote under the options, the re-run total and the spend view (F6)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Select, Static

from seedream_tui.tui.widgets.row_table import RowTable

sys.path.insert(0, str(Path(__file__).parent))
from screens_support import ScreenHost, open_core, seed_history  # noqa: E402
from screens_support import make_config as screen_config  # noqa: E402
from screens_support import wait_for as wait_pilot  # noqa: E402
from tui_support import drawn_settled, open_main, wait_for  # noqa: E402

from seedream_tui.catalog.cache import NOTE_KEY  # noqa: E402
from seedream_tui.fake.server import FakeServerThread  # noqa: E402
from seedream_tui.jobs.model import JobStatus  # noqa: E402
from seedream_tui.jobs.store import HistoryStore  # noqa: E402
from seedream_tui.paths import Paths  # noqa: E402
from seedream_tui.schema import parse_schema  # noqa: E402
from seedream_tui.tui.app import SeedreamApp  # noqa: E402
from seedream_tui.tui.screens.catalog import CatalogScreen  # noqa: E402
from seedream_tui.tui.screens.confirm import ConfirmScreen  # noqa: E402
from seedream_tui.tui.screens.history import HistoryScreen  # noqa: E402
from seedream_tui.tui.screens.spend import SpendScreen  # noqa: E402

KONTEXT = "blackforestlabs/flux-kontext/pro/edit"
SEEDREAM = "bytedance/seedream-5/lite/text-to-image"


def _app(server: FakeServerThread) -> SeedreamApp:
    from conftest import make_config

    return SeedreamApp(make_config(server.base_url, theme="textual-dark", notify_bell=False))


def _rows(screen: CatalogScreen) -> list[str]:
    table = screen.query_one("#catalog-table", RowTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def _status(screen: Any) -> str:
    return str(screen.query_one("#catalog-status", Static).render())


async def _open_catalog(app: SeedreamApp, pilot: Any) -> CatalogScreen:
    await open_main(app, pilot)
    await pilot.press("f4")
    await wait_for(lambda: isinstance(app.screen, CatalogScreen), what="the catalog")
    screen = app.screen
    assert isinstance(screen, CatalogScreen)
    await wait_for(lambda: len(_rows(screen)) >= 12, what="the catalog's first page")
    return screen


async def test_f4_searches_filters_and_chooses_a_model_that_is_cached(fake_server: FakeServerThread) -> None:
    app = _app(fake_server)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_catalog(app, pilot)
        assert "Seedance 1 lite · text to video" in _rows(screen)
        assert screen.query_one("#catalog-search", Input).has_focus
        await pilot.press(*"kontext")  # search as you type
        await wait_for(lambda: _rows(screen) == ["FLUX Kontext pro · edit"], what="the search to narrow")
        await pilot.press(*["backspace"] * 7)
        await wait_for(lambda: len(_rows(screen)) >= 12, what="the full list again")
        category = screen.query_one("#catalog-category", Select)
        await wait_for(lambda: "video" in [str(v) for _, v in category._options], what="the categories")
        category.value = "video"
        await wait_for(lambda: sorted(_rows(screen)) == ["Seedance 1 lite · image to video",
                                                        "Seedance 1 lite · text to video"], what="the filter")  # fmt: skip
        category.value = "image-to-image"
        await wait_for(lambda: "FLUX Kontext pro · edit" in _rows(screen), what="the edit models")
        table = screen.query_one("#catalog-table", RowTable)
        table.move_cursor(row=table.get_row_index(KONTEXT))
        table.focus()
        await pilot.press("enter")
        main = app.main_screen
        assert main is not None
        await wait_for(lambda: app.screen is main and main.spec.model_id == KONTEXT, what="the chosen model")
        cached = Paths.default().user_models_dir / "blackforestlabs__flux-kontext__pro__edit.json"
        assert json.loads(cached.read_text(encoding="utf-8"))[NOTE_KEY]["base_url"] == fake_server.base_url
        await wait_for(lambda: str(main.query_one("#options-pane").border_subtitle) == "≈ $0.04", what="the quote")
        # the model is in the quick switcher too, and the next start finds it on disk (offline)
        assert KONTEXT in {s.model_id for s in app.core.registry.list()} if app.core else False
    from seedream_tui.schema import ModelRegistry

    assert ModelRegistry(Paths.default().user_models_dir).get(KONTEXT).field("image_url").format == "image_uri"


async def test_outside_names_are_never_markup(fake_server: FakeServerThread) -> None:
    models = fake_server.server.models
    base = models[KONTEXT]
    evil = "[/x] [@click=app.quit]Free money[/] [b"
    models["evil/model"] = dataclasses.replace(
        base, model_id="evil/model", facts={**base.facts, "display_name": evil, "categories": ["[red]x"]}
    )
    app = _app(fake_server)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_catalog(app, pilot)
        assert evil in _rows(screen)
        await drawn_settled(screen)
        assert app.is_running and isinstance(app.screen, CatalogScreen)


async def test_without_a_token_the_catalog_lists_what_is_on_disk(fake_server: FakeServerThread) -> None:
    config = dataclasses.replace(screen_config(fake_server.base_url), token=None)
    app = ScreenHost(lambda: open_core(config), lambda core: CatalogScreen(core))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_pilot(pilot, lambda: isinstance(app.screen, CatalogScreen) and bool(_rows(app.screen)))
        screen = app.screen
        assert isinstance(screen, CatalogScreen)
        assert "Seedream 5 lite: text to image" in _rows(screen)
        assert "No API token" in _status(screen)
        assert not any(r["path"].startswith("/v1/models") for r in fake_server.api_requests)


async def test_the_quote_follows_the_options(fake_server: FakeServerThread) -> None:
    app = _app(fake_server)
    async with app.run_test(size=(120, 36)) as pilot:
        main = await open_main(app, pilot)
        pane = main.query_one("#options-pane")
        # the bundled schema has no price: the app fetches the current model's detail in the background
        await wait_for(lambda: str(pane.border_subtitle) == "≈ $0.03", what="the first quote")
        main.options.field("sequential_image_generation").set_value("auto")
        await wait_for(lambda: str(pane.border_subtitle) == "up to $0.45", what="the sequence quote")
        main.options.field("max_images").set_value(4)
        await wait_for(lambda: str(pane.border_subtitle) == "up to $0.12", what="the capped quote")


async def test_a_rerun_of_marked_jobs_asks_once_with_the_total(fake_server: FakeServerThread) -> None:
    paths = Paths.default()
    seed_history(paths, 40)
    config = screen_config(fake_server.base_url, paths)
    app = ScreenHost(lambda: open_core(config), HistoryScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_pilot(pilot, lambda: isinstance(app.screen, HistoryScreen)
                         and app.screen.query_one("#history-table", RowTable).row_count > 0)  # fmt: skip
        for model_id in (SEEDREAM, "blackforestlabs/flux-2/flash/text-to-image"):
            detail = fake_server.server.models[model_id].detail()
            app.core.registry.add(parse_schema(detail, key=model_id.replace("/", "__")))
        await pilot.press("space", "down", "space")  # a FLUX job ($0.01) and a Seedream job ($0.03)
        await pilot.press("r")
        await wait_pilot(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = str(app.screen.query_one("#confirm-message", Static).render())
        assert question.startswith("Submit the 2 marked jobs again?") and "≈ $0.04 in all" in question
        await pilot.press("n")


async def test_spend_view_sums_today_week_and_models(fake_server: FakeServerThread) -> None:
    import time

    paths = Paths.default()
    paths.profile_data_dir.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(paths.history_db)
    try:
        for model_id, cost in ((SEEDREAM, 0.09), (KONTEXT, 0.04), (SEEDREAM, 0.03)):
            job = store.create_job(model_id, {"prompt": "p"}, now=time.time())
            store.update_job(job.id, status=JobStatus.COMPLETED, cost=cost)
    finally:
        store.close()
    app = _app(fake_server)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_main(app, pilot)
        await pilot.press("f6")
        await wait_for(lambda: isinstance(app.screen, SpendScreen), what="the spend view")
        screen = app.screen
        totals = screen.query_one("#spend-totals", Static)
        await wait_for(lambda: "$0.16" in str(totals.render()), what="the totals")
        text = str(totals.render())
        assert "Today" in text and "(3 jobs)" in text
        by_model = screen.query_one("#spend-by-model", RowTable)
        await wait_for(lambda: by_model.row_count == 2, what="the by-model table")
        assert [str(by_model.get_row_at(i)[0]) for i in range(2)] == [SEEDREAM, KONTEXT]


async def _settle_catalog(pilot: Any) -> None:
    app = pilot.app
    screen = await _open_catalog(app, pilot)
    category = screen.query_one("#catalog-category", Select)
    await wait_for(lambda: len(category._options) > 2, what="the categories")
    await pilot.press(*"seedream")
    await wait_for(lambda: len(_rows(screen)) == 5, what="the search")
    await wait_for(lambda: "models" in _status(screen), what="the status line")
    screen.query_one("#catalog-search", Input).cursor_blink = False
    await drawn_settled(screen)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_catalog_snapshot(snap_compare: Any, queue_server: FakeServerThread, size: tuple[int, int]) -> None:
    assert snap_compare(_app(queue_server), terminal_size=size, run_before=_settle_catalog)


async def test_edit_this_result_opens_the_familys_edit_model_and_records_the_chain(
    fake_server: FakeServerThread,
) -> None:
    from helpers import wait_status

    from seedream_tui.tui.screens.detail import JobDetailScreen

    app = _app(fake_server)
    async with app.run_test(size=(120, 36)) as pilot:
        main, core, first = await _with_a_result(app, pilot, "a red fox")
        app.call_later(app.action_open_job, first.id)
        await wait_for(lambda: isinstance(app.screen, JobDetailScreen) and app.screen.job is not None, what="detail")
        await pilot.press("e")
        edit = "bytedance/seedream-5/lite/edit"
        await wait_for(lambda: app.screen is main and main.spec.model_id == edit, what="the edit model")
        assert main.options.values()["image"] == [f"#{first.id}"]
        assert main.editor.text == "a red fox"
        main.editor.load_text("the same fox, at night")
        await pilot.press("ctrl+s")
        await wait_for(lambda: len(main.table.jobs) == 2, what="the edit job")
        second = max(main.table.jobs)
        done = await wait_status(core, second, [JobStatus.COMPLETED])
        assert await core.history.parents(done.id) == [first.id]
        app.call_later(app.action_open_job, done.id)
        await wait_for(lambda: isinstance(app.screen, JobDetailScreen) and app.screen.job is not None, what="detail")
        text = str(app.screen.query_one("#detail-text", Static).render())
        assert f"#{first.id} → #{done.id}" in text
        assert "base64" not in text  # the inline image is shown short


async def _with_a_result(app: SeedreamApp, pilot: Any, prompt: str) -> tuple[Any, Any, Any]:
    """The main screen, the core, and a finished text-to-image job to edit."""
    from helpers import wait_status

    main = await open_main(app, pilot)
    core = app.core
    assert core is not None
    first = await core.submit(core.registry.get(SEEDREAM), {"prompt": prompt})
    return main, core, await wait_status(core, first.id, [JobStatus.COMPLETED])


def _thumbs(main: Any, field: str) -> list[str]:
    """What the field's thumbnail strip shows: "image" per drawn thumbnail, else the chip's word."""
    strip = main.options.field(field).query_one(".field-thumbs")
    return ["image" if not isinstance(w, Static) else str(w.render()) for w in strip.children]


async def test_image_inputs_show_thumbnails(fake_server: FakeServerThread, tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "cat.png"
    Image.new("RGB", (120, 90), (40, 160, 90)).save(picture)
    app = _app(fake_server)
    async with app.run_test(size=(120, 36)) as pilot:
        main, core, first = await _with_a_result(app, pilot, "a fox")
        spec = await core.fetch_model("bytedance/seedream-5/lite/edit")
        refs = [str(picture), f"#{first.id}", "https://cdn.example/a.png", str(tmp_path / "missing.png")]
        await main.set_model(spec, {"image": refs})
        await wait_for(lambda: _thumbs(main, "image") == ["image", "image", "URL", "no such file"],
                       what="the thumbnails")  # fmt: skip


async def _settle_edit_form(pilot: Any) -> None:
    from test_main_snapshots import settle

    app = pilot.app
    await settle(pilot)
    main = app.main_screen
    spec = await app.core.fetch_model("bytedance/seedream-5/lite/edit")
    await main.set_model(spec, {"image": ["#1", "#3"]})
    main.editor.load_text("the same scene, in winter")
    await wait_for(lambda: _thumbs(main, "image") == ["image", "image"], what="the thumbnails")
    await wait_for(lambda: str(main.query_one("#options-pane").border_subtitle) == "≈ $0.028", what="the quote")
    await drawn_settled(main)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_edit_form_snapshot(snap_compare: Any, queue_server: FakeServerThread, size: tuple[int, int]) -> None:
    from test_main_snapshots import snapshot_app

    assert snap_compare(snapshot_app(queue_server.base_url), terminal_size=size, run_before=_settle_edit_form)


def test_path_completion_offers_folders_and_images_only(tmp_path: Path) -> None:
    from seedream_tui.tui.widgets.file_pick import complete_path

    (tmp_path / "shots").mkdir()
    (tmp_path / "cat.png").write_bytes(b"x")
    (tmp_path / "cat.txt").write_text("x")
    base = str(tmp_path)
    assert complete_path(f"{base}/sh") == f"{base}/shots/"
    assert complete_path(f"{base}/ca") == f"{base}/cat.png"
    assert complete_path(f"{base}/zz") is None


async def test_typing_a_path_completes_and_ctrl_f_picks_a_file(fake_server: FakeServerThread, tmp_path: Path) -> None:
    from PIL import Image

    from seedream_tui.tui.widgets.file_pick import FilePickScreen

    pics = tmp_path / "pics"  # a folder of its own: the test's home folder is in tmp_path too
    pics.mkdir()
    Image.new("RGB", (40, 30), (10, 20, 200)).save(pics / "blue.png")
    app = _app(fake_server)
    async with app.run_test(size=(120, 36)) as pilot:
        main = await open_main(app, pilot)
        assert app.core is not None
        await main.set_model(await app.core.fetch_model(KONTEXT))
        field = main.options.field("image_url")
        box = field.query_one(Input)
        box.focus()
        await pilot.press(*f"{pics}/bl")
        await wait_for(lambda: box._suggestion == f"{pics}/blue.png", what="the completion")
        await pilot.press("right")  # accepts the suggestion
        assert field.value() == f"{pics}/blue.png"
        await pilot.press("ctrl+f")
        await wait_for(lambda: isinstance(app.screen, FilePickScreen), what="the file picker")
        tree = app.screen.query_one("#pick-tree")
        await wait_for(lambda: tree.last_line >= 1, what="the folder listing")  # type: ignore[attr-defined]
        await pilot.press("down", "enter")  # the first entry below the root: blue.png
        await wait_for(lambda: app.screen is main, what="the picker to close")
        assert field.value() == str(pics / "blue.png")
        await wait_for(lambda: _thumbs(main, "image_url") == ["image"], what="the thumbnail")


async def test_shift_e_in_history_edits_the_result_under_the_cursor(fake_server: FakeServerThread) -> None:

    app = _app(fake_server)
    async with app.run_test(size=(120, 36)) as pilot:
        main, core, first = await _with_a_result(app, pilot, "a heron")
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen)
                       and app.screen.query_one("#history-table", RowTable).row_count == 1, what="history")  # fmt: skip
        await pilot.press("E")
        await wait_for(lambda: app.screen is main and main.spec.model_id.endswith("/edit"), what="the edit model")
        assert main.options.values()["image"] == [f"#{first.id}"] and main.editor.text == "a heron"


async def test_e_in_the_viewer_edits_the_result_on_screen(fake_server: FakeServerThread) -> None:
    from seedream_tui.tui.screens.viewer import ViewerScreen

    app = _app(fake_server)
    async with app.run_test(size=(120, 36)) as pilot:
        main, _core, first = await _with_a_result(app, pilot, "a lighthouse")
        await wait_for(lambda: first.id in main.table.jobs, what="the job in the table")
        main.table.focus()
        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, ViewerScreen), what="the viewer")
        await pilot.press("e")
        edit = "bytedance/seedream-5/lite/edit"
        await wait_for(lambda: app.screen is main and main.spec.model_id == edit, what="the edit model")
        assert main.options.values()["image"] == [f"#{first.id}"] and main.editor.text == "a lighthouse"
