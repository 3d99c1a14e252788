"""Issue 21, scale: what stalled typing while a 1,000-job batch ran (bench/bench_batch_typing.py measures it).

Each test pins one cause, untimed: pending jobs older than the first page were missing from the job table, so
each was added (a row, a sort of the whole table, every cached line drawn anew) as the queue sent it; a batch
submitted from the TUI was added one sorted upsert per job; the status line was found by a query of the whole
screen on every job change; and a running batch toasted (a layout pass of the screen) every 0.6 s."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from child_queue import fox_plan
from tui_support import open_main, wait_for

from seedream_tui.jobs.model import JobStatus
from seedream_tui.tui import app as app_module
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.messages import JobChanged
from seedream_tui.tui.screens.main import INITIAL_JOBS, read_initial


async def test_pending_jobs_older_than_the_first_page_are_in_the_first_load(core: Any) -> None:
    await core.history.set_queue_paused(True)  # written, never sent
    batch, pending = await core.submit_batch(fox_plan(150))
    spec = core.registry.default()
    newer = [core.history.store.create_job(spec.model_id, {"prompt": f"newer {i}"}) for i in range(INITIAL_JOBS)]
    for job in newer:
        core.history.store.update_job(job.id, status=JobStatus.COMPLETED)
    jobs, _prompts, older = await read_initial(core)
    assert {j.id for j in jobs} == {j.id for j in newer}  # the newest page: none of the batch
    assert {j.id for j in pending} <= {j.id for j in older}  # every pending job is shown from the start


async def test_a_batch_submitted_in_the_tui_is_sorted_into_the_table_once(config: Any, core: Any) -> None:
    await core.history.set_queue_paused(True)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(100, 30)) as pilot:
        main = await open_main(app, pilot)
        sorts: list[int] = []
        original = main.table._sort_keep_cursor

        def counted() -> None:
            sorts.append(1)
            original()

        main.table._sort_keep_cursor = counted  # type: ignore[method-assign]
        main._submit_batch(fox_plan(300))
        await wait_for(lambda: main.table.row_count == 300, what="the batch's rows")
        assert len(sorts) <= 2  # one for the batch (was 300: one per job, each of a growing table)
        assert main.table.get_row_at(0)[0] == max(main.table.jobs)


async def test_job_changes_do_not_query_the_screen_for_the_status_line(config: Any, core: Any) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(100, 30)) as pilot:
        main = await open_main(app, pilot)
        await core.history.set_queue_paused(True)
        _batch, jobs = await core.submit_batch(fox_plan(40))
        await wait_for(lambda: all(j.id in main.table.jobs for j in jobs), what="the batch's rows")
        queries: list[object] = []
        original = main.query

        def counted(*args: Any, **kwargs: Any) -> Any:
            queries.append(args)
            return original(*args, **kwargs)

        main.query = counted  # type: ignore[method-assign]
        for job in jobs:
            app.post_message(JobChanged(replace(job, status=JobStatus.QUEUED)))
        await wait_for(lambda: all(main.table.jobs[j.id].status is JobStatus.QUEUED for j in jobs),
                       what="every change shown")
        assert len(queries) <= 1  # was one query of the whole screen per change


async def test_a_running_batch_is_announced_in_few_toasts(config: Any, core: Any) -> None:
    """Jobs of a batch that end are gathered for BATCH_BURST_SECONDS (a toast, and a bell, each 0.6 s while a
    batch runs was a layout pass of the whole screen each time); a lone job keeps the short burst."""
    assert app_module.BATCH_BURST_SECONDS >= 5 * app_module.BURST_SECONDS
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_main(app, pilot)
        await core.history.set_queue_paused(True)
        _batch, jobs = await core.submit_batch(fox_plan(2))
        ended = replace(jobs[0], status=JobStatus.COMPLETED)
        app.tally.see(jobs[0])
        app.post_message(JobChanged(ended))
        await wait_for(lambda: app._burst_timer is not None, what="the burst to start")
        assert app._burst_timer._interval == app_module.BATCH_BURST_SECONDS
