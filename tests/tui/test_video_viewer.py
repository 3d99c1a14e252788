"""Videos in the terminal (issue 22): a poster and a ``▶ 0:05`` badge where images show, the viewer plays
(frames decoded as it plays, in a worker), pauses, steps, seeks, loops and stops decoding when left, and
``seedream-tui view ID`` opens it from the shell."""

from __future__ import annotations

import time
from typing import Any

from textual.widgets import Static
from tui_support import open_main, seed_finished_jobs, wait_for
from video_support import seed_video_job

from seedream_tui.paths import Paths
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.viewer import ViewerScreen
from seedream_tui.tui.widgets.row_table import RowTable


def video_app(base_url: str) -> tuple[SeedreamApp, int]:
    from conftest import make_config

    seed_finished_jobs(Paths.default())
    job_id = seed_video_job(Paths.default())
    return SeedreamApp(make_config(base_url, theme="textual-dark", notify_bell=False)), job_id


def caption_of(viewer: ViewerScreen) -> str:
    return str(viewer.query_one("#viewer-caption", Static).render())


async def open_video(app: SeedreamApp, pilot: Any) -> ViewerScreen:
    main = await open_main(app, pilot)
    await wait_for(lambda: main.table.row_count == 6, what="the seeded jobs")
    main.set_focus(main.table)
    await pilot.press("f")  # the newest job: the video
    await wait_for(lambda: isinstance(app.screen, ViewerScreen), what="the viewer")
    viewer = app.screen
    assert isinstance(viewer, ViewerScreen)
    await wait_for(lambda: viewer.frame is not None, what="the first frame")
    return viewer


async def test_the_viewer_plays_pauses_steps_seeks_and_stops_when_left(queue_server: Any) -> None:
    app, _job_id = video_app(queue_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        viewer = await open_video(app, pilot)
        playback = viewer.playback
        assert playback is not None
        first = viewer.frame
        assert first is not None and first.playing
        # it plays: the frame shown moves on, in a worker thread
        await wait_for(lambda: viewer.frame is not None and viewer.frame.index >= first.index + 3,
                       what="frames advancing")
        # halfcell: the viewer's own widget draws the lines made in the decoding thread
        widget: Any = viewer.query_one("#viewer-video")
        assert widget.display and widget.lines is viewer.frame.lines and len(widget.lines) == widget.size.height
        assert not viewer.query_one("#viewer-image").display
        assert "/ 0:05" in caption_of(viewer) and "▶" in caption_of(viewer)
        # space pauses: the frame says so, and it no longer moves
        await pilot.press("space")
        await wait_for(lambda: viewer.frame is not None and not viewer.frame.playing, what="paused")
        paused = viewer.frame.index
        assert "⏸" in caption_of(viewer)
        # "." steps one frame on, "," one back, while paused
        await pilot.press("full_stop")
        await wait_for(lambda: viewer.frame.index == paused + 1, what="one frame on")
        await pilot.press("comma")
        await wait_for(lambda: viewer.frame.index == paused, what="one frame back")
        assert not viewer.frame.playing and playback.sent >= 3
        # right seeks 5 s on (to the end of this 5 s clip), left 5 s back (to the start)
        await pilot.press("left")
        await wait_for(lambda: viewer.frame.time == 0.0, what="back at the start")
        assert "0:00 / 0:05" in caption_of(viewer)
        await pilot.press("right")
        await wait_for(lambda: viewer.frame.time >= 4.0, what="5 s on")
        # l loops; space plays again
        await pilot.press("l")
        assert viewer.loop and "loop" in caption_of(viewer)
        await pilot.press("space")
        await wait_for(lambda: viewer.frame.playing and viewer.frame.time < 2.0, what="played again from the start")
        # resize while playing: frames come at the new size
        before = viewer.query_one("#viewer-video").region
        await pilot.resize_terminal(120, 40)
        await wait_for(lambda: viewer.query_one("#viewer-video").region.width > before.width, what="a larger picture")
        await wait_for(lambda: viewer.frame.image.width > first.image.width, what="larger frames")
        # leaving stops the decoding at once: the thread ends and the file is closed
        await pilot.press("escape")
        await wait_for(lambda: playback.ended.is_set(), what="the decoding thread ended")
        assert viewer.playback is None
        await wait_for(lambda: not [w for w in app.workers if w.group == "viewer-video" and not w.is_finished],
                       what="the worker finished")


async def test_the_poster_and_badge_show_where_images_do(queue_server: Any) -> None:
    app, job_id = video_app(queue_server.base_url)
    async with app.run_test(size=(120, 36)) as pilot:
        main = await open_main(app, pilot)
        await wait_for(lambda: main.table.row_count == 6, what="the seeded jobs")
        table = main.table
        assert isinstance(table, RowTable)
        prompt = str(table.get_cell(str(job_id), "prompt"))
        assert prompt.startswith("▶ 0:05 ")
        main.set_focus(table)
        preview = main.query_one("PreviewPane")
        await wait_for(lambda: "▶ 0:05" in str(preview.border_title), what="the preview's badge")
        await wait_for(lambda: preview.shown_path is not None, what="the poster in the preview")
        image: Any = preview.query_one("#preview-image")
        assert image.display and image.image is not None


async def test_view_id_opens_the_viewer_from_the_shell(queue_server: Any) -> None:
    from conftest import make_config

    from seedream_tui.jobs.store import HistoryStore
    from seedream_tui.tui.view_app import ViewApp

    seed_finished_jobs(Paths.default())
    job_id = seed_video_job(Paths.default())
    store = HistoryStore(Paths.default().history_db)
    try:
        job = store.get(job_id)
    finally:
        store.close()
    assert job is not None
    app = ViewApp(make_config(queue_server.base_url), job)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: isinstance(app.screen, ViewerScreen), what="the viewer")
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen)
        await wait_for(lambda: viewer.frame is not None and viewer.frame.index >= 2, what="the video playing")
        await pilot.press("q")
        await wait_for(lambda: not app.is_running, what="the app ended with the viewer")


async def test_animate_this_result_opens_an_image_to_video_model_with_the_image_as_input(queue_server: Any) -> None:
    from seedream_tui.jobs.video import read_tags
    from seedream_tui.tui.screens.main import MainScreen

    app, _video_id = video_app(queue_server.base_url)
    async with app.run_test(size=(120, 36)) as pilot:
        main = await open_main(app, pilot)
        await wait_for(lambda: main.table.row_count == 6, what="the seeded jobs")
        main.set_focus(main.table)
        main.table.move_cursor(row=1)  # job #5: three Seedream images
        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, ViewerScreen) and app.screen.shown_path is not None,
                       what="the viewer on #5")
        await pilot.press("a")  # beside e: animate this result
        await wait_for(lambda: isinstance(app.screen, MainScreen) and main.spec.model_id.endswith("image-to-video"),
                       what="the image-to-video model in the form")
        assert main.spec.model_id == "bytedance/seedance-1/lite/image-to-video"  # the family's (same owner)
        inputs = main.current_inputs()
        assert inputs["image_url"] == "#5" and inputs["prompt"].startswith("Botanical illustration")
        core = app.core
        assert core is not None
        job = await core.submit(main.spec, inputs)
        assert await core.history.parents(job.id) == [5]  # lineage: #5 → the video
        done = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # await the job's end (a condition with a deadline)
            done = await core.history.get(job.id)
            if done is not None and done.status.terminal:
                break
            await pilot.pause(0.05)
        assert done is not None and done.status.value == "completed", done and done.error
        [clip] = done.outputs
        assert clip.kind == "video" and read_tags(clip.path or "")["parents"] == ["#5"]
