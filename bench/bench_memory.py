"""Resident memory after browsing 1,000 finished jobs' previews (`python bench/bench_memory.py`).

In-process through Textual's Pilot (headless, 200x50, halfcell images) with a real ``Core``. The
history holds 1,000 COMPLETED jobs whose outputs are real 2304x1728 PNGs: ``N_FILES`` distinct files
shared round-robin (more than any decode cache holds, so every step decodes). The history screen (F2,
paged) is opened and the cursor moved down through all 1,000 rows; at every step the bench waits for
the preview to draw that job's image, so each of the 1,000 previews really is decoded and drawn.
RSS is read from /proc/self/status (VmRSS) before browsing and after.

The viewer parts (issue 20 §5) walk 200 jobs in the full-screen viewer at 200x60 (halfcell, then sixel, each
in a fresh process) and return to the main screen: RSS at the 50th..200th job and after leaving.
`python bench/bench_memory.py viewer-sixel` runs one part.
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import figure, temp_home
from _tui_common import FrameWatch, bench_config, bench_output, make_pngs, rss_mb

N_JOBS = 1000
N_FILES = 20


def seed(db: Path, pngs: list[Path], thumbs_dir: Path) -> None:
    from seedream_tui.jobs.downloads import Downloader
    from seedream_tui.jobs.model import JobStatus
    from seedream_tui.jobs.store import HistoryStore

    # each download also leaves the downloader's small thumbnail, as in real use
    maker = Downloader(None, db.parent / "images", thumbs_dir)  # type: ignore[arg-type]
    thumbs = [maker._make_thumb(png) for png in pngs]

    store = HistoryStore(db)
    try:
        for i in range(N_JOBS):
            job = store.create_job("bytedance/seedream-5/lite/text-to-image", {"prompt": f"memory bench job {i}"})
            store.update_job(job.id, status=JobStatus.COMPLETED, finished_at=time.time())
            png = pngs[i % len(pngs)]
            store.set_outputs(job.id, [bench_output(str(i), png, thumbs[i % len(pngs)])])
    finally:
        store.close()


async def run() -> None:

    from seedream_tui.tui import images
    from seedream_tui.tui.app import SeedreamApp
    from seedream_tui.tui.screens.history import HistoryScreen
    from seedream_tui.tui.screens.main import MainScreen
    from seedream_tui.tui.widgets.job_preview import JobPreview
    from seedream_tui.tui.widgets.row_table import RowTable

    images.configure("halfcell")
    app = SeedreamApp(bench_config())
    async with app.run_test(size=(200, 50)) as pilot:
        watch = FrameWatch(app)
        await watch.wait(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted and app.screen.table.row_count > 0)
        gc.collect()
        before = rss_mb()
        figure("memory.rss_before_browsing_mb", before)
        watch.arm(lambda: isinstance(app.screen, HistoryScreen) and app.screen.query_one(RowTable).row_count > 0)
        await pilot.press("f2")
        await watch.fired()
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        table = screen.query_one(RowTable)
        preview = screen.query_one(JobPreview)
        t0 = time.perf_counter()
        seen = set()
        peak = before
        for step in range(N_JOBS):
            job_id = int(table.row_key_at(step))

            def drawn(job_id: int = job_id) -> bool:
                return (preview.job is not None and preview.job.id == job_id and preview.has_class("-has-image")
                        and bool(preview.query("#preview-image")))

            if step:
                watch.arm(drawn)
                table.action_cursor_down()  # what the Down key does, without Pilot's settle-down waits
                await watch.fired()
            elif not drawn():
                await watch.wait(drawn)
            seen.add(job_id)
            if step % 100 == 99:
                peak = max(peak, rss_mb())
        browse_s = time.perf_counter() - t0
        gc.collect()
        after = rss_mb()
        figure("memory.previews_browsed", len(seen))
        figure("memory.browse_per_job_ms", browse_s * 1000 / N_JOBS)
        figure("memory.rss_peak_sampled_mb", max(peak, after))
        figure("memory.rss_after_browsing_mb", after, "≤ 200 MB")


# ------------------------------------------------------------------ the full-screen viewer (issue 20 §5)
N_VIEWER_JOBS = 200
VIEWER_SIZE = (200, 60)


async def run_viewer(mode: str = "halfcell") -> None:
    """Walk ``N_VIEWER_JOBS`` jobs in the full-screen viewer at 200x60, then go back to the main screen.

    Each step waits for the frame that shows that job's image. RSS is printed before, at the 100th and
    200th job and after returning to the main screen (and a collection): the figure of issue 20 §5.
    """
    from seedream_tui.tui import images
    from seedream_tui.tui.app import SeedreamApp
    from seedream_tui.tui.screens.main import MainScreen
    from seedream_tui.tui.screens.viewer import ViewerScreen

    images.configure(mode)
    app = SeedreamApp(bench_config())
    async with app.run_test(size=VIEWER_SIZE) as pilot:
        watch = FrameWatch(app)
        await watch.wait(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted and app.screen.table.row_count > 0)
        main_screen = app.screen
        assert isinstance(main_screen, MainScreen)
        gc.collect()
        before = rss_mb()
        figure(f"viewer.{mode}.rss_before_mb", before)
        jobs = await app.core.history.list_jobs(limit=N_VIEWER_JOBS)  # type: ignore[attr-defined]
        watch.arm(lambda: isinstance(app.screen, ViewerScreen) and app.screen.shown_path is not None)
        app.push_screen(ViewerScreen(jobs, 0))
        await watch.fired(120)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen)
        steps = min(N_VIEWER_JOBS, len(viewer.jobs))
        peak = before
        at: dict[int, float] = {}
        window: list[float] = []
        for step in range(1, steps):
            target = viewer.jobs[viewer.index + 1].id

            def drawn(target: int = target) -> bool:
                return viewer.job is not None and viewer.job.id == target and viewer.shown_path is not None

            watch.arm(drawn)
            viewer.action_job(1)
            await watch.fired(120)
            now = rss_mb()
            window.append(now)
            del window[:-10]
            if step + 1 in (50, 100, 150, 200):
                # an instant's RSS holds the image being decoded and encoded (tens of MB, gone a step
                # later): the floor of the last 10 steps is what stays
                at[step + 1] = min(window)
                figure(f"viewer.{mode}.rss_at_job_{step + 1}_mb", now)
                figure(f"viewer.{mode}.rss_floor_jobs_{step - 8}_{step + 1}_mb", at[step + 1])
            peak = max(peak, now)
        watch.arm(lambda: app.screen is main_screen)
        await pilot.press("escape")
        await watch.fired(120)
        await pilot.pause()
        gc.collect()
        after = rss_mb()
        figure(f"viewer.{mode}.rss_peak_sampled_mb", max(peak, after))
        if 100 in at and 200 in at:
            figure(f"viewer.{mode}.growth_100_to_200_mb", at[200] - at[100], "≈ 0 (floor to floor)")
        figure(f"viewer.{mode}.rss_after_leaving_mb", after, "≤ 200 MB")


def main() -> None:
    t_start = time.perf_counter()
    home = os.environ.get("SEEDREAM_TUI_HOME") if os.environ.get("SEEDREAM_BENCH_SEEDED") else None
    if home is None:
        home = temp_home()
        pngs = make_pngs(Path(home) / "pngs", N_FILES)
        seed(Path(home) / "data" / "demo" / "history.sqlite3", pngs, Path(home) / "cache" / "demo-thumbs")
        os.environ["SEEDREAM_BENCH_SEEDED"] = "1"
    which = sys.argv[1:] or ["history", "viewer-halfcell", "viewer-sixel"]
    if len(which) > 1:  # each part in a fresh process: one part's heap would be the next one's baseline
        for part in which:
            subprocess.run([sys.executable, __file__, part], check=True, env={**os.environ, "SEEDREAM_TUI_HOME": home})
        figure("memory.total_s", time.perf_counter() - t_start)
        return
    if which[0] == "history":
        asyncio.run(run())
    elif which[0].startswith("viewer-"):
        asyncio.run(run_viewer(which[0].split("-", 1)[1]))
    figure("memory.total_s", time.perf_counter() - t_start)


if __name__ == "__main__":
    main()
