"""The files side of ``Core``: exporting a job's images to a folder, and deleting a job with its files."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from seedream_tui.jobs.exporting import export_name
from seedream_tui.jobs.store import AsyncHistory

if TYPE_CHECKING:
    from seedream_tui.jobs.engine import JobEngine


class FileDesk:
    """Mixed into ``Core``, whose parts it uses."""

    history: AsyncHistory
    _engine: JobEngine | None

    async def export(self, job_ids: Sequence[int], dest: Path) -> list[Path]:
        """Copy the jobs' image files into ``dest`` as ``<id>-<prompt-slug>-<n>.png``.

        Raises OSError/LookupError with a sentence.
        """
        files: list[tuple[Path, str]] = []
        for job_id in job_ids:
            job = await self.history.get(job_id)
            if job is None:
                raise LookupError(f"Job {job_id} is no longer in the history.")
            files.extend((Path(o.path), export_name(job, o)) for o in job.outputs if o.path)
        if not files:
            raise LookupError("Those jobs have no downloaded images to export.")
        return await asyncio.to_thread(_copy_files, files, dest)

    async def delete(self, job_id: int) -> None:
        """Remove the job from history and its files from disk."""
        if self._engine is not None:  # else nothing follows it yet
            self._engine.forget(job_id)
        job = await self.history.delete_job(job_id)
        if job is None:
            return
        paths = [p for o in job.outputs for p in (o.path, o.thumb_path) if p]
        await asyncio.to_thread(_remove_files, paths)


def _copy_files(files: list[tuple[Path, str]], dest: Path) -> list[Path]:
    dest = dest.expanduser()
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for src, name in files:
        if not src.exists():
            raise FileNotFoundError(f"The image {src} is missing from disk.")
        target = dest / name
        shutil.copy2(src, target)
        out.append(target)
    return out


def _remove_files(paths: list[str]) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            Path(p).unlink(missing_ok=True)
