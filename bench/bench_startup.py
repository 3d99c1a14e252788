"""Start-up: ``seedream-tui --demo`` with 100,000 and 1,000,000 jobs in history vs a bare one-Label Textual app.

How it is measured (``python bench/bench_startup.py``): each app runs as a real process on a
pseudo-terminal (``pty.fork``), 200x50 cells, ``TERM=xterm-256color``, outside tmux. The clock starts
just before the fork and stops when the first frame that shows the thing the user came for is written
to the terminal:

* the bare app: its one Label (``bare-bench-ready``);
* the floor (``_widgets_app.py``): the main screen's stock widgets with constant data, textual-image
  imported, none of our code: the newest row of its table;
* seedream-tui: the newest job's prompt in the main screen's job table, so the frame is the main screen
  (prompt editor focused, history read), not the splash. What the user cannot tell comes right after that
  frame (issue 13 §6): the options panel's fields, httpx and the engine, textual-image's renderers.

Then Ctrl+Q is sent and the process must exit (it is interactive). The pty plays a typical terminal
(see ``_tui_common``): it answers the device-attributes query, so image-protocol detection costs what
it costs in e.g. GNOME Terminal. The two apps alternate, ``RUNS`` times each, in the same run, so the
ratio holds on a noisy machine.

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
from _tui_common import ROOT, seed_history, time_to_marker

RUNS = 7
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


def main() -> None:
    t_start = time.perf_counter()
    report_imports()
    home = tempfile.mkdtemp(prefix="seedream-bench-startup-")
    seed_history(Path(home) / "data" / "demo" / "history.sqlite3", N_JOBS)
    # PYTHONDONTWRITEBYTECODE (set on some CI machines) would recompile our modules on every start; an
    # installed package has its .pyc files, and the warm-up run below writes them here
    dropped = ("TMUX", "SSH_CONNECTION", "SSH_TTY", "TEXTUAL", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(SEEDREAM_TUI_HOME=home, TERM="xterm-256color", COLORTERM="truecolor")
    bare_cmd = [sys.executable, str(ROOT / "bench" / "_bare_app.py")]
    floor_cmd = [sys.executable, str(ROOT / "bench" / "_widgets_app.py")]
    app_cmd = [str(VENV_BIN / "seedream-tui"), "--demo"]
    marker = b"zq-newest-bench-job"
    # the same app on the cached 1,000,000-job history (bench/_million.py; built once, ~90 s)
    million_home = fresh_home()
    env_1m = {**env, "SEEDREAM_TUI_HOME": million_home}
    # one warm-up each (page cache, .pyc files), not counted
    time_to_marker(bare_cmd, env, b"bare-bench-ready")
    time_to_marker(floor_cmd, env, marker)
    time_to_marker(app_cmd, env, marker)
    time_to_marker(app_cmd, env_1m, marker)
    bare, floor, app, app_1m = [], [], [], []
    for _ in range(RUNS):
        bare.append(time_to_marker(bare_cmd, env, b"bare-bench-ready"))
        floor.append(time_to_marker(floor_cmd, env, marker))
        app.append(time_to_marker(app_cmd, env, marker))
        app_1m.append(time_to_marker(app_cmd, env_1m, marker))
    shutil.rmtree(million_home, ignore_errors=True)
    bare_ms = statistics.median(bare) * 1000
    floor_ms = statistics.median(floor) * 1000
    app_ms = statistics.median(app) * 1000
    app_1m_ms = statistics.median(app_1m) * 1000
    figure("startup.bare_textual_median_ms", bare_ms)
    figure("startup.seedream_demo_100k_median_ms", app_ms)
    figure("startup.ratio", f"{app_ms / bare_ms:.2f}", "≤ 2.0× (issue 13 §6)")
    figure("startup.seedream_demo_1m_median_ms", app_1m_ms)
    figure("startup.ratio_1m", f"{app_1m_ms / bare_ms:.2f}", "≤ 2.0× (issue 13 §6)")
    # the floor: the same stock widgets and textual-image, none of our code (bench/_widgets_app.py)
    figure("startup.same_widgets_no_app_code_median_ms", floor_ms)
    figure("startup.floor_ratio", f"{floor_ms / bare_ms:.2f}")
    figure("startup.app_over_floor_ms", app_ms - floor_ms)
    print(f"# runs ms: bare {[round(x * 1000) for x in bare]} floor {[round(x * 1000) for x in floor]} "
          f"app {[round(x * 1000) for x in app]} app 1M {[round(x * 1000) for x in app_1m]}")
    figure("startup.total_s", time.perf_counter() - t_start)


if __name__ == "__main__":
    main()
