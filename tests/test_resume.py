"""Crash safety: an app killed with SIGKILL loses no job and duplicates none; the next start finishes the work.

The first "app" is a real process (``child_app.py``) talking to the fake server this test process runs; the
test kills it at the worst moments (mid-poll, mid-submit) and then opens the core on the same history.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from helpers import MODEL, leftovers, open_core, result_requests, submits, wait_for, wait_status
from PIL import Image

from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import AsyncHistory
from seedream_tui.jobs.submitter import UNKNOWN_SUBMIT
from seedream_tui.paths import Paths

CHILD = Path(__file__).with_name("child_app.py")


class Child:
    """The first app run, as a subprocess we can SIGKILL."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, base_url: str, prompt: str) -> Child:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(CHILD), base_url, prompt,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
        )
        return cls(proc)

    async def line(self, prefix: str, within: float = 15.0) -> list[str]:
        assert self.proc.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), within)
            if not raw:
                err = b""
                if self.proc.stderr is not None:
                    err = await self.proc.stderr.read()
                raise AssertionError(f"the child app ended early: {err.decode(errors='replace')[-2000:]}")
            words = raw.decode().split()
            if words and words[0] == prefix:
                return words[1:]

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), 10)
        assert self.proc.returncode == -signal.SIGKILL


async def stored_job(job_id: int) -> Any:
    history = await AsyncHistory.open(Paths.default().history_db)
    try:
        return await history.get(job_id)
    finally:
        await history.close()


async def test_job_of_a_killed_app_is_finished_by_the_next_start(fake_server: Any) -> None:
    fake_server.set_config(min_duration=1.2, max_duration=1.2)
    child = await Child.start(fake_server.base_url, "a fox that survives a crash")
    try:
        job_id_text, request_id = await child.line("SUBMITTED")
        job_id = int(job_id_text)
        # kill it mid-poll: the first app has asked about the job at least once and it is not done yet
        await wait_for(lambda: result_requests(fake_server, request_id) >= 1, 10, what="the child's first poll")
        assert fake_server.jobs_snapshot()[request_id]["status"] in ("in_queue", "in_progress")
    finally:
        await child.kill()

    before = await stored_job(job_id)
    assert before.request_id == request_id
    assert before.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    core = await open_core(fake_server.base_url)
    try:
        done = await wait_status(core, job_id, within=15)
        assert done.status is JobStatus.COMPLETED, done.error
        assert done.request_id == request_id
        assert await core.history.count_jobs() == 1
        assert submits(fake_server) == 1
        assert list(fake_server.jobs_snapshot()) == [request_id]
        assert len(done.outputs) == 1 and done.outputs[0].path
        assert [str(p) for p in leftovers(core.paths.images_dir)] == [done.outputs[0].path]
        with Image.open(done.outputs[0].path) as img:
            img.load()
            assert img.text["prompt"] == "a fox that survives a crash"  # type: ignore[attr-defined]
    finally:
        await core.close()


async def test_app_killed_while_submitting_leaves_an_unknown_job_never_resubmitted(fake_server: Any) -> None:
    # the fake server holds the submit answer back, so the child dies between send and answer
    fake_server.set_config(latency=1.5)
    child = await Child.start(fake_server.base_url, "a submit cut in half")
    try:
        await child.line("READY")
        await wait_for(lambda: submits(fake_server) == 1, 10, what="the child's submit to arrive")
    finally:
        await child.kill()
    fake_server.set_config(latency=0.0)

    core = await open_core(fake_server.base_url)
    try:
        [row] = await core.history.list_jobs()
        assert row.request_id is None
        job = await wait_status(core, row.id, within=10)
        assert job.status is JobStatus.UNKNOWN
        assert job.error == UNKNOWN_SUBMIT
        assert "RunComfy dashboard" in job.status.label
        await wait_for(lambda: core.engine.live_count == 0, 5, what="the engine to let the job go")
        assert submits(fake_server) == 1  # never sent again
        assert await core.history.count_jobs() == 1
    finally:
        await core.close()


async def test_submitting_row_without_request_id_becomes_unknown_at_start(fake_server: Any) -> None:
    history = await AsyncHistory.open(Paths.default().history_db)
    orphan = await history.create_job(MODEL, {"prompt": "lost answer"}, base_url=fake_server.base_url)
    await history.close()

    core = await open_core(fake_server.base_url)
    try:
        job = await wait_status(core, orphan.id, within=5)
        assert job.status is JobStatus.UNKNOWN
        assert job.error == UNKNOWN_SUBMIT
        assert submits(fake_server) == 0
    finally:
        await core.close()


async def test_submitting_row_held_by_a_live_instance_is_left_alone(fake_server: Any) -> None:
    """A row another running app is submitting right now must not be declared unknown under its feet."""
    history = await AsyncHistory.open(Paths.default().history_db)
    busy = await history.create_job(MODEL, {"prompt": "in flight elsewhere"}, base_url=fake_server.base_url)
    assert await history.try_claim(busy.id, "other-app")

    core = await open_core(fake_server.base_url)
    try:
        assert core.engine.live_count == 1
        # the other app gets its answer and records it; this engine then just follows the job
        submit = await core.client.submit(MODEL, {"prompt": "in flight elsewhere"})
        await history.update_job(busy.id, request_id=submit.request_id, status=JobStatus.QUEUED)
        await history.release_claims("other-app")
        job = await wait_status(core, busy.id, within=10)
        assert job.status is JobStatus.COMPLETED, job.error
    finally:
        await core.close()
        await history.close()
