"""What the app shows when the terminal is smaller than its layouts can use.

Squeezed below a few cells, Textual and Rich widgets fail (``range() arg 3 must not be zero`` when a text
area is 0 columns wide): a tmux pane split in two at 80 columns did that. Below :data:`MIN_SIZE` the app
puts this screen on top instead of drawing a layout; it goes away by itself once the window is large
enough again, and every screen underneath keeps its state.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.widgets import Static

from seedream_tui.tui.compat import OneLayoutPerResize

#: (columns, rows) every screen of the app is laid out for
MIN_SIZE = (40, 12)


def too_small(width: int, height: int) -> bool:
    return width < MIN_SIZE[0] or height < MIN_SIZE[1]


def larger_sentence(width: int, height: int) -> str:
    return (
        f"Make the window larger: seedream-tui needs {MIN_SIZE[0]}x{MIN_SIZE[1]}, this one is {width}x{height}.\n"
        "Ctrl+Q quits; live jobs resume next time."
    )


class TooSmallScreen(OneLayoutPerResize[None]):
    DEFAULT_CSS = """
    TooSmallScreen { align: center middle; }
    TooSmallScreen #too-small { width: 100%; height: auto; text-align: center; color: $warning; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static(larger_sentence(*self.app.size), id="too-small", markup=False)

    def on_resize(self, event: events.Resize) -> None:
        self.query_one("#too-small", Static).update(larger_sentence(*event.size))

    def on_screen_resume(self) -> None:
        # back on top (a screen above it closed) while the window has grown meanwhile
        if not too_small(*self.app.size):
            self.call_later(self.app.pop_screen)
