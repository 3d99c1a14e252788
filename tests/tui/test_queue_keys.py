"""The local queue's keys on the job table (issue 21): P pauses and resumes, u / U move a pending job up,
C cancels the selected job's batch, X everything waiting; the status line says "queue paused" and the
pending count."""

from __future__ import annotations

from typing import Any

from child_queue import fox_plan
from tui_support import open_main, wait_for

from seedream_tui.jobs.model import JobStatus
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.confirm import ConfirmScreen
from seedream_tui.tui.widgets.status_bar import StatusBar


def queue_order(core: Any) -> list[int]:
    with core.history.store._guard() as conn:
        return [r[0] for r in conn.execute("SELECT id FROM jobs WHERE status = 'pending' ORDER BY queue_rank, id")]


async def test_the_queue_keys(config: Any, core: Any) -> None:
    app = SeedreamApp(config, core=core)
    seen: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        main = await open_main(app, pilot)
        app.notify = lambda message, **kw: seen.append(str(message))  # type: ignore[method-assign]
        status = main.query_one(StatusBar)
        main.table.focus()
        await pilot.press("P")
        await wait_for(lambda: "queue paused" in status.plain(), what="the status line to say the queue is paused")
        assert await core.queue_paused()

        batch, jobs = await core.submit_batch(fox_plan(3))
        await wait_for(lambda: all(j.id in main.table.jobs for j in jobs), what="the batch's rows")
        assert all(main.table.jobs[j.id].status is JobStatus.PENDING for j in jobs)
        await wait_for(lambda: "3 pending" in status.plain(), what="the pending count")
        newest = jobs[-1].id
        main.table.move_cursor(row=main.table.get_row_index(str(newest)))
        await pilot.press("u")
        await wait_for(lambda: queue_order(core)[1] == newest, what="the job to move one place up")
        await pilot.press("U")
        await wait_for(lambda: queue_order(core)[0] == newest, what="the job to move to the front")
        assert any("now next in the local queue" in s for s in seen)

        await pilot.press("C")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert f"batch {batch.id}" in app.screen.message
        await pilot.press("y")

        def all_cancelled() -> bool:
            return all(j.status is JobStatus.CANCELLED for j in core.history.store.batch_jobs(batch.id))

        await wait_for(all_cancelled, what="the batch cancelled")
        await wait_for(lambda: any(f"Batch {batch.id}: 3 pending cancelled" in s for s in seen), what="the toast")

        await pilot.press("X")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), what="the second question")
        await pilot.press("y")
        await wait_for(lambda: "Waiting jobs: nothing is waiting." in seen, what="the nothing-waiting toast")

        await pilot.press("P")
        await wait_for(lambda: "queue paused" not in status.plain(), what="the queue resumed")
        assert not await core.queue_paused()
