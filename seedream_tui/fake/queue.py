"""The fake server's job record and its queue: ``in_queue`` -> ``in_progress`` -> a terminal state.

Queued jobs cost nothing but a dict entry: only running jobs own an asyncio task (at most ``workers`` of
them), and a finishing job pulls the next one in. So a thousand queued jobs stay cheap.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from seedream_tui.fake.faults import FakeConfig, FaultDice

TERMINAL = ("completed", "failed", "cancelled")

_FAILURES = (
    ("The model could not generate an image for this prompt.", "GENERATION_FAILED"),
    ("The content was flagged by the safety filter.", "CONTENT_POLICY"),
    ("The worker ran out of GPU memory.", "OUT_OF_MEMORY"),
)


def iso_now() -> str:
    return iso_at(time.time())


def iso_at(ts: float) -> str:
    """The API's timestamp format (whole seconds, UTC, ``Z``) for a unix time."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeJob:
    request_id: str
    model_id: str
    #: what the client sent
    input: dict[str, Any]
    #: what the model works with: schema defaults filled in
    effective_input: dict[str, Any]
    status: str = "in_queue"
    #: unix seconds (``time.time()``): benchmarks measure "done on the server -> the client knows" with them
    created_ts: float = field(default_factory=time.time)
    created_at: str = ""
    created_monotonic: float = field(default_factory=time.monotonic)
    started_at: str | None = None
    started_ts: float | None = None
    finished_at: str | None = None
    finished_ts: float | None = None
    outputs: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    error: Any = None
    #: forced by ``POST /_fake/expire/{id}``
    expired: bool = False
    #: the submit answer was dropped after the job was created (the client never learnt its id)
    answer_dropped: bool = False
    #: the output is a list (``images``) rather than one ``image``
    multi: bool = False
    #: "video" when the output is a video (answered under ``video``)
    media: str = "image"
    #: a sentence about what this offline fake did instead (an input URL it could not fetch): ``demo_note``
    note: str | None = None

    def __post_init__(self) -> None:
        if not self.created_at:
            self.created_at = iso_at(self.created_ts)

    def mark_started(self) -> None:
        self.status = "in_progress"
        self.started_ts = time.time()
        self.started_at = iso_at(self.started_ts)

    def mark_finished(self, status: str) -> None:
        """Enter a terminal state; status and timestamp change in the same step of the loop."""
        self.status = status
        self.finished_ts = time.time()
        self.finished_at = iso_at(self.finished_ts)

    def record(self, queue_position: int | None) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "status": self.status,
            "model_id": self.model_id,
            "input": copy.deepcopy(self.input),
            "outputs": list(self.outputs),
            "error": copy.deepcopy(self.error),
            "note": self.note,
            "queue_position": queue_position,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "created_ts": self.created_ts,
            "started_ts": self.started_ts,
            "finished_ts": self.finished_ts,
            "expired": self.expired,
            "answer_dropped": self.answer_dropped,
        }


#: turns a job that finished its "work" into files; raises to make the job fail
Producer = Callable[[FakeJob], Awaitable[None]]


class JobBoard:
    """All jobs of one server, the waiting line, and the running slots."""

    def __init__(
        self,
        config: Callable[[], FakeConfig],
        dice: FaultDice,
        produce: Producer,
        count_fault: Callable[[str], None],
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._config = config
        self._dice = dice
        self._produce = produce
        self._count_fault = count_fault
        #: called after every job state change (the server saves its record from there)
        self._on_change = on_change or (lambda: None)
        self.jobs: dict[str, FakeJob] = {}
        self._waiting: OrderedDict[str, FakeJob] = OrderedDict()
        self._running: dict[str, asyncio.Task[None]] = {}

    def add(self, job: FakeJob) -> None:
        self.jobs[job.request_id] = job
        self._waiting[job.request_id] = job
        self._on_change()
        self.pump()

    def restore(self, finished: list[FakeJob], unfinished: list[FakeJob]) -> None:
        """Take jobs back from a saved record: unfinished ones queue again (running ones start over)."""
        for job in finished:
            self.jobs[job.request_id] = job
        for job in unfinished:
            job.status, job.started_at, job.started_ts = "in_queue", None, None
            self.jobs[job.request_id] = job
            self._waiting[job.request_id] = job
        self.pump()

    def waiting_ids(self) -> list[str]:
        """The waiting line, first in line first."""
        return list(self._waiting)

    def queue_position(self, request_id: str) -> int | None:
        """1-based place in the waiting line, or None when the job is not waiting."""
        if request_id not in self._waiting:
            return None
        for position, key in enumerate(self._waiting, start=1):
            if key == request_id:
                return position
        return None  # pragma: no cover - unreachable

    def cancel(self, request_id: str) -> bool:
        """Cancel a waiting job; False when it already runs or has finished (the API's rule)."""
        job = self._waiting.pop(request_id, None)
        if job is None:
            return False
        job.mark_finished("cancelled")
        self._on_change()
        return True

    def pump(self) -> None:
        """Start waiting jobs while a slot is free (also after ``workers`` grows at run time)."""
        while self._waiting and len(self._running) < self._config().workers:
            _, job = self._waiting.popitem(last=False)
            job.mark_started()
            self._running[job.request_id] = asyncio.get_running_loop().create_task(
                self._run(job), name=f"fake-job-{job.request_id}"
            )
            self._on_change()

    async def _run(self, job: FakeJob) -> None:
        try:
            await asyncio.sleep(self._dice.duration(self._config()))  # the simulated generation time
            if self._dice.hit(self._config().fail_rate):
                self._count_fault("fail")
                message, code = self._dice.choice(_FAILURES)
                message = self._config().fail_message or message
                job.error = self._dice.choice([{"message": message, "code": code}, message])
                job.mark_finished("failed")
            else:
                await self._produce(job)
                job.mark_finished("completed")
        except asyncio.CancelledError:
            raise  # server shutdown: the job stays in_progress (a persistent server restarts it)
        except Exception as exc:  # a broken producer must not leave the job running for ever
            job.error = {
                "message": f"The fake server could not produce the output: {exc}",
                "code": "INTERNAL",
            }
            job.mark_finished("failed")
        finally:
            self._running.pop(job.request_id, None)
            if job.status in TERMINAL:
                self._on_change()
            if not asyncio.current_task().cancelling():  # type: ignore[union-attr]
                self.pump()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        positions = {rid: place for place, rid in enumerate(self._waiting, start=1)}
        return {rid: job.record(positions.get(rid)) for rid, job in self.jobs.items()}

    async def close(self) -> None:
        """Stop the running jobs (server shutdown)."""
        self._waiting.clear()
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
