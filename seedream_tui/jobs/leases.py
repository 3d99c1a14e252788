"""The lease keeper: the one place that knows which jobs this instance may poll.

Two app instances can share one history; a job is polled only by the instance holding its lease (a
``poll_owner`` column with a heartbeat counter, see store_schema). The keeper sends the heartbeat, and
every operation that gives this instance a lease goes through it (a row born holding the lease, a request
id recorded, an adopted request, a claim), so what it holds in memory is never behind the history:
before, four places recorded claims by hand and an adopted request was claimed but not recorded, so its
follower spun on the history until the next heartbeat (issue 18 §1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from typing import Any

from seedream_tui.jobs.model import Job
from seedream_tui.jobs.store import AsyncHistory, Lease
from seedream_tui.jobs.store_queue import Claim, DailyCap
from seedream_tui.proc import pid_alive

log = logging.getLogger(__name__)


class Stale(Exception):
    """A write was refused, or the lease is no longer ours: re-read the row and decide again from the truth."""

    def __init__(self, current: Job) -> None:
        super().__init__(current.id)
        self.current = current


def new_owner() -> str:
    """This instance's name in the history: ``host:pid:nonce`` (see :func:`owner_is_dead`)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """True when ``owner`` ("host:pid:nonce") is an instance on this machine whose process is gone."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    return host == socket.gethostname() and pid_text.isdigit() and not pid_alive(int(pid_text))


class LeaseKeeper:
    """Holds this instance's leases: heartbeat, claims, and the check before each request."""

    def __init__(self, history: AsyncHistory, owner: str, *, lease: float) -> None:
        self.history = history
        self.owner = owner
        #: seconds a lease whose heartbeat stood still is taken over after (the heartbeat beats 3 times in it)
        self.lease = lease
        self._owned: set[int] = set()
        #: leases taken while a heartbeat was in flight: its answer may predate them, so they are kept
        self._taken_during_beat: set[int] = set()
        self._beating = False
        self._beat_at = -1e9
        self._beat_lock = asyncio.Lock()
        self._heart: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ what is held
    @property
    def owned(self) -> frozenset[int]:
        """The jobs this instance holds the lease of, as far as it knows."""
        return frozenset(self._owned)

    def holds(self, job_id: int) -> bool:
        return job_id in self._owned

    def _record(self, job_id: int) -> None:
        self._owned.add(job_id)
        if self._beating:
            self._taken_during_beat.add(job_id)

    # --------------------------------------------------------------- heartbeat
    @property
    def running(self) -> bool:
        return self._heart is not None and not self._heart.done()

    def start(self) -> None:
        """Beat from now on (idempotent): a submit, a download or a follower may need the lease kept."""
        if not self.running:
            self._heart = asyncio.create_task(self._beat(), name="lease-heartbeat")

    async def stop(self) -> None:
        """Stop beating and give every lease up, so another instance can poll at once."""
        heart, self._heart = self._heart, None
        if heart is not None:
            heart.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await heart
        with contextlib.suppress(Exception):
            await self.history.release_claims(self.owner)
        self._owned.clear()

    async def _beat(self) -> None:
        while True:
            try:
                await self.beat_once()
            except Exception:  # a busy history: the next beat comes soon, and the lease is 3 beats long
                log.warning("lease heartbeat failed", exc_info=True)
            await asyncio.sleep(self.lease / 3)

    async def beat_once(self) -> None:
        """Renew every lease this instance holds; what the history says it holds is what it holds."""
        async with self._beat_lock:
            sent = time.monotonic()
            self._beating, self._taken_during_beat = True, set()
            try:
                held = await self.history.heartbeat(self.owner)
            finally:
                self._beating = False
            self._owned = set(held) | self._taken_during_beat
            self._beat_at = sent

    async def hold(self, job: Job) -> None:
        """Before each request made for a job: make sure this instance still holds its lease. After a long
        pause (the process was suspended, the machine slept) the heartbeat is renewed first, which tells
        whether another instance took the job over meanwhile; if so, :class:`Stale` with the row as it is."""
        if time.monotonic() - self._beat_at > self.lease / 2:
            await self.beat_once()
        if job.id not in self._owned:
            raise Stale(await self.history.get(job.id) or job)

    # -------------------------------------------------------- taking leases
    async def claim(self, job_id: int, *, expired: Lease | None = None) -> bool:
        """Take the lease of a live job: free, already ours, or ``expired`` (seen standing still for a whole
        lease, or its process gone). Recorded at once when taken."""
        if await self.history.try_claim(job_id, self.owner, expired=expired):
            self._record(job_id)
            return True
        return False

    async def claim_if_free_or_dead(self, job_id: int) -> bool:
        """Claim a job unless another live instance holds it (a one-shot check: no waiting for expiry)."""
        lease = await self.history.lease(job_id)
        dead = lease if lease is not None and lease.owner and owner_is_dead(lease.owner) else None
        return await self.claim(job_id, expired=dead)

    async def create_job(self, model_id: str, inputs: dict[str, Any], *, base_url: str | None) -> Job:
        """The row of a job about to be submitted, born holding this instance's lease."""
        job = await self.history.create_job(model_id, inputs, base_url=base_url, owner=self.owner)
        self._record(job.id)
        return job

    async def claim_pending(self, *, limit: int, base_url: str | None, daily: DailyCap | None) -> Claim:
        """Take the next pending job of the local queue that may go now (see store_queue.claim_pending): it
        becomes ``submitting``, holding this instance's lease, recorded at once."""
        claim = await self.history.claim_pending(self.owner, limit=limit, base_url=base_url, daily=daily)
        if claim.job is not None:
            self._record(claim.job.id)
        return claim

    async def record_request_id(self, job_id: int, request_id: str, *, submitted_at: float) -> Job:
        """Save a submit's answer; the row holds this instance's lease from then on (StaleJobError as the store's)."""
        job = await self.history.record_request_id(job_id, request_id, self.owner, submitted_at=submitted_at)
        self._record(job_id)
        return job

    async def adopt_request(self, request_id: str, *, model_id: str, base_url: str | None) -> tuple[Job, bool]:
        """The row of a request made elsewhere, holding this instance's lease when it is new."""
        job, created = await self.history.adopt_request(request_id, model_id=model_id, base_url=base_url,
                                                        owner=self.owner)
        if created:
            self._record(job.id)
        return job, created

    async def free_dead_owners(self) -> None:
        """Release the leases of crashed instances on this machine, so their jobs are polled now."""
        for owner in await self.history.lease_owners():
            if owner != self.owner and owner_is_dead(owner):
                await self.history.release_claims(owner)
