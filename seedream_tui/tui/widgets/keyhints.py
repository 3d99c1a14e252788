"""A one-line footer of key hints, drawn as text.

Textual's ``Footer`` builds a widget per key and recomposes them on every bindings
change, which happens on every focus change and screen switch: opening the history
screen spent ~80 ms of its ~180 ms there (measured with bench/bench_history_screen.py).
This draws the same hints as one line of text; a click on a hint presses its key.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


class KeyHints(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"keyhints--key", "keyhints--description", "keyhints--disabled"}

    DEFAULT_CSS = """
    KeyHints {
        dock: bottom;
        height: 1;
        width: 1fr;
        background: $footer-background;
        color: $footer-foreground;
    }
    KeyHints > .keyhints--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
    KeyHints > .keyhints--description { color: $footer-description-foreground; }
    KeyHints > .keyhints--disabled { color: $text-disabled; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text()
        #: (first cell, end cell, key) of each hint, for clicks
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self._rebuild)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if screen is self.screen:
            self._rebuild()

    def _rebuild(self) -> None:
        key_style = self.get_component_rich_style("keyhints--key")
        description_style = self.get_component_rich_style("keyhints--description")
        disabled_style = self.get_component_rich_style("keyhints--disabled")
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        spans: list[tuple[int, int, str]] = []
        seen: set[str] = set()
        palette_key = self.app.COMMAND_PALETTE_BINDING
        palette: tuple[int, Any] | None = None
        for key, (_node, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            if key == palette_key and self.app.ENABLE_COMMAND_PALETTE:
                palette = (0, binding)
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            start = text.cell_len
            text.append(f" {self.app.get_key_display(binding)} ", style=key_style if enabled else disabled_style)
            text.append(f"{binding.description} ", style=description_style if enabled else disabled_style)
            spans.append((start, text.cell_len, key))
        if palette is not None:
            binding = palette[1]
            start = text.cell_len
            text.append(f" {self.app.get_key_display(binding)} ", style=key_style)
            text.append("palette ", style=description_style)
            spans.append((start, text.cell_len, palette_key))
        self._text, self._spans = text, spans
        self.refresh()

    def render(self) -> Text:
        return self._text

    def hints(self) -> str:
        """The hints as plain text (tests, help)."""
        return self._text.plain

    async def _on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                event.stop()
                self.app.simulate_key(key)
                return
