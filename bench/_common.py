"""Shared bits of the benchmarks: a temp home, the fake server in its own process, figure printing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def temp_home() -> str:
    home = tempfile.mkdtemp(prefix="seedream-bench-")
    os.environ["SEEDREAM_TUI_HOME"] = home
    return home


def figure(name: str, value: float | int | str, target: str = "") -> None:
    """One line per measure: ``name=value`` and the target beside it."""
    text = f"{value:.1f}" if isinstance(value, float) else str(value)
    print(f"{name}={text}" + (f"  (target {target})" if target else ""), flush=True)


@contextmanager
def fake_server_process(*args: str) -> Iterator[tuple[str, str]]:
    """The fake server as a separate process, so its CPU is not counted as the client's."""
    cmd = [sys.executable, "-m", "seedream_tui", "fake-server", "--port", "0", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    try:
        api = cdn = ""
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while time.monotonic() < deadline and not (api and cdn):
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("the fake server did not start")
            if m := re.search(r"API:\s*(\S+)", line):
                api = m.group(1)
            if m := re.search(r"CDN:\s*(\S+)", line):
                cdn = m.group(1)
        yield api, cdn
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
