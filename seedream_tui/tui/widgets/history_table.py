"""The history screen's table: a :class:`RowTable` that takes a new page of one-line rows quickly.

Each search replaces the rows, so every visible cell is drawn anew (fast: see ``row_table``), and on the
first idle after new rows DataTable measures every cell of them for column widths the history's fixed-width
columns never use (~10 ms a page): :class:`HistoryTable` skips that measuring while no column is auto-width,
no row auto-height and no row labelled.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.geometry import Size
from textual.message import Message

from seedream_tui.tui.widgets.row_table import RowTable


class HistoryTable(RowTable):
    """A :class:`RowTable` of one-line, fixed-width cells (see the module's docstring for why)."""

    class Resized(Message):
        """The table's size changed: a column that takes the width the others leave is fitted again."""

    def on_resize(self, event: events.Resize) -> None:
        self.post_message(self.Resized())

    def _update_dimensions(self, new_rows: Any) -> None:
        """Skip DataTable's measuring of every new cell when nothing is sized by its content."""
        if any(column.auto_width for column in self.columns.values()) or any(
            (row := self.rows.get(key)) is not None and (row.auto_height or row.label is not None) for key in new_rows
        ):
            super()._update_dimensions(new_rows)
            return
        header_height = self.header_height if self.show_header else 0
        width = sum(column.get_render_width(self) for column in self.columns.values()) + self._row_label_column_width
        self.virtual_size = Size(width, self._total_row_height + header_height)


__all__ = ["HistoryTable"]
