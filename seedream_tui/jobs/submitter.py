"""The submit flow: the row first, then the paid request, then its request id made to survive.

Submit has no idempotency key, so a submit is sent again only when it surely never arrived (connection
refused, 429), a few times. The row is born holding this instance's lease (the heartbeat keeps it through
the submit), so no other instance settles it meanwhile. The request id goes to the journal (synced) and
then the row; a history that cannot take it keeps it in memory and keeps trying (RequestIdNotSaved).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from seedream_tui.api.client import RunComfyClient
from seedream_tui.api.errors import ApiError, NetworkError, RateLimitedError, SubmitOutcomeUnknown
from seedream_tui.api.types import SubmitResult
from seedream_tui.jobs.job_writer import JobWriter
from seedream_tui.jobs.journal import Entry
from seedream_tui.jobs.leases import LeaseKeeper
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.poll_policy import PollPolicy
from seedream_tui.jobs.store import HistoryError, StaleJobError

log = logging.getLogger("seedream_tui.jobs.engine")

UNKNOWN_SUBMIT = "The app stopped or lost the connection while submitting: check the RunComfy dashboard."


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


class Submitter:
    def __init__(
        self, client: RunComfyClient, writer: JobWriter, leases: LeaseKeeper, policy: PollPolicy,
        rng: random.Random, follow: Callable[[Job], None],
    ) -> None:
        self.client = client
        self.writer = writer
        self.history = writer.history
        self.leases = leases
        self.policy = policy
        self._rng = rng
        self._follow = follow
        #: rows being submitted right now: their follower starts once the answer is in
        self._submitting: set[int] = set()
        #: request ids RunComfy gave us that the history could not take yet (job id -> request id)
        self._unsaved: dict[int, str] = {}
        self._retries: set[asyncio.Task[None]] = set()

    def busy(self, job_id: int) -> bool:
        """True while the job's submit (or the saving of its request id) is under way here."""
        return job_id in self._submitting

    async def submit(self, model_id: str, inputs: dict[str, Any], *, sent: dict[str, Any] | None = None) -> Job:
        """Write the row (holding ``inputs``), send the submit (``sent`` when given: the inputs with their images
        resolved, not kept in the row), record the request id, start following it.

        Raises the ApiError after recording it on the job (failed, or unknown when the answer was lost).
        """
        self.leases.start()
        job = await self.leases.create_job(model_id, inputs, base_url=self.client.base_url)
        return await self._send_row(job, model_id, inputs if sent is None else sent)

    async def submit_claimed(self, job: Job, sent: dict[str, Any]) -> Job:
        """Send a pending row this instance has just claimed (``submitting``, its lease held: see
        local_queue.py), as :meth:`submit` sends a row it wrote: ``sent`` is what goes on the wire."""
        self.leases.start()
        return await self._send_row(job, job.model_id, sent)

    async def _send_row(self, job: Job, model_id: str, payload: dict[str, Any]) -> Job:
        self._submitting.add(job.id)
        try:
            self.writer.emit(job)
            answer = await self._send(job, model_id, payload)
            job = await self._keep_request_id(job, answer.request_id)
        finally:
            # only now: until the request id is saved, a start() or adopter reading the row sees SUBMITTING
            # and must leave it alone (its follower would settle a row with no request id as UNKNOWN); one
            # whose id is still only in memory stays so until _save_later has written it
            if job.id not in self._unsaved:
                self._submitting.discard(job.id)
        self._follow(job)
        return job

    async def _send(self, job: Job, model_id: str, inputs: dict[str, Any]) -> SubmitResult:
        """The row has no request id yet: only this instance knows the submit's outcome, so its failure
        writes are unconditional (they correct even a row another instance settled meanwhile)."""
        failures = 0
        while True:
            try:
                return await self.client.submit(model_id, inputs)
            except SubmitOutcomeUnknown as exc:
                await self._write_outcome(job, status=JobStatus.UNKNOWN, error=str(exc))
                raise
            except (RateLimitedError, NetworkError) as exc:
                failures += 1
                if failures >= 3:
                    await self._write_outcome(job, status=JobStatus.FAILED, error=f"Not sent: {exc}")
                    raise
                await asyncio.sleep(self.policy.backoff(failures, self._rng, getattr(exc, "retry_after", None)))
            except ApiError as exc:
                await self._write_outcome(job, status=JobStatus.FAILED, error=f"Not accepted: {exc}")
                raise

    async def _write_outcome(self, job: Job, **changes: Any) -> None:
        log.warning("job %s: submit ended %s: %s", job.id, changes.get("status"), changes.get("error"))
        try:
            self.writer.emit(await self.history.update_job(job.id, durable=True, finished_at=time.time(), **changes))
        except HistoryError:
            log.exception("job %s: the submit's outcome could not be written", job.id)

    async def _keep_request_id(self, job: Job, request_id: str) -> Job:
        """Make the request id survive: journal first (synced), then the row, retried; else keep it in
        memory, keep trying, and say it in the error."""
        now = time.time()
        journal: str | None = str(self.history.store.journal.path)
        try:
            await asyncio.to_thread(self.history.store.journal.append, Entry(job.id, request_id, job.model_id, now))
        except OSError as exc:
            journal = None
            log.error("job %s: request id %s could not be journaled: %s", job.id, request_id, exc)
        reason = ""
        for attempt in range(self.policy.save_attempts):
            try:
                saved = await self.leases.record_request_id(job.id, request_id, submitted_at=now)
            except StaleJobError as exc:  # it already has this or another request id: nothing to add
                saved = exc.current
            except HistoryError as exc:
                reason = str(exc)
                log.warning("job %s: saving request id %s failed (attempt %d): %s",
                            job.id, request_id, attempt + 1, exc)
                await asyncio.sleep(self.policy.save_backoff * 2**attempt)  # each try also waits the busy timeout
                continue
            self.writer.emit(saved)
            return saved
        log.error("job %s: request id %s is not in the history yet: %s", job.id, request_id, reason)
        self._unsaved[job.id] = request_id
        task = asyncio.create_task(self._save_later(job.id, request_id), name=f"save-{job.id}")
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)
        raise RequestIdNotSaved(job.id, request_id, reason, journal)

    async def _save_later(self, job_id: int, request_id: str) -> None:
        while job_id in self._unsaved:
            await asyncio.sleep(self.policy.backoff_cap / 6)
            try:
                saved = await self.leases.record_request_id(job_id, request_id, submitted_at=time.time())
            except StaleJobError as exc:
                saved = exc.current
            except Exception:
                continue
            self._unsaved.pop(job_id, None)
            self._submitting.discard(job_id)
            log.info("job %s: request id %s saved to the history at last", job_id, request_id)
            self.writer.emit(saved)
            self._follow(saved)

    async def stop(self) -> None:
        for task in list(self._retries):
            task.cancel()
        for task in list(self._retries):
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
