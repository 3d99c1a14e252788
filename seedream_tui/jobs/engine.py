"""The polling engine: one per app, for every live job.

Data flows one way: submit -> persist -> poll -> persist each change -> notify.
Each live job has a small asyncio task that polls ``/result`` (it answers the state
until done, so completion costs no extra round trip) at an adaptive interval, waking
on a shared tick (engine_tick); a semaphore caps requests in flight. Network trouble pauses a job's polling with
backoff, never fails it. A job is only polled by the instance holding its lease in
the history, so two app instances never poll one job twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from seedream_tui.api.client import RunComfyClient
from seedream_tui.api.errors import (
    ApiError,
    AuthError,
    DownloadError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    SubmitOutcomeUnknown,
)
from seedream_tui.api.http import NO_RETRY
from seedream_tui.api.types import RemoteStatus, RequestState, SubmitResult
from seedream_tui.jobs.downloads import Downloader
from seedream_tui.jobs.engine_runs import RunTimes
from seedream_tui.jobs.engine_tick import Ticker
from seedream_tui.jobs.journal import Entry
from seedream_tui.jobs.model import Job, JobStatus, OutputFile
from seedream_tui.jobs.store import AsyncHistory, HistoryError, Lease, StaleJobError
from seedream_tui.proc import pid_alive

log = logging.getLogger(__name__)

Listener = Callable[[Job], None]

UNKNOWN_SUBMIT = "The app stopped or lost the connection while submitting: check the RunComfy dashboard."


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
    download_attempts: int = 4  # tries of one file in a row
    download_rounds: int = 3  # rounds of such tries before a garbled file fails the job

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


class _Stale(Exception):
    """A write was refused (see StaleJobError): re-read the row and decide again from the truth."""

    def __init__(self, current: Job) -> None:
        super().__init__(current.id)
        self.current = current


class RequestIdNotSaved(HistoryError):
    """RunComfy took a paid job but the history could not record its request id: the sentence names it."""

    #: like an unknown submit outcome: the job exists and is paid; a scripted retry must not submit again
    exit_code = 5

    def __init__(self, job_id: int, request_id: str, reason: str, journal: str | None) -> None:
        kept = (f"It was kept in {journal}" if journal else "It could not be written anywhere, so note it now") + (
            "; the app keeps trying to save it while it runs"
        )
        super().__init__(
            f"RunComfy accepted job {job_id} as request {request_id}, but the job history could not be "
            f"written ({reason.rstrip('.')}). {kept}. Once the history can be written, follow it with: "
            f"seedream-tui status {request_id}"
        )
        self.job_id = job_id
        self.request_id = request_id


class JobEngine:
    def __init__(
        self,
        client: RunComfyClient,
        history: AsyncHistory,
        downloader: Downloader,
        *,
        policy: PollPolicy | None = None,
        max_in_flight: int = 8,
        owner: str | None = None,
        rng: random.Random | None = None,
        pin_base_url: bool = False,
    ) -> None:
        self.client = client
        self.history = history
        self.downloader = downloader
        self.policy = policy or PollPolicy()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(max_in_flight)
        self._ticker = Ticker(self.policy.tick)
        self._runs = RunTimes(history, min_samples=self.policy.predict_min_samples)
        self._tasks: dict[int, asyncio.Task[None]] = {}
        #: rows this engine is submitting right now (their follower starts once the answer is in)
        self._submitting: set[int] = set()
        #: request ids RunComfy gave us that the history could not take yet (job id -> request id)
        self._unsaved: dict[int, str] = {}
        self._listeners: list[Listener] = []
        self._running = False
        self._background: list[asyncio.Task[None]] = []
        self._heart: asyncio.Task[None] | None = None
        #: the jobs whose lease the last heartbeat renewed, and when it was sent (monotonic)
        self._owned: set[int] = set()
        self._beat_at = -1e9
        self._beat_lock = asyncio.Lock()
        #: every row is polled at the current base URL (the demo: one server per demo home, whatever
        #: port it had when the row was made); otherwise each job is polled where it was submitted
        self.pin_base_url = pin_base_url
        self._clients: dict[str, RunComfyClient] = {}
        #: requests sent by pollers (for benchmarks)
        self.poll_requests = 0
        #: start() was called: live jobs are followed (not so for a CLI run that only asks once)
        self._started = False

    # --------------------------------------------------------------- events
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, job: Job) -> None:
        for listener in list(self._listeners):
            try:
                listener(job)
            except Exception:  # a broken listener must not stop polling
                log.exception("job listener failed")

    def announce(self, job: Job) -> None:
        """Tell every listener about ``job`` (a row made outside the engine, e.g. an adopted request)."""
        self._emit(job)

    async def _save(self, job: Job, **changes: Any) -> Job:
        """Write ``changes`` only if the row is still the copy we hold and we still hold its lease."""
        try:
            saved = await self.history.update_job(job.id, expect_version=job.version, owner=self.owner, **changes)
        except StaleJobError as exc:
            raise _Stale(exc.current) from None
        _log_change(job, saved)
        self._emit(saved)
        return saved

    async def _settle(self, job_id: int, *, only_from: frozenset[JobStatus] | None = None, **changes: Any) -> Job | None:
        """Write a fact learned outside the poller (a cancel's answer) onto whatever the row is now,
        unless the row is already final (or not in ``only_from``). Compare-and-set in a loop: never over a
        newer write."""
        for _ in range(20):
            current = await self.history.get(job_id)
            if current is None or current.status.terminal or (only_from and current.status not in only_from):
                return current
            try:
                saved = await self.history.update_job(job_id, expect_version=current.version, **changes)
            except StaleJobError:
                continue
            self._emit(saved)
            return saved
        return await self.history.get(job_id)

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> list[Job]:
        """Resume every non-terminal job in history. Returns them."""
        self._running = True
        self._started = True
        self._ensure_heartbeat()
        for job in await self.history.replay_journal():
            log.warning("job %s: request id %s restored from the journal", job.id, job.request_id)
        for owner in await self.history.lease_owners():
            if owner != self.owner and _owner_is_dead(owner):
                await self.history.release_claims(owner)  # a crashed instance on this machine: take over now
        live = await self.history.live_jobs()
        for job in live:
            # SUBMITTING rows are settled by their follower once it holds the lease (see _settle_submitting):
            # a row another live instance is submitting holds that instance's beating lease, so it is left alone
            self._track(job)
        self._background.append(asyncio.create_task(self._adopt_new_rows(), name="adopt-live-jobs"))
        return live

    def _ensure_heartbeat(self) -> None:
        self._running = True
        if self._heart is None or self._heart.done():
            self._heart = asyncio.create_task(self._beat(), name="lease-heartbeat")

    async def _beat(self) -> None:
        """Renew every lease this engine holds, whatever its jobs are doing (submit, poll, download)."""
        while self._running:
            try:
                await self._beat_once()
            except Exception:  # a busy history: the next beat comes soon, and the lease is 3 beats long
                log.warning("lease heartbeat failed", exc_info=True)
            await asyncio.sleep(self.policy.lease / 3)

    async def _beat_once(self) -> None:
        async with self._beat_lock:
            sent = time.monotonic()
            self._owned = set(await self.history.heartbeat(self.owner))
            self._beat_at = sent

    async def _hold(self, job: Job) -> None:
        """Before each request made for a job: make sure this engine still holds its lease. After a long
        pause (the process was suspended, the machine slept) the heartbeat is renewed first, which tells
        whether another instance took the job over meanwhile; if so, this one stops polling it (_Stale)."""
        if time.monotonic() - self._beat_at > self.policy.lease / 2:
            await self._beat_once()
        if job.id not in self._owned:
            raise _Stale(await self._current(job))

    async def _adopt_new_rows(self) -> None:
        """Pick up live rows another app instance created after our start.

        Their owner holds the lease, so we only follow them through the history (and
        show their progress); if that instance dies, its lease runs out and we poll them.
        """
        while self._running:
            await asyncio.sleep(self.policy.lease / 3)
            try:
                for job in await self.history.live_jobs():
                    self._track(job)
            except Exception:  # a busy database must not end the loop
                log.warning("looking for new live jobs failed", exc_info=True)

    async def stop(self) -> None:
        """Stop polling; live jobs stay live in history for the next start."""
        self._running = False
        tasks = [*self._background, *([self._heart] if self._heart else []), *self._tasks.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._background.clear()
        self._heart = None
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.history.release_claims(self.owner)

    @property
    def live_count(self) -> int:
        return len(self._tasks)

    def is_following(self, job_id: int) -> bool:
        """True while a task of this engine polls (or follows) the job."""
        task = self._tasks.get(job_id)
        return task is not None and not task.done()

    def _track(self, job: Job) -> None:
        if not self._running or job.id in self._tasks or job.id in self._submitting:
            return
        task = asyncio.create_task(self._follow(job), name=f"poll-job-{job.id}")
        self._tasks[job.id] = task
        task.add_done_callback(lambda _t: self._forget(job.id, _t))

    def forget(self, job_id: int) -> None:
        """Stop polling one job (it was cancelled, or is being deleted)."""
        task = self._tasks.pop(job_id, None)
        if task is not None:
            task.cancel()

    def _forget(self, job_id: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(job_id) is task:
            del self._tasks[job_id]
        if not task.cancelled() and task.exception() is not None:  # the guards should make this unreachable
            log.error("the poller of job %s ended with an error", job_id, exc_info=task.exception())

    async def wait_for(self, job_id: int, *, check_every: float = 2.0) -> Job | None:
        """The job once it is final, whoever settled it (this engine, or another instance through the
        history). Events wake the waiter early; the history is read every ``check_every`` seconds."""
        changed = asyncio.Event()
        unsubscribe = self.subscribe(lambda job: changed.set() if job.id == job_id else None)
        try:
            while True:
                job = await self.history.get(job_id)
                if job is None or job.status.terminal:
                    return job
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), check_every)
        finally:
            unsubscribe()

    # ---------------------------------------------------------------- clients
    def client_for(self, job: Job) -> RunComfyClient:
        """The client for the API the job was submitted to (its row's base URL)."""
        base = (job.base_url or "").rstrip("/")
        if self.pin_base_url or not base or base == self.client.base_url:
            return self.client
        client = self._clients.get(base)
        if client is None:
            client = self.client.for_base_url(base)
            self._clients[base] = client
        return client

    # ---------------------------------------------------------------- submit
    async def submit(self, model_id: str, inputs: dict[str, Any], *, sent: dict[str, Any] | None = None) -> Job:
        """Write the row (holding ``inputs``), send the submit (``sent`` when given: the inputs with their images
        resolved, not kept in the row), record the request id, start polling.

        Raises the ApiError after recording it on the job (failed, or unknown when the
        answer was lost). Only a submit that surely never arrived (connection refused,
        429) is sent again, a few times. The row is born holding this engine's lease, and the
        heartbeat keeps it through the submit, so no other instance settles it meanwhile.
        """
        self._ensure_heartbeat()
        job = await self.history.create_job(model_id, inputs, base_url=self.client.base_url, owner=self.owner)
        self._owned.add(job.id)
        self._submitting.add(job.id)
        try:
            self._emit(job)
            answer = await self._send_submit(job, model_id, inputs if sent is None else sent)
            job = await self._keep_request_id(job, answer.request_id)
        finally:
            # only now: until the request id is saved, a start() or adopter reading the row sees SUBMITTING
            # and must leave it alone (its follower would settle a row with no request id as UNKNOWN); one
            # whose id is still only in memory stays so until _save_later has written it
            if job.id not in self._unsaved:
                self._submitting.discard(job.id)
        self._track(job)
        return job

    async def _send_submit(self, job: Job, model_id: str, inputs: dict[str, Any]) -> SubmitResult:
        """The row has no request id yet: only this engine knows the submit's outcome, so its failure
        writes are unconditional (they correct even a row another instance settled meanwhile)."""
        failures = 0
        while True:
            try:
                return await self.client.submit(model_id, inputs)
            except SubmitOutcomeUnknown as exc:
                await self._write_outcome(job, status=JobStatus.UNKNOWN, error=str(exc), finished_at=time.time())
                raise
            except (RateLimitedError, NetworkError) as exc:
                failures += 1
                if failures >= 3:
                    await self._write_outcome(job, status=JobStatus.FAILED, error=f"Not sent: {exc}",
                                              finished_at=time.time())
                    raise
                await asyncio.sleep(self.policy.backoff(failures, self._rng, getattr(exc, "retry_after", None)))
            except ApiError as exc:
                await self._write_outcome(job, status=JobStatus.FAILED, error=f"Not accepted: {exc}",
                                          finished_at=time.time())
                raise

    async def _write_outcome(self, job: Job, **changes: Any) -> None:
        log.warning("job %s: submit ended %s: %s", job.id, changes.get("status"), changes.get("error"))
        try:
            self._emit(await self.history.update_job(job.id, durable=True, **changes))
        except HistoryError:
            log.exception("job %s: the submit's outcome could not be written", job.id)

    async def _keep_request_id(self, job: Job, request_id: str) -> Job:
        """Make the request id survive: journal first (synced), then the row, retried; else keep it in
        memory, keep trying, and say it in the error."""
        now = time.time()
        journal: str | None = str(self.history.store.journal.path)
        try:
            await asyncio.to_thread(self.history.store.journal.append,
                                    Entry(job.id, request_id, job.model_id, now))
        except OSError as exc:
            journal = None
            log.error("job %s: request id %s could not be journaled: %s", job.id, request_id, exc)
        reason = ""
        for attempt in range(self.policy.save_attempts):
            try:
                saved = await self.history.record_request_id(job.id, request_id, self.owner, submitted_at=now)
            except StaleJobError as exc:  # it already has this or another request id: nothing to add
                saved = exc.current
            except HistoryError as exc:
                reason = str(exc)
                log.warning("job %s: saving request id %s failed (attempt %d): %s",
                            job.id, request_id, attempt + 1, exc)
                await asyncio.sleep(self.policy.save_backoff * 2**attempt)  # each try also waits the busy timeout
                continue
            self._owned.add(job.id)
            self._emit(saved)
            return saved
        log.error("job %s: request id %s is not in the history yet: %s", job.id, request_id, reason)
        self._unsaved[job.id] = request_id
        self._background.append(asyncio.create_task(self._save_later(job.id, request_id), name=f"save-{job.id}"))
        raise RequestIdNotSaved(job.id, request_id, reason, journal)

    async def _save_later(self, job_id: int, request_id: str) -> None:
        while self._running and job_id in self._unsaved:
            await asyncio.sleep(self.policy.backoff_cap / 6)
            try:
                saved = await self.history.record_request_id(job_id, request_id, self.owner, submitted_at=time.time())
            except StaleJobError as exc:
                saved = exc.current
            except Exception:
                continue
            self._unsaved.pop(job_id, None)
            self._submitting.discard(job_id)
            self._owned.add(job_id)
            log.info("job %s: request id %s saved to the history at last", job_id, request_id)
            self._emit(saved)
            self._track(saved)

    # ---------------------------------------------------------------- cancel
    async def cancel(self, job_id: int) -> str:
        job = await self.history.get(job_id)
        if job is None:
            return "That job is no longer in the history."
        if job.status.terminal:
            return f"The job is already {job.status.label}."
        if job.request_id is None:
            return "The job is still being submitted; try again in a moment."
        if job.status in (JobStatus.RUNNING, JobStatus.DOWNLOADING):
            return "The job is already running; RunComfy cannot cancel a running job."
        try:
            result = await self.client_for(job).cancel(job.request_id)
        except NotFoundError:
            await self._settle(job.id, status=JobStatus.EXPIRED, error="RunComfy no longer knows this request.")
            return "RunComfy no longer knows this request; it is marked expired."
        except ApiError as exc:
            return f"Could not cancel: {exc}"
        if result.cancelled:
            await self._settle(job.id, status=JobStatus.CANCELLED, queue_position=None, finished_at=time.time())
            self.forget(job.id)
            return "Cancelled."
        if result.status is RemoteStatus.IN_PROGRESS:
            await self._settle(job.id, only_from=frozenset({JobStatus.QUEUED}), status=JobStatus.RUNNING,
                               queue_position=None)
        return "The job has already started; RunComfy cannot cancel a running job."

    # ---------------------------------------------------------------- polling
    async def _follow(self, job: Job) -> None:
        """Follow one job until it is final: poll it while this engine holds its lease, otherwise watch
        the history (another instance polls it) and take the lease over once its holder's heartbeat has
        stood still for a whole lease on this process's own monotonic clock (or its process is gone)."""
        watched: tuple[Lease, float] | None = None
        trouble = 0
        while self._running:
            try:
                fresh = await self.history.get(job.id)
                if fresh is None:
                    return
                if fresh != job:
                    self._emit(fresh)  # learned from the history: another instance's progress, or a cancel
                job = fresh
                if job.status.terminal:
                    return
                lease = await self.history.lease(job.id)
                if lease is None:
                    return
                if lease.owner != self.owner:
                    expired: Lease | None = None
                    if lease.owner is not None:
                        now = time.monotonic()
                        if _owner_is_dead(lease.owner):
                            expired = lease
                        elif watched is None or watched[0] != lease:
                            watched = (lease, now)
                        elif now - watched[1] >= self.policy.lease:
                            expired = lease
                        if expired is None:
                            await asyncio.sleep(min(self.policy.watch_interval, self.policy.lease / 3) * self._rng.uniform(1.0, 1.1))
                            continue
                    if not await self.history.try_claim(job.id, self.owner, expired=expired):
                        continue
                    self._owned.add(job.id)
                    watched = None
                    continue  # re-read as the lease holder
                trouble = 0
                await self._drive(job)
                return
            except _Stale as exc:
                job = exc.current  # someone else wrote the row: decide again from what it says now
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one guard: nothing kills a poller (a busy history, a bug)
                trouble += 1
                log.exception("job %s: following it failed (%s); trying again", job.id, exc)
                await asyncio.sleep(self.policy.backoff(trouble, self._rng))

    async def _drive(self, job: Job) -> None:
        """Poll (and download) a job whose lease this engine holds, until it is final."""
        failures = 0
        unexpected = 0
        bad_downloads = 0  # rounds of cut-short or garbled files
        empty = 0  # "completed" answers that listed no outputs
        delay = self.policy.first if job.status is JobStatus.QUEUED else 0.0
        seen: tuple[float, int] | None = None  # (time, queue position) of the first poll in the queue
        expected: tuple[float, float] | tuple[()] | None = None  # run time of past jobs like it; () = unknown
        while self._running:
            if delay:
                await self._ticker.sleep(delay)
            delay = 0.0
            try:
                job = await self._step(job, empty)
                failures = unexpected = 0
            except (_Stale, asyncio.CancelledError, HistoryError):
                raise  # a busy history or a newer write: the follow loop re-reads and decides again
            except Exception as exc:
                # the step may have written before it failed (e.g. completed -> downloading): go on from the row
                job = await self._current(job)
                if isinstance(exc, _EmptyCompletion):
                    empty += 1
                    if empty > self.policy.empty_result_retries:
                        await self._save(job, status=JobStatus.FAILED, finished_at=time.time(), queue_position=None,
                                         error="RunComfy reports the job completed but returned no output files.")
                        return
                    delay = self.policy.running
                elif isinstance(exc, NotFoundError):
                    await self._save(job, status=JobStatus.EXPIRED, queue_position=None, finished_at=time.time(),
                                     error="RunComfy no longer knows this request: it expired or was deleted.")
                    return
                elif isinstance(exc, AuthError):
                    failures += 1
                    job = await self._note_trouble(job, str(exc))
                    delay = max(30.0, self.policy.backoff(failures, self._rng))
                elif isinstance(exc, DownloadError) and (
                    exc.kind == "permanent" or bad_downloads + (exc.kind == "integrity") > self.policy.download_rounds
                ):
                    job = await self._refresh_outputs(job, exc)
                    bad_downloads = 0
                    if job.status.terminal:
                        return
                elif isinstance(exc, ApiError):  # network trouble, a garbled file, 5xx, 429: wait and ask again
                    bad_downloads += isinstance(exc, DownloadError) and exc.kind == "integrity"
                    failures += 1
                    job = await self._note_trouble(job, str(exc))
                    delay = self.policy.backoff(failures, self._rng, getattr(exc, "retry_after", None))
                else:  # any other answer we cannot handle: bounded retries, then a clear error
                    unexpected += 1
                    log.exception("job %s: unexpected failure while polling", job.id)
                    what = _describe(exc)
                    if unexpected >= self.policy.unexpected_limit:
                        await self._save(job, status=JobStatus.FAILED, finished_at=time.time(), queue_position=None,
                                         error=f"The app could not handle RunComfy's answers for this job ({what}). "
                                               "Details are in the log file.")
                        return
                    job = await self._note_trouble(job, f"an answer the app could not handle ({what}); retrying")
                    delay = self.policy.backoff(unexpected, self._rng)
                continue
            if job.status.terminal:
                return
            speed = still_for = None
            if job.status is JobStatus.QUEUED and job.queue_position is not None:
                now = time.monotonic()
                if seen is None or job.queue_position > seen[1]:
                    seen = (now, job.queue_position)  # first seen, or pushed back: counted from here
                elif now > seen[0] and job.queue_position < seen[1]:
                    speed = (seen[1] - job.queue_position) / (now - seen[0])
                else:
                    still_for = now - seen[0]  # not moved since first seen there
            if job.status is JobStatus.RUNNING and expected is None:
                expected = await self._expected_run(job)
            delay = self.policy.interval(job, self._rng, speed, expected or None, still_for=still_for)

    async def _step(self, job: Job, empty: int) -> Job:
        await self._hold(job)
        if job.status is JobStatus.SUBMITTING:
            return await self._settle_submitting(job)
        if job.status is JobStatus.DOWNLOADING:
            return await self._download_all(job)
        async with self._slots:
            self.poll_requests += 1
            state = await self.client_for(job).result(job.request_id or "", include_cost=True, retry=NO_RETRY)
        return await self._apply(job, state)

    async def _expected_run(self, job: Job) -> tuple[float, float] | tuple[()]:
        """(shortest, longest) run time of recent jobs like this one; () without enough history."""
        return await self._runs.expected(job)

    async def _refresh_outputs(self, job: Job, exc: DownloadError) -> Job:
        """A stored output URL no longer works (expired, refused): ask ``/result`` for fresh URLs once; if
        they are the same or cannot be had, end the job with the reason ("download again" retries later)."""
        if job.request_id:
            try:
                async with self._slots:
                    state = await self.client_for(job).result(job.request_id, include_cost=True, retry=NO_RETRY)
            except ApiError as fresh_exc:
                log.info("job %s: fresh output URLs could not be had: %s", job.id, fresh_exc)
                state = None
            if state is not None and state.status is RemoteStatus.COMPLETED and state.outputs:
                if tuple(o.url for o in job.outputs) != state.outputs:
                    return await self._set_outputs(job, state.outputs)
        await self._save(job, status=JobStatus.FAILED, finished_at=time.time(),
                         error=f"RunComfy made the image but it could not be saved: {exc} "
                               "Use \u201cdownload again\u201d to retry.")
        return await self._current(job)

    async def _current(self, job: Job) -> Job:
        return await self.history.get(job.id) or job

    async def _set_outputs(self, job: Job, urls: tuple[str, ...], changes: dict[str, Any] | None = None) -> Job:
        """Record the output URLs; with ``changes`` (the status that goes with them) in the same write,
        told like :meth:`_save`."""
        kept = {o.url: o for o in job.outputs if o.path}
        outputs = [kept.get(url, OutputFile(i, url)) for i, url in enumerate(urls)]
        outputs = [o if o.index == i else OutputFile(i, o.url, o.path, o.width, o.height, o.format, o.size,
                                                     o.thumb_path) for i, o in enumerate(outputs)]
        try:
            saved = await self.history.set_outputs(job.id, outputs, owner=self.owner, changes=changes)
        except StaleJobError as exc:
            raise _Stale(exc.current) from None
        if changes:
            _log_change(job, saved)
            self._emit(saved)
        return saved

    async def _settle_submitting(self, job: Job) -> Job:
        """A row left SUBMITTING by a stopped instance: the submit was cut between send and answer.

        Never resubmitted blindly (no idempotency key): without a request id it becomes UNKNOWN with
        the dashboard sentence; with one, it is simply polled.
        """
        if job.request_id is None:
            return await self._save(job, status=JobStatus.UNKNOWN, error=UNKNOWN_SUBMIT, finished_at=time.time())
        return await self._save(job, status=JobStatus.QUEUED)

    async def _note_trouble(self, job: Job, message: str) -> Job:
        """Keep the job live, with the trouble shown, while polling backs off."""
        text = f"Waiting: {message}"
        if job.error == text:
            return job
        return await self._save(job, error=text)

    async def _apply(self, job: Job, state: RequestState) -> Job:
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
            if job.status is not JobStatus.RUNNING:
                changes.update(status=JobStatus.RUNNING, queue_position=None, started_at=job.started_at or time.time())
        elif status is RemoteStatus.FAILED:
            changes.update(status=JobStatus.FAILED, error=state.error, queue_position=None, finished_at=time.time())
        elif status is RemoteStatus.CANCELLED:
            changes.update(status=JobStatus.CANCELLED, queue_position=None, finished_at=time.time())
        elif status is RemoteStatus.COMPLETED:
            if not state.outputs:
                raise _EmptyCompletion  # an answer written before its outputs were: ask once more first
            changes.update(status=JobStatus.DOWNLOADING, queue_position=None, cost=state.cost,
                           started_at=job.started_at or time.time())
            job = await self._set_outputs(job, state.outputs, changes)  # the URLs and the status: one write
            changes = {}
        if set(changes) == {"queue_position"}:
            # a queue move alone is not worth a disk write: tell the UI, persist with the next real change
            job = job.evolve(**changes)
            self._emit(job)
        elif changes:
            job = await self._save(job, **changes)
        if job.status is JobStatus.DOWNLOADING:
            job = await self._download_all(job)
        return job

    async def _download_all(self, job: Job) -> Job:
        provenance = {"prompt": job.prompt, "model_id": job.model_id, "inputs": job.inputs,
                      "request_id": job.request_id}
        outputs = job.outputs
        for number, output in enumerate(outputs, 1):
            if output.path is not None and await asyncio.to_thread(_exists, output.path):  # no thread for no path
                continue
            attempt = 0
            # the host only: a signed CDN link's query string is a credential of sorts
            log.info("job %s: downloading file %d from %s", job.id, output.index, urlsplit(output.url).hostname)
            while True:
                attempt += 1
                await self._hold(job)
                try:
                    saved = await self.downloader.fetch(
                        output.url, job_id=job.id, request_id=job.request_id or str(job.id), index=output.index,
                        provenance=provenance, when=job.created_at,
                    )
                    break
                except DownloadError as exc:
                    if exc.kind == "permanent" or attempt >= self.policy.download_attempts:
                        raise
                    await asyncio.sleep(self.policy.backoff(attempt, self._rng))
            # the last file and the completion are one write
            last = number == len(outputs)
            done = {"status": JobStatus.COMPLETED, "error": None, "finished_at": time.time()} if last else None
            try:
                saved_job = await self.history.update_output(job.id, saved, owner=self.owner, changes=done)
            except StaleJobError as exc:
                raise _Stale(exc.current) from None
            if last:
                _log_change(job, saved_job)
                self._emit(saved_job)
                self._runs.completed(saved_job)
                return saved_job
            job = saved_job
        job = await self._save(job, status=JobStatus.COMPLETED, error=None, finished_at=time.time())
        self._runs.completed(job)
        return job

    def follow(self, job: Job) -> None:
        """Follow a live job that came from outside this engine (an adopted request id) at once, when this
        engine follows jobs at all (after ``start``)."""
        if self._started and not job.status.terminal:
            self._track(job)

    async def check_once(self, job_id: int, state: RequestState | None = None) -> tuple[Job | None, ApiError | None]:
        """Ask RunComfy once about a live job (or use ``state``, already asked) and save what it says,
        downloading the files of a finished one: the CLI's ``status``, and a request just adopted.

        Returns the row as it is now and the trouble met, if any (the job stays live, with the sentence).
        A job another live instance is polling is left to it: the history is what that instance learned.
        """
        job = await self.history.get(job_id)
        if job is None or job.status.terminal or not job.request_id:
            return job, None
        lease = await self.history.lease(job.id)
        dead = lease if lease is not None and lease.owner and _owner_is_dead(lease.owner) else None
        if not await self.history.try_claim(job.id, self.owner, expired=dead):
            return job, None
        self._ensure_heartbeat()  # the lease stays ours through a long download
        trouble: ApiError | None = None
        try:
            try:
                if job.status is JobStatus.SUBMITTING:
                    job = await self._settle_submitting(job)
                if state is None and job.status is not JobStatus.DOWNLOADING:
                    state = await self.client_for(job).result(job.request_id or "", include_cost=True)
                await (self._apply(job, state) if state is not None else self._download_all(job))
            except _EmptyCompletion:  # "completed" without outputs: the poller asks again before deciding
                pass
            except NotFoundError:
                await self._save(await self._current(job), status=JobStatus.EXPIRED, queue_position=None,
                                 finished_at=time.time(),
                                 error="RunComfy no longer knows this request: it expired or was deleted.")
            except ApiError as exc:
                trouble = exc
                await self._note_trouble(await self._current(job), str(exc))
        except _Stale:
            pass  # another writer got there first: the history has the newer truth
        return await self._current(job), trouble

    async def download_again(self, job_id: int) -> str:
        """Ask RunComfy for the job's output URLs again and download them (a job whose files could not be
        saved, or were deleted). Returns a sentence for the user."""
        job = await self.history.get(job_id)
        if job is None:
            return "That job is no longer in the history."
        if job.request_id is None:
            return "That job has no request id: RunComfy never confirmed it, so there is nothing to download."
        if not job.status.terminal and self.is_following(job.id):
            return "That job is still being followed; its files are saved when it finishes."
        try:
            state = await self.client_for(job).result(job.request_id, include_cost=True)
        except NotFoundError:
            return "RunComfy no longer has this request (results are kept for a limited time): it cannot be downloaded again."
        except ApiError as exc:
            return f"Could not ask RunComfy for the files: {exc}"
        if state.status is not RemoteStatus.COMPLETED or not state.outputs:
            return f"RunComfy reports the job as {state.raw_status or state.status.value}, with no files to download."
        if not await self.history.try_claim(job.id, self.owner) and not job.status.terminal:
            return "Another seedream-tui is following that job; its files are saved there."
        self._owned.add(job.id)
        fresh = await self._current(job)
        changes = {"status": JobStatus.DOWNLOADING, "error": None, "finished_at": None}
        try:
            fresh = await self.history.update_job(job.id, expect_version=fresh.version, **changes)
            fresh = await self.history.set_outputs(job.id, [OutputFile(i, u) for i, u in enumerate(state.outputs)])
        except StaleJobError:
            return "The job changed meanwhile; try again."
        self._emit(fresh)
        self._ensure_heartbeat()
        self._track(fresh)
        return f"Downloading {len(state.outputs)} file(s) of job {job.id} again."


class _EmptyCompletion(Exception):
    """``completed`` with no outputs listed (see ``PollPolicy.empty_result_retries``)."""


def _log_change(before: Job, after: Job) -> None:
    """Every status change and every trouble sentence goes to the log file too (the log is how a user
    or a bug report finds out later what happened to a job)."""
    if after.status is not before.status:
        log.info("job %s: %s -> %s%s", after.id, before.status.value, after.status.value,
                 f" ({after.error})" if after.error and after.status.terminal else "")
    if after.error and after.error != before.error and not after.status.terminal:
        log.warning("job %s: %s", after.id, after.error)


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


def _exists(path: str) -> bool:
    return os.path.exists(path)


def _owner_is_dead(owner: str) -> bool:
    """True when ``owner`` ("host:pid:nonce") is an instance on this machine whose process is gone."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    return host == socket.gethostname() and pid_text.isdigit() and not pid_alive(int(pid_text))
