"""Issue 20 §6: keys a lazygit user expects. ctrl+g goes to the jobs (never a toggle into the prompt), j/k in
lists, q leaves a screen (not in a text field), every screen has a heading, a job's details offer only the
actions that apply."""

from __future__ import annotations

from typing import Any

from textual.widgets import Button, Input, Select
from tui_support import open_main, seed_finished_jobs, wait_for

from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.detail import JobDetailScreen
from seedream_tui.tui.screens.history import HistoryScreen
from seedream_tui.tui.screens.main import MainScreen
from seedream_tui.tui.widgets.keyhints import KeyHints
from seedream_tui.tui.widgets.row_table import RowTable


async def _main_with_jobs(config: Any, core: Any, pilot: Any, app: SeedreamApp) -> MainScreen:
    main = await open_main(app, pilot)
    await wait_for(lambda: main.table.row_count >= 5, what="the seeded jobs")
    return main


async def test_ctrl_g_from_the_options_goes_to_the_jobs_and_the_next_key_acts_on_them(config, core) -> None:
    seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(160, 48)) as pilot:
        main = await _main_with_jobs(config, core, pilot, app)
        main.set_focus(main.query_one("#model-select", Select))
        await pilot.pause()
        before = main.editor.text
        await pilot.press("ctrl+g")
        assert main.table.has_focus  # not the prompt (it used to toggle there from anywhere but the prompt)
        await pilot.press("j", "c")  # keys for the jobs: never typed into the prompt
        assert main.editor.text == before
        await pilot.press("ctrl+g")  # again: still the jobs, not a toggle
        assert main.table.has_focus
        main.set_focus(main.editor)
        await pilot.pause()
        await pilot.press("ctrl+g")
        assert main.table.has_focus
        await pilot.press("i")  # back to the prompt
        assert main.editor.has_focus
        hints = main.query_one(KeyHints).hints()
        assert "^g" in hints and "Jobs" in hints  # in the footer


async def test_j_and_k_move_in_the_lists_and_type_in_text_fields(config, core) -> None:
    seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(160, 48)) as pilot:
        main = await _main_with_jobs(config, core, pilot, app)
        main.set_focus(main.table)
        await pilot.pause()
        start = main.table.cursor_row
        await pilot.press("j")
        assert main.table.cursor_row == start + 1
        await pilot.press("k")
        assert main.table.cursor_row == start
        main.set_focus(main.editor)
        await pilot.pause()
        await pilot.press("j", "k", "q")
        assert main.editor.text.endswith("jkq") and isinstance(app.screen, MainScreen)
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen) and app.screen.query_one("#history-table", RowTable).row_count >= 5,
                       what="the history")
        history = app.screen
        table = history.query_one("#history-table", RowTable)
        history.set_focus(table)
        await pilot.pause()
        row = table.cursor_row
        await pilot.press("j", "j")
        assert table.cursor_row == row + 2
        await pilot.press("k")
        assert table.cursor_row == row + 1


async def test_q_leaves_a_screen_but_is_typed_in_a_text_field(config, core) -> None:
    seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(160, 48)) as pilot:
        main = await _main_with_jobs(config, core, pilot, app)
        main.set_focus(main.table)
        await pilot.pause()
        await pilot.press("q")  # the main screen: nothing (ctrl+q quits)
        assert app.screen is main and app.is_running
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen), what="the history")
        history = app.screen
        await pilot.press("slash")
        search = history.query_one(Input)
        await wait_for(lambda: search.has_focus, what="the search field")
        await pilot.press("q")
        assert search.value == "q" and app.screen is history
        history.set_focus(history.query_one("#history-table", RowTable))
        await pilot.pause()
        await pilot.press("q")
        await wait_for(lambda: app.screen is main, what="back on the main screen")
        main.set_focus(main.table)
        await pilot.pause()
        await pilot.press("f3")
        await wait_for(lambda: app.screen is not main, what="the settings")
        settings = app.screen
        settings.set_focus(None)
        await pilot.pause()
        await pilot.press("q")
        await wait_for(lambda: app.screen is main, what="back from the settings")


async def test_every_screen_has_a_heading(config, core) -> None:
    seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(160, 48)) as pilot:
        main = await _main_with_jobs(config, core, pilot, app)
        await wait_for(lambda: main.query_one(KeyHints).hints().startswith(" Prompt & jobs "), what="the heading")
        main.set_focus(main.table)
        await pilot.pause()
        for key, heading in (("f2", "History"), ("f3", "Settings"), ("f6", "Spend")):
            await pilot.press(key)
            await wait_for(lambda: app.screen is not main and app.screen.is_mounted, what=heading)
            screen = app.screen
            await wait_for(lambda screen=screen, heading=heading: screen.query_one(KeyHints).hints().startswith(f" {heading} "),
                           what=f"the {heading} heading")
            screen.set_focus(None)
            await pilot.press("escape")
            await wait_for(lambda: app.screen is main, what="the main screen")
        job_id = main.table.selected_job_id
        assert job_id is not None
        await app.push_screen(JobDetailScreen(core, job_id))
        detail = app.screen
        await wait_for(lambda: detail.query_one(KeyHints).hints().startswith(f" Job #{job_id} "), what="the job heading")
        await pilot.press("escape")
        await wait_for(lambda: app.screen is main, what="the main screen")
        await pilot.resize_terminal(50, 20)  # narrow: every cell of the footer goes to the keys
        await wait_for(lambda: not main.query_one(KeyHints).hints().startswith(" Prompt"), what="no heading")


async def test_a_finished_jobs_details_offer_no_cancel(config, core) -> None:
    ids = seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_main(app, pilot)
        for job_id in ids:  # done, failed, cancelled: none can be cancelled
            await app.push_screen(JobDetailScreen(core, job_id))
            detail = app.screen
            assert isinstance(detail, JobDetailScreen)
            await wait_for(lambda detail=detail: detail.job is not None, what="the job")
            await pilot.pause()
            cancel = detail.query_one("#detail-cancel", Button)
            assert not cancel.display
            hints = detail.query_one(KeyHints).hints()
            assert "Cancel" not in hints and "Copy request id" in hints
            await pilot.press("escape")
            await wait_for(lambda detail=detail: app.screen is not detail, what="the detail closed")
