"""Video in the terminal (issue 22): `python bench/bench_video.py [seconds]`.

In-process through Textual's Pilot (headless) with a real ``Core`` (no server: every job is finished). A
finished video job is seeded in the history; its MP4 is made by the fake server's renderer (H.264, PyAV).

- ``first_frame_ms``: from pressing ``f`` on the video job in the job table to the first frame in which the
  viewer's image widget holds a decoded video frame (median of ``RUNS``).
- ``fps_WxH``: frames drawn per second while the viewer plays a 24 fps video in halfcell at 80x24 and
  200x60, against the frame rate the viewer aims at (``video_fps``: 15 by default, 8 over SSH).
- ``bytes_per_s_WxH``: what those frames would write to the terminal (each compositor update rendered to
  the escape sequences Textual sends, as it does for a real terminal).
- ``loop_lag_p95_ms_WxH``: how late a 10 ms timer on the event loop fires while the video plays (95th
  percentile): what a key typed meanwhile waits before the app sees it.
- ``fps_WxH_halfcell_live20`` and ``loop_lag_p95_ms_WxH_live20``: the same while 20 live jobs poll the fake
  server (run in its own process, 10 workers, an hour per job, so all 20 stay live and are polled throughout);
  ``polls_live20`` counts the status polls made during the window. The issue also asks for typing p95 into the
  prompt while a video plays; the viewer is a full screen that covers the prompt, so the loop lag while the
  video plays and 20 jobs poll stands for it (a key typed waits that long before the app sees it).
- ``rss_play_1080p_mb``: resident memory while playing a 10 s 1920x1080 file, above the app idle with the
  same history (target: at most 150 MB above idle).

Headless: the terminal itself costs nothing here, so the figures are the app's own ceiling; over SSH the
limit is the link: ``bytes_per_s`` at the frame rate shown is what it must carry.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _common import fake_server_process, figure, temp_home
from _tui_common import FrameWatch, bench_config, rss_mb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "tui"))

RUNS = 5
#: live jobs polling while the video plays (the issue's figure)
LIVE_JOBS = 20
PLAY_SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0


def seed(paths: Any, *, size: tuple[int, int], seconds: int, fps: int) -> int:
    from video_support import seed_video_job

    return seed_video_job(paths, size=size, seconds=seconds, fps=fps, prompt="a paper boat on a moonlit pond")


class ByteCount:
    """Counts the bytes the frames would write to a terminal (headless apps render nothing by themselves).

    One update in ``SAMPLE`` is rendered to escape sequences and counted ``SAMPLE`` times: rendering each one
    would double the event loop's work and lower the frame rate being measured."""

    SAMPLE = 4

    def __init__(self, app: Any) -> None:
        from textual._compositor import CompositorUpdate

        self.bytes = 0
        self.frames = 0
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if isinstance(renderable, CompositorUpdate):
                self.frames += 1
                if self.frames % self.SAMPLE == 0:
                    self.bytes += self.SAMPLE * len(renderable.render_segments(app.console).encode("utf-8"))

        app._display = display


async def open_viewer(app: Any, watch: FrameWatch, pilot: Any) -> tuple[Any, float]:
    """Press ``f`` on the job table's first row; (the viewer, ms to the first video frame drawn)."""
    from seedream_tui.tui.screens.main import MainScreen
    from seedream_tui.tui.screens.viewer import ViewerScreen

    await watch.wait(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted
                     and app.screen.table.row_count > 0)
    main = app.screen
    main.set_focus(main.table)
    main.table.move_cursor(row=0)
    await pilot.pause()
    watch.arm(lambda: isinstance(app.screen, ViewerScreen) and app.screen.frame is not None
              and app.screen.query_one("#viewer-video").lines is app.screen.frame.lines)
    start = time.perf_counter()
    await pilot.press("f")
    end = await watch.fired()
    return app.screen, (end - start) * 1000


async def first_frame() -> list[float]:
    from seedream_tui.paths import Paths
    from seedream_tui.tui import images
    from seedream_tui.tui.app import SeedreamApp

    images.configure("halfcell")
    temp_home()
    config = bench_config()
    seed(Paths.default(demo=True), size=(1280, 720), seconds=5, fps=24)
    times = []
    for _ in range(RUNS):
        app = SeedreamApp(config)
        async with app.run_test(size=(120, 40)) as pilot:
            watch = FrameWatch(app)
            _viewer, ms = await open_viewer(app, watch, pilot)
            times.append(ms)
            await pilot.press("escape")
    return times


async def lag_probe(lags: list[float], stop: asyncio.Event) -> None:
    """How late a 10 ms sleep on the event loop wakes up, again and again until ``stop``."""
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append((time.perf_counter() - start - 0.01) * 1000)


