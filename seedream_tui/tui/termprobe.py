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
  (``ESC [ 6 ; height ; width t``);
* UTF-8 mode (``utf8=True``): the cursor position (``ESC [ 6 n``), a two-byte UTF-8 character (é), the cursor
  position again. A UTF-8 terminal moved one column, a Latin-1 one (xterm ``+u8``, whatever the locale says)
  two: it shows "Ã©", and box-drawing characters as mojibake. The character is then erased.

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
CPR_QUERY = "\x1b[6n"
#: é: two bytes in UTF-8, one column in a UTF-8 terminal, two ("Ã©") in a Latin-1 one
UTF8_PROBE_CHAR = "\u00e9"
UTF8_QUERY = CPR_QUERY + UTF8_PROBE_CHAR + CPR_QUERY

_DA1_REPLY = re.compile(r"\x1b\[\?([0-9;]*)c")
_KITTY_REPLY = re.compile(r"\x1b_Gi=(\d+)[^;\x1b]*;([^\x1b]*)\x1b\\")
_CELL_REPLY = re.compile(r"\x1b\[6;(\d+);(\d+)t")
_CPR_REPLY = re.compile(r"\x1b\[(\d+);(\d+)R")


@dataclass(frozen=True)
class TerminalInfo:
    sixel: bool = False
    kitty: bool = False
    #: (width, height) of one cell in pixels, when the terminal told us
    cell_px: tuple[int, int] | None = None
    #: False when the terminal never answered (or there is no terminal): nothing above is known
    answered: bool = False
    #: the terminal shows UTF-8 as UTF-8 (True), as one character a byte (False: Latin-1), or was not asked /
    #: did not say (None)
    utf8: bool | None = None
    #: (row, column) of the cursor before the UTF-8 probe's character was written (1-based), to erase it
    cursor: tuple[int, int] | None = None

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
    utf8, cursor = utf8_from_positions(data)
    return TerminalInfo(sixel=sixel, kitty=kitty, cell_px=cell_px, answered=bool(da1), utf8=utf8, cursor=cursor)


def utf8_from_positions(data: str) -> tuple[bool | None, tuple[int, int] | None]:
    """(UTF-8 mode?, the first cursor position) from the two cursor position reports around the probe's
    character: one column further is UTF-8, two is a one-byte charset, anything else (no answer, a wrap at the
    right edge) is unknown."""
    positions = [(int(m.group(1)), int(m.group(2))) for m in _CPR_REPLY.finditer(data)]
    if not positions:
        return None, None
    if len(positions) < 2 or positions[0][0] != positions[1][0]:
        return None, positions[0]
    return {1: True, 2: False}.get(positions[1][1] - positions[0][1]), positions[0]


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
    utf8: bool = False,
    timeout: float = 0.5,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
) -> TerminalInfo:
    """Ask the terminal on ``stdin``/``stdout`` (default: the real ones).

    ``graphics=False`` asks only for the cell size (a mode was forced); ``utf8=True`` also whether it is in
    UTF-8 mode, in the same round trip. Never raises: a missing or silent terminal gives ``TerminalInfo()``
    (with the ioctl cell size when there is one).
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
    if not graphics and not utf8 and cell_px is not None:
        return TerminalInfo(cell_px=cell_px)
    query = (UTF8_QUERY if utf8 else "") + (KITTY_QUERY if graphics else "") + ("" if cell_px else CELL_QUERY)
    query += DA1_QUERY
    try:
        data = _exchange(in_fd, out_fd, query, timeout)
    except (OSError, ValueError, ImportError):
        data = ""
    info = parse_replies(data)
    if utf8:
        _erase_probe_character(out_fd, info.cursor)
    if not graphics:  # the DA1 reply still names sixel; graphics were not asked about
        info = replace(info, sixel=False, kitty=False)
    return replace(info, cell_px=cell_px or info.cell_px)


def _erase_probe_character(out_fd: int, cursor: tuple[int, int] | None) -> None:
    """The cursor back where it was and the line erased from there: the probe's "é" (or "Ã©") is gone."""
    try:
        if cursor is not None:
            os.write(out_fd, f"\x1b[{cursor[0]};{cursor[1]}H\x1b[K".encode())
        else:  # no position known: back to the start of the line the character was written on
            os.write(out_fd, b"\r\x1b[K")
    except OSError:
        pass


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
