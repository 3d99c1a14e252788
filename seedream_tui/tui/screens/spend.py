"""The spend view (F6): what the jobs cost today, this week and in all, by model and by day.

The sums are RunComfy's reported costs (``/result?include_cost=true``) kept per job in the history;
jobs whose cost never came are not guessed at. The arithmetic is ``seedream_tui.jobs.spend`` (no Textual).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from seedream_tui.jobs.spend import (
    OUT_OF_RANGE_SENTENCE,
    SpendGroup,
    group_spend,
    in_range,
    summarize,
    usd_text,
)
from seedream_tui.tui.compat import OneLayoutPerResize
from seedream_tui.tui.widgets.keyhints import KeyHints
from seedream_tui.tui.widgets.row_table import RowTable

if TYPE_CHECKING:
    from seedream_tui.jobs.service import Core

#: days listed in the by-day table (newest first)
DAYS_SHOWN = 31


class SpendScreen(OneLayoutPerResize[None]):
    DEFAULT_CSS = """
    SpendScreen { layout: vertical; }
    SpendScreen #spend-totals { height: auto; padding: 0 1; border: round $primary-background-lighten-2; }
    SpendScreen #spend-tables { height: 1fr; min-height: 4; }
    SpendScreen #spend-tables > Vertical { width: 1fr; min-width: 20; border: round $primary-background-lighten-2; }
    SpendScreen RowTable { height: 1fr; }
    SpendScreen.-narrow #spend-tables { layout: vertical; overflow-y: auto; }
    SpendScreen.-narrow #spend-tables > Vertical { min-height: 5; }  /* a row each at 40x12, the rest scrolls */
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="spend-close"),
        Binding("f5", "reload", "Reload", id="spend-reload", tooltip="Sum the costs again"),
    ]

    def __init__(self, core: Core) -> None:
        super().__init__(id="spend")
        self.core = core

    def compose(self) -> ComposeResult:
        self.set_class(self.app.size.width < 90, "-narrow")
        yield Static("Adding up the costs…", id="spend-totals", markup=False)
        with Horizontal(id="spend-tables"):
            with Vertical(id="spend-by-model-box"):
                yield RowTable(id="spend-by-model")
            with Vertical(id="spend-by-day-box"):
                yield RowTable(id="spend-by-day")
        yield KeyHints()

    def on_mount(self) -> None:
        self.title = "Spend"
        self.query_one("#spend-totals").border_title = (
            "DEMO spend (the demo server's prices: nothing was charged)" if self.core.demo
            else "Spend (costs RunComfy reported)"
        )
        self.query_one("#spend-by-model-box").border_title = "By model"
        self.query_one("#spend-by-day-box").border_title = "By day"
        for table_id, first in (("#spend-by-model", "Model"), ("#spend-by-day", "Day")):
            table = self.query_one(table_id, RowTable)
            table.add_column(first, key="key")
            table.add_column("Jobs", key="jobs")
            table.add_column("Cost", key="usd")
        self._load()

    def on_resize(self) -> None:
        self.set_class(self.size.width < 90, "-narrow")
        self.call_after_refresh(self._fit_keys)

    def _fit_keys(self) -> None:
        """The first column (a model id, a day) as wide as its longest key or as the counts leave: at 40 columns
        a model id pushed the jobs and the cost off the right edge."""
        for table in self.query(RowTable):
            width = table.scrollable_content_region.width
            if "key" not in table.columns or not width:
                continue
            widths = [
                max([cell_len(str(col.label)), *(cell_len(str(row[n])) for row in map(table.get_row_at, range(table.row_count)))])
                for n, col in enumerate(table.columns.values())
            ]  # fmt: skip
            others = sum(widths[1:]) + 2 * table.cell_padding * len(widths)
            fitted = max(8, min(widths[0], width - others - 2))  # and a scrollbar's columns
            table.set_column_width("key", fitted)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self._load()

    @work(group="spend-load", exclusive=True)
    async def _load(self) -> None:
        rows = await self.core.history.cost_rows()
        summary = summarize(rows)
        lines = [_line(group) for group in (summary.today, summary.week, summary.all_time)]
        if not rows:
            lines = ["No costs recorded yet: RunComfy reports a job's cost when it finishes."]
        elif not in_range(summary.all_time.usd) or not all(in_range(g.usd) for g in summary.by_model):
            lines.append(OUT_OF_RANGE_SENTENCE)
        self.query_one("#spend-totals", Static).update(Text("\n".join(lines)))
        self._fill("#spend-by-model", summary.by_model)
        self._fill("#spend-by-day", list(reversed(group_spend(rows, by="day")))[:DAYS_SHOWN])

    def _fill(self, table_id: str, groups: list[SpendGroup]) -> None:
        table = self.query_one(table_id, RowTable)
        table.clear()
        for index, group in enumerate(groups):
            table.add_row(Text(group.key, no_wrap=True, overflow="ellipsis"), Text(str(group.jobs), justify="right"),
                          Text(usd_text(group.usd), justify="right"), key=str(index))  # fmt: skip
        self._fit_keys()


def _line(group: SpendGroup) -> str:
    jobs = f"{group.jobs} job{'s' if group.jobs != 1 else ''}"
    return f"{group.key.capitalize():<10} {usd_text(group.usd):>12}  ({jobs})"
