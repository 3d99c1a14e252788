"""Bytes written to the terminal (`python bench/bench_output.py`): what a slow SSH link has to carry.

Each case runs the app as a real process on a pseudo-terminal (``TERM=xterm-256color``, halfcell images)
against the fake server in another process, waits for the newest job to be drawn, lets it settle
for ``SETTLE`` s (the first polls land), then counts every byte it writes for ``WINDOW`` s, at 80x24 and
200x60. Cases: idle (a history of finished jobs only) and 20, 200 and 500 live jobs (the server runs 10
at a time and takes an hour over each, so nothing finishes in the window: what is written is the
steady state of watching jobs run and wait). Beside them, a bare Textual app with a focused TextArea
(its cursor blinks, as the prompt editor's does). Targets (issue 13): 20 live <= 1.5 KB/s at 80x24 and
<= 3 KB/s at 200x60, 500 live <= 5 KB/s, idle as the bare app.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import fake_server_process, figure
from _tui_common import ROOT, bytes_written, seed_history

SIZES = ((24, 80), (60, 200))
LIVE = (20, 200, 500)
SETTLE = 4.0
WINDOW = 15.0
VENV_BIN = Path(sys.executable).parent
TARGETS = {(20, 80): "≤ 1.5 KB/s", (20, 200): "≤ 3 KB/s", (500, 80): "≤ 5 KB/s", (500, 200): "≤ 5 KB/s"}


async def submit_live(home: str, api: str, n: int) -> None:
    """``n`` jobs submitted to the server at ``api`` and left live in ``home``'s demo history."""
    os.environ["SEEDREAM_TUI_HOME"] = home
    from seedream_tui.config import resolve_config
    from seedream_tui.jobs.service import Core

    config = resolve_config(demo=True, base_url=api)
    core = await Core.open(config)
    try:
        spec = core.registry.default()
        for i in range(n):
            await core.submit(spec, {"prompt": f"live bench job {i}: a lighthouse at dusk, oil painting"})
    finally:
        await core.close()


def env_for(home: str) -> dict[str, str]:
    dropped = ("TMUX", "SSH_CONNECTION", "SSH_TTY", "TEXTUAL", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(SEEDREAM_TUI_HOME=home, TERM="xterm-256color", COLORTERM="truecolor")
    return env


def wanted(name: str) -> bool:
    """Cases named on the command line (``bench_output.py live_20 idle``), or all."""
    return not sys.argv[1:] or name in sys.argv[1:]


def measure(name: str, argv: list[str], env: dict[str, str], marker: bytes, target_of: dict[int, str]) -> None:
    for rows, cols in SIZES:
        count = bytes_written(argv, env, marker, size=(rows, cols), settle=SETTLE, window=WINDOW)
        figure(f"output.{name}_{cols}x{rows}_kb_per_s", count / WINDOW / 1000, target_of.get(cols, ""))


def main() -> None:
    t_start = time.perf_counter()
    print(f"# load average at start: {os.getloadavg()[0]:.2f} (2 cores shared)")
    bare = [sys.executable, str(ROOT / "bench" / "_textarea_app.py")]
    if wanted("bare_textarea"):
        measure("bare_textarea", bare, env_for(tempfile.mkdtemp(prefix="seedream-bench-out-")), b"bare-textarea-ready", {})

    if wanted("idle"):
        home = tempfile.mkdtemp(prefix="seedream-bench-out-")
        seed_history(Path(home) / "data" / "demo" / "history.sqlite3", 200)
        with fake_server_process("--workers", "10") as (api, _cdn):
            app = [str(VENV_BIN / "seedream-tui"), "--demo", "--base-url", api, "--image-mode", "halfcell"]
            measure("idle", app, env_for(home), b"zq-newest-bench-job", {})

    for n in LIVE:
        if not wanted(f"live_{n}"):
            continue
        home = tempfile.mkdtemp(prefix="seedream-bench-out-")
        with fake_server_process("--workers", "10", "--min-duration", "3600", "--max-duration", "3600",
                                 "--seed", "7") as (api, _cdn):
            asyncio.run(submit_live(home, api, n))
            app = [str(VENV_BIN / "seedream-tui"), "--demo", "--base-url", api, "--image-mode", "halfcell"]
            marker = f"live bench job {n - 1}".encode()
            measure(f"live_{n}", app, env_for(home), marker, {c: t for (k, c), t in TARGETS.items() if k == n})
    print(f"# load average at end: {os.getloadavg()[0]:.2f}")
    figure("output.total_s", time.perf_counter() - t_start)


if __name__ == "__main__":
    main()
