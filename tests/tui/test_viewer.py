"""The full-screen viewer, as a user drives it from every place that opens it, and its snapshots."""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.widgets import Static
from tui_support import drawn_settled, open_main, seed_finished_jobs, wait_for

from seedream_tui.jobs.model import JobStatus
from seedream_tui.paths import Paths
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.compare import CompareScreen
from seedream_tui.tui.screens.detail import JobDetailScreen
from seedream_tui.tui.screens.history import HistoryScreen
from seedream_tui.tui.screens.main import MainScreen
from seedream_tui.tui.screens.viewer import ViewerScreen, caption
from seedream_tui.tui.widgets.preview import PreviewPane
from seedream_tui.tui.widgets.row_table import RowTable


def seeded_app(base_url: str) -> SeedreamApp:
    from conftest import make_config

    seed_finished_jobs(Paths.default())  # ids 1..5; #5 has 3 images, #4 cancelled, #2 failed
    return SeedreamApp(make_config(base_url, theme="textual-dark", notify_bell=False))


async def main_ready(app: SeedreamApp, pilot: Any) -> MainScreen:
    main = await open_main(app, pilot)
    await wait_for(lambda: main.table.row_count == 5, what="the seeded jobs")
    return main


async def viewer_ready(app: SeedreamApp) -> ViewerScreen:
    await wait_for(lambda: isinstance(app.screen, ViewerScreen), what="the viewer")
    viewer = app.screen
    assert isinstance(viewer, ViewerScreen)
    await wait_for(lambda: viewer.shown_path is not None or viewer.job is None or not viewer.job.outputs,
                   what="the viewer's image")
    return viewer


async def viewer_from_table(app: SeedreamApp, pilot: Any) -> tuple[MainScreen, ViewerScreen]:
    """The main screen up, then ``f`` on the job table's selected (newest) job."""
    main = await main_ready(app, pilot)
    main.set_focus(main.table)
    await pilot.press("f")
    return main, await viewer_ready(app)


def caption_of(viewer: ViewerScreen) -> str:
    return str(viewer.query_one("#viewer-caption", Static).render())


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (200, 60)])
async def test_viewer_fills_the_screen_centred_with_a_caption(queue_server, size) -> None:
    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=size) as pilot:
        main, viewer = await viewer_from_table(app, pilot)
        await wait_for(lambda: viewer.query_one("#viewer-image").region.width > 0, what="the image drawn")
        stage = viewer.query_one("#viewer-stage").region
        image = viewer.query_one("#viewer-image").region
        # as large as the stage allows in one dimension, aspect kept (4:3 at 1:2 cells), centred in the other
        assert image.width == stage.width or image.height == stage.height
        assert abs((image.x - stage.x) - (stage.right - image.right)) <= 1
        assert abs((image.y - stage.y) - (stage.bottom - image.bottom)) <= 1
        assert image.width > stage.width // 2 or image.height > stage.height // 2
        text = caption_of(viewer)
        assert text.startswith("#5 done")
        assert "160×120" in text and "1/3" in text and "halfcell" in text
        assert len(text) <= size[0]


async def test_viewer_steps_images_and_jobs_and_leaves_the_list_where_it_ended(queue_server) -> None:
    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        main, viewer = await viewer_from_table(app, pilot)
        first = viewer.shown_path
        await pilot.press("right_square_bracket")
        await wait_for(lambda: "2/3" in caption_of(viewer) and viewer.shown_path != first, what="the second image")
        await pilot.press("full_stop", "full_stop")  # wraps round to the first
        await wait_for(lambda: "1/3" in caption_of(viewer), what="back to the first image")
        await pilot.press("comma")
        await wait_for(lambda: "3/3" in caption_of(viewer), what="the last image")
        await pilot.press("right")  # the next row of the job table: #4 (cancelled, no image)
        await wait_for(lambda: caption_of(viewer).startswith("#4"), what="job #4")
        assert "cancelled" in str(viewer.query_one("#viewer-message", Static).render()).lower()
        await pilot.press("n")
        await wait_for(lambda: caption_of(viewer).startswith("#3"), what="job #3")
        await pilot.press("N", "left", "left")
        await wait_for(lambda: caption_of(viewer).startswith("#5"), what="back to job #5")
        await pilot.press("left")  # the top of the list: stays (a bell), does not wrap
        assert caption_of(viewer).startswith("#5")
        await pilot.press("n", "n")
        await wait_for(lambda: caption_of(viewer).startswith("#3"), what="job #3 again")
        await pilot.press("q")
        await wait_for(lambda: app.screen is main, what="the main screen")
        assert main.table.selected_job_id == 3


async def test_keys_in_the_viewer_act_on_the_viewer_only(queue_server) -> None:
    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        main, viewer = await viewer_from_table(app, pilot)
        before = (main.focused, main.table.cursor_row, main.editor.text, main.query_one("#model-select").expanded)
        await pilot.press("tab", "down", "c", "enter", "x", "space", "shift+tab")
        assert app.screen is viewer and viewer.focused is None
        after = (main.focused, main.table.cursor_row, main.editor.text, main.query_one("#model-select").expanded)
        assert after == before
        await pilot.press("escape")
        await wait_for(lambda: app.screen is main, what="the main screen")


