"""A one-line footer of key hints, drawn as text.

Textual's ``Footer`` builds a widget per key and recomposes them on every bindings
change, which happens on every focus change and screen switch: opening the history
screen spent ~80 ms of its ~180 ms there (measured with bench/bench_history_screen.py).
This draws the same hints as text; a click on a hint presses its key. The line starts with the screen's
heading (its title: "History", "Job #12"), so every screen says where the user is without a row of its own
(where it would cost the keys a second line, it is left out: the screens' border titles still say where).

Every key must be visible in the footer, also at 80 columns over SSH, where a screen's hints can need
twice the width. So the hints are laid out to fit: the roomy form on one line when it fits, else a
compact form (no padding around the keys), wrapped at hint boundaries onto a second line if needed.

A screen where every row counts (the main screen: a second footer line is one job row fewer at 80x24) asks
for one line (``lines=1``) and names the hints it keeps, most wanted first (``keep``): where the compact
line is too long, the others go first, then the kept ones from the least wanted, Help never. Where two
lines are not enough either (the history at 60 columns), the last hints make room the same way (they were
cut off, Help with them). Every key is still listed in the help screen (``?``, F1), which the footer always
offers.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

#: narrower than this, the heading gives its room to the keys (and wider, it is left out when the keys would
#: need another line for it)
HEADING_MIN_WIDTH = 60
#: the help binding's id: a one-line footer never drops it (every dropped key is listed there)
HELP_ID = "help"
#: in a one-line footer's ``keep``: where the hints it does not name rank (the focused widget's own keys)
OTHERS = "*"


class KeyHints(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "keyhints--key", "keyhints--description", "keyhints--disabled", "keyhints--heading",
    }

    DEFAULT_CSS = """
    KeyHints {
        dock: bottom;
        height: auto;
        min-height: 1;
        max-height: 2;
        width: 1fr;
        background: $footer-background;
        color: $footer-foreground;
    }
    KeyHints > .keyhints--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
    KeyHints > .keyhints--description { color: $footer-description-foreground; }
    KeyHints > .keyhints--disabled { color: $text-disabled; }
    KeyHints > .keyhints--heading { color: $text; background: $primary-muted; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None, lines: int = 2, keep: tuple[str, ...] = ()) -> None:
        """``lines``: at most this many lines (1 or 2); ``keep``: with one line, the binding ids of the hints kept
        when not all fit, most wanted first, ``OTHERS`` where the hints it does not name rank (else after all);
        the palette goes first, Help never."""
        super().__init__(id=id)
        self.max_lines = max(1, min(2, lines))
        self.keep = keep
        self._text = Text()
        #: (line, first cell, end cell, key) of each hint, for clicks
        self._spans: list[tuple[int, int, int, str]] = []
        self._width = 0
        #: lines used at this width so far: the footer does not shrink back when the focus moves, so the
        #: screen's layout does not jump up and down a row at every focus change
        self._lines = 1

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self._rebuild)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def on_resize(self) -> None:
        if self.size.width != self._width:
            self._rebuild()

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if screen is self.screen:
            self._rebuild()

    def _items(self) -> list[tuple[str, str, bool, str]]:
        """(key as shown, description, enabled, key) of each hint in order, the palette last."""
        return [item for item, _ident in self._identified_items()]

    def _identified_items(self) -> list[tuple[tuple[str, str, bool, str], str]]:
        """Each hint with its binding's id ("" when it has none; the palette's: "command_palette")."""
        items: list[tuple[tuple[str, str, bool, str], str]] = []
        seen: set[str] = set()
        palette_key = self.app.COMMAND_PALETTE_BINDING
        palette: tuple[tuple[str, str, bool, str], str] | None = None
        for key, (_node, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            if key == palette_key and self.app.ENABLE_COMMAND_PALETTE:
                palette = ((self.app.get_key_display(binding), "palette", True, key), "command_palette")
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            items.append(((self.app.get_key_display(binding), binding.description, enabled, key), binding.id or ""))
        if palette is not None:
            items.append(palette)
        return items

    def _items_fitting(self, width: int) -> list[tuple[str, str, bool, str]]:
        """The hints that fit the footer's lines (compact) at ``width``, in their order: the least wanted left out
        first (``keep``; among equals the later ones), Help never."""
        identified = self._identified_items()
        wanted = {ident: rank for rank, ident in enumerate(self.keep)}
        others = wanted.get(OTHERS, len(self.keep))  # the focused widget's keys, unless placed in ``keep``

        def rank(ident: str) -> int:  # dropped from the highest rank: the palette first, Help never
            if ident == HELP_ID:
                return -1
            return len(self.keep) + 1 if ident == "command_palette" else wanted.get(ident, others)

        kept = list(range(len(identified)))
        while len(kept) > 1 and len(_fit([identified[n][0] for n in kept], width, compact=True)) > self.max_lines:
            # the least wanted; among equals the later one (the end of the line is the least looked at)
            drop = max(kept, key=lambda n: (rank(identified[n][1]), n))
            if rank(identified[drop][1]) < 0:
                break
            kept.remove(drop)
        return [identified[n][0] for n in kept]

    def heading(self) -> str:
        """The screen's heading (its title), or "" when it has none."""
        title = getattr(self.screen, "title", None) or ""
        return str(title)

    def _rebuild(self) -> None:
        styles = {
            "key": self.get_component_rich_style("keyhints--key"),
            "description": self.get_component_rich_style("keyhints--description"),
            "disabled": self.get_component_rich_style("keyhints--disabled"),
        }
        items = self._items()
        width = self.size.width or self.app.size.width
        if width != self._width:
            self._width, self._lines = width, 1
        lines = _fit(items, width, compact=False)
        if len(lines) > 1:
            lines = _fit(items, width, compact=True)
        if len(lines) > self.max_lines:  # too many even compact: the least wanted make room (all are in help)
            items = self._items_fitting(width)
            lines = _fit(items, width, compact=True)[: self.max_lines]
        heading = self.heading()
        head = f" {heading} " if heading and width >= HEADING_MIN_WIDTH else ""
        if head:
            # the heading only where it costs no line: at small sizes every row goes to the screen itself
            with_head = _fit(items, width, compact=False, used=cell_len(head))
            if len(with_head) > len(lines):
                with_head = _fit(items, width, compact=True, used=cell_len(head))
            if len(with_head) > len(lines):
                head = ""
            else:
                lines = with_head
        self._lines = max(self._lines, min(self.max_lines, len(lines)))
        lines += [[] for _ in range(self._lines - len(lines))]
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        spans: list[tuple[int, int, int, str]] = []
        for number, line in enumerate(lines[: self.max_lines]):
            if number:
                text.append("\n")
            cells = 0
            if number == 0 and head:
                text.append(head, style=self.get_component_rich_style("keyhints--heading"))
                cells = cell_len(head)
            for piece_key, piece_description, enabled, key in line:
                key_style = styles["key"] if enabled else styles["disabled"]
                description_style = styles["description"] if enabled else styles["disabled"]
                text.append(piece_key, style=key_style)
                text.append(piece_description, style=description_style)
                end = cells + cell_len(piece_key + piece_description)
                spans.append((number, cells, end, key))
                cells = end
        self._text, self._spans = text, spans
        # a layout pass only when the footer's height changes; measured, not remembered: a resize lays the footer
        # out with the old width's hints, which may wrap at the new width (two rows for a one-line footer)
        self.refresh(layout=self._lines != self.size.height)

    def render(self) -> Text:
        return self._text

    def hints(self) -> str:
        """The hints as plain text (tests, help)."""
        return self._text.plain

    def on_click(self, event: events.Click) -> None:
        event.prevent_default()  # not Widget's own click handling (text selection, @click links): hints only
        for line, start, end, key in self._spans:
            if line == event.y and start <= event.x < end:
                event.stop()
                self.app.simulate_key(key)
                return


def _fit(
    items: list[tuple[str, str, bool, str]], width: int, *, compact: bool, used: int = 0
) -> list[list[tuple[str, str, bool, str]]]:
    """The hints as drawn pieces, (key part, description part, enabled, key), on as many lines as needed
    for ``width``, breaking only between hints. Roomy: " ^s " "Submit "; compact: "^s" " Submit ".
    ``used``: cells of the first line taken before the hints (the heading)."""
    lines: list[list[tuple[str, str, bool, str]]] = [[]]
    for shown, description, enabled, key in items:
        piece = (shown, f" {description} ", enabled, key) if compact else (f" {shown} ", f"{description} ", enabled, key)
        size = cell_len(piece[0] + piece[1])
        if lines[-1] and used + size > width:
            lines.append([])
            used = 0
        lines[-1].append(piece)
        used += size
    return lines
