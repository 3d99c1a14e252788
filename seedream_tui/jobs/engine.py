"""The polling engine: one per app, for every live job.

Data flows one way: submit -> persist -> poll -> persist each change -> notify.
Each live job has a small asyncio task that polls ``/result`` (it answers the state
until done, so completion costs no extra round trip) at an adaptive interval; a
semaphore caps requests in flight. Network trouble pauses a job's polling with
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
from seedream_tui.jobs.model import Job, JobStatus, OutputFile
from seedream_tui.jobs.store import AsyncHistory

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
    backoff_base: float = 1.0  # on network trouble
    backoff_cap: float = 30.0
    lease: float = 30.0  # polling lease held in history
    download_attempts: int = 4  # tries of one file in a row
    download_rounds: int = 3  # rounds of such tries before a garbled file fails the job

    def interval(self, job: Job, rng: random.Random, speed: float | None = None) -> float:
        """Seconds until the next poll; jitter only lengthens it, so the rate targets hold.

        ``speed`` is how fast the job's queue position has been falling (positions per
        second): a job far back is asked only about half as often as it takes to come near.
        """
        if job.status is JobStatus.RUNNING:
            base = self.running
        elif job.status is JobStatus.QUEUED:
            pos = job.queue_position or 0
            base = self.queued_near if pos <= self.near_positions else self.queued_far
            if pos > self.near_positions and speed:
                eta = (pos - self.near_positions) / speed
                base = min(self.queued_max, max(self.queued_far, eta / 2))
        else:
            base = self.unknown
        return base * rng.uniform(1.0, 1.0 + self.jitter)

    def backoff(self, failures: int, rng: random.Random, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_cap * 4) * rng.uniform(1.0, 1 + self.jitter)
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** max(0, failures - 1))
        return rng.uniform(ceiling / 2, ceiling)


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
    ) -> None:
        self.client = client
        self.history = history
        self.downloader = downloader
        self.policy = policy or PollPolicy()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(max_in_flight)
        self._tasks: dict[int, asyncio.Task[None]] = {}
        #: rows this engine is submitting right now (their follower starts once the answer is in)
        self._submitting: set[int] = set()
        self._listeners: list[Listener] = []
        self._running = False
        self._adopter: asyncio.Task[None] | None = None
        #: requests sent by pollers (for benchmarks)
        self.poll_requests = 0

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

    async def _save(self, job_id: int, **changes: Any) -> Job:
        job = await self.history.update_job(job_id, **changes)
        self._emit(job)
        return job

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> list[Job]:
        """Resume every non-terminal job in history. Returns them."""
        self._running = True
        for owner in await self.history.lease_owners():
            if owner != self.owner and _owner_is_dead(owner):
                await self.history.release_claims(owner)  # a crashed instance on this machine: take over now
        live = await self.history.live_jobs()
        for job in live:
            # SUBMITTING rows are settled by their follower once it holds the lease (see _settle_submitting):
            # a row another live instance is submitting right now must not be touched, and one left by a
            # crashed instance is settled as soon as that instance's lease runs out, not only at a later start
            self._track(job)
        self._adopter = asyncio.create_task(self._adopt_new_rows(), name="adopt-live-jobs")
        return live

    async def _adopt_new_rows(self) -> None:
        """Pick up live rows another app instance created after our start.

        Their owner holds the lease, so we only follow them through the history (and
        show their progress); if that instance dies, its lease runs out and we poll them.
        """
        while self._running:
            await asyncio.sleep(self.policy.lease / 3)
            with contextlib.suppress(Exception):  # a busy database must not end the loop
                for job in await self.history.live_jobs():
                    if job.id not in self._submitting:
                        self._track(job)

    async def stop(self) -> None:
        """Stop polling; live jobs stay live in history for the next start."""
        self._running = False
        if self._adopter is not None:
            self._adopter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._adopter
            self._adopter = None
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
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

    # ---------------------------------------------------------------- submit
    async def submit(self, model_id: str, inputs: dict[str, Any]) -> Job:
        """Write the row, send the submit, record the request id, start polling.

        Raises the ApiError after recording it on the job (failed, or unknown when the
        answer was lost). Only a submit that surely never arrived (connection refused,
        429) is sent again, a few times.
        """
        job = await self.history.create_job(model_id, inputs, base_url=self.client.base_url)
        self._submitting.add(job.id)
        try:
            await self.history.try_claim(job.id, self.owner, self.policy.lease)
            self._emit(job)
            answer = await self._send_submit(job, model_id, inputs)
            now = time.time()
            job = await self._save(job.id, request_id=answer.request_id, status=JobStatus.QUEUED, submitted_at=now)
        finally:
            # only now: until the request id is saved, a start() or adopter reading the row sees SUBMITTING
            # and must leave it alone (its follower would settle a row with no request id as UNKNOWN)
            self._submitting.discard(job.id)
        self._track(job)
        return job

    async def _send_submit(self, job: Job, model_id: str, inputs: dict[str, Any]) -> SubmitResult:
        failures = 0
        while True:
            try:
                answer = await self.client.submit(model_id, inputs)
                break
            except SubmitOutcomeUnknown as exc:
                await self._save(job.id, status=JobStatus.UNKNOWN, error=str(exc), finished_at=time.time())
                raise
            except (RateLimitedError, NetworkError) as exc:
                failures += 1
                if failures >= 3:
                    await self._save(job.id, status=JobStatus.FAILED, error=f"Not sent: {exc}", finished_at=time.time())
                    raise
                await asyncio.sleep(self.policy.backoff(failures, self._rng, getattr(exc, "retry_after", None)))
            except ApiError as exc:
                await self._save(job.id, status=JobStatus.FAILED, error=f"Not accepted: {exc}", finished_at=time.time())
                raise
        return answer

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
            result = await self.client.cancel(job.request_id)
        except NotFoundError:
            await self._save(job.id, status=JobStatus.EXPIRED, error="RunComfy no longer knows this request.")
            return "RunComfy no longer knows this request; it is marked expired."
        except ApiError as exc:
            return f"Could not cancel: {exc}"
        if result.cancelled:
            await self._save(job.id, status=JobStatus.CANCELLED, queue_position=None, finished_at=time.time())
            self.forget(job.id)
            return "Cancelled."
        if result.status is RemoteStatus.IN_PROGRESS:
            await self._save(job.id, status=JobStatus.RUNNING, queue_position=None)
        return "The job has already started; RunComfy cannot cancel a running job."

    # ---------------------------------------------------------------- polling
    async def _follow(self, job: Job) -> None:
        failures = 0
        bad_downloads = 0  # rounds of cut-short or garbled files
        delay = self.policy.first if job.status is JobStatus.QUEUED else 0.0
        expiry = 0.0  # when our polling lease runs out (monotonic estimate)
        seen: tuple[float, int] | None = None  # (time, queue position) of the first poll in the queue
        while self._running:
            # the lease must cover the coming sleep and the poll after it, or another instance could take the
            # job over while we sleep; renew when less than half a lease would be left at wake-up
            if time.monotonic() + delay + self.policy.lease / 2 >= expiry:
                hold = delay + self.policy.lease
                if not await self.history.try_claim(job.id, self.owner, hold):
                    # another instance polls it; follow its progress through the history
                    fresh = await self.history.get(job.id)
                    if fresh is None or fresh.status.terminal:
                        if fresh is not None and fresh != job:
                            self._emit(fresh)
                        return
                    if fresh != job:
                        self._emit(fresh)
                    job, delay = fresh, 0.0
                    await asyncio.sleep(self.policy.lease / 3)
                    continue
                expiry = time.monotonic() + hold
                # while we hold the lease only this engine changes the row (cancel and delete stop this task)
                current = await self.history.get(job.id)
                if current is None or current.status.terminal:
                    return
                job = current.evolve(queue_position=job.queue_position) if current.status is job.status else current
            if delay:
                await asyncio.sleep(delay)
            if job.status is JobStatus.SUBMITTING:
                job = await self._settle_submitting(job)
                if job.status.terminal:
                    return
            try:
                if job.status is JobStatus.DOWNLOADING:
                    job = await self._download_all(job)
                else:
                    async with self._slots:
                        self.poll_requests += 1
                        state = await self.client.result(job.request_id or "", include_cost=True, retry=NO_RETRY)
                    job = await self._apply(job, state)
                failures = 0
            except NotFoundError:
                await self._save(job.id, status=JobStatus.EXPIRED, queue_position=None, finished_at=time.time(),
                                 error="RunComfy no longer knows this request: it expired or was deleted.")
                return
            except AuthError as exc:
                failures += 1
                job = await self._note_trouble(job, str(exc))
                delay = max(30.0, self.policy.backoff(failures, self._rng))
                continue
            except DownloadError as exc:
                bad_downloads += exc.kind == "integrity"
                if exc.kind == "permanent" or bad_downloads > self.policy.download_rounds:
                    await self._save(job.id, status=JobStatus.FAILED, finished_at=time.time(),
                                     error=f"RunComfy made the image but it could not be saved: {exc}")
                    return
                failures += 1
                job = await self._note_trouble(job, str(exc))
                delay = self.policy.backoff(failures, self._rng)
                continue
            except ApiError as exc:
                failures += 1
                job = await self._note_trouble(job, str(exc))
                delay = self.policy.backoff(failures, self._rng, getattr(exc, "retry_after", None))
                continue
            if job.status.terminal:
                return
            speed = None
            if job.status is JobStatus.QUEUED and job.queue_position is not None:
                now = time.monotonic()
                if seen is None:
                    seen = (now, job.queue_position)
                elif now > seen[0] and job.queue_position < seen[1]:
                    speed = (seen[1] - job.queue_position) / (now - seen[0])
            delay = self.policy.interval(job, self._rng, speed)

    async def _settle_submitting(self, job: Job) -> Job:
        """A row left SUBMITTING by a stopped instance: the submit was cut between send and answer.

        Never resubmitted blindly (no idempotency key): without a request id it becomes UNKNOWN with
        the dashboard sentence; with one, it is simply polled.
        """
        if job.request_id is None:
            return await self._save(job.id, status=JobStatus.UNKNOWN, error=UNKNOWN_SUBMIT, finished_at=time.time())
        return await self._save(job.id, status=JobStatus.QUEUED)

    async def _note_trouble(self, job: Job, message: str) -> Job:
        """Keep the job live, with the trouble shown, while polling backs off."""
        text = f"Waiting: {message}"
        if job.error == text:
            return job
        return await self._save(job.id, error=text)

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
                changes.update(status=JobStatus.FAILED, finished_at=time.time(),
                               error="RunComfy reports the job completed but returned no output files.")
            else:
                outputs = [OutputFile(i, url) for i, url in enumerate(state.outputs)]
                job = await self.history.set_outputs(job.id, outputs)
                changes.update(status=JobStatus.DOWNLOADING, queue_position=None, cost=state.cost,
                               started_at=job.started_at or time.time())
        if set(changes) == {"queue_position"}:
            # a queue move alone is not worth a disk write: tell the UI, persist with the next real change
            job = job.evolve(**changes)
            self._emit(job)
        elif changes:
            job = await self._save(job.id, **changes)
        if job.status is JobStatus.DOWNLOADING:
            job = await self._download_all(job)
        return job

    async def _download_all(self, job: Job) -> Job:
        provenance = {"prompt": job.prompt, "model_id": job.model_id, "inputs": job.inputs,
                      "request_id": job.request_id}
        for output in job.outputs:
            if await asyncio.to_thread(_exists, output.path):
                continue
            attempt = 0
            while True:
                attempt += 1
                try:
                    saved = await self.downloader.fetch(
                        output.url, request_id=job.request_id or str(job.id), index=output.index,
                        provenance=provenance, when=job.created_at,
                    )
                    break
                except DownloadError as exc:
                    if exc.kind == "permanent" or attempt >= self.policy.download_attempts:
                        raise
                    await asyncio.sleep(self.policy.backoff(attempt, self._rng))
            job = await self.history.update_output(job.id, saved)
        return await self._save(job.id, status=JobStatus.COMPLETED, error=None, finished_at=time.time())


#: status words other backends use for "not started yet": waiting, and nothing worth a sentence
_WAITING_WORDS = frozenset({"pending", "starting", "waiting", "submitted", "created", "scheduled", "preparing"})


def _plainly_waiting(state: RequestState) -> bool:
    word = (state.raw_status or "").strip().lower()
    return word in _WAITING_WORDS


def _unknown_status(state: RequestState) -> str:
    raw = state.raw.get("status") if isinstance(state.raw, dict) else None
    shown = repr(raw)[:60] if raw is not None else "none"
    return f"RunComfy reports a status this app does not know ({shown}); it keeps checking."


def _exists(path: str | None) -> bool:
    return bool(path) and os.path.exists(path or "")


def _owner_is_dead(owner: str) -> bool:
    """True when ``owner`` ("host:pid:nonce") is an instance on this machine whose process is gone."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but not ours, or cannot tell
        return False
    return False
