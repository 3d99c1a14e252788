"""The baseline of ``bench_output.py``: a bare Textual app with one focused TextArea (a cursor that blinks)."""

from textual.app import App, ComposeResult
from textual.widgets import Label, TextArea


class BareTextArea(App[None]):
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Label("bare-textarea-ready")
        yield TextArea()


if __name__ == "__main__":
    BareTextArea().run()
