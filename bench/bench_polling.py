"""Requests per job and detection delay, against RunComfy's own 5-second polling (`python bench/bench_polling.py`).

For jobs that run about 5, 30 and 120 s (+-10 %) on the fake server (one server and one history per length, run side by
side), the history already holds five completed jobs like them, so the engine predicts the run time: it
asks rarely early on and every ~0.8 s around the expected end. Figures per length: /status+/result requests
per job, and the median delay from "completed on the server" (the fake's own clock) to "the client knows"
(the engine's event). Beside them, a replay of RunComfy's ComfyUI client on the same jobs: one /result every
5 s from submit. Targets (issue 13): at most 1.2x its requests for 30 and 120 s jobs, median delay <= 1 s.
"""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import time

from _common import figure, temp_home

MODEL = "bytedance/seedream-5/lite/text-to-image"
JOBS = 4
LENGTHS = (5.0, 30.0, 120.0)


async def one_length(seconds: float) -> dict[str, float]:
    from seedream_tui.config import resolve_config
    from seedream_tui.fake.server import FakeConfig, FakeServerThread
    from seedream_tui.jobs.model import JobStatus
    from seedream_tui.jobs.service import Core
    from seedream_tui.jobs.store import HistoryStore

    temp_home()
    # run times spread +-10 % (real jobs vary; exact multiples of 5 s would also flatter no one)
    fake = FakeServerThread(FakeConfig(workers=JOBS, min_duration=seconds * 0.9, max_duration=seconds * 1.1,
                                       image_scale=0.05, seed=int(seconds))).start()
    config = resolve_config(base_url=fake.base_url, env={"RUNCOMFY_API_TOKEN": "bench"})
    store = HistoryStore(config.paths.history_db)  # five past jobs like these: the history to predict from
    for i in range(5):
        past = store.create_job(MODEL, {"prompt": f"past {i}"})
        took = seconds * (0.9 + 0.05 * i) + 0.3
        store.update_job(past.id, status=JobStatus.COMPLETED, started_at=1000.0, finished_at=1000.0 + took)
    store.close()
    core = await Core.open(config)
    known: dict[str, float] = {}
    core.subscribe(lambda job: known.setdefault(job.request_id or "", time.time())
                   if job.status in (JobStatus.DOWNLOADING, JobStatus.COMPLETED) else None)
    try:
        await core.start()
        jobs = [await core.engine.submit(MODEL, {"prompt": f"bench {i}"}) for i in range(JOBS)]
        for job in jobs:
            await core.engine.wait_for(job.id)
    finally:
        await core.close()
        fake.stop()
    records = fake.jobs_snapshot()
    requests = [sum(1 for r in fake.api_requests if r["method"] == "GET"
                    and r["path"].startswith(f"/v1/requests/{job.request_id}/")) for job in jobs]
    delays, replay_requests, replay_delays = [], [], []
    for job in jobs:
        rec = records[job.request_id or ""]
        delays.append(known[job.request_id or ""] - rec["finished_ts"])
        span = rec["finished_ts"] - rec["created_ts"]
        polls = max(1, math.ceil(span / 5.0))
        replay_requests.append(polls)
        replay_delays.append(polls * 5.0 - span)
    return {
        "requests": statistics.mean(requests), "delay": statistics.median(delays),
        "replay_requests": statistics.mean(replay_requests), "replay_delay": statistics.median(replay_delays),
    }


async def main() -> None:
    results = await asyncio.gather(*(one_length(s) for s in LENGTHS))
    for seconds, r in zip(LENGTHS, results, strict=True):
        name = f"polling_{seconds:.0f}s_job"
        ratio = r["requests"] / r["replay_requests"]
        target = "<= 1.2x" if seconds >= 30 else ""
        figure(f"{name}.requests_per_job", float(r["requests"]), f"{target} RunComfy's {r['replay_requests']:.1f}".strip())
        figure(f"{name}.requests_vs_runcomfy", f"{ratio:.2f}x", target)
        figure(f"{name}.detection_median_s", r["delay"], "<= 1 s")
        figure(f"{name}.runcomfy_5s_policy_detection_median_s", r["replay_delay"])


if __name__ == "__main__":
    os.environ.setdefault("SEEDREAM_TUI_HOME", temp_home())
    asyncio.run(main())
