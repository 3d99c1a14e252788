"""The job table with a 500-job batch, all live: what a round of changes (one per job) and an elapsed-time tick
cost, the batch unfolded (500 rows) and folded (one row with its progress, counted as jobs change).

Run: ``PYTHONPATH=. .venv/bin/python bench/bench_batch_fold.py`` (prints figures; no assertion).
"""

from __future__ import annotations

import asyncio
import statistics
import time

from textual.app import App, ComposeResult

from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.tui.widgets.job_table import JobTable

JOBS = 500
BATCH = 7


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield JobTable(id="jobs")


def _jobs(status: JobStatus, now: float) -> list[Job]:
    return [
        Job(id=i, model_id="m", inputs={"prompt": f"a red fox number {i}", "resolution": "2K"}, status=status,
            created_at=now - 30, updated_at=now, submitted_at=now - 29, started_at=now - 28, batch_id=BATCH,
            batch_place=i - 1, variant={"repeat": i})
        for i in range(1, JOBS + 1)
    ]


async def _round(app: App[None], table: JobTable, jobs: list[Job]) -> float:
    start = time.perf_counter()
    for job in jobs:
        table.upsert(job)
    await app.animator.wait_until_complete()
    return time.perf_counter() - start


async def main() -> None:
    app = _TableApp()
    async with app.run_test(size=(120, 45)) as pilot:
        table = app.query_one(JobTable)
        now = time.time()
        table.set_jobs(_jobs(JobStatus.QUEUED, now))
        await pilot.pause()
        for label in ("unfolded", "folded"):
            if label == "folded":
                table.fold(BATCH)
                await pilot.pause()
            rounds, ticks = [], []
            for n in range(5):
                status = JobStatus.RUNNING if n % 2 else JobStatus.QUEUED
                rounds.append(await _round(app, table, _jobs(status, now + n)))
                start = time.perf_counter()
                table.tick()
                ticks.append(time.perf_counter() - start)
                await pilot.pause()
            print(f"{label:>9}: {table.row_count:>3} rows; 500 job changes {statistics.median(rounds) * 1e3:6.1f} ms "
                  f"({statistics.median(rounds) / JOBS * 1e6:5.1f} µs each); a tick {statistics.median(ticks) * 1e3:5.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
