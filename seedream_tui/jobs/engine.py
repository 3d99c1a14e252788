"""The job engine: one per app, for every live job. It puts the parts together and keeps the list of
followers; each concern has one owner:

- ``leases.LeaseKeeper``: which jobs this instance may poll (heartbeat, claims); the only code that
  records a claim.
- ``submitter.Submitter``: the submit flow (row first, paid request, request id made to survive).
- ``follower.Follower``: one per live job, polling it (or watching the history while another instance
  does), its polling state inspectable.
- ``fetcher.Fetcher``: a finished job's files, fresh URLs when old ones stop working, "download again".
- ``poll_policy.PollPolicy``: how often to ask, a pure function of the job and the clock.
- ``job_writer.JobWriter``: every write of a job's row, and the listeners told of it.

Data flows one way: submit -> persist -> poll -> persist each change -> notify.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from seedream_tui.api.client import RunComfyClient
from seedream_tui.api.errors import ApiError, NotFoundError
from seedream_tui.api.types import RemoteStatus, RequestState
from seedream_tui.jobs.downloads import Downloader
from seedream_tui.jobs.engine_runs import RunTimes
from seedream_tui.jobs.engine_tick import Ticker
from seedream_tui.jobs.fetcher import Fetcher
from seedream_tui.jobs.follower import EXPIRED, EmptyCompletion, Follower, Parts
from seedream_tui.jobs.job_writer import JobWriter, Listener, Listeners
from seedream_tui.jobs.leases import LeaseKeeper, Stale, new_owner
from seedream_tui.jobs.local_queue import LocalQueue
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.poll_policy import PollPolicy
from seedream_tui.jobs.store import AsyncHistory
from seedream_tui.jobs.submitter import UNKNOWN_SUBMIT, RequestIdNotSaved, Submitter

log = logging.getLogger(__name__)

__all__ = ["UNKNOWN_SUBMIT", "JobEngine", "PollPolicy", "RequestIdNotSaved"]

DOWNLOAD_STOPPED = ("The download was stopped by the user; files already saved are kept. "
                    "Use \u201cdownload again\u201d to fetch the rest.")


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
        self.owner = owner or new_owner()
        rng = rng or random.Random()
        self.listeners = Listeners()
        self.leases = LeaseKeeper(history, self.owner, lease=self.policy.lease)
        self.writer = JobWriter(history, self.owner, self.listeners)
        runs = RunTimes(history, min_samples=self.policy.predict_min_samples)
        slots = asyncio.Semaphore(max_in_flight)
        self.fetcher = Fetcher(downloader, self.writer, self.leases, self.policy, rng, self.client_for, slots)
        self.parts = Parts(self.writer, self.leases, self.fetcher, runs, self.policy, rng,
                           Ticker(self.policy.tick), slots, self.client_for)
        self.submitter = Submitter(client, self.writer, self.leases, self.policy, rng, self._track)
        #: the local queue's dispatcher: pending rows sent as slots free (runs from start() on)
        self.queue = LocalQueue(self.leases, self.submitter, self.writer, every=self.policy.lease / 3)
        self.listeners.internal.append(self.queue.on_change)
        self.followers: dict[int, Follower] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._running = False
        #: start() was called: live jobs are followed (not so for a CLI run that only asks once)
        self._started = False
        self._adopter: asyncio.Task[None] | None = None
        #: every row is polled at the current base URL (the demo: one server per demo home, whatever
        #: port it had when the row was made); otherwise each job is polled where it was submitted
        self.pin_base_url = pin_base_url
        self._clients: dict[str, RunComfyClient] = {}

    # --------------------------------------------------------------- events
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self.listeners.subscribe(listener)

    def announce(self, job: Job) -> None:
        """Tell every listener about ``job`` (a row made outside the engine, e.g. an adopted request)."""
        self.listeners.emit(job)

    @property
    def poll_requests(self) -> int:
        """``/result`` requests sent by every follower so far."""
        return self.parts.polls

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> list[Job]:
        """Resume every non-terminal job in history. Returns them."""
        self._running = True
        self._started = True
        self.leases.start()
        for job in await self.history.replay_journal():
            log.warning("job %s: request id %s restored from the journal", job.id, job.request_id)
        await self.leases.free_dead_owners()  # a crashed instance on this machine: take over now
        live = await self.history.live_jobs()
        for job in live:
            # SUBMITTING rows are settled by their follower once it holds the lease: a row another live
            # instance is submitting holds that instance's beating lease, so it is left alone
            self._track(job)
        self._adopter = asyncio.create_task(self._adopt_new_rows(), name="adopt-live-jobs")
        self.queue.start()  # pending jobs left by a quit or a crash go on
        return live

    @property
    def started(self) -> bool:
        """start() was called: live jobs are followed and the local queue sends."""
        return self._started

    async def _adopt_new_rows(self) -> None:
        """Pick up live rows another app instance created after our start.

        Their owner holds the lease, so we only follow them through the history (and show their
        progress); if that instance dies, its lease runs out and we poll them.
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
        await self.queue.stop()
        tasks = [*([self._adopter] if self._adopter else []), *self._tasks.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._adopter = None
        self._tasks.clear()
        self.followers.clear()
        await self.submitter.stop()
        await self.leases.stop()

    @property
    def live_count(self) -> int:
        return len(self._tasks)

    def is_following(self, job_id: int) -> bool:
        """True while a follower of this engine polls (or watches) the job."""
        task = self._tasks.get(job_id)
        return task is not None and not task.done()

    def _track(self, job: Job) -> None:
        if not self._running or job.id in self._tasks or self.submitter.busy(job.id):
            return
        follower = Follower(self.parts, job)
        task = asyncio.create_task(follower.run(lambda: self._running), name=f"poll-job-{job.id}")
        self.followers[job.id] = follower
        self._tasks[job.id] = task
        task.add_done_callback(lambda t: self._forget(job.id, t))

    def forget(self, job_id: int) -> None:
        """Stop polling one job (it was cancelled, or is being deleted)."""
        task = self._tasks.pop(job_id, None)
        self.followers.pop(job_id, None)
        self.fetcher.forget(job_id)
        if task is not None:
            task.cancel()

    def _forget(self, job_id: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(job_id) is task:
            del self._tasks[job_id]
            self.followers.pop(job_id, None)
        if not task.cancelled() and task.exception() is not None:  # the guards should make this unreachable
            log.error("the follower of job %s ended with an error", job_id, exc_info=task.exception())

    def follow(self, job: Job) -> None:
        """Follow a live job that came from outside this engine (an adopted request id) at once, when this
        engine follows jobs at all (after ``start``)."""
        if self._started and not job.status.terminal:
            self._track(job)

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

    # ----------------------------------------------------------- user actions
    async def submit(self, model_id: str, inputs: dict[str, Any], *, sent: dict[str, Any] | None = None) -> Job:
        """Write the row (``inputs``), send the submit (``sent`` when given), record the request id, start
        following (see Submitter)."""
        return await self.submitter.submit(model_id, inputs, sent=sent)

    async def adopt_request(self, request_id: str, *, model_id: str) -> tuple[Job, bool]:
        """The row of a request made elsewhere, holding this instance's lease when it is new."""
        return await self.leases.adopt_request(request_id, model_id=model_id, base_url=self.client.base_url)

    async def cancel(self, job_id: int) -> str:
        job = await self.history.get(job_id)
        if job is None:
            return "That job is no longer in the history."
        if job.status.terminal:
            return f"The job is already {job.status.label}."
        if job.status is JobStatus.PENDING:  # never sent: nothing to ask RunComfy
            for cancelled in await self.history.cancel_pending(job_ids=[job.id]):
                self.listeners.emit(cancelled)
                return "Cancelled."
            return await self.cancel(job_id)  # it was sent meanwhile
        if job.request_id is None:
            return "The job is still being submitted; try again in a moment."
        if job.status is JobStatus.DOWNLOADING:  # RunComfy is done; the download is ours to stop
            self.forget(job.id)
            settled = await self.writer.settle(job.id, only_from=frozenset({JobStatus.DOWNLOADING}),
                                               status=JobStatus.FAILED, finished_at=time.time(), error=DOWNLOAD_STOPPED)
            if settled is not None and settled.error != DOWNLOAD_STOPPED:
                return f"The job is already {settled.status.label}."
            return "Download stopped; use \u201cdownload again\u201d to fetch the files."
        if job.status is JobStatus.RUNNING:
            return "The job is already running; RunComfy cannot cancel a running job."
        try:
            result = await self.client_for(job).cancel(job.request_id)
        except NotFoundError:
            await self.writer.settle(job.id, status=JobStatus.EXPIRED, error="RunComfy no longer knows this request.")
            return "RunComfy no longer knows this request; it is marked expired."
        except ApiError as exc:
            return f"Could not cancel: {exc}"
        if result.cancelled:
            await self.writer.settle(job.id, status=JobStatus.CANCELLED, queue_position=None, finished_at=time.time())
            self.forget(job.id)
            return "Cancelled."
        if result.status is RemoteStatus.IN_PROGRESS:
            await self.writer.settle(job.id, only_from=frozenset({JobStatus.QUEUED}), status=JobStatus.RUNNING,
                                     queue_position=None)
        return "The job has already started; RunComfy cannot cancel a running job."

    async def check_once(self, job_id: int, state: RequestState | None = None) -> tuple[Job | None, ApiError | None]:
        """Ask RunComfy once about a live job (or use ``state``, already asked) and save what it says,
        downloading the files of a finished one: the CLI's ``status``, and a request just adopted.

        Returns the row as it is now and the trouble met, if any (the job stays live, with the sentence).
        A job another live instance is polling is left to it: the history is what that instance learned.
        """
        job = await self.history.get(job_id)
        if job is None or job.status.terminal or not job.request_id:
            return job, None
        if not await self.leases.claim_if_free_or_dead(job.id):
            return job, None
        self.leases.start()  # the lease stays ours through a long download
        trouble: ApiError | None = None
        follower = Follower(self.parts, job)
        try:
            try:
                if job.status is JobStatus.SUBMITTING:
                    job = await follower.step(job)  # a cut submit with its request id: queued again
                if state is None and job.status is not JobStatus.DOWNLOADING:
                    state = await self.client_for(job).result(job.request_id or "", include_cost=True)
                await follower.step(job, state)
            except EmptyCompletion:  # "completed" without outputs: the poller asks again before deciding
                pass
            except NotFoundError:
                await self.writer.save(await self.writer.current(job), status=JobStatus.EXPIRED,
                                       queue_position=None, finished_at=time.time(), error=EXPIRED)
            except ApiError as exc:
                trouble = exc
                await self.writer.note_trouble(await self.writer.current(job), str(exc))
        except Stale:
            pass  # another writer got there first: the history has the newer truth
        return await self.writer.current(job), trouble

    async def download_again(self, job_id: int) -> str:
        """Ask RunComfy for the job's output URLs again and download them (a sentence for the user)."""
        return await self.fetcher.download_again(job_id, following=self.is_following(job_id), follow=self._track)
