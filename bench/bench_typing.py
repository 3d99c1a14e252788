"""Typing while jobs poll (`python bench/bench_typing.py`): time from a key to its echo in the prompt.

The app runs as a real process on a pty (200x60, halfcell images) against the fake server in another
process, with 0 and 500 live jobs (the server runs 10 at a time and takes an hour over each, so all
500 keep polling); a bare Textual app with one focused TextArea (``_textarea_app.py``) is typed into in
the same run, in turn with them (``ROUNDS`` rounds), as the baseline. Once the newest job is drawn and
the first polls have landed, ``KEYS`` letters are typed one at a time, ``GAP`` s apart (a fast typist); each key's latency is from writing it to the pty
to the first output holding the text typed so far (the editor redraws its line, so the line's new end
is the echo). Each app also runs under ``_key_timing.py``, which times every key inside the process (from
the app receiving it to its next write, and the main thread's CPU meanwhile): the part of the pty figure
the app's own work accounts for, beside the part the machine does (other processes, the pty). Target (issue 13 §2): with 500 live jobs p95 <= 20 ms and the worst key <= 50 ms.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import fake_server_process, figure
from _tui_common import ROOT, pty_app, quit_app
from bench_output import env_for, submit_live

KEYS = 50
#: each app typed into this many times, in turn with the others
ROUNDS = 3
GAP = 0.12
SETTLE = 6.0
#: capitals only: the job table's cells (times, statuses, prompts) never draw them while we type
LETTERS = "BCDEFGJKLNOPRTUVWXYZ"


def key_latencies(argv: list[str], env: dict[str, str], marker: bytes) -> list[float]:
    with pty_app(argv, env, size=(60, 200)) as (pid, term):
        term.wait_for(marker, 60.0)
        term.read_for(SETTLE)
        typed = ""
        out = []
        for i in range(KEYS):
            key = LETTERS[i % len(LETTERS)]
            typed += key
            tail = typed[-6:].encode()
            term.seen = b""
            t0 = time.perf_counter()
            os.write(term.fd, key.encode())
            while tail not in term.seen:
                if time.perf_counter() - t0 > 10:
                    raise TimeoutError(f"key {key!r} not echoed in 10 s")
                term.read_once(0.5)
            out.append((time.perf_counter() - t0) * 1000)
            term.read_for(GAP)
        quit_app(pid, term)
    return out


def timed(argv: list[str], out: Path) -> list[str]:
    """``argv`` run under ``_key_timing.py`` (each key also timed inside the process, into ``out``)."""
    return [sys.executable, str(ROOT / "bench" / "_key_timing.py"), str(out), *argv]


def report_inside(name: str, out: Path) -> None:
    """What the app itself spent per key: wall time from its receiving the key to its next write, and the CPU
    its main thread used meanwhile (the rest of the pty figure is the machine's: other processes, the pty)."""
    rows = [tuple(map(float, line.split())) for line in out.read_text().splitlines() if line.strip()]
    if not rows:
        print(f"# {name}: no key timed inside the process")
        return
    wall = sorted(r[0] for r in rows)
    cpu = sorted(r[1] for r in rows)
    p95 = int(len(rows) * 0.95) - 1
    figure(f"typing.{name}_in_process_p95_ms", wall[p95])
    figure(f"typing.{name}_main_thread_cpu_per_key_p95_ms", cpu[p95])
    figure(f"typing.{name}_main_thread_cpu_per_key_max_ms", cpu[-1])


def report(name: str, latencies: list[float], targets: bool) -> None:
    ordered = sorted(latencies)
    figure(f"typing.{name}_median_ms", statistics.median(ordered))
    figure(f"typing.{name}_p95_ms", ordered[int(len(ordered) * 0.95) - 1], "≤ 20 ms" if targets else "")
    figure(f"typing.{name}_max_ms", ordered[-1], "≤ 50 ms" if targets else "")
    slow = [(i, round(ms)) for i, ms in enumerate(latencies) if ms > 20]
    print(f"# {name}: keys over 20 ms (index, ms): {slow}")


def main() -> None:
    t_start = time.perf_counter()
    print(f"# load average at start: {os.getloadavg()[0]:.2f} (2 cores shared)")
    bare = [str(ROOT / "bench" / "_textarea_app.py")]
    latencies: dict[str, list[float]] = {"bare_textarea_200x60": [], "live_0_200x60": [], "live_500_200x60": []}
    inside = {name: Path(tempfile.mkdtemp(prefix="seedream-bench-keys-")) / f"{name}.txt" for name in latencies}
    homes = {n: tempfile.mkdtemp(prefix="seedream-bench-typing-") for n in (0, 500)}
    with fake_server_process("--workers", "10", "--min-duration", "3600", "--max-duration", "3600",
                             "--seed", "7") as (api, _cdn):
        asyncio.run(submit_live(homes[500], api, 500))
        argv = ["seedream-tui", "--demo", "--base-url", api, "--image-mode", "halfcell"]
        # the three in turn, ROUNDS times: the bare app's figures are the same run's, on the same machine load
        for _ in range(ROUNDS):
            latencies["bare_textarea_200x60"] += key_latencies(
                timed(bare, inside["bare_textarea_200x60"]), env_for(homes[0]), b"bare-textarea-ready")
            latencies["live_0_200x60"] += key_latencies(
                timed(argv, inside["live_0_200x60"]), env_for(homes[0]), b"Jobs")
            latencies["live_500_200x60"] += key_latencies(
                timed(argv, inside["live_500_200x60"]), env_for(homes[500]), b"live bench job 499")
    for name, values in latencies.items():
        report(name, values, targets=name.startswith("live_500"))
        report_inside(name, inside[name])
    print(f"# load average at end: {os.getloadavg()[0]:.2f}")
    figure("typing.total_s", time.perf_counter() - t_start)


if __name__ == "__main__":
    main()
