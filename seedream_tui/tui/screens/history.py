"""Every past job, newest first, searchable, in pages.

The history can hold 100,000 jobs, so the table never holds them all: it loads one
page (keyset paging on the job id) and asks for the next one as the cursor or the
scroll position nears the end. A change of search text or filter starts a new query
(the only time the table is cleared); job changes from the core update cells in place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Select, Static

from seedream_tui.catalog.pricing import quote_job, total_sentence
from seedream_tui.jobs.model import Job, JobStatus, OutputFile
from seedream_tui.tui.messages import JobsDeleted
from seedream_tui.tui.plain import plain_line
from seedream_tui.tui.screens.confirm import ConfirmScreen, PromptScreen
from seedream_tui.tui.screens.detail import (
    JobDetailScreen,
    JobPreview,
    error_sentence,
    fmt_short_time,
    short_model,
    status_text,
)
from seedream_tui.tui.widgets.job_table import RowTable, fit_column
from seedream_tui.tui.widgets.keyhints import KeyHints

PAGE_SIZE = 100
#: side by side, each column still shows its image at 80 columns
MAX_COMPARED = 4
#: load the next page when the cursor is this many rows from the end
PREFETCH_ROWS = 30
SEARCH_DEBOUNCE = 0.2
ALL = "*"
DATE_CHOICES = [("any time", ALL), ("today", "today"), ("last 7 days", "7"), ("last 30 days", "30")]


@dataclass(frozen=True)
class HistoryQuery:
    """What the user asked to see; equal queries never reload the table."""

    search: str = ""
    status: str = ALL
    model_id: str = ALL
    date: str = ALL

    @property
    def active(self) -> bool:
        return self != HistoryQuery()

    def since(self, now: float | None = None) -> float | None:
        if self.date == ALL:
            return None
        now = time.time() if now is None else now
        midnight = time.mktime(time.localtime(now)[:3] + (0, 0, 0, 0, 0, -1))
        return midnight if self.date == "today" else midnight - (int(self.date) - 1) * 86400

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``history.list_jobs`` / ``count_jobs`` (only the filters in use)."""
        out: dict[str, Any] = {}
        if self.search.strip():
            out["search"] = self.search.strip()
        if self.status != ALL:
            out["statuses"] = [JobStatus(self.status)]
        if self.model_id != ALL:
            out["model_id"] = self.model_id
        since = self.since()
        if since is not None:
            out["since"] = since
        return out

    def matches(self, job: Job) -> bool:
        """Whether a job that just appeared belongs in the current view (search can't be checked here)."""
        if self.search.strip():
            return False
        if self.status != ALL and job.status.value != self.status:
            return False
        if self.model_id != ALL and job.model_id != self.model_id:
            return False
        since = self.since()
        return since is None or job.created_at >= since


#: longer prompts are cut: a DataTable renders every cell at its full width before cropping to the view,
#: so 200-character cells made each frame of the history screen ~60 ms slower (measured)
PROMPT_CELL_CHARS = 100


def _prompt_cell(job: Job) -> Text:
    text = job.prompt_line
    text = text if len(text) <= PROMPT_CELL_CHARS else text[: PROMPT_CELL_CHARS - 1] + "…"
    return plain_line(text)


