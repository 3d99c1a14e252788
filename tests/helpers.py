"""Shared helpers of the job-core tests: await a condition with a deadline, open a Core on a fake server.

Tests never sleep to synchronise: they await a predicate that probes real state (the history, the fake
server's own record) and fail with a message naming what never happened.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from seedream_tui.config import AppConfig, resolve_config
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.poll_policy import PollPolicy
from seedream_tui.jobs.service import Core

MODEL = "bytedance/seedream-5/lite/text-to-image"
TOKEN = "test-token"

#: quick polling so a job on the fast fake server is noticed within ~0.1 s; a short lease so a crashed
#: owner's jobs are taken over within about a second
FAST = PollPolicy(
    first=0.05, running=0.1, queued_near=0.1, queued_far=0.3, unknown=0.1,
    backoff_base=0.05, backoff_cap=0.4, lease=1.0,
)


async def wait_for(
    predicate: Callable[[], Any], within: float = 10.0, *, what: str = "the condition", interval: float = 0.02,
) -> Any:
    """Await until ``predicate()`` (sync or async) returns something truthy; return it, or fail at the deadline."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(interval)  # the probe interval, not a synchronisation


def wait_until(probe: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Blocking twin of :func:`wait_for` for tests outside an event loop (the fake server runs in its own
    thread): poll ``probe`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)  # polling interval of a deadline-bound wait, not synchronisation


def app_config(base_url: str) -> AppConfig:
    """The configuration a real user run would have, pointed at the fake server (normal, non-demo profile)."""
    return resolve_config(base_url=base_url, env={"RUNCOMFY_API_TOKEN": TOKEN})


async def open_core(base_url: str, *, policy: PollPolicy = FAST, start: bool = True, **kw: Any) -> Core:
    core = await Core.open(app_config(base_url), policy=policy, **kw)
    if start:
        await core.start()
    return core


async def wait_status(
    core: Core, job_id: int, statuses: Iterable[JobStatus] | None = None, within: float = 10.0
) -> Job:
    """The job once its status is one of ``statuses`` (default: any terminal one)."""
    wanted = set(statuses) if statuses is not None else None

    async def probe() -> Job | None:
        job = await core.history.get(job_id)
        if job is None:
            return None
        ok = job.status in wanted if wanted is not None else job.status.terminal
        return job if ok else None

    names = ", ".join(sorted(s.value for s in wanted)) if wanted else "a terminal status"
    job: Job = await wait_for(probe, within, what=f"job {job_id} to reach {names}")
    return job


async def wait_all_terminal(core: Core, job_ids: Iterable[int], within: float = 20.0) -> list[Job]:
    ids = list(job_ids)

    async def probe() -> list[Job] | None:
        jobs = [job for i in ids if (job := await core.history.get(i)) is not None]
        return jobs if len(jobs) == len(ids) and all(j.status.terminal for j in jobs) else None

    done: list[Job] = await wait_for(probe, within, what=f"{len(ids)} jobs to finish", interval=0.05)
    return done


def result_requests(fake: Any, request_id: str) -> int:
    """How many status/result polls the fake server received for one request."""
    return sum(
        1 for r in fake.api_requests
        if r["method"] == "GET" and r["path"].startswith(f"/v1/requests/{request_id}/")
    )


def submits(fake: Any) -> int:
    return sum(1 for r in fake.api_requests if r["method"] == "POST" and r["path"].startswith("/v1/models/"))


def is_file(path: str | Path | None) -> bool:
    return bool(path) and Path(path or "").is_file()


def read(path: str | Path | None) -> bytes:
    return Path(path or "").read_bytes()


def leftovers(root: Path) -> list[Path]:
    """Every file under ``root`` (images dir): used to prove a failed download left nothing behind."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
