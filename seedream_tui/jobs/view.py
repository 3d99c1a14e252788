"""The history as the user sees it: one query, its loaded pages, its total, the marks and the cursor.

The history screen's table, its gallery and the viewer opened from either show the same jobs, so they
share this one model and stay thin views over it. No Textual here (tested on its own): it reads the
history through ``AsyncHistory`` (``list_jobs``/``count_jobs``), and says what changed, so a view updates
just those rows or tiles.

The history can hold 100,000 jobs: only pages are loaded (keyset paging on the id, newest first), the next
one when the cursor or the scroll position nears the end. A new query is the only time the loaded jobs are
dropped; every answer is checked against the query's ``generation`` so a slow answer to an old query is
thrown away. Marks outlive queries (mark in one search, compare with a job of another).
"""

from __future__ import annotations

import time
from bisect import bisect_left, insort
from dataclasses import dataclass
from typing import Any, Protocol

from seedream_tui.jobs.model import Job, JobStatus

PAGE_SIZE = 100
#: a query's jobs are counted up to this many ("more than 1,000 jobs match"): counting all of a search's
#: matches grows with them (~60 ms for 60,000 of a million jobs), while the first page needs none of it
COUNT_CAP = 1000
ALL = "*"
#: (label, value) of the date filter
DATE_CHOICES = [("any time", ALL), ("today", "today"), ("last 7 days", "7"), ("last 30 days", "30")]


class HistoryReader(Protocol):
    async def list_jobs(self, *, limit: int = ..., before_id: int | None = ..., **filters: Any) -> list[Job]: ...
    async def count_jobs(self, **filters: Any) -> int: ...
    async def count_matches(self, cap: int | None, **filters: Any) -> tuple[int, bool]: ...


