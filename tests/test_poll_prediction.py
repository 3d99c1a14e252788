"""Polling a running job by its expected run time: rarely early on, densely around the expected end."""

from __future__ import annotations

import random

from helpers import MODEL, open_core, result_requests, wait_status

from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.poll_policy import PollPolicy


def _running(started: float) -> Job:
    return Job(1, MODEL, {"prompt": "p"}, JobStatus.RUNNING, 0.0, 0.0, started_at=started)


def schedule(policy: PollPolicy, duration: float, expected: tuple[float, float] | None) -> tuple[int, float]:
    """Polls sent while a job runs ``duration`` seconds, and how late the end is learnt (no jitter)."""
    rng = random.Random(1)
    t, polls = 0.0, 0
    quiet = PollPolicy(jitter=0.0)
    assert policy.jitter == quiet.jitter
    while True:
        polls += 1
        if t >= duration:
            return polls, t - duration
        t += policy.interval(_running(0.0), rng, expected=expected, now=t)


def test_a_prediction_cuts_requests_and_keeps_detection_quick() -> None:
    policy = PollPolicy(jitter=0.0)
    for duration in (30.0, 120.0):
        budget = duration / 5 + 1  # what RunComfy's own client sends, polling every 5 s
        polls, late = schedule(policy, duration, (duration * 0.98, duration * 1.02))
        assert polls <= budget and late <= policy.dense, (duration, polls, late)
    # a job that runs far longer than any before it is asked at least as often as one with no past
    polls, late = schedule(policy, 300.0, (30.0, 31.0))
    assert late <= policy.blind_max


async def test_the_history_supplies_the_prediction(fake_server: object) -> None:
    fake_server.set_config(min_duration=0.2, max_duration=0.2)  # type: ignore[attr-defined]
    core = await open_core(fake_server.base_url)  # type: ignore[attr-defined]
    try:
        for i in range(3):
            await wait_status(core, (await core.engine.submit(MODEL, {"prompt": f"warm-up {i}"})).id)
        job = await core.engine.submit(MODEL, {"prompt": "predicted"})
        past = await core.engine.parts.runs.expected(job)
        assert len(past) == 3 and 0.0 < min(past) <= max(past) < 2.0
        other = await core.engine.parts.runs.expected(job.evolve(model_id="another/model"))
        assert other == ()
        done = await wait_status(core, job.id)
        assert done.status is JobStatus.COMPLETED and result_requests(fake_server, done.request_id or "") >= 1
    finally:
        await core.close()


def _queued(position: int) -> Job:
    return Job(1, MODEL, {"prompt": "p"}, JobStatus.QUEUED, 0.0, 0.0, queue_position=position)


def test_a_queue_that_stands_still_is_asked_less_and_less_often() -> None:
    """Far back in a queue that has not moved for a minute, a poll every 30 s (RunComfy's client: every 5 s);
    a queue that moves, or a job near its head, is asked as before."""
    policy, rng = PollPolicy(jitter=0.0), random.Random(1)
    far = _queued(policy.near_positions + 40)
    assert policy.interval(far, rng) == policy.queued_far  # nothing known yet
    assert policy.interval(far, rng, still_for=4.0) == policy.queued_far
    assert policy.interval(far, rng, still_for=24.0) == 12.0
    assert policy.interval(far, rng, still_for=600.0) == policy.queued_max
    assert policy.interval(far, rng, speed=1.0, still_for=600.0) == min(policy.queued_max, max(policy.queued_far, 20.0))
    near = _queued(policy.near_positions)
    assert policy.interval(near, rng, still_for=600.0) == policy.queued_near


def test_the_queue_watch_gives_speed_or_stillness_from_positions_alone() -> None:
    """The follower's queue memory is pure: positions and the times they came, no I/O."""
    from seedream_tui.jobs.poll_policy import QueueWatch

    watch = QueueWatch()
    assert watch.observe(None, 0.0) == (None, None)
    assert watch.observe(40, 0.0) == (None, None)  # first seen
    assert watch.observe(40, 10.0) == (None, 10.0)  # stood still 10 s
    assert watch.observe(30, 20.0) == (0.5, None)  # 10 positions in 20 s
    assert watch.observe(50, 21.0) == (None, None)  # pushed back: counted from here again
    assert watch.observe(50, 25.0) == (None, 4.0)
