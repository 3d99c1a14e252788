"""Polling cheap when cold, not only when warm (issue 18 §4): the pure policy on a simulated schedule against
RunComfy's own client (one /result at submit, then one 5 s after each answer), what past run times stand in
for a job's own, run times without the download, a sibling's completion, and a queue that stood still."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import random
import time
from typing import Any

from helpers import MODEL, open_core, wait_for, wait_status

from seedream_tui.jobs.engine_runs import RunTimes
from seedream_tui.jobs.follower import Follower
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.poll_policy import PollPolicy, QueueWatch

POLICY = PollPolicy(jitter=0.0)


def runcomfy_requests(duration: float) -> int:
    """RunComfy's ComfyUI client: one /result at submit, then one 5 s after each answer, until done."""
    return 1 + math.ceil(duration / 5.0)


def schedule(
    policy: PollPolicy, duration: float, expected: tuple[float, ...] | None, alone: bool = False
) -> tuple[int, float]:
    """Requests for a job that runs ``duration`` seconds from its submit (a free worker), and how late its
    end is learnt: the first poll after ``first`` (it then runs), then the policy's waits."""
    rng = random.Random(1)
    job = Job(1, MODEL, {"prompt": "p"}, JobStatus.RUNNING, 0.0, 0.0)
    t, polls = policy.first, 0
    while True:
        polls += 1
        if t >= duration:
            return polls, t - duration
        if job.started_at is None:
            job = job.evolve(started_at=t)
        t += policy.interval(job, rng, expected=expected, now=t, alone=alone)


def _around(seconds: float, count: int = 5) -> tuple[float, ...]:
    return tuple(seconds * (0.95 + 0.1 * i / max(1, count - 1)) for i in range(count))


def test_cold_warm_and_mixed_each_cost_at_most_1_2x_runcomfy() -> None:
    """30 s and 120 s jobs with no past run like them (cold: in a batch, or alone), five like them (warm), or
    past runs of the same options at mixed lengths (30 s and 120 s): each at most 1.2x RunComfy's requests; a
    prediction that holds finds the end within a second, nothing to go on within ``blind_max`` (RunComfy: 5 s)."""
    for duration in (30.0, 120.0):
        budget = 1.2 * runcomfy_requests(duration)
        cases = {
            "cold": None,
            "warm": _around(duration),
            "mixed": (*_around(30.0, 2), *_around(120.0, 2)),
        }
        for case, expected in cases.items():
            polls, late = schedule(POLICY, duration, expected)
            assert polls <= budget, (case, duration, polls, budget)
            assert late <= (POLICY.blind_max if expected is None else POLICY.dense), (case, duration, late)
        polls, late = schedule(POLICY, duration, None, alone=True)
        assert polls <= budget and late <= POLICY.running, ("alone", duration, polls, late)


class _History:
    """The one query RunTimes makes of the history: (inputs, seconds) newest first."""

    def __init__(self, past: list[tuple[dict[str, Any], float]]) -> None:
        self.past = past

    async def run_times(self, model_id: str, limit: int = 100) -> list[tuple[dict[str, Any], float]]:
        return self.past[:limit]


async def test_a_first_1k_job_after_twenty_4k_jobs_is_not_predicted_from_them() -> None:
    """Twenty 4K jobs took 60 s; the first 1K job takes 30 s. Predicted from the 4K jobs it was first asked
    ~25 s after it finished; now it is polled as a job with no past, and the next 1K job from the first."""
    history = _History([({"prompt": f"p{i}", "resolution": "4K"}, 60.0) for i in range(20)])
    runs = RunTimes(history, min_samples=POLICY.predict_min_samples)  # type: ignore[arg-type]
    first = Job(1, MODEL, {"prompt": "a", "resolution": "1K"}, JobStatus.RUNNING, 0.0, 0.0)
    expected = await runs.expected(first)
    assert expected == ()  # nothing like it: the 4K jobs' 60 s do not stand in
    polls, late = schedule(POLICY, 30.0, expected or None)
    assert late <= 6.0 and polls <= 1.2 * runcomfy_requests(30.0), (polls, late)  # about RunComfy's every 5 s
    runs.started(first)
    assert runs.alone(first)  # nothing like it runs: asked at RunComfy's pace, with nothing to learn from
    runs.started(first.evolve(id=3))
    assert not runs.alone(first) and runs.alone(first.evolve(inputs={"resolution": "4K"}))
    runs.stopped(first.evolve(id=3))
    assert runs.alone(first)
    runs.stopped(first)
    runs.completed(first.evolve(started_at=100.0, finished_at=129.0))
    second = Job(2, MODEL, {"prompt": "b", "resolution": "1K"}, JobStatus.RUNNING, 0.0, 0.0)
    assert await runs.expected(second) == (29.0,)
    polls, late = schedule(POLICY, 30.0, await runs.expected(second))
    assert late <= POLICY.dense and polls <= runcomfy_requests(30.0), (polls, late)


