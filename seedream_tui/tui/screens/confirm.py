"""Small modal dialogs shared by the screens: a yes/no confirmation and a one-line prompt.

They return their answer through ``dismiss`` so callers use ``push_screen(..., callback)``
or ``push_screen_wait`` and never block the event loop waiting for the user. Their sentences wrap (a Label
is one line, cut at the box's edge: "…(created if" at 80x24); under :data:`SHORT_BELOW` rows the box loses
its padding and the buttons are one line, so the whole dialog fits at 40x12.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

#: under this many rows a dialog is drawn compact (no padding, one-line buttons)
SHORT_BELOW = 20


def fit_dialog(screen: ModalScreen[Any]) -> None:
    """Compact at small heights: the ``-short`` class and one-line buttons."""
    short = screen.app.size.height < SHORT_BELOW
    screen.set_class(short, "-short")
    for button in screen.query(Button):
        button.compact = short


class ConfirmScreen(ModalScreen[bool]):
    """Ask a yes/no question; ``y``/``enter`` on Yes answers True, ``n``/``escape`` answers False."""

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
    }
    ConfirmScreen > #confirm-box {
        width: 60;
        max-width: 95%;
        height: auto;
        max-height: 100%;
        overflow-y: auto;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    ConfirmScreen.-short > #confirm-box { padding: 0 1; }
    ConfirmScreen #confirm-message {
        width: 100%;
        height: auto;
        margin-bottom: 1;
    }
    ConfirmScreen #confirm-buttons {
        width: 100%;
        height: auto;
        align-horizontal: right;
    }
    ConfirmScreen Button {
        margin-left: 2;
    }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "Cancel", show=False),
    ]

    def __init__(self, message: str, *, yes_label: str = "Yes", no_label: str = "No") -> None:
        super().__init__()
        self.message = message
        self.yes_label = yes_label
        self.no_label = no_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.message, id="confirm-message", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.no_label} (n)", id="confirm-no")
                yield Button(f"{self.yes_label} (y)", id="confirm-yes", variant="warning")

    def on_mount(self) -> None:
        fit_dialog(self)
        # The safe answer has the focus: a stray enter never deletes anything.
        self.query_one("#confirm-no", Button).focus()

    def on_resize(self) -> None:
        fit_dialog(self)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(False)


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text (e.g. an export folder); dismisses with the text or None."""

    DEFAULT_CSS = """
    PromptScreen {
        align: center middle;
    }
    PromptScreen > #prompt-box {
        width: 72;
        max-width: 95%;
        height: auto;
        max-height: 100%;
        overflow-y: auto;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    PromptScreen.-short > #prompt-box { padding: 0 1; }
    PromptScreen #prompt-message { width: 100%; height: auto; }
    PromptScreen.-short #prompt-buttons { margin-top: 0; }
    PromptScreen #prompt-buttons {
        width: 100%;
        height: auto;
        align-horizontal: right;
        margin-top: 1;
    }
    PromptScreen Button {
        margin-left: 2;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, message: str, value: str = "", *, ok_label: str = "OK") -> None:
        super().__init__()
        self.message = message
        self.value = value
        self.ok_label = ok_label

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Static(self.message, id="prompt-message", markup=False)
            yield Input(self.value, id="prompt-input")
            with Horizontal(id="prompt-buttons"):
                yield Button("Cancel", id="prompt-cancel")
                yield Button(self.ok_label, id="prompt-ok", variant="primary")

    def on_mount(self) -> None:
        fit_dialog(self)
        self.query_one("#prompt-input", Input).focus()

    def on_resize(self) -> None:
        fit_dialog(self)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#prompt-input")
    @on(Button.Pressed, "#prompt-ok")
    def _ok(self) -> None:
        text = self.query_one("#prompt-input", Input).value.strip()
        if not text:
            self.notify("Type a value first, or press escape to cancel.", severity="warning")
            return
        self.dismiss(text)

    @on(Button.Pressed, "#prompt-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
