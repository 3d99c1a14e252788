"""The row table (Line API, public Textual only) draws what a DataTable with the same rows draws, and behaves as
the job and history tables need: cursor keys, messages, fixed header, fitted columns, one-cell repaints.

DataTable is the reference for the look (the tables were DataTables): every line of the screen is compared
character by character, each with its colours and attributes (DataTable's mouse metadata aside).
"""

from __future__ import annotations

from typing import Any

import pytest
from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable

from seedream_tui.tui.widgets.row_table import RowTable
from tests.tui.tui_support import wait_for

ROWS: list[tuple[Any, ...]] = [
    (Text("●", style="bold yellow"), Text("1234567", justify="right"), Text("2026-11-29 12:00"),
     Text("completed", style="green"), Text("seedream-5-lite"), Text("a red fox at dawn, watercolour")),
    (Text(""), Text("7", justify="right"), Text("[bold]not markup?[/bold]"), Text("failed", style="bold red"),
     Text("a model name much longer than its column"), Text("狐狸在黎明时分的森林里奔跑，水彩画风格，细节丰富")),
    (Text(""), Text("12", justify="right"), Text(""), Text("queued", style="yellow"), Text("x"),
     Text("a prompt that is far longer than the prompt column, so it is cut at the column's edge " * 3)),
    (Text(""), Text("3", justify="right"), Text("2026-01-01 00:00"), Text("cancelled", style="dim"), Text(""),
     Text.assemble(("styled ", "italic"), ("spans", "underline cyan"), " and plain")),
    (Text("", style="reverse"), Text("  88  ", justify="right", style="reverse"), Text("trailing      ", style="on red"),
     Text("x", style="none"), Text("狐狸狐狸狐狸狐狸狐狸", justify="left", style="bold"),
     Text("an ellipsis that does not fit in thirty cells at all", overflow="ellipsis")),
    (Text("centre", justify="center"), Text("123456789012", justify="right", style="green"),
     Text("2026-11-29 12:00 ", justify="left"), Text("狐狸狐狸狐狸"), Text("狐狸狐狸狐狸狐狸", style="cyan"),
     Text("   leading and trailing   ", justify="right")),
    # as plain_line makes them (the model and prompt cells): cut with an ellipsis
    (Text("", end=""), Text("99999999999", justify="right", overflow="ellipsis"),
     Text("狐狸狐狸狐狸狐狸狐狸狐狸", no_wrap=True, overflow="ellipsis", end=""),
     Text("a status far too long", style="bold red", no_wrap=True, overflow="ellipsis", end=""),
     Text("bytedance/seedream-4/text-to-image", no_wrap=True, overflow="ellipsis", end=""),
     Text("a prompt cut with an ellipsis at the edge of its column, as the history shows it", no_wrap=True,
          overflow="ellipsis", end="", justify="left")),
    (Text("\t"), Text("1", justify="right", overflow="ellipsis"), Text("exactly sixteen!", overflow="ellipsis"),
     Text("狐狸狐狸狐狸", overflow="ellipsis", style="italic"), Text("short", overflow="ellipsis", justify="left"),
     Text("a\ttab", overflow="ellipsis")),
]
WIDTHS = (("mark", 1), ("id", 7), ("created", 16), ("status", 11), ("model", 16), ("prompt", 30))


class TableApp(App[None]):
    def __init__(self, datatable: bool = False, rows: int = len(ROWS)) -> None:
        super().__init__()
        self.datatable = datatable
        self.rows = rows
        self.events: list[tuple[str, int, str]] = []

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row", zebra_stripes=True) if self.datatable else RowTable(id="t")

    def on_mount(self) -> None:
        table: Any = self.query_one(DataTable if self.datatable else RowTable)
        for key, width in WIDTHS:
            table.add_column(key, key=key, width=width)
        for index in range(self.rows):
            table.add_row(*ROWS[index % len(ROWS)], key=str(index))

    def on_row_table_row_highlighted(self, event: RowTable.RowHighlighted) -> None:
        self.events.append(("highlighted", event.cursor_row, event.row_key))

    def on_row_table_row_selected(self, event: RowTable.RowSelected) -> None:
        self.events.append(("selected", event.cursor_row, event.row_key))


def cells_of(strips: list[Strip]) -> list[list[tuple[str, Any]]]:
    """Each line as (character, style) pairs, mouse metadata left out: what the terminal shows."""
    lines = []
    for strip in strips:
        line = []
        for text, style, _ in Segment.simplify(list(strip)):
            plain = style.clear_meta_and_links() if style is not None else None
            line.extend((char, plain) for char in text)
        lines.append(line)
    return lines


async def screen_of(app: TableApp, cursor: int, *, focus: bool) -> list[list[tuple[str, Any]]]:
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        table: Any = app.query_one(DataTable if app.datatable else RowTable)
        if focus:
            table.focus()
        else:
            app.set_focus(None)
        table.move_cursor(row=cursor)
        await pilot.pause()
        return cells_of(table.render_lines(Region(0, 0, table.size.width, table.size.height)))


@pytest.mark.parametrize(("cursor", "focus"), [(0, True), (2, True), (5, False)])
async def test_the_table_draws_what_a_datatable_with_the_same_rows_draws(cursor: int, focus: bool) -> None:
    """Line by line and character by character, each with its style: header, stripes, cursor (focused or
    not), right-aligned ids, cut prompts, ellipses, double-width text, spans, tabs, centring."""
    ours = await screen_of(TableApp(), cursor, focus=focus)
    theirs = await screen_of(TableApp(datatable=True), cursor, focus=focus)
    assert len(ours) == len(theirs)
    for number, (mine, reference) in enumerate(zip(ours, theirs, strict=True)):
        assert mine == reference, f"line {number}"
    assert "".join(char for char, _ in ours[1]).startswith(" ●  1234567  2026-11-29 12:00 ")


