"""The history file's plumbing: one SQLite connection behind a lock, transactions, and SQLite's
failures turned into sentences naming the file. The store's parts (store.py's writes, store_leases,
store_lineage, store_reads) are built on it."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .journal import RequestJournal
from .model import Job, OutputFile
from .store_query import JOB_COLUMNS, OUTPUT_COLUMNS, job_from_row, output_from_row
from .store_readonly import connect_read_only
from .store_schema import HistoryError, JobNotFoundError, connect, unreadable


class StaleJobError(HistoryError):
    """A write was refused: the row changed since it was read, or the writer no longer holds its lease.

    ``current`` is the row as it is now: the writer re-decides from it instead of overwriting newer truth.
    """

    def __init__(self, current: Job) -> None:
        super().__init__(f"Job {current.id} was changed by someone else; the change was not written.")
        self.current = current


class StoreBase:
    """Synchronous, thread-safe access to the history file at ``path``."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        #: opened for reading only (a read-only home): every write fails with the read-only sentence
        self.read_only = read_only
        self._conn: sqlite3.Connection | None = connect_read_only(self.path) if read_only else connect(self.path)
        #: request ids land here first (see journal.py); replayed by :meth:`replay_journal`
        self.journal = RequestJournal(self.path.with_name(self.path.name + ".requests"))

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

