"""Issue 20 §4: the snapshot set. Every screen and dialog at 80x24, 60x20 and 40x12 (the size the app names as
its least), drawn from the same seeded history: finished jobs at fixed times in UTC, halfcell images, a fixed
home (paths on screen), no blinking cursors, nothing live. Regenerate after a deliberate change with
``pytest tests/tui/test_size_snapshots.py --snapshot-update`` and look at the report."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import screens_support  # noqa: F401  (the zone is UTC: the history's dates are the same everywhere)
from test_main_snapshots import settle
from textual.widgets import Input
from tui_support import drawn_settled, seed_finished_jobs, wait_for

from seedream_tui.jobs.store import HistoryStore
from seedream_tui.paths import Paths
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.widgets.row_table import RowTable

SIZES = [(80, 24), (60, 20), (40, 12)]
#: a fixed home: the detail screen shows the images' paths
SNAP_HOME = Path("/tmp/seedream-tui-snapshots/sizes")


def _app(base_url: str) -> SeedreamApp:
    from conftest import make_config

    ids = seed_finished_jobs(Paths.default())
    store = HistoryStore(Paths.default().history_db)
    try:  # what RunComfy would have charged (the fake's price), so the spend screen has figures
        for job in store.list_jobs(limit=len(ids)):
            if job.outputs:
                store.update_job(job.id, cost=0.03 * len(job.outputs))
    finally:
        store.close()
    return SeedreamApp(make_config(base_url, theme="textual-dark", notify_bell=False))


async def _on_top(pilot: Any, name: str) -> Any:
    app = pilot.app
    await wait_for(lambda: type(app.screen).__name__ == name and app.screen.is_mounted, what=name)
    return app.screen


async def _still(pilot: Any) -> None:
    """No blinking cursor, every table measured, then one more frame."""
    screen = pilot.app.screen
    for field in screen.query(Input):
        field.cursor_blink = False
    await drawn_settled(screen)
    await pilot.pause()


async def _history(pilot: Any) -> Any:
    await pilot.press("f2")
    screen = await _on_top(pilot, "HistoryScreen")
    await wait_for(lambda: screen.query_one(RowTable).row_count == 5 and screen.selected_job() is not None,
                   what="the history's rows")
    preview = screen.query_one("#history-preview")
    # decoded for the box it is drawn in: none while the box has no room (40x12 shows no preview)
    await wait_for(lambda: preview.has_class("-has-image") or not preview.query_one("#preview-image-box").size.area,
                   what="the preview")
    return screen


async def main(pilot: Any) -> None:
    await settle(pilot)


async def history(pilot: Any) -> None:
    await settle(pilot)
    await _history(pilot)
    await _still(pilot)


async def gallery(pilot: Any) -> None:
    await settle(pilot)
    screen = await _history(pilot)
    await pilot.press("g")
    await wait_for(lambda: screen.gallery.has_focus and screen.gallery.drawn(), what="the gallery")
    await _still(pilot)


async def compare(pilot: Any) -> None:
    await settle(pilot)
    await _history(pilot)
    await pilot.press("space", "down", "v")  # the newest job and the third (space moves down), both with images
    screen = await _on_top(pilot, "CompareScreen")
    await wait_for(lambda: all(p.has_class("-has-image") for p in screen.query("JobPreview")), what="the images")
    await _still(pilot)


async def viewer(pilot: Any) -> None:
    await settle(pilot)
    main = pilot.app.screen
    main.set_focus(main.table)
    await pilot.press("f")
    screen = await _on_top(pilot, "ViewerScreen")
    await wait_for(lambda: screen.shown_path is not None, what="the picture")
    await _still(pilot)


async def detail(pilot: Any) -> None:
    await settle(pilot)
    main = pilot.app.screen
    main.set_focus(main.table)
    await pilot.press("enter")
    screen = await _on_top(pilot, "JobDetailScreen")
    await wait_for(lambda: screen.job is not None, what="the job")
    await _still(pilot)


async def settings(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("f3")
    await _on_top(pilot, "SettingsScreen")
    await _still(pilot)


async def token(pilot: Any) -> None:
    from seedream_tui.tui.screens.settings import TokenScreen

    await settings(pilot)
    pilot.app.push_screen(TokenScreen())
    await _on_top(pilot, "TokenScreen")
    await _still(pilot)


async def catalog(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("f4")
    screen = await _on_top(pilot, "CatalogScreen")
    await wait_for(lambda: screen.query_one(RowTable).row_count >= 12, what="the models")
    await wait_for(lambda: "models" in str(screen.query_one("#catalog-status").render()), what="the status line")
    await _still(pilot)


async def spend(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("f6")
    screen = await _on_top(pilot, "SpendScreen")
    await wait_for(lambda: screen.query_one(RowTable).row_count > 0, what="the spend")
    await _still(pilot)


async def help(pilot: Any) -> None:  # noqa: A001
    await settle(pilot)
    await pilot.press("f1")
    await _on_top(pilot, "HelpScreen")
    await _still(pilot)


async def attach(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("f7")
    await _on_top(pilot, "PromptScreen")
    await _still(pilot)


async def export(pilot: Any) -> None:
    await settle(pilot)
    await _history(pilot)
    await pilot.press("e")
    await _on_top(pilot, "PromptScreen")
    await _still(pilot)


async def delete(pilot: Any) -> None:
    await settle(pilot)
    await _history(pilot)
    await pilot.press("d")
    await _on_top(pilot, "ConfirmScreen")
    await _still(pilot)


async def options(pilot: Any) -> None:
    """The options in the prompt's place (ctrl+n) where the window is too small for both; beside it else."""
    await settle(pilot)
    main = pilot.app.screen
    if main.options_folded:
        await pilot.press("ctrl+n")
        await wait_for(lambda: main.query_one("#options-pane").display, what="the options")
    main.options.field("resolution").query_one("Select").focus()
    await _still(pilot)


