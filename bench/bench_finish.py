"""Jobs that finish (`python bench/bench_finish.py [case ...]`): bytes to the terminal and the TUI's own CPU.

``bench_output.py`` measures jobs that never finish (an hour each); users watch jobs end. Each case runs the
app as a real process on a pseudo-terminal (``TERM=xterm-256color``, halfcell images, UI not headless) against
the fake server in another process (its CPU is not counted), and prints each figure beside its target
(issue 23) and beside a bare Textual app with a focused TextArea (``_textarea_app.py``) measured in the same run:

- ``running_40``: a 1,000-job batch written as pending rows before the app starts, its live limit 40; the
  server runs 40 at a time, 3-6 s each, so 40 jobs are always running and one ends (is downloaded, drawn,
  replaced by the next pending one) about 9 times a second. After the newest row is drawn and ``SETTLE`` s
  (the first wave ends), bytes are counted for ``WINDOW`` s at 80x24 and 200x60; at 200x60 the TUI process's
  CPU over the same window too (``/proc/PID/stat``: user + system time of all its threads / wall time).
- ``running_40_single``: the same pace with single jobs (no batch), 200x60: ``SINGLES`` jobs submitted to the
  server before the app starts, which runs 40 at a time (the rest wait in its queue, polled too).
- ``live_500``: 500 single jobs live at the server at once (500 workers, 25-35 s each, submitted before the
  app starts), 200x60: bytes/s from the first possible completion to the last (all 500 end in that span).
- ``startup``: bytes written in the first ``WAVE`` s after the process starts, 200x60, 500 live jobs that do not
  finish (an hour each).
- ``idle_1m``: CPU of the TUI idle at 200x60 on a 1,000,000-job history (``_million.py``'s cached one; built
  once, ~90 s), nothing live, over ``WINDOW`` s after the newest row is drawn and ``SETTLE`` s.

``BENCH_FINISH_DUMP=folder`` keeps what each case wrote to the terminal (``<case>.bin``), to see what the bytes are.
``BENCH_FINISH_PROFILE=1`` samples the TUI process with py-spy (``pip install py-spy``; all its threads, 100 Hz)
over each CPU window and prints the split of its busy samples: render (Textual, Rich, the app's widgets), HTTP
(httpx and below, the API client), engine (the job engine, polling, downloads), SQLite (the history store) and
other (decoding images, asyncio itself...).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import fake_server_process, figure
from _tui_common import ROOT, PtyTerminal, pty_app, quit_app
from bench_batch_typing import submit_batch_pending
from bench_output import env_for, submit_live

SETTLE = 8.0
WINDOW = 15.0
WAVE = 4.0
LIVE = 40
BATCH = 1000
SINGLES = 400
VENV_BIN = Path(sys.executable).parent
APP = [str(VENV_BIN / "seedream-tui"), "--demo", "--image-mode", "halfcell"]
BARE = [sys.executable, str(ROOT / "bench" / "_textarea_app.py")]
BARE_MARKER = b"bare-textarea-ready"
TICK = os.sysconf("SC_CLK_TCK")


def wanted(name: str) -> bool:
    return not sys.argv[1:] or name in sys.argv[1:]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15 of stat)


#: the first category whose marker is in a sample's stack (innermost frames first) gets the sample
SPLIT = (
    ("SQLite", ("sqlite3", "jobs/store", "store_")),
    ("HTTP", ("httpx", "httpcore", "h11", "h2/", "ssl.py", "anyio", "seedream_tui/api/")),
    ("decode", ("PIL/", "thumbs.py", "textual_image")),
    ("engine", ("seedream_tui/jobs/",)),
    ("render", ("textual/", "rich/", "seedream_tui/tui/")),
)


#: innermost frames of a thread that waits: not busy
WAITS = ("concurrent/futures/thread.py", "Condition.wait", ".select (selectors.py", "Event.wait", "_wait_for_tstate")


def profile_start(pid: int, seconds: float) -> tuple[subprocess.Popen[bytes], str] | None:
    spy = shutil.which("py-spy") or str(VENV_BIN / "py-spy")
    if not os.environ.get("BENCH_FINISH_PROFILE") or not Path(spy).exists():
        return None
    out = tempfile.mktemp(prefix="bench-finish-spy-", suffix=".txt")
    cmd = [spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "100", "-f", "raw", "-o", out, "--threads",
           "--nonblocking"]  # not paused at each sample: its pace (and so its CPU) stays as measured
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out


def profile_report(name: str, spy: tuple[subprocess.Popen[bytes], str] | None) -> None:
    if spy is None:
        return
    proc, out = spy
    proc.wait(60)
    counts: dict[str, int] = {}
    total = 0
    for line in Path(out).read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")[::-1]  # innermost first
        if any(w in frames[0] for w in WAITS):
            continue  # a thread waiting (py-spy does not always tell these from running ones)
        kind = next((k for f in frames for k, marks in SPLIT if any(m in f for m in marks)), "other")
        counts[kind] = counts.get(kind, 0) + int(n)
        total += int(n)
    split = ", ".join(f"{k} {100 * v / max(1, total):.0f}%" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    print(f"# profile {name}: {total} busy samples (100 Hz, all threads): {split}", flush=True)
    folder = os.environ.get("BENCH_FINISH_DUMP")
    if folder:
        shutil.copyfile(out, Path(folder) / f"{name}.spy.txt")


def dump(name: str, term: PtyTerminal) -> None:
    folder = os.environ.get("BENCH_FINISH_DUMP")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.bin").write_bytes(term.seen)


#: the wall-clock span of the last :func:`window` (to count the jobs that finished in it)
LAST_SPAN = (0.0, 0.0)


def window(argv: list[str], env: dict[str, str], marker: bytes, size: tuple[int, int], name: str,
           settle: float = SETTLE) -> tuple[float, float]:
    """(KB/s written, CPU % of one core) over ``WINDOW`` s, ``settle`` s after ``marker`` is drawn."""
    global LAST_SPAN
    with pty_app(argv, env, size=size) as (pid, term):
        term.wait_for(marker, 60.0)
        term.read_for(settle)
        term.seen = b""
        spy = profile_start(pid, WINDOW) if argv[0] != BARE[0] else None
        cpu0, t0, wall0 = cpu_seconds(pid), time.perf_counter(), time.time()
        count = term.read_for(WINDOW)
        cpu = (cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0) * 100
        LAST_SPAN = (wall0, time.time())
        dump(name, term)
        profile_report(name, spy)
        quit_app(pid, term)
    return count / WINDOW / 1000, cpu


def finished_in_last_window(home: str) -> int:
    """Jobs of ``home``'s demo history that finished during the last :func:`window`."""
    import sqlite3

    db = sqlite3.connect(Path(home) / "data" / "demo" / "history.sqlite3")
    try:
        row = db.execute("SELECT count(*) FROM jobs WHERE finished_at BETWEEN ? AND ?", LAST_SPAN).fetchone()
    finally:
        db.close()
    return int(row[0])


