"""The live job table: one row per job (row key = job id), newest at the top, cells updated in place.

Rows are never cleared and rebuilt (that resets cursor and scroll); a changed job rewrites only the cells
whose text changed, and repaints only those cells (``RowTable.update_cell``): over a slow SSH link every
byte the terminal is sent counts. Elapsed time is checked once a second, for live rows only, from one
timer, and shown more coarsely as it grows (``format_live_elapsed``), so most ticks change nothing and
write nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.timer import Timer

from seedream_tui.batch.sheet import progress_text
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.positions import PositionBoard
from seedream_tui.tui.formatting import elapsed_of, format_elapsed, job_badge
from seedream_tui.tui.plain import plain_line
from seedream_tui.tui.widgets.row_table import Row, RowDoesNotExist, RowTable

#: the cells that change while jobs run (Time every second, Q as the queue moves) come first: Textual writes a
#: repainted cell from the widget's left edge to the cell's end, so a tick sends the id and the time (drawn as
#: one piece, ``JOINED_COLUMNS``), not the status as well; the main screen draws the border around the table
#: as a box of its own, so it is not sent either (bench_output: within ~10 % of the old compositor patch)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "#"),
    ("elapsed", "Time"),
    ("pos", "Q"),
    ("status", "Status"),
    ("res", "Size"),
    ("n", "Img"),
    ("prompt", "Prompt"),
)
#: the columns a narrow table leaves out, first to last, until the prompt has :data:`PROMPT_LEAST` cells
#: (at 40 columns every column had the prompt cut off the right edge: rows could not be told apart)
DROP_ORDER = ("res", "n", "elapsed", "pos")
PROMPT_LEAST = 14
#: the cells a column takes with its padding, for choosing the columns before they are drawn (the status
#: column as wide as its longest word, "downloading", so a job changing state never changes the choice)
_EST_WIDTH = {"status": 13, "pos": 4, "elapsed": 6, "res": 7, "n": 5}

_STATUS_STYLE = {
    JobStatus.SUBMITTING: "dim",
    JobStatus.QUEUED: "yellow",
    JobStatus.RUNNING: "bold cyan",
    JobStatus.DOWNLOADING: "cyan",
    JobStatus.COMPLETED: "green",
    JobStatus.FAILED: "bold red",
    JobStatus.CANCELLED: "dim",
    JobStatus.EXPIRED: "dim",
    JobStatus.UNKNOWN: "bold magenta",
}
_RATIO = re.compile(r"\(([^)]+)\)")
#: each live row's time is checked once a second, a quarter of the rows every 0.25 s: 40 visible rows
#: whose text all changes would otherwise be redrawn in one frame (~60 ms with the event loop blocked)
TICK_PHASES = 4


def short_resolution(value: object) -> str:
    """``"2304x1728 (4:3)"`` -> ``"4:3"``; ``"2K"`` stays; anything else is cut short."""
    if value is None:
        return ""
    text = str(value)
    match = _RATIO.search(text)
    return match.group(1) if match else text[:9]


def format_live_elapsed(seconds: float | None) -> str:
    """A running job's elapsed time, as coarse as the user can tell: it is redrawn only when this text changes.

    Each second under a minute (``42s``), then in 5 s steps (``1m05``), then whole minutes past ten (``12m``),
    then hours and minutes (``1h05``); at most four characters until ten hours, like the Time header.
    """
    if seconds is None or not 60 <= seconds < 3600:
        return format_elapsed(seconds)
    whole = int(seconds)
    return f"{whole // 60}m{whole % 60 // 5 * 5:02d}" if whole < 600 else f"{whole // 60}m"


def elapsed_text(job: Job, now: float) -> str:
    """The Time cell: exact for a finished job, coarse for a live one (see :func:`format_live_elapsed`)."""
    elapsed = elapsed_of(job, now)
    return format_elapsed(elapsed) if job.status.terminal else format_live_elapsed(elapsed)


def status_text(job: Job) -> Text:
    return Text(job.status.label.split(" ")[0], style=_STATUS_STYLE.get(job.status, ""))


class BatchCell(str):
    """The id cell of a folded batch's row (``B7``); sorts where the batch's newest job would."""

    order: int = 0

    def __eq__(self, other: object) -> bool:  # a new order is a change of the cell (the row moves)
        return isinstance(other, BatchCell) and str.__eq__(self, other) and self.order == other.order

    __hash__ = str.__hash__


def batch_row_key(batch_id: int) -> str:
    return f"b{batch_id}"


class BatchCount:
    """A batch's jobs as the table has them, counted as they change (never recounted per tick)."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.done = self.failed = 0
        self.cost = 0.0
        #: the newest job's id (where the folded row sorts): kept as jobs come, found again when one goes
        self.newest = 0

    def add(self, job: Job, sign: int) -> None:
        if job.status is JobStatus.COMPLETED:
            self.done += sign
        elif job.status.terminal:
            self.failed += sign
        self.cost += sign * (job.cost or 0.0)

    @property
    def text(self) -> str:
        return progress_text(self.done, len(self.ids), self.failed, round(self.cost, 6))


