"""The floor of ``bench_startup.py``: the main screen's stock widgets, and nothing of seedream-tui.

The same kinds and number of Textual widgets as seedream-tui's first frame (a TextArea, seven Selects,
Tabs, a 100-row DataTable with the job table's columns, a footer line) in the same layout, filled with
constant data, plus textual-image imported in half-cell mode with no terminal query. No history, no
HTTP client, no schema, no engine: what any app showing this screen pays in Python and Textual alone.
"""

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Select, Static, Tab, Tabs, TextArea

MARKER = "zq-newest-bench-job a red fox at dawn"


class WidgetsFloor(App[None]):
    BINDINGS = [("ctrl+q", "quit", "Quit")]
    CSS = """
    #compose { height: 12; }
    #prompt { width: 1fr; }
    #options { width: 44; }
    #results { height: 1fr; }
    #jobs { width: 1fr; }
    #preview { width: 60; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="compose"):
            yield TextArea("", id="prompt")
            with Vertical(id="options"):
                for i in range(7):
                    yield Select([(f"choice {j}", j) for j in range(6)], value=0, allow_blank=False, compact=True,
                                 id=f"select-{i}")
                yield Static("Focus a field to see its help.")
        yield Tabs(Tab("Jobs", id="tab-jobs"), Tab("Preview", id="tab-preview"))
        with Horizontal(id="results"):
            yield DataTable(id="jobs", cursor_type="row")
            yield Static("preview", id="preview")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in ("#", "Status", "Q", "Time", "Size", "Img", "Prompt"):
            table.add_column(column, key=column)
        for i in range(100, 0, -1):
            prompt = MARKER if i == 100 else f"prompt number {i} of a long list of prompts"
            table.add_row(str(i), "done", "", "12s", "4:3", "1", prompt, key=str(i))
        self.query_one(TextArea).focus()


if __name__ == "__main__":
    import sys

    real = sys.__stdout__

    class _NoTty:  # textual-image skips its terminal queries when stdout is not a tty
        def isatty(self) -> bool:
            return False

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

    sys.__stdout__ = _NoTty()  # type: ignore[assignment]
    try:
        import textual_image.widget  # noqa: F401  (the image library any previewing app loads)
    finally:
        sys.__stdout__ = real
    WidgetsFloor().run()
