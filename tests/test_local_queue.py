"""The local queue (issue 21, "a queue you control"): a batch is written whole as pending rows and sent as
slots free, never more live than the limit, none twice (a crash, two instances), none lost; pause and resume
(kept across restarts), cancel a batch or everything waiting, move a pending job up.

Concurrency is read from the fake server's own record (when each request was created and finished there),
submits from its request log: what the server saw, not what the app believes it did.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from child_queue import fox_plan
from helpers import FAST, MODEL, open_core, submits, wait_all_terminal, wait_for, wait_status

from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.poll_policy import PollPolicy
from seedream_tui.jobs.service import Core
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.jobs.store_queue import PendingRow
from seedream_tui.paths import Paths

CHILD = Path(__file__).with_name("child_queue.py")


def peak_live(fake: Any) -> int:
    """The most requests the fake server held at once (created, not yet finished), from its own record."""
    events: list[tuple[float, int]] = []
    for record in fake.jobs_snapshot().values():
        events.append((record["created_ts"], 1))
        if record["finished_ts"] is not None:
            events.append((record["finished_ts"], -1))
    live = peak = 0
    for _, step in sorted(events):  # at the same instant an end (-1) comes before a start
        live += step
        peak = max(peak, live)
    return peak


def sent_prompts(fake: Any) -> list[str]:
    """The prompts the fake server was sent, in the order it received them."""
    records = sorted(fake.jobs_snapshot().values(), key=lambda r: r["created_ts"])
    return [r["input"]["prompt"] for r in records]


async def statuses(core: Core, batch_id: int) -> list[JobStatus]:
    return [job.status for job in await core.history.batch_jobs(batch_id)]


async def test_pending_jobs_are_sent_as_slots_free_never_more_than_max_live(fake_server: Any) -> None:
    fake_server.set_config(workers=8, min_duration=0.15, max_duration=0.3)
    core = await open_core(fake_server.base_url)
    try:
        batch, jobs = await core.submit_batch(fox_plan(9), max_live=2)
        assert [j.status for j in jobs] == [JobStatus.PENDING] * 9  # returned at once, all written
        assert [j.batch_place for j in jobs] == list(range(9))
        done = await wait_all_terminal(core, [j.id for j in jobs], within=30)
        assert all(j.status is JobStatus.COMPLETED for j in done), [j.error for j in done]
        assert submits(fake_server) == 9 and len({j.request_id for j in done}) == 9
        assert peak_live(fake_server) == 2  # the limit was used, never passed
        assert sent_prompts(fake_server) == [f"a fox, take {i}" for i in range(1, 10)]  # queue order
    finally:
        await core.close()


async def test_the_settings_limit_applies_to_a_batch_that_gives_none(fake_server: Any) -> None:
    fake_server.set_config(workers=8, min_duration=0.15, max_duration=0.3)
    core = await open_core(fake_server.base_url)
    core.config.settings.max_live_jobs = 3
    try:
        _, jobs = await core.submit_batch(fox_plan(8))
        done = await wait_all_terminal(core, [j.id for j in jobs], within=30)
        assert all(j.status is JobStatus.COMPLETED for j in done)
        assert peak_live(fake_server) == 3
    finally:
        await core.close()


async def test_a_paused_queue_keeps_the_whole_batch_pending_across_a_restart(fake_server: Any) -> None:
    core = await open_core(fake_server.base_url)
    try:
        assert "paused" in await core.pause_queue()
        batch, jobs = await core.submit_batch(fox_plan(3), max_live=3)
        assert await core.engine.queue.dispatch() == 0  # paused: nothing may go
        assert (await core.queue_counts()).text == "queue paused · 3 pending"
    finally:
        await core.close()
    again = await open_core(fake_server.base_url)  # a pending row is neither polled nor settled as unknown
    try:
        assert await again.queue_paused()
        assert await again.engine.queue.dispatch() == 0
        assert await statuses(again, batch.id) == [JobStatus.PENDING] * 3
        assert submits(fake_server) == 0
        assert "3 pending" in await again.resume_queue()
        done = await wait_all_terminal(again, [j.id for j in jobs], within=30)
        assert all(j.status is JobStatus.COMPLETED for j in done)
        assert not await again.queue_paused() and (await again.queue_counts()).text == ""
    finally:
        await again.close()


async def _spawn(base_url: str, count: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), base_url, str(count),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
    )


async def test_a_crash_in_the_middle_of_a_batch_sends_the_rest_at_the_next_start_none_twice(
    fake_server: Any,
) -> None:
    fake_server.set_config(min_duration=1.5, max_duration=1.5)
    child = await _spawn(fake_server.base_url, 5)
    try:
        assert child.stdout is not None
        line = (await asyncio.wait_for(child.stdout.readline(), 20)).decode().split()
        assert line and line[0] == "BATCH", line
        batch_id = int(line[1])
        # the child has sent two jobs (one at a time) and saved their request ids; the second is running
        history = HistoryStore(Paths.default().history_db)
        try:
            def two_sent_and_saved() -> bool:
                snap = sorted(fake_server.jobs_snapshot().values(), key=lambda r: r["created_ts"])
                saved = [j.request_id for j in history.batch_jobs(batch_id) if j.request_id]
                return [r["status"] for r in snap] == ["completed", "in_progress"] and len(saved) == 2

            await wait_for(two_sent_and_saved, 20, what="the child to send its second job")
        finally:
            history.close()
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGKILL)
        await asyncio.wait_for(child.wait(), 10)
    fake_server.set_config(min_duration=0.1, max_duration=0.2)
    core = await open_core(fake_server.base_url)
    try:
        rows = await core.history.batch_jobs(batch_id)
        assert len(rows) == 5
        done = await wait_all_terminal(core, [j.id for j in rows], within=40)
        assert all(j.status is JobStatus.COMPLETED for j in done), [(j.status, j.error) for j in done]
        assert submits(fake_server) == 5  # the two sent before the crash were not sent again
        assert len({j.request_id for j in done}) == 5
        assert sorted(r["input"]["prompt"] for r in fake_server.jobs_snapshot().values()) == sorted(
            j.prompt for j in done)
        # and each reported cost is counted once, whoever finished the job
        assert all(j.cost is not None for j in done)
        assert abs(await core.spent_today() - sum(j.cost or 0 for j in done)) < 1e-9
    finally:
        await core.close()


async def test_two_instances_on_one_history_never_send_a_pending_job_twice(fake_server: Any) -> None:
    """With the real 30 s lease: slots free by the jobs' own ends, not by a timer."""
    fake_server.set_config(workers=8, min_duration=0.1, max_duration=0.3)
    real = dataclasses.replace(FAST, lease=PollPolicy().lease)
    a = await open_core(fake_server.base_url, policy=real)
    b = await open_core(fake_server.base_url, policy=real)
    try:
        batch, jobs = await a.submit_batch(fox_plan(12), max_live=3)
        b.engine.queue.kick()  # both instances race for every free slot
        races = [asyncio.create_task(inst.engine.queue.dispatch()) for inst in (a, b, a, b)]
        await asyncio.gather(*races)
        done = await wait_all_terminal(a, [j.id for j in jobs], within=40)
        assert all(j.status is JobStatus.COMPLETED for j in done), [(j.status, j.error) for j in done]
        assert submits(fake_server) == 12 and len({j.request_id for j in done}) == 12
        assert a.engine.queue.claimed + b.engine.queue.claimed == 12
        assert peak_live(fake_server) <= 3
        total = sum(j.cost or 0 for j in done)
        assert abs(await a.spent_today() - total) < 1e-9 and abs(await b.spent_today() - total) < 1e-9
    finally:
        await a.close()
        await b.close()


