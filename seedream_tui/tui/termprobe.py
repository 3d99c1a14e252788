"""Ask the terminal, in one round trip, what images it can draw and how big its cells are.

textual-image asks at import time with two sequential queries: a Device Attributes query (sixel), then a
kitty graphics query that waits up to 100 ms for an answer most terminals never send. That wait is on
every start-up in every terminal without the kitty protocol. Here the three questions go out together,
followed by the Device Attributes query, which every terminal answers and answers *last* (terminals
reply in order). So the reply to ``ESC [ c`` ends the exchange: whatever came before it is the full
answer, and the wait is one round trip (a few ms locally, one network RTT over SSH) instead of a fixed
timeout. :mod:`seedream_tui.tui.images` then imports textual-image with no queries of its own.

* kitty graphics: ``ESC _ G i=…;OK ESC \\`` before the DA1 reply means supported;
* sixel: attribute ``4`` in the DA1 reply (``ESC [ ? 62 ; 4 ; 22 c``);
* cell size: ``TIOCGWINSZ`` pixels when the terminal fills them in, else the ``ESC [ 16 t`` reply
  (``ESC [ 6 ; height ; width t``).

The terminal is put in cbreak mode without echo for the exchange, so replies are never echoed on
screen, and restored after. A terminal that does not answer within ``timeout`` gets the safe defaults
(character-cell images).
"""

from __future__ import annotations

import os
import re
import select
import sys
import time
from dataclasses import dataclass, replace
from typing import IO

KITTY_ID = 31
KITTY_QUERY = f"\x1b_Gi={KITTY_ID},s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
CELL_QUERY = "\x1b[16t"
DA1_QUERY = "\x1b[c"

_DA1_REPLY = re.compile(r"\x1b\[\?([0-9;]*)c")
_KITTY_REPLY = re.compile(r"\x1b_Gi=(\d+)[^;\x1b]*;([^\x1b]*)\x1b\\")
_CELL_REPLY = re.compile(r"\x1b\[6;(\d+);(\d+)t")


@dataclass(frozen=True)
class TerminalInfo:
    sixel: bool = False
    kitty: bool = False
    #: (width, height) of one cell in pixels, when the terminal told us
    cell_px: tuple[int, int] | None = None
    #: False when the terminal never answered (or there is no terminal): nothing above is known
    answered: bool = False

    def best_mode(self) -> str:
        """textual-image's own order: sixel, then kitty graphics (tgp), else coloured half cells."""
        if self.sixel:
            return "sixel"
        if self.kitty:
            return "tgp"
        return "halfcell"


def parse_replies(data: str) -> TerminalInfo:
    """What the collected reply bytes say (pure: the tests feed it real terminals' answers)."""
    da1 = _DA1_REPLY.search(data)
    sixel = bool(da1) and "4" in (da1.group(1).split(";") if da1 else [])
    kitty = any(int(m.group(1)) == KITTY_ID and m.group(2) == "OK" for m in _KITTY_REPLY.finditer(data))
    cell = _CELL_REPLY.search(data)
    cell_px = None
    if cell:
        height, width = int(cell.group(1)), int(cell.group(2))
        if width > 0 and height > 0:
            cell_px = (width, height)
    return TerminalInfo(sixel=sixel, kitty=kitty, cell_px=cell_px, answered=bool(da1))


def ioctl_cell_px(stream: IO[str] | int | None) -> tuple[int, int] | None:
    """The cell size from the window size ioctl, when the terminal reports pixels (many do, tmux does not)."""
    if stream is None:
        return None
    try:
        fd = stream if isinstance(stream, int) else stream.fileno()
        import fcntl
        import struct
        import termios

        rows, cols, xpix, ypix = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except (OSError, ImportError, ValueError, AttributeError):
        return None
    if rows and cols and xpix and ypix:
        return (xpix // cols, ypix // rows)
    return None


def probe(
    *,
    graphics: bool = True,
    timeout: float = 0.5,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
) -> TerminalInfo:
    """Ask the terminal on ``stdin``/``stdout`` (default: the real ones).

    ``graphics=False`` asks only for the cell size (a mode was forced). Never raises: a missing or silent
    terminal gives ``TerminalInfo()`` (with the ioctl cell size when there is one).
    """
    stdin = stdin or sys.__stdin__
    stdout = stdout or sys.__stdout__
    if stdin is None or stdout is None or not stdin.isatty() or not stdout.isatty():
        return TerminalInfo()
    try:
        out_fd, in_fd = stdout.fileno(), stdin.fileno()
    except (OSError, ValueError):
        return TerminalInfo()
    cell_px = ioctl_cell_px(out_fd)
    if not graphics and cell_px is not None:
        return TerminalInfo(cell_px=cell_px)
    query = (KITTY_QUERY if graphics else "") + ("" if cell_px else CELL_QUERY) + DA1_QUERY
    try:
        data = _exchange(in_fd, out_fd, query, timeout)
    except (OSError, ValueError, ImportError):
        data = ""
    info = parse_replies(data)
    if not graphics:  # the DA1 reply still names sixel; graphics were not asked about
        info = replace(info, sixel=False, kitty=False)
    return replace(info, cell_px=cell_px or info.cell_px)


def _exchange(in_fd: int, out_fd: int, query: str, timeout: float) -> str:
    """Write ``query`` and read until the DA1 reply (or ``timeout``), with echo off."""
    import termios
    import tty

    saved = termios.tcgetattr(in_fd)
    try:
        tty.setcbreak(in_fd, termios.TCSANOW)  # no line buffering, no echo
        os.write(out_fd, query.encode())
        data = b""
        deadline = time.monotonic() + timeout
        while not _DA1_REPLY.search(data.decode("latin-1")):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([in_fd], [], [], left)
            if not ready:
                break
            chunk = os.read(in_fd, 1024)
            if not chunk:
                break
            data += chunk
        return data.decode("latin-1")
    finally:
        termios.tcsetattr(in_fd, termios.TCSANOW, saved)
