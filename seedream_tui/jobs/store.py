"""The durable job history: one SQLite file, written before and after every step.

Users fire off many paid jobs and must never lose one, so the engine writes a row
*before* submitting, stores the request id the moment it returns and records every
state change after. :class:`HistoryStore` is synchronous and thread-safe (one
connection guarded by a lock); :class:`AsyncHistory` runs the same calls on one
dedicated worker thread so the Textual event loop never waits on disk. Two app
instances may share the file: WAL + ``busy_timeout`` serialise their writes and
the polling lease (:meth:`HistoryStore.try_claim`) keeps them from polling one job
twice.

The parts: store_base (the connection and transactions), this module (a job's writes), store_leases
(polling leases), store_lineage (edit chains), store_reads (queries), store_schema (migrations).
"""

from __future__ import annotations

import asyncio
import errno
import functools
import os
import sqlite3
import time
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from .model import Job, JobStatus, OutputFile
from .store_base import StaleJobError, StoreBase
from .store_batches import BatchRows
from .store_leases import Lease, LeaseRows
from .store_lineage import LineageRows
from .store_query import JOB_COLUMNS, OUTPUT_COLUMNS, PLAIN_FIELDS, dump_inputs, output_params, prompt_of
from .store_queue import QueueRows
from .store_readonly import folder_is_writable
from .store_reads import ReadRows
from .store_schema import HistoryError, HistoryUnwritable, JobNotFoundError

__all__ = ["AsyncHistory", "HistoryError", "HistoryStore", "JobNotFoundError", "Lease", "StaleJobError"]

T = TypeVar("T")
P = ParamSpec("P")

_UPDATABLE = frozenset(PLAIN_FIELDS) | {"inputs", "variant"}
_INSERT_OUTPUT = f"INSERT OR REPLACE INTO outputs ({OUTPUT_COLUMNS}) VALUES ({', '.join('?' * 13)})"


