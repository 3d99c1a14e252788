"""One follower per live job: poll it while this instance holds its lease, else watch the history.

A follower asks ``/result`` (it answers the state until done, so completion costs no extra round trip) at
the interval the poll policy gives, waking on the shared tick; a semaphore caps requests in flight.
Network trouble pauses a job's polling with backoff, never fails it. Its polling state
(:class:`FollowState`) is a plain object anyone can read: what it knows, how often it failed, when it asks
next.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from seedream_tui.api.client import RunComfyClient
from seedream_tui.api.errors import ApiError, AuthError, DownloadError, NotFoundError
from seedream_tui.api.http import NO_RETRY
from seedream_tui.api.types import RemoteStatus, RequestState
from seedream_tui.jobs.engine_runs import RunTimes
from seedream_tui.jobs.engine_tick import Ticker
from seedream_tui.jobs.fetcher import Fetcher
from seedream_tui.jobs.job_writer import JobWriter
from seedream_tui.jobs.leases import LeaseKeeper, Stale, owner_is_dead
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.poll_policy import PollPolicy, QueueWatch
from seedream_tui.jobs.store import HistoryError, Lease
from seedream_tui.jobs.submitter import UNKNOWN_SUBMIT

log = logging.getLogger("seedream_tui.jobs.engine")

EXPIRED = "RunComfy no longer knows this request: it expired or was deleted."


class EmptyCompletion(Exception):
    """``completed`` with no outputs listed (see ``PollPolicy.empty_result_retries``)."""


@dataclass
class Parts:
    """What every follower shares with the engine."""

    writer: JobWriter
    leases: LeaseKeeper
    fetcher: Fetcher
    runs: RunTimes
    policy: PollPolicy
    rng: random.Random
    ticker: Ticker
    slots: asyncio.Semaphore
    client_for: Callable[[Job], RunComfyClient]
    #: requests sent by every follower
    polls: int = 0


@dataclass
class FollowState:
    """A follower's polling state, inspectable from outside (tests, a debug view)."""

    polling: bool = False  # this instance holds the lease and polls; else it watches the history
    polls: int = 0  # requests this follower sent
    failures: int = 0  # network trouble in a row
    unexpected: int = 0  # answers it could not handle, in a row
    bad_downloads: int = 0  # rounds of cut-short or garbled files
    empty: int = 0  # "completed" answers that listed no outputs
    delay: float = 0.0  # the wait before the next poll (seconds)
    expected: tuple[float, ...] | None = None  # run times of past jobs like it; () = none known
    running_seen: float | None = None  # when an answer last said it runs (unix time)
    queue: QueueWatch = field(default_factory=QueueWatch)
    watched: tuple[Lease, float] | None = None  # another holder's lease as first seen, and when