async def test_viewer_opens_from_the_preview_history_compare_and_details(queue_server) -> None:
    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(160, 48)) as pilot:
        main = await main_ready(app, pilot)
        # the preview: enter on it
        main.set_focus(main.query_one(PreviewPane))
        await pilot.press("enter")
        viewer = await viewer_ready(app)
        assert viewer.job is not None and viewer.job.id == 5
        await pilot.press("escape")
        # the history: f on a row; the viewer walks the history's rows
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen)
                       and app.screen.query_one(RowTable).row_count == 5, what="the history")
        history = app.screen
        await pilot.press("down", "down", "f")
        viewer = await viewer_ready(app)
        assert viewer.job is not None and viewer.job.id == 3
        await pilot.press("n")
        await wait_for(lambda: viewer.job is not None and viewer.job.id == 2, what="the next history row")
        await pilot.press("escape")
        await wait_for(lambda: app.screen is history, what="the history")
        assert history.selected_job() is not None and history.selected_job().id == 2  # type: ignore[union-attr]
        # compare: the viewer walks the compared jobs
        await pilot.press("up", "space", "up", "up", "up", "v")  # space steps down a row
        await wait_for(lambda: isinstance(app.screen, CompareScreen), what="compare")
        await pilot.press("f")
        viewer = await viewer_ready(app)
        assert [job.id for job in viewer.jobs] == [3, 5]
        await pilot.press("escape", "escape", "escape")
        # the job details
        app.call_later(app.action_open_job, 1)
        await wait_for(lambda: isinstance(app.screen, JobDetailScreen) and app.screen.job is not None, what="details")
        await pilot.press("f")
        viewer = await viewer_ready(app)
        assert viewer.job is not None and viewer.job.id == 1 and viewer.job.status is JobStatus.COMPLETED


def test_caption_cuts_the_prompt_and_keeps_the_facts() -> None:
    from seedream_tui.jobs.model import Job

    job = Job(7, "m", {"prompt": "a very long prompt " * 10}, JobStatus.COMPLETED, 0.0, 0.0)
    line = caption(job, 1, 4, (2304, 1728), "sixel", 60).plain
    assert len(line) == 60
    assert line.startswith("#7 done  a very long")
    assert "…" in line and line.endswith("2304×1728  2/4  sixel")
    short = caption(job, 0, 1, None, "halfcell", 20).plain
    assert short.startswith("#7 done") and short.endswith("halfcell")


async def settle_viewer(pilot: Any) -> None:
    app = pilot.app
    main = await main_ready(app, pilot)
    await wait_for(lambda: main.query_one(PreviewPane).shown_path is not None, what="the preview")
    main.set_focus(main.table)
    await pilot.press("f")
    viewer = await viewer_ready(app)
    await drawn_settled(viewer)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_viewer_snapshot(snap_compare, queue_server, size) -> None:
    assert snap_compare(seeded_app(queue_server.base_url), terminal_size=size, run_before=settle_viewer)


async def test_focus_never_rests_on_the_hidden_job_table(queue_server) -> None:
    """Below 120 columns with the Preview tab showing, ctrl+g shows the jobs before focusing them, and
    switching tabs moves the focus to the pane that shows (c must never cancel a job the user cannot see)."""
    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await main_ready(app, pilot)
        main.set_focus(main.table)
        await pilot.press("ctrl+o")  # the Preview tab
        await wait_for(lambda: main.has_class("-show-preview"), what="the preview tab")
        assert main.focused is main.query_one(PreviewPane) and not main.table.display
        await pilot.press("ctrl+g")  # to the jobs: shown first
        assert main.table.has_focus and main.table.display and not main.has_class("-show-preview")
        await pilot.press("ctrl+o", "ctrl+o")  # preview and back: the focus follows each time
        await wait_for(lambda: main.table.has_focus and main.table.display, what="the jobs again")


async def test_preview_centres_its_image_and_times_a_running_job(queue_server) -> None:
    """No empty status row above the picture (it is centred in the pane); a live job's line has its time."""
    from seedream_tui.jobs.model import Job

    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(160, 48)) as pilot:
        main = await main_ready(app, pilot)
        preview = main.query_one(PreviewPane)
        await wait_for(lambda: preview.shown_path is not None, what="the preview image")
        picture = preview.query_one("#preview-image")
        await wait_for(lambda: picture.region.height > 0, what="the picture laid out")
        assert not preview.query_one("#preview-status").display
        inner = preview.content_region
        assert abs((picture.region.y - inner.y) - (inner.bottom - picture.region.bottom)) <= 1
        assert abs((picture.region.x - inner.x) - (inner.right - picture.region.right)) <= 1
        running = Job(77, "m", {"prompt": "p"}, JobStatus.RUNNING, 0.0, 0.0, submitted_at=time.time() - 65)
        preview.show_job(running)
        status = preview.query_one("#preview-status", Static)
        await wait_for(lambda: "Running… 1m0" in str(status.render()), what="the elapsed time")
        assert status.display
