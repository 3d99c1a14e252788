"""HistoryView without Textual: pages, stale answers, counts, marks, cursor, live changes, deletes."""

from __future__ import annotations

import asyncio
from typing import Any

from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.view import HistoryQuery, HistoryView


def job(job_id: int, status: JobStatus = JobStatus.COMPLETED, prompt: str = "") -> Job:
    return Job(job_id, "m", {"prompt": prompt or f"job {job_id}"}, status, 1000.0 + job_id, 1000.0 + job_id)


class FakeHistory:
    """list_jobs/count_jobs over a list, newest first; ``gate`` holds an answer back until released."""

    def __init__(self, n: int) -> None:
        self.jobs = [job(i) for i in range(n, 0, -1)]
        self.gate: asyncio.Event | None = None

    def _match(self, filters: dict[str, Any]) -> list[Job]:
        out = self.jobs
        if "statuses" in filters:
            out = [j for j in out if j.status in filters["statuses"]]
        if "search" in filters:
            out = [j for j in out if filters["search"] in j.prompt]
        return out

    async def list_jobs(self, *, limit: int = 50, before_id: int | None = None, **filters: Any) -> list[Job]:
        if self.gate is not None:
            await self.gate.wait()
        jobs = [j for j in self._match(filters) if before_id is None or j.id < before_id]
        return jobs[:limit]

    async def count_jobs(self, **filters: Any) -> int:
        return len(self._match(filters))

    async def count_matches(self, cap: int | None, **filters: Any) -> tuple[int, bool]:
        total = len(self._match(filters))
        return (cap, True) if cap is not None and total > cap else (total, False)


async def test_pages_load_in_order_until_exhausted() -> None:
    view = HistoryView(FakeHistory(25), page_size=10)
    view.reset()
    assert [j.id for j in await view.load_page() or []] == list(range(25, 15, -1))
    assert view.near_end(5, 5) and not view.near_end(4, 5)
    await view.load_page()
    last = await view.load_page()
    assert [j.id for j in last or []] == [5, 4, 3, 2, 1] and view.exhausted
    assert await view.load_page() == []  # nothing more to ask for
    assert [j.id for j in view.jobs] == list(range(25, 0, -1))
    assert view.index_of(20) == 5 and view.get(20) is not None and view.index_of(99) is None


async def test_an_answer_to_an_older_query_is_dropped() -> None:
    history = FakeHistory(30)
    view = HistoryView(history, page_size=10)
    view.reset()
    history.gate = asyncio.Event()
    slow = asyncio.create_task(view.load_page())
    await asyncio.sleep(0)
    assert view.set_query(HistoryQuery(search="job 2")) and not view.set_query(HistoryQuery(search="job 2"))
    view.reset()
    history.gate.set()
    assert await slow is None and view.jobs == []
    await view.load_page()
    assert all("job 2" in j.prompt for j in view.jobs)


async def test_count_line_and_marks() -> None:
    view = HistoryView(FakeHistory(3), page_size=10)
    view.reset()
    assert view.count_line() == "Counting…"
    await view.count()
    assert view.count_line() == "3 jobs in history"
    view.set_query(HistoryQuery(search="job 1"))
    await view.count()
    assert view.count_line() == "1 job matches"
    await view.load_page()
    assert view.toggle_mark(view.jobs[0]) and view.count_line().endswith("1 marked (Space unmarks, Esc clears, v compares)")
    assert view.targets() == [view.jobs[0]]
    assert not view.toggle_mark(view.jobs[0]) and view.targets() == [view.current]


async def test_compare_set() -> None:
    view = HistoryView(FakeHistory(6), page_size=10)
    view.reset()
    await view.load_page()
    assert view.compared(4) == ([], "Mark jobs with Space to compare them (or mark one and compare it with the job under the cursor).")
    view.toggle_mark(view.jobs[2])
    assert [j.id for j in view.compared(4)[0]] == [4, 6]  # the marked one and the current one
    for j in view.jobs:
        view.marked[j.id] = j
    jobs, sentence = view.compared(4)
    assert len(jobs) == 4 and sentence == "Comparing the first 4 of the 6 marked jobs."


async def test_live_changes_update_insert_or_ignore_and_the_cursor_stays() -> None:
    view = HistoryView(FakeHistory(5), page_size=10)
    view.reset()
    await view.load_page()
    await view.count()
    view.move_to(2)  # job 3
    assert view.apply_change(job(3, JobStatus.FAILED)) == ("updated", 2)
    assert view.apply_change(job(3, JobStatus.FAILED)) == ("ignored", None)  # the same change twice
    assert view.apply_change(job(6, JobStatus.QUEUED)) == ("inserted", 0)
    assert view.current is not None and view.current.id == 3 and view.total == 6
    view.set_query(HistoryQuery(search="x"))  # a search can't be checked on a new job: not shown
    assert view.apply_change(job(7, JobStatus.QUEUED)) == ("ignored", None)


async def test_remove_leaves_view_and_marks() -> None:
    view = HistoryView(FakeHistory(4), page_size=10)
    view.reset()
    await view.load_page()
    await view.count()
    view.toggle_mark(view.jobs[3])
    view.move_to(3)
    assert view.remove(1) == 3 and 1 not in view.marked and view.total == 3
    assert view.current is not None and view.current.id == 2  # the cursor stays inside the list
    assert view.remove(99) is None
