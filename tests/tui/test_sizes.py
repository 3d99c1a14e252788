"""Issue 10 §3: every size from 20x8 up. Each screen is drawn at every size, changed live (a tmux pane split
in two), without an exception; below the usable size the app says to make the window larger."""

from __future__ import annotations

from typing import Any

from tui_support import open_main, screen_text, seed_finished_jobs, wait_for

from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.main import MainScreen
from seedream_tui.tui.screens.too_small import MIN_SIZE, TooSmallScreen
from seedream_tui.tui.widgets.prompt_editor import PromptArea
from seedream_tui.tui.widgets.row_table import RowTable

SIZES = [(80, 24), (40, 12), (20, 8), (39, 30), (42, 24), (50, 16), (60, 20), (120, 11), (250, 70), (80, 24)]


async def _each_size(app: Any, pilot: Any, screen_type: type) -> None:
    for width, height in SIZES:
        await pilot.resize_terminal(width, height)
        small = width < MIN_SIZE[0] or height < MIN_SIZE[1]
        await wait_for(lambda small=small: isinstance(app.screen, TooSmallScreen) == small,  # type: ignore[misc]
                       what=f"the right screen at {width}x{height}")
        await pilot.pause()
        text = " ".join(screen_text(app).split())
        assert app.is_running and app._exception is None, (width, height)
        if small:
            assert "Make the window larger" in text, (width, height, text)
        else:
            assert isinstance(app.screen, screen_type), (width, height, app.screen)
            assert "Make the window larger" not in text


async def test_every_screen_at_every_size(config, core) -> None:
    seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_main(app, pilot)
        await _each_size(app, pilot, MainScreen)
        screens = [("f1", "HelpScreen"), ("f2", "HistoryScreen"), ("f3", "SettingsScreen"), ("f4", "CatalogScreen")]
        for key, name in screens:
            await pilot.press(key)
            await wait_for(lambda: type(app.screen).__name__ == name, what=name)  # noqa: B023
            await _each_size(app, pilot, type(app.screen))
            await pilot.press("escape")
            await wait_for(lambda: isinstance(app.screen, MainScreen), what="back to the main screen")
        await app.run_action("open_job(1)")
        await wait_for(lambda: type(app.screen).__name__ == "JobDetailScreen", what="the detail")
        await _each_size(app, pilot, type(app.screen))
        await pilot.press("escape")
        await pilot.press("f2")
        await wait_for(lambda: type(app.screen).__name__ == "HistoryScreen", what="the history")
        await wait_for(lambda: app.screen.query_one(RowTable).row_count == 5, what="the history rows")
        await pilot.press("space", "space", "v")
        await wait_for(lambda: type(app.screen).__name__ == "CompareScreen", what="the compare screen")
        await _each_size(app, pilot, type(app.screen))


async def test_starts_too_small_then_grows(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(30, 10)) as pilot:
        await wait_for(lambda: app.main_screen is not None, what="the main screen built")
        await wait_for(lambda: isinstance(app.screen, TooSmallScreen), what="the too-small screen on top")
        await wait_for(lambda: "30x10" in " ".join(screen_text(app).split()), what="the sentence drawn")
        assert "Make the window larger" in " ".join(screen_text(app).split())
        await pilot.press("f2")  # nothing opens over it
        assert isinstance(app.screen, TooSmallScreen)
        await pilot.resize_terminal(80, 24)
        await wait_for(lambda: isinstance(app.screen, MainScreen), what="the main screen once larger")


async def test_narrow_prompt_has_the_row_and_options_take_its_place(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(50, 20)) as pilot:
        main = await open_main(app, pilot)
        editor = main.query_one(PromptArea)
        await wait_for(lambda: editor.size.width >= 45, what="the prompt across the whole row")
        assert not main.query_one("#options-pane").display
        await wait_for(lambda: "^n Options" in screen_text(app), what="the Options key offered in the footer")
        await pilot.press("ctrl+n")
        await wait_for(lambda: main.query_one("#options-pane").display and not editor.display, what="options shown")
        await pilot.press("ctrl+n")
        await wait_for(lambda: editor.display and editor.has_focus, what="the prompt back")
        await pilot.resize_terminal(80, 24)
        await wait_for(lambda: main.query_one("#options-pane").display and editor.display, what="both at 80")
        assert editor.size.width >= 30
        await wait_for(lambda: "^n Options" not in screen_text(app), what="the Options key gone when wide")
