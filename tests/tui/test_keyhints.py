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
    from seedream_tui.tui.widgets.row_table import RowTable

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_main(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"open history")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen), what="the history screen")
        await wait_for(lambda: app.screen.query_one(RowTable) is not None, what="its table")


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


async def test_the_main_screens_footer_is_one_line_and_the_jobs_get_the_row(config, core) -> None:
    """Issue 20: at 80x24 the main screen's footer took two lines, one job row fewer. It is one line at every
    size: the least wanted hints make room (the focused table's own keys before Settings and the model), Help
    always stays, and every key left out is listed in help."""
    from tui_support import seed_finished_jobs

    from seedream_tui.tui.screens.help import binding_rows

    seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        hints = main.query_one(KeyHints)
        table = main.table
        await wait_for(lambda: "Submit" in hints.hints() and table.row_count == 5, what="the hints and the jobs")
        help_ids = {ident for _where, _keys, _does, ident in binding_rows(app, app.help_groups())}
        for focus, size in ((main.editor, (80, 24)), (table, (80, 24)), (main.editor, (60, 20)), (table, (40, 12))):
            await pilot.resize_terminal(*size)
            main.set_focus(focus)
            await pilot.pause()
            await wait_for(lambda size=size: hints.size == (size[0], 1) and "\n" not in hints.hints(),
                           what=f"a one-line footer at {size}")
            text = hints.hints()
            assert len(text) <= size[0] and "f1 Help" in text and "^s Submit" in text, (size, text)
            shown = {b.id for _k, (_n, b, _e, _t) in main.active_bindings.items() if b.show and b.description}
            assert shown <= help_ids | {None}, shown - help_ids  # what the line leaves out, help lists
        # the narrow screens' way to the options, and the table's own keys where they fit
        assert "^n Options" in hints.hints()
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await wait_for(lambda: "Details" in hints.hints(), what="the table's keys at 80 columns")
        assert "f2 History" in hints.hints() and "Settings" not in hints.hints()
        # the row the footer gave back: seven job rows under the header (six with a two-line footer)
        await wait_for(lambda: table.size.height - 1 == 7, what="seven job rows")
