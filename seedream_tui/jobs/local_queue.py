"""The local queue: a batch's jobs wait in the history as ``pending`` rows and are sent as slots free.

A batch is written whole (``Core.submit_batch``: the batch row and every job, pending, in one transaction)
and this dispatcher, one per engine, sends them in queue order while fewer jobs are live than the limit
(settings ``max_live_jobs``, or the batch's own ``max_live``). Each send starts with an atomic claim in the
history (store_queue.claim_pending: pending -> submitting, holding this instance's lease, the pause, the
limit and the daily budget checked in the same transaction), so a pending job is sent once, by one instance,
even with several instances on one history; and none is lost: a quit or a crash leaves the rest pending, and
the next start (the TUI, or a CLI that follows jobs) sends them. A claimed row is sent by the submitter like
any submit (the request id made to survive, the job followed).

It wakes when a job ends (a slot frees), when it is kicked (a batch written, the queue resumed, a job moved
up) and every ``every`` seconds (another instance's jobs ended, the day turned, a budget changed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from seedream_tui.api.errors import ApiError, AuthError, BalanceError
from seedream_tui.jobs.job_writer import JobWriter
from seedream_tui.jobs.leases import LeaseKeeper
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.store import HistoryError
from seedream_tui.jobs.store_queue import DailyCap
from seedream_tui.jobs.submitter import RequestIdNotSaved, Submitter

log = logging.getLogger(__name__)

#: live jobs at once when the settings say nothing (``max_live_jobs``): enough that the server always has the
#: next job queued while one runs (RunComfy runs a few of an account's jobs at a time), few enough that a
#: batch noticed to be wrong is cancelled before much of it was paid for
DEFAULT_MAX_LIVE = 4


def local_midnight(now: float | None = None) -> float:
    """The start of the local calendar day (the daily budget's day, as ``seedream-tui spend``'s "today")."""
    moment = datetime.fromtimestamp(time.time() if now is None else now)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def daily_cap(usd: float, now: float | None = None) -> DailyCap:
    """The daily budget of ``usd`` for a claim made now, with the sentences a held job shows."""
    from seedream_tui.catalog.pricing import format_usd

    budget = f"the daily budget of {format_usd(usd)} (settings: daily_budget_usd)"
    return DailyCap(
        usd=usd,
        day_start=local_midnight(now),
        over=f"Held: sending it would pass {budget}; it is sent when the day turns or the budget is raised.",
        unknown=f"Held: its price is not known, so it cannot be kept within {budget}; it is sent once the "
                "daily budget is removed.",
    )


class LocalQueue:
    """Sends pending rows as slots free (see the module's text). Configured by its owner (``Core``): the
    limit, the daily budget, and how a pending row's stored inputs become what is sent (``prepare``)."""

    def __init__(
        self, leases: LeaseKeeper, submitter: Submitter, writer: JobWriter, *, every: float,
    ) -> None:
        self.leases = leases
        self.submitter = submitter
        self.writer = writer
        self.history = writer.history
        self.every = every
        #: the live-job limit for jobs whose batch has none of its own
        self.limit: Callable[[], int] = lambda: DEFAULT_MAX_LIVE
        #: the daily budget in dollars, None for none
        self.daily_budget: Callable[[], float | None] = lambda: None
        #: what is sent for a pending row (its stored inputs resolved: local images read again); raises with a
        #: sentence when it cannot be sent (the job then fails, not sent)
        self.prepare: Callable[[Job], Awaitable[dict[str, Any]]] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        #: claims made (jobs sent or being sent) by this instance: for tests and the bench
        self.claimed = 0

    # ------------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Send pending rows from now on (idempotent)."""
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="local-queue")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming (the rest stays pending for the next start); sends under way get ``grace`` seconds
        to be answered and their request ids saved, then are cancelled like a quit mid-submit (their rows
        settle as any submit cut short does: the request id journaled, or the outcome unknown)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        sending = list(self._sending)
        if sending:
            await asyncio.wait(sending, timeout=grace)
        for t in sending:
            t.cancel()
        for t in sending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._sending.clear()

    async def flush(self) -> int:
        """Send what may go now and wait until those sends are answered (their request ids saved): a command
        that does not follow the jobs can end then, leaving the rest pending. Returns how many were sent."""
        started = await self.dispatch()
        while self._sending:
            await asyncio.wait(list(self._sending))
        return started

    def kick(self) -> None:
        """Look at the queue now (a batch written, the queue resumed, a job moved, a budget changed)."""
        self._wake.set()

    def on_change(self, job: Job) -> None:
        """A listener of every job change: a job that ended frees a slot."""
        if job.status.terminal:
            self._wake.set()

    # ------------------------------------------------------------------ dispatching
    async def _run(self) -> None:
        while self._task is not None:  # stop() clears it: a cancellation lost in a wake-up still ends the loop
            self._wake.clear()
            try:
                await self.dispatch()
            except Exception:  # a busy history must not end the queue: the next wake tries again
                log.warning("sending pending jobs failed", exc_info=True)
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel that meets a wake-up
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.every):
                    await self._wake.wait()

    async def dispatch(self) -> int:
        """Claim every pending job that may go now and start sending each; returns how many."""
        started = 0
        while True:
            budget = self.daily_budget()
            claim = await self.leases.claim_pending(
                limit=max(1, self.limit()), base_url=self.submitter.client.base_url,
                daily=None if budget is None else daily_cap(budget),
            )
            for job_id in claim.held_changed:  # a hold set or lifted: the tables show it
                changed = await self.history.get(job_id)
                if changed is not None:
                    self.writer.emit(changed)
            if claim.job is None:
                return started
            self.claimed += 1
            started += 1
            task = asyncio.create_task(self._send(claim.job), name=f"send-pending-{claim.job.id}")
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, job: Job) -> None:
        try:
            sent = await self.prepare(job) if self.prepare is not None else dict(job.inputs)
        except Exception as exc:  # noqa: BLE001 - every reason not to send is a sentence on the job
            await self._not_sent(job, str(exc) or type(exc).__name__)
            return
        try:
            await self.submitter.submit_claimed(job, sent)
        except (AuthError, BalanceError) as exc:
            # every other pending job would be refused the same way: the queue waits for the user
            log.warning("job %s: %s; the local queue is paused", job.id, exc)
            with contextlib.suppress(HistoryError):
                await self.history.set_queue_paused(True)
        except (ApiError, RequestIdNotSaved):
            pass  # recorded on the job by the submitter (failed, unknown, or its request id kept for later)
        except Exception:
            log.exception("job %s: sending it from the local queue failed", job.id)

    async def _not_sent(self, job: Job, why: str) -> None:
        try:
            saved = await self.history.update_job(
                job.id, owner=self.leases.owner, status=JobStatus.FAILED, finished_at=time.time(),
                error=f"Not sent: {why}",
            )
        except HistoryError:
            log.exception("job %s: could not record why it was not sent", job.id)
            return
        self.writer.emit(saved)
