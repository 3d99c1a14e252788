"""Batches in the history: many jobs from one idea (variants, sweeps, repeats, a prompt file).

A batch row keeps its plan as JSON (how it was made: its axes, its source, its budget); its jobs point at it
(``jobs.batch_id``) with their place in the plan and the values that made them (``Job.variant``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from .model import Batch, Job
from .store_base import StoreBase
from .store_query import JOB_COLUMNS

_BATCH_COLUMNS = "id, created_at, label, plan, budget_usd"


def _batch_from_row(row: Any) -> Batch:
    return Batch(id=row[0], created_at=row[1], label=row[2], plan=json.loads(row[3] or "{}"), budget_usd=row[4])


class BatchRows(StoreBase):
    def create_batch(
        self, *, label: str = "", plan: dict[str, Any] | None = None, budget_usd: float | None = None,
        now: float | None = None,
    ) -> Batch:
        """A new batch row (its jobs are written after, each with ``batch_id``)."""
        stamp = time.time() if now is None else now
        text = json.dumps(plan or {}, ensure_ascii=False, separators=(",", ":"))
        with self._durable(True), self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO batches (created_at, label, plan, budget_usd) VALUES (?, ?, ?, ?)",
                (stamp, label, text, budget_usd),
            )
            row = conn.execute(f"SELECT {_BATCH_COLUMNS} FROM batches WHERE id = ?", (cursor.lastrowid,)).fetchone()
            return _batch_from_row(row)

    def get_batch(self, batch_id: int) -> Batch | None:
        with self._guard() as conn:
            row = conn.execute(f"SELECT {_BATCH_COLUMNS} FROM batches WHERE id = ?", (batch_id,)).fetchone()
            return None if row is None else _batch_from_row(row)

    def list_batches(self, limit: int = 50) -> list[Batch]:
        """Newest first."""
        with self._guard() as conn:
            rows = conn.execute(f"SELECT {_BATCH_COLUMNS} FROM batches ORDER BY id DESC LIMIT ?", (limit,))
            return [_batch_from_row(row) for row in rows]

    def batch_jobs(self, batch_id: int) -> list[Job]:
        """The batch's jobs in plan order."""
        with self._tx("DEFERRED") as conn:
            return self._load(
                conn, f"SELECT {JOB_COLUMNS} FROM jobs WHERE batch_id = ? ORDER BY batch_place, id", (batch_id,)
            )
