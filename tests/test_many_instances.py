"""Several instances on one history, and a history that cannot be written: no paid job is lost.

In-process twins of the multi-process swarm test (tests/reliability/test_swarm.py), each aimed at one
cause: a poller that was suspended mid-request, a waiter whose job another instance settles, a request
id arriving while another instance holds the history's write lock, request ids that share a long prefix.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from helpers import FAST, MODEL, is_file, open_core, submits, wait_for, wait_status

from seedream_tui.jobs import store_schema
from seedream_tui.jobs.journal import Entry, RequestJournal
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.service import Core
from seedream_tui.jobs.submitter import RequestIdNotSaved

LEASE = dataclasses.replace(FAST, lease=0.6)


async def test_a_poller_suspended_mid_request_never_writes_over_the_outcome(fake_server: Any) -> None:
    """A is stopped while its /result request is on the wire; B takes the job over, finishes it (using up
    the one-time download link); A wakes up with its old answer and must leave the job as B left it."""
    fake_server.set_config(one_time_links=True, min_duration=0.8, max_duration=0.8)
    a = await open_core(fake_server.base_url, policy=LEASE)
    b: Core | None = None
    frozen, thaw = asyncio.Event(), asyncio.Event()
    real_result = a.client.result
    try:
        job = await a.engine.submit(MODEL, {"prompt": "frozen mid-poll"})
        await wait_status(a, job.id, {JobStatus.RUNNING})

        async def suspended_result(*args: Any, **kwargs: Any) -> Any:
            answer = await real_result(*args, **kwargs)
            if not frozen.is_set():
                assert a.engine.leases._heart is not None
                a.engine.leases._heart.cancel()  # the whole process is stopped: no heartbeat either
                frozen.set()
                await thaw.wait()
            return answer

        a.client.result = suspended_result  # type: ignore[method-assign]
        await asyncio.wait_for(frozen.wait(), 10)
        b = await open_core(fake_server.base_url, policy=LEASE)
        done = await wait_status(b, job.id, {JobStatus.COMPLETED}, within=15)
        thaw.set()  # A resumes with its stale answer in hand
        await wait_for(lambda: not a.engine.is_following(job.id), 10, what="A to stop following the job")
        after = await b.history.get(job.id)
        assert after == done and after.version == done.version  # A wrote nothing at all
        assert all(is_file(o.path) for o in after.outputs)
    finally:
        thaw.set()
        await a.close()
        if b is not None:
            await b.close()


async def test_a_waiter_learns_the_outcome_whoever_settled_it(fake_server: Any) -> None:
    fake_server.set_config(min_duration=0.5, max_duration=0.5)
    owner = await open_core(fake_server.base_url, policy=LEASE)
    waiter = await open_core(fake_server.base_url, policy=LEASE, start=False)  # a CLI: no engine of its own
    try:
        job = await owner.engine.submit(MODEL, {"prompt": "settled elsewhere"})
        final = await asyncio.wait_for(waiter.engine.wait_for(job.id, check_every=0.1), 15)
        assert final is not None and final.status is JobStatus.COMPLETED
    finally:
        await owner.close()
        await waiter.close()


def _hold_write_lock(db: Path) -> sqlite3.Connection:
    """Another instance in the middle of a long write: it holds the history's write lock."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


async def _submit_into_a_locked_history(core: Core) -> tuple[asyncio.Task[Job], sqlite3.Connection]:
    task = asyncio.create_task(core.engine.submit(MODEL, {"prompt": "answered while the history is locked"}))

    async def row_written() -> bool:
        return bool(await core.history.list_jobs(limit=1))

    await wait_for(row_written, 10, what="the job's row")
    return task, _hold_write_lock(core.paths.history_db)


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_schema, "BUSY_TIMEOUT_MS", 150)


