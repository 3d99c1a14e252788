"""Headless CLI behaviour that scripts rely on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from history_fill import fill_history

from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.paths import Paths


def test_history_into_a_closed_pipe_is_not_an_error(isolated_home: Path) -> None:
    """`seedream-tui history | head -1`: the reader leaves early; no error message, exit 0."""
    store = HistoryStore(Paths.default(demo=True).history_db)
    fill_history(store, (("bytedance/seedream-5/lite/text-to-image", {"prompt": f"prompt number {i} " * 20}, JobStatus.COMPLETED, 1e9 + i)
        for i in range(3000)))
    store.close()
    env = {**os.environ, "SEEDREAM_TUI_HOME": str(isolated_home)}
    writer = subprocess.Popen(
        [sys.executable, "-m", "seedream_tui", "history", "--demo", "--json", "--limit", "3000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    assert writer.stdout is not None and writer.stderr is not None
    writer.stdout.read(10)  # like `head -c 10`
    writer.stdout.close()
    err = writer.stderr.read().decode()
    assert writer.wait(timeout=60) == 0, err
    assert "error" not in err.lower() and "Traceback" not in err
