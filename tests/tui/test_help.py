"""The help screen: uses the width it has, its hint line visible at 80x24, the editor's own keys listed."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable
from tui_support import drawn_settled, wait_for

from seedream_tui.tui.screens.help import HelpScreen


async def open_help(pilot: Any) -> HelpScreen:
    from test_main_snapshots import settle

    await settle(pilot)
    app = pilot.app
    app.screen.set_focus(app.screen.table)  # "?" must not be typed into the prompt
    await pilot.press("question_mark")
    await wait_for(lambda: isinstance(app.screen, HelpScreen), what="the help")
    screen = app.screen
    assert isinstance(screen, HelpScreen)
    await drawn_settled(screen)
    return screen


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_help_fits_and_lists_the_editor_keys(queue_server, size) -> None:
    from test_main_snapshots import snapshot_app

    app = snapshot_app(queue_server.base_url)
    async with app.run_test(size=size) as pilot:
        screen = await open_help(pilot)
        hint = screen.query_one("#help-hint")
        assert hint.region.height >= 1 and hint.region.bottom <= size[1]  # the hint is on screen
        table = screen.query_one(DataTable)
        assert len(table.columns) == (4 if size[0] >= 120 else 3)  # the id column where there is room
        rows = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert {"Delete to the end of the line", "Clear the prompt (ctrl+z brings it back)"} <= rows
        assert "View the job's images full screen" in rows


async def settle_help(pilot: Any) -> None:
    await open_help(pilot)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_help_snapshot(snap_compare, queue_server, size) -> None:
    from test_main_snapshots import snapshot_app

    assert snap_compare(snapshot_app(queue_server.base_url), terminal_size=size, run_before=settle_help)


async def test_home_and_end_go_to_the_first_and_last_row_in_help(queue_server) -> None:
    from test_main_snapshots import snapshot_app

    app = snapshot_app(queue_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_help(pilot)
        table = screen.query_one(DataTable)
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("home")
        assert table.cursor_row == 0
