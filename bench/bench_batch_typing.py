"""Typing with a 1,000-job batch just submitted, beside 500 live jobs (`python bench/bench_batch_typing.py
[live_500] [batch_1000] [batch_1000_fast] [tui_submit]`: every case, or those named).

Issue 21 ("scale and speed"): with a 1,000-job batch in the local queue the TUI stays responsive, typing p95
unchanged from 500 live jobs. Both cases run in the same run, as bench_typing.py does them (a real process on a
pty, 200x60, halfcell images, the fake server in another process; ``KEYS`` capitals typed ``GAP`` s apart; a
key's latency is from writing it to the first output holding the text typed so far):

- ``live_500``: 500 jobs live at the server (10 workers, an hour each: all 500 keep polling);
- ``batch_1000``: a 1,000-job batch written as pending rows just before the app starts, its own live limit
  ``LIVE`` (32); the server has ``2*LIVE`` workers and jobs of 20-40 s, so during the typing the queue
  keeps sending (a slot frees, a claim, a submit), jobs finish, download and are drawn, the table holds 1,000
  rows and the status line counts the queue;
- ``batch_1000_fast``: the same with jobs of 2-4 s (a job ends, downloads and is replaced every ~0.1 s: a
  stress far past RunComfy's pace).

Prints median, p95 and the worst key of each, and the ratio of the p95s. Beside them (``tui_submit``): a
1,000-job batch submitted from the plan dialog's Submit (in process, headless), the time until the job table
holds its 1,000 rows (the event loop is busy all along: what a user waits for, frozen).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import fake_server_process, figure
from bench_output import env_for, submit_live
from bench_typing import key_latencies, report

VENV_BIN = Path(sys.executable).parent
JOBS = 1000
LIVE = 32
#: the server's job durations (s) of each batch case: RunComfy-like, and a stress (a job ends every ~0.1 s)
DURATIONS = {"batch_1000": ("20", "40"), "batch_1000_fast": ("2", "4")}


async def submit_batch_pending(home: str, api: str, n: int, live: int = LIVE, label: str = "bench batch") -> None:
    """A batch of ``n`` jobs written as pending rows in ``home``'s demo history (live limit ``live``), none sent:
    the app started next finds it as a batch just submitted, and sends them ``live`` at a time."""
    os.environ["SEEDREAM_TUI_HOME"] = home
    from seedream_tui.batch.plan import Axis, BatchPlan, PlannedJob, numbered
    from seedream_tui.catalog.pricing import Quote
    from seedream_tui.config import resolve_config
    from seedream_tui.jobs.service import Core

    config = resolve_config(demo=True, base_url=api)
    core = await Core.open(config)
    try:
        await core.history.set_queue_paused(True)  # written, not sent: the app's queue sends them
        model = core.registry.default().model_id
        jobs = [PlannedJob(model, {"prompt": f"{label} job {i}: a lighthouse at dusk"}, Quote(0.03),
                           variant={"repeat": i + 1}) for i in range(n)]
        plan = BatchPlan(numbered(jobs), axes=(Axis("repeat", tuple(range(1, n + 1))),), label=label)
        await core.submit_batch(plan, max_live=live)
        await core.history.set_queue_paused(False)
    finally:
        await core.close()


async def tui_submit_ms() -> float:
    """Submit a 1,000-job batch as the plan dialog's Submit does (queue paused: nothing sent); ms to 1,000 rows."""
    from _common import ROOT

    sys.path.insert(0, os.path.join(ROOT, "tests"))
    sys.path.insert(0, os.path.join(ROOT, "tests", "tui"))
    from child_queue import fox_plan
    from tui_support import open_main, wait_for

    from seedream_tui.config import resolve_config
    from seedream_tui.fake.server import FakeConfig, FakeServerThread
    from seedream_tui.jobs.service import Core
    from seedream_tui.tui.app import SeedreamApp

    os.environ["SEEDREAM_TUI_HOME"] = tempfile.mkdtemp(prefix="seedream-bench-batch-typing-")
    with FakeServerThread(FakeConfig(workers=1, seed=7)) as server:
        config = resolve_config(base_url=server.base_url, env={"RUNCOMFY_API_TOKEN": "bench-token"})
        core = await Core.open(config)
        try:
            await core.history.set_queue_paused(True)
            app = SeedreamApp(config, core=core)
            async with app.run_test(size=(200, 60)) as pilot:
                main = await open_main(app, pilot)
                started = time.perf_counter()
                main._submit_batch(fox_plan(JOBS))
                await wait_for(lambda: main.table.row_count == JOBS, limit=300, what="the batch's rows")
                await pilot.pause()
                return (time.perf_counter() - started) * 1000
        finally:
            await core.close()


def main() -> None:
    t_start = time.perf_counter()
    print(f"# load average at start: {os.getloadavg()[0]:.2f} (2 cores shared)")
    p95 = {}
    for name in [n for n in ("live_500", *DURATIONS) if not sys.argv[1:] or n in sys.argv[1:]]:
        home = tempfile.mkdtemp(prefix="seedream-bench-batch-typing-")
        if name == "live_500":
            knobs = ("--workers", "10", "--min-duration", "3600", "--max-duration", "3600")
        else:
            knobs = ("--workers", str(2 * LIVE), "--min-duration", DURATIONS[name][0],
                     "--max-duration", DURATIONS[name][1], "--image-scale", "0.25")
        with fake_server_process(*knobs, "--seed", "7") as (api, _cdn):
            if name == "live_500":
                asyncio.run(submit_live(home, api, 500))
                marker = b"live bench job 499"
            else:
                asyncio.run(submit_batch_pending(home, api, JOBS))
                marker = b"batch bench job"
            argv = [str(VENV_BIN / "seedream-tui"), "--demo", "--base-url", api, "--image-mode", "halfcell"]
            latencies = key_latencies(argv, env_for(home), marker)
        report(f"{name}_200x60", latencies, targets=True)
        ordered = sorted(latencies)
        p95[name] = ordered[int(len(ordered) * 0.95) - 1]
    if not sys.argv[1:] or "tui_submit" in sys.argv[1:]:
        figure("tui_submit_1000_to_rows_ms", asyncio.run(tui_submit_ms()))
    for name in DURATIONS:
        if name in p95 and "live_500" in p95:
            figure(f"typing.{name}_vs_live_500_p95_ratio", p95[name] / p95["live_500"], "≈ 1")
    print(f"# load average at end: {os.getloadavg()[0]:.2f}")
    figure("typing.total_s", time.perf_counter() - t_start)


if __name__ == "__main__":
    sys.exit(main())