async def play(size: tuple[int, int], api: str | None = None) -> tuple[float, float, int, float, int]:
    """(frames drawn per second, bytes per second, the frame rate aimed at, p95 event-loop lag in ms, status
    polls made) while playing for PLAY_SECONDS; with ``api`` (a fake server), LIVE_JOBS live jobs poll it."""
    from seedream_tui.config import resolve_config
    from seedream_tui.paths import Paths
    from seedream_tui.tui import images, video_play
    from seedream_tui.tui.app import SeedreamApp

    images.configure("halfcell")
    home = temp_home()
    if api is not None:
        from bench_output import submit_live

        await submit_live(home, api, LIVE_JOBS)
    seed(Paths.default(demo=True), size=(640, 360), seconds=12, fps=24)  # the newest job: the table's first row
    app = SeedreamApp(resolve_config(demo=True, base_url=api) if api is not None else bench_config())
    async with app.run_test(size=size) as pilot:
        watch = FrameWatch(app)
        viewer, _ms = await open_viewer(app, watch, pilot)
        polls0 = count_polls()
        counter = ByteCount(app)
        playback = viewer.playback
        sent0, bytes0, t0 = playback.sent, counter.bytes, time.perf_counter()
        lags: list[float] = []
        stop = asyncio.Event()
        probe = asyncio.create_task(lag_probe(lags, stop))
        await asyncio.sleep(PLAY_SECONDS)  # a benchmark's measuring window, not synchronisation
        elapsed = time.perf_counter() - t0
        stop.set()
        await probe
        sent, written, polls = playback.sent - sent0, counter.bytes - bytes0, count_polls() - polls0
        await pilot.press("escape")
    aim = min(24, video_play.terminal_fps(None, {}))
    p95 = statistics.quantiles(lags, n=20)[-1] if len(lags) >= 20 else float("nan")
    return sent / elapsed, written / elapsed, aim, p95, polls


#: status polls (``RunComfyClient.result`` calls) made since :func:`count_polls` was first called
POLLS = [0]


def count_polls() -> int:
    """The polls counted so far (counting starts at the first call)."""
    from seedream_tui.api.client import RunComfyClient

    if not getattr(RunComfyClient.result, "counted", False):
        real = RunComfyClient.result

        async def result(self: Any, *args: Any, **kwargs: Any) -> Any:
            POLLS[0] += 1
            return await real(self, *args, **kwargs)

        result.counted = True  # type: ignore[attr-defined]
        RunComfyClient.result = result  # type: ignore[method-assign]
    return POLLS[0]


async def memory() -> tuple[float, float]:
    """(idle RSS MB with the viewer closed, peak RSS MB while playing a 10 s 1080p video)."""
    from seedream_tui.paths import Paths
    from seedream_tui.tui import images
    from seedream_tui.tui.app import SeedreamApp

    images.configure("halfcell")
    temp_home()
    seed(Paths.default(demo=True), size=(1920, 1080), seconds=10, fps=24)
    app = SeedreamApp(bench_config())
    async with app.run_test(size=(200, 60)) as pilot:
        watch = FrameWatch(app)
        from seedream_tui.tui.screens.main import MainScreen

        await watch.wait(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted
                         and app.screen.table.row_count > 0)
        await asyncio.sleep(1.0)
        idle = rss_mb()
        viewer, _ms = await open_viewer(app, watch, pilot)
        peak = rss_mb()
        playback = viewer.playback
        while not playback.ended.is_set() and (viewer.frame is None or viewer.frame.playing):
            peak = max(peak, rss_mb())
            await asyncio.sleep(0.1)
            if playback.time >= 9.5:
                break
        peak = max(peak, rss_mb())
        await pilot.press("escape")
    return idle, peak


def main() -> int:
    times = asyncio.run(first_frame())
    figure("first_frame_ms", statistics.median(times), "as fast as a still's preview")
    for size in ((80, 24), (200, 60)):
        fps, rate, aim, lag, _polls = asyncio.run(play(size))
        tag = f"{size[0]}x{size[1]}"
        figure(f"fps_{tag}_halfcell", fps, f"{aim} (video_fps)")
        figure(f"bytes_per_s_{tag}_halfcell", f"{rate / 1024:.0f} KB/s")
        figure(f"loop_lag_p95_ms_{tag}", lag)
    with fake_server_process("--workers", "10", "--min-duration", "3600", "--max-duration", "3600",
                             "--seed", "7") as (api, _cdn):
        print(f"# {LIVE_JOBS} live jobs polling the fake server; the viewer covers the prompt, so the loop lag "
              "stands for typing p95 while the video plays")
        for size in ((80, 24), (200, 60)):
            fps, rate, aim, lag, polls = asyncio.run(play(size, api))
            tag = f"{size[0]}x{size[1]}"
            figure(f"fps_{tag}_halfcell_live{LIVE_JOBS}", fps, f"{aim} (video_fps)")
            figure(f"loop_lag_p95_ms_{tag}_live{LIVE_JOBS}", lag, "typing p95 stand-in")
            figure(f"polls_live{LIVE_JOBS}_{tag}", polls)
    idle, peak = asyncio.run(memory())
    figure("rss_idle_mb", idle)
    figure("rss_play_1080p_mb", peak)
    figure("rss_play_1080p_above_idle_mb", peak - idle, "<= 150")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
