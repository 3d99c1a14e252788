"""``RowTable``: the job and history tables, a list of one-line rows with columns, on Textual's public Line API.

A :class:`~textual.scroll_view.ScrollView` that draws each line itself (``render_line``), as toolong's
log view does: a fixed header line, then one row per line, each cell one line of text cut to its column
(an ellipsis where the cell asks for one), the row under the cursor highlighted. It replaces a DataTable
subclass that overrode DataTable's private drawing methods and caches to be fast enough; here every step
is ours and public (``Strip``, Rich ``Segment`` s and ``Style`` s, component classes for the styling, the
same look as DataTable's):

* a row's line is drawn once and kept (per row: cursor, stripe, widths and styles it was drawn with), so
  a frame after a change draws the changed rows only;
* :meth:`update_cell` repaints one cell's region (``refresh(Region)``), nothing if it draws the same: a
  table that changes a few cells a second (elapsed times) sends the terminal those lines only. Textual
  writes a refreshed region from the widget's left edge to the region's end, so the cells that change
  most often belong at the left of the row (see ``job_table``);
* the rows are a list and a key → index map (rebuilt after a sort or a removal), so a new page of rows, a
  sort or a cursor move costs no measuring of every cell: a column is as wide as its widest value so far
  (``width=None``) or fixed, and :meth:`fit_column` gives one column the width the others leave.

Messages: :class:`RowTable.RowHighlighted` (the cursor moved to another row, or a first row came under it)
and :class:`RowTable.RowSelected` (enter, or a click on the cursor's row), with the row's index and key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from seedream_tui.tui.compat import SteadyScrollView


class RowDoesNotExist(KeyError):
    """No row has that key."""


class CellDoesNotExist(KeyError):
    """No such row, or no such column."""


@dataclass
class Column:
    """One column: its key, header label and width (the text's cells, without the padding)."""

    key: str
    label: Text
    #: fixed width, or None: as wide as the widest value (and the label) so far
    fixed: int | None = None
    content_width: int = 0

    @property
    def width(self) -> int:
        return self.fixed if self.fixed is not None else self.content_width

    @width.setter
    def width(self, value: int) -> None:
        self.fixed = value

    @property
    def auto_width(self) -> bool:
        return self.fixed is None


@dataclass
class Row:
    key: str
    cells: list[object] = field(default_factory=list)


def as_text(value: object) -> Text:
    """A cell's value as a Text: a ``str`` is literal text, never markup (text from outside comes as ``str``)."""
    if isinstance(value, Text):
        return value
    if isinstance(value, float):
        return Text(f"{value:.2f}")
    return Text(str(value))


def value_width(value: object) -> int:
    return value.cell_len if isinstance(value, Text) else cell_len(as_text(value).plain)


def same_cell(a: object, b: object) -> bool:
    """Whether two cell values draw the same (a ``Text``'s own ``==`` ignores its base style)."""
    if isinstance(a, Text) and isinstance(b, Text):
        return a.plain == b.plain and a.style == b.style and a.spans == b.spans and a.justify == b.justify
    return type(a) is type(b) and a == b


def cell_line(cell: Text, inner: int, console: Console) -> list[Segment]:
    """The cell's first line as segments exactly ``inner`` cells wide, as Rich would draw it unwrapped: cut
    (with "…" for ``overflow="ellipsis"``), right-justified or centred as the text says; styles not yet
    combined with the row's."""
    if inner <= 0:
        return []
    line = _plain_line(cell, inner, console)
    if line is None:
        text = cell.copy()
        if "\n" in text.plain:
            text = text.split("\n", include_separator=False)[0]
        text.end = ""
        text.expand_tabs()
        justify = cell.justify or "default"
        if justify == "right":
            text.rstrip()
        text.truncate(inner, overflow="ellipsis" if cell.overflow == "ellipsis" else "crop")
        spare = inner - text.cell_len
        if spare > 0 and justify == "right":
            text.pad_left(spare)
        elif spare > 0 and justify == "center":
            text.pad_left(spare // 2)
        line = list(text.render(console, end=""))
    return Segment.adjust_line_length(line, inner)


def _plain_line(cell: Text, inner: int, console: Console) -> list[Segment] | None:
    """The segments of a one-line cell without spans (the common case, quickly), or None."""
    plain = cell.plain
    justify = cell.justify or "default"
    if cell.spans or "\t" in plain or "\n" in plain or justify not in ("default", "left", "right"):
        return None
    if justify == "right":
        plain = plain.rstrip()
    if cell_len(plain) > inner:
        plain = set_cell_size(plain, inner - 1) + "…" if cell.overflow == "ellipsis" else set_cell_size(plain, inner)
    if justify == "right":
        plain = " " * (inner - cell_len(plain)) + plain
    if not cell.style:
        return [Segment(plain)]
    return [Segment(plain, console.get_style(cell.style))] if plain else []


_COLUMN_META: list[Style] = []


def _column_meta(index: int) -> Style:
    while len(_COLUMN_META) <= index:
        _COLUMN_META.append(Style.from_meta({"column": len(_COLUMN_META)}))
    return _COLUMN_META[index]


class RowTable(SteadyScrollView, can_focus=True):
    """A list of one-line rows with a fixed header and a row cursor (see the module's docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", show=False, id="rows-open"),
        Binding("up", "cursor_up", "Up", show=False, id="rows-up"),
        Binding("down", "cursor_down", "Down", show=False, id="rows-down"),
        Binding("pageup", "page_up", "Page up", show=False, id="rows-page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="rows-page-down"),
        Binding("home", "scroll_top", "First row", show=False, id="rows-first"),
        Binding("end", "scroll_bottom", "Last row", show=False, id="rows-last"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "row-table--header",
        "row-table--cursor",
        "row-table--even-row",
        "row-table--odd-row",
    }

    # DataTable's look, under our own class names
    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .row-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .row-table--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .row-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .row-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .row-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .row-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .row-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=False, repaint=False, init=False)

    #: columns drawn as one piece with the column before them when their styles are the same (fewer
    #: escape sequences when a region of them is repainted); others are pieces of their own (see ``_line``)
    JOINED_COLUMNS: ClassVar[frozenset[str]] = frozenset()

    class RowMessage(Message):
        """A message about one row: the table, the row's index and its key."""

        def __init__(self, table: RowTable, cursor_row: int, row_key: str) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self) -> RowTable:
            return self.table

    class RowHighlighted(RowMessage):
        """The cursor is on another row (or on a first row)."""

    class RowSelected(RowMessage):
        """Enter on a row, or a click on the cursor's row."""

    def __init__(
        self,
        *,
        zebra_stripes: bool = True,
        cell_padding: int = 1,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.zebra_stripes = zebra_stripes
        self.cell_padding = cell_padding
        self.columns: dict[str, Column] = {}
        self._rows: list[Row] = []
        self._index: dict[str, int] | None = {}
        self._column_index: dict[str, int] = {}
        #: each row's drawn line and what it was drawn with (see ``_row_strip``)
        self._drawn: dict[str, tuple[tuple[object, ...], Strip]] = {}
        #: moves when a column's width or the columns change: every drawn line is out of date
        self._layout = 0
        #: this frame's styles (``render_lines``) and the last frame's, to notice a restyle (focus, theme)
        self._styles: tuple[Style, ...] | None = None
        self._header: tuple[tuple[object, ...], Strip] | None = None

    # --- columns ------------------------------------------------------------------------------------------
    def add_column(self, label: str | Text, *, key: str | None = None, width: int | None = None) -> str:
        text = label.copy() if isinstance(label, Text) else Text(label)
        key = key if key is not None else text.plain
        self.columns[key] = Column(key, text, width, text.cell_len)
        self._column_index = {k: i for i, k in enumerate(self.columns)}
        for row in self._rows:
            row.cells.append("")
        self._layout_changed()
        return key

    def set_column_width(self, key: str, width: int) -> None:
        """A fixed width for column ``key`` (its cells are cut to it)."""
        column = self.columns.get(key)
        if column is not None and (column.fixed != width):
            column.fixed = width
            self._layout_changed()

    def fit_column(self, key: str, *, spare: int = 0, most: int | None = None, least: int = 12) -> None:
        """Give column ``key`` the width the other columns leave (less ``spare``, at most ``most``, at least
        ``least``), as a fixed width: the prompt column of the job and history tables, cut with "…"."""
        others = sum(self.render_width(c) for k, c in self.columns.items() if k != key)
        width = self.scrollable_content_region.width - others - 2 * self.cell_padding - spare
        width = max(least, width if most is None else min(most, width))
        self.set_column_width(key, width)

    def render_width(self, column: Column) -> int:
        """The cells a column takes, with its padding."""
        return column.width + 2 * self.cell_padding

    # --- rows ---------------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._rows)

    def _keys(self) -> dict[str, int]:
        if self._index is None:
            self._index = {row.key: i for i, row in enumerate(self._rows)}
        return self._index

    def add_row(self, *cells: object, key: str) -> str:
        """Append a row (its key must be new): drawn in the next frame if in view."""
        if key in self._keys():
            raise ValueError(f"a row with key {key!r} exists")
        values = list(cells[: len(self.columns)]) + [""] * (len(self.columns) - len(cells))
        self._rows.append(Row(key, values))
        if self._index is not None:
            self._index[key] = len(self._rows) - 1
        self._grow_columns(values)
        self._size_changed()
        self._refresh_index(len(self._rows) - 1)
        if len(self._rows) == 1:
            self._post_highlighted()
        return key

    def add_rows(self, rows: Iterable[tuple[str, Sequence[object]]]) -> None:
        """Append many rows at once (key, cells)."""
        for key, cells in rows:
            self.add_row(*cells, key=key)

    def remove_row(self, key: str) -> None:
        index = self.get_row_index(key)
        del self._rows[index]
        self._index = None
        self._drawn.pop(key, None)
        self._size_changed()
        self.refresh()
        if self.cursor_row >= len(self._rows) and self._rows:
            self.cursor_row = len(self._rows) - 1  # as DataTable: a message only if the cursor moves

    def clear(self, *, columns: bool = False) -> None:
        """Remove every row (and the columns too with ``columns=True``); the cursor goes to the top."""
        self._rows = []
        self._index = {}
        self._drawn.clear()
        if columns:
            self.columns = {}
            self._column_index = {}
            self._layout_changed()
        else:
            for column in self.columns.values():
                column.content_width = column.label.cell_len
        self.set_reactive(RowTable.cursor_row, 0)
        self._size_changed()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def sort(self, key: Callable[[Row], Any], *, reverse: bool = False) -> None:
        """Reorder the rows by ``key(row)``; the cursor stays at its index (move it yourself to keep a row)."""
        self._rows.sort(key=key, reverse=reverse)
        self._index = None
        self.refresh()

    def get_row_index(self, key: str) -> int:
        try:
            return self._keys()[key]
        except KeyError:
            raise RowDoesNotExist(key) from None

    def has_row(self, key: str) -> bool:
        return key in self._keys()

    def row_key_at(self, index: int) -> str:
        return self._rows[index].key

    def get_row_at(self, index: int) -> list[object]:
        return list(self._rows[index].cells)

    def get_row(self, key: str) -> list[object]:
        return list(self._rows[self.get_row_index(key)].cells)

    def get_cell(self, row_key: str, column_key: str) -> object:
        try:
            return self._rows[self.get_row_index(row_key)].cells[self._column_index[column_key]]
        except (RowDoesNotExist, KeyError):
            raise CellDoesNotExist((row_key, column_key)) from None

    @property
    def row_keys(self) -> list[str]:
        return [row.key for row in self._rows]

    def update_cell(self, row_key: str, column_key: str, value: object) -> bool:
        """Put ``value`` in one cell and repaint that cell's region alone; nothing if it draws the same.

        A value wider than an auto-width column widens the column (every line drawn again). Returns whether
        anything changed.
        """
        try:
            index = self.get_row_index(row_key)
            column_index = self._column_index[column_key]
        except (RowDoesNotExist, KeyError):
            raise CellDoesNotExist((row_key, column_key)) from None
        cells = self._rows[index].cells
        if same_cell(cells[column_index], value):
            return False
        cells[column_index] = value
        self._drawn.pop(row_key, None)
        column = self.columns[column_key]
        if column.auto_width and value_width(value) > column.content_width:
            column.content_width = value_width(value)
            self._layout_changed()
            return True
        y = index + 1 - round(self.scroll_y)  # the header is line 0
        if 1 <= y < self.size.height:
            x = sum(self.render_width(c) for c in list(self.columns.values())[:column_index]) - round(self.scroll_x)
            self.refresh(Region(x, y, self.render_width(column), 1))
        return True

    def refresh_row(self, index: int) -> None:
        """Repaint the line of row ``index`` (if in view)."""
        if 0 <= index < len(self._rows):
            self._drawn.pop(self._rows[index].key, None)
            self._refresh_index(index)

    def _refresh_index(self, index: int) -> None:
        y = index + 1 - round(self.scroll_y)  # the header is line 0
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def rows_in_view(self) -> range:
        """The indexes of the rows on screen."""
        top = round(self.scroll_y)
        return range(min(top, len(self._rows)), min(len(self._rows), top + max(0, self.size.height - 1)))

    def _grow_columns(self, values: list[object]) -> None:
        grew = False
        for column, value in zip(self.columns.values(), values, strict=False):
            if column.auto_width:
                width = value_width(value)
                if width > column.content_width:
                    column.content_width = width
                    grew = True
        if grew:
            self._layout_changed()

    def _layout_changed(self) -> None:
        self._layout += 1
        self._drawn.clear()
        self._size_changed()
        self.refresh()

    def _size_changed(self) -> None:
        width = sum(self.render_width(c) for c in self.columns.values())
        self.virtual_size = Size(width, len(self._rows) + 1)

    # --- cursor -------------------------------------------------------------------------------------------
    def validate_cursor_row(self, value: int) -> int:
        return max(0, min(value, len(self._rows) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh_row(old)
        self.refresh_row(new)
        self._scroll_cursor_into_view()
        self._post_highlighted()

    def _post_highlighted(self) -> None:
        if 0 <= self.cursor_row < len(self._rows):
            self.post_message(self.RowHighlighted(self, self.cursor_row, self._rows[self.cursor_row].key))

    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        """Put the cursor on row ``row`` (clamped), scrolled into view."""
        del animate  # never animated: a list that scrolls by itself is hard to read
        old = self.cursor_row
        self.cursor_row = row
        if scroll and self.cursor_row == old:
            self._scroll_cursor_into_view()

    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_y)
        page = self._page_height()
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + page:
            self.scroll_to(y=self.cursor_row - page + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_page_up(self) -> None:
        page = self._page_height()
        self.scroll_to(y=max(0, round(self.scroll_y) - page), animate=False, immediate=True)
        self.move_cursor(row=self.cursor_row - page)

    def action_page_down(self) -> None:
        page = self._page_height()
        self.scroll_to(y=round(self.scroll_y) + page, animate=False, immediate=True)
        self.move_cursor(row=self.cursor_row + page)

    def action_scroll_top(self) -> None:
        self.move_cursor(row=0)

    def action_scroll_bottom(self) -> None:
        self.move_cursor(row=len(self._rows) - 1)

    def action_select_cursor(self) -> None:
        if 0 <= self.cursor_row < len(self._rows):
            self.post_message(self.RowSelected(self, self.cursor_row, self._rows[self.cursor_row].key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return  # the header
        index = round(self.scroll_y) + offset.y - 1
        if not 0 <= index < len(self._rows):
            return
        event.stop()
        if index == self.cursor_row:
            self.action_select_cursor()
        else:
            self.move_cursor(row=index)

    # --- drawing ------------------------------------------------------------------------------------------
    def render_lines(self, crop: Region) -> list[Strip]:
        styles = (
            self.rich_style,
            self.get_component_styles("row-table--header").rich_style,
            self.get_component_styles("row-table--cursor").rich_style,
            self.get_component_styles("row-table--even-row").rich_style,
            self.get_component_styles("row-table--odd-row").rich_style,
        )
        if styles != self._styles:  # restyled (focus, theme): every line is drawn again
            self._styles = styles
            self._drawn.clear()
            self._header = None
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        if self._styles is None:  # render_line without render_lines (not done by Textual)
            self._styles = (self.rich_style,) * 5
        width = self.size.width
        scroll_x = round(self.scroll_x)
        if y == 0:
            return self._header_strip(width, scroll_x)
        index = round(self.scroll_y) + y - 1
        if not 0 <= index < len(self._rows):
            return Strip.blank(width, self._styles[0])
        return self._row_strip(index, width, scroll_x)

    def _header_strip(self, width: int, scroll_x: int) -> Strip:
        state = (width, scroll_x, self._layout)
        if self._header is not None and self._header[0] == state:
            return self._header[1]
        style = self._styles[1]  # type: ignore[index]
        strip = self._line([column.label for column in self.columns.values()], style, None, width, scroll_x)
        self._header = (state, strip)
        return strip

    def _row_strip(self, index: int, width: int, scroll_x: int) -> Strip:
        row = self._rows[index]
        cursor = index == self.cursor_row
        odd = index % 2 == 1
        state = (cursor, odd, width, scroll_x, self._layout)
        drawn = self._drawn.get(row.key)
        if drawn is not None and drawn[0] == state:
            return drawn[1]
        base, _header, cursor_style, even_style, odd_style = self._styles  # type: ignore[misc]
        row_style = (odd_style if odd else even_style) if self.zebra_stripes else base
        strip = self._line(row.cells, row_style, cursor_style if cursor else None, width, scroll_x)
        self._drawn[row.key] = (state, strip)
        return strip

    def _line(self, cells: Sequence[object], row_style: Style, cursor: Style | None, width: int, scroll_x: int) -> Strip:
        """One line: each cell padded and cut to its column, the rest of the width in the row's style.

        Styles as DataTable stacks them: the row's, the cursor's, the cell text's, then the cursor's colour
        over the text's (so a coloured status reads on the cursor's background).
        """
        console = self.app.console
        pre = row_style + cursor if cursor is not None else row_style
        post = Style(color=cursor.color) if cursor is not None and cursor.color is not None else None
        combined: dict[tuple[int, Style | None], Style] = {}
        pad = " " * self.cell_padding
        segments: list[Segment] = []
        piece = 0
        for index, (column, value) in enumerate(zip(self.columns.values(), cells, strict=False)):
            # the column in each cell's style (no effect on what the terminal gets): each cell stays a piece of
            # its own in an SVG screenshot, as DataTable's did (rsvg-convert drops the spaces that start a
            # piece: runs of cells merged into one were drawn shifted left); a joined column shares the piece
            # of the column before it
            if index and column.key not in self.JOINED_COLUMNS:
                piece += 1
            cell_pre = pre + _column_meta(piece)
            cell = [Segment(pad, cell_pre)] if pad else []
            for text, style, _control in cell_line(as_text(value), column.width, console):
                final = combined.get((piece, style))
                if final is None:
                    final = cell_pre + style if style else cell_pre
                    final = combined[(piece, style)] = final + post if post is not None else final
                cell.append(Segment(text, final))
            if pad:
                cell.append(Segment(pad, cell_pre))
            segments.extend(cell)
        strip = Strip(list(Segment.simplify(segments)))
        if scroll_x:
            strip = strip.crop(scroll_x, scroll_x + width)
        return strip.adjust_cell_length(width, pre)


__all__ = ["CellDoesNotExist", "Column", "Row", "RowDoesNotExist", "RowTable", "as_text", "same_cell"]