class HistoryScreen(Screen[None]):
    """Browse, search and act on past jobs."""

    DEFAULT_CSS = """
    HistoryScreen #history-filters { height: 3; }
    HistoryScreen #history-search { width: 1fr; }
    HistoryScreen #history-status { width: 20; }
    HistoryScreen #history-model { width: 24; }
    HistoryScreen #history-date { width: 18; }
    HistoryScreen #history-body { height: 1fr; }
    HistoryScreen #history-list { width: 1fr; height: 1fr; }
    HistoryScreen #history-table { height: 1fr; overflow-x: hidden; }
    HistoryScreen #history-empty { display: none; height: 1fr; content-align: center middle; color: $text-muted; }
    HistoryScreen.-empty #history-empty { display: block; }
    HistoryScreen.-empty #history-table { display: none; }
    HistoryScreen #history-count { height: 1; padding: 0 1; color: $text-muted; background: $boost; }
    HistoryScreen JobPreview { width: 64; border-left: vkey $primary-darken-2; }
    HistoryScreen.-narrow #history-body { layout: vertical; }
    HistoryScreen.-narrow JobPreview { width: 1fr; height: 7; border-left: none; border-top: hkey $primary-darken-2; }
    HistoryScreen.-narrow JobPreview { layout: horizontal; }
    HistoryScreen.-narrow JobPreview #preview-image-box { width: 20; height: 100%; }
    HistoryScreen.-narrow JobPreview #preview-info { width: 1fr; height: 100%; margin: 0 1 0 0; }
    HistoryScreen.-narrow #history-status { width: 20; }
    HistoryScreen.-narrow #history-model { width: 19; }
    HistoryScreen.-narrow #history-date { width: 17; }
    /* a split tmux pane: the search box keeps room (filters by model and date wait for a wider window), and
       under 20 rows the rows win over the preview */
    HistoryScreen.-compact #history-model, HistoryScreen.-compact #history-date { display: none; }
    HistoryScreen.-compact #history-status { width: 18; }
    HistoryScreen.-short JobPreview { display: none; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="history-back"),
        # priority: the app runs it as the key arrives, so the keys right behind it ("/fox" in one burst over
        # SSH, or pasted) already go to the search box; inactive while typing there (see check_action)
        Binding("slash", "focus_search", "Search", id="history-search", priority=True),
        Binding("l", "load", "Load", tooltip="Load the job into the editor", id="history-load"),
        Binding("r", "rerun", "Re-run", tooltip="Submit the job's input again (each marked job's)", id="history-rerun"),
        Binding("E", "edit_result", "Edit result", id="history-edit",
                tooltip="Open an edit model of the same family with the job's result as its input"),
        Binding("e", "export", "Export", tooltip="Copy the job's images to a folder", id="history-export"),
        Binding("d", "delete", "Delete", tooltip="Delete the job and its files (asks first)", id="history-delete"),
        Binding("delete", "delete", "Delete", show=False, id="history-delete-key"),
        Binding("c", "copy_path", "Copy path", tooltip="Copy the image path (OSC 52)", id="history-copy-path"),
        Binding("u", "copy_url", "Copy URL", tooltip="Copy the image URL (OSC 52)", id="history-copy-url"),
        Binding(
            "space", "toggle_mark", "Mark",
            tooltip="Mark the job; export, delete, copy and compare act on every marked job", id="history-mark",
        ),
        Binding("v", "compare", "Compare", tooltip="Compare the marked jobs side by side", id="history-compare"),
    ]

    def __init__(self, core: Any) -> None:
        super().__init__()
        self.core = core
        self.query_state = HistoryQuery()
        self._jobs: dict[int, Job] = {}
        self._generation = 0
        self._loading: int | None = None
        self._exhausted = False
        self._oldest_id: int | None = None
        self._search_timer: Timer | None = None
        #: marked jobs, in the order they were marked; kept across searches (mark in one, compare with another)
        self.marked: dict[int, Job] = {}
        self._count_text = ""

    # ---------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        with Horizontal(id="history-filters"):
            yield Input(placeholder="Search prompts…  (/)", id="history-search")
            yield Select(
                [("any status", ALL)] + [(s.label.split(" ")[0], s.value) for s in JobStatus],
                value=ALL,
                allow_blank=False,
                id="history-status",
            )
            yield Select([("any model", ALL)], value=ALL, allow_blank=False, id="history-model")
            yield Select(DATE_CHOICES, value=ALL, allow_blank=False, id="history-date")
        with Horizontal(id="history-body"):
            with Vertical(id="history-list"):
                yield RowTable(id="history-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="history-empty")
                yield Static("", id="history-count")
            yield JobPreview(id="history-preview")
        yield KeyHints()

    def on_mount(self) -> None:
        self.title = "History"
        table = self.query_one(DataTable)
        table.add_column("", key="mark", width=1)
        table.add_column("id", key="id", width=6)
        table.add_column("created", key="created", width=16)
        table.add_column("status", key="status", width=11)
        table.add_column("model", key="model", width=16)
        table.add_column("prompt", key="prompt", width=PROMPT_CELL_CHARS)
        self.watch(table, "scroll_y", self._on_scroll, init=False)
        self.watch(table, "size", lambda _size: self._fit_prompt_column(), init=False)
        self._apply_size()
        self._load_models()
        self._reload()
        table.focus()

    def reopen(self) -> None:
        """Opened again (the app keeps one history screen): show what changed since.

        Not on every screen resume: closing a dialog over this screen must keep the view as it is.
        """
        if self.is_mounted:
            self._reload()

    def on_resize(self) -> None:
        self._apply_size()

    def _apply_size(self) -> None:
        self.set_class(self.size.width < 130, "-narrow")
        self.set_class(self.size.width < 70, "-compact")
        self.set_class(self.size.height < 20, "-short")

    def _fit_prompt_column(self) -> None:
        """A fitted fixed width: long prompts end in "…" instead of widening the table."""
        fit_column(self.query_one(DataTable), "prompt", most=PROMPT_CELL_CHARS)

    # ---------------------------------------------------------------- querying
    def _reload(self) -> None:
        """Start a new query: the one place the table is cleared."""
        self._generation += 1
        self._jobs.clear()
        self._exhausted = False
        self._oldest_id = None
        self._loading = None
        self.query_one(DataTable).clear()
        # never show the old query's total next to the new query's rows
        self._show_count("Counting…")
        self._request_page()
        self._count(self._generation)

    def _request_page(self) -> None:
        if self._exhausted or self._loading == self._generation:
            return
        self._loading = self._generation
        self.run_worker(
            self._load_page(self._generation, self._oldest_id), group="history-page", exit_on_error=False
        )

    async def _load_page(self, generation: int, before_id: int | None) -> None:
        try:
            jobs = await self.core.history.list_jobs(
                limit=PAGE_SIZE, before_id=before_id, **self.query_state.kwargs()
            )
        except Exception as exc:  # noqa: BLE001 - shown as a sentence
            if generation == self._generation:
                self._loading = None
                self.notify(error_sentence("read the history", exc), severity="error")
            return
        if generation != self._generation:
            return
        self._loading = None
        table = self.query_one(DataTable)
        first_page = table.row_count == 0
        for job in jobs:
            if job.id in self._jobs:
                continue
            self._jobs[job.id] = job
            table.add_row(*self._cells(job), key=str(job.id))
        if jobs:
            self._oldest_id = min(self._oldest_id or jobs[-1].id, *(j.id for j in jobs))
        self._exhausted = len(jobs) < PAGE_SIZE
        self._update_empty()
        if first_page:
            self._show_selected()

    @work(exclusive=True, group="history-count", exit_on_error=False)
    async def _count(self, generation: int) -> None:
        try:
            total = await self.core.history.count_jobs(**self.query_state.kwargs())
        except Exception as exc:  # noqa: BLE001
            self.notify(error_sentence("count the jobs", exc), severity="error")
            return
        if generation == self._generation:
            noun = "job" if total == 1 else "jobs"
            scope = "match" if self.query_state.active else "in history"
            if total == 1 and self.query_state.active:
                scope = "matches"
            self._show_count(f"{total:,} {noun} {scope}")

    def _show_count(self, text: str | None = None) -> None:
        """The line under the table: the query's total, then how many jobs are marked."""
        if text is not None:
            self._count_text = text
        line = self._count_text
        if self.marked:
            line += f"  ·  {len(self.marked)} marked (Space unmarks, Esc clears, v compares)"
        self.query_one("#history-count", Static).update(line)

    @work(exclusive=True, group="history-models", exit_on_error=False)
    async def _load_models(self) -> None:
        try:
            ids = await self.core.history.model_ids()
        except Exception as exc:  # noqa: BLE001
            self.notify(error_sentence("list the models in the history", exc), severity="error")
            return
        select = self.query_one("#history-model", Select)
        select.set_options([("any model", ALL)] + [(plain_line(short_model(m)), m) for m in sorted(ids)])
        select.value = self.query_state.model_id

    def _set_query(self, query: HistoryQuery) -> None:
        if query != self.query_state:
            self.query_state = query
            self._reload()

    def _mark_cell(self, job_id: int) -> Text:
        return Text("●", style="bold yellow") if job_id in self.marked else Text("")

    def _cells(self, job: Job) -> tuple[Any, ...]:
        return (
            self._mark_cell(job.id),
            Text(str(job.id), justify="right"),
            fmt_short_time(job.created_at),
            status_text(job.status),
            plain_line(short_model(job.model_id)),
            _prompt_cell(job),
        )

    def _update_empty(self) -> None:
        empty = self.query_one(DataTable).row_count == 0 and self._exhausted
        if empty:
            text = (
                "No jobs match this search. Clear the search box or the filters to see everything."
                if self.query_state.active
                else "No jobs yet. Generated images will be listed here."
            )
            self.query_one("#history-empty", Static).update(text)
        self.set_class(empty, "-empty")
        if empty:
            self.query_one(JobPreview).show(None)

    # ---------------------------------------------------------------- events
    @on(Input.Changed, "#history-search")
    def _search_changed(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DEBOUNCE, self._apply_search)

    def _apply_search(self) -> None:
        self._search_timer = None
        text = self.query_one("#history-search", Input).value
        self._set_query(replace(self.query_state, search=text))

    @on(Input.Submitted, "#history-search")
    def _search_submitted(self) -> None:
        self._apply_search()
        self.query_one(DataTable).focus()

    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        value = str(event.value) if not event.select.is_blank() else ALL
        field = {"history-status": "status", "history-model": "model_id", "history-date": "date"}.get(
            event.select.id or ""
        )
        if field:
            self._set_query(replace(self.query_state, **{field: value}))

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= event.data_table.row_count - PREFETCH_ROWS:
            self._request_page()
        self._show_selected()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        job = self.selected_job()
        if job is not None:
            self.app.push_screen(JobDetailScreen(self.core, job.id))

    def _on_scroll(self, _old: float, new: float) -> None:
        table = self.query_one(DataTable)
        if new + table.size.height >= table.virtual_size.height - PREFETCH_ROWS:
            self._request_page()

    def _job_changed(self, job: Job) -> None:
        """A job changed (the app's ``JobChanged``): update the row in place, or add a brand-new job on top."""
        if job.id in self.marked:
            self.marked[job.id] = job  # also when its row is not in the current view
        if not self.is_attached or self._jobs.get(job.id) == job:
            return  # not shown, or nothing new
        table = self.query_one(DataTable)
        key = str(job.id)
        if job.id in self._jobs:
            self._jobs[job.id] = job
            columns = ("mark", "id", "created", "status", "model", "prompt")
            for column, value in zip(columns, self._cells(job), strict=True):
                table.update_cell(key, column, value)
            if self.selected_job() is not None and self.selected_job().id == job.id:  # type: ignore[union-attr]
                self._show_selected()
        elif self._jobs and job.id > max(self._jobs) and self.query_state.matches(job):
            selected = self.selected_job()
            self._jobs[job.id] = job
            table.add_row(*self._cells(job), key=key)
            table.sort("id", key=lambda cell: int(str(cell)), reverse=True)
            if selected is not None:
                table.move_cursor(row=table.get_row_index(str(selected.id)), animate=False)
            self._count(self._generation)
        elif not self._jobs and self._exhausted and self.query_state.matches(job):
            self._jobs[job.id] = job
            table.add_row(*self._cells(job), key=key)
            self._update_empty()
            self._show_selected()
            self._count(self._generation)

    def on_job_changed(self, message: Any) -> None:
        """The app's ``JobChanged``: the app is the core's one subscriber and forwards each change once."""
        job = getattr(message, "job", None)
        if isinstance(job, Job):
            self._job_changed(job)

    # ---------------------------------------------------------------- selection
    def selected_job(self) -> Job | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:  # noqa: BLE001 - cursor outside the rows
            return None
        return self._jobs.get(int(key.value)) if key.value is not None else None

    def _show_selected(self) -> None:
        self.query_one(JobPreview).show(self.selected_job())

    def _require_job(self) -> Job | None:
        job = self.selected_job()
        if job is None:
            self.notify("Select a job first.", severity="warning")
        return job

    # ---------------------------------------------------------------- actions
    def _targets(self) -> list[Job]:
        """What export, delete and copy act on: the marked jobs, or else the one under the cursor."""
        if self.marked:
            return list(self.marked.values())
        job = self._require_job()
        return [job] if job is not None else []

    def _set_mark(self, job_id: int, job: Job | None) -> None:
        if job is None:
            self.marked.pop(job_id, None)
        else:
            self.marked[job_id] = job
        if job_id in self._jobs:
            self.query_one(DataTable).update_cell(str(job_id), "mark", self._mark_cell(job_id))

    def action_toggle_mark(self) -> None:
        """Mark or unmark the job under the cursor, then step down (Space, Space, Space marks a run)."""
        job = self._require_job()
        if job is None:
            return
        self._set_mark(job.id, None if job.id in self.marked else job)
        table = self.query_one(DataTable)
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1, animate=False)
        self._show_count()

    def clear_marks(self) -> None:
        for job_id in list(self.marked):
            self._set_mark(job_id, None)
        self._show_count()

    def action_compare(self) -> None:
        """The marked jobs side by side; one marked job is compared with the one under the cursor."""
        jobs = list(self.marked.values())
        current = self.selected_job()
        if len(jobs) == 1 and current is not None and current.id not in self.marked:
            jobs.append(current)
        if len(jobs) < 2:
            self.notify(
                "Mark jobs with Space to compare them (or mark one and compare it with the job under the cursor).",
                severity="warning",
            )
            return
        if len(jobs) > MAX_COMPARED:
            self.notify(f"Comparing the first {MAX_COMPARED} of the {len(jobs)} marked jobs.", severity="warning")
            jobs = jobs[:MAX_COMPARED]
        from seedream_tui.tui.screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(jobs))

    def action_back(self) -> None:
        if isinstance(self.focused, Input | Select):
            self.set_focus(self.query_one(DataTable))  # leave the search box or a filter first, like a browser
            return
        if self.marked:  # then the marks, like a file manager's selection
            count = len(self.marked)
            self.clear_marks()
            self.notify(f"Unmarked {count} job{'s' if count != 1 else ''}.")
            return
        if self.app.screen is self and len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_search" and isinstance(self.focused, Input):
            return False  # a "/" typed in the search box (or the path prompt) is text
        return True

    def action_focus_search(self) -> None:
        # set_focus at once, not Widget.focus() (queued): keys already on their way, "/fox" pasted or
        # typed fast over SSH, must land in the search box
        self.set_focus(self.query_one("#history-search", Input))

    def action_edit_result(self) -> None:
        job = self._require_job()
        if job is None:
            return
        if not job.outputs:
            self.notify(f"Job #{job.id} has no result to edit.", severity="warning")
            return
        from seedream_tui.tui.messages import EditResult

        self.app.post_message(EditResult(job))

    def action_load(self) -> None:
        job = self._require_job()
        if job is None:
            return
        from seedream_tui.tui.messages import LoadIntoEditor

        self.app.post_message(LoadIntoEditor(job))
        self.action_back()

    def action_rerun(self) -> None:
        """Submit the job's input again; with jobs marked, each of them, after one question (each is paid)."""
        jobs = self._targets()
        if len(jobs) == 1:
            self._rerun([jobs[0].id])
        elif jobs:
            ids = [job.id for job in jobs]
            cost = total_sentence(quote_job(self.core.registry, job.model_id, job.inputs) for job in jobs)
            question = (
                f"Submit the {len(ids)} marked jobs again? Each one is a new generation, paid as such: {cost}."
            )

            def done(yes: bool | None) -> None:
                if yes:
                    self._rerun(ids)

            self.app.push_screen(ConfirmScreen(question, yes_label="Re-run"), done)

    @work(group="history-action", exit_on_error=False)
    async def _rerun(self, job_ids: list[int]) -> None:
        made: list[tuple[int, int]] = []
        for job_id in job_ids:
            try:
                new = await self.core.rerun(job_id)
            except Exception as exc:  # noqa: BLE001 - say so, and submit nothing more after a refusal
                self.notify(error_sentence(f"re-run job #{job_id}", exc), severity="error")
                break
            made.append((job_id, new.id))
        if len(made) == 1:
            self.notify(f"Job #{made[0][0]} submitted again as job #{made[0][1]}.")
        elif made:
            self.notify(f"Submitted {len(made)} jobs again: #{made[0][1]} to #{made[-1][1]}.")

    def action_export(self) -> None:
        jobs = self._targets()
        if not jobs:
            return
        with_files = [job for job in jobs if any(f.path for f in job.outputs)]
        if not with_files:
            sentence = (
                f"Job #{jobs[0].id} has no downloaded image to export."
                if len(jobs) == 1
                else "None of the marked jobs has a downloaded image to export."
            )
            self.notify(sentence, severity="warning")
            return
        pictures = Path.home() / "Pictures"
        default = pictures / "seedream" if pictures.is_dir() else Path.cwd()
        what = f"job #{jobs[0].id}" if len(jobs) == 1 else f"the {len(jobs)} marked jobs"
        message = f"Export the images of {what} to this folder (created if missing):"
        ids = [job.id for job in with_files]

        def done(folder: str | None) -> None:
            if folder:
                self._export(ids, Path(folder).expanduser())

        self.app.push_screen(PromptScreen(message, str(default), ok_label="Export"), done)

    @work(group="history-action", exit_on_error=False)
    async def _export(self, job_ids: list[int], dest: Path) -> None:
        try:
            written = await self.core.export(job_ids, dest)
        except Exception as exc:  # noqa: BLE001
            self.notify(error_sentence(f"export to {dest}", exc), severity="error")
            return
        noun = "file" if len(written) == 1 else "files"
        self.notify(f"Exported {len(written)} {noun} to {dest}.")

    def action_delete(self) -> None:
        jobs = self._targets()
        if not jobs:
            return
        files = sum(1 for job in jobs for f in job.outputs if f.path)
        if len(jobs) == 1:
            extra = f" and its {files} image file{'s' if files != 1 else ''}" if files else ""
            question = f"Delete job #{jobs[0].id}{extra}? This cannot be undone."
        else:
            extra = f" and their {files} image file{'s' if files != 1 else ''}" if files else ""
            question = f"Delete the {len(jobs)} marked jobs{extra}? This cannot be undone."
        ids = [job.id for job in jobs]

        def done(yes: bool | None) -> None:
            if yes:
                self._delete(ids)

        self.app.push_screen(ConfirmScreen(question, yes_label="Delete"), done)

    @work(group="history-action", exit_on_error=False)
    async def _delete(self, job_ids: list[int]) -> None:
        table = self.query_one(DataTable)
        deleted: list[int] = []
        try:
            for job_id in job_ids:
                await self.core.delete(job_id)
                deleted.append(job_id)
                self.marked.pop(job_id, None)
                if self._jobs.pop(job_id, None) is not None:
                    table.remove_row(str(job_id))
        except Exception as exc:  # noqa: BLE001
            self.notify(error_sentence("delete this job" if len(job_ids) == 1 else "delete those jobs", exc),
                        severity="error")
        if deleted:
            self.app.post_message(JobsDeleted(tuple(deleted)))  # every other view drops them too
            names = f"job #{deleted[0]}" if len(deleted) == 1 else f"{len(deleted)} jobs"
            self.notify(f"Deleted {names}.")
        self._count(self._generation)
        self._show_count()
        self._update_empty()
        self._show_selected()

    def _copy(self, what: str, pick: Callable[[OutputFile], str | None], missing: str) -> None:
        """Copy one value per output file of the target jobs to the clipboard (OSC 52), or say there is none."""
        jobs = self._targets()
        if not jobs:
            return
        values = [value for job in jobs for f in job.outputs if (value := pick(f))]
        if not values:
            which = f"Job #{jobs[0].id} has" if len(jobs) == 1 else "The marked jobs have"
            self.notify(f"{which} {missing}", severity="warning")
            return
        self.app.copy_to_clipboard("\n".join(values))
        self.notify(f"Copied {f'the {what}' if len(values) == 1 else f'{len(values)} {what}s'} to the clipboard.")

    def action_copy_path(self) -> None:
        self._copy("path", lambda f: f.path, "no downloaded image yet.")

    def action_copy_url(self) -> None:
        self._copy("URL", lambda f: f.url, "no image URL yet.")
