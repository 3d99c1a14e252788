"""A 1,000-job batch through the local queue against the fake server (issue 21, "scale and speed").

Measures: the time to write the batch (every job a pending row, one transaction: ``Core.submit_batch``
returns), the rate jobs are sent at while the live-job limit is full, the most jobs the server held at once
(never more than the limit), HTTP requests per submit (from the fake server's own request log: must be 1),
and the cost of one claim (pending -> submitting, with the limit and the daily budget checked) in the store.

The fake server runs in this process with many workers and short jobs (its knobs), and polling is fast, so the
figure is the queue's own speed, not RunComfy's; the live-job limit is ``LIVE``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import figure, temp_home

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

JOBS = 1000
LIVE = 32


async def run() -> None:
    from child_queue import fox_plan

    from seedream_tui.config import resolve_config
    from seedream_tui.fake.server import FakeConfig, FakeServerThread
    from seedream_tui.jobs.model import JobStatus
    from seedream_tui.jobs.poll_policy import PollPolicy
    from seedream_tui.jobs.service import Core

    fake = FakeConfig(workers=LIVE * 2, min_duration=0.05, max_duration=0.1, image_scale=0.01, seed=3,
                      request_log_limit=JOBS * 40)
    policy = dataclasses.replace(PollPolicy(), first=0.05, running=0.1, queued_near=0.1, queued_far=0.2,
                                 jitter=0.0)
    with FakeServerThread(fake) as server:
        config = resolve_config(base_url=server.base_url, env={"RUNCOMFY_API_TOKEN": "bench-token"})
        core = await Core.open(config, policy=policy)
        try:
            await core.start()
            plan = fox_plan(JOBS)
            started = time.perf_counter()
            batch, jobs = await core.submit_batch(plan, max_live=LIVE)
            figure("write_batch_ms", (time.perf_counter() - started) * 1000, "a 1,000-job batch written at once")
            ids = [job.id for job in jobs]
            while True:
                done = await core.history.count_jobs(batch_id=batch.id, statuses=[JobStatus.COMPLETED,
                                                                                   JobStatus.FAILED])
                if done == JOBS:
                    break
                await asyncio.sleep(0.2)  # a progress probe, not a synchronisation
            total = time.perf_counter() - started
            snapshot = server.jobs_snapshot()
            created = sorted(r["created_ts"] for r in snapshot.values())
            events = sorted([(r["created_ts"], 1) for r in snapshot.values()]
                            + [(r["finished_ts"], -1) for r in snapshot.values() if r["finished_ts"]])
            live = peak = 0
            for _, step in events:
                live += step
                peak = max(peak, live)
            posts = sum(1 for r in server.api_requests if r["method"] == "POST" and r["path"].startswith("/v1/models/"))
            figure("jobs", JOBS)
            figure("live_limit", LIVE)
            figure("peak_live_on_server", peak, f"<= {LIVE}")
            figure("submits_per_s_at_limit", (len(created) - 1) / max(1e-9, created[-1] - created[0]))
            figure("batch_done_s", total)
            figure("http_requests_per_submit", f"{posts / len(ids):.2f}", "1")
            figure("requests_sent_twice", posts - len({r for r in snapshot}), "0")
        finally:
            await core.close()


def claim_cost() -> None:
    from seedream_tui.jobs.local_queue import daily_cap
    from seedream_tui.jobs.store import HistoryStore
    from seedream_tui.jobs.store_queue import PendingRow

    folder = tempfile.mkdtemp(prefix="seedream-claims-")
    store = HistoryStore(Path(folder) / "history.sqlite3")
    try:
        store.create_pending_batch([PendingRow("m", {"prompt": f"p{i}"}, i, price_usd=0.03) for i in range(JOBS)])
        started = time.perf_counter()
        while store.claim_pending("bench", limit=10**9, base_url=None, daily=daily_cap(10**6)).job is not None:
            pass
        figure("claim_ms", (time.perf_counter() - started) * 1000 / JOBS, "one transaction per job sent")
    finally:
        store.close()


if __name__ == "__main__":
    temp_home()
    os.environ.pop("RUNCOMFY_API_TOKEN", None)
    asyncio.run(run())
    claim_cost()