async def sheet(pilot: Any) -> None:
    """A batch swept over resolution × repeat as a contact sheet (issue 21): a failed job, a missing place."""
    from test_batch_sheet import seed_batch

    from seedream_tui.tui.screens.sheet import BatchSheetScreen

    await settle(pilot)
    batch_id, _ = seed_batch(Paths.default())
    pilot.app.push_screen(BatchSheetScreen(pilot.app.core, batch_id))
    screen = await _on_top(pilot, "BatchSheetScreen")
    await wait_for(lambda: screen.drawn(), what="the sheet's tiles")
    await _still(pilot)


async def plan(pilot: Any) -> None:
    """The batch before paying (issue 21): a sweep of two resolutions, each twice."""
    await settle(pilot)
    main = pilot.app.screen
    main.editor.load_text("A lighthouse on a basalt cliff at dusk, long exposure")
    main.options.batch_rows.set_values(key="resolution", values="2K, 3K", repeat=2)
    await pilot.pause()
    await pilot.press("ctrl+s")
    await _on_top(pilot, "PlanScreen")
    await _still(pilot)


SCREENS: dict[str, Callable[[Any], Awaitable[None]]] = {
    fn.__name__: fn
    for fn in (main, options, history, gallery, compare, viewer, detail, settings, token, catalog, spend, help,
               attach, export, delete, sheet, plan)
}


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_screen_at_every_size(snap_compare, queue_server, monkeypatch, screen, size) -> None:
    shutil.rmtree(SNAP_HOME, ignore_errors=True)
    monkeypatch.setenv("SEEDREAM_TUI_HOME", str(SNAP_HOME / "app"))
    monkeypatch.setenv("HOME", str(SNAP_HOME / "user"))  # the export dialog's folder is under the home
    assert snap_compare(_app(queue_server.base_url), terminal_size=size, run_before=SCREENS[screen])