def per_job(cpu_percent: float, home: str) -> str:
    """The CPU of the window per job that finished in it (the pace varies with the machine's load)."""
    done = finished_in_last_window(home)
    return f"{done} jobs finished in the window: {cpu_percent / 100 * WINDOW / max(1, done) * 1000:.0f} ms of CPU each"


def running_40(bare: dict[tuple[int, int], tuple[float, float]]) -> None:
    targets = {80: "≤ 6 KB/s", 200: "≤ 10 KB/s"}
    for rows, cols in ((24, 80), (60, 200)):
        home = tempfile.mkdtemp(prefix="seedream-bench-finish-")
        with fake_server_process("--workers", str(LIVE), "--min-duration", "3", "--max-duration", "6",
                                 "--seed", "7") as (api, _cdn):
            asyncio.run(submit_batch_pending(home, api, BATCH, LIVE, label="finish bench"))
            kbs, cpu = window([*APP, "--base-url", api], env_for(home), b"finish bench job",
                              (rows, cols), f"running_40_{cols}x{rows}")
            base_kbs = bare[(rows, cols)][0]
            figure(f"finish.running_40_{cols}x{rows}_kb_per_s", kbs, f"{targets[cols]}; bare TextArea {base_kbs:.1f}")
            if cols == 200:
                figure("finish.running_40_200x60_cpu_percent", cpu,
                       f"≤ 20 % of a core, UI included; bare TextArea {bare[(rows, cols)][1]:.1f}; {per_job(cpu, home)}")


