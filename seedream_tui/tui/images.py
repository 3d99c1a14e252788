"""Choosing how images are drawn in the terminal.

textual-image decides its render mode when it is first imported, by querying the terminal; once Textual runs,
those queries no longer work. So the mode is settled here, once, before the app starts: :func:`configure`
asks the terminal in one round trip (:mod:`termprobe`), imports textual-image without its own slower
queries (filling its cell-size cache with the answer), and remembers the mode; :func:`image_widget_class`
hands out the widget class for it. ``off`` means no image widget at all (the preview shows a text placeholder).

textual-image's widget module (its renderers and Pillow, ~15 ms) is imported on the first image widget, or
by :func:`warm_up` right after the first frame, which shows none: nothing it does at import depends on the
terminal any more once the mode and cell size are settled here, before the app runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from textual.widget import Widget

from seedream_tui.tui import termprobe
from seedream_tui.tui.termprobe import TerminalInfo

MODES = ("auto", "tgp", "sixel", "halfcell", "unicode", "off")

_widget_class: type[Widget] | None = None
_mode: str = "off"
_coarse: bool = False
#: the mode the user asked for ("auto" unless forced): shown next to what auto chose
_requested: str = "off"


def resolve_mode(requested: str | None, setting: str | None, env: Mapping[str, str] | None = None) -> str:
    """The mode to use: ``--image-mode`` beats the setting beats ``auto``.

    ``auto`` becomes ``halfcell`` inside tmux or over SSH (graphics protocols rarely survive either and sixel
    over a slow link is painful); elsewhere it stays ``auto`` and textual-image's own detection decides.
    """
    env = os.environ if env is None else env
    for choice in (requested, setting):
        if choice and choice != "auto":
            if choice not in MODES:
                raise ValueError(f"Unknown image mode {choice!r}: use one of {', '.join(MODES)}.")
            return choice
    if env.get("TMUX") or env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return "halfcell"
    return "auto"


class _NotATty:
    """Stands in for ``sys.__stdout__`` while textual-image is imported, so it skips its terminal queries."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@contextmanager
def _no_terminal_queries() -> Iterator[None]:
    """While textual-image is imported (its renderable detection and the widget module's cell-size query)."""
    real = sys.__stdout__
    sys.__stdout__ = _NotATty(real)  # type: ignore[misc,assignment]
    try:
        yield
    finally:
        sys.__stdout__ = real  # type: ignore[misc]


def configure(mode: str, *, terminal: TerminalInfo | None = None, requested: str | None = None) -> str:
    """Import textual-image for ``mode`` (a resolved mode) and remember the widget class. Returns the mode used.

    textual-image's own import-time detection is never run: :mod:`termprobe` asks the terminal once
    (``terminal``, probed here when not given) and the answer picks the mode for ``auto`` and gives
    textual-image the cell size, so sixel and kitty images are sized right even when the mode is forced.
    """
    global _widget_class, _mode, _coarse, _requested
    _requested = requested or mode
    if mode == "off":
        _widget_class, _mode, _coarse = None, "off", False
        return _mode
    if terminal is None:
        if mode in ("auto", "sixel", "tgp"):
            terminal = termprobe.probe(graphics=mode == "auto")
        else:  # character cells: the free ioctl answer is enough, no round trip
            terminal = TerminalInfo(cell_px=termprobe.ioctl_cell_px(sys.__stdout__))
    if mode == "auto":
        tty = sys.__stdout__ is not None and sys.__stdout__.isatty()
        mode = terminal.best_mode() if tty else "unicode"
    if terminal.cell_px is not None:  # spares textual-image its own query (a cell size it has is kept)
        from seedream_tui.tui import compat

        compat.set_image_cell_size(*terminal.cell_px)
    _widget_class, _mode = None, mode
    _coarse = mode in ("halfcell", "unicode")
    return _mode


def enabled() -> bool:
    """True when images are drawn (a mode other than ``off`` was configured)."""
    return _mode != "off"


def image_widget_class() -> type[Widget] | None:
    """The image widget class of the configured mode (its module imported on first use), or None when images
    are off (or not configured)."""
    global _widget_class
    if _mode == "off":
        return None
    if _widget_class is None:
        from seedream_tui.tui import compat

        with _no_terminal_queries():
            from textual_image import widget as tiw
        classes: dict[str, Any] = {
            "tgp": tiw.TGPImage,
            "sixel": tiw.SixelImage,
            "halfcell": tiw.HalfcellImage,
            "unicode": tiw.UnicodeImage,
        }
        _widget_class = compat.steady_image_class(classes[_mode])
    return _widget_class


def warm_up() -> None:
    """Import the image widget now (after the first frame), so the first preview does not wait for it."""
    image_widget_class()


def current_mode() -> str:
    return _mode


def chosen_by_auto() -> str | None:
    """The mode "auto" chose (for settings, the preview title and the log), or None when a mode was forced."""
    return _mode if _requested == "auto" else None


def mode_label() -> str:
    """``halfcell`` when forced, ``auto: halfcell`` when auto chose it."""
    auto = chosen_by_auto()
    return f"auto: {auto}" if auto is not None else _mode


def coarse() -> bool:
    """True when images are drawn with character cells (halfcell/unicode): a few pixels per cell are enough,
    so a small thumbnail can stand in for the full image (see ``thumbs.load_preview``)."""
    return _coarse


def wipe_graphics(app: Any) -> bool:
    """After a screen that drew sixel images closes: erase the terminal and draw everything again.

    A sixel image is pixels on the terminal, not characters: Textual's next frame writes only the cells it
    thinks changed, and xterm (``-ti vt340``) kept fragments of the image wherever the screen below had
    the same cells as before, or where the picture reached into a cell row it does not own. Erasing the
    display drops every sixel pixel; the full repaint that follows redraws the screen now showing.
    Returns True when it wiped (sixel mode and a driver to write to).
    """
    if _mode != "sixel":
        return False
    from seedream_tui.tui import compat

    if not compat.write_to_terminal(app, "\x1b[2J", flush=True):  # erase the whole display (sixel pixels with it)
        return False
    app.refresh(repaint=True)  # the next frame writes every cell
    return True


def hidden_image_widget(**kwargs: Any) -> Widget | None:
    """A new image widget of the chosen mode, hidden until it has a picture; None when images are off."""
    widget_class = image_widget_class()
    if widget_class is None:
        return None
    widget = widget_class(**kwargs)
    widget.display = False
    return widget
