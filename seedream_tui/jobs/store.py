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
import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

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
from .store_schema import LIVE_STATUSES, HistoryError, JobNotFoundError, connect, unreadable

__all__ = ["AsyncHistory", "HistoryError", "HistoryStore", "JobNotFoundError"]

T = TypeVar("T")

_UPDATABLE = frozenset(PLAIN_FIELDS) | {"inputs"}
_INSERT_OUTPUT = f"INSERT OR REPLACE INTO outputs ({OUTPUT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
#: recent_prompts stops looking after this many jobs so it stays instant on huge histories
_RECENT_SCAN_CAP = 20_000


class HistoryStore:
    """Synchronous, thread-safe access to the history file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = connect(self.path)

    # -- plumbing ---------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            conn, self._conn = self._conn, None
            try:
                conn.execute("PRAGMA optimize")  # keeps the planner's statistics fresh, cheaply
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
        self, model_id: str, inputs: dict[str, Any], *, base_url: str | None = None, now: float | None = None
    ) -> Job:
        """Write the row for a job about to be submitted (status SUBMITTING)."""
        stamp = time.time() if now is None else now
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO jobs (model_id, inputs, prompt, status, created_at, updated_at, base_url) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    model_id,
                    dump_inputs(inputs),
                    prompt_of(inputs),
                    JobStatus.SUBMITTING.value,
                    stamp,
                    stamp,
                    base_url,
                ),
            )
            assert cursor.lastrowid is not None
            return self._require(conn, cursor.lastrowid)

    def update_job(self, job_id: int, **changes: Any) -> Job:
        """Change any Job field but id/outputs; ``updated_at`` is set to now unless given."""
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
        assignments = ", ".join(f"{name} = ?" for name in columns)
        with self._tx() as conn:
            cursor = conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", [*columns.values(), job_id])
            if cursor.rowcount == 0:
                raise JobNotFoundError(
                    f"Job {job_id} is no longer in the history (it may have been deleted)."
                )
            return self._require(conn, job_id)

    def set_outputs(self, job_id: int, outputs: Sequence[OutputFile]) -> Job:
        """Replace all of the job's outputs (e.g. the URLs from the result call)."""
        with self._tx() as conn:
            self._require(conn, job_id)
            conn.execute("DELETE FROM outputs WHERE job_id = ?", (job_id,))
            conn.executemany(_INSERT_OUTPUT, [output_params(job_id, out) for out in outputs])
            conn.execute("UPDATE jobs SET updated_at = ? WHERE id = ?", (time.time(), job_id))
            return self._require(conn, job_id)

    def update_output(self, job_id: int, output: OutputFile) -> Job:
        """Insert or replace the output with ``output.index`` (e.g. once it is downloaded)."""
        with self._tx() as conn:
            self._require(conn, job_id)
            conn.execute(_INSERT_OUTPUT, output_params(job_id, output))
            conn.execute("UPDATE jobs SET updated_at = ? WHERE id = ?", (time.time(), job_id))
            return self._require(conn, job_id)

    def delete_job(self, job_id: int) -> Job | None:
        """Delete the job and its output rows; the caller removes the files it returns."""
        with self._tx() as conn:
            job = self._get(conn, job_id)
            if job is not None:
                conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            return job

    def try_claim(self, job_id: int, owner: str, lease_seconds: float, *, now: float | None = None) -> bool:
        """Take (or renew) the polling lease unless another live owner holds it. Atomic."""
        stamp = time.time() if now is None else now
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET poll_owner = ?, poll_lease_until = ? WHERE id = ? AND ("
                "poll_owner IS NULL OR poll_owner = ? OR poll_lease_until IS NULL OR poll_lease_until <= ?)",
                (owner, stamp + lease_seconds, job_id, owner, stamp),
            )
            return cursor.rowcount == 1

    def release_claims(self, owner: str) -> None:
        """Give up every lease ``owner`` holds (on quit) so another instance can poll at once."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE jobs SET poll_owner = NULL, poll_lease_until = NULL WHERE poll_owner = ?", (owner,)
            )

    def lease_owners(self) -> list[str]:
        """Owners holding a lease on a live job (to free those of app instances that died)."""
        marks = ", ".join("?" * len(LIVE_STATUSES))
        with self._tx("DEFERRED") as conn:
            rows = conn.execute(
                f"SELECT DISTINCT poll_owner FROM jobs WHERE poll_owner IS NOT NULL AND status IN ({marks})",
                LIVE_STATUSES,
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

    def get_by_request_id(self, request_id: str) -> Job | None:
        with self._tx("DEFERRED") as conn:
            jobs = self._load(conn, f"SELECT {JOB_COLUMNS} FROM jobs WHERE request_id = ?", (request_id,))
            return jobs[0] if jobs else None

    def live_jobs(self) -> list[Job]:
        """Jobs that still need polling or downloading, oldest first (resumed at start-up)."""
        marks = ", ".join("?" * len(LIVE_STATUSES))
        with self._tx("DEFERRED") as conn:
            return self._load(
                conn,
                f"SELECT {JOB_COLUMNS} FROM jobs WHERE status IN ({marks}) ORDER BY id",
                LIVE_STATUSES,
            )

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
        filters = Filters(search, statuses, model_id, since, until)
        with self._guard() as conn:
            if filters.only_counters:
                return count_from_counters(conn, filters)
            query = filters.query()
            return int(conn.execute(query.count_sql(), query.params).fetchone()[0])

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

    def integrity_check(self) -> str:
        with self._guard() as conn:
            return "\n".join(str(row[0]) for row in conn.execute("PRAGMA integrity_check"))


class AsyncHistory:
    """The history for the event loop: every call runs, in order, on one worker thread."""

    def __init__(self, store: HistoryStore, *, executor: ThreadPoolExecutor | None = None) -> None:
        self.store = store
        self._executor = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")

    @classmethod
    async def open(cls, path: Path) -> AsyncHistory:
        """Open (and migrate) the store in the worker thread: a big file never stalls the UI."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")
        try:
            store = await asyncio.get_running_loop().run_in_executor(executor, HistoryStore, path)
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
        self, model_id: str, inputs: dict[str, Any], *, base_url: str | None = None, now: float | None = None
    ) -> Job:
        return await self._run(self.store.create_job, model_id, inputs, base_url=base_url, now=now)

    async def update_job(self, job_id: int, **changes: Any) -> Job:
        return await self._run(self.store.update_job, job_id, **changes)

    async def set_outputs(self, job_id: int, outputs: Sequence[OutputFile]) -> Job:
        return await self._run(self.store.set_outputs, job_id, tuple(outputs))

    async def update_output(self, job_id: int, output: OutputFile) -> Job:
        return await self._run(self.store.update_output, job_id, output)

    async def get(self, job_id: int) -> Job | None:
        return await self._run(self.store.get, job_id)

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

    async def delete_job(self, job_id: int) -> Job | None:
        return await self._run(self.store.delete_job, job_id)

    async def recent_prompts(self, limit: int = 50) -> list[str]:
        return await self._run(self.store.recent_prompts, limit)

    async def model_ids(self) -> list[str]:
        return await self._run(self.store.model_ids)

    async def try_claim(
        self, job_id: int, owner: str, lease_seconds: float, *, now: float | None = None
    ) -> bool:
        return await self._run(self.store.try_claim, job_id, owner, lease_seconds, now=now)

    async def release_claims(self, owner: str) -> None:
        await self._run(self.store.release_claims, owner)

    async def lease_owners(self) -> list[str]:
        return await self._run(self.store.lease_owners)

    async def integrity_check(self) -> str:
        return await self._run(self.store.integrity_check)
