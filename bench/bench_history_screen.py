"""The history screen over 100,000 jobs (`python bench/bench_history_screen.py`).

In-process, through Textual's Pilot (headless, 200x50), with a real ``Core`` on a seeded demo-profile
history. Two figures, each a median over several runs:

* open: from the F2 key press to the first frame holding the screen's first page of rows. The first open
  is timed twice, in two apps: F2 half a second after the main screen's first frame (a person's
  reaction time; start-up has settled: the figure held to the target), and F2 at that very frame (the
  worst case: what start-up leaves until after its first frame is still running then);
* search: from the (debounced) search being applied to the first frame holding the new first page
  (the typing debounce itself is left out: it is a deliberate wait, not work).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from pathlib import Path

from _common import figure, temp_home
from _tui_common import FrameWatch, bench_config, seed_history

N_JOBS = 100_000
RUNS = 7
QUERIES = ["fox", "golden dragon", "sunset", "watercolor cat", "misty forest", "pixel art robot", "狐狸"]


async def run(prefix: str = "history_screen", open_target: str = "≤ 150 ms",
              search_target: str = "≤ 30 ms median") -> None:
    from textual.widgets import Input

    from seedream_tui.tui import images
    from seedream_tui.tui.app import SeedreamApp
    from seedream_tui.tui.screens.history import HistoryScreen
    from seedream_tui.tui.screens.main import MainScreen
    from seedream_tui.tui.widgets.row_table import RowTable

    images.configure("halfcell")
    gc.freeze()  # as run_tui does before app.run(): what is imported by now is out of the collector's sight

    def first_page() -> bool:
        screen = app.screen
        return isinstance(screen, HistoryScreen) and screen.query_one(RowTable).row_count > 0

    # the worst case, in an app of its own: F2 at the main screen's first frame
    app = SeedreamApp(bench_config())
    async with app.run_test(size=(200, 50)) as pilot:
        watch = FrameWatch(app)
        await watch.wait(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted and app.screen.table.row_count > 0)
        watch.arm(first_page)
        t0 = time.perf_counter()
        await pilot.press("f2")
        at_first_frame = (await watch.fired() - t0) * 1000

    app = SeedreamApp(bench_config())
    async with app.run_test(size=(200, 50)) as pilot:
        watch = FrameWatch(app)
        await watch.wait(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted and app.screen.table.row_count > 0)
        await asyncio.sleep(0.5)  # a person's reaction to the first frame (the only fixed wait: it is the scenario)
        opens = []
        for _ in range(RUNS):
            watch.arm(first_page)
            t0 = time.perf_counter()
            await pilot.press("f2")
            opens.append((await watch.fired() - t0) * 1000)
            await pilot.press("escape")
            await watch.wait(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted)
        # the first open shows the screen built after start-up; later ones reuse it and refresh its rows
        figure(f"{prefix}.first_open_ms", opens[0], open_target)
        figure(f"{prefix}.first_open_at_the_first_frame_ms", at_first_frame)
        figure(f"{prefix}.open_first_page_median_ms", statistics.median(opens), open_target)
        print(f"# open runs ms: {[round(x) for x in opens]}")

        watch.arm(first_page)  # before the key: the page may be drawn before press() returns
        await pilot.press("f2")
        await watch.fired()
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        table = screen.query_one(RowTable)
        searches = []
        for query in QUERIES:
            screen.query_one("#history-search", Input).value = query
            generation = screen.view.generation
            def new_page(generation: int = generation) -> bool:
                return screen.view.generation > generation and screen.view.loading is None and table.row_count > 0

            watch.arm(new_page)
            t0 = time.perf_counter()
            screen._apply_search()
            searches.append((await watch.fired() - t0) * 1000)
        figure(f"{prefix}.search_to_drawn_median_ms", statistics.median(searches), search_target)
        print(f"# search runs ms: {dict(zip(QUERIES, [round(x, 1) for x in searches], strict=True))}")


def main() -> None:
    t_start = time.perf_counter()
    home = temp_home()
    seed_history(Path(home) / "data" / "demo" / "history.sqlite3", N_JOBS)
    asyncio.run(run())
    figure("history_screen.total_s", time.perf_counter() - t_start)


if __name__ == "__main__":
    main()