def running_40_single(bare: dict[tuple[int, int], tuple[float, float]]) -> None:
    home = tempfile.mkdtemp(prefix="seedream-bench-finish-")
    with fake_server_process("--workers", str(LIVE), "--min-duration", "3", "--max-duration", "6",
                             "--seed", "7") as (api, _cdn):
        asyncio.run(submit_live(home, api, SINGLES))
        kbs, cpu = window([*APP, "--base-url", api], env_for(home), f"live bench job {SINGLES - 1}".encode(),
                          (60, 200), "running_40_single_200x60")
        figure("finish.running_40_single_200x60_kb_per_s", kbs, f"≤ 10 KB/s; bare TextArea {bare[(60, 200)][0]:.1f}")
        figure("finish.running_40_single_200x60_cpu_percent", cpu,
               f"≤ 20 %; bare TextArea {bare[(60, 200)][1]:.1f}; {per_job(cpu, home)}")


def live_500(bare_kbs: float) -> None:
    home = tempfile.mkdtemp(prefix="seedream-bench-finish-")
    with fake_server_process("--workers", "500", "--min-duration", "25", "--max-duration", "35",
                             "--image-scale", "0.25", "--seed", "7") as (api, _cdn):
        first = time.perf_counter()
        asyncio.run(submit_live(home, api, 500))
        last = time.perf_counter()
        with pty_app([*APP, "--base-url", api], env_for(home), size=(60, 200)) as (pid, term):
            term.wait_for(b"live bench job 499", 60.0)
            term.read_for(max(0.0, first + 25 - time.perf_counter()))
            term.seen = b""
            t0 = time.perf_counter()
            count = term.read_for(last + 36 - t0)
            seconds = time.perf_counter() - t0
            dump("live_500", term)
            quit_app(pid, term)
    figure("finish.live_500_200x60_through_completions_kb_per_s", count / seconds / 1000,
           f"≤ 5 KB/s; bare TextArea {bare_kbs:.1f}")


def startup_bytes(argv: list[str], env: dict[str, str], name: str) -> float:
    with pty_app(argv, env, size=(60, 200)) as (pid, term):
        count = term.read_for(WAVE)
        dump(name, term)
        quit_app(pid, term)
    return count / 1000


def startup() -> None:
    bare = startup_bytes(BARE, env_for(tempfile.mkdtemp(prefix="seedream-bench-finish-")), "startup_bare")
    home = tempfile.mkdtemp(prefix="seedream-bench-finish-")
    with fake_server_process("--workers", "10", "--min-duration", "3600", "--max-duration", "3600",
                             "--seed", "7") as (api, _cdn):
        asyncio.run(submit_live(home, api, 500))
        kb = startup_bytes([*APP, "--base-url", api], env_for(home), "startup")
    figure(f"finish.startup_500_live_200x60_first_{WAVE:.0f}s_kb", kb, f"≤ 60 KB; bare TextArea {bare:.1f}")


def idle_1m(bare_cpu: float) -> None:
    from _million import fresh_home

    home = fresh_home("seedream-bench-finish-1m-")
    with fake_server_process("--workers", "10") as (api, _cdn):
        _kbs, cpu = window([*APP, "--base-url", api], env_for(home), b"zq-newest-bench-job", (60, 200), "idle_1m")
    figure("finish.idle_1m_200x60_cpu_percent", cpu, f"≤ 2 % of a core; bare TextArea {bare_cpu:.1f}")


def main() -> None:
    t_start = time.perf_counter()
    print(f"# load average at start: {os.getloadavg()[0]:.2f} (2 cores shared)")
    bare: dict[tuple[int, int], tuple[float, float]] = {}
    for size in ((24, 80), (60, 200)):
        home = tempfile.mkdtemp(prefix="seedream-bench-finish-")
        bare[size] = window(BARE, env_for(home), BARE_MARKER, size, f"bare_{size[1]}x{size[0]}", settle=2.0)
        figure(f"finish.bare_textarea_{size[1]}x{size[0]}_kb_per_s", bare[size][0])
    figure("finish.bare_textarea_200x60_cpu_percent", bare[(60, 200)][1])
    if wanted("running_40"):
        running_40(bare)
    if wanted("running_40_single"):
        running_40_single(bare)
    if wanted("live_500"):
        live_500(bare[(60, 200)][0])
    if wanted("startup"):
        startup()
    if wanted("idle_1m"):
        idle_1m(bare[(60, 200)][1])
    print(f"# load average at end: {os.getloadavg()[0]:.2f}")
    figure("finish.total_s", time.perf_counter() - t_start)


if __name__ == "__main__":
    main()
