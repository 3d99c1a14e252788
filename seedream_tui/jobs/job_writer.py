"""Writing what the engine learns onto a job's row, and telling the listeners: one owner for both.

Every change is a compare-and-set (see HistoryStore.update_job): a write made by the lease holder goes
through only while it still holds the lease and the row is the copy it read; otherwise :class:`Stale`
carries the row as it is now and the caller decides again from it. Facts learned outside the poller (a
cancel's answer) are settled onto whatever the row is, never over a final one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from seedream_tui.jobs.leases import Stale
from seedream_tui.jobs.model import Job, JobStatus, OutputFile
from seedream_tui.jobs.store import AsyncHistory, StaleJobError

log = logging.getLogger("seedream_tui.jobs.engine")

Listener = Callable[[Job], None]


class Listeners:
    """Who is told of every change of a job (the TUI's table, a CLI wait)."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        #: the engine's own parts that hear of every change first (the local queue: a job that ended frees
        #: a slot); not subscribers
        self.internal: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def emit(self, job: Job) -> None:
        for listener in [*self.internal, *self._listeners]:
            try:
                listener(job)
            except Exception:  # a broken listener must not stop polling
                log.exception("job listener failed")


class JobWriter:
    def __init__(self, history: AsyncHistory, owner: str, listeners: Listeners) -> None:
        self.history = history
        self.owner = owner
        self.emit = listeners.emit

    async def current(self, job: Job) -> Job:
        return await self.history.get(job.id) or job

    async def save(self, job: Job, **changes: Any) -> Job:
        """Write ``changes`` only if the row is still the copy we hold and we still hold its lease."""
        try:
            saved = await self.history.update_job(job.id, expect_version=job.version, owner=self.owner, **changes)
        except StaleJobError as exc:
            raise Stale(exc.current) from None
        log_change(job, saved)
        self.emit(saved)
        return saved

    async def settle(self, job_id: int, *, only_from: frozenset[JobStatus] | None = None, **changes: Any) -> Job | None:
        """Write a fact learned outside the poller (a cancel's answer) onto whatever the row is now,
        unless the row is already final (or not in ``only_from``). Compare-and-set in a loop: never over a
        newer write."""
        for _ in range(20):
            current = await self.history.get(job_id)
            if current is None or current.status.terminal or (only_from and current.status not in only_from):
                return current
            try:
                saved = await self.history.update_job(job_id, expect_version=current.version, **changes)
            except StaleJobError:
                continue
            log_change(current, saved)
            self.emit(saved)
            return saved
        return await self.history.get(job_id)

    async def note_trouble(self, job: Job, message: str) -> Job:
        """Keep the job live, with the trouble shown, while polling backs off."""
        text = f"Waiting: {message}"
        if job.error == text:
            return job
        return await self.save(job, error=text)

    async def set_outputs(self, job: Job, urls: tuple[str, ...], changes: dict[str, Any] | None = None) -> Job:
        """Record the output URLs (files already saved from the same URL are kept); with ``changes`` (the
        status that goes with them) in the same write, told like :meth:`save`."""
        kept = {o.url: o for o in job.outputs if o.path}
        outputs = [kept.get(url, OutputFile(i, url)) for i, url in enumerate(urls)]
        outputs = [o if o.index == i else OutputFile(i, o.url, o.path, o.width, o.height, o.format, o.size,
                                                     o.thumb_path) for i, o in enumerate(outputs)]
        return await self._outputs_written(job, changes, self.history.set_outputs(
            job.id, outputs, owner=self.owner, changes=changes))

    async def save_output(self, job: Job, output: OutputFile, changes: dict[str, Any] | None = None) -> Job:
        """One downloaded file onto the row; ``changes`` (the completion, with the last file) in the same write."""
        return await self._outputs_written(job, changes, self.history.update_output(
            job.id, output, owner=self.owner, changes=changes))

    async def _outputs_written(self, job: Job, changes: dict[str, Any] | None, write: Awaitable[Job]) -> Job:
        """Await an outputs write made as the lease holder; told like :meth:`save` when it changed the row too."""
        try:
            saved = await write
        except StaleJobError as exc:
            raise Stale(exc.current) from None
        if changes:
            log_change(job, saved)
            self.emit(saved)
        return saved


def log_change(before: Job, after: Job) -> None:
    """Every status change and every trouble sentence goes to the log file too (the log is how a user
    or a bug report finds out later what happened to a job)."""
    if after.status is not before.status:
        log.info("job %s: %s -> %s%s", after.id, before.status.value, after.status.value,
                 f" ({after.error})" if after.error and after.status.terminal else "")
    if after.error and after.error != before.error and not after.status.terminal:
        log.warning("job %s: %s", after.id, after.error)
