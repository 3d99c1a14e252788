"""Shared fixtures: every test gets its own SEEDREAM_TUI_HOME, and a fake server on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Never let a developer's real token or base URL leak into a test.
for _var in ("RUNCOMFY_API_TOKEN", "RUNCOMFY_TOKEN", "RUNCOMFY_BASE_URL"):
    os.environ.pop(_var, None)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every platformdirs path of the app lives under a temp dir for this test."""
    home = tmp_path / "home"
    monkeypatch.setenv("SEEDREAM_TUI_HOME", str(home))
    for var in ("RUNCOMFY_API_TOKEN", "RUNCOMFY_TOKEN", "RUNCOMFY_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def fake_server() -> Iterator:
    """A fake RunComfy server (API + CDN origin) on loopback, in its own thread, tuned for speed."""
    from seedream_tui.fake.server import FakeConfig, FakeServerThread

    config = FakeConfig(workers=4, min_duration=0.05, max_duration=0.2, image_scale=0.02, seed=1234)
    with FakeServerThread(config) as server:
        yield server