class HistoryStore(ReadRows, LeaseRows, LineageRows, BatchRows, QueueRows, StoreBase):
    """The whole history: a job's writes here, the rest from its parts."""

    def create_job(
        self,
        model_id: str,
        inputs: dict[str, Any],
        *,
        base_url: str | None = None,
        now: float | None = None,
        owner: str | None = None,
        batch_id: int | None = None,
        batch_place: int | None = None,
        variant: dict[str, Any] | None = None,
    ) -> Job:
        """Write the row for a job about to be submitted (status SUBMITTING).

        ``owner`` takes the polling lease in the same statement: no other instance can claim the row
        between its birth and the submit's answer (the owner's heartbeat keeps it through the submit).
        """
        stamp = time.time() if now is None else now
        # durable: the row must be on disk before the paid submit it stands for is sent
        with self._durable(True), self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO jobs (model_id, inputs, prompt, status, created_at, updated_at, base_url, poll_owner, "
                "batch_id, batch_place, variant) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    model_id,
                    dump_inputs(inputs),
                    prompt_of(inputs),
                    JobStatus.SUBMITTING.value,
                    stamp,
                    stamp,
                    base_url,
                    owner,
                    batch_id,
                    batch_place,
                    None if variant is None else dump_inputs(variant),
                ),
            )
            assert cursor.lastrowid is not None
            return self._require(conn, cursor.lastrowid)

    def update_job(
        self,
        job_id: int,
        *,
        expect_version: int | None = None,
        owner: str | None = None,
        durable: bool = False,
        **changes: Any,
    ) -> Job:
        """Change any Job field but id/outputs; ``updated_at`` is set to now unless given.

        Compare-and-set: with ``expect_version`` the write happens only if nobody wrote the row since that
        version was read; with ``owner`` only while that instance holds the polling lease. Otherwise
        :class:`StaleJobError` carries the row as it is now. ``durable`` syncs the write to disk before
        returning (the rows around a paid submit). A job that becomes terminal gives up its lease.
        """
        with self._durable(durable), self._tx() as conn:
            return self._update(conn, job_id, changes, expect_version=expect_version, owner=owner)

    def _update(
        self, conn: sqlite3.Connection, job_id: int, changes: dict[str, Any], *, expect_version: int | None,
        owner: str | None,
    ) -> Job:
        """:meth:`update_job` inside a transaction already open."""
        bad = set(changes) - _UPDATABLE
        if bad:
            raise ValueError(f"update_job cannot change {', '.join(sorted(bad))}")
        columns: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "inputs":
                columns["inputs"] = dump_inputs(value)
                columns["prompt"] = prompt_of(value)
            elif name == "variant":
                columns["variant"] = None if value is None else dump_inputs(value)
            elif name == "status":
                columns["status"] = JobStatus(value).value
            else:
                columns[name] = value
        columns.setdefault("updated_at", time.time())
        if "status" in columns and JobStatus(columns["status"]).terminal:
            columns["poll_owner"] = None
        assignments = ", ".join(f"{name} = ?" for name in columns) + ", version = version + 1"
        where: str = "id = ?"
        params: list[Any] = [job_id]
        if expect_version is not None:
            where, params = where + " AND version = ?", [*params, expect_version]
        if owner is not None:
            where, params = where + " AND poll_owner = ?", [*params, owner]
        cursor = conn.execute(f"UPDATE jobs SET {assignments} WHERE {where}", [*columns.values(), *params])
        current = self._require(conn, job_id)
        if cursor.rowcount == 0:
            raise StaleJobError(current)
        return current

    def record_request_id(self, job_id: int, request_id: str, owner: str | None, *, submitted_at: float) -> Job:
        """Save a submit's answer, durably, whoever touched the row meanwhile.

        The request id is the only handle on a paid job, so it wins over what another instance may have
        concluded without it (a row it settled as "unknown" while this one was suspended mid-submit): the
        row becomes queued again, and this instance holds its lease. A row that already has a request id is
        left alone (StaleJobError).

        A request id that another job already has (a server that answered two submits with one id) is not
        written: this job becomes unknown with a sentence naming the other job, which is left as it was;
        nothing else of the history is held up (the UNIQUE index would refuse every retry and replay).
        """
        with self._durable(True), self._tx() as conn:
            twin = conn.execute("SELECT id, inputs = '{}' AND submitted_at IS NULL FROM jobs WHERE request_id = ? "
                                "AND id != ?", (request_id, job_id)).fetchone()
            if twin is not None:
                current = self._require(conn, job_id)
                if current.request_id is None and current.status in (JobStatus.SUBMITTING, JobStatus.UNKNOWN):
                    error = (f"This job's request {request_id} is followed as job {twin[0]} (looked up by its request "
                             "id before it could be saved here)." if twin[1] else
                             f"RunComfy gave this job the request id {request_id} of job {twin[0]}, so it cannot be "
                             f"followed here; check the RunComfy dashboard for it. Job {twin[0]} was left as it was.")
                    if current.error != error or current.status is not JobStatus.UNKNOWN:
                        current = self._update(conn, job_id, {"status": JobStatus.UNKNOWN, "error": error,
                                                              "finished_at": time.time()}, expect_version=None,
                                               owner=None)
                return current
            cursor = conn.execute(
                "UPDATE jobs SET request_id = ?, status = ?, submitted_at = ?, error = NULL, finished_at = NULL, "
                "poll_owner = COALESCE(?, poll_owner), updated_at = ?, version = version + 1 "
                "WHERE id = ? AND request_id IS NULL AND status IN (?, ?)",
                (request_id, JobStatus.QUEUED.value, submitted_at, owner, time.time(), job_id,
                 JobStatus.SUBMITTING.value, JobStatus.UNKNOWN.value),
            )
            current = self._require(conn, job_id)
            if cursor.rowcount == 0 and current.request_id != request_id:
                raise StaleJobError(current)
            return current

    def _check_owner(self, conn: sqlite3.Connection, job_id: int, owner: str | None) -> None:
        job = self._require(conn, job_id)
        if owner is not None and conn.execute("SELECT poll_owner FROM jobs WHERE id = ?", (job_id,)).fetchone()[0] != owner:
            raise StaleJobError(job)

    def set_outputs(
        self, job_id: int, outputs: Sequence[OutputFile], *, owner: str | None = None,
        changes: dict[str, Any] | None = None,
    ) -> Job:
        """Replace all of the job's outputs (e.g. the URLs from the result call); with ``owner``, only
        while that instance holds the job's lease (else StaleJobError). ``changes``: the row's own fields
        too, as :meth:`update_job` with that owner, in the same transaction (one commit, and no other
        writer between the outputs and the status that goes with them)."""
        with self._tx() as conn:
            self._check_owner(conn, job_id, owner)
            conn.execute("DELETE FROM outputs WHERE job_id = ?", (job_id,))
            conn.executemany(_INSERT_OUTPUT, [output_params(job_id, out) for out in outputs])
            return self._touch(conn, job_id, owner, changes)

    def update_output(
        self, job_id: int, output: OutputFile, *, owner: str | None = None, changes: dict[str, Any] | None = None
    ) -> Job:
        """Insert or replace the output with ``output.index`` (e.g. once it is downloaded); ``changes`` as
        for :meth:`set_outputs` (the last file of a job and its completion: one transaction)."""
        with self._tx() as conn:
            self._check_owner(conn, job_id, owner)
            conn.execute(_INSERT_OUTPUT, output_params(job_id, output))
            return self._touch(conn, job_id, owner, changes)

    def _touch(self, conn: sqlite3.Connection, job_id: int, owner: str | None, changes: dict[str, Any] | None) -> Job:
        """A new version of the row after its outputs changed, with ``changes`` if any."""
        if changes:
            return self._update(conn, job_id, changes, expect_version=None, owner=owner)
        conn.execute("UPDATE jobs SET updated_at = ?, version = version + 1 WHERE id = ?", (time.time(), job_id))
        return self._require(conn, job_id)

    def delete_job(self, job_id: int) -> Job | None:
        """Delete the job and its output rows; the caller removes the files it returns."""
        with self._tx() as conn:
            job = self._get(conn, job_id)
            if job is not None:
                conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            return job

    def replay_journal(self) -> list[Job]:
        """Put request ids that reached the journal but not the history into the history; returns those
        jobs (queued again; a lease is left with its holder, which may be submitting it right now). Entries
        already in the history are dropped from the journal."""
        self.journal.keep_room()  # before any submit of this run: room for its request id on a disk that fills
        restored: list[Job] = []
        done: set[tuple[int, str]] = set()
        for entry in self.journal.entries():
            job = self.get(entry.job_id)
            if job is not None and job.request_id is None and job.status in (JobStatus.SUBMITTING, JobStatus.UNKNOWN):
                try:
                    saved = self.record_request_id(entry.job_id, entry.request_id, None, submitted_at=entry.at)
                except StaleJobError:
                    pass
                except HistoryError:  # this entry cannot be written now: it stays in the journal for next time
                    continue
                else:
                    if saved.request_id == entry.request_id:
                        restored.append(saved)
            done.add((entry.job_id, entry.request_id))
        if done:
            self.journal.compact(done)
        return restored

    def adopt_request(self, request_id: str, *, model_id: str, base_url: str | None, owner: str | None) -> tuple[Job, bool]:
        """The row of a RunComfy request made elsewhere (the dashboard, another tool): inserted as a queued
        job with no inputs, holding ``owner``'s lease, unless a row already has that request id. Atomic, so
        two instances adopting one request make one row. Returns the row and whether it is new."""
        now = time.time()
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO jobs (request_id, model_id, inputs, prompt, status, created_at, updated_at, "
                "submitted_at, base_url, poll_owner) VALUES (?, ?, '{}', '', ?, ?, ?, NULL, ?, ?) "
                "ON CONFLICT(request_id) DO NOTHING",
                (request_id, model_id, JobStatus.QUEUED.value, now, now, base_url, owner),
            )
            jobs = self._load(conn, f"SELECT {JOB_COLUMNS} FROM jobs WHERE request_id = ?", (request_id,))
            return jobs[0], cursor.rowcount == 1



