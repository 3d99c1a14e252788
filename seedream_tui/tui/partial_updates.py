"""Partial screen updates that send only the refreshed cells, not everything left of them.

When a widget refreshes a region (``Widget.refresh(region)``; the job table does it per changed cell),
Textual 8 repaints only that region, but writes each line of it from the left edge of the widget to the
region's end: its ``ChopsUpdate.render_segments`` crops a line's end and not its start (upstream
issue Textualize/textual#5625, closed unchanged). For the job table that is the border, the id, the
status and the queue position again with every elapsed-time tick: about 290 bytes a row instead of
about 55, five times what a slow SSH link has to carry.

:func:`install` replaces that one method with one that also crops the start, backing off to the
start of a double-width character so that no half of one is ever written. It is the upstream method
with a start crop added; everything else (which lines, which chops, the order) is unchanged.
"""

from __future__ import annotations

from typing import Any

from rich.cells import get_character_cell_size
from textual import _compositor
from textual.strip import Strip

_installed = False


def char_start(strip: Strip, offset: int) -> int:
    """The cell where the character covering cell ``offset`` of ``strip`` starts (``offset``, or one less
    when ``offset`` is the right half of a double-width character)."""
    position = 0
    for segment in strip:
        if segment.control:
            continue
        for char in segment.text:
            width = get_character_cell_size(char)
            if position + width > offset:
                return position
            position += width
    return offset


def render_segments(self: Any, console: Any) -> str:
    """``ChopsUpdate.render_segments`` writing each span from its start (``x1``), not the chop's."""
    sequences: list[str] = []
    append = sequences.append
    move_to = _compositor.Control.move_to
    chops = self.chops
    chop_ends = self.chop_ends
    last_y = self.spans[-1][0]

    for y, x1, x2 in self.spans:
        line = chops[y]
        ends = chop_ends[y]
        for end, (x, strip) in zip(ends, line.items(), strict=False):
            if strip is None or x > x2 or end <= x1:
                continue
            if x2 > x >= x1 and end <= x2:
                append(move_to(x, y).segment.text)
                append(strip.render(console))
                continue
            start = char_start(strip, x1 - x) if x < x1 else 0
            strip = strip.crop(start, min(end, x2) - x)
            append(move_to(x + start, y).segment.text)
            append(strip.render(console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def install() -> None:
    """Use :func:`render_segments` for every partial update of this process (idempotent)."""
    global _installed
    if not _installed and hasattr(_compositor, "ChopsUpdate"):
        _compositor.ChopsUpdate.render_segments = render_segments  # type: ignore[method-assign]
        _installed = True

