"""Requests per job and detection delay, against RunComfy's own 5-second polling (`python bench/bench_polling.py`).

Three cases (issue 18 §4), each at 30 s and 120 s jobs (+-10 %): **cold** (an empty history: a user's first
jobs of a model), **warm** (five past jobs like these) and **mixed** (twenty past jobs of the model with other
options, a quarter and four times as long, and two like these). Figures per cell: /result requests per job
and the median delay from "completed on the server" to "the client knows", beside a replay of RunComfy's
ComfyUI client on the same jobs (one /result at submit, then one 5 s after each answer). Targets: at most
1.2x its requests, median detection <= 1 s.

Real 120 s jobs take too long for `make bench`, so the cells run on a simulated clock with the engine's own
pure parts (``PollPolicy``, ``alike_runs``, the follower's rule of planning again when a sibling completes),
20 jobs a cell, ten cells each. Then the real engine on the fake server checks them end to end at 30 s (the
three cases side by side, 8 jobs each). A batch learns from its first jobs to finish; a job alone with no past
(``cold_alone``) has nothing to learn from and is polled about as RunComfy's client polls it.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import os
import random
import statistics
import time

from _common import figure, temp_home

from seedream_tui.jobs.engine_runs import alike_runs
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.poll_policy import PollPolicy

MODEL = "bytedance/seedream-5/lite/text-to-image"

# ---------------------------------------------------------------- the policy on a simulated clock
#: a cell: ``JOBS_SIMULATED`` jobs of one model and options, submitted together, all running at once
JOBS_SIMULATED = 20
SPREAD = 0.1  # run times spread +-10 % (real jobs vary; exact multiples of 5 s would flatter no one)
CASES = ("cold", "warm", "mixed")


def past_runs(case: str, seconds: float, rng: random.Random) -> list[tuple[str, float]]:
    """The history before the batch, newest first, as (options key, run time): cold: none; warm: five
    jobs like these; mixed: twenty of the same model with other options at a quarter and four times the
    length, and two like these (too few for the old rule, which then took all twenty-two)."""
    def like(scale: float) -> float:
        return seconds * scale * rng.uniform(1 - SPREAD, 1 + SPREAD)

    if case == "warm":
        return [("these", like(1.0)) for _ in range(5)]
    if case == "mixed":
        others = [("1K", like(0.25)) if i % 2 else ("4K", like(4.0)) for i in range(20)]
        return [("these", like(1.0)), *others[:10], ("these", like(1.0)), *others[10:]]
    return []


def simulate(policy: PollPolicy, case: str, seconds: float, seed: int, count: int = JOBS_SIMULATED,
             ) -> dict[str, list[float]]:
    """One cell on a simulated clock, with the engine's own pure parts: the policy's waits (jitter and
    the shared tick included), the run times it learns (``alike_runs``; a completion's time taken halfway
    between the last answer that said running and the one that said completed, as the follower records it),
    a sibling's completion bringing the others' next polls nearer (the follower plans again), and a job
    with no past asked at RunComfy's pace when no other like it runs (``RunTimes.alone``). Each job
    starts at its submit (free workers); the server answers at once. Beside it, RunComfy's client on the
    same jobs: one /result at submit, then one 5 s after each answer."""
    rng = random.Random(seed)
    kept = past_runs(case, seconds, rng)
    ends = [seconds * rng.uniform(1 - SPREAD, 1 + SPREAD) for _ in range(count)]
    jobs = [Job(i, MODEL, {"prompt": f"bench {i}"}, JobStatus.RUNNING, 0.0, 0.0) for i in range(count)]
    polls = [0] * count
    seen_running: list[float | None] = [None] * count
    due = [policy.first] * count
    late: list[float] = []
    heap = [(policy.first, i) for i in range(count)]

    def on_tick(t: float) -> float:
        return math.ceil(t / policy.tick - 1e-9) * policy.tick

    def wait(i: int, now: float) -> float:
        running = sum(1 for job in jobs if job.status is JobStatus.RUNNING and job.started_at is not None)
        return policy.interval(jobs[i], rng, expected=alike_runs(kept, "these") or None, now=now, alone=running <= 1)

    while heap:
        now, i = heapq.heappop(heap)
        if now != due[i] or jobs[i].status is not JobStatus.RUNNING:
            continue  # planned again meanwhile, or done
        polls[i] += 1
        if now < ends[i]:
            if jobs[i].started_at is None:
                jobs[i] = jobs[i].evolve(started_at=now)
            seen_running[i] = now
            due[i] = on_tick(now + wait(i, now))
            heapq.heappush(heap, (due[i], i))
            continue
        late.append(now - ends[i])
        ran = seen_running[i]
        started = jobs[i].started_at
        jobs[i] = jobs[i].evolve(status=JobStatus.COMPLETED)
        if ran is not None and started is not None:
            kept.insert(0, ("these", (ran + now) / 2 - started))
        for k, job in enumerate(jobs):  # the others plan again
            if job.status is JobStatus.RUNNING and job.started_at is not None:
                sooner = on_tick(now + wait(k, now))
                if sooner < due[k]:
                    due[k] = sooner
                    heapq.heappush(heap, (sooner, k))
    replay = [1 + math.ceil(end / 5.0) for end in ends]
    return {"requests": [float(p) for p in polls], "delay": late,
            "replay_requests": [float(r) for r in replay],
            "replay_delay": [math.ceil(end / 5.0) * 5.0 - end for end in ends]}


def simulated_cells(runs: int = 10) -> None:
    policy = PollPolicy()
    for case in (*CASES, "cold_alone"):
        for seconds in (30.0, 120.0):
            if case == "cold_alone":  # one job at a time, each with no past: 100 of them
                cells = [simulate(policy, "cold", seconds, seed, count=1) for seed in range(100)]
            else:
                cells = [simulate(policy, case, seconds, seed) for seed in range(runs)]
            requests = statistics.mean(r for c in cells for r in c["requests"])
            replay = statistics.mean(r for c in cells for r in c["replay_requests"])
            delay = statistics.median(d for c in cells for d in c["delay"])
            replay_delay = statistics.median(d for c in cells for d in c["replay_delay"])
            name = f"polling_simulated.{case}_{seconds:.0f}s"
            report(name, requests, replay, delay, replay_delay)


def report(name: str, requests: float, replay: float, delay: float, replay_delay: float) -> None:
    figure(f"{name}.requests_per_job", f"{requests:.1f}", f"<= 1.2x RunComfy's {replay:.1f}")
    figure(f"{name}.requests_vs_runcomfy", f"{requests / replay:.2f}x", "<= 1.2x")
    figure(f"{name}.detection_median_s", f"{delay:.2f}", "<= 1 s")
    figure(f"{name}.runcomfy_5s_policy_detection_median_s", f"{replay_delay:.2f}")


# ---------------------------------------------------------------- the real engine on the fake server
JOBS_REAL = 8
REAL_SECONDS = 30.0


async def one_case(case: str, seconds: float) -> dict[str, float]:
    from seedream_tui.config import resolve_config
    from seedream_tui.fake.server import FakeConfig, FakeServerThread
    from seedream_tui.jobs.service import Core
    from seedream_tui.jobs.store import HistoryStore

    temp_home()
    fake = FakeServerThread(FakeConfig(workers=JOBS_REAL, min_duration=seconds * (1 - SPREAD),
                                       max_duration=seconds * (1 + SPREAD), image_scale=0.05,
                                       seed=int(seconds) + len(case))).start()
    config = resolve_config(base_url=fake.base_url, env={"RUNCOMFY_API_TOKEN": "bench"})
    store = HistoryStore(config.paths.history_db)  # the history before the batch, oldest first
    for i, (key, took) in enumerate(reversed(past_runs(case, seconds, random.Random(len(case))))):
        options = {} if key == "these" else {"resolution": key}
        past = store.create_job(MODEL, {"prompt": f"past {i}", **options})
        store.update_job(past.id, status=JobStatus.COMPLETED, started_at=1000.0, finished_at=1000.0 + took)
    store.close()
    core = await Core.open(config)
    known: dict[str, float] = {}
    core.subscribe(lambda job: known.setdefault(job.request_id or "", time.time())
                   if job.status in (JobStatus.DOWNLOADING, JobStatus.COMPLETED) else None)
    try:
        await core.start()
        jobs = [await core.engine.submit(MODEL, {"prompt": f"bench {i}"}) for i in range(JOBS_REAL)]
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
        replay_requests.append(1 + math.ceil(span / 5.0))  # one at submit, then every 5 s
        replay_delays.append(math.ceil(span / 5.0) * 5.0 - span)
    return {
        "requests": statistics.mean(requests), "delay": statistics.median(delays),
        "replay_requests": statistics.mean(replay_requests), "replay_delay": statistics.median(replay_delays),
    }


async def real_cells() -> None:
    results = await asyncio.gather(*(one_case(case, REAL_SECONDS) for case in CASES))
    for case, r in zip(CASES, results, strict=True):
        report(f"polling_engine.{case}_{REAL_SECONDS:.0f}s", r["requests"], r["replay_requests"], r["delay"],
               r["replay_delay"])


if __name__ == "__main__":
    os.environ.setdefault("SEEDREAM_TUI_HOME", temp_home())
    simulated_cells()
    asyncio.run(real_cells())
