"""A 1,000-job batch planned and shown in the TUI (`python bench/bench_plan_dialog.py`), issue 21.

In-process, through Textual's Pilot (headless, 80x24 and 200x50), a demo-profile app with no server (nothing is
sent: the dialog is cancelled). Figures, each a median over several runs:

* plan: ``make_plan`` for 1,000 jobs (a repeat count of 1,000), priced;
* open: from the ctrl+s key press (the panel's Repeat at 1,000) to the first frame showing the plan dialog;
* whole list: from the key press to every job being in the dialog's list (its first 100 lines come first);
* end: from the ``end`` key in the dialog's list to the first frame with the last job highlighted.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from _common import figure, temp_home
from _tui_common import FrameWatch, bench_config

RUNS = 5
N_JOBS = 1000


async def one_size(config: object, size: tuple[int, int]) -> None:
    from seedream_tui.batch.planner import PlanRequest, make_plan
    from seedream_tui.tui.app import SeedreamApp
    from seedream_tui.tui.screens.main import MainScreen
    from seedream_tui.tui.screens.plan import PlanScreen

    app = SeedreamApp(config)  # type: ignore[arg-type]
    async with app.run_test(size=size) as pilot:
        watch = FrameWatch(app)
        await watch.wait(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted
                         and app.screen.options.built)
        main = app.screen
        assert isinstance(main, MainScreen)
        plans = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            make_plan(main.spec, PlanRequest(inputs={"prompt": "a red fox"}, repeat=N_JOBS))
            plans.append((time.perf_counter() - t0) * 1000)
        main.editor.load_text("a red fox in the snow, long exposure")
        main.options.batch_rows.set_values(repeat=N_JOBS)
        await pilot.pause()
        opens: list[float] = []
        ends: list[float] = []
        fills: list[float] = []
        for _ in range(RUNS):
            watch.arm(lambda: isinstance(app.screen, PlanScreen) and app.screen.is_mounted)
            pressed = time.perf_counter()
            await pilot.press("ctrl+s")
            opens.append((await watch.fired() - pressed) * 1000)
            dialog = app.screen
            assert isinstance(dialog, PlanScreen)
            # (its chunks are added after frames: no frame need follow the last one, so this polls)
            while not dialog.filled:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            fills.append((time.perf_counter() - pressed) * 1000)
            watch.arm(lambda dialog=dialog: dialog.lines.highlighted == N_JOBS - 1)
            t0 = time.perf_counter()
            await pilot.press("end")
            ends.append((await watch.fired() - t0) * 1000)
            await pilot.press("escape")
            await watch.wait(lambda: app.screen is main)
        name = f"plan_dialog_{size[0]}x{size[1]}"
        figure(f"{name}.make_plan_1000_median_ms", statistics.median(plans))
        figure(f"{name}.open_1000_median_ms", statistics.median(opens), "< 1000 ms with the plan")
        figure(f"{name}.whole_list_from_the_key_median_ms", statistics.median(fills))
        figure(f"{name}.end_key_median_ms", statistics.median(ends))
        print(f"# open runs ms: {[round(x) for x in opens]}")


async def run() -> None:
    from seedream_tui.tui import images

    images.configure("halfcell")
    config = bench_config()
    for size in [(80, 24), (200, 50)]:
        await one_size(config, size)


def main() -> None:
    temp_home()
    asyncio.run(run())


if __name__ == "__main__":
    main()
