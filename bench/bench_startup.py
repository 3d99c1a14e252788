"""Start-up: ``seedream-tui --demo`` with an empty history, 100,000 and 1,000,000 jobs vs a bare one-Label Textual app.

How it is measured (``python bench/bench_startup.py``): each app runs as a real process on a
pseudo-terminal (``pty.fork``), 200x50 cells, ``TERM=xterm-256color``, outside tmux. The clock starts
just before the fork and stops when the first frame that shows the thing the user came for is written
to the terminal:

* the bare app: its one Label (``bare-bench-ready``);
* the floor (``_widgets_app.py``): the main screen's stock widgets with constant data, textual-image
  imported, none of our code: the newest row of its table;
* seedream-tui (``--demo``: its demo server starts in-process, as a user's demo does): the newest job's
  prompt in the main screen's job table, so the frame is the main screen (prompt editor focused, history
  read), not the splash; with an empty history, the prompt editor's hint;
* posting and harlequin, two Textual apps users know, when installed (each in a virtualenv of its own:
  ``BENCH_POSTING`` / ``BENCH_HARLEQUIN`` name their executables, else they are looked up on PATH): the
  URL bar's hint and the query editor's "Run Query" button. One that is missing or cannot start is said
  and left out.

What the user cannot tell comes right after that frame (issue 13 §6): the options panel's fields, httpx,
the demo server and the engine, textual-image's renderers.

Then the quit key is sent (Ctrl+Q; Ctrl+C for posting) and the process must exit (it is interactive). The pty plays a typical terminal
(see ``_tui_common``): it answers the device-attributes query, so image-protocol detection costs what
it costs in e.g. GNOME Terminal. The apps take turns, ``RUNS`` rounds, in the same run; each ratio is the
median of the per-round ratios to the bare app, so it holds on a noisy machine.

Beside each wall-time ratio, the ratio of the CPU time the process used until that frame (all threads, from
``/proc``): it says what our start-up costs even when the machine is busy.

It also writes ``python -X importtime`` of ``seedream_tui.cli`` and of the TUI path to files in the
system temp dir and prints the five biggest cumulative imports of each.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import figure
from _million import fresh_home
from _tui_common import ROOT, pty_app, quit_app, seed_history, time_to_marker

RUNS = 10
N_JOBS = 100_000
VENV_BIN = Path(sys.executable).parent
TUI_PATH_IMPORTS = (
    "import seedream_tui.cli\n"
    "from seedream_tui.tui import images\n"
    "images.configure('halfcell')\n"
    "import seedream_tui.tui.run, seedream_tui.tui.app, seedream_tui.jobs.service\n"
)


def importtime(code: str, out: Path) -> list[tuple[float, str]]:
    """Run ``code`` under ``-X importtime``; keep the raw report in ``out``; (cumulative ms, module), biggest first."""
    # with .pyc files written, as the timed runs have them: PYTHONDONTWRITEBYTECODE (set on some machines) would
    # show every module edited since its last .pyc as costing its compile time
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, cwd=ROOT, check=True, env=env
    )
    out.write_text(proc.stderr)
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]) / 1000, parts[2].rstrip()))
    rows.sort(reverse=True)
    return rows


def report_imports() -> None:
    tmp = Path(tempfile.gettempdir())
    for label, code in (("cli", "import seedream_tui.cli"), ("tui", TUI_PATH_IMPORTS)):
        path = tmp / f"seedream-importtime-{label}.txt"
        rows = importtime(code, path)
        top10 = ", ".join(f"{name.strip()} {ms:.0f}" for ms, name in rows[:10])
        (tmp / f"seedream-importtime-{label}-top10.txt").write_text(top10 + "\n")
        print(f"# importtime {label} (full report {path}); top 5 cumulative ms:")
        for ms, name in rows[:5]:
            print(f"#   {ms:7.1f}  {name.strip()}")


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used so far, all its threads (``/proc/PID/task/*/schedstat``, in ns)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return total / 1e9


def timed_start(argv: list[str], env: dict[str, str], marker: bytes, quit_keys: bytes) -> tuple[float, float]:
    """(wall seconds from fork to ``marker`` on the pty, CPU seconds the process used by then); then quit it.

    The CPU time says what the start costs whatever else the machine runs: on a busy machine the wall time
    of every app grows with the load, and a ratio of wall times drifts toward the ratio of CPU times."""
    t0 = time.perf_counter()
    with pty_app(argv, env) as (pid, term):
        term.wait_for(marker, 60.0)
        wall = time.perf_counter() - t0
        try:
            cpu = cpu_seconds(pid)
        except OSError:
            cpu = float("nan")
        quit_app(pid, term, quit_keys)
    return wall, cpu


def other_app(name: str, env_var: str) -> str | None:
    """The ``name`` executable to measure beside ours: ``$env_var``, else on PATH, else beside this Python."""
    for candidate in (os.environ.get(env_var), shutil.which(name), str(VENV_BIN / name)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def main() -> None:
    t_start = time.perf_counter()
    report_imports()
    home = tempfile.mkdtemp(prefix="seedream-bench-startup-")
    seed_history(Path(home) / "data" / "demo" / "history.sqlite3", N_JOBS)
    empty_home = tempfile.mkdtemp(prefix="seedream-bench-startup-empty-")
    other_home = tempfile.mkdtemp(prefix="seedream-bench-startup-others-")
    # PYTHONDONTWRITEBYTECODE (set on some CI machines) would recompile our modules on every start; an
    # installed package has its .pyc files, and the warm-up run below writes them here
    dropped = ("TMUX", "SSH_CONNECTION", "SSH_TTY", "TEXTUAL", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(SEEDREAM_TUI_HOME=home, TERM="xterm-256color", COLORTERM="truecolor")
    # posting and harlequin keep their settings and data in a temp home of their own
    env_other = {**env, "HOME": other_home, "XDG_CONFIG_HOME": f"{other_home}/config",
                 "XDG_DATA_HOME": f"{other_home}/data", "XDG_CACHE_HOME": f"{other_home}/cache"}
    for name in ("config", "data", "cache"):
        os.makedirs(f"{other_home}/{name}", exist_ok=True)
    # the same app on the cached 1,000,000-job history (bench/_million.py; built once, ~90 s)
    million_home = fresh_home()
    app_cmd = [str(VENV_BIN / "seedream-tui"), "--demo"]  # --demo: the demo server starts in-process, as users see
    newest = b"zq-newest-bench-job"
    # (label, argv, env, marker, quit keys): what each app's user came for, in its first frame
    apps: list[tuple[str, list[str], dict[str, str], bytes, bytes]] = [
        ("bare", [sys.executable, str(ROOT / "bench" / "_bare_app.py")], env, b"bare-bench-ready", b"\x11"),
        ("floor", [sys.executable, str(ROOT / "bench" / "_widgets_app.py")], env, newest, b"\x11"),
        # an empty history: the prompt editor's hint (its first letter is under the cursor, drawn apart)
        ("empty", app_cmd, {**env, "SEEDREAM_TUI_HOME": empty_home}, b"escribe the image", b"\x11"),
        ("100k", app_cmd, env, newest, b"\x11"),
        ("1m", app_cmd, {**env, "SEEDREAM_TUI_HOME": million_home}, newest, b"\x11"),
    ]
    # beside ours, two Textual apps users know; each in its own virtualenv (their Textual pins would
    # change ours): set BENCH_POSTING / BENCH_HARLEQUIN to their executables, or put them on PATH
    for name, env_var, marker, keys in (
        ("posting", "BENCH_POSTING", b"nter a URL or paste a curl command", b"\x03"),  # the URL bar's hint
        ("harlequin", "BENCH_HARLEQUIN", b"Run Query", b"\x11"),  # the query editor's button
    ):
        exe = other_app(name, env_var)
        if exe is None:
            print(f"# {name}: not installed (pip install {name} into its own virtualenv and set {env_var} to its "
                  f"executable): not measured")
            continue
        try:  # the warm-up run: an app that cannot start here is said and left out, not the end of the bench
            time_to_marker([exe], env_other, marker, quit_keys=keys)
        except (RuntimeError, TimeoutError) as exc:
            print(f"# {name} ({exe}) did not start on the pty: {str(exc)[:200]}; not measured")
            continue
        apps.append((name, [exe], env_other, marker, keys))
    # one warm-up each (page cache, .pyc files, the empty history created), not counted
    for _label, argv, app_env, marker, keys in apps:
        if _label not in ("posting", "harlequin"):
            time_to_marker(argv, app_env, marker, quit_keys=keys)
    times: dict[str, list[float]] = {label: [] for label, *_ in apps}
    cpu: dict[str, list[float]] = {label: [] for label, *_ in apps}
    for _ in range(RUNS):  # all apps in turn, RUNS times: each ratio is paired within a round
        for label, argv, app_env, marker, keys in apps:
            wall, used = timed_start(argv, app_env, marker, keys)
            times[label].append(wall)
            cpu[label].append(used)
    shutil.rmtree(million_home, ignore_errors=True)
    for folder in (home, empty_home, other_home):
        shutil.rmtree(folder, ignore_errors=True)
    ms = {label: statistics.median(runs) * 1000 for label, runs in times.items()}

    def ratio(label: str, of: dict[str, list[float]] = times) -> str:
        """The median of the per-round ratios (app / bare app of the same round): noise of the machine cancels."""
        return f"{statistics.median(a / b for a, b in zip(of[label], of['bare'], strict=True)):.2f}"

    print(f"# load average: {os.getloadavg()[0]:.2f} (the wall-time ratios grow with it; the CPU ones hardly)")
    figure("startup.bare_textual_median_ms", ms["bare"])
    for label, size in (("empty", "an empty history"), ("100k", "100,000 jobs"), ("1m", "1,000,000 jobs")):
        figure(f"startup.seedream_demo_{label}_median_ms", ms[label])
        figure(f"startup.ratio_{label}", ratio(label), f"≤ 1.5× a bare Textual app, {size}, demo server (issue 23)")
        figure(f"startup.cpu_ratio_{label}", ratio(label, cpu))
    # the floor: the same stock widgets and textual-image, none of our code (bench/_widgets_app.py)
    figure("startup.same_widgets_no_app_code_median_ms", ms["floor"])
    figure("startup.floor_ratio", ratio("floor"))
    figure("startup.floor_cpu_ratio", ratio("floor", cpu))
    figure("startup.bare_textual_cpu_median_ms", statistics.median(cpu["bare"]) * 1000)
    figure("startup.app_over_floor_ms", ms["100k"] - ms["floor"])
    for label in ("posting", "harlequin"):
        if label in times:
            figure(f"startup.{label}_median_ms", ms[label])
            figure(f"startup.{label}_ratio", ratio(label))
            figure(f"startup.{label}_cpu_ratio", ratio(label, cpu))
    print(f"# paired in {RUNS} rounds; first frame that shows what each app is for, on a 200x50 pty; runs ms: "
          + "; ".join(f"{label} {[round(x * 1000) for x in runs]}" for label, runs in times.items()))
    print("# CPU ms (all threads) by then: " + "; ".join(f"{label} {round(statistics.median(runs) * 1000)}"
                                                         for label, runs in cpu.items()))
    figure("startup.total_s", time.perf_counter() - t_start)


if __name__ == "__main__":
    main()