async def test_a_run_time_ends_when_runcomfy_finished_not_when_the_files_were_saved(fake_server: Any) -> None:
    """The files take two seconds to save: the run time the next prediction uses leaves them out."""
    fake_server.set_config(min_duration=1.0, max_duration=1.0)
    core = await open_core(fake_server.base_url)
    fetch = core.engine.downloader.fetch

    async def slow_fetch(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(2.0)  # a slow CDN (what is measured here, not a wait for something)
        return await fetch(*args, **kwargs)

    core.engine.downloader.fetch = slow_fetch  # type: ignore[method-assign]
    try:
        job = await core.engine.submit(MODEL, {"prompt": "slow files"})
        done = await wait_status(core, job.id, within=15.0)
        assert done.status is JobStatus.COMPLETED and done.started_at and done.finished_at
        record = fake_server.jobs_snapshot()[done.request_id]
        ran_on_server = record["finished_ts"] - record["started_ts"]
        recorded = done.finished_at - done.started_at
        assert done.updated_at - done.finished_at >= 2.0  # the files were saved two seconds after it finished
        assert abs(recorded - ran_on_server) < 1.0, (recorded, ran_on_server)
        past = await core.history.run_times(MODEL)
        assert past and abs(past[0][1] - ran_on_server) < 1.0, past
    finally:
        await core.close()


class _Ticker:
    """A ticker whose first sleep lasts until cancelled; the waits asked of it are kept."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        if len(self.sleeps) == 1:
            await asyncio.Event().wait()


async def test_a_siblings_completion_brings_a_cold_jobs_next_poll_nearer(fake_server: Any) -> None:
    """Two jobs of a batch with no past have run 20 s; one is seen completed: the other, asked next in 6 s,
    is asked within about a second instead (its end may be near)."""
    core = await open_core(fake_server.base_url, policy=POLICY, start=False)
    ticker = _Ticker()
    parts = dataclasses.replace(core.engine.parts, ticker=ticker)
    now = time.time()
    job = Job(1, MODEL, {"prompt": "one"}, JobStatus.RUNNING, now - 21, now - 21, started_at=now - 20.0)
    follower = Follower(parts, job)
    try:
        assert await parts.runs.expected(job) == ()
        nap = asyncio.ensure_future(follower._nap(6.0))
        await wait_for(lambda: ticker.sleeps, what="the follower to sleep")
        sibling = job.evolve(id=2, inputs={"prompt": "two"}, started_at=now - 20.5, finished_at=now - 0.2)
        parts.runs.completed(sibling)
        await asyncio.wait_for(nap, 5.0)
        assert ticker.sleeps[0] > 5.9 and ticker.sleeps[1] <= POLICY.dense * 1.2, ticker.sleeps
        assert follower.state.expected == (sibling.finished_at - sibling.started_at,)
    finally:
        await core.close()


def test_position_11_of_a_queue_that_stood_still_is_asked_within_5_s() -> None:
    """A job at position 11 of a queue that stood still for a minute was next asked 30 s later, though one
    move brings it near (asked every 1.5 s there): now at most every 5 s, RunComfy's own pace."""
    watch, rng = QueueWatch(), random.Random(1)
    position = POLICY.near_positions + 1
    watch.observe(position, 0.0)
    speed, still_for = watch.observe(position, 60.0)
    job = Job(1, MODEL, {"prompt": "p"}, JobStatus.QUEUED, 0.0, 0.0, queue_position=position)
    assert POLICY.interval(job, rng, speed, still_for=still_for) <= POLICY.queued_far
    # the queue moved: near now, asked often
    speed, still_for = watch.observe(position - 1, 65.0)
    assert POLICY.interval(job.evolve(queue_position=position - 1), rng, speed, still_for=still_for) == POLICY.queued_near
    # far back, the wait still grows with how long the queue stood still
    far = job.evolve(queue_position=POLICY.near_positions + 40)
    assert POLICY.interval(far, rng, still_for=60.0) == POLICY.queued_max
