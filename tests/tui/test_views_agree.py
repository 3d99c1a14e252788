"""Issue 10 §4: the views agree with the history. Deleted jobs leave every view; paging after an old job
resumes still reaches every job; queue positions are shown together, never two at 1, never absurd."""

from __future__ import annotations

import time
from typing import Any

from history_fill import fill_history
from tui_support import open_main, seed_finished_jobs, wait_for

from seedream_tui import DEFAULT_MODEL_ID
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.positions import consistent_positions, shown_position
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.messages import JobChanged
from seedream_tui.tui.screens.confirm import ConfirmScreen
from seedream_tui.tui.screens.history import HistoryScreen
from seedream_tui.tui.widgets.job_table import JobTable
from seedream_tui.tui.widgets.row_table import RowTable


async def test_a_job_deleted_in_history_leaves_the_main_table_and_preview(config, core) -> None:
    ids = seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await open_main(app, pilot)
        table = main.query_one(JobTable)
        await wait_for(lambda: table.row_count == len(ids), what="the seeded jobs")
        newest = max(ids)
        assert main.preview.job is not None and main.preview.job.id == newest
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen), what="the history")
        history = app.screen
        await wait_for(lambda: history.query_one(RowTable).row_count == len(ids), what="the history rows")
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await wait_for(lambda: history.query_one(RowTable).row_count == len(ids) - 1, what="the row gone")
        await pilot.press("escape")
        await wait_for(lambda: app.screen is main, what="back on the main screen")
        await wait_for(lambda: newest not in table.jobs and table.row_count == len(ids) - 1, what="gone here too")
        assert main.preview.job is None or main.preview.job.id != newest


def _many_jobs(paths: Any, count: int) -> None:
    paths.profile_data_dir.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(paths.history_db)
    try:
        fill_history(store, ((DEFAULT_MODEL_ID, {"prompt": f"job {i}"}, JobStatus.COMPLETED, 1e9 + i) for i in range(count)))
    finally:
        store.close()


async def test_paging_after_an_old_job_resumes_reaches_every_job(config, core) -> None:
    _many_jobs(config.paths, 251)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(100, 30)) as pilot:
        main = await open_main(app, pilot)
        table = main.query_one(JobTable)
        await wait_for(lambda: table.row_count == 100, what="the first page")
        old = await core.history.get(5)
        assert old is not None
        # an old live job resumed polling: its change reaches the table like any other
        app.post_message(JobChanged(old.evolve(status=JobStatus.QUEUED, queue_position=3, updated_at=time.time())))
        await wait_for(lambda: 5 in table.jobs, what="the resumed job in the table")
        for _ in range(10):
            if table.row_count == 251:
                break
            table.move_cursor(row=table.row_count - 1)
            count = table.row_count
            await wait_for(lambda: table.row_count > count or table.row_count == 251,  # noqa: B023
                           what="the next page")
        assert table.row_count == 251
        assert sorted(table.jobs) == list(range(1, 252))


def _job(job_id: int, position: int | None, updated: float, status: JobStatus = JobStatus.QUEUED) -> Job:
    return Job(id=job_id, model_id=DEFAULT_MODEL_ID, inputs={"prompt": "p"}, status=status, created_at=1.0,
               updated_at=updated, queue_position=position)


def test_positions_one_per_place_none_absurd() -> None:
    jobs = [_job(1, 1, 10.0), _job(2, 1, 12.0), _job(3, -4, 12.0), _job(4, 10**9, 12.0), _job(5, 2, 11.0),
            _job(6, 1, 50.0, JobStatus.RUNNING)]
    assert consistent_positions(jobs) == {2: "1", 4: "9999+", 5: "2"}
    assert shown_position(-1) is None and shown_position(0) == "0" and shown_position(None) is None


async def test_the_table_never_shows_two_jobs_at_position_one(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(100, 30)) as pilot:
        main = await open_main(app, pilot)
        table = main.query_one(JobTable)
        table.upsert(_job(1, 1, 10.0))
        table.upsert(_job(2, 2, 10.0))
        table.upsert(_job(2, 1, 12.0))  # job 2's newer poll: it is next now; job 1's "1" is stale
        table.upsert(_job(3, -7, 12.0))
        await pilot.pause()

        def shown(job_id: int) -> str:
            return str(table.get_cell(str(job_id), "pos"))

        assert (shown(1), shown(2), shown(3)) == ("", "1", "")
        table.upsert(_job(1, 0, 13.0))  # job 1's own next poll
        await pilot.pause()
        assert (shown(1), shown(2)) == ("0", "1")
