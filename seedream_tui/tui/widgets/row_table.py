"""``RowTable``: the DataTable of the job and history tables, a list of whole one-line rows that draws fast.

DataTable draws a cell through Rich's general path (``Styled(Padding(cell))`` rendered by the console:
option copies, measuring, wrapping, line splitting), ~35 µs a cell: ~10 ms for the 45 rows of a 200x50
window, each page of the history and each first frame, and per changed line while jobs tick. A
:class:`RowTable` draws a one-line cell with the same Rich steps minus the general machinery (the same
segments: ``tests/tui/test_history_table.py`` checks them against DataTable's own), and looks up the
table's style and its rows' styles once a frame rather than once a line. Anything else (spans, tabs,
centred text, taller rows) is drawn by DataTable itself. It overrides private DataTable methods (Textual
8.2): the tests above fail first if a Textual release changes them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._types import SegmentLines
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable


class RowTable(DataTable[object]):
    """A DataTable of whole rows, where Home and End go to the first and last row.

    DataTable binds them to the leftmost and rightmost column (its first and last row are on ctrl+home and
    ctrl+end, which tmux and many terminals do not pass on); a list of jobs has no columns to visit.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "First row", show=False, id="rows-first"),
        Binding("end", "scroll_bottom", "Last row", show=False, id="rows-last"),
    ]

    #: within one ``render_lines`` (one frame), the table's style and its rows' styles: DataTable looks them
    #: up per line (walking the ancestors' backgrounds each time), though nothing can restyle mid-frame
    _frame_style: Style | None = None
    _frame_row_styles: dict[tuple[int, Style], Style] | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._frame_style, self._frame_row_styles = super().rich_style, {}
        try:
            return super().render_lines(crop)
        finally:
            self._frame_style = self._frame_row_styles = None

    @property
    def rich_style(self) -> Style:
        return self._frame_style if self._frame_style is not None else super().rich_style

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        memo = self._frame_row_styles
        if memo is None or row_index < self.fixed_rows:
            return super()._get_row_style(row_index, base_style)
        key = (row_index % 2, base_style)
        style = memo.get(key)
        if style is None:
            style = memo[key] = super()._get_row_style(row_index, base_style)
        return style

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        inner = width - 2 * self.cell_padding
        if row_index < self.fixed_rows or column_index < self.fixed_columns or inner < 1:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)  # header, labels
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        row = self.rows.get(row_key) if row_key is not None else None
        if row is None or row.height != 1 or column_key is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        assert row_key is not None
        # DataTable's own cache and key: its invalidation (update count, pseudo classes) holds for these too
        key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor, self._update_count,
               self._pseudo_class_state)  # fmt: skip
        cached = self._cell_render_cache.get(key)
        if cached is not None:
            return cached
        cell = self._get_row_renderables(row_index).cells[column_index]
        if not isinstance(cell, Text) or "\n" in cell.plain:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css",
        )  # fmt: skip
        # DataTable adds the cell's meta (row and column, for the mouse) first; added last, the sums before it
        # repeat from cell to cell (Rich caches them), and the segments of one style share one sum with it
        meta = Style.from_meta({"row": row_index, "column": column_index})
        pre = base_style + component_style
        with_meta: dict[Style | None, Style] = {}
        line = []
        for text, style, _control in self._cell_line(cell, inner):  # no control codes in a cell's text
            combined = with_meta.get(style)
            if combined is None:
                plain = pre + style if style else pre
                combined = with_meta[style] = (plain + post_style if post_style else plain) + meta
            line.append(Segment(text, combined))
        lines = [line]
        self._cell_render_cache[key] = lines
        return lines

    def _cell_line(self, cell: Text, inner: int) -> list[Segment]:
        """``Padding(cell, (0, p))`` at ``inner + 2p`` cells on one line, as Rich renders it (no wrapping)."""
        console = self.app.console
        blank = console.get_style("none")  # Padding's style
        line = _plain_line(cell, inner, console)  # the app's console options set no justify nor overflow
        if line is None:  # spans, tabs, centred: Rich's own steps
            options = self.app.console_options.update(width=inner, height=1, no_wrap=True)
            line = next(iter(Segment.split_and_crop_lines(cell.__rich_console__(console, options), inner,
                                                          include_new_lines=False, pad=True, style=blank)), [])  # fmt: skip
        line = Segment.adjust_line_length(line, inner, style=blank)
        pad = self.cell_padding
        return [Segment(" " * pad, blank), *line, Segment(" " * pad, blank)] if pad else line


def _plain_line(cell: Text, inner: int, console: Any) -> list[Segment] | None:
    """The segments Rich makes of a one-line cell without spans (before cropping to ``inner``), or None.

    What ``Text.wrap`` does for such a cell, step by step: "right" strips, cuts and pads on the left (inside
    the text, so in its style), "left" cuts and pads inside the text, the default only cuts; a cut ends in
    "…" when the cell says ``overflow="ellipsis"`` (``plain_line``'s cells). Its style becomes one span:
    none for an empty text, none without a style.
    """
    plain = cell.plain
    justify = cell.justify or "default"
    overflow = cell.overflow or "fold"
    if cell.spans or "\t" in plain or overflow not in ("fold", "crop", "ellipsis"):
        return None

    def cut(text: str) -> str:
        if cell_len(text) <= inner:
            return text
        return set_cell_size(text, inner - 1) + "…" if overflow == "ellipsis" else set_cell_size(text, inner)

    if justify == "right":
        plain = cut(plain.rstrip())
        plain = " " * (inner - cell_len(plain)) + plain
    elif justify == "left":
        plain = cut(plain)
        plain += " " * (inner - cell_len(plain))
    elif justify == "default":
        plain = cut(plain)
    else:
        return None
    if not cell.style:
        return [Segment(plain)]
    return [Segment(plain, console.get_style(cell.style))] if plain else []
