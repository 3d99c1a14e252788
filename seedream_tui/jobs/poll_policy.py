"""How often to ask RunComfy about a job: a pure policy, a function of the job, what is known of its
queue and of past run times, and the clock. No I/O: unit-tested on its own (tests/test_poll_policy.py).

The follower (follower.py) feeds it; the ticker (engine_tick.py) rounds its waits up to a shared tick.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from seedream_tui.jobs.model import Job, JobStatus


@dataclass(frozen=True)
class PollPolicy:
    """How often to ask. Targets: a finished job is noticed within ~1 s; long queues cost little."""

    first: float = 0.5  # first poll after submit
    running: float = 4.5  # a running job with no past run like it and no other like it running
    queued_near: float = 1.5  # queued at position <= near_positions
    near_positions: int = 10
    queued_far: float = 5.0  # queued further back (at least this)
    queued_max: float = 30.0  # the longest wait between polls of a queued job
    unknown: float = 2.0
    jitter: float = 0.1  # up to +10 %
    #: every poller's wait ends on a multiple of this (seconds): the polls due in one tick share one wake-up
    #: of the event loop (see engine_tick); waits only grow, by less than a tick
    tick: float = 0.1
    backoff_base: float = 1.0  # on network trouble
    backoff_cap: float = 30.0
    lease: float = 30.0  # a lease whose heartbeat stood still this long (our monotonic clock) is taken over
    watch_interval: float = 5.0  # how often a job another instance polls is re-read from the history
    save_attempts: int = 4  # tries to write a submit's request id before it is kept in memory and journal only
    save_backoff: float = 0.25  # seconds before the second try, doubling
    unexpected_limit: int = 5  # answers in a row that the app cannot handle before the job fails with a sentence
    empty_result_retries: int = 1  # "completed" with no outputs is asked again this often before it fails
    download_attempts: int = 4  # tries of one file in a row
    download_rounds: int = 3  # rounds of such tries before a garbled file fails the job

    #: a running job with past run times of jobs like it (``expected``): asked rarely until shortly before
    #: the shortest of them, then every ``dense`` seconds; each past run time is a moment such a job may
    #: end, so the wait grows by ``grow`` times the time since the latest one passed (up to ``blind_max``).
    #: Few past run times say little of the spread: each is taken ``few`` of itself (divided by how many
    #: there are) earlier, besides ``lead``
    dense: float = 1.0  # never more than one request a second for a job (the first benchmarks target)
    dense_wide: float = 1.2
    wide_window: float = 6.0
    lead: float = 1.5
    few: float = 0.1
    grow: float = 0.1
    sparse_max: float = 30.0
    gap_max: float = 10.0  # the longest wait between past run times far apart
    predict_min_samples: int = 1  # past runs with the same options needed to predict (others never stand in)
    #: a running job with no past run like it (the first jobs of a model, or of its options): alone, it has
    #: nothing to learn from and is asked every ``running`` seconds (RunComfy's client: every 5 s); with
    #: others like it running (a batch), ``batch_first`` times that at first, then every ``blind_growth``
    #: of the time it has run, at most every ``blind_max`` seconds: the first of them to finish teach the
    #: rest (the follower plans again when one does), and the requests saved early pay for that
    batch_first: float = 1.1
    blind_growth: float = 0.4
    blind_max: float = 6.0

    def interval(
        self,
        job: Job,
        rng: random.Random,
        speed: float | None = None,
        expected: tuple[float, ...] | None = None,
        now: float | None = None,
        still_for: float | None = None,
        alone: bool = False,
    ) -> float:
        """Seconds until the next poll; jitter only lengthens it, so the rate targets hold.

        ``speed`` is how fast the job's queue position has been falling (positions per
        second): a job far back is asked only about half as often as it takes to come near.
        ``still_for`` is how long its position has not moved at all: a job far back in a queue that
        stands still is asked about half as often as it has stood still (up to ``queued_max``), yet never
        less often than every ``queued_far`` seconds per move it is from coming near.
        ``expected`` is the run times of past jobs like this one (any order; (shortest, longest) will do);
        ``alone``: no other job like it runs now.
        """
        if job.status is JobStatus.RUNNING:
            base = self.running
            if job.started_at is not None:
                elapsed = (time.time() if now is None else now) - job.started_at
                base = self.running_wait(elapsed, expected, alone)
        elif job.status is JobStatus.QUEUED:
            pos = job.queue_position or 0
            base = self.queued_near if pos <= self.near_positions else self.queued_far
            if pos > self.near_positions and speed:
                eta = (pos - self.near_positions) / speed
                base = min(self.queued_max, max(self.queued_far, eta / 2))
            elif pos > self.near_positions and still_for:
                base = min(self.queued_max, max(self.queued_far, still_for / 2),
                           self.queued_far * (pos - self.near_positions))
        else:
            base = self.unknown
        return base * rng.uniform(1.0, 1.0 + self.jitter)

    def running_wait(self, elapsed: float, expected: tuple[float, ...] | None, alone: bool = False) -> float:
        """The wait (before jitter) for a job that has run ``elapsed`` seconds (see the fields above)."""
        if not expected and alone:
            return self.running
        if not expected:
            return min(self.blind_max, max(self.running * self.batch_first, self.blind_growth * elapsed))
        runs = sorted(expected)
        # a wide window (run times that vary) is walked a little less densely: the delay stays
        # under a second on average while the requests do not grow with the spread
        step = min(self.dense if runs[-1] - runs[0] <= self.wide_window else self.dense_wide, self.running)
        # where a job like each past one may end: from its mark to as far after the past run
        margins = [self.lead + self.few * seconds / len(runs) for seconds in runs]
        marks = [seconds - margin for seconds, margin in zip(runs, margins, strict=True)]
        if elapsed < marks[0]:
            return min(self.sparse_max, max(step, marks[0] - elapsed))
        passed = max(mark for mark in marks if mark <= elapsed)
        ahead = [mark for mark in marks if mark > elapsed]
        near_one = any(seconds - margin <= elapsed <= seconds + margin
                       for seconds, margin in zip(runs, margins, strict=True))
        if ahead and not near_one and ahead[0] - elapsed > self.wide_window:
            # between past run times far apart (the same options took 30 s and 120 s): on to the next one
            return min(self.gap_max, max(step, ahead[0] - elapsed))
        return min(self.blind_max, max(step, self.grow * (elapsed - passed)))

    def backoff(self, failures: int, rng: random.Random, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_cap * 4) * rng.uniform(1.0, 1 + self.jitter)
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** max(0, failures - 1))
        return rng.uniform(ceiling / 2, ceiling)


@dataclass
class QueueWatch:
    """What one job's queue position has done since it was first seen there: how fast it falls, or how long
    it has stood still. Fed each answer's position with the (monotonic) time it came."""

    seen_at: float | None = None
    seen_position: int | None = None

    def observe(self, position: int | None, now: float) -> tuple[float | None, float | None]:
        """(speed in positions per second, seconds it has stood still): at most one of them is known."""
        if position is None:
            return None, None
        if self.seen_at is None or self.seen_position is None or position > self.seen_position:
            self.seen_at, self.seen_position = now, position  # first seen, or pushed back: counted from here
            return None, None
        if now > self.seen_at and position < self.seen_position:
            return (self.seen_position - position) / (now - self.seen_at), None
        return None, now - self.seen_at  # not moved since first seen there
