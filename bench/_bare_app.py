"""The baseline of ``bench_startup.py``: the smallest Textual app, one Label, nothing else."""

from textual.app import App, ComposeResult
from textual.widgets import Label


class Bare(App[None]):
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Label("bare-bench-ready")


if __name__ == "__main__":
    Bare().run()
