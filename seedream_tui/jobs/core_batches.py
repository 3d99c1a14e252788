"""The batches side of ``Core``: a batch run again (all its jobs, or only the failed ones, as a new batch) and
a batch exported (its images and its contact sheet, beside them)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seedream_tui.jobs.model import Batch, Job, JobStatus
from seedream_tui.jobs.store import AsyncHistory

if TYPE_CHECKING:
    from seedream_tui.batch.plan import BatchPlan

#: "only the failed ones": the jobs that ended without a result. Not ``unknown``: that submit may have run
#: (and been paid); the RunComfy dashboard says, not a guess.
RERUN_FAILED = frozenset({JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED})


class BatchDesk:
    """Mixed into ``Core``, whose parts it uses."""

    history: AsyncHistory
    registry: Any

    async def batch_and_jobs(self, batch_id: int) -> tuple[Batch, list[Job]]:
        """The batch and its jobs in plan order; LookupError (a sentence) when there is no such batch."""
        batch = await self.history.get_batch(batch_id)
        if batch is None:
            raise LookupError(f"There is no batch {batch_id} in the history.")
        return batch, await self.history.batch_jobs(batch_id)

    async def rerun_plan(self, batch_id: int, *, only_failed: bool = False) -> BatchPlan:
        """The plan of running batch ``batch_id`` again: its jobs' inputs and variants (all of them, or only
        the failed, cancelled and expired ones), its axes, priced now. LookupError (a sentence) when there is
        nothing to run."""
        from seedream_tui.batch.plan import BatchPlan, PlannedJob, axes_of, numbered
        from seedream_tui.catalog.pricing import quote_job

        batch, jobs = await self.batch_and_jobs(batch_id)
        chosen = [j for j in jobs if j.status in RERUN_FAILED] if only_failed else jobs
        if not chosen:
            which = "failed, cancelled or expired jobs" if only_failed else "jobs"
            raise LookupError(f"Batch {batch_id} has no {which} to run again.")
        for job in chosen:
            try:
                self.registry.get(job.model_id)
            except KeyError:
                raise LookupError(
                    f"Batch {batch_id} cannot be run again: there is no schema for {job.model_id} (job {job.id})."
                ) from None
        planned = [
            PlannedJob(job.model_id, dict(job.inputs), quote_job(self.registry, job.model_id, job.inputs),
                       variant=dict(job.variant or {}))
            for job in chosen
        ]
        old = batch.plan
        what = "failed jobs" if only_failed else "jobs"
        notes = (*[str(n) for n in old.get("notes", []) if isinstance(n, str)],
                 f"a re-run of batch {batch_id}'s {len(chosen)} {what}")
        return BatchPlan(numbered(planned), axes=tuple(axes_of(old)), source=f"batch:{batch_id}",
                         label=batch.label or str(old.get("label") or ""), notes=notes)

    async def rerun_batch(
        self, batch_id: int, *, only_failed: bool = False, budget_usd: float | None = None
    ) -> tuple[Batch, list[Job]]:
        """Run batch ``batch_id`` again as a new batch (see :meth:`rerun_plan`), through ``submit_batch``."""
        plan = await self.rerun_plan(batch_id, only_failed=only_failed)
        return await self.submit_batch(plan, budget_usd=budget_usd)  # type: ignore[attr-defined]

    async def export_batch(self, batch_id: int, dest: Path, *, sheet: Path | None = None) -> list[Path]:
        """Copy the batch's images into ``dest`` (as ``export`` does) and, with ``sheet``, draw its contact
        sheet there as one PNG (the last path returned). LookupError (a sentence) when the batch does not exist
        or has no finished image; OSError when a file cannot be written."""
        from seedream_tui.batch.sheet import first_image, write_sheet

        batch, jobs = await self.batch_and_jobs(batch_id)
        done = [j for j in jobs if first_image(j) is not None]
        if not done:
            raise LookupError(f"Batch {batch_id} has no finished images yet: nothing to export.")
        written: list[Path] = await self.export([j.id for j in done], dest)  # type: ignore[attr-defined]
        if sheet is not None:
            written.append(await asyncio.to_thread(write_sheet, batch, jobs, sheet))
        return written