class Follower:
    def __init__(self, parts: Parts, job: Job) -> None:
        self.parts = parts
        self.job = job
        self.state = FollowState()
        self.history = parts.writer.history
        #: the running job as counted in ``RunTimes`` (see ``_counted``)
        self._counted_as: Job | None = None

    # ------------------------------------------------------------------ run
    async def run(self, running: Callable[[], bool]) -> None:
        """Follow the job until it is final: poll it while this instance holds its lease, otherwise watch
        the history (another instance polls it) and take the lease over once its holder's heartbeat has
        stood still for a whole lease on this process's own monotonic clock (or its process is gone)."""
        p, state = self.parts, self.state
        trouble = 0
        while running():
            try:
                fresh = await self.history.get(self.job.id)
                if fresh is None:
                    return
                if fresh != self.job:
                    p.writer.emit(fresh)  # learned from the history: another instance's progress, or a cancel
                self.job = fresh
                if fresh.status.terminal:
                    return
                lease = await self.history.lease(fresh.id)
                if lease is None:
                    return
                if lease.owner != p.leases.owner or not p.leases.holds(fresh.id):
                    state.polling = False
                    if not await self._take_over(lease):
                        await asyncio.sleep(min(p.policy.watch_interval, p.policy.lease / 3) * p.rng.uniform(1.0, 1.1))
                    continue  # re-read as the lease holder
                trouble = 0
                state.polling = True
                try:
                    await self._drive(running)
                finally:
                    self._counted(None)
                return
            except Stale as exc:
                self.job = exc.current  # someone else wrote the row: decide again from what it says now
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one guard: nothing kills a follower (a busy history, a bug)
                trouble += 1
                log.exception("job %s: following it failed (%s); trying again", self.job.id, exc)
                await asyncio.sleep(p.policy.backoff(trouble, p.rng))

    async def _take_over(self, lease: Lease) -> bool:
        """Claim the lease if it is free, ours, or its holder is dead or has stood still for a whole lease."""
        p, state = self.parts, self.state
        expired: Lease | None = None
        if lease.owner is not None and lease.owner != p.leases.owner:
            now = time.monotonic()
            if owner_is_dead(lease.owner):
                expired = lease
            elif state.watched is None or state.watched[0] != lease:
                state.watched = (lease, now)
            elif now - state.watched[1] >= p.policy.lease:
                expired = lease
            if expired is None:
                return False
        if not await p.leases.claim(self.job.id, expired=expired):
            return False
        state.watched = None
        return True

    async def _drive(self, running: Callable[[], bool]) -> None:
        """Poll (and download) a job whose lease this instance holds, until it is final."""
        p, state = self.parts, self.state
        job = self.job
        state.delay = p.policy.first if job.status is JobStatus.QUEUED else 0.0
        while running():
            if state.delay and job.status is JobStatus.RUNNING:
                await self._nap(state.delay)
            elif state.delay:
                await p.ticker.sleep(state.delay)
            state.delay = 0.0
            try:
                job = self.job = await self.step(job)
                state.failures = state.unexpected = 0
            except (Stale, asyncio.CancelledError, HistoryError):
                raise  # a busy history or a newer write: the follow loop re-reads and decides again
            except Exception as exc:
                # the step may have written before it failed (e.g. completed -> downloading): go on from the row
                job = self.job = await p.writer.current(job)
                job = self.job = await self._failed_step(job, exc)
                if job.status.terminal:
                    return
                continue
            if job.status.terminal:
                return
            speed = still_for = None
            if job.status is JobStatus.QUEUED:
                speed, still_for = state.queue.observe(job.queue_position, time.monotonic())
            self._counted(job if job.status is JobStatus.RUNNING else None)
            if job.status is JobStatus.RUNNING:  # kept in memory: asked again as jobs like it finish
                state.expected = await p.runs.expected(job)
            state.delay = p.policy.interval(job, p.rng, speed, state.expected or None, still_for=still_for,
                                            alone=p.runs.alone(job))

    def _counted(self, job: Job | None) -> None:
        """Count the job among the running ones like it (``RunTimes.alone``) while it runs, once."""
        if job is not None and self._counted_as is None:
            self.parts.runs.started(job)
            self._counted_as = job
        elif job is None and self._counted_as is not None:
            self.parts.runs.stopped(self._counted_as)
            self._counted_as = None

    async def _nap(self, delay: float) -> None:
        """Wait ``delay`` seconds before asking about a running job, or less: when a job of the same model
        is seen completed meanwhile, what it took may bring this one's next poll nearer."""
        p, state = self.parts, self.state
        loop = asyncio.get_running_loop()
        until = loop.time() + delay
        while (left := until - loop.time()) > 0:
            nap = asyncio.ensure_future(p.ticker.sleep(left))
            try:
                await asyncio.wait((nap, p.runs.news(self.job.model_id)), return_when=asyncio.FIRST_COMPLETED)
            finally:
                nap.cancel()
            if nap.done() and not nap.cancelled():
                return
            state.expected = await p.runs.expected(self.job)
            wait = p.policy.interval(self.job, p.rng, expected=state.expected or None, alone=p.runs.alone(self.job))
            until = min(until, loop.time() + wait)

    async def _failed_step(self, job: Job, exc: Exception) -> Job:
        """Decide what a failed step means for the job: retry later (``state.delay``), or a final status."""
        p, state = self.parts, self.state
        policy = p.policy
        if isinstance(exc, EmptyCompletion):
            state.empty += 1
            if state.empty > policy.empty_result_retries:
                return await p.writer.save(job, status=JobStatus.FAILED, finished_at=time.time(), queue_position=None,
                                           error="RunComfy reports the job completed but returned no output files.")
            state.delay = policy.running
        elif isinstance(exc, NotFoundError):
            return await p.writer.save(job, status=JobStatus.EXPIRED, queue_position=None, finished_at=time.time(),
                                       error=EXPIRED)
        elif isinstance(exc, AuthError):
            state.failures += 1
            job = await p.writer.note_trouble(job, str(exc))
            state.delay = max(30.0, policy.backoff(state.failures, p.rng))
        elif isinstance(exc, DownloadError) and (
            exc.kind == "permanent" or state.bad_downloads + (exc.kind == "integrity") > policy.download_rounds
        ):
            job = await p.fetcher.refresh_outputs(job, exc)
            state.bad_downloads = 0
        elif isinstance(exc, ApiError):  # network trouble, a garbled file, 5xx, 429: wait and ask again
            state.bad_downloads += isinstance(exc, DownloadError) and exc.kind == "integrity"
            state.failures += 1
            job = await p.writer.note_trouble(job, str(exc))
            state.delay = policy.backoff(state.failures, p.rng, getattr(exc, "retry_after", None))
        else:  # any other answer we cannot handle: bounded retries, then a clear error
            state.unexpected += 1
            log.exception("job %s: unexpected failure while polling", job.id)
            what = _describe(exc)
            if state.unexpected >= policy.unexpected_limit:
                return await p.writer.save(
                    job, status=JobStatus.FAILED, finished_at=time.time(), queue_position=None,
                    error=f"The app could not handle RunComfy's answers for this job ({what}). "
                          "Details are in the log file.")
            job = await p.writer.note_trouble(job, f"an answer the app could not handle ({what}); retrying")
            state.delay = policy.backoff(state.unexpected, p.rng)
        return job

    # ----------------------------------------------------------------- step
    async def step(self, job: Job, state: RequestState | None = None) -> Job:
        """One step for a job this instance holds: settle a cut submit, download, or ask RunComfy once
        (``state``: an answer already had) and write what it says."""
        p = self.parts
        await p.leases.hold(job)
        if job.status is JobStatus.SUBMITTING:
            return await self._settle_submitting(job)
        if job.status is JobStatus.DOWNLOADING:
            return await p.fetcher.download_all(job)
        if state is None:
            async with p.slots:
                p.polls += 1
                self.state.polls += 1
                state = await p.client_for(job).result(job.request_id or "", include_cost=True, retry=NO_RETRY)
        return await self._apply(job, state)

    async def _settle_submitting(self, job: Job) -> Job:
        """A row left SUBMITTING by a stopped instance: the submit was cut between send and answer.

        Never resubmitted blindly (no idempotency key): without a request id it becomes UNKNOWN with
        the dashboard sentence; with one, it is simply polled.
        """
        if job.request_id is None:
            return await self.parts.writer.save(job, status=JobStatus.UNKNOWN, error=UNKNOWN_SUBMIT,
                                                finished_at=time.time())
        return await self.parts.writer.save(job, status=JobStatus.QUEUED)

    async def _apply(self, job: Job, state: RequestState) -> Job:
        writer = self.parts.writer
        changes: dict[str, Any] = {}
        if job.error and job.error.startswith("Waiting: "):
            changes["error"] = None
        status = state.status
        if status is RemoteStatus.IN_QUEUE or status is RemoteStatus.WAITING:
            if job.status is not JobStatus.QUEUED:
                changes["status"] = JobStatus.QUEUED
            if state.queue_position != job.queue_position:
                changes["queue_position"] = state.queue_position
            if status is RemoteStatus.WAITING and not _plainly_waiting(state):  # unreadable: keep asking, say so
                text = f"Waiting: {_unknown_status(state)}"
                if job.error == text:
                    changes.pop("error", None)
                else:
                    changes["error"] = text
        elif status is RemoteStatus.IN_PROGRESS:
            self.state.running_seen = time.time()
            if job.status is not JobStatus.RUNNING:
                changes.update(status=JobStatus.RUNNING, queue_position=None, started_at=job.started_at or time.time())
        elif status is RemoteStatus.FAILED:
            changes.update(status=JobStatus.FAILED, error=state.error, queue_position=None, finished_at=time.time())
        elif status is RemoteStatus.CANCELLED:
            changes.update(status=JobStatus.CANCELLED, queue_position=None, finished_at=time.time())
        elif status is RemoteStatus.COMPLETED:
            if not state.outputs:
                raise EmptyCompletion  # an answer written before its outputs were: ask once more first
            # finished_at: when RunComfy finished it, at best known (between the last answer that said it
            # ran and this one), not when its files are saved; what past run times are measured from
            seen = time.time()
            ran = self.state.running_seen
            if state.note:
                changes["note"] = state.note
            changes.update(status=JobStatus.DOWNLOADING, queue_position=None, cost=state.cost,
                           started_at=job.started_at or seen,
                           finished_at=(ran + seen) / 2 if ran is not None and job.started_at is not None else seen)
            job = await writer.set_outputs(job, state.outputs, changes)  # the URLs and the status: one write
            changes = {}
            self.parts.runs.completed(job)
        if set(changes) == {"queue_position"}:
            # a queue move alone is not worth a disk write: tell the UI, persist with the next real change
            job = job.evolve(**changes)
            writer.emit(job)
        elif changes:
            job = await writer.save(job, **changes)
        if job.status is JobStatus.DOWNLOADING:
            job = await self.parts.fetcher.download_all(job)
        return job


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


#: status words other backends use for "not started yet": waiting, and nothing worth a sentence
_WAITING_WORDS = frozenset({"pending", "starting", "waiting", "submitted", "created", "scheduled", "preparing"})


def _plainly_waiting(state: RequestState) -> bool:
    word = (state.raw_status or "").strip().lower()
    return word in _WAITING_WORDS


def _unknown_status(state: RequestState) -> str:
    raw = state.raw.get("status") if isinstance(state.raw, dict) else None
    shown = repr(raw)[:60] if raw is not None else "none"
    return f"RunComfy reports a status this app does not know ({shown}); it keeps checking."
