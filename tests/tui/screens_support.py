"""Helpers for the history/detail/settings screen tests: seeded history and a host app.

The screens run against the real job core on the fake server (loopback). Seeded timestamps
are fixed and the zone is UTC so snapshots are stable.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from history_fill import fill_history
from PIL import Image as PILImage
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from seedream_tui import DEFAULT_MODEL_ID
from seedream_tui.config import AppConfig, Settings
from seedream_tui.jobs.model import Job, JobStatus, OutputFile
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.paths import Paths
from seedream_tui.tui import images
from seedream_tui.tui.messages import JobChanged

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
            rows.append((model, {"prompt": prompt}, status, BASE_TIME + 60 * i))
        fill_history(store, rows)
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


def make_config(base_url: str, paths: Paths | None = None, **settings: Any) -> AppConfig:
    paths = paths or Paths.default()
    values: dict[str, Any] = {"image_mode": "halfcell", "theme": "textual-dark"}
    values.update(settings)
    return AppConfig(paths, Settings(**values), base_url, "rc_test_0123456789abcdef", token_source="token file")


async def open_core(config: AppConfig) -> Any:
    """The real job core, polling fast (tests wait for conditions, never for fixed times)."""
    from seedream_tui.jobs.poll_policy import PollPolicy
    from seedream_tui.jobs.service import Core

    policy = PollPolicy(first=0.05, running=0.05, queued_near=0.05, queued_far=0.05, unknown=0.05, jitter=0.0)
    core = await Core.open(config, policy=policy)
    await core.start()
    return core


def exists(path: str | Path) -> bool:
    return Path(path).exists()


class Base(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("base screen", id="base")


class ScreenHost(App[None]):
    """A tiny app that opens a core on its own loop and pushes one screen built from it."""

    def __init__(
        self, open_core: Callable[[], Awaitable[Any]], make_screen: Callable[[Any], Screen[Any]] | None = None
    ) -> None:
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
        # like SeedreamApp: the one subscriber to the core, forwarding each change to the open screens
        self.core.subscribe(lambda job: self.post_message(JobChanged(job)))
        if self._make_screen is not None:
            await self.push_screen(self._make_screen(self.core))

    def on_job_changed(self, message: JobChanged) -> None:
        for screen in self.screen_stack[1:]:
            screen.post_message(JobChanged(message.job))

    async def on_unmount(self) -> None:
        if self.core is not None:
            await self.core.close()


async def wait_for(pilot: Any, condition: Callable[[], bool], within: float = 5.0) -> None:
    """Await a condition by letting the app run; fail with a clear message after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)
