"""Core's hand on the local queue: a batch written as pending rows, pause and resume, cancelling a batch or
everything waiting, moving a pending job up, and what the status line says (see local_queue.py for the
dispatcher that sends pending rows, store_queue.py for the rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from seedream_tui.api.errors import InvalidInputError
from seedream_tui.jobs.budget import check_batch_budget
from seedream_tui.jobs.media_inputs import ResolvedInputs
from seedream_tui.jobs.model import Batch, Job, JobStatus
from seedream_tui.jobs.store_queue import PendingRow
from seedream_tui.schema import FieldKind, ModelSpec

if TYPE_CHECKING:
    from seedream_tui.batch.plan import BatchPlan, PlannedJob
    from seedream_tui.jobs.engine import JobEngine
    from seedream_tui.jobs.store import AsyncHistory

#: waiting at RunComfy, not started: what "cancel everything waiting" asks RunComfy to cancel
_WAITING_REMOTE = frozenset({JobStatus.QUEUED})


@dataclass(frozen=True)
class QueueCounts:
    """What the status line says of the local queue."""

    pending: int
    #: pending jobs held back by the daily budget (their ``hold`` says why)
    held: int
    paused: bool

    @property
    def text(self) -> str:
        """``queue paused · 12 pending (3 held)``; empty when there is nothing to say."""
        parts = ["queue paused"] if self.paused else []
        if self.pending:
            parts.append(f"{self.pending:,} pending" + (f" ({self.held:,} held)" if self.held else ""))
        return " · ".join(parts)


def _has_media(spec: ModelSpec, inputs: dict[str, Any]) -> bool:
    return any(
        field.kind in (FieldKind.MEDIA, FieldKind.MEDIA_LIST) and inputs.get(field.name) not in (None, "", [])
        for field in spec.fields
    )


class QueueDesk:
    """Mixed into Core (which provides these)."""

    history: AsyncHistory
    config: Any
    registry: Any
    if TYPE_CHECKING:
        @property
        def engine(self) -> JobEngine: ...
        def _require_token(self) -> None: ...
        async def _ensure_backend(self) -> None: ...
        async def start(self) -> list[Job]: ...
        def validate(self, spec: ModelSpec, inputs: dict[str, Any]) -> dict[str, Any]: ...
        async def resolve_media(
            self, spec: ModelSpec, inputs: dict[str, Any], *, rerun_of: int | None = None
        ) -> ResolvedInputs: ...

    # ------------------------------------------------------------------ a batch into the queue
    async def _queue_batch(
        self, plan: BatchPlan, *, budget_usd: float | None, max_live: int | None
    ) -> tuple[Batch, list[Job]]:
        """Check the budgets, validate every job, write the batch and all its jobs as pending rows in one
        transaction, and let the queue send them. Nothing is written when anything is refused."""
        self._require_token()
        check_batch_budget(plan.quote, call_budget=budget_usd, batch_budget=self.config.settings.batch_budget_usd)
        if max_live is not None and (isinstance(max_live, bool) or not isinstance(max_live, int) or max_live < 1):
            raise InvalidInputError(f"--max-live must be a whole number, 1 or more (not {max_live!r}); "
                                    "nothing was sent.")
        if not plan.jobs:
            raise InvalidInputError("The batch has no jobs; nothing was sent.")
        rows: list[PendingRow] = []
        lineage: list[tuple[int, tuple[int, ...]]] = []
        for planned in plan.jobs:
            row, parents = await self._pending_row(planned)
            rows.append(row)
            if parents:
                lineage.append((planned.place, parents))
        batch, jobs = await self.history.create_pending_batch(
            rows, label=plan.label, plan=plan.record(), budget_usd=budget_usd, max_live=max_live
        )
        by_place = {job.batch_place: job for job in jobs}
        for place, parents in lineage:
            if place in by_place:
                await self.history.set_parents(by_place[place].id, list(parents))
        await self._ensure_backend()
        if not self.engine.started:
            await self.start()  # the queue sends and the engine follows from the engine's start
        for job in jobs:
            self.engine.announce(job)
        self.engine.queue.kick()
        return batch, jobs

    async def _pending_row(self, planned: PlannedJob) -> tuple[PendingRow, tuple[int, ...]]:
        """A planned job as its pending row keeps it (images as stored references, as Core.submit keeps
        them), validated now so a bad job refuses the whole batch before anything is written."""
        try:
            spec = self.registry.get(planned.model_id)
        except KeyError:
            raise InvalidInputError(f"Job {planned.place + 1} of the batch names an unknown model "
                                    f"{planned.model_id!r}; nothing was sent.") from None
        inputs = dict(planned.inputs)
        if _has_media(spec, inputs):
            resolved = await self.resolve_media(spec, inputs)
        else:
            resolved = ResolvedInputs(inputs, ())
        try:
            cleaned = self.validate(spec, resolved.values)
        except InvalidInputError as exc:
            raise InvalidInputError(f"Job {planned.place + 1} of the batch: {exc} Nothing was sent.",
                                    fields=exc.fields) from None
        row = PendingRow(planned.model_id, resolved.for_history(cleaned), planned.place, dict(planned.variant),
                         planned.price_usd)
        return row, tuple(resolved.parents)

    async def _prepare_pending(self, job: Job) -> dict[str, Any]:
        """What is sent for a pending row: its stored inputs with local images read again from their stored
        references (checked to be the same files) and ``#job`` results resolved."""
        try:
            spec = self.registry.get(job.model_id)
        except KeyError:
            return dict(job.inputs)
        if not _has_media(spec, job.inputs):
            return dict(job.inputs)
        resolved = await self.resolve_media(spec, dict(job.inputs))
        return self.validate(spec, resolved.values)

    def _wire_queue(self, engine: JobEngine) -> None:
        """Tell the engine's local queue its limit, the daily budget and how a pending row is sent."""
        config = self.config  # read at each claim: the settings screen replaces config.settings when it saves
        engine.queue.limit = lambda: config.settings.max_live_jobs
        engine.queue.daily_budget = lambda: config.settings.daily_budget_usd
        engine.queue.prepare = self._prepare_pending

    # ------------------------------------------------------------------ the user's hand on the queue
    async def queue_paused(self) -> bool:
        return await self.history.queue_paused()

    async def pause_queue(self) -> str:
        """Stop sending pending jobs (every instance on this history, until resumed, across restarts); jobs
        already sent go on."""
        await self.history.set_queue_paused(True)
        pending, _ = await self.history.pending_counts()
        return f"Queue paused: {pending:,} pending job{'s' if pending != 1 else ''} wait; jobs already sent go on."

    async def resume_queue(self) -> str:
        await self.history.set_queue_paused(False)
        await self.wake_queue()
        pending, _ = await self.history.pending_counts()
        return f"Queue resumed: {pending:,} pending job{'s' if pending != 1 else ''} will be sent as slots free."

    async def wake_queue(self) -> None:
        """Look at the local queue now (after a change of settings: the limit, the daily budget)."""
        await self._ensure_backend()
        self.engine.queue.kick()

    async def flush_queue(self) -> int:
        """Send the pending jobs that may go now and wait for their submits' answers (a command that ends
        without following its jobs calls this before closing: the rest stays pending for the next start).
        Returns how many were sent."""
        await self._ensure_backend()
        return await self.engine.queue.flush()

    async def queue_counts(self) -> QueueCounts:
        pending, held = await self.history.pending_counts()
        return QueueCounts(pending, held, await self.history.queue_paused())

    async def spent_today(self) -> float:
        """What the daily budget counts as spent today (see store_queue.spent_since)."""
        from seedream_tui.jobs.local_queue import local_midnight

        return await self.history.spent_since(local_midnight())

    async def cancel_batch(self, batch_id: int) -> str:
        """Cancel a whole batch: its pending jobs at once, its sent ones through RunComfy like a single
        cancel (a running job cannot be). A sentence saying what happened."""
        if await self.history.get_batch(batch_id) is None:
            return f"There is no batch {batch_id} in the history."
        dropped = await self.history.cancel_pending(batch_id=batch_id)
        live = [job for job in await self.history.batch_jobs(batch_id) if not job.status.terminal]
        return await self._cancel_sent(dropped, live, f"Batch {batch_id}")

    async def cancel_waiting(self) -> str:
        """Cancel everything waiting: every pending job, and every job queued at RunComfy; running jobs (and
        downloads) go on."""
        dropped = await self.history.cancel_pending()
        queued = [job for job in await self.history.live_jobs() if job.status in _WAITING_REMOTE]
        return await self._cancel_sent(dropped, queued, "Waiting jobs")

    async def _cancel_sent(self, dropped: Sequence[Job], live: Sequence[Job], what: str) -> str:
        if dropped or live:
            await self._ensure_backend()
        for job in dropped:
            self.engine.announce(job)
        cancelled = refused = 0
        for job in live:
            answer = await self.engine.cancel(job.id)
            if answer == "Cancelled.":
                cancelled += 1
            else:
                refused += 1
        if not dropped and not live:
            return f"{what}: nothing is waiting."
        parts = []
        if dropped:
            parts.append(f"{len(dropped):,} pending cancelled (never sent)")
        if cancelled:
            parts.append(f"{cancelled:,} cancelled at RunComfy")
        if refused:
            parts.append(f"{refused:,} not cancelled (running, downloading or still being sent)")
        return f"{what}: {'; '.join(parts)}."

    async def move_up(self, job_id: int, *, to_front: bool = False) -> str:
        """Move a pending job one place up the local queue (or to its front)."""
        moved = await self.history.move_pending_up(job_id, to_front=to_front)
        if moved is None:
            job = await self.history.get(job_id)
            if job is None:
                return "That job is no longer in the history."
            return f"Job {job_id} is not waiting in the local queue (it is {job.status.label}); only pending jobs move."
        job, place = moved
        await self.wake_queue()
        self.engine.announce(job)
        return f"Job {job_id} is now {'next' if place == 1 else f'number {place:,}'} in the local queue."
