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
    running: float = 1.0  # per running job
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
    #: failed tries a job's download may have in all (every file, every kind of failure: slow, cut short,
    #: garbled, 5xx, network, refused) before the job fails with the reason; bytes: Downloader.retry_bytes
    download_attempts: int = 8

    #: a run-time prediction (from the history) lets a running job be asked rarely early on and often
    #: around its expected end: ``dense`` seconds apart from ``lead`` before the shortest past run, at most
    #: ``sparse_max`` apart before that; past the longest past run, back to ``running``
    dense: float = 1.0  # never more than one request a second for a job (the first benchmarks target)
    dense_wide: float = 1.2
    wide_window: float = 6.0
    lead: float = 1.5
    sparse_max: float = 30.0
    predict_min_samples: int = 3

    def interval(
        self,
        job: Job,
        rng: random.Random,
        speed: float | None = None,
        expected: tuple[float, float] | None = None,
        now: float | None = None,
        still_for: float | None = None,
    ) -> float:
        """Seconds until the next poll; jitter only lengthens it, so the rate targets hold.

        ``speed`` is how fast the job's queue position has been falling (positions per
        second): a job far back is asked only about half as often as it takes to come near.
        ``still_for`` is how long its position has not moved at all: a job far back in a queue that
        stands still is asked about half as often as it has stood still (up to ``queued_max``).
        ``expected`` is the (shortest, longest) run time of past jobs like this one.
        """
        if job.status is JobStatus.RUNNING:
            base = self.running
            if expected is not None and job.started_at is not None:
                shortest, longest = expected
                lead = self.lead
                # a wide window (run times that vary) is walked a little less densely: the delay stays
                # under a second on average while the requests do not grow with the spread
                step = self.dense if longest - shortest <= self.wide_window else self.dense_wide
                dense = min(step, self.running)
                elapsed = (time.time() if now is None else now) - job.started_at
                if elapsed < shortest - lead:
                    base = min(self.sparse_max, max(dense, shortest - lead - elapsed))
                elif elapsed <= longest + lead:
                    base = dense
        elif job.status is JobStatus.QUEUED:
            pos = job.queue_position or 0
            base = self.queued_near if pos <= self.near_positions else self.queued_far
            if pos > self.near_positions and speed:
                eta = (pos - self.near_positions) / speed
                base = min(self.queued_max, max(self.queued_far, eta / 2))
            elif pos > self.near_positions and still_for:
                base = min(self.queued_max, max(self.queued_far, still_for / 2))
        else:
            base = self.unknown
        return base * rng.uniform(1.0, 1.0 + self.jitter)

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
