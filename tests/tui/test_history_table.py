"""The history table draws each cell exactly as DataTable would, and keeps its page's geometry.

:class:`HistoryTable` replaces DataTable's cell drawing with a shorter path (issue 13: a new page of
search results drawn within 50 ms at a million jobs); what the user sees must not change by one segment.
"""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.widgets import DataTable

from seedream_tui.tui.widgets.history_table import HistoryTable

ROWS: list[tuple[Any, ...]] = [
    (Text("●", style="bold yellow"), Text("1234567", justify="right"), "2026-11-29 12:00",
     Text("completed", style="green"), Text("seedream-5-lite"), Text("a red fox at dawn, watercolour")),
    (Text(""), Text("7", justify="right"), "[bold]not markup?[/bold]", Text("failed", style="bold red"),
     Text("a model name much longer than its column"), Text("狐狸在黎明时分的森林里奔跑，水彩画风格，细节丰富")),
    (Text(""), Text("12", justify="right"), "", Text("queued", style="yellow"), Text("x"),
     Text("a prompt that is far longer than the prompt column, so it is cut at the column's edge " * 3)),
    (Text(""), Text("3", justify="right"), "2026-01-01 00:00", Text("cancelled", style="dim"), Text(""),
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


class TableApp(App[None]):
    def __init__(self, table_class: type[DataTable[Any]] = HistoryTable) -> None:
        super().__init__()
        self.table_class = table_class

    def compose(self) -> ComposeResult:
        yield self.table_class(cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, width in (("mark", 1), ("id", 7), ("created", 16), ("status", 11), ("model", 16), ("prompt", 30)):
            table.add_column(key, key=key, width=width)
        for index, row in enumerate(ROWS):
            table.add_row(*row, key=str(index))


def datatable_cells(table: HistoryTable, *, cursor: bool, hover: bool) -> list[Any]:
    """Every body cell as DataTable's own ``_render_cell`` draws it (its cache emptied first)."""
    out = []
    for row in range(table.row_count):
        for column, shape in enumerate(table.ordered_columns):
            table._cell_render_cache.clear()
            out.append(DataTable._render_cell(table, row, column, table.rich_style, shape.get_render_width(table),
                                              cursor, hover))  # fmt: skip
    return out


def history_cells(table: HistoryTable, *, cursor: bool, hover: bool) -> list[Any]:
    out = []
    for row in range(table.row_count):
        for column, shape in enumerate(table.ordered_columns):
            table._cell_render_cache.clear()
            out.append(table._render_cell(row, column, table.rich_style, shape.get_render_width(table), cursor, hover))
    return out


@pytest.mark.parametrize(("cursor", "hover"), [(False, False), (True, False), (False, True), (True, True)])
async def test_cells_are_drawn_as_datatable_draws_them(cursor: bool, hover: bool) -> None:
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        table = app.query_one(HistoryTable)
        assert table.row_count == len(ROWS)
        expected = datatable_cells(table, cursor=cursor, hover=hover)
        drawn = history_cells(table, cursor=cursor, hover=hover)
        assert drawn == expected
        # the same text a user reads: the id right-aligned, a long prompt cut at its column
        ids = ["".join(segment.text for segment in cell[0]) for cell in drawn[1::6]]
        assert ids[0] == " 1234567 " and ids[1] == "       7 "


async def test_the_whole_table_draws_as_a_datatable_with_the_same_rows() -> None:
    """Line by line, after the cursor moved: the screen the user reads is DataTable's, to the segment."""
    lines: list[list[Any]] = []
    for app in (TableApp(HistoryTable), TableApp(DataTable)):
        async with app.run_test(size=(120, 20)) as pilot:
            await pilot.pause()
            table = app.query_one(DataTable)
            table.move_cursor(row=2)
            await pilot.pause()
            strips = table.render_lines(Region(0, 0, table.size.width, table.size.height))  # as a frame does
            lines.append([list(strip) for strip in strips])
    assert lines[0] == lines[1]


async def test_new_rows_set_the_scrollable_size_without_measuring_cells() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        table = app.query_one(HistoryTable)
        for index in range(len(ROWS), 50):
            table.add_row(*ROWS[index % len(ROWS)], key=str(index))
        await pilot.pause()
        width = sum(column.get_render_width(table) for column in table.columns.values())
        assert table.virtual_size.height == 50 + 1  # the header and one line a row
        assert table.virtual_size.width == width
        # only the headers were measured (when the columns were added), none of the cells
        assert {str(key.value): column.content_width for key, column in table.columns.items()} == {
            "mark": 4, "id": 2, "created": 7, "status": 6, "model": 5, "prompt": 6}
        table.move_cursor(row=49)
        await pilot.pause()
        assert table.cursor_coordinate == Coordinate(49, 0)
        assert table.scroll_offset.y > 0  # scrolled to the last row: the size allows it


async def test_the_job_table_draws_its_cells_as_datatable_draws_them() -> None:
    """The main screen's job table draws through the same path (each first frame, each tick of a live row)."""
    from seedream_tui.jobs.model import Job, JobStatus, OutputFile
    from seedream_tui.tui.widgets.job_table import JobTable

    now = 1_800_000_000.0

    class JobsApp(App[None]):
        def compose(self) -> ComposeResult:
            yield JobTable(clock=lambda: now)

    def job(job_id: int, status: JobStatus, prompt: str, **kw: Any) -> Job:
        return Job(id=job_id, model_id="m", inputs={"prompt": prompt, "resolution": "2048x2048"}, status=status,
                   created_at=now - 90, updated_at=now - 5, submitted_at=now - 80, **kw)

    jobs = [
        job(1, JobStatus.COMPLETED, "a red fox at dawn", finished_at=now - 20,
            outputs=[OutputFile(index=0, url="https://x/1.png", path=None)]),
        job(2, JobStatus.FAILED, "狐狸在黎明时分的森林里奔跑，水彩画风格", error="no", finished_at=now - 10),
        job(3, JobStatus.QUEUED, "queued " * 30, queue_position=2),
        job(4, JobStatus.RUNNING, "[bold]not markup[/bold]", started_at=now - 61),
        job(5, JobStatus.CANCELLED, "", finished_at=now - 1),
    ]
    app = JobsApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(JobTable)
        table.set_jobs(jobs)
        await pilot.pause()
        await pilot.pause()
        for cursor, hover in ((False, False), (True, False), (False, True)):
            assert history_cells(table, cursor=cursor, hover=hover) == datatable_cells(table, cursor=cursor, hover=hover)


async def test_plain_one_line_cells_take_the_short_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """One-line text cells (spans, tabs and centring included: Rich's own steps for those) never go through
    DataTable's general path; only a cell that is not one line of text would."""
    fallbacks: list[tuple[int, int]] = []
    original = DataTable._render_cell

    def counting(self: Any, row: int, column: int, *args: Any, **kwargs: Any) -> Any:
        fallbacks.append((row, column))
        return original(self, row, column, *args, **kwargs)

    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        table = app.query_one(HistoryTable)
        monkeypatch.setattr(DataTable, "_render_cell", counting)
        history_cells(table, cursor=False, hover=False)
    assert fallbacks == []
