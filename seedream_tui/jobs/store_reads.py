"""Reading the history: live jobs, pages and counts for the history screen, run times, prompts, costs."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from .model import Job, JobStatus
from .store_base import StoreBase
from .store_query import JOB_COLUMNS, Filters, count_from_counters
from .store_schema import LIVE_SQL

#: recent_prompts stops looking after this many jobs so it stays instant on huge histories
_RECENT_SCAN_CAP = 20_000


class ReadRows(StoreBase):
    def get(self, job_id: int) -> Job | None:
        with self._tx("DEFERRED") as conn:
            return self._get(conn, job_id)

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
        batch_id: int | None = None,
    ) -> list[Job]:
        """Newest first; pass the last id of a page as ``before_id`` for the next page."""
        query = Filters(search, statuses, model_id, since, until, batch_id).query()
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
        batch_id: int | None = None,
    ) -> int:
        return self.count_matches(
            None, search=search, statuses=statuses, model_id=model_id, since=since, until=until, batch_id=batch_id
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
        batch_id: int | None = None,
    ) -> tuple[int, bool]:
        """(how many jobs match, whether there are more): counting stops past ``cap`` (then ``(cap, True)``),
        unless the per-status counters answer exactly anyway. A search matching 60,000 of a million jobs is
        counted to 1,000 in ~3 ms instead of to the end in ~60 ms."""
        filters = Filters(search, statuses, model_id, since, until, batch_id)
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

    def cost_rows(self, since: float | None = None) -> list[tuple[str, float, float]]:
        """``(model_id, created_at, cost)`` of every job with a reported cost, oldest first (the spend ledger)."""
        sql = "SELECT model_id, created_at, cost FROM jobs WHERE cost IS NOT NULL"
        params: tuple[Any, ...] = ()
        if since is not None:
            sql, params = sql + " AND created_at >= ?", (since,)
        with self._guard() as conn:
            return [(str(m), float(t), float(c)) for m, t, c in conn.execute(sql + " ORDER BY created_at", params)]

    def video_seconds(self, since: float | None = None) -> tuple[int, float]:
        """``(jobs, seconds)`` of video made by the jobs with a reported cost (the spend ledger's seconds)."""
        sql = ("SELECT COUNT(DISTINCT jobs.id), COALESCE(SUM(outputs.duration), 0) FROM jobs JOIN outputs"
               " ON outputs.job_id = jobs.id WHERE jobs.cost IS NOT NULL AND outputs.kind = 'video'"
               " AND outputs.duration IS NOT NULL")
        params: tuple[Any, ...] = ()
        if since is not None:
            sql, params = sql + " AND jobs.created_at >= ?", (since,)
        with self._guard() as conn:
            jobs, seconds = conn.execute(sql, params).fetchone()
        return int(jobs), float(seconds)

    def integrity_check(self) -> str:
        with self._guard() as conn:
            return "\n".join(str(row[0]) for row in conn.execute("PRAGMA integrity_check"))


