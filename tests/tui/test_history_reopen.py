"""Opening the history is instant at any size of history (issue 13 §5): the first open shows the page read at
start and the app builds the screen after its first frame; a reopen shows the last view and keeps the cursor
when nothing changed. Both then check the first page against the history, and show what changed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from seedream_tui.tui.widgets.row_table import RowTable

sys.path.insert(0, str(Path(__file__).parent))

from screens_support import ScreenHost, make_config, open_core, seed_history, wait_for  # noqa: E402
from tui_support import wait_for as wait_until  # noqa: E402

from seedream_tui import DEFAULT_MODEL_ID  # noqa: E402
from seedream_tui.jobs.view import HistoryView  # noqa: E402
from seedream_tui.paths import Paths  # noqa: E402
from seedream_tui.tui.app import SeedreamApp  # noqa: E402
from seedream_tui.tui.screens.history import PAGE_SIZE, HistoryScreen  # noqa: E402
from seedream_tui.tui.screens.main import MainScreen  # noqa: E402

TOTAL = 300


def ids_shown(screen: HistoryScreen, first: int = 3) -> list[int]:
    table = screen.query_one("#history-table", RowTable)
    return [int(table.row_key_at(row)) for row in range(min(first, table.row_count))]


def cursor_job(screen: HistoryScreen) -> int | None:
    job = screen.selected_job()
    return job.id if job is not None else None


async def refreshed(app: Any) -> None:
    """Wait for the screen's check of its first page (the reopen's read) to finish."""
    for worker in [w for w in app.workers if w.group == "history-refresh"]:
        await asyncio.wait_for(worker.wait(), 10)


async def open_installed(app: ScreenHost, pilot: Any) -> HistoryScreen:
    screen = app.get_screen("history")
    assert isinstance(screen, HistoryScreen)
    screen.reopen()
    await app.push_screen("history")
    await pilot.pause()
    return screen


async def test_a_reopen_keeps_the_cursor_and_shows_a_job_made_while_closed(fake_server) -> None:
    paths = Paths.default()
    seeded = seed_history(paths, TOTAL)
    newest = max(job.id for job in seeded)
    app = ScreenHost(lambda: open_core(make_config(fake_server.base_url, paths)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.core is not None)
        app.install_screen(HistoryScreen(app.core), name="history")
        await app.push_screen("history")
        screen = app.get_screen("history")
        assert isinstance(screen, HistoryScreen)
        table = screen.query_one("#history-table", RowTable)
        await wait_for(pilot, lambda: table.row_count == PAGE_SIZE)
        await pilot.press("down", "down", "down", "down", "down")
        await wait_for(pilot, lambda: cursor_job(screen) == newest - 5)
        app.pop_screen()
        await pilot.pause()

        # nothing changed: the same rows, the cursor on the same job (a reload would put it back on top)
        screen = await open_installed(app, pilot)
        assert ids_shown(screen) == [newest, newest - 1, newest - 2]  # drawn before any read
        await refreshed(app)
        await pilot.pause()
        assert table.cursor_row == 5 and cursor_job(screen) == newest - 5
        assert table.row_count == PAGE_SIZE

        app.pop_screen()
        await pilot.pause()
        made = await app.core.history.create_job(DEFAULT_MODEL_ID, {"prompt": "made while the history was closed"})
        # a job made elsewhere (another window, the CLI) while the screen was closed: on top after the check,
        # and the cursor still on the job it was on
        screen = await open_installed(app, pilot)
        await refreshed(app)
        await wait_for(pilot, lambda: ids_shown(screen, 1) == [made.id])
        assert cursor_job(screen) == newest - 5 and table.cursor_row == 6
        assert "made while the history was closed" in str(table.get_row_at(0)[-1])


async def test_the_first_open_shows_the_page_read_at_start_then_checks_it(fake_server, monkeypatch) -> None:
    paths = Paths.default()
    seeded = seed_history(paths, TOTAL)
    newest = max(job.id for job in seeded)
    gate = asyncio.Event()
    read = HistoryView.read_first_page

    async def held(view: HistoryView) -> Any:
        await gate.wait()
        return await read(view)

    monkeypatch.setattr(HistoryView, "read_first_page", held)

    app = ScreenHost(lambda: open_core(make_config(fake_server.base_url, paths)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.core is not None)
        # the page the main screen read at start; the newest job has been deleted since
        page = await app.core.history.list_jobs(limit=PAGE_SIZE)
        await app.core.history.delete_job(newest)
        screen = HistoryScreen(app.core, first_page=page)
        await app.push_screen(screen)
        await pilot.pause()
        # shown without waiting for the history (its read is held)
        assert ids_shown(screen) == [newest, newest - 1, newest - 2]
        assert screen.query_one("#history-table", RowTable).row_count == PAGE_SIZE
        gate.set()
        # then checked: the deleted job leaves, the rows are the history's
        await wait_for(pilot, lambda: ids_shown(screen) == [newest - 1, newest - 2, newest - 3])
        # rows shown before the first layout still get a prompt column that fills the table (not 12 cells)
        table = screen.query_one("#history-table", RowTable)
        await wait_for(pilot, lambda: sum(table.render_width(c) for c in table.columns.values())
                       == table.scrollable_content_region.width)  # fmt: skip


async def test_the_app_builds_the_history_after_its_first_frame(config, core) -> None:
    from tui_support import seed_finished_jobs

    ids = seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(lambda: isinstance(app.screen, MainScreen), what="the main screen")
        # before any F2: installed, mounted, its rows in place
        await wait_until(lambda: app.is_screen_installed("history") and app.get_screen("history").is_mounted,
                         what="the history screen built")  # fmt: skip
        history = app.get_screen("history")
        assert isinstance(history, HistoryScreen)
        await wait_until(lambda: history.query_one(RowTable).row_count == len(ids), what="its rows")
        assert isinstance(app.screen, MainScreen)  # not shown
        await pilot.press("f2")
        await wait_until(lambda: app.screen is history, what="the history shown")
        assert ids_shown(history, len(ids)) == sorted(ids, reverse=True)
        assert history.query_one(RowTable).has_focus


async def test_the_history_built_ahead_is_styled_once(config, core) -> None:
    """Its size classes (``-narrow``, ``-cramped``...) and ``-empty`` are set before its widgets are styled: set
    on mount, each restyled the whole screen once more (two restyles, ~10 % of the app's start-up CPU)."""
    app = SeedreamApp(config, core=core)
    restyled: list[str] = []
    update_styles = app.update_styles

    def counting(node: Any, animate: bool = True) -> None:
        if isinstance(node, HistoryScreen):
            restyled.append(" ".join(sorted(node.classes)))
        update_styles(node, animate=animate)

    app.update_styles = counting  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)):
        await wait_until(lambda: app.is_screen_installed("history") and app.get_screen("history").is_mounted,
                         what="the history screen built")  # fmt: skip
        history = app.get_screen("history")
        await wait_until(lambda: history.has_class("-empty"), what="the empty history said")
        assert {"-narrow", "-cramped", "-empty"} <= set(history.classes)
        assert history.query_one("#history-empty").display
        assert restyled == []
