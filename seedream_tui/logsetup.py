"""The log file, opened before anything else a run does.

Everything that goes wrong later (a 5xx storm, a submit whose answer was lost, a download that stalls,
an unexpected error) is written there, so it must exist from the first line of the process: a sentence
that says "details are in the log file" must point at a file that was made. When the log folder cannot
be written (a read-only home) the run goes on without one and says so where it would point at it.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from seedream_tui import __version__

#: each log file's size before it is rotated; two old ones are kept
MAX_LOG_BYTES = 1_000_000


class _QuietFileHandler(logging.handlers.RotatingFileHandler):
    """The log file's handler: a record it cannot write (a disk that filled up, a folder that went away)
    is dropped. The first such failure of the process is one line on stderr (after the TUI has closed, when
    it runs); never logging's own "--- Logging error ---" block with its traceback, once per record."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        _complain(self.baseFilename)


class _State:
    complained = False  # the one line was said (or kept to say): the process says no more
    pending = ""  # the line, kept while the TUI owns the terminal
    quiet = False


_state = _State()


def _complain(file_name: str) -> None:
    if _state.complained:
        return
    _state.complained = True
    exc = sys.exc_info()[1]
    reason = getattr(exc, "strerror", None) or (str(exc) if exc is not None else "") or "it could not be written"
    line = f"seedream-tui: the log file {file_name} could not be written ({reason}); later log lines are dropped."
    if _state.quiet:
        _state.pending = line  # the TUI owns the terminal: said when it has closed
        return
    _say(line)


def _say(line: str) -> None:
    stream = sys.__stderr__
    if stream is None:
        return
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def quiet_while(on: bool) -> None:
    """While the TUI owns the terminal (``on``), a log-writing failure is kept for later; turning it off says it."""
    _state.quiet = on
    if not on and _state.pending:
        line, _state.pending = _state.pending, ""
        _say(line)


def setup_logging(log_file: Path, command: str) -> Path | None:
    """Log to ``log_file`` (rotated), starting with a line naming the run. Returns the file, or None
    when it cannot be written (then nothing is logged)."""
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = _QuietFileHandler(
            log_file, maxBytes=MAX_LOG_BYTES, backupCount=2, encoding="utf-8"
        )
        written: Path | None = log_file
    except OSError:
        handler, written = logging.NullHandler(), None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("seedream_tui").info(
        "seedream-tui %s (pid %d, Python %s): %s", __version__, os.getpid(), sys.version.split()[0], command
    )
    return written


def where_details_are(log_file: Path | None) -> str:
    """The end of an "unexpected error" sentence: the log file, or why there is none."""
    if log_file is None:
        return "No log file could be written (its folder is not writable)."
    return f"Details are in the log file {log_file}."
