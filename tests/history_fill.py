"""Filling a history with many finished jobs at once, for tests and benchmarks (not a product feature:
the app only ever writes a job through the engine)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.jobs.store_query import dump_inputs, prompt_of


def fill_history(store: HistoryStore, jobs: Iterable[tuple[str, dict[str, Any], JobStatus, float]]) -> None:
    """Bulk insert (model_id, inputs, status, created_at) rows in one transaction."""
    rows = (
        (model_id, dump_inputs(inputs), prompt_of(inputs), JobStatus(status).value, created, created)
        for model_id, inputs, status, created in jobs
    )
    with store._tx() as conn:
        conn.executemany(
            "INSERT INTO jobs (model_id, inputs, prompt, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