@pytest.mark.usefixtures("short_busy_timeout")
async def test_a_request_id_that_meets_a_locked_history_is_told_kept_and_saved_later(fake_server: Any) -> None:
    fake_server.set_config(latency=0.4)  # the answer arrives after the lock is taken
    core = await open_core(fake_server.base_url, policy=dataclasses.replace(FAST, save_attempts=2))
    lock: sqlite3.Connection | None = None
    try:
        task, lock = await _submit_into_a_locked_history(core)
        with pytest.raises(RequestIdNotSaved) as refused:
            await asyncio.wait_for(task, 20)
        [request_id] = fake_server.jobs_snapshot()
        message = str(refused.value)
        assert request_id in message and str(core.history.store.journal.path) in message
        assert [e.request_id for e in core.history.store.journal.entries()] == [request_id]
        lock.rollback()
        lock.close()
        lock = None  # the other instance is done: the engine saves the id itself and follows the job
        done = await wait_status(core, refused.value.job_id, within=15)
        assert done.status is JobStatus.COMPLETED and done.request_id == request_id
        assert submits(fake_server) == 1
    finally:
        if lock is not None:
            lock.close()
        await core.close()


@pytest.mark.usefixtures("short_busy_timeout")
async def test_a_journaled_request_id_is_restored_at_the_next_start(fake_server: Any) -> None:
    fake_server.set_config(latency=0.4)
    core = await open_core(fake_server.base_url, policy=dataclasses.replace(FAST, save_attempts=1))
    task, lock = await _submit_into_a_locked_history(core)
    try:
        with pytest.raises(RequestIdNotSaved):
            await asyncio.wait_for(task, 20)
    finally:
        await core.close()  # the user quits with the history still locked
        lock.close()
    again = await open_core(fake_server.base_url)
    try:
        [row] = await again.history.list_jobs(limit=5)
        assert row.request_id == next(iter(fake_server.jobs_snapshot()))
        done = await wait_status(again, row.id)
        assert done.status is JobStatus.COMPLETED
        assert again.history.store.journal.entries() == []  # compacted once safely in the history
    finally:
        await again.close()
    assert submits(fake_server) == 1


def test_the_journal_skips_torn_lines_and_keeps_what_others_appended(tmp_path: Path) -> None:
    journal = RequestJournal(tmp_path / "history.sqlite3.requests")
    journal.append(Entry(1, "req-1", MODEL, 1.0))
    with journal.path.open("a") as fh:
        fh.write('{"job_id": 2, "request_id": "req-')  # a crash mid-append
    journal.append(Entry(3, "req-3", MODEL, 3.0))
    assert [e.request_id for e in journal.entries()] == ["req-1", "req-3"]
    journal.compact({(1, "req-1")})
    assert journal.entries() == [Entry(3, "req-3", MODEL, 3.0)]


def test_a_full_disk_is_not_called_damage(tmp_path: Path) -> None:
    error = store_schema.unreadable(tmp_path / "h.sqlite3", sqlite3.OperationalError("database or disk is full"))
    assert "full" in str(error) and "damaged" not in str(error) and "move it aside" not in str(error)


async def test_request_ids_sharing_a_long_prefix_keep_their_own_files(fake_server: Any) -> None:
    fake_server.set_config(request_id_prefix="batch_" + "x" * 90 + "_")
    core = await open_core(fake_server.base_url)
    try:
        jobs = [await core.engine.submit(MODEL, {"prompt": f"twin {i}"}) for i in range(2)]
        done = [await wait_status(core, job.id) for job in jobs]
        paths = [d.outputs[0].path for d in done]
        assert all(d.status is JobStatus.COMPLETED for d in done)
        assert paths[0] != paths[1] and all(is_file(p) for p in paths)
        await core.delete(done[0].id)
        assert not is_file(paths[0]) and is_file(paths[1])  # deleting one never takes the other's image
    finally:
        await core.close()


@pytest.mark.usefixtures("short_busy_timeout")
def test_the_cli_names_the_request_id_and_exits_5_when_it_cannot_be_saved(
    fake_server: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's submit meets a history locked by another instance: it says the request id and exits 5
    (like an unknown outcome: a scripted retry must not pay twice)."""
    import threading

    from helpers import wait_until

    from seedream_tui import cli
    from seedream_tui.paths import Paths

    fake_server.set_config(latency=0.5)
    db = Paths.default().history_db
    codes: list[int] = []
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "t")
    run = threading.Thread(target=lambda: codes.append(
        cli.main(["submit", "a locked history", "--base-url", fake_server.base_url])))
    run.start()
    wait_until(lambda: fake_server.api_requests, 20, "the submit to reach the server")
    lock = _hold_write_lock(db)
    try:
        run.join(60)
    finally:
        lock.close()
    [request_id] = fake_server.jobs_snapshot()
    err = capsys.readouterr().err
    assert codes == [5], err
    assert request_id in err and "Traceback" not in err
