"""The ``?`` / F1 help screen: every key binding, generated from the bindings themselves.

Nothing here is hand-maintained: the rows come from the ``BINDINGS`` of the app, the main screen and
its widgets, with the user's keymap applied, so a new or remapped binding shows up by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from seedream_tui.tui.plain import plain_line


def binding_rows(
    app: App[Any], groups: Sequence[tuple[str, type[DOMNode]]]
) -> list[tuple[str, str, str, str]]:
    """(where, keys, what, binding id) for every described binding the given classes declare themselves."""
    keymap = getattr(app, "_keymap", {}) or {}
    rows: list[tuple[str, str, str, str]] = []
    for where, cls in groups:
        for binding in _own_bindings(cls):
            if not binding.description:
                continue
            keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
            shown = ", ".join(_display(app, Binding(k.strip(), binding.action)) for k in keys.split(","))
            text = binding.tooltip or binding.description
            rows.append((where, shown, text, binding.id or ""))
    palette = app.COMMAND_PALETTE_BINDING
    if app.ENABLE_COMMAND_PALETTE:
        rows.append(("Everywhere", _display(app, Binding(palette, "command_palette")), "Command palette", ""))
    return rows


def _own_bindings(cls: type[DOMNode]) -> Iterable[Binding]:
    declared: list[BindingType] = list(cls.__dict__.get("BINDINGS", []))
    return Binding.make_bindings(declared)


def _display(app: App[Any], binding: Binding) -> str:
    try:
        return app.get_key_display(binding)
    except Exception:  # a key Textual cannot display: show it as written
        return binding.key


class HelpScreen(ModalScreen[None]):
    """A table of bindings; escape, q, ? or F1 closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss_help", "Close", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen DataTable { height: auto; max-height: 1fr; }
    HelpScreen #help-hint { color: $text-muted; }
    """

    def __init__(self, rows: list[tuple[str, str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Keys"
            # the hint first: under a long table it was scrolled out of the box
            yield Static(
                "Keys work in plain xterm, tmux and over SSH. Remap one in settings.toml: [keymap] id = \"keys\". Esc closes.",
                id="help-hint",
                markup=False,
            )
            yield DataTable(cursor_type="row", zebra_stripes=True, id="help-table")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*(Text(label) for label in ("Where", "Keys", "Does", "Id (for [keymap])")))
        for row in self.rows:
            table.add_row(*(plain_line(cell) for cell in row))  # keys come from the user's keymap
        table.focus()

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
