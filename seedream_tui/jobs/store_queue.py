"""The local queue in the history: pending rows (written, not yet sent), the atomic claim that takes one to
``submitting``, the queue's order and its paused state (see local_queue.py for the dispatcher, store_schema
``_migrate_v6`` for the columns).

Every decision that two app instances could race on is one ``BEGIN IMMEDIATE`` transaction here: the claim
checks the pause, the live-job limit and the daily budget and takes the row in the same transaction, so a
pending job is sent by one instance only, and the limit holds across instances.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .model import Batch, Job, JobStatus
from .store_base import StoreBase
from .store_query import JOB_COLUMNS, dump_inputs, prompt_of
from .store_schema import LIVE_SQL

_PENDING = JobStatus.PENDING.value
#: statuses whose quote counts as spent until the server reports the cost (sent, or maybe sent)
_SPENDING_SQL = ", ".join(f"'{s}'" for s in ("submitting", "queued", "running", "downloading", "completed", "unknown"))
#: how far back the daily sum looks at when rows were made (a job sent today was written at most this long ago)
_DAY_LOOKBACK = 7 * 86400.0
#: float sums of cents: a job that exactly fills the budget goes
_EPSILON = 1e-9


@dataclass(frozen=True)
class PendingRow:
    """One job of a batch, as it is written to wait in the queue."""

    model_id: str
    inputs: dict[str, Any]
    place: int
    variant: dict[str, Any] = field(default_factory=dict)
    #: its quote when written (the "up to" figure), None when unknown
    price_usd: float | None = None


@dataclass(frozen=True)
class DailyCap:
    """The daily budget for a claim: ``usd`` from ``day_start`` (local midnight), and the hold sentences."""

    usd: float
    day_start: float
    over: str
    unknown: str


@dataclass(frozen=True)
class Claim:
    """What a claim did: the row it took (None: nothing may go now) and the rows whose hold changed."""

    job: Job | None
    held_changed: tuple[int, ...] = ()


class QueueRows(StoreBase):
    def create_pending_batch(
        self, rows: Sequence[PendingRow], *, label: str = "", plan: dict[str, Any] | None = None,
        budget_usd: float | None = None, max_live: int | None = None, now: float | None = None,
    ) -> tuple[Batch, list[Job]]:
        """The batch row and all its jobs as pending rows, at the end of the queue, in one transaction: a
        crash leaves all of it or none of it."""
        from .store_batches import _BATCH_COLUMNS, _batch_from_row

        stamp = time.time() if now is None else now
        text = json.dumps(plan or {}, ensure_ascii=False, separators=(",", ":"))
        with self._durable(True), self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO batches (created_at, label, plan, budget_usd, max_live) VALUES (?, ?, ?, ?, ?)",
                (stamp, label, text, budget_usd, max_live),
            )
            batch_id = cursor.lastrowid
            last = conn.execute(f"SELECT MAX(queue_rank) FROM jobs WHERE status = '{_PENDING}'").fetchone()[0] or 0
            conn.executemany(
                "INSERT INTO jobs (model_id, inputs, prompt, status, created_at, updated_at, batch_id, batch_place, "
                "variant, queue_rank, price_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (row.model_id, dump_inputs(row.inputs), prompt_of(row.inputs), _PENDING, stamp, stamp, batch_id,
                     row.place, dump_inputs(row.variant), last + 1 + i, row.price_usd)
                    for i, row in enumerate(rows)
                ],
            )
            batch = _batch_from_row(
                conn.execute(f"SELECT {_BATCH_COLUMNS} FROM batches WHERE id = ?", (batch_id,)).fetchone()
            )
            jobs = self._load(
                conn, f"SELECT {JOB_COLUMNS} FROM jobs WHERE batch_id = ? ORDER BY batch_place, id", (batch_id,)
            )
            return batch, jobs

    def claim_pending(
        self, owner: str, *, limit: int, base_url: str | None, daily: DailyCap | None = None,
    ) -> Claim:
        """Take the next pending job that may go now to ``submitting``, holding ``owner``'s lease, unless the
        queue is paused. It may go while fewer jobs are live in the whole history than its batch's
        ``max_live`` (else ``limit``), and while the ``daily`` budget has room for its price: a job that would
        pass it gets the hold sentence (``daily.over``, or ``daily.unknown`` for a price not known) and
        stays pending; the next one that fits goes. Atomic: one instance takes a row, once."""
        now = time.time()
        with self._tx() as conn:
            if self._paused(conn):
                return Claim(None)
            live = conn.execute(f"SELECT COUNT(*) FROM jobs WHERE status IN ({LIVE_SQL})").fetchone()[0]
            changed: list[int] = []
            if daily is not None:
                room = daily.usd - self._spent(conn, daily.day_start) + _EPSILON
                for text, cond, params in (
                    (daily.unknown, "price_usd IS NULL", ()),
                    (daily.over, "price_usd > ?", (room,)),
                ):
                    changed += [r[0] for r in conn.execute(
                        f"UPDATE jobs SET hold = ?, version = version + 1 WHERE status = '{_PENDING}' AND {cond} "
                        "AND hold IS NOT ? RETURNING id", (text, *params, text)).fetchall()]
                changed += [r[0] for r in conn.execute(
                    f"UPDATE jobs SET hold = NULL, version = version + 1 WHERE status = '{_PENDING}' "
                    "AND hold IS NOT NULL AND price_usd <= ? RETURNING id", (room,)).fetchall()]
            else:
                changed += [r[0] for r in conn.execute(
                    f"UPDATE jobs SET hold = NULL, version = version + 1 WHERE status = '{_PENDING}' "
                    "AND hold IS NOT NULL RETURNING id").fetchall()]
            row = conn.execute(
                "SELECT jobs.id FROM jobs LEFT JOIN batches ON batches.id = jobs.batch_id "
                f"WHERE jobs.status = '{_PENDING}' AND jobs.hold IS NULL AND COALESCE(batches.max_live, ?) > ? "
                "ORDER BY jobs.queue_rank, jobs.id LIMIT 1",
                (limit, live),
            ).fetchone()
            if row is None:
                return Claim(None, tuple(changed))
            conn.execute(
                "UPDATE jobs SET status = ?, poll_owner = ?, poll_beat = poll_beat + 1, base_url = ?, "
                f"updated_at = ?, version = version + 1 WHERE id = ? AND status = '{_PENDING}'",
                (JobStatus.SUBMITTING.value, owner, base_url, now, row[0]),
            )
            return Claim(self._require(conn, row[0]), tuple(changed))

    def spent_since(self, day_start: float) -> float:
        """What the jobs sent since ``day_start`` cost: the cost the server reported, else (while it may still
        come) the job's quote; a job that failed or was cancelled without a reported cost counts nothing.
        Each job is one row, so a cost counts once whatever polled it (retries, resumes, other instances)."""
        with self._guard() as conn:
            return self._spent(conn, day_start)

    def _spent(self, conn: Any, day_start: float) -> float:
        row = conn.execute(
            "SELECT TOTAL(CASE WHEN cost IS NOT NULL THEN cost "
            f"WHEN status IN ({_SPENDING_SQL}) THEN COALESCE(price_usd, 0) ELSE 0 END) FROM jobs "
            f"WHERE created_at >= ? AND status != '{_PENDING}' AND COALESCE(submitted_at, updated_at) >= ?",
            (day_start - _DAY_LOOKBACK, day_start),
        ).fetchone()
        return float(row[0] or 0.0)

    # ------------------------------------------------------------------ the queue's state
    def _paused(self, conn: Any) -> bool:
        row = conn.execute("SELECT value FROM queue_state WHERE key = 'paused'").fetchone()
        return row is not None and row[0] == "1"

    def queue_paused(self) -> bool:
        with self._guard() as conn:
            return self._paused(conn)

    def set_queue_paused(self, paused: bool) -> None:
        """Pause (or resume) the local queue for every instance on this history, across restarts."""
        with self._durable(True), self._tx() as conn:
            conn.execute(
                "INSERT INTO queue_state (key, value) VALUES ('paused', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                ("1" if paused else "0",),
            )

    def pending_counts(self) -> tuple[int, int]:
        """(pending jobs, those of them held by a budget)."""
        with self._guard() as conn:
            row = conn.execute(f"SELECT COUNT(*), COUNT(hold) FROM jobs WHERE status = '{_PENDING}'").fetchone()
        return int(row[0]), int(row[1])

    # ------------------------------------------------------------------ the user's hand on the queue
    def cancel_pending(self, *, batch_id: int | None = None, job_ids: Sequence[int] | None = None) -> list[Job]:
        """Cancel pending jobs (those of ``batch_id``, or ``job_ids``, or all): nothing was sent for them.
        Returns the rows cancelled."""
        now = time.time()
        where = f"status = '{_PENDING}'"
        params: list[Any] = []
        if batch_id is not None:
            where, params = where + " AND batch_id = ?", [*params, batch_id]
        if job_ids is not None:
            if not job_ids:
                return []
            where += f" AND id IN ({', '.join('?' * len(job_ids))})"
            params += list(job_ids)
        with self._tx() as conn:
            ids = [r[0] for r in conn.execute(
                f"UPDATE jobs SET status = ?, hold = NULL, finished_at = ?, updated_at = ?, version = version + 1 "
                f"WHERE {where} RETURNING id", [JobStatus.CANCELLED.value, now, now, *params]).fetchall()]
            out: list[Job] = []
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                out += self._load(conn, f"SELECT {JOB_COLUMNS} FROM jobs WHERE id IN ({', '.join('?' * len(chunk))})",
                                  chunk)
            return out

    def move_pending_up(self, job_id: int, *, to_front: bool = False) -> tuple[Job, int] | None:
        """Move a pending job one place up the queue (or to its front). Returns the row and its place in the
        queue now (1 = next to go), or None when it is not pending."""
        with self._tx() as conn:
            row = conn.execute("SELECT queue_rank, status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or row[1] != _PENDING:
                return None
            rank = row[0] if row[0] is not None else 0
            before = f"status = '{_PENDING}' AND (queue_rank < ? OR (queue_rank = ? AND id < ?))"
            if to_front:
                first = conn.execute(f"SELECT MIN(queue_rank) FROM jobs WHERE status = '{_PENDING}'").fetchone()[0]
                if conn.execute(f"SELECT 1 FROM jobs WHERE {before} LIMIT 1", (rank, rank, job_id)).fetchone():
                    conn.execute("UPDATE jobs SET queue_rank = ?, version = version + 1 WHERE id = ?",
                                 ((first or 0) - 1, job_id))
            else:
                prev = conn.execute(
                    f"SELECT id, queue_rank FROM jobs WHERE {before} ORDER BY queue_rank DESC, id DESC LIMIT 1",
                    (rank, rank, job_id),
                ).fetchone()
                if prev is not None:
                    mine, theirs = (prev[1], rank) if prev[1] != rank else (rank - 1, rank)
                    conn.execute("UPDATE jobs SET queue_rank = ?, version = version + 1 WHERE id = ?", (mine, job_id))
                    conn.execute("UPDATE jobs SET queue_rank = ?, version = version + 1 WHERE id = ?",
                                 (theirs, prev[0]))
            rank = conn.execute("SELECT queue_rank FROM jobs WHERE id = ?", (job_id,)).fetchone()[0]
            place = conn.execute(f"SELECT COUNT(*) FROM jobs WHERE {before}", (rank, rank, job_id)).fetchone()[0] + 1
            return self._require(conn, job_id), int(place)
