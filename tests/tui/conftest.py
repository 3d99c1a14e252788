"""Fixtures for the TUI tests: image mode forced to halfcell, a queueing fake server, a fast ready Core."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from seedream_tui.config import AppConfig, Settings
from seedream_tui.paths import Paths
from seedream_tui.tui import images


@pytest.fixture(autouse=True, scope="session")
def _halfcell_images() -> None:
    """Snapshots and previews must not depend on the terminal running the tests."""
    images.configure("halfcell")


@pytest.fixture
def queue_server() -> Iterator:
    """A fake server with ONE worker, so a burst of jobs queues (and a queued job can be cancelled)."""
    from seedream_tui.fake.server import FakeConfig, FakeServerThread

    config = FakeConfig(workers=1, min_duration=0.8, max_duration=1.0, image_scale=0.02, seed=7)
    with FakeServerThread(config) as server:
        yield server


def make_config(base_url: str, *, token: str | None = "test-token", **settings: Any) -> AppConfig:
    paths = Paths.default(demo=False)
    return AppConfig(paths, Settings(**settings), base_url, token, demo=False, token_source="test")


@pytest.fixture
def config(queue_server) -> AppConfig:
    return make_config(queue_server.base_url)


@pytest.fixture
async def core(config: AppConfig) -> AsyncIterator:
    """An opened Core polling fast (tests wait for conditions, never for fixed times)."""
    from seedream_tui.jobs.poll_policy import PollPolicy
    from seedream_tui.jobs.service import Core

    policy = PollPolicy(first=0.05, running=0.05, queued_near=0.05, queued_far=0.05, unknown=0.05, jitter=0.0)
    core = await Core.open(config, policy=policy)
    yield core
    await core.close()


@pytest.fixture
def tmp_image(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "img.png"
    Image.new("RGB", (64, 48), (200, 80, 40)).save(path)
    return path
