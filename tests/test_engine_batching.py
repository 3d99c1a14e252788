"""Issue 13 §4: the engine's work per tick and per job is batched.

- the pollers due in one tick share one timer (one wake-up of the event loop), not one each;
- a finished job's output URLs and its "downloading" status are one history write, and so are its last
  file and its completion (no reader ever sees one without the other; fewer commits);
- a small image's download hands work to a thread three times, not once per file call.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from helpers import MODEL, is_file, open_core, read, wait_all_terminal, wait_status

from seedream_tui.api.types import RemoteStatus, RequestState
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.poll_policy import PollPolicy

JOBS = 20


async def test_polls_due_in_one_tick_share_one_timer(fake_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_server.set_config(min_duration=60, max_duration=60)  # nothing ends while the test counts
    policy = PollPolicy(first=0.1, queued_near=0.3, queued_far=0.3, jitter=0.1, lease=30.0)  # tick: 0.1
    core = await open_core(fake_server.base_url, policy=policy)
    try:
        jobs = [await core.engine.submit(MODEL, {"prompt": f"tick {i}"}) for i in range(JOBS)]
        polls = 0
        asked: set[str] = set()
        warm, enough = asyncio.Event(), asyncio.Event()

        async def queued(request_id: str, **_kw: Any) -> RequestState:  # no network: only the waits set timers
            nonlocal polls
            polls += 1
            asked.add(request_id)
            if len(asked) == JOBS:
                warm.set()
            if polls >= start_polls + 8 * JOBS:
                enough.set()
            return RequestState(request_id, RemoteStatus.IN_QUEUE, "in_queue", queue_position=3)

        start_polls = 10**9

        monkeypatch.setattr(core.client, "result", queued)
        loop = asyncio.get_running_loop()
        timers = 0
        real_call_at = loop.call_at

        def counting_call_at(when: float, callback: Any, *args: Any, **kw: Any) -> asyncio.TimerHandle:
            nonlocal timers
            timers += 1
            return real_call_at(when, callback, *args, **kw)

        await asyncio.wait_for(warm.wait(), 60)  # every job past its first poll, into its steady rhythm
        start_polls = polls
        monkeypatch.setattr(loop, "call_at", counting_call_at)
        await asyncio.wait_for(enough.wait(), 60)
        monkeypatch.setattr(loop, "call_at", real_call_at)
        sent = polls - start_polls
        # one timer per poll when each poller sleeps on its own; with a shared tick, ~20 jobs due within
        # a 0.03 s jitter fall in one or two ticks: a handful of timers per round of 20 polls
        assert sent >= 6 * JOBS
        assert timers * 4 <= sent, (timers, sent)
        assert all(core.engine.is_following(job.id) for job in jobs)
    finally:
        await core.close()


async def test_outputs_and_status_are_one_write(fake_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_server.set_config(min_duration=0.05, max_duration=0.1)
    core = await open_core(fake_server.base_url)
    store = core.history.store
    writes: list[tuple[str, Job]] = []
    for name in ("update_job", "set_outputs", "update_output"):
        real = getattr(store, name)

        def recording(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Job:
            job = _real(*args, **kw)
            writes.append((_name, job))
            return job

        monkeypatch.setattr(store, name, recording)
    try:
        job = await core.engine.submit(MODEL, {"prompt": "one write"})
        done = await wait_status(core, job.id)
        assert done.status is JobStatus.COMPLETED, done.error
        late = [(name, row) for name, row in writes
                if row.id == job.id and row.status not in (JobStatus.QUEUED, JobStatus.RUNNING)]
        assert [(name, row.status) for name, row in late] == [
            ("set_outputs", JobStatus.DOWNLOADING),
            ("update_output", JobStatus.COMPLETED),
        ]
        downloading, completed = late[0][1], late[1][1]
        assert [o.url for o in downloading.outputs] == [o.url for o in done.outputs] and downloading.outputs
        assert downloading.cost == done.cost and downloading.version < completed.version == done.version
        assert [o.path for o in completed.outputs] == [o.path for o in done.outputs]
        assert all(is_file(o.path) for o in completed.outputs) and completed.finished_at
        lease = await core.history.lease(job.id)
        assert lease is not None and lease.owner is None  # a final row gives its lease up
    finally:
        await core.close()


async def test_a_download_hands_work_to_threads_three_times(fake_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    core = await open_core(fake_server.base_url)
    try:
        job = await core.engine.submit(MODEL, {"prompt": "three hand-offs"})
        done = await wait_status(core, job.id)
        assert done.status is JobStatus.COMPLETED, done.error
        handed: list[str] = []
        real = asyncio.to_thread
        me = asyncio.current_task()

        async def counting(fn: Any, *args: Any, **kw: Any) -> Any:
            if asyncio.current_task() is me:  # the download's own (the fake CDN, in this process, has its own)
                handed.append(getattr(fn, "__name__", repr(fn)))
            return await real(fn, *args, **kw)

        monkeypatch.setattr(asyncio, "to_thread", counting)
        out = done.outputs[0]
        again = await core.engine.downloader.fetch(out.url, job_id=job.id, request_id="again", index=0,
                                                   provenance={"prompt": "three hand-offs"})
        assert read(again.path)[:8] == b"\x89PNG\r\n\x1a\n" and is_file(again.thumb_path)
        assert len(handed) == 3, handed  # the folder, the body (written, synced, closed), the checks
    finally:
        await core.close()


async def test_past_run_times_are_read_once_per_model(fake_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_server.set_config(workers=10, min_duration=0.3, max_duration=0.3)
    core = await open_core(fake_server.base_url)
    reads: list[str] = []
    real = core.history.run_times

    async def counting(model_id: str, limit: int = 100) -> list[tuple[dict[str, Any], float]]:
        reads.append(model_id)
        return await real(model_id, limit)

    monkeypatch.setattr(core.history, "run_times", counting)
    try:
        jobs = [await core.engine.submit(MODEL, {"prompt": f"run {i}"}) for i in range(8)]
        done = await wait_all_terminal(core, [j.id for j in jobs])
        assert all(j.status is JobStatus.COMPLETED for j in done), [j.error for j in done]
        # the next prediction comes from this engine's own completions, without asking the history again
        past = await core.engine.parts.runs.expected(jobs[0])
        assert past and 0.0 < min(past) <= max(past) < 5.0
        assert reads == [MODEL]  # eight jobs ran; the history was read once, not once per running job
    finally:
        await core.close()
