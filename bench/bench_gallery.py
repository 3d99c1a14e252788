"""The history gallery over 10,000 jobs: time to draw a page of thumbnails, and RSS after 1,000 jobs
(`python bench/bench_gallery.py`).

In-process through Textual's Pilot (headless, 200x50, halfcell images) with a real ``Core``. The
history holds ``N_JOBS`` finished jobs; the newest ``N_WITH_IMAGES`` have real 2304x1728 PNGs with the
downloader's thumbnails, ``N_FILES`` distinct files shared round-robin (more than the tile cache holds
per page, so pages really decode). The gallery (F2, then g) is paged down (PageDown) until the cursor
has passed 1,000 jobs; each page is timed from the key to the first frame in which every tile in view
shows its picture. RSS is read from /proc/self/status (VmRSS) before and after.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
from pathlib import Path

from _common import figure, temp_home
from _tui_common import FrameWatch, bench_config, bench_output, fill_history, make_pngs, rss_mb

N_JOBS = int(os.environ.get("BENCH_GALLERY_JOBS", 10_000))
N_WITH_IMAGES = 1_200
N_FILES = 40
SCROLL_JOBS = int(os.environ.get("BENCH_GALLERY_SCROLL", 1_000))


def seed(db: Path, pngs: list[Path], thumbs_dir: Path) -> None:
    from seedream_tui.jobs.downloads import Downloader
    from seedream_tui.jobs.model import JobStatus
    from seedream_tui.jobs.store import HistoryStore

    maker = Downloader(None, db.parent / "images", thumbs_dir)  # type: ignore[arg-type]
    thumbs = [maker._make_thumb(png) for png in pngs]
    db.parent.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(db)
    try:
        model = "bytedance/seedream-5/lite/text-to-image"
        now = time.time() - N_JOBS * 60
        fill_history(store, ((model, {"prompt": f"gallery bench job {i}"}, JobStatus.COMPLETED, now + 60 * i) for i in range(N_JOBS)))
        for n, job in enumerate(store.list_jobs(limit=N_WITH_IMAGES)):
            store.set_outputs(job.id, [bench_output(str(job.id), pngs[n % len(pngs)], thumbs[n % len(pngs)])])
    finally:
        store.close()


async def run() -> None:
    from seedream_tui.tui import images
    from seedream_tui.tui.app import SeedreamApp
    from seedream_tui.tui.screens.history import HistoryScreen
    from seedream_tui.tui.screens.main import MainScreen
    from seedream_tui.tui.widgets.gallery import Gallery

    images.configure("halfcell")
    app = SeedreamApp(bench_config())
    async with app.run_test(size=(200, 50)) as pilot:
        watch = FrameWatch(app)
        await watch.wait(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted)
        gc.collect()
        before = rss_mb()
        figure("gallery.rss_before_mb", before)
        await pilot.press("f2")
        await watch.wait(lambda: isinstance(app.screen, HistoryScreen) and bool(app.screen.view.jobs))
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        t0 = time.perf_counter()
        # the gallery is mounted by the first "g": its first page's time includes that
        watch.arm(lambda: bool(screen.query(Gallery)) and screen.gallery.display and bool(screen.gallery.jobs)
                  and screen.gallery.drawn())
        await pilot.press("g")
        await watch.fired()
        gallery = screen.gallery
        figure("gallery.first_page_ms", (time.perf_counter() - t0) * 1000)
        figure("gallery.tiles_per_page", gallery.page)
        pages: list[float] = []
        while gallery.cursor < SCROLL_JOBS:
            target = gallery.cursor + gallery.page
            watch.arm(lambda target=target: gallery.cursor >= min(target, len(gallery.jobs) - 1) and gallery.drawn())
            t0 = time.perf_counter()
            gallery.action_move_pages(1)  # what PageDown does, without Pilot's settle-down waits
            pages.append((await watch.fired() - t0) * 1000)
        gc.collect()
        after = rss_mb()
        figure("gallery.pages_drawn", len(pages))
        figure("gallery.jobs_scrolled", gallery.cursor)
        figure("gallery.jobs_loaded", len(screen.view.jobs))
        figure("gallery.page_draw_median_ms", statistics.median(pages), "≤ 250 ms")
        figure("gallery.page_draw_max_ms", max(pages))
        figure("gallery.rss_after_scrolling_mb", after, "≤ 200 MB")


def main() -> None:
    t_start = time.perf_counter()
    home = temp_home()
    pngs = make_pngs(Path(home) / "pngs", N_FILES)
    seed(Path(home) / "data" / "demo" / "history.sqlite3", pngs, Path(home) / "cache" / "demo-thumbs")
    asyncio.run(run())
    figure("gallery.total_s", time.perf_counter() - t_start)


if __name__ == "__main__":
    main()