def _threaded(
    method: Callable[Concatenate[HistoryStore, P], T],
) -> Callable[Concatenate[AsyncHistory, P], Coroutine[Any, Any, T]]:
    """The store's ``method`` run on the history's worker thread, with the same signature."""
    name = method.__name__

    async def call(self: AsyncHistory, /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        bound: Callable[..., T] = getattr(self.store, name)
        return await loop.run_in_executor(self._executor, functools.partial(bound, *args, **kwargs))

    call.__name__ = call.__qualname__ = name
    call.__doc__ = method.__doc__
    return call


class AsyncHistory:
    """The history for the event loop: every call runs, in order, on one worker thread. Each method is the
    store's own, made by :func:`_threaded` (one line each: the signatures and types are the store's)."""

    def __init__(self, store: HistoryStore, *, executor: ThreadPoolExecutor | None = None) -> None:
        self.store = store
        self._executor = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")

    @classmethod
    async def open(cls, path: Path, *, allow_read_only: bool = False) -> AsyncHistory:
        """Open (and migrate) the store in the worker thread: a big file never stalls the UI.

        ``allow_read_only`` (commands that only read): a history in a folder that cannot be written is
        opened for reading instead of refused (see :attr:`read_only`)."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")
        try:
            store = await asyncio.get_running_loop().run_in_executor(executor, _open_store, path, allow_read_only)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(store, executor=executor)

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    async def close(self) -> None:
        await self._close()
        self._executor.shutdown(wait=False)

    _close = _threaded(HistoryStore.close)
    # writes
    create_job = _threaded(HistoryStore.create_job)
    update_job = _threaded(HistoryStore.update_job)
    record_request_id = _threaded(HistoryStore.record_request_id)
    replay_journal = _threaded(HistoryStore.replay_journal)
    set_outputs = _threaded(HistoryStore.set_outputs)
    update_output = _threaded(HistoryStore.update_output)
    delete_job = _threaded(HistoryStore.delete_job)
    adopt_request = _threaded(HistoryStore.adopt_request)
    # leases
    try_claim = _threaded(HistoryStore.try_claim)
    lease = _threaded(HistoryStore.lease)
    heartbeat = _threaded(HistoryStore.heartbeat)
    release_claims = _threaded(HistoryStore.release_claims)
    lease_owners = _threaded(HistoryStore.lease_owners)
    # lineage
    set_parents = _threaded(HistoryStore.set_parents)
    parents = _threaded(HistoryStore.parents)
    chain = _threaded(HistoryStore.chain)
    chain_kinds = _threaded(HistoryStore.chain_kinds)
    derived_from = _threaded(HistoryStore.derived_from)
    # batches
    create_batch = _threaded(HistoryStore.create_batch)
    get_batch = _threaded(HistoryStore.get_batch)
    list_batches = _threaded(HistoryStore.list_batches)
    batch_jobs = _threaded(HistoryStore.batch_jobs)
    # reads
    get = _threaded(HistoryStore.get)
    get_by_request_id = _threaded(HistoryStore.get_by_request_id)
    live_jobs = _threaded(HistoryStore.live_jobs)
    list_jobs = _threaded(HistoryStore.list_jobs)
    count_jobs = _threaded(HistoryStore.count_jobs)
    count_matches = _threaded(HistoryStore.count_matches)
    run_times = _threaded(HistoryStore.run_times)
    recent_prompts = _threaded(HistoryStore.recent_prompts)
    model_ids = _threaded(HistoryStore.model_ids)
    cost_rows = _threaded(HistoryStore.cost_rows)
    video_seconds = _threaded(HistoryStore.video_seconds)
    integrity_check = _threaded(HistoryStore.integrity_check)
    # the local queue
    create_pending_batch = _threaded(HistoryStore.create_pending_batch)
    claim_pending = _threaded(HistoryStore.claim_pending)
    spent_since = _threaded(HistoryStore.spent_since)
    queue_paused = _threaded(HistoryStore.queue_paused)
    set_queue_paused = _threaded(HistoryStore.set_queue_paused)
    pending_counts = _threaded(HistoryStore.pending_counts)
    cancel_pending = _threaded(HistoryStore.cancel_pending)
    move_pending_up = _threaded(HistoryStore.move_pending_up)


def _open_store(path: Path, allow_read_only: bool) -> HistoryStore:
    try:
        return HistoryStore(path)
    except HistoryError as exc:
        folder = Path(path).parent
        if not allow_read_only or not folder.is_dir():
            raise
        if isinstance(exc, HistoryUnwritable):  # a full disk or a read-only folder: the file itself is fine
            if not Path(path).is_file():
                raise
        elif folder_is_writable(folder) and _file_is_writable(path):
            raise
    return HistoryStore(path, read_only=True)


def _file_is_writable(path: Path) -> bool:
    """False only when the history file is there and the system refuses to write it (its mode, a read-only
    mount): a folder in its place, or no file at all, is another problem with its own sentence."""
    try:
        os.close(os.open(path, os.O_WRONLY))
    except PermissionError:
        return False
    except OSError as exc:
        return exc.errno != errno.EROFS
    return True
