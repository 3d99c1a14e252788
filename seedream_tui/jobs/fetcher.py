"""The fetcher: a finished job's files from their URLs onto disk and into the row (downloads.py does one
file; this does a job's, with its retry budget, fresh URLs when the old ones stop working, and "download
again").
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from seedream_tui.api.client import RunComfyClient
from seedream_tui.api.errors import ApiError, DownloadError, NotFoundError
from seedream_tui.api.http import NO_RETRY
from seedream_tui.api.types import RemoteStatus
from seedream_tui.jobs.downloads import Downloader
from seedream_tui.jobs.job_writer import JobWriter
from seedream_tui.jobs.leases import LeaseKeeper
from seedream_tui.jobs.model import Job, JobStatus, OutputFile
from seedream_tui.jobs.poll_policy import PollPolicy
from seedream_tui.jobs.store import StaleJobError
from seedream_tui.jobs.transfer import DownloadBudget, makes_media

log = logging.getLogger("seedream_tui.jobs.engine")


class Fetcher:
    def __init__(
        self, downloader: Downloader, writer: JobWriter, leases: LeaseKeeper, policy: PollPolicy,
        rng: random.Random, client_for: Callable[[Job], RunComfyClient], slots: asyncio.Semaphore,
    ) -> None:
        self.downloader = downloader
        self.writer = writer
        self.history = writer.history
        self.leases = leases
        self.policy = policy
        self._rng = rng
        self._client_for = client_for
        self._slots = slots
        #: each downloading job's retry budget (tries and bytes), kept across the follower's steps
        self.budgets: dict[int, DownloadBudget] = {}

    async def download_all(self, job: Job) -> Job:
        """Every file of a DOWNLOADING job not yet on disk; the last file and the completion are one write.

        Every failed try (slow, cut short, garbled, 5xx, network, refused) counts against the job's one
        budget (tries and bytes, :class:`DownloadBudget`), kept across calls until the job settles: a cut
        file resumes where it stopped, and once the budget is spent the job fails with the reason (files
        already saved stay). A refused file (expired link) is raised for fresh URLs; a local failure (disk
        full) is raised for the follower to wait on, outside the budget."""
        provenance: dict[str, Any] = {"prompt": job.prompt, "model_id": job.model_id, "inputs": job.inputs,
                      "request_id": job.request_id}
        if any(makes_media(job.model_id, o.url) for o in job.outputs):  # a video's tags name its lineage too
            parents = await self.history.parents(job.id)
            if parents:
                provenance["parents"] = [f"#{parent}" for parent in parents]
        outputs = job.outputs
        budget = self.budget(job)
        try:
            for number, output in enumerate(outputs, 1):
                if output.path is not None and await asyncio.to_thread(os.path.exists, output.path):
                    continue
                # the host only: a signed CDN link's query string is a credential of sorts
                log.info("job %s: downloading file %d from %s", job.id, output.index, urlsplit(output.url).hostname)
                while True:
                    await self.leases.hold(job)
                    try:
                        saved = await self.downloader.fetch(
                            output.url, job_id=job.id, request_id=job.request_id or str(job.id), index=output.index,
                            provenance=provenance, when=job.created_at, media=makes_media(job.model_id, output.url),
                            budget=budget,
                        )
                        break
                    except DownloadError as exc:
                        if exc.kind == "local":
                            raise
                        if budget.failed(exc):
                            log.info("job %s: the download's budget is spent (%d tries, %d bytes thrown away)",
                                     job.id, budget.failures, budget.wasted)
                            job = await self.writer.save(job, status=JobStatus.FAILED, finished_at=time.time(),
                                                         error=budget.sentence())
                            self.budgets.pop(job.id, None)
                            return job
                        if exc.kind == "permanent":
                            raise
                        job = await self.writer.note_trouble(job, str(exc))
                        await asyncio.sleep(self.policy.backoff(budget.failures, self._rng))
                last = number == len(outputs)
                # finished_at: when RunComfy finished it (the follower wrote it), else now
                done = {"status": JobStatus.COMPLETED, "error": None, "finished_at": job.finished_at or time.time()}
                job = await self.writer.save_output(job, saved, done if last else None)
                if last:
                    self.budgets.pop(job.id, None)
                    return job
            job = await self.writer.save(job, status=JobStatus.COMPLETED, error=None,
                                         finished_at=job.finished_at or time.time())
            self.budgets.pop(job.id, None)
            return job
        finally:
            budget.drop_parts()  # no .part outlives the call (a stop, fresh URLs, a full disk)

    def budget(self, job: Job) -> DownloadBudget:
        """The retry budget of the job's download, kept until the job settles or is downloaded again."""
        budget = self.budgets.get(job.id)
        if budget is None:
            media = any(makes_media(job.model_id, o.url) for o in job.outputs)
            budget = self.budgets[job.id] = self.downloader.retry_budget(self.policy.download_attempts, media)
        return budget

    def forget(self, job_id: int) -> None:
        """The job is no longer downloaded here (stopped, deleted)."""
        budget = self.budgets.pop(job_id, None)
        if budget is not None:
            budget.drop_parts()

    async def refresh_outputs(self, job: Job, exc: DownloadError) -> Job:
        """A stored output URL no longer works (expired, refused): ask ``/result`` for fresh URLs once; if
        they are the same or cannot be had, end the job with the reason ("download again" retries later)."""
        if job.request_id:
            try:
                async with self._slots:
                    state = await self._client_for(job).result(job.request_id, include_cost=True, retry=NO_RETRY)
            except ApiError as fresh_exc:
                log.info("job %s: fresh output URLs could not be had: %s", job.id, fresh_exc)
                state = None
            if state is not None and state.status is RemoteStatus.COMPLETED and state.outputs:
                if tuple(o.url for o in job.outputs) != state.outputs:
                    return await self.writer.set_outputs(job, state.outputs)
        self.budgets.pop(job.id, None)
        await self.writer.save(job, status=JobStatus.FAILED, finished_at=time.time(),
                               error=f"RunComfy made the image but it could not be saved: {exc} "
                                     "Use \u201cdownload again\u201d to retry.")
        return await self.writer.current(job)

    async def download_again(self, job_id: int, *, following: bool, follow: Callable[[Job], None]) -> str:
        """Ask RunComfy for the job's output URLs again and download them (a job whose files could not be
        saved, or were deleted). ``following``: this instance follows the job now. Returns a sentence."""
        job = await self.history.get(job_id)
        if job is None:
            return "That job is no longer in the history."
        if job.request_id is None:
            return "That job has no request id: RunComfy never confirmed it, so there is nothing to download."
        if not job.status.terminal and following:
            return "That job is still being followed; its files are saved when it finishes."
        try:
            state = await self._client_for(job).result(job.request_id, include_cost=True)
        except NotFoundError:
            return ("RunComfy no longer has this request (results are kept for a limited time): "
                    "it cannot be downloaded again.")
        except ApiError as exc:
            return f"Could not ask RunComfy for the files: {exc}"
        if state.status is not RemoteStatus.COMPLETED or not state.outputs:
            return f"RunComfy reports the job as {state.raw_status or state.status.value}, with no files to download."
        if not job.status.terminal and not await self.leases.claim(job.id):
            return "Another seedream-tui is following that job; its files are saved there."
        fresh = await self.writer.current(job)
        changes: dict[str, Any] = {"status": JobStatus.DOWNLOADING, "error": None, "finished_at": None}
        try:
            fresh = await self.history.update_job(job.id, expect_version=fresh.version, **changes)
            fresh = await self.history.set_outputs(job.id, [OutputFile(i, u) for i, u in enumerate(state.outputs)])
        except StaleJobError:
            return "The job changed meanwhile; try again."
        # a final row held no lease: now that it is live again, it is ours to follow, with a fresh budget
        self.forget(job.id)
        await self.leases.claim(job.id)
        self.writer.emit(fresh)
        self.leases.start()
        follow(fresh)
        return f"Downloading {len(state.outputs)} file(s) of job {job.id} again."
