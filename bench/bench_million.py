"""A 1,000,000-job history (`python bench/bench_million.py`): does the app stay flat from 100k to 1M?

The history (547 MB, finished jobs with varied prompts) is built once and cached in the system temp dir
(``_million.py``: ~90 s the first time). Figures, each beside its target (issue 13 §5):

* store calls the app makes at start and on a timer, on a copy of it, median of several: ``live_jobs``
  (start and every few seconds), ``release_claims`` (every quit and CLI command), ``lease_owners``,
  ``heartbeat``, the plain count, and the history screen's search counts;
* the app as a real process on a pty (200x50), 1M jobs vs an empty history, same run: start to the
  newest job drawn, quit (ctrl+q to the process gone), and idle CPU over ``IDLE_S`` s once it has settled;
* the history screen at 1M, in-process (``bench_history_screen``): first open, open median, and search
  to redrawn.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import bench_history
import bench_history_screen
from _common import figure
from _million import N_JOBS, cached_history, fresh_home
from _tui_common import pty_app, quit_app

VENV_BIN = Path(sys.executable).parent
IDLE_S = 10.0
SETTLE_S = 3.0
RUNS = 3
NEWEST = b"zq-newest-bench-job"  # the newest job's prompt (``seed_history``): the main screen has its rows


def median_ms(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def ms_text(value: float) -> str:
    """Milliseconds with the precision small figures need (``figure`` rounds to 0.1)."""
    return f"{value:.3f}"


def store_figures() -> None:
    from seedream_tui.jobs.store import HistoryStore
    from seedream_tui.jobs.view import COUNT_CAP

    home = fresh_home()
    try:
        store = HistoryStore(Path(home) / "data" / "demo" / "history.sqlite3")
        try:
            figure("million.live_jobs_ms", ms_text(median_ms(store.live_jobs)), "≤ 5 ms")
            figure("million.release_claims_ms", ms_text(median_ms(lambda: store.release_claims("bench-owner"))), "≤ 5 ms")
            figure("million.lease_owners_ms", ms_text(median_ms(store.lease_owners)), "≤ 5 ms")
            figure("million.heartbeat_ms", ms_text(median_ms(lambda: store.heartbeat("bench-owner"))), "≤ 5 ms")
            figure("million.count_all_ms", ms_text(median_ms(store.count_jobs)))
            # what the history screen asks: matches counted up to its cap ("more than 1,000 jobs match")
            counts = {q: median_ms(lambda q=q: store.count_matches(COUNT_CAP, search=q), 3) for q in bench_history.QUERIES}
            figure("million.fts_count_capped_median_ms", statistics.median(counts.values()), "≤ 5 ms")
            figure("million.fts_count_capped_max_ms", max(counts.values()), "≤ 5 ms")
            print(f"# capped count ms: { {q: round(ms, 1) for q, ms in counts.items()} }")
            exact = {q: median_ms(lambda q=q: store.count_jobs(search=q), 3) for q in bench_history.QUERIES}
            figure("million.fts_count_exact_median_ms", statistics.median(exact.values()))
        finally:
            store.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_app(home: str, marker: bytes) -> tuple[float, float, float]:
    """(start to the newest job drawn, idle CPU % of one core, ctrl+q to exit), in seconds and percent."""
    dropped = ("TMUX", "SSH_CONNECTION", "SSH_TTY", "TEXTUAL", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(SEEDREAM_TUI_HOME=home, TERM="xterm-256color", COLORTERM="truecolor")
    argv = [str(VENV_BIN / "seedream-tui"), "--demo", "--image-mode", "halfcell"]
    t0 = time.perf_counter()
    with pty_app(argv, env, size=(50, 200)) as (pid, term):
        term.wait_for(marker, 60.0)
        started = time.perf_counter() - t0
        term.read_for(SETTLE_S)
        cpu0, wall0 = process_cpu_s(pid), time.perf_counter()
        term.read_for(IDLE_S)
        idle = (process_cpu_s(pid) - cpu0) / (time.perf_counter() - wall0) * 100
        t_quit = time.perf_counter()
        quit_app(pid, term)  # returns once the process has let go of its terminal and exited
        quit_s = time.perf_counter() - t_quit
    return started, idle, quit_s


def app_figures() -> None:
    empty_home = tempfile.mkdtemp(prefix="seedream-bench-empty-")
    million_home = fresh_home()
    try:
        run_app(million_home, NEWEST)  # warm-up (page cache, .pyc files)
        empty, million = [], []
        for _ in range(RUNS):
            empty.append(run_app(empty_home, b"Jobs"))  # the table's title: the main screen is up
            million.append(run_app(million_home, NEWEST))
        for name, runs in (("empty", empty), ("1m", million)):
            figure(f"million.app_{name}_start_ms", statistics.median(r[0] for r in runs) * 1000)
            figure(f"million.app_{name}_idle_cpu_percent", statistics.median(r[1] for r in runs),
                   "≤ 1 %" if name == "1m" else "")
            figure(f"million.app_{name}_quit_s", statistics.median(r[2] for r in runs), "≤ 0.5 s" if name == "1m" else "")
    finally:
        shutil.rmtree(empty_home, ignore_errors=True)
        shutil.rmtree(million_home, ignore_errors=True)


def history_screen_figures() -> None:
    home = fresh_home()
    os.environ["SEEDREAM_TUI_HOME"] = home
    try:
        asyncio.run(bench_history_screen.run(prefix="million.history_screen", open_target="≤ 150 ms (also the first)",
                                             search_target="≤ 50 ms median"))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    """All figures; ``--history-screen`` for only the history screen's (a quicker loop while working on it)."""
    t_start = time.perf_counter()
    print(f"# load average at start: {os.getloadavg()[0]:.2f} (2 cores shared)")
    print(f"# history: {N_JOBS:,} jobs, {cached_history().stat().st_size / 1e6:.0f} MB")
    if "--history-screen" not in sys.argv[1:]:
        store_figures()
        app_figures()
    history_screen_figures()
    print(f"# load average at end: {os.getloadavg()[0]:.2f}")
    figure("million.total_s", time.perf_counter() - t_start)


if __name__ == "__main__":
    main()
