"""The ``?`` / F1 help screen: every key binding, generated from the bindings themselves.

Nothing here is hand-maintained: the rows come from the ``BINDINGS`` of the app, the main screen and
its widgets, with the user's keymap applied, so a new or remapped binding shows up by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from seedream_tui.safetext import visible


def binding_rows(
    app: App[Any], groups: Sequence[tuple[str, type[DOMNode]]]
) -> list[tuple[str, str, str, str]]:
    """(where, keys, what, binding id) for every described binding the given classes declare themselves."""
    keymap = _keymap(app)
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


#: the prompt editor's own keys, inherited from Textual's TextArea (not in our BINDINGS, so listed here);
#: not f6/f7, which the app takes (spend, attach a request)
EDITOR_ROWS: list[tuple[str, str, str, str]] = [
    ("Prompt editor", "^k", "Delete to the end of the line", ""),
    ("Prompt editor", "^u", "Delete to the start of the line", ""),
    ("Prompt editor", "^w", "Delete the word before the cursor", ""),
    ("Prompt editor", "^z, ^y", "Undo, redo", ""),
]


HEADERS = ("Where", "Keys", "Does", "Id (for [keymap])")


def merged_rows(rows: list[tuple[str, str, str, str]]) -> list[tuple[str, str, str, str]]:
    """One row per action: keys of the same action in the same place are listed together ("f1, ?")."""
    out: list[tuple[str, str, str, str]] = []
    for where, keys, does, ident in rows:
        if out and out[-1][0] == where and out[-1][2] == does and out[-1][3] == ident:
            known = out[-1][1].split(", ")
            shown = ", ".join([*known, *(k for k in keys.split(", ") if k not in known)])
            out[-1] = (where, shown, does, ident)
        else:
            out.append((where, keys, does, ident))
    return out


def _own_bindings(cls: type[DOMNode]) -> Iterable[Binding]:
    declared: list[BindingType] = list(cls.__dict__.get("BINDINGS", []))
    return Binding.make_bindings(declared)


def _keymap(app: App[Any]) -> dict[str, str]:
    """The user's ``[keymap]`` (settings.toml), which the app gave Textual (``set_keymap``) at start."""
    settings = getattr(getattr(app, "config", None), "settings", None)
    return dict(getattr(settings, "keymap", None) or {})


def _display(app: App[Any], binding: Binding) -> str:
    try:
        return app.get_key_display(binding)
    except Exception:  # a key Textual cannot display: show it as written
        return binding.key


class HelpTable(DataTable[object]):
    """The bindings, their descriptions wrapped (a row grows); Home and End go to the first and last row, as in
    the job lists (DataTable binds them to the first and last column, and ctrl+home/end rarely survive tmux)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "First row", show=False, id="rows-first"),
        Binding("end", "scroll_bottom", "Last row", show=False, id="rows-last"),
    ]


class HelpScreen(ModalScreen[None]):
    """A table of bindings; escape, q, ? or F1 closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss_help", "Close", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 100%; max-width: 160; height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen DataTable { height: 1fr; }
    HelpScreen #help-hint { height: auto; max-height: 35%; color: $text-muted; }  /* the keys first at 40x12 */
    """

    def __init__(self, rows: list[tuple[str, str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Keys"
            # the hint first: under a long table it was scrolled out of the box
            yield Static(
                "Keys work in plain xterm, tmux and over SSH. Remap one in settings.toml: [keymap] id = \"keys\". "
                "Copies (OSC 52) and desktop notices (OSC 9) go to the terminal; in tmux let them through with "
                "set -g set-clipboard on and set -g allow-passthrough on. Esc closes.",
                id="help-hint",
                markup=False,
            )
            yield HelpTable(cursor_type="row", zebra_stripes=True, id="help-table")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # below 120 columns the ids (for remapping) would push the descriptions off the screen: left out
        with_ids = self.app.size.width >= 120
        rows = merged_rows([*self.rows, *EDITOR_ROWS])
        widths = [max(len(header), *(len(row[i]) for row in rows)) for i, header in enumerate(HEADERS)]
        if not with_ids:
            widths = widths[:3]
        # the description takes the room left and wraps there (a row grows), so it is never cut
        room = self.app.size.width - 6 - sum(widths) + widths[2] - 2 * table.cell_padding * len(widths) - 2
        widths[2] = max(16, min(widths[2], room))
        for header, width in zip(HEADERS, widths, strict=False):
            table.add_column(Text(header), width=width)
        for row in rows:
            # keys come from the user's keymap: literal text, wrapped in its column
            table.add_row(*(Text(visible(cell)) for cell in row[: len(widths)]), height=None)
        table.focus()

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
