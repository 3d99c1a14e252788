"""The one-line key hints that replace Textual's Footer: right keys per screen, clicks press them."""

from __future__ import annotations

from tui_support import open_main, wait_for

from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.history import HistoryScreen
from seedream_tui.tui.widgets.keyhints import KeyHints


async def test_hints_follow_the_screen_and_a_click_presses_the_key(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(120, 30)) as pilot:
        main = await open_main(app, pilot)
        hints = main.query_one(KeyHints)
        await wait_for(lambda: "Submit" in hints.hints(), what="the main screen's hints")
        text = hints.hints()
        assert "History" in text and "Quit" in text and "Re-run" not in text
        start = text.index("f2")
        await pilot.click(KeyHints, offset=(start, 0))
        await wait_for(lambda: isinstance(app.screen, HistoryScreen), what="the history screen")
        history_hints = app.screen.query_one(KeyHints)
        await wait_for(lambda: "Re-run" in history_hints.hints(), what="the history screen's hints")
        assert "Submit" not in history_hints.hints()


async def test_the_command_palette_opens_history(config, core) -> None:
    from textual.widgets import DataTable

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_main(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"open history")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen), what="the history screen")
        await wait_for(lambda: app.screen.query_one(DataTable) is not None, what="its table")


async def test_at_80_columns_every_key_is_still_shown(config, core) -> None:
    """The history screen's hints need ~150 columns: at 80 they go compact onto two lines, none cut off,
    and a click on the second line presses that line's key."""
    from seedream_tui.tui.screens.help import HelpScreen

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_main(app, pilot)
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen), what="the history screen")
        hints = app.screen.query_one(KeyHints)
        await wait_for(lambda: "Compare" in hints.hints(), what="the history screen's hints")
        lines = hints.hints().split("\n")
        assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
        shown = [b for _k, (_n, b, _e, _t) in app.screen.active_bindings.items() if b.show]
        for binding in shown:
            assert binding.description in hints.hints() or binding.action == "command_palette"
        await wait_for(lambda: hints.size.height == 2, what="a two-line footer")
        second = lines[1]
        await pilot.click(KeyHints, offset=(second.index("f1"), 1))
        await wait_for(lambda: isinstance(app.screen, HelpScreen), what="help, from the second line")
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen), what="the history screen again")
        await pilot.resize_terminal(200, 40)
        await wait_for(lambda: "\n" not in hints.hints() and hints.size.height == 1, what="one roomy line")
        assert hints.hints().startswith(" History  esc Back ")  # the heading, then the keys
