"""The history screen's table: a :class:`RowTable` that says when its size changed (the prompt column is
fitted to the width the others leave)."""

from __future__ import annotations

from textual import events
from textual.message import Message

from seedream_tui.tui.widgets.row_table import RowTable


class HistoryTable(RowTable):
    """The history's rows (fixed-width columns but the fitted prompt)."""

    class Resized(Message):
        """The table's size changed: a column that takes the width the others leave is fitted again."""

    def on_resize(self, event: events.Resize) -> None:
        self.post_message(self.Resized())


__all__ = ["HistoryTable"]
