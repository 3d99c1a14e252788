"""Helpers for the history/detail/settings screen tests: seeded history, a host app, a stand-in core.

``FakeCore`` implements the job-core contract (notes/core_contract.md) over the *real* history
store, so these screens can be tested before (or independently of) the polling engine.
Timestamps are fixed and the zone is UTC so snapshots are stable.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from seedream_tui import DEFAULT_MODEL_ID
from seedream_tui.config import AppConfig, Settings, save_token
from seedream_tui.jobs.model import Job, JobStatus, OutputFile
from seedream_tui.jobs.store import AsyncHistory, HistoryStore
from seedream_tui.paths import Paths
from seedream_tui.schema.registry import ModelRegistry
from seedream_tui.tui import images

os.environ["TZ"] = "UTC"
time.tzset()
images.configure("halfcell")

#: 2026-01-15 09:00:00 UTC: every seeded job is a minute older than the one after it
BASE_TIME = 1768467600.0
FLUX = "blackforestlabs/flux-2/flash/text-to-image"
WORDS = ["red fox", "blue whale", "green forest", "golden city", "silver moon", "雪山 日出"]


def seed_history(paths: Paths, count: int, *, with_images: int = 3) -> list[Job]:
    """Insert ``count`` jobs in bulk (fast), the newest ``with_images`` completed with a real PNG."""
    paths.profile_data_dir.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(paths.history_db)
    try:
        rows = []
        for i in range(count):
            model = FLUX if i % 5 == 4 else DEFAULT_MODEL_ID
            status = [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.COMPLETED, JobStatus.CANCELLED][i % 4]
            prompt = f"job {i + 1}: a {WORDS[i % len(WORDS)]} at dawn, wide shot"
            rows.append((model, {"prompt": prompt, "size": "2048*2048"}, status, BASE_TIME + 60 * i))
        store.insert_many_for_bench(rows)
        newest = store.list_jobs(limit=with_images)
        paths.images_dir.mkdir(parents=True, exist_ok=True)
        for n, job in enumerate(newest):
            target = paths.images_dir / f"job-{job.id}.png"
            PILImage.new("RGB", (64, 48), ((40 * n) % 255, 120, 200)).save(target)
            out = OutputFile(0, f"https://cdn.example/{job.id}.png", str(target), 64, 48, "png", target.stat().st_size)
            store.update_job(job.id, status=JobStatus.COMPLETED, request_id=f"req-{job.id}",
                             submitted_at=job.created_at + 1, started_at=job.created_at + 3,
                             finished_at=job.created_at + 12.5, updated_at=job.created_at + 13)
            store.set_outputs(job.id, [out])
        return store.list_jobs(limit=count)
    finally:
        store.close()


def make_config(paths: Paths | None = None, **settings: Any) -> AppConfig:
    paths = paths or Paths.default()
    values: dict[str, Any] = {"image_mode": "halfcell", "theme": "textual-dark"}
    values.update(settings)
    return AppConfig(paths, Settings(**values), "http://127.0.0.1:9", "rc_test_0123456789abcdef",
                     token_source="token file")


class FakeCore:
    """The core contract over a real AsyncHistory; cancel/rerun/export/delete behave like the real one."""

    def __init__(self, config: AppConfig, history: AsyncHistory) -> None:
        self.config = config
        self.paths = config.paths
        self.demo = False
        self.history = history
        self.registry = ModelRegistry.bundled()
        self._subscribers: list[Callable[[Job], None]] = []
        self.tokens: list[str] = []

    @classmethod
    async def open(cls, config: AppConfig) -> FakeCore:
        return cls(config, await AsyncHistory.open(config.paths.history_db))

    def subscribe(self, callback: Callable[[Job], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def emit(self, job: Job) -> None:
        for callback in list(self._subscribers):
            callback(job)

    async def cancel(self, job_id: int) -> str:
        job = await self.history.get(job_id)
        if job is None:
            return f"Job #{job_id} is no longer in the history."
        if job.status not in (JobStatus.QUEUED, JobStatus.SUBMITTING):
            return f"Job #{job_id} is {job.status.label}: it can no longer be cancelled."
        self.emit(await self.history.update_job(job_id, status=JobStatus.CANCELLED, finished_at=job.created_at + 5))
        return f"Job #{job_id} was cancelled."

    async def rerun(self, job_id: int) -> Job:
        job = await self.history.get(job_id)
        assert job is not None
        new = await self.history.create_job(job.model_id, job.inputs, now=BASE_TIME + 10**6)
        new = await self.history.update_job(new.id, status=JobStatus.QUEUED, updated_at=new.created_at)
        self.emit(new)
        return new

    async def export(self, job_ids: Sequence[int], dest: Path) -> list[Path]:
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        for job_id in job_ids:
            job = await self.history.get(job_id)
            for f in job.outputs if job else ():
                if f.path:
                    written.append(Path(shutil.copy2(f.path, dest / Path(f.path).name)))
        return written

    async def delete(self, job_id: int) -> None:
        job = await self.history.delete_job(job_id)
        for f in job.outputs if job else ():
            if f.path:
                Path(f.path).unlink(missing_ok=True)

    def set_token(self, token: str) -> None:
        save_token(self.paths, token)
        self.config.token = token
        self.config.token_source = "token file"
        self.tokens.append(token)

    async def close(self) -> None:
        await self.history.close()


class Base(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("base screen", id="base")


class ScreenHost(App[None]):
    """A tiny app that opens a core on its own loop and pushes one screen built from it."""

    def __init__(self, open_core: Callable[[], Awaitable[Any]], make_screen: Callable[[Any], Screen[Any]]) -> None:
        super().__init__()
        self._open_core = open_core
        self._make_screen = make_screen
        self.core: Any = None
        self.copied: list[str] = []

    def copy_to_clipboard(self, text: str) -> None:
        self.copied.append(text)

    async def on_mount(self) -> None:
        self.push_screen(Base())
        self.core = await self._open_core()
        await self.push_screen(self._make_screen(self.core))

    async def on_unmount(self) -> None:
        if self.core is not None:
            await self.core.close()


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Await a condition by letting the app run; fail with a clear message after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)