def test_two_stores_claiming_at_once_take_each_pending_row_once(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    first, second = HistoryStore(path), HistoryStore(path)
    try:
        first.create_pending_batch([PendingRow("m", {"prompt": f"p{i}"}, i) for i in range(60)])
        taken: dict[str, list[int]] = {"a": [], "b": []}

        def claim_all(store: HistoryStore, name: str) -> None:
            while (claim := store.claim_pending(name, limit=1000, base_url=None)).job is not None:
                taken[name].append(claim.job.id)

        threads = [threading.Thread(target=claim_all, args=(s, n)) for s, n in ((first, "a"), (second, "b"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not set(taken["a"]) & set(taken["b"])
        assert len(taken["a"]) + len(taken["b"]) == 60
        assert first.pending_counts() == (0, 0)
        assert {j.status for j in first.list_jobs(limit=100)} == {JobStatus.SUBMITTING}
    finally:
        first.close()
        second.close()


async def test_cancel_a_batch_pending_at_once_queued_through_the_api(fake_server: Any) -> None:
    fake_server.set_config(workers=1, min_duration=30, max_duration=30)
    core = await open_core(fake_server.base_url)
    try:
        batch, jobs = await core.submit_batch(fox_plan(5), max_live=2)
        await wait_status(core, jobs[0].id, {JobStatus.RUNNING})
        await wait_status(core, jobs[1].id, {JobStatus.QUEUED})
        said = await core.cancel_batch(batch.id)
        assert said == (f"Batch {batch.id}: 3 pending cancelled (never sent); 1 cancelled at RunComfy; "
                        "1 not cancelled (running, downloading or still being sent).")
        assert await statuses(core, batch.id) == [JobStatus.RUNNING] + [JobStatus.CANCELLED] * 4
        assert await core.engine.queue.dispatch() == 0 and submits(fake_server) == 2
        assert await core.cancel_batch(batch.id + 1) == f"There is no batch {batch.id + 1} in the history."
    finally:
        await core.close()


async def test_cancel_everything_waiting_but_the_running_ones(fake_server: Any) -> None:
    fake_server.set_config(workers=1, min_duration=30, max_duration=30)
    core = await open_core(fake_server.base_url)
    try:
        single = await core.submit(core.registry.get(MODEL), {"prompt": "running alone"})
        await wait_status(core, single.id, {JobStatus.RUNNING})
        batch, jobs = await core.submit_batch(fox_plan(3), max_live=3)  # two sent (queued there), one pending
        await wait_for(lambda: submits(fake_server) == 3, 10, what="two of the batch to be sent")
        await wait_status(core, jobs[1].id, {JobStatus.QUEUED})
        said = await core.cancel_waiting()
        assert said == "Waiting jobs: 1 pending cancelled (never sent); 2 cancelled at RunComfy."
        assert (await core.history.get(single.id)).status is JobStatus.RUNNING
        assert await statuses(core, batch.id) == [JobStatus.CANCELLED] * 3
        assert await core.cancel_waiting() == "Waiting jobs: nothing is waiting."
    finally:
        await core.close()


async def test_a_pending_job_moves_up_and_is_sent_in_its_new_place(fake_server: Any) -> None:
    fake_server.set_config(workers=4, min_duration=0.05, max_duration=0.1)
    core = await open_core(fake_server.base_url)
    try:
        await core.pause_queue()
        _, jobs = await core.submit_batch(fox_plan(4), max_live=1)
        assert await core.move_up(jobs[3].id) == f"Job {jobs[3].id} is now number 3 in the local queue."
        assert await core.move_up(jobs[3].id, to_front=True) == f"Job {jobs[3].id} is now next in the local queue."
        assert await core.move_up(jobs[2].id) == f"Job {jobs[2].id} is now number 3 in the local queue."
        await core.resume_queue()
        done = await wait_all_terminal(core, [j.id for j in jobs], within=30)
        assert sent_prompts(fake_server) == ["a fox, take 4", "a fox, take 1", "a fox, take 3", "a fox, take 2"]
        said = await core.move_up(done[0].id)
        assert said == f"Job {done[0].id} is not waiting in the local queue (it is done); only pending jobs move."
    finally:
        await core.close()


async def test_a_cancelled_pending_job_is_never_sent(fake_server: Any) -> None:
    core = await open_core(fake_server.base_url)
    try:
        await core.pause_queue()
        _, jobs = await core.submit_batch(fox_plan(2))
        assert await core.cancel(jobs[0].id) == "Cancelled."
        await core.resume_queue()
        done = await wait_status(core, jobs[1].id)
        assert done.status is JobStatus.COMPLETED
        assert (await core.history.get(jobs[0].id)).status is JobStatus.CANCELLED
        assert submits(fake_server) == 1
    finally:
        await core.close()


async def test_a_refused_submit_pauses_the_queue_instead_of_failing_every_job(fake_server: Any) -> None:
    core = await open_core(fake_server.base_url)
    try:
        fake_server.set_config(bad_token=True)  # the token was revoked: every submit is refused the same way
        _, jobs = await core.submit_batch(fox_plan(4), max_live=1)
        await wait_for(core.queue_paused, 10, what="the queue to pause")
        first = await wait_status(core, jobs[0].id)
        assert first.status is JobStatus.FAILED
        # a claim already on its way when the first refusal came may meet the same refusal; no more do
        assert await core.engine.queue.dispatch() == 0
        after = await statuses(core, jobs[0].batch_id or 0)
        assert after.count(JobStatus.PENDING) >= 2 and after.count(JobStatus.FAILED) == submits(fake_server) <= 2
    finally:
        await core.close()


def test_the_pending_word() -> None:
    assert JobStatus.from_word("pending") is JobStatus.PENDING
    assert not JobStatus.PENDING.terminal and JobStatus.PENDING.label == "pending"
    assert "pending" in JobStatus.words()


def test_a_history_sent_nothing_before_the_claim_sees_the_limit_across_batches(tmp_path: Path) -> None:
    """The limit counts every live job of the history (single submits too); a batch's own max_live wins."""
    store = HistoryStore(tmp_path / "h.sqlite3")
    try:
        store.create_job("m", {"prompt": "a single submit, live"})
        _, [low] = store.create_pending_batch([PendingRow("m", {"prompt": "low"}, 0)], max_live=1)
        _, [high] = store.create_pending_batch([PendingRow("m", {"prompt": "high"}, 0)], max_live=3)
        claim = store.claim_pending("me", limit=1, base_url="http://127.0.0.1:1")
        assert claim.job is not None and claim.job.id == high.id  # low's batch allows 1 live: 1 is
        assert claim.job.status is JobStatus.SUBMITTING and claim.job.base_url == "http://127.0.0.1:1"
        assert store.lease(high.id).owner == "me"
        assert store.claim_pending("me", limit=8, base_url=None).job is None
        assert store.get(low.id).status is JobStatus.PENDING
    finally:
        store.close()


async def test_a_command_that_does_not_wait_sends_what_may_go_and_leaves_the_rest_pending(fake_server: Any) -> None:
    fake_server.set_config(workers=1, min_duration=30, max_duration=30)
    core = await open_core(fake_server.base_url)
    try:
        batch, _ = await core.submit_batch(fox_plan(5), max_live=2)
        assert await core.flush_queue() in (0, 1, 2)  # the engine's own dispatcher may have sent some first
        rows = await core.history.batch_jobs(batch.id)
        assert [j.status for j in rows][2:] == [JobStatus.PENDING] * 3
        assert all(j.request_id for j in rows[:2])  # both answered and saved before the command ends
    finally:
        await core.close()
    assert submits(fake_server) == 2
    again = await open_core(fake_server.base_url, start=False)
    try:
        rows = await again.history.batch_jobs(batch.id)
        assert all(j.status in (JobStatus.QUEUED, JobStatus.RUNNING) and j.request_id for j in rows[:2])
        assert [j.status for j in rows][2:] == [JobStatus.PENDING] * 3  # for the next start to send
    finally:
        await again.close()