@dataclass(frozen=True)
class HistoryQuery:
    """What the user asked to see; equal queries never reload."""

    search: str = ""
    status: str = ALL
    model_id: str = ALL
    date: str = ALL

    @property
    def active(self) -> bool:
        return self != HistoryQuery()

    def since(self, now: float | None = None) -> float | None:
        if self.date == ALL:
            return None
        now = time.time() if now is None else now
        midnight = time.mktime(time.localtime(now)[:3] + (0, 0, 0, 0, 0, -1))
        return midnight if self.date == "today" else midnight - (int(self.date) - 1) * 86400

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``history.list_jobs`` / ``count_jobs`` (only the filters in use)."""
        out: dict[str, Any] = {}
        if self.search.strip():
            out["search"] = self.search.strip()
        if self.status != ALL:
            out["statuses"] = [JobStatus(self.status)]
        if self.model_id != ALL:
            out["model_id"] = self.model_id
        since = self.since()
        if since is not None:
            out["since"] = since
        return out

    def matches(self, job: Job) -> bool:
        """Whether a job that just appeared belongs in the view (a search can't be checked here: no)."""
        if self.search.strip():
            return False
        if self.status != ALL and job.status.value != self.status:
            return False
        if self.model_id != ALL and job.model_id != self.model_id:
            return False
        since = self.since()
        return since is None or job.created_at >= since


class HistoryView:
    """One query's jobs as loaded so far (newest first), its total, the marks and the cursor."""

    def __init__(self, history: HistoryReader, *, page_size: int = PAGE_SIZE) -> None:
        self.history = history
        self.page_size = page_size
        self.query = HistoryQuery()
        #: bumped by every new query; answers to older ones are dropped
        self.generation = 0
        #: the loaded jobs, newest first (ids descending)
        self.jobs: list[Job] = []
        self._ids: list[int] = []  # -id of each loaded job, ascending (for bisect)
        self._by_id: dict[int, Job] = {}
        self.exhausted = False
        #: the generation a page is being loaded for, or None
        self.loading: int | None = None
        self.total: int | None = None
        #: the count stopped at ``COUNT_CAP``: there are more than ``total``
        self.more = False
        #: marked jobs, in the order they were marked
        self.marked: dict[int, Job] = {}
        self.cursor = 0

    # ---------------------------------------------------------------- query and pages
    def set_query(self, query: HistoryQuery) -> bool:
        """Ask for other jobs; True when that is a change (the caller then reloads)."""
        if query == self.query:
            return False
        self.query = query
        return True

    def reset(self) -> int:
        """Drop the loaded jobs to load the query again; returns the new generation."""
        self.generation += 1
        self.jobs, self._ids, self._by_id = [], [], {}
        self.exhausted = False
        self.loading = None
        self.total, self.more = None, False
        self.cursor = 0
        return self.generation

    @property
    def oldest_id(self) -> int | None:
        return self.jobs[-1].id if self.jobs else None

    def wants_page(self) -> bool:
        return not self.exhausted and self.loading != self.generation

    async def load_page(self) -> list[Job] | None:
        """Load the next page; the jobs it added (in order, at the end), or None if the query changed meanwhile.

        Errors from the history propagate (the view turns them into a sentence).
        """
        if not self.wants_page():
            return []
        generation = self.loading = self.generation
        try:
            jobs = await self.history.list_jobs(
                limit=self.page_size, before_id=self.oldest_id, **self.query.kwargs()
            )
        finally:
            if self.generation == generation:
                self.loading = None
        if generation != self.generation:
            return None
        return self.add_page(jobs)

    def add_page(self, jobs: list[Job]) -> list[Job]:
        """Take ``jobs`` (read for the current query) as its next page; the ones that were not loaded yet."""
        added = [job for job in jobs if job.id not in self._by_id]
        for job in added:
            self._by_id[job.id] = job
            self.jobs.append(job)
            self._ids.append(-job.id)
        self.exhausted = len(jobs) < self.page_size
        return added

    async def read_first_page(self) -> list[Job]:
        """The query's first page as the history holds it now, without touching the loaded jobs.

        A view opened again compares it with :attr:`jobs`: equal, nothing changed while it was closed
        (and nothing more was loaded), so the rows, the cursor and the scroll position can stay.
        """
        return await self.history.list_jobs(limit=self.page_size, before_id=None, **self.query.kwargs())

    async def count(self) -> int | None:
        """Count the query's jobs; None if the query changed meanwhile."""
        generation = self.generation
        total, more = await self.history.count_matches(COUNT_CAP, **self.query.kwargs())
        if generation != self.generation:
            return None
        self.total, self.more = total, more
        return total

    def near_end(self, index: int, within: int) -> bool:
        """Whether ``index`` is within ``within`` rows of the last loaded job (time to load the next page)."""
        return index >= len(self.jobs) - within

    @property
    def empty(self) -> bool:
        """Nothing to show, and nothing more to load."""
        return not self.jobs and self.exhausted

    def count_line(self) -> str:
        """The line under the list: the query's total, then how many jobs are marked."""
        if self.total is None:
            line = "Counting…"
        else:
            one = self.total == 1 and not self.more
            noun = "job" if one else "jobs"
            scope = ("matches" if one else "match") if self.query.active else "in history"
            line = f"{'more than ' if self.more else ''}{self.total:,} {noun} {scope}"
        if self.marked:
            line += f"  ·  {len(self.marked)} marked (Space unmarks, Esc clears, v compares)"
        return line

    def empty_sentence(self) -> str:
        if self.query.active:
            return "No jobs match this search. Clear the search box or the filters to see everything."
        return "No jobs yet. Generated images will be listed here."

    # ---------------------------------------------------------------- jobs and cursor
    def get(self, job_id: int) -> Job | None:
        return self._by_id.get(job_id)

    def index_of(self, job_id: int) -> int | None:
        if job_id not in self._by_id:
            return None
        return bisect_left(self._ids, -job_id)

    @property
    def current(self) -> Job | None:
        return self.jobs[self.cursor] if 0 <= self.cursor < len(self.jobs) else None

    def move_to(self, index: int) -> Job | None:
        if self.jobs:
            self.cursor = max(0, min(index, len(self.jobs) - 1))
        return self.current

    def apply_change(self, job: Job) -> tuple[str, int | None]:
        """A job changed in the core: ("updated", index), ("inserted", index) or ("ignored", None).

        A loaded job is updated in place; a brand-new job that belongs to the query goes in at its place
        (the top, being newest); anything else is not ours to show.
        """
        if job.id in self.marked:
            self.marked[job.id] = job  # also when it is not in the current view
        known = self._by_id.get(job.id)
        if known is not None:
            if known == job:
                return "ignored", None
            index = self.index_of(job.id)
            assert index is not None
            self._by_id[job.id] = job
            self.jobs[index] = job
            return "updated", index
        newer = self.jobs and job.id > self.jobs[0].id
        first = not self.jobs and self.exhausted
        if (newer or first) and self.query.matches(job):
            current = self.current
            self._by_id[job.id] = job
            insort(self._ids, -job.id)
            index = bisect_left(self._ids, -job.id)
            self.jobs.insert(index, job)
            if current is not None:  # the cursor stays on the job it was on
                self.cursor = self.index_of(current.id) or 0
            if self.total is not None and not self.more:
                self.total += 1
            return "inserted", index
        return "ignored", None

    def remove(self, job_id: int) -> int | None:
        """A deleted job leaves the view (and the marks); its former index, or None if it was not loaded."""
        self.marked.pop(job_id, None)
        index = self.index_of(job_id)
        if index is None:
            return None
        del self._by_id[job_id]
        del self.jobs[index]
        del self._ids[index]
        if self.total and not self.more:
            self.total -= 1
        self.cursor = max(0, min(self.cursor, len(self.jobs) - 1))
        return index

    # ---------------------------------------------------------------- marks
    def toggle_mark(self, job: Job) -> bool:
        """Mark or unmark ``job``; True when it is now marked."""
        if job.id in self.marked:
            del self.marked[job.id]
            return False
        self.marked[job.id] = job
        return True

    def clear_marks(self) -> list[int]:
        """Unmark everything; the ids that were marked."""
        ids = list(self.marked)
        self.marked.clear()
        return ids

    def targets(self) -> list[Job]:
        """What export, delete, re-run and copy act on: the marked jobs, or else the one under the cursor."""
        if self.marked:
            return list(self.marked.values())
        return [self.current] if self.current is not None else []

    def compared(self, most: int) -> tuple[list[Job], str | None]:
        """The jobs to compare (marked, or one marked plus the current) and a sentence when not all fit or too few."""
        jobs = list(self.marked.values())
        current = self.current
        if len(jobs) == 1 and current is not None and current.id not in self.marked:
            jobs.append(current)
        if len(jobs) < 2:
            return [], "Mark jobs with Space to compare them (or mark one and compare it with the job under the cursor)."
        if len(jobs) > most:
            return jobs[:most], f"Comparing the first {most} of the {len(jobs)} marked jobs."
        return jobs, None


def visible_slice(first: int, count: int, total: int, *, spare: int = 0) -> range:
    """The indices a view showing ``count`` items from ``first`` draws (plus ``spare`` either side)."""
    return range(max(0, first - spare), min(total, first + count + spare))