async def test_keys_move_the_cursor_and_post_what_the_screens_listen_to() -> None:
    app = TableApp(rows=100)
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(RowTable)
        table.focus()
        await pilot.pause()
        assert app.events[:1] == [("highlighted", 0, "0")]  # the first row came under the cursor
        await pilot.press("down", "down")
        assert table.cursor_row == 2 and app.events[-1] == ("highlighted", 2, "2")
        await pilot.press("end")
        assert table.cursor_row == 99
        assert table.scroll_offset.y == 100 + 1 - table.size.height  # the last row on the last line
        await pilot.press("home")
        assert table.cursor_row == 0 and table.scroll_offset.y == 0
        await pilot.press("pagedown")
        page = table.size.height - 1  # the header stays
        assert table.cursor_row == page and table.scroll_offset.y == page
        await pilot.press("pageup")
        assert table.cursor_row == 0
        await pilot.press("up")
        assert table.cursor_row == 0  # clamped
        await pilot.press("enter")
        assert app.events[-1] == ("selected", 0, "0")
        await pilot.click(RowTable, offset=(5, 4))  # the header is line 0: row 3
        assert table.cursor_row == 3 and app.events[-1] == ("highlighted", 3, "3")
        await pilot.click(RowTable, offset=(5, 4))  # a click on the cursor's row opens it
        assert app.events[-1] == ("selected", 3, "3")


async def test_the_header_stays_while_rows_scroll() -> None:
    app = TableApp(rows=100)
    async with app.run_test(size=(120, 10)) as pilot:
        table = app.query_one(RowTable)
        table.move_cursor(row=50)
        await pilot.pause()
        lines = table.render_lines(Region(0, 0, table.size.width, table.size.height))
        assert lines[0].text.split() == ["m", "id", "created", "status", "model", "prompt"]  # "mark" cut to its column
        assert lines[-1].text.split()[0] == "12"  # row 50 (ROWS[2], id 12) on the last line
        assert table.rows_in_view() == range(50 - table.size.height + 2, 51)


async def test_rows_come_and_go_with_their_keys() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(RowTable)
        await pilot.pause()
        assert table.row_count == len(ROWS) and table.virtual_size.height == len(ROWS) + 1
        assert table.virtual_size.width == sum(w + 2 for _, w in WIDTHS)
        table.move_cursor(row=3)
        table.remove_row("1")
        assert table.row_count == len(ROWS) - 1 and not table.has_row("1")
        assert table.row_key_at(1) == "2" and table.get_row_index("3") == 2
        table.sort(key=lambda row: int(row.key), reverse=True)
        assert table.row_keys[:2] == [str(len(ROWS) - 1), str(len(ROWS) - 2)]
        assert table.get_cell("0", "status").plain == "completed"  # type: ignore[attr-defined]
        table.clear()
        assert table.row_count == 0 and table.cursor_row == 0
        assert list(table.columns) == [key for key, _ in WIDTHS]


async def test_auto_width_columns_fit_their_widest_value_and_a_fitted_column_takes_the_rest() -> None:
    class Auto(App[None]):
        def compose(self) -> ComposeResult:
            yield RowTable()

    app = Auto()
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(RowTable)
        table.add_column("#", key="id")
        table.add_column("Status", key="status")
        table.add_column("Prompt", key="prompt")
        table.add_row(7, Text("queued"), "p", key="7")
        await pilot.pause()
        assert (table.columns["id"].width, table.columns["status"].width) == (1, 6)
        table.update_cell("7", "status", Text("downloading"))
        assert table.columns["status"].width == len("downloading")
        table.fit_column("prompt", spare=2)
        # 60 columns: 3 (id) + 13 (status) + the prompt's padding 2 + spare 2 leave 40
        assert table.columns["prompt"].width == 60 - 3 - 13 - 2 - 2
        table.update_cell("7", "prompt", Text("a long prompt " * 10, overflow="ellipsis"))
        await pilot.pause()
        line = table.render_lines(Region(0, 1, table.size.width, 1))[0].text
        assert line.rstrip().endswith("…") and len(line) == 60


async def test_a_changed_cell_repaints_its_region_only_and_an_unchanged_one_nothing() -> None:
    """What a tick costs the terminal: the changed cell's region, not the row nor the table."""
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(RowTable)
        await pilot.pause()
        await pilot.pause()
        asked: list[tuple[Region, ...]] = []
        original = table.refresh

        def spy(*regions: Region, **kwargs: Any) -> Any:
            asked.append(regions)
            return original(*regions, **kwargs)

        table.refresh = spy  # type: ignore[method-assign]
        assert not table.update_cell("2", "status", Text("queued", style="yellow"))  # draws the same
        assert asked == []
        assert table.update_cell("2", "status", Text("running", style="bold cyan"))
        # the status column starts after mark (3) + id (9) + created (18), 13 wide; row 2 is line 3
        assert asked == [(Region(30, 3, 13, 1),)]
        await wait_for(lambda: "running" in table.render_lines(Region(0, 3, 120, 1))[0].text, what="the new text")
