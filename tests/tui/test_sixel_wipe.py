"""Issue 20 §6: sixel images are pixels, not cells: closing the viewer or the history erases the terminal and
repaints, so no image fragment stays on the screen below (xterm -ti vt340)."""

from __future__ import annotations

from typing import Any

import pytest
from tui_support import open_main, seed_finished_jobs, wait_for

from seedream_tui.tui import images
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.history import HistoryScreen
from seedream_tui.tui.screens.viewer import ViewerScreen

ERASE = "\x1b[2J"


@pytest.mark.parametrize("mode", ["sixel", "halfcell"])
async def test_closing_the_viewer_and_the_history_wipes_sixel_pixels(config: Any, core: Any, monkeypatch: Any,
                                                                     mode: str) -> None:
    seed_finished_jobs(config.paths)
    monkeypatch.setattr(images, "_mode", mode)  # the widgets stay half-cell (headless); the wipe follows the mode
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await open_main(app, pilot)
        await wait_for(lambda: main.table.row_count >= 5, what="the jobs")
        written: list[str] = []
        driver: Any = app._driver
        original = driver.write
        monkeypatch.setattr(driver, "write", lambda data: (written.append(data), original(data)))
        main.set_focus(main.table)
        await pilot.pause()
        for open_key, screen_type in (("f", ViewerScreen), ("f2", HistoryScreen)):
            await pilot.press(open_key)
            await wait_for(lambda screen_type=screen_type: isinstance(app.screen, screen_type), what=str(screen_type))
            await pilot.pause()
            written.clear()
            screen = app.screen
            screen.set_focus(None)
            await pilot.press("escape")
            await wait_for(lambda: app.screen is main, what="the main screen")
            if mode == "sixel":
                await wait_for(lambda: ERASE in "".join(written), what="the display erased")
            else:
                await pilot.pause()
                assert ERASE not in "".join(written)
