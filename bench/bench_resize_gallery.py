"""The history's gallery through bursts of resizes (issue 20 §2): time to the drawn gallery, and error toasts
(`python bench/bench_resize_gallery.py`).

In-process through Textual's Pilot (headless, halfcell images) with a real ``Core`` over a demo history of
``N_JOBS`` finished jobs, the newest ``N_WITH_IMAGES`` with real PNGs and the downloader's thumbnails. The
gallery is opened at 200x60 and closed; then ``RESIZES`` resize events, 15 ms apart (a window being dragged),
end at 80x24, and F2 is timed to the first frame in which the gallery has the tiles of 80x24, each with its
picture. Then the same burst with the gallery on screen, timed from the last resize. Error toasts are counted
(each was "Could not finish _load: NoMatches …" before).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from _common import figure, temp_home
from _tui_common import FrameWatch, bench_config, make_pngs
from bench_gallery import seed

N_FILES = 20
RESIZES = int(os.environ.get("BENCH_RESIZES", 40))
SIZES = [(200, 60), (60, 20), (120, 40), (40, 12), (160, 50), (100, 30), (60, 24), (140, 45)]


async def burst(app, end: tuple[int, int]) -> None:
    from textual import events
    from textual.geometry import Size

    sizes = [SIZES[n % len(SIZES)] for n in range(RESIZES - 1)] + [end]
    for width, height in sizes:
        size = Size(width, height)
        app._driver._size = size
        app.post_message(events.Resize(size, size))
        await asyncio.sleep(0.015)


async def run() -> None:
    from textual.notifications import Notify

    from seedream_tui.tui import images
    from seedream_tui.tui.app import SeedreamApp
    from seedream_tui.tui.screens.history import HistoryScreen
    from seedream_tui.tui.screens.main import MainScreen
    from seedream_tui.tui.widgets.gallery import Gallery, Tile, grid_shape

    images.configure("halfcell")
    errors: list[str] = []

    def hook(message: object) -> None:
        if isinstance(message, Notify) and message.notification.severity == "error":
            errors.append(message.notification.message)

    app = SeedreamApp(bench_config())
    async with app.run_test(size=(200, 60), message_hook=hook) as pilot:
        watch = FrameWatch(app)
        await watch.wait(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted)
        watch.arm(lambda: isinstance(app.screen, HistoryScreen) and bool(app.screen.view.jobs))
        await pilot.press("f2")
        await watch.fired()
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        watch.arm(lambda: bool(screen.query(Gallery)) and screen.gallery.display and screen.gallery.drawn())
        await pilot.press("g")
        await watch.fired()
        gallery = screen.gallery
        watch.arm(lambda: isinstance(app.screen, MainScreen))
        await pilot.press("escape")
        await watch.fired()

        def settled() -> bool:
            tiles = list(gallery.query(Tile))
            return (app.screen is screen and (gallery.columns, gallery.rows) == grid_shape(*gallery.size)
                    and len(tiles) == gallery.page and gallery.size.area > 0 and gallery.drawn())

        watch.arm(lambda: app.screen.size == (80, 24))
        await burst(app, (80, 24))
        await watch.fired()
        await pilot.pause(1.0)  # the main screen done with the burst: F2 alone is timed
        profile = None
        if os.environ.get("BENCH_PROFILE"):
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        t0 = time.perf_counter()
        watch.arm(settled)
        await pilot.press("f2")
        figure("resize_gallery.f2_after_burst_ms", (await watch.fired() - t0) * 1000, "≈ a plain reopen")
        if profile is not None:
            profile.disable()
            profile.dump_stats(os.environ["BENCH_PROFILE"])
        # the same F2 at the same size, no resize in between: what a reopen costs on this machine
        watch.arm(lambda: isinstance(app.screen, MainScreen))
        await pilot.press("escape")
        await watch.fired()
        await pilot.pause(1.0)
        t0 = time.perf_counter()
        watch.arm(settled)
        await pilot.press("f2")
        figure("resize_gallery.f2_plain_reopen_ms", (await watch.fired() - t0) * 1000)
        t0 = time.perf_counter()
        await burst(app, (120, 40))
        t1 = time.perf_counter()
        watch.arm(settled)
        figure("resize_gallery.settled_after_burst_ms", (await watch.fired() - t1) * 1000)
        figure("resize_gallery.burst_s", t1 - t0)
        await pilot.pause(0.5)
    figure("resize_gallery.error_toasts", len(errors), "0")
    for sentence in errors[:3]:
        print("  ", sentence[:160])


def main() -> None:
    import bench_gallery

    bench_gallery.N_JOBS, bench_gallery.N_WITH_IMAGES = 300, 200
    home = temp_home()
    pngs = make_pngs(Path(home) / "pngs", N_FILES)
    seed(Path(home) / "data" / "demo" / "history.sqlite3", pngs, Path(home) / "cache" / "demo-thumbs")
    asyncio.run(run())


if __name__ == "__main__":
    main()