class JobTable(RowTable):
    """Jobs, newest first. Posts :class:`JobTable.Highlighted` / :class:`JobTable.Open` with job ids."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "cancel_job", "Cancel job", id="cancel-job", tooltip="Cancel the selected job (if queued)"),
        Binding("enter", "open_job", "Details", id="open-job", tooltip="Open the selected job's details"),
        Binding("f", "screen.view_job", "View", id="view-job", tooltip="View the job's images full screen"),
        Binding("i", "screen.focus_prompt", "Prompt", id="jobs-to-prompt", show=False,
                tooltip="Back to the prompt"),
        Binding("p", "screen.toggle_preview", "Preview", id="jobs-preview", show=False,
                tooltip="Show the preview (narrow) or view the images full screen"),
        Binding("z", "toggle_fold", "Fold batch", id="jobs-fold",
                tooltip="Fold the job's batch into one row with its progress, or unfold it"),
        Binding("b", "open_batch", "Sheet", id="jobs-sheet", show=False,
                tooltip="Open the job's batch as a contact sheet (its tiles laid out by the swept values)"),
        # the local queue (batches): capitals for the ones that touch many jobs
        Binding("P", "screen.toggle_queue", "Pause queue", id="pause-queue", show=False,
                tooltip="Pause or resume the local queue (pending jobs wait; jobs already sent go on)"),
        Binding("u", "screen.move_up", "Move up", id="move-up", show=False,
                tooltip="Move the selected pending job one place up the local queue"),
        Binding("U", "screen.move_up(True)", "To front", id="move-to-front", show=False,
                tooltip="Move the selected pending job to the front of the local queue"),
        Binding("C", "screen.cancel_batch", "Cancel batch", id="cancel-batch", show=False,
                tooltip="Cancel the selected job's whole batch (pending jobs at once, queued ones at RunComfy)"),
        Binding("X", "screen.cancel_waiting", "Cancel waiting", id="cancel-waiting", show=False,
                tooltip="Cancel everything waiting (pending, and queued at RunComfy), not the running jobs"),
    ]

    #: the id, the time and the queue position as one piece (one escape sequence, not three, per tick)
    JOINED_COLUMNS = frozenset({"elapsed", "pos"})

    class Highlighted(Message):
        def __init__(self, job_id: int | None) -> None:
            super().__init__()
            self.job_id = job_id

    class Open(Message):
        def __init__(self, job_id: int) -> None:
            super().__init__()
            self.job_id = job_id

    class Cancel(Message):
        def __init__(self, job_id: int) -> None:
            super().__init__()
            self.job_id = job_id

    class OpenBatch(Message):
        def __init__(self, batch_id: int) -> None:
            super().__init__()
            self.batch_id = batch_id

    def __init__(self, *, id: str | None = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__(id=id, zebra_stripes=True)
        self.clock = clock
        self.jobs: dict[int, Job] = {}
        #: the queue position shown per job id (see ``jobs.positions``: one job per position, none absurd)
        self._positions = PositionBoard()
        self._phase = 0
        self._ticker: Timer | None = None
        #: the keys of the columns shown, in order (narrow, some are left out: see :meth:`columns_for`)
        self.shown: tuple[str, ...] = tuple(key for key, _ in COLUMNS)
        #: each batch's jobs in the table, counted; the batches folded into one row
        self.batches: dict[int, BatchCount] = {}
        self.folded: set[int] = set()

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            if key in self.shown:
                self.add_column(label, key=key)
        live = any(not job.status.terminal for job in self.jobs.values())
        self._ticker = self.set_interval(1.0 / TICK_PHASES, self.tick_phase, name="elapsed", pause=not live)

    # --- rows -------------------------------------------------------------------------------------------
    def _cells(self, job: Job) -> dict[str, object]:
        prompt = plain_line(job.prompt_line)
        badge = job_badge(job)
        if badge:  # a video: ``▶ 0:05`` before its prompt
            prompt = plain_line(f"{badge} ", style="bold")
            prompt.append_text(plain_line(job.prompt_line))
        n = len(job.outputs)
        return {
            "id": job.id,
            "status": status_text(job),
            "pos": self._positions.shown.get(job.id, ""),
            "elapsed": elapsed_text(job, self.clock()),
            "res": plain_line(short_resolution(job.inputs.get("resolution"))),
            "n": str(n) if n else "",
            "prompt": prompt,
        }

    def set_jobs(self, jobs: Iterable[Job]) -> None:
        """Add or update many jobs (the initial load): one sort at the end."""
        for job in jobs:
            self.upsert(job, sort=False)
        self._sort_keep_cursor()
        self.call_after_refresh(self.fit_prompt_column)

    def _batch_cells(self, batch_id: int) -> dict[str, object]:
        count = self.batches[batch_id]
        order = BatchCell(f"B{batch_id}")
        order.order = count.newest
        newest = self.jobs.get(order.order)
        line = Text(count.text, style="bold", no_wrap=True, end="")
        if newest is not None:
            line.append("  ")
            line.append_text(plain_line(newest.prompt_line, style="dim"))
        return {"id": order, "status": Text("batch", style="bold"), "pos": "", "elapsed": "", "res": "",
                "n": "", "prompt": line}

    def _count(self, old: Job | None, job: Job | None) -> int | None:
        """Move a job's part in its batch's count from ``old`` to ``job``; the batch id, if any."""
        batch_id = (job or old).batch_id if (job or old) is not None else None  # type: ignore[union-attr]
        if batch_id is None:
            return None
        count = self.batches.setdefault(batch_id, BatchCount())
        if old is not None:
            count.add(old, -1)
        if job is not None:
            count.add(job, 1)
            count.ids.add(job.id)
            count.newest = max(count.newest, job.id)
        elif old is not None:
            count.ids.discard(old.id)
            if old.id == count.newest:
                count.newest = max(count.ids, default=0)
        return batch_id

    def upsert(self, job: Job, *, sort: bool = True) -> None:
        """Update the job's cells in place, or add its row (at the top) if it is new; a job of a folded batch
        updates its batch's row instead."""
        key = str(job.id)
        old = self.jobs.get(job.id)
        known = old is not None
        self.jobs[job.id] = job
        self._show_positions(self._positions.update(job), skip=job.id)
        if not job.status.terminal and self._ticker is not None:
            self._ticker.resume()  # it sleeps while no row is live
        batch_id = self._count(old, job)
        if batch_id is not None and batch_id in self.folded:
            self._show_batch_row(batch_id, sort=sort and not known)
            return
        cells = self._cells(job)
        if known:
            for column, value in cells.items():
                if column != "id":
                    self._set_cell(key, column, value)
            return
        self.add_row(*(cells[column] for column in self.shown), key=key)
        if sort:
            self._sort_keep_cursor()
            self.call_after_refresh(self.fit_prompt_column)

    def _show_batch_row(self, batch_id: int, *, sort: bool) -> None:
        """Write a folded batch's row (added if missing): its progress, counted as jobs changed."""
        key = batch_row_key(batch_id)
        cells = self._batch_cells(batch_id)
        if not self.has_row(key):
            self.add_row(*(cells[column] for column in self.shown), key=key)
            sort = True
        else:
            for column, value in cells.items():
                if column != "id":
                    self._set_cell(key, column, value)
            if self.update_cell(key, "id", cells["id"]):  # the batch's newest job changed: it sorts elsewhere
                sort = True
        if sort:
            self._sort_keep_cursor()

    def _folded_member(self, job_id: int) -> bool:
        job = self.jobs.get(job_id)
        return job is not None and job.batch_id is not None and job.batch_id in self.folded

    def _show_positions(self, changed: set[int], skip: int | None = None) -> None:
        """Rewrite the position cells of the rows (other than ``skip``, which is being written) that changed."""
        for job_id in changed:
            if job_id != skip and job_id in self.jobs and not self._folded_member(job_id):
                self._set_cell(str(job_id), "pos", self._positions.shown.get(job_id, ""))

    def remove_job(self, job_id: int) -> None:
        folded = self._folded_member(job_id)
        old = self.jobs.pop(job_id, None)
        if old is not None:
            batch_id = self._count(old, None)
            if folded and batch_id is not None:
                if self.batches[batch_id].ids:
                    self._show_batch_row(batch_id, sort=False)
                else:
                    self.folded.discard(batch_id)
                    self.remove_row(batch_row_key(batch_id))
            else:
                self.remove_row(str(job_id))
            self._show_positions(self._positions.remove(job_id))

    # --- folding -------------------------------------------------------------------------------------------
    def fold(self, batch_id: int) -> None:
        """Show the batch as one row with its progress (``12/40 done · 3 failed · $0.36``)."""
        count = self.batches.get(batch_id)
        if count is None or batch_id in self.folded:
            return
        self.folded.add(batch_id)
        for job_id in count.ids:
            if self.has_row(str(job_id)):
                self.remove_row(str(job_id))
        self._show_batch_row(batch_id, sort=True)
        self.select_batch(batch_id)

    def unfold(self, batch_id: int) -> None:
        """The batch's jobs as rows again, the cursor on its newest."""
        if batch_id not in self.folded:
            return
        self.folded.discard(batch_id)
        self.remove_row(batch_row_key(batch_id))
        ids = sorted(self.batches[batch_id].ids)
        for job_id in ids:
            cells = self._cells(self.jobs[job_id])
            self.add_row(*(cells[column] for column in self.shown), key=str(job_id))
        self._sort_keep_cursor()
        if ids:
            self.select_job(ids[-1])

    def action_toggle_fold(self) -> None:
        batch_id = self.selected_batch_id
        if batch_id is None:
            self.app.bell()
            self.app.notify("That job is not part of a batch.", severity="warning")
            return
        if batch_id in self.folded:
            self.unfold(batch_id)
        else:
            self.fold(batch_id)

    def action_open_batch(self) -> None:
        batch_id = self.selected_batch_id
        if batch_id is None:
            self.app.bell()
            self.app.notify("That job is not part of a batch.", severity="warning")
            return
        self.post_message(self.OpenBatch(batch_id))

    @property
    def selected_batch_id(self) -> int | None:
        """The batch of the row under the cursor: a folded batch's row, or a job of a batch."""
        key = self._selected_key()
        if key is None:
            return None
        if key.startswith("b"):
            return int(key[1:])
        job = self.jobs.get(int(key))
        return job.batch_id if job is not None else None

    def select_batch(self, batch_id: int) -> None:
        try:
            self.move_cursor(row=self.get_row_index(batch_row_key(batch_id)))
        except RowDoesNotExist:
            pass

    def _sort_rows(self) -> None:
        self.sort(key=_row_order, reverse=True)

    def _sort_keep_cursor(self) -> None:
        selected = self._selected_key()
        self._sort_rows()
        if selected is not None and self.has_row(selected):
            self.move_cursor(row=self.get_row_index(selected))

    def tick(self, phase: int | None = None) -> None:
        """Refresh the elapsed time of the live rows in view (finished rows do not change; a row out of view
        is brought up to date as it scrolls in, see ``watch_scroll_y``); with ``phase``, of the rows whose id
        falls in that phase only (see :data:`TICK_PHASES`). 500 live jobs cost the 40 rows on screen."""
        now = self.clock()
        for job in self._jobs_in_view():
            if not job.status.terminal and (phase is None or job.id % TICK_PHASES == phase):
                self._set_cell(str(job.id), "elapsed", elapsed_text(job, now))

    def _jobs_in_view(self) -> list[Job]:
        jobs = []
        for index in self.rows_in_view():
            key = self.row_key_at(index)
            job = self.jobs.get(int(key)) if key.isdigit() else None
            if job is not None:
                jobs.append(job)
        return jobs

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.tick()  # the rows that came into view show their time now, not at their next phase

    def tick_phase(self) -> None:
        """The timer's tick: the next quarter of the live rows; the timer sleeps while none is live."""
        if self._ticker is not None and not any(not job.status.terminal for job in self.jobs.values()):
            self._ticker.pause()
            return
        self._phase = (self._phase + 1) % TICK_PHASES
        self.tick(self._phase)

    def _set_cell(self, row: str, column: str, value: object) -> None:
        """Put ``value`` in one cell and repaint that cell alone (nothing if it draws the same, nothing sent
        for a row out of view); a column left out while the table is narrow is written when shown again."""
        if column in self.shown:
            self.update_cell(row, column, value)

    # --- selection ----------------------------------------------------------------------------------------
    def _selected_key(self) -> str | None:
        if not 0 <= self.cursor_row < self.row_count:
            return None
        return self.row_key_at(self.cursor_row)

    @property
    def selected_job_id(self) -> int | None:
        """The job under the cursor (None on a folded batch's row: see :attr:`selected_batch_id`)."""
        key = self._selected_key()
        return int(key) if key is not None and key.isdigit() else None

    def select_job(self, job_id: int) -> None:
        job = self.jobs.get(job_id)
        if job is not None and job.batch_id in self.folded:
            self.select_batch(job.batch_id)
            return
        try:
            self.move_cursor(row=self.get_row_index(str(job_id)))
        except RowDoesNotExist:
            pass

    def on_row_table_row_highlighted(self, event: RowTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(self.selected_job_id))

    def on_row_table_row_selected(self, event: RowTable.RowSelected) -> None:
        event.stop()
        value = event.row_key
        if value.startswith("b"):
            self.post_message(self.OpenBatch(int(value[1:])))  # a folded batch opens as its contact sheet
        else:
            self.post_message(self.Open(int(value)))

    def action_open_job(self) -> None:
        job_id = self.selected_job_id
        if job_id is not None:
            self.post_message(self.Open(job_id))
        elif (key := self._selected_key()) is not None and key.startswith("b"):
            self.post_message(self.OpenBatch(int(key[1:])))

    def action_cancel_job(self) -> None:
        job_id = self.selected_job_id
        if job_id is None:
            self.app.bell()
            return
        self.post_message(self.Cancel(job_id))

    def on_resize(self) -> None:
        self.fit_prompt_column()

    def watch_show_vertical_scrollbar(self) -> None:
        # the scrollbar takes (or gives back) columns without a resize: refit once the layout has it
        self.call_after_refresh(self.fit_prompt_column)

    def fit_prompt_column(self) -> None:
        """Choose the columns for the width, then give the prompt column whatever width the others leave (it
        is cut with an ellipsis)."""
        shown = self.columns_for(self.content_region.width)
        if shown != self.shown:
            self._show_columns(shown)
        # the scrollbar's columns kept free while there is none (it would come with the next rows)
        self.fit_column("prompt", spare=0 if self.show_vertical_scrollbar else 2)

    def columns_for(self, width: int) -> tuple[str, ...]:
        """The columns to show in ``width`` cells: all, or fewer so that the prompt keeps a readable fragment."""
        keys = [key for key, _ in COLUMNS]
        if width <= 0:
            return tuple(keys)
        id_width = len(str(max(self.jobs, default=1))) + 2
        room = width - 2 - 2  # a scrollbar's columns, and the prompt cell's padding
        for drop in (None, *DROP_ORDER):
            if drop is not None:
                keys.remove(drop)
            used = id_width + sum(_EST_WIDTH.get(key, 0) for key in keys)
            if room - used >= PROMPT_LEAST:
                break
        return tuple(keys)

    def _show_columns(self, shown: tuple[str, ...]) -> None:
        """Rebuild the table with the columns ``shown`` (rows, cursor and scroll kept): only as the width
        crosses a step, never while jobs tick."""
        selected, scroll_y = self._selected_key(), self.scroll_y
        self.shown = shown
        self.clear(columns=True)
        for key, label in COLUMNS:
            if key in shown:
                self.add_column(label, key=key)
        for job_id in sorted(self.jobs, reverse=True):
            if self._folded_member(job_id):
                continue
            cells = self._cells(self.jobs[job_id])
            self.add_row(*(cells[column] for column in shown), key=str(job_id))
        for batch_id in self.folded:
            cells = self._batch_cells(batch_id)
            self.add_row(*(cells[column] for column in shown), key=batch_row_key(batch_id))
        if self.folded:
            self._sort_rows()
        if selected is not None and selected.isdigit():
            self.select_job(int(selected))
        elif selected is not None:
            self.select_batch(int(selected[1:]))
        self.scroll_to(y=scroll_y, animate=False, immediate=True)


def _row_order(row: Row) -> int:
    """The sort key of a row (by its id cell, the first): a job's id, or a folded batch's newest job id."""
    value = row.cells[0]
    if isinstance(value, BatchCell):
        return value.order
    return value if isinstance(value, int) else 0
