"""The durable job history: one SQLite file, written before and after every step.

Users fire off many paid jobs and must never lose one, so the engine writes a row
*before* submitting, stores the request id the moment it returns and records every
state change after. :class:`HistoryStore` is synchronous and thread-safe (one
connection guarded by a lock); :class:`AsyncHistory` runs the same calls on one
dedicated worker thread so the Textual event loop never waits on disk. Two app
instances may share the file: WAL + ``busy_timeout`` serialise their writes and
the polling lease (:meth:`HistoryStore.try_claim`) keeps them from polling one job
twice.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .journal import RequestJournal
from .model import Job, JobStatus, OutputFile
from .store_query import (
    JOB_COLUMNS,
    OUTPUT_COLUMNS,
    PLAIN_FIELDS,
    Filters,
    count_from_counters,
    dump_inputs,
    job_from_row,
    output_from_row,
    output_params,
    prompt_of,
)
from .store_readonly import connect_read_only, folder_is_writable
from .store_schema import LIVE_SQL, HistoryError, JobNotFoundError, connect, unreadable

__all__ = ["AsyncHistory", "HistoryError", "HistoryStore", "JobNotFoundError", "Lease", "StaleJobError"]

T = TypeVar("T")


class StaleJobError(HistoryError):
    """A write was refused: the row changed since it was read, or the writer no longer holds its lease.

    ``current`` is the row as it is now: the writer re-decides from it instead of overwriting newer truth.
    """

    def __init__(self, current: Job) -> None:
        super().__init__(f"Job {current.id} was changed by someone else; the change was not written.")
        self.current = current


@dataclass(frozen=True)
class Lease:
    """Who polls a job: the owner and its heartbeat counter (see store_schema._migrate_v2)."""

    owner: str | None
    beat: int

_UPDATABLE = frozenset(PLAIN_FIELDS) | {"inputs"}
_INSERT_OUTPUT = f"INSERT OR REPLACE INTO outputs ({OUTPUT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
#: recent_prompts stops looking after this many jobs so it stays instant on huge histories
_RECENT_SCAN_CAP = 20_000


class HistoryStore:
    """Synchronous, thread-safe access to the history file at ``path``."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        #: opened for reading only (a read-only home): every write fails with the read-only sentence
        self.read_only = read_only
        self._conn: sqlite3.Connection | None = connect_read_only(self.path) if read_only else connect(self.path)
        #: request ids land here first (see journal.py); replayed by :meth:`replay_journal`
        self.journal = RequestJournal(self.path.with_name(self.path.name + ".requests"))

    # -- plumbing ---------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            conn, self._conn = self._conn, None
            try:
                # keeps the planner's statistics fresh, cheaply: without a limit its ANALYZE reads whole
                # indexes (~390 ms on every quit at 1M jobs); 400 rows per index is what SQLite advises
                conn.execute("PRAGMA analysis_limit = 400")
                conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass
            conn.close()

    @contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and turn SQLite failures into sentences naming the file."""
        with self._lock:
            if self._conn is None:
                raise HistoryError(f"The job history at {self.path} is already closed.")
            try:
                yield self._conn
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise HistoryError(
                        f"The job history at {self.path} is busy (another seedream-tui is writing to it); "
                        "try again in a moment."
                    ) from exc
                raise unreadable(self.path, exc) from exc
            except sqlite3.IntegrityError as exc:
                raise HistoryError(f"The job history at {self.path} refused a change: {exc}.") from exc
            except sqlite3.DatabaseError as exc:
                raise unreadable(self.path, exc) from exc

    @contextmanager
    def _tx(self, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """One transaction: IMMEDIATE for writes (waits for the lock up front), DEFERRED for
        multi-statement reads (one consistent snapshot of jobs and their outputs)."""
        with self._guard() as conn:
            conn.execute(f"BEGIN {mode}")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _load(self, conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[Job]:
        rows = conn.execute(sql, params).fetchall()
        if not rows:
            return []
        outputs: dict[int, list[OutputFile]] = {}
        ids = [row[0] for row in rows]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            query = f"SELECT {OUTPUT_COLUMNS} FROM outputs WHERE job_id IN ({marks}) ORDER BY job_id, idx"
            for out in conn.execute(query, chunk):
                outputs.setdefault(out[0], []).append(output_from_row(out))
        return [job_from_row(row, outputs.get(row[0], ())) for row in rows]

    def _get(self, conn: sqlite3.Connection, job_id: int) -> Job | None:
        jobs = self._load(conn, f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        return jobs[0] if jobs else None

    def _require(self, conn: sqlite3.Connection, job_id: int) -> Job:
        job = self._get(conn, job_id)
        if job is None:
            raise JobNotFoundError(f"Job {job_id} is no longer in the history (it may have been deleted).")
        return job

    # -- writes -----------------------------------------------------------------

    def create_job(
        self,
        model_id: str,
        inputs: dict[str, Any],
        *,
        base_url: str | None = None,
        now: float | None = None,
        owner: str | None = None,
    ) -> Job:
        """Write the row for a job about to be submitted (status SUBMITTING).

        ``owner`` takes the polling lease in the same statement: no other instance can claim the row
        between its birth and the submit's answer (the owner's heartbeat keeps it through the submit).
        """
        stamp = time.time() if now is None else now
        # durable: the row must be on disk before the paid submit it stands for is sent
        with self._durable(True), self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO jobs (model_id, inputs, prompt, status, created_at, updated_at, base_url, poll_owner) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    model_id,
                    dump_inputs(inputs),
                    prompt_of(inputs),
                    JobStatus.SUBMITTING.value,
                    stamp,
                    stamp,
                    base_url,
                    owner,
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

    @contextmanager
    def _durable(self, on: bool) -> Iterator[None]:
        """``synchronous=FULL`` for one write: the commit is on disk (WAL synced) when it returns."""
        if not on:
            yield
            return
        with self._guard() as conn:
            conn.execute("PRAGMA synchronous = FULL")
        try:
            yield
        finally:
            with self._guard() as conn:
                conn.execute("PRAGMA synchronous = NORMAL")

    def record_request_id(self, job_id: int, request_id: str, owner: str | None, *, submitted_at: float) -> Job:
        """Save a submit's answer, durably, whoever touched the row meanwhile.

        The request id is the only handle on a paid job, so it wins over what another instance may have
        concluded without it (a row it settled as "unknown" while this one was suspended mid-submit): the
        row becomes queued again, and this instance holds its lease. A row that already has a request id is
        left alone (StaleJobError).
        """
        with self._durable(True), self._tx() as conn:
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
        restored: list[Job] = []
        done: set[tuple[int, str]] = set()
        for entry in self.journal.entries():
            job = self.get(entry.job_id)
            if job is not None and job.request_id is None and job.status in (JobStatus.SUBMITTING, JobStatus.UNKNOWN):
                restored.append(self.record_request_id(entry.job_id, entry.request_id, None, submitted_at=entry.at))
            done.add((entry.job_id, entry.request_id))
        if done:
            self.journal.compact(done)
        return restored

    def try_claim(self, job_id: int, owner: str, *, expired: Lease | None = None) -> bool:
        """Take the polling lease of a live job: free, already ours, or ``expired`` (the holder and beat
        the caller saw standing still for a whole lease) and unchanged since. Atomic."""
        cond = "poll_owner IS NULL OR poll_owner = ?"
        params: list[Any] = [owner, job_id, owner]
        if expired is not None:
            cond += " OR (poll_owner IS ? AND poll_beat = ?)"
            params += [expired.owner, expired.beat]
        with self._tx() as conn:
            cursor = conn.execute(
                f"UPDATE jobs SET poll_owner = ?, poll_beat = poll_beat + 1 WHERE id = ? "
                f"AND status IN ({LIVE_SQL}) AND ({cond})",
                params,
            )
            return cursor.rowcount == 1

    def lease(self, job_id: int) -> Lease | None:
        """The job's lease as it stands (None when the job is gone)."""
        with self._guard() as conn:
            row = conn.execute("SELECT poll_owner, poll_beat FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Lease(row[0], row[1]) if row else None

    def heartbeat(self, owner: str) -> list[int]:
        """Renew every lease ``owner`` holds (one statement, whatever each job is doing). Returns the ids of
        those jobs: the ones ``owner`` may still poll."""
        with self._tx() as conn:
            rows = conn.execute(
                "UPDATE jobs SET poll_beat = poll_beat + 1 WHERE poll_owner = ? RETURNING id", (owner,)
            ).fetchall()
        return [row[0] for row in rows]

    def release_claims(self, owner: str) -> None:
        """Give up every lease ``owner`` holds (on quit) so another instance can poll at once."""
        with self._tx() as conn:
            conn.execute("UPDATE jobs SET poll_owner = NULL WHERE poll_owner = ?", (owner,))

    def lease_owners(self) -> list[str]:
        """Owners holding a lease on a live job (to free those of app instances that died)."""
        with self._tx("DEFERRED") as conn:
            rows = conn.execute(
                f"SELECT DISTINCT poll_owner FROM jobs WHERE poll_owner IS NOT NULL AND status IN ({LIVE_SQL})"
            ).fetchall()
        return [row[0] for row in rows]

    def insert_many_for_bench(self, jobs: Iterable[tuple[str, dict[str, Any], JobStatus, float]]) -> None:
        """Bulk insert (model_id, inputs, status, created_at) rows in one transaction."""
        rows = (
            (model_id, dump_inputs(inputs), prompt_of(inputs), JobStatus(status).value, created, created)
            for model_id, inputs, status, created in jobs
        )
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO jobs (model_id, inputs, prompt, status, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    # -- reads ------------------------------------------------------------------

    def get(self, job_id: int) -> Job | None:
        with self._tx("DEFERRED") as conn:
            return self._get(conn, job_id)

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

    def get_by_request_id(self, request_id: str) -> Job | None:
        with self._tx("DEFERRED") as conn:
            jobs = self._load(conn, f"SELECT {JOB_COLUMNS} FROM jobs WHERE request_id = ?", (request_id,))
            return jobs[0] if jobs else None

    def live_jobs(self) -> list[Job]:
        """Jobs that still need polling or downloading, oldest first (resumed at start-up)."""
        # literal statuses: bound parameters would keep SQLite off the partial index jobs_live (a full scan)
        with self._tx("DEFERRED") as conn:
            return self._load(conn, f"SELECT {JOB_COLUMNS} FROM jobs WHERE status IN ({LIVE_SQL}) ORDER BY id")

    def list_jobs(
        self,
        *,
        limit: int = 50,
        before_id: int | None = None,
        search: str | None = None,
        statuses: Collection[JobStatus] | None = None,
        model_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[Job]:
        """Newest first; pass the last id of a page as ``before_id`` for the next page."""
        query = Filters(search, statuses, model_id, since, until).query()
        sql = query.page_sql(before_id)
        with self._tx("DEFERRED") as conn:
            return self._load(conn, sql, [*query.params, max(0, limit)])

    def count_jobs(
        self,
        *,
        search: str | None = None,
        statuses: Collection[JobStatus] | None = None,
        model_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> int:
        return self.count_matches(
            None, search=search, statuses=statuses, model_id=model_id, since=since, until=until
        )[0]

    def count_matches(
        self,
        cap: int | None,
        *,
        search: str | None = None,
        statuses: Collection[JobStatus] | None = None,
        model_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> tuple[int, bool]:
        """(how many jobs match, whether there are more): counting stops past ``cap`` (then ``(cap, True)``),
        unless the per-status counters answer exactly anyway. A search matching 60,000 of a million jobs is
        counted to 1,000 in ~3 ms instead of to the end in ~60 ms."""
        filters = Filters(search, statuses, model_id, since, until)
        with self._guard() as conn:
            if filters.only_counters:
                return count_from_counters(conn, filters), False
            query = filters.query()
            total = int(conn.execute(query.count_sql(cap), query.params).fetchone()[0])
        if cap is not None and total > cap:
            return cap, True
        return total, False

    def run_times(self, model_id: str, limit: int = 100) -> list[tuple[dict[str, Any], float]]:
        """(inputs, seconds from started to finished) of the model's latest completed jobs, newest first:
        what the poller predicts a running job's end from."""
        with self._guard() as conn:
            rows = conn.execute(
                "SELECT inputs, finished_at - started_at FROM jobs INDEXED BY jobs_model_status_id "
                "WHERE model_id = ? AND status = 'completed' AND started_at IS NOT NULL AND finished_at IS NOT NULL "
                "ORDER BY id DESC LIMIT ?",
                (model_id, limit),
            ).fetchall()
        out = []
        for inputs, seconds in rows:
            try:
                out.append((json.loads(inputs), float(seconds)))
            except ValueError:
                continue
        return [(i, s) for i, s in out if isinstance(i, dict) and s > 0]

    def recent_prompts(self, limit: int = 50) -> list[str]:
        """Distinct non-empty prompts, most recently used first (prompt recall)."""
        seen: dict[str, None] = {}
        with self._guard() as conn:
            cursor = conn.execute(
                "SELECT prompt FROM jobs WHERE prompt != '' ORDER BY id DESC LIMIT ?", (_RECENT_SCAN_CAP,)
            )
            for (prompt,) in cursor:
                seen.setdefault(prompt, None)
                if len(seen) >= limit:
                    break
            cursor.close()
        return list(seen)

    def model_ids(self) -> list[str]:
        with self._guard() as conn:
            rows = conn.execute(
                "SELECT model_id FROM job_counts GROUP BY model_id HAVING SUM(n) > 0 ORDER BY model_id"
            ).fetchall()
        return [row[0] for row in rows]

    def set_parents(self, job_id: int, parents: Sequence[int]) -> None:
        """Record which jobs' results ``job_id`` took as inputs (an edit chain), in order."""
        with self._tx() as conn:
            conn.execute("DELETE FROM job_parents WHERE job_id = ?", (job_id,))
            conn.executemany(
                "INSERT INTO job_parents (job_id, parent_id, position) VALUES (?, ?, ?)",
                [(job_id, parent, position) for position, parent in enumerate(parents)],
            )

    def parents(self, job_id: int) -> list[int]:
        with self._guard() as conn:
            rows = conn.execute("SELECT parent_id FROM job_parents WHERE job_id = ? ORDER BY position", (job_id,))
            return [row[0] for row in rows]

    def chain(self, job_id: int, limit: int = 50) -> list[int]:
        """The job's ancestry through first parents, oldest first, ending with ``job_id`` (``#12 → #15 → #18``)."""
        with self._guard() as conn:
            rows = conn.execute(
                """
                WITH RECURSIVE up(id, depth) AS (
                    SELECT ?, 0
                    UNION ALL
                    SELECT p.parent_id, up.depth + 1 FROM job_parents p JOIN up ON p.job_id = up.id
                    WHERE p.position = 0 AND up.depth < ?
                )
                SELECT id FROM up ORDER BY depth DESC
                """,
                (job_id, limit),
            ).fetchall()
        return [row[0] for row in rows]

    def derived_from(self, job_id: int) -> list[int]:
        """Every job made from ``job_id``'s results, directly or down a chain, oldest first."""
        with self._guard() as conn:
            rows = conn.execute(
                """
                WITH RECURSIVE down(id) AS (
                    SELECT job_id FROM job_parents WHERE parent_id = ?
                    UNION
                    SELECT p.job_id FROM job_parents p JOIN down ON p.parent_id = down.id
                )
                SELECT id FROM down ORDER BY id
                """,
                (job_id,),
            ).fetchall()
        return [row[0] for row in rows]

    def cost_rows(self, since: float | None = None) -> list[tuple[str, float, float]]:
        """``(model_id, created_at, cost)`` of every job with a reported cost, oldest first (the spend ledger)."""
        sql = "SELECT model_id, created_at, cost FROM jobs WHERE cost IS NOT NULL"
        params: tuple[Any, ...] = ()
        if since is not None:
            sql, params = sql + " AND created_at >= ?", (since,)
        with self._guard() as conn:
            return [(str(m), float(t), float(c)) for m, t, c in conn.execute(sql + " ORDER BY created_at", params)]

    def integrity_check(self) -> str:
        with self._guard() as conn:
            return "\n".join(str(row[0]) for row in conn.execute("PRAGMA integrity_check"))


class AsyncHistory:
    """The history for the event loop: every call runs, in order, on one worker thread."""

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

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def close(self) -> None:
        await self._run(self.store.close)
        self._executor.shutdown(wait=False)

    async def create_job(
        self,
        model_id: str,
        inputs: dict[str, Any],
        *,
        base_url: str | None = None,
        now: float | None = None,
        owner: str | None = None,
    ) -> Job:
        return await self._run(self.store.create_job, model_id, inputs, base_url=base_url, now=now, owner=owner)

    async def update_job(self, job_id: int, **changes: Any) -> Job:
        return await self._run(self.store.update_job, job_id, **changes)

    async def record_request_id(self, job_id: int, request_id: str, owner: str, *, submitted_at: float) -> Job:
        return await self._run(self.store.record_request_id, job_id, request_id, owner, submitted_at=submitted_at)

    async def replay_journal(self) -> list[Job]:
        return await self._run(self.store.replay_journal)

    async def set_outputs(
        self, job_id: int, outputs: Sequence[OutputFile], *, owner: str | None = None,
        changes: dict[str, Any] | None = None,
    ) -> Job:
        return await self._run(self.store.set_outputs, job_id, tuple(outputs), owner=owner, changes=changes)

    async def update_output(
        self, job_id: int, output: OutputFile, *, owner: str | None = None, changes: dict[str, Any] | None = None
    ) -> Job:
        return await self._run(self.store.update_output, job_id, output, owner=owner, changes=changes)

    async def get(self, job_id: int) -> Job | None:
        return await self._run(self.store.get, job_id)

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    async def adopt_request(
        self, request_id: str, *, model_id: str, base_url: str | None, owner: str | None
    ) -> tuple[Job, bool]:
        return await self._run(self.store.adopt_request, request_id, model_id=model_id, base_url=base_url, owner=owner)

    async def get_by_request_id(self, request_id: str) -> Job | None:
        return await self._run(self.store.get_by_request_id, request_id)

    async def live_jobs(self) -> list[Job]:
        return await self._run(self.store.live_jobs)

    async def list_jobs(
        self,
        *,
        limit: int = 50,
        before_id: int | None = None,
        search: str | None = None,
        statuses: Collection[JobStatus] | None = None,
        model_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[Job]:
        return await self._run(
            self.store.list_jobs,
            limit=limit,
            before_id=before_id,
            search=search,
            statuses=statuses,
            model_id=model_id,
            since=since,
            until=until,
        )

    async def count_jobs(
        self,
        *,
        search: str | None = None,
        statuses: Collection[JobStatus] | None = None,
        model_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> int:
        return await self._run(
            self.store.count_jobs,
            search=search,
            statuses=statuses,
            model_id=model_id,
            since=since,
            until=until,
        )

    async def count_matches(self, cap: int | None, **filters: Any) -> tuple[int, bool]:
        return await self._run(self.store.count_matches, cap, **filters)

    async def delete_job(self, job_id: int) -> Job | None:
        return await self._run(self.store.delete_job, job_id)

    async def run_times(self, model_id: str, limit: int = 100) -> list[tuple[dict[str, Any], float]]:
        return await self._run(self.store.run_times, model_id, limit)

    async def recent_prompts(self, limit: int = 50) -> list[str]:
        return await self._run(self.store.recent_prompts, limit)

    async def model_ids(self) -> list[str]:
        return await self._run(self.store.model_ids)

    async def try_claim(self, job_id: int, owner: str, *, expired: Lease | None = None) -> bool:
        return await self._run(self.store.try_claim, job_id, owner, expired=expired)

    async def lease(self, job_id: int) -> Lease | None:
        return await self._run(self.store.lease, job_id)

    async def heartbeat(self, owner: str) -> list[int]:
        return await self._run(self.store.heartbeat, owner)

    async def release_claims(self, owner: str) -> None:
        await self._run(self.store.release_claims, owner)

    async def lease_owners(self) -> list[str]:
        return await self._run(self.store.lease_owners)

    async def set_parents(self, job_id: int, parents: Sequence[int]) -> None:
        await self._run(self.store.set_parents, job_id, parents)

    async def parents(self, job_id: int) -> list[int]:
        return await self._run(self.store.parents, job_id)

    async def chain(self, job_id: int) -> list[int]:
        return await self._run(self.store.chain, job_id)

    async def derived_from(self, job_id: int) -> list[int]:
        return await self._run(self.store.derived_from, job_id)

    async def cost_rows(self, since: float | None = None) -> list[tuple[str, float, float]]:
        return await self._run(self.store.cost_rows, since)

    async def integrity_check(self) -> str:
        return await self._run(self.store.integrity_check)


def _open_store(path: Path, allow_read_only: bool) -> HistoryStore:
    try:
        return HistoryStore(path)
    except HistoryError:
        folder = Path(path).parent
        if not allow_read_only or not folder.is_dir() or (folder_is_writable(folder) and _file_is_writable(path)):
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
