"""Runs an app for ``bench_typing.py`` and times each typed key inside the process as well.

``python bench/_key_timing.py OUT seedream-tui ARGS…`` runs seedream-tui (its console script's entry point);
``python bench/_key_timing.py OUT path/to/app.py`` runs that script. For every key (a capital letter, as the
bench types) it notes when the app received it and how much CPU the main thread had used; at the next write
to the terminal it appends one line to OUT: the wall milliseconds from key to that write and the main thread's
CPU milliseconds in between. Wall minus CPU is time the process wanted to run and could not (another process
had the core) or waited for a timer: what the app's own code cannot shorten.
"""

from __future__ import annotations

import runpy
import sys
import time
from typing import Any

from textual import events
from textual.app import App
from textual.drivers.linux_driver import LinuxDriver

OUT = sys.argv[1]
_pending: list[tuple[float, float]] = []
_on_event = App.on_event
_write = LinuxDriver.write


async def on_event(self: App[Any], event: events.Event) -> None:
    if isinstance(event, events.Key) and event.character is not None and event.character.isupper():
        _pending.append((time.perf_counter(), time.thread_time()))
    await _on_event(self, event)


def write(self: LinuxDriver, data: str) -> None:
    _write(self, data)
    if _pending and data:
        wall, cpu = time.perf_counter(), time.thread_time()
        with open(OUT, "a") as out:
            for t, c in _pending:
                out.write(f"{(wall - t) * 1000:.2f} {(cpu - c) * 1000:.2f}\n")
        _pending.clear()


App.on_event = on_event  # type: ignore[method-assign]
LinuxDriver.write = write  # type: ignore[method-assign]

if __name__ == "__main__":
    target, args = sys.argv[2], sys.argv[3:]
    if target.endswith(".py"):
        sys.argv = [target, *args]
        runpy.run_path(target, run_name="__main__")
    else:
        from seedream_tui.entry import run

        sys.argv = [target, *args]
        sys.exit(run())
