"""SVG snapshots of the main screen at 80x24 and 160x48: finished jobs only (no live clock), halfcell images."""

from __future__ import annotations

from typing import Any

import pytest
from tui_support import drawn_settled, seed_finished_jobs, wait_for

from seedream_tui.paths import Paths
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.main import MainScreen
from seedream_tui.tui.widgets.preview import PreviewPane
from seedream_tui.tui.widgets.prompt_editor import PromptArea


def snapshot_app(base_url: str) -> SeedreamApp:
    from conftest import make_config

    seed_finished_jobs(Paths.default())
    return SeedreamApp(make_config(base_url, theme="textual-dark", notify_bell=False))


async def settle(pilot: Any) -> None:
    app = pilot.app
    await wait_for(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted, what="the main screen")
    main = app.screen
    await wait_for(lambda: main.table.row_count == 5, what="the seeded jobs")
    # mounted right after the first frame (issue 23): the model picker, and the hidden tabs of a narrow window
    await wait_for(lambda: bool(main.query("#model-select") and main.query("#results-tabs")), what="the picker")
    main.query_one(PromptArea).cursor_blink = False
    preview = main.query_one(PreviewPane)
    await wait_for(lambda: preview.shown_path is not None, what="the preview image")
    # the price of the bundled model is fetched in the background after start: wait for the quote
    pane = main.query_one("#options-pane")
    await wait_for(lambda: str(pane.border_subtitle) == "≈ $0.03", what="the quote")
    await drawn_settled(main)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_main_screen_snapshot(snap_compare, queue_server, size) -> None:
    assert snap_compare(snapshot_app(queue_server.base_url), terminal_size=size, run_before=settle)
