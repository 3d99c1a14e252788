"""A video frame drawn in half cells (``▀``: the upper pixel in the foreground colour, the lower in the
background colour), fast enough to play.

textual-image's halfcell widget draws a still in the same way, through a Rich renderable that Textual splits
and crops again on every refresh: ~0.4 s a frame at 200x60, i.e. 2 frames a second. Here the lines are made
once per frame as Textual ``Strip`` objects, **in the decoding thread** (:func:`halfcell_strips`), so the
event loop only swaps them in: typing and polling are never held up by a playing video. Colours are taken
to 5 bits a channel, so neighbouring cells of nearly the same colour become one run (fewer bytes to the
terminal) and styles are reused from a bounded cache.

Pixel protocols (sixel, kitty) keep textual-image's widgets: the terminal draws those.
"""

from __future__ import annotations

from typing import Any

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

#: styles kept (one per pair of quantised colours seen); cleared when full
_STYLE_CACHE_SIZE = 65536
_styles: dict[bytes, Style] = {}
_MASK = 0xF8
_LUT = [v & _MASK for v in range(256)] * 3


def _style(key: bytes) -> Style:
    style = _styles.get(key)
    if style is None:
        if len(_styles) >= _STYLE_CACHE_SIZE:
            _styles.clear()
        style = Style(color=Color.from_rgb(key[0], key[1], key[2]), bgcolor=Color.from_rgb(key[3], key[4], key[5]))
        _styles[key] = style
    return style


def halfcell_strips(image: Any) -> list[Strip]:
    """The lines of ``image`` (PIL, RGB, one pixel per half cell: its width in cells, twice its height in
    rows) as Strips of ``▀`` runs. Runs in any thread (Rich styles and strips are immutable)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    width, height = rgb.size
    data = rgb.point(_LUT).tobytes()
    stride = width * 3
    strips = []
    for top_row in range(0, height, 2):
        top = data[top_row * stride:(top_row + 1) * stride]
        bottom_row = top_row + 1 if top_row + 1 < height else top_row
        bottom = data[bottom_row * stride:(bottom_row + 1) * stride]
        segments = []
        previous = b""
        run = 0
        for x in range(0, stride, 3):
            key = top[x:x + 3] + bottom[x:x + 3]
            if key == previous:
                run += 1
                continue
            if run:
                segments.append(Segment("▀" * run, _style(previous)))
            previous, run = key, 1
        if run:
            segments.append(Segment("▀" * run, _style(previous)))
        strips.append(Strip(segments, width))
    return strips


class HalfcellFrame(Widget):
    """Shows the Strips of one frame (``lines``); its size in cells is set by the viewer."""

    DEFAULT_CSS = "HalfcellFrame { width: auto; height: auto; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lines: list[Strip] = []

    def show(self, lines: list[Strip]) -> None:
        self.lines = lines
        self.refresh()

    def get_content_width(self, container: Any, viewport: Any) -> int:
        return self.lines[0].cell_length if self.lines else 0

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return len(self.lines)

    def render_line(self, y: int) -> Strip:
        if 0 <= y < len(self.lines):
            line = self.lines[y]
            width = self.size.width
            return line if line.cell_length == width else line.crop_extend(0, width, None)
        return Strip.blank(self.size.width)
