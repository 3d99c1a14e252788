"""500 jobs through the real engine while the fake server misbehaves in every way at once; nothing is lost.

Every fault knob is on together: 5xx answers, 429s with Retry-After, dropped connections (on a submit: half
before the job exists, half after, the answer lost), gateway 502/504s after a submit created the job, failed
jobs, truncated downloads and latency spikes. At the end each history row must agree with the server's own record (``jobs_snapshot()``), every completed job must have
all its images on disk and decodable, and no file may be extra or half-written. Each submit attempt the engine
makes is recorded, to prove it only sends a submit again when the server surely created nothing.

Run with ``pytest -s`` to see the ``RELIABILITY faults:`` figures.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

from helpers import MODEL, open_core, submits, wait_all_terminal
from rel_support import NOTHING_CREATED, Stopwatch, audit

from seedream_tui.api.errors import ApiError
from seedream_tui.api.types import SubmitResult
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.poll_policy import PollPolicy
from seedream_tui.jobs.service import Core

JOBS = 500
FAULTS = {
    "error_5xx_rate": 0.10,
    "rate_429": 0.05,
    "retry_after": 0.05,
    "drop_rate": 0.05,
    "gateway_after_submit_rate": 0.02,
    "fail_rate": 0.03,
    "truncate_rate": 0.02,
    "latency_spike_rate": 0.02,
    "latency_spike": 0.2,
}
#: brisk polling and short backoffs, so 500 jobs with faults settle in seconds on two cores
POLICY = PollPolicy(
    first=0.05, running=0.1, queued_near=0.1, queued_far=0.2, unknown=0.1,
    backoff_base=0.05, backoff_cap=0.3, lease=5.0,
)
FAULT_KINDS = ("error_5xx", "rate_429", "drop", "gateway_after_submit", "fail", "truncate", "latency_spike")


class SubmitRecorder:
    """Wraps the core's client so every submit attempt's outcome is kept, per prompt, in order."""

    def __init__(self, core: Core) -> None:
        self.attempts: dict[str, list[str]] = collections.defaultdict(list)
        real = core.client.submit

        async def submit(model_id: str, inputs: dict[str, Any]) -> SubmitResult:
            outcomes = self.attempts[str(inputs["prompt"])]
            try:
                answer = await real(model_id, inputs)
            except BaseException as exc:
                outcomes.append(type(exc).__name__)
                raise
            outcomes.append(f"accepted {answer.request_id}")
            return answer

        setattr(core.client, "submit", submit)  # noqa: B010 - replace one instance's method

    @property
    def total(self) -> int:
        return sum(len(a) for a in self.attempts.values())


def retry_problems(attempts: dict[str, list[str]], rows: dict[str, Any]) -> list[str]:
    """A submit is only sent again after an answer that proves nothing was created; the row tells the last one."""
    problems = []
    for prompt, outcomes in attempts.items():
        row = rows[prompt]
        early, last = outcomes[:-1], outcomes[-1]
        if any(o not in NOTHING_CREATED for o in early):
            problems.append(f"{prompt!r} was sent again after {early}")
        if last.startswith("accepted "):
            if row.request_id != last.split()[1]:
                problems.append(f"{prompt!r}: the row's request id {row.request_id} is not the answer's")
        elif last == "SubmitOutcomeUnknown":
            if row.status is not JobStatus.UNKNOWN:
                problems.append(f"{prompt!r}: a lost answer left the row {row.status.value}")
        elif row.status is not JobStatus.FAILED or row.request_id is not None:
            problems.append(f"{prompt!r}: refused by {last} but the row is {row.status.value}")
    return problems


async def test_500_jobs_under_every_fault_lose_nothing(fake_server: Any) -> None:
    fake_server.set_config(workers=64, min_duration=0.02, max_duration=0.15, image_scale=0.02, seed=20240501)
    clock = Stopwatch()
    core = await open_core(fake_server.base_url, policy=POLICY, max_in_flight=16)
    recorder = SubmitRecorder(core)
    fake_server.set_config(**FAULTS)
    prompts = [f"fault storm {i}" for i in range(JOBS)]
    raised: collections.Counter[str] = collections.Counter()
    gate = asyncio.Semaphore(32)  # a user firing jobs fast, not 500 sockets at once

    async def one(prompt: str) -> None:
        async with gate:
            try:
                await core.engine.submit(MODEL, {"prompt": prompt})
            except ApiError as exc:  # recorded on the row by the engine; audited below
                raised[type(exc).__name__] += 1

    try:
        await asyncio.gather(*(one(p) for p in prompts))
        ids = [job.id for job in await core.history.list_jobs(limit=JOBS * 2)]
        rows = await wait_all_terminal(core, ids, within=45)
        server = fake_server.jobs_snapshot()
        faults = fake_server.faults_injected
        result = audit(rows, server, core.paths.images_dir, prompts=prompts)
        problems = result.problems + retry_problems(recorder.attempts, {r.prompt: r for r in rows})
        posted = submits(fake_server)
        integrity = await core.history.integrity_check()
    finally:
        await core.close()

    injected = " ".join(f"{kind}={faults[kind]}" for kind in FAULT_KINDS)
    retried = sum(1 for a in recorder.attempts.values() if len(a) > 1)
    print(
        f"\nRELIABILITY faults: jobs={JOBS} faults_injected=[{injected}] "
        f"{result.summary()} submit_attempts={recorder.total} resent_submits={retried} "
        f"submit_errors={dict(raised)} server_jobs={len(server)} lost={len(problems)} wall={clock.seconds:.1f}s"
    )
    assert problems == []
    orphans = [rid for rid in server if rid not in {r.request_id for r in rows}]
    assert all(server[rid]["answer_dropped"] for rid in orphans), "a server job the app never heard of"
    assert integrity == "ok"
    assert result.jobs == JOBS and len(recorder.attempts) == JOBS
    assert posted == recorder.total  # every attempt the engine made reached the server once, none unseen
    # every knob really fired, and its effect shows where it should
    assert all(faults[kind] > 0 for kind in FAULT_KINDS), faults
    assert retried > 0, "no submit met a 429 first: the retry path was not exercised"
    assert result.statuses["unknown"] > 0 and result.statuses["failed"] > 0
    assert result.statuses["completed"] > JOBS * 0.7
