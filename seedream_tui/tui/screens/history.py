"""Every past job, newest first, searchable, as a table or a gallery of thumbnails (``g`` switches).

A thin view over :class:`~seedream_tui.jobs.view.HistoryView`, which holds the query, the loaded pages,
the total, the marks and the cursor: the table and the gallery draw the same list, so switching keeps
the cursor on the same job. A change of search text or filter starts a new query (the only time the
table is cleared); job changes from the core update just their row and tile. The actions on jobs
(re-run, export, delete, copy, compare, view) are in :mod:`history_actions`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, ScreenStackError
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.timer import Timer
from textual.widgets import Input, Select, Static

from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.view import ALL, DATE_CHOICES, PAGE_SIZE, HistoryQuery, HistoryView
from seedream_tui.tui import compat
from seedream_tui.tui.compat import MountGuardedSelect, OneLayoutPerResize
from seedream_tui.tui.formatting import error_sentence, fmt_short_time, job_badge, short_model, status_text
from seedream_tui.tui.plain import plain_line
from seedream_tui.tui.screens.detail import JobDetailScreen
from seedream_tui.tui.screens.history_actions import HistoryActions
from seedream_tui.tui.widgets.gallery import Gallery
from seedream_tui.tui.widgets.history_table import HistoryTable
from seedream_tui.tui.widgets.job_preview import JobPreview
from seedream_tui.tui.widgets.keyhints import KeyHints

__all__ = ["PAGE_SIZE", "HistoryQuery", "HistoryScreen"]

log = logging.getLogger(__name__)

#: load the next page when the cursor is this many rows from the end
PREFETCH_ROWS = 30
#: the search runs this long after the last key typed (a burst of keys is one search): part of what a user waits
#: from the last key to the rows (issue 23: ≤ 150 ms at 1M jobs with the search itself, ~70 ms there; a page of
#: an older query that lands late is dropped by its generation)
SEARCH_DEBOUNCE = 0.06
#: narrower than this, the table leaves out the creation time and the model so the prompt still shows
TIGHT_BELOW = 72
#: longer prompts are cut before they reach the table (its widest prompt column is this wide)
PROMPT_CELL_CHARS = 100
#: closed and laid out for a new size (fit_to_terminal): checked this often, this many times at most, until its
#: gallery has its new thumbnails; then drawn once, unseen
SETTLE_EVERY = 0.1
SETTLE_TRIES = 30


def _prompt_cell(job: Job) -> Text:
    text = job.prompt_line
    text = text if len(text) <= PROMPT_CELL_CHARS else text[: PROMPT_CELL_CHARS - 1] + "…"
    badge = job_badge(job)
    if badge:  # a video: ``▶ 0:05`` before its prompt
        cell = plain_line(f"{badge} ", style="bold")
        cell.append_text(plain_line(text))
        return cell
    return plain_line(text)


class HistoryScreen(HistoryActions, OneLayoutPerResize[None]):
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
    HistoryScreen #history-gallery { display: none; }
    HistoryScreen.-gallery #history-gallery { display: block; }
    HistoryScreen.-gallery #history-table { display: none; }
    HistoryScreen.-gallery JobPreview { display: none; }
    HistoryScreen #history-empty { display: none; height: 1fr; content-align: center middle; color: $text-muted; }
    HistoryScreen.-empty #history-empty { display: block; }
    HistoryScreen.-empty #history-table, HistoryScreen.-empty #history-gallery { display: none; }
    HistoryScreen #history-count { height: 1; padding: 0 1; color: $text-muted; background: $boost; }
    HistoryScreen JobPreview { width: 64; border-left: vkey $primary-darken-2; }
    HistoryScreen.-narrow #history-body { layout: vertical; }
    HistoryScreen.-narrow JobPreview { width: 1fr; height: 7; border-left: none; border-top: hkey $primary-darken-2; }
    HistoryScreen.-narrow JobPreview { layout: horizontal; }
    HistoryScreen.-narrow JobPreview #preview-image-box { width: 20; height: 100%; }
    HistoryScreen.-narrow JobPreview #preview-info { width: 1fr; height: 100%; margin: 0 1 0 0; }
    HistoryScreen.-cramped #history-filters {
        layout: grid; grid-size: 3 2; grid-columns: 1fr 1fr 1fr; grid-rows: 3 1; grid-gutter: 0 1; height: 4;
    }
    HistoryScreen.-cramped #history-search { column-span: 3; }
    HistoryScreen.-cramped #history-filters Select { width: 1fr; }
    HistoryScreen.-short JobPreview { display: none; }
    HistoryScreen.-narrow #history-status { width: 20; }
    HistoryScreen.-narrow #history-model { width: 19; }
    HistoryScreen.-narrow #history-date { width: 17; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="history-back"),
        # priority: the app runs it as the key arrives, so the keys right behind it ("/fox" in one burst over
        # SSH, or pasted) already go to the search box; inactive while typing there (see check_action)
        Binding("slash", "focus_search", "Search", id="history-search", priority=True),
        Binding("g", "toggle_gallery", "Gallery", tooltip="Switch between the table and a gallery of thumbnails",
                id="history-gallery"),
        *HistoryActions.ACTION_BINDINGS,
    ]

    def __init__(self, core: Any, *, first_page: list[Job] | None = None) -> None:
        """``first_page``: the newest ``PAGE_SIZE`` jobs as read at start (the main screen's first page), shown
        at once when the screen opens with no filters, then checked against the history (``_refresh``)."""
        super().__init__()
        self.core = core
        self.view = HistoryView(core.history)
        if first_page is not None:
            self.view.add_page(list(first_page))
        self._search_timer: Timer | None = None
        #: the whole history used one model (its column is then left out)
        self._one_model = False
        #: a job changed while the screen was closed: its row may be out of date (redrawn at the next open)
        self._stale = False
        #: the gallery is brought up to date once after a burst of job changes, not once per change
        self._gallery_sync_pending = False
        #: fitting itself to a new terminal size while closed (``fit_to_terminal`` until ``_settle_closed`` ends)
        self._settling = False

    async def build_ahead(self) -> None:
        """Read the first page and build the screen before it is first shown (the app calls it after its first
        frame; the screen must be installed).

        At a million jobs the first F2 otherwise waits for the screen's widgets to be built and styled
        (~150 ms) and for its first page, read behind the start-up's own history reads (a whole-history count
        among them): ~230-590 ms. Built ahead, the first open costs what a reopen costs.
        """
        try:
            if not self.view.jobs:
                await self.view.load_page()
        except Exception:  # noqa: BLE001 - the screen reads again when mounted, and says what failed
            log.debug("the history's first page was not read ahead", exc_info=True)
        # what push_screen does first: mount the screen (compose, styles, rows) while another one is shown
        compat.mount_screen_ahead(self.app, self)

    @property
    def query_state(self) -> HistoryQuery:
        return self.view.query

    @property
    def marked(self) -> dict[int, Job]:
        """Marked jobs, in the order they were marked (kept across searches)."""
        return self.view.marked

    # ---------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        # the size classes before the widgets are styled: set on mount, each restyled the whole screen again
        classes = self._size_classes()
        # only the widgets below match on them, styled as they mount (the first page is read by then: built ahead)
        self.update_classes({**classes, "-empty": self.view.empty}, update=False)
        compact = classes["-cramped"]
        with Horizontal(id="history-filters"):
            yield Input(placeholder="Search prompts…  (/)", id="history-search")
            yield MountGuardedSelect(
                [("any status", ALL)] + [(s.label.split(" ")[0], s.value) for s in JobStatus],
                value=ALL,
                allow_blank=False,
                id="history-status",
                compact=compact,
            )
            yield MountGuardedSelect([("any model", ALL)], value=ALL, allow_blank=False, id="history-model", compact=compact)
            yield MountGuardedSelect(DATE_CHOICES, value=ALL, allow_blank=False, id="history-date", compact=compact)
        with Horizontal(id="history-body"):
            with Vertical(id="history-list"):
                yield HistoryTable(id="history-table")
                # the gallery (a third of the screen's widgets, in its tiles) is built at the first "g"
                yield Static("", id="history-empty")
                yield Static("", id="history-count")
            yield JobPreview(id="history-preview")
        yield KeyHints()

    def on_screen_suspend(self) -> None:
        from seedream_tui.tui import images

        # closed (the screen is kept for a quick reopen) or covered: no sixel fragment of the preview or
        # the gallery stays behind
        images.wipe_graphics(self.app)

    def on_mount(self) -> None:
        self.title = "History"
        table = self.table
        self._apply_size()
        self._add_columns()
        self.watch(table, "scroll_y", self._on_scroll, init=False)
        self._load_models()
        if self.view.jobs or self.view.exhausted:  # given or read ahead: shown at once, then checked
            self._append_rows(self.view.jobs, first_page=True)
            self._show_count()
            self._refresh()
        else:
            self._reload()
        table.focus()

    @property
    def table(self) -> HistoryTable:
        return self.query_one("#history-table", HistoryTable)

    @property
    def gallery(self) -> Gallery:
        return self.query_one(Gallery)

    @property
    def in_gallery(self) -> bool:
        return self.has_class("-gallery")

    def reopen(self) -> None:
        """Opened again (the app keeps one history screen): the last view is drawn at once, then checked.

        Not on every screen resume: closing a dialog over this screen must keep the view as it is.
        """
        if self.is_mounted:
            self._refresh()

    @work(exclusive=True, group="history-refresh", exit_on_error=False)
    async def _refresh(self) -> None:
        """Read the first page again: the same jobs, and nothing more loaded, leave the rows, the cursor and the
        scroll where they were; otherwise the fresh first page replaces the rows in one step (no empty frame
        between), the cursor staying on its job when that is still in it."""
        generation = self.view.generation
        try:
            fresh = await self.view.read_first_page()
        except Exception as exc:  # noqa: BLE001 - shown as a sentence
            self.notify(error_sentence("read the history", exc), severity="error")
            return
        if generation != self.view.generation or self.view.loading == generation:
            return  # a new query (or this one's first page) is on its way
        if fresh == self.view.jobs and not self._stale:
            self._count(generation)  # older jobs may have changed the total
            return
        self._stale = False
        current = self.view.current
        generation = self.view.reset()
        self.view.add_page(fresh)
        self.table.clear()
        self._append_rows(self.view.jobs, first_page=True)
        index = self.view.index_of(current.id) if current is not None else None
        if index:
            self.view.move_to(index)
            self.table.move_cursor(row=index, animate=False)
            self._show_selected()
        self._show_count()
        self._count(generation)

    def on_resize(self) -> None:
        self._apply_size()

    def on_screen_resume(self) -> None:
        """Shown again: laid out for the terminal's size now, before the frame that shows it.

        Runs before Textual's own resume handler (a subclass's handler comes first), which lays the screen out
        and draws it at once: the window may have changed size while another screen was shown, and the
        screen's own resize only comes after that frame (the old 200-column layout squeezed into 60 columns).
        """
        self._apply_size(self.app.size)

    def fit_to_terminal(self) -> None:
        """Closed (kept for a quick reopen) or covered while the window changed size: restyled, laid out and drawn
        for the terminal's size now (the app calls it once a burst of resizes is over), not at the next F2.

        Textual lays out only the screen on top: this one kept the layout of the size it was closed at, and the
        next F2 restyled it, laid it out and drew it at the new size with the old size's gallery (35 tiles at
        200x60), then the gallery's resize swapped its tiles and decoded every thumbnail again for the new tile
        size: ~1.2 s instead of the ~70 ms of a reopen (issue 20 §2). Done here, F2 only shows it.
        """
        size = self.app.size
        if not self._hidden_and_alive() or self.outer_size == size:
            return
        if not self.query("#history-table"):
            return  # built ahead and not composed yet: it is fitted to the terminal's size when it mounts
        if compat.shown_under_top(self.app, self):
            return  # visible under a dialog: Textual lays it out with the top screen
        self._apply_size(size)
        compat.lay_out_hidden_screen(self, size)
        self._settling = True
        self.set_timer(SETTLE_EVERY, lambda: self._settle_closed(SETTLE_TRIES), name="history-settle")

    @property
    def settled(self) -> bool:
        """Not fitting itself to a new terminal size while closed (``fit_to_terminal``): laid out, its thumbnails
        decoded and drawn for that size (tests, the benchmark)."""
        return not self._settling

    def _hidden_and_alive(self) -> bool:
        """Attached, not on top, and the app still has screens (a settle timer can fire while the app closes)."""
        if not self.is_attached or not self.app.is_running:
            return False
        try:
            return self.app.screen is not self
        except ScreenStackError:
            return False

    def _settle_closed(self, tries: int) -> None:
        """What the new layout set off while closed (the gallery's tiles swapped, its thumbnails decoded for the new
        tile size, the layout they ask for, which Textual leaves to the next time the screen is on top), then one
        frame drawn and not shown: the widgets keep their lines of the new size, and F2 draws from them."""
        if not self._hidden_and_alive():
            self._settling = False
            return
        # a layout this time sets off Resize handlers (the gallery's new grid, its tiles' new sizes) that may ask
        # for another: the settle ends at the first look that finds nothing laid out and nothing decoding
        busy = compat.lay_out_if_asked(self, self.app.size)
        decoding = any(not w.is_finished for w in self.workers if w.group == "gallery-thumbs")
        if (decoding or busy) and tries > 0:
            self.set_timer(SETTLE_EVERY, lambda: self._settle_closed(tries - 1), name="history-settle")
            return
        compat.render_unshown(self)
        self._settling = False

    def _apply_size(self, size: Size | None = None) -> None:
        classes = self._size_classes(size)
        retable = classes["-tight"] != self.has_class("-tight")
        # one restyle of the screen for all its classes, not one per class: each costs ~0.1-0.2 s once the
        # gallery is built (F2 after a resize took ~3 s on a busy machine, issue 20 §2); none when they are as set
        self.update_classes(classes)
        for select in self.query("#history-filters Select"):
            select.compact = classes["-cramped"]  # type: ignore[attr-defined]  # one row each, under the search box
        if retable and self.table.columns:
            self._rebuild_table()

    def _size_classes(self, size: Size | None = None) -> dict[str, bool]:
        """The screen's classes for a terminal of ``size`` (default: the screen's own size, or, built ahead and not
        laid out yet, the terminal's, which it will get)."""
        if size is None:
            size = self.size if self.size.area else self.app.size
        return {
            "-narrow": size.width < 130,
            "-short": size.height < 20,  # a short window: the rows win over the preview
            "-cramped": size.width < 100,  # the filters go under the search box, which keeps the whole width
            "-tight": size.width < TIGHT_BELOW,
        }

    def _wanted_columns(self) -> list[tuple[str, str, int]]:
        """(key, label, width) of the columns this width and this history call for; the prompt takes the rest.

        Below ``TIGHT_BELOW`` columns the creation time and the model make room for the prompt (the
        preview pane under the list shows both); the model also goes when the whole history used one model.
        """
        cramped = self.has_class("-tight")
        columns = [("mark", "", 1), ("id", "id", 2)]
        if not cramped:
            columns.append(("created", "created", 16))
        columns.append(("status", "status", 11))
        if not cramped and not self._one_model:
            columns.append(("model", "model", 16))
        columns.append(("prompt", "prompt", PROMPT_CELL_CHARS))
        return columns

    def _add_columns(self) -> None:
        for key, label, width in self._wanted_columns():
            self.table.add_column(label, key=key, width=width)

    def _rebuild_table(self) -> None:
        """Other columns (a width class or the model count changed): the table again, from the view, same cursor."""
        table = self.table
        table.clear(columns=True)
        self._add_columns()
        for job in self.view.jobs:
            table.add_row(*self._cells(job).values(), key=str(job.id))
        self._fit_id_column(force=True)
        if self.view.jobs:
            table.move_cursor(row=self.view.cursor, animate=False)

    @on(HistoryTable.Resized)
    def _fit_prompt_column(self) -> None:
        """A fitted fixed width: long prompts end in "…" instead of widening the table.

        Not before the table has a size (rows shown as the screen is built): until its first layout the
        prompt keeps its widest width, cropped at the table's edge, and is fitted when the table is sized.
        """
        table = self.table
        if table.size.width:  # two cells for the vertical scrollbar, unless it is already there
            table.fit_column("prompt", spare=0 if table.show_vertical_scrollbar else 2, most=PROMPT_CELL_CHARS)

    async def action_toggle_gallery(self) -> None:
        """Table ↔ gallery, on the same job."""
        gallery = not self.in_gallery
        if gallery and not self.query(Gallery):
            await self.query_one("#history-list").mount(Gallery(id="history-gallery"), after=self.table)
        self.set_class(gallery, "-gallery")
        if gallery:
            self.gallery.show_jobs(self.view.jobs, self.view.cursor, set(self.view.marked))
            self.set_focus(self.gallery)
        else:
            if self.view.jobs:
                self.table.move_cursor(row=self.view.cursor, animate=False)
            self.set_focus(self.table)
            self._show_selected()

    # ---------------------------------------------------------------- querying
    def _reload(self) -> None:
        """Start a new query: the table is cleared (and the first page of a reopen swapped in, ``_refresh``)."""
        self.view.reset()
        self.table.clear()
        if self.in_gallery:
            self.gallery.show_jobs([], 0, set())
        self._show_count()  # "Counting…": never the old query's total next to the new query's rows
        self._request_page()  # counted once its first page is drawn (see _load_page)

    def _request_page(self) -> None:
        if self.view.wants_page():
            self.run_worker(self._load_page(), group="history-page", exit_on_error=False)

    async def _load_page(self) -> None:
        generation = self.view.generation
        try:
            added = await self.view.load_page()
        except Exception as exc:  # noqa: BLE001 - shown as a sentence
            if generation == self.view.generation:
                self.notify(error_sentence("read the history", exc), severity="error")
                self._count(generation)  # the line under the list says what it can, not "Counting…" forever
            return
        if added is None:
            return  # an older query's page
        first_page = self.table.row_count == 0
        self._append_rows(added, first_page=first_page)
        if first_page:
            # counted after the page is drawn: the count (up to 1,000 matches) would compete with the drawing
            self.call_after_refresh(self._count, generation)

    def _append_rows(self, jobs: list[Job], *, first_page: bool) -> None:
        table = self.table
        for job in jobs:
            table.add_row(*self._cells(job).values(), key=str(job.id))
        self._fit_id_column()
        self._update_empty()
        if self.in_gallery:
            self.gallery.show_jobs(self.view.jobs, self.view.cursor, set(self.view.marked))
        if first_page:
            self._show_selected()

    @work(exclusive=True, group="history-count", exit_on_error=False)
    async def _count(self, generation: int) -> None:
        try:
            total = await self.view.count()
        except Exception as exc:  # noqa: BLE001
            self.notify(error_sentence("count the jobs", exc), severity="error")
            return
        if total is not None:
            self._show_count()

    def _show_count(self) -> None:
        self.query_one("#history-count", Static).update(Text(self.view.count_line()))

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
        # one model in the whole history: its column says nothing, the prompt gets the room
        if (len(ids) <= 1) != self._one_model:
            self._one_model = len(ids) <= 1
            self._rebuild_table()

    def _column_keys(self) -> list[str]:
        return list(self.table.columns)

    def _fit_id_column(self, *, force: bool = False) -> None:
        """The id column as wide as the largest id (the newest is the first row)."""
        if self.view.jobs:
            width = max(2, len(str(max(self.view.jobs[0].id, self.view.jobs[-1].id))))
            column = self.table.columns.get("id")
            if column is not None and (force or column.width != width):
                self.table.set_column_width("id", width)
                self._fit_prompt_column()

    def _set_query(self, query: HistoryQuery) -> None:
        if self.view.set_query(query):
            self._reload()

    def _mark_cell(self, job_id: int) -> Text:
        return Text("●", style="bold yellow") if job_id in self.view.marked else Text("")

    def _cells(self, job: Job) -> dict[str, Any]:
        """The job's cell for each column the table has (the model column may be gone)."""
        cells = {
            "mark": self._mark_cell(job.id),
            "id": Text(str(job.id), justify="right"),
            "created": Text(fmt_short_time(job.created_at)),  # a Text: a str cell is parsed as markup
            "status": status_text(job.status),
            "model": plain_line(short_model(job.model_id)),
            "prompt": _prompt_cell(job),
        }
        return {key: cells[key] for key in self._column_keys()}

    def _update_empty(self) -> None:
        empty = self.view.empty
        if empty:
            self.query_one("#history-empty", Static).update(self.view.empty_sentence())
            self.query_one(JobPreview).show(None)
        self.set_class(empty, "-empty")

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
        self.set_focus(self.gallery if self.in_gallery else self.table)

    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        value = str(event.value) if not event.select.is_blank() else ALL
        field = {"history-status": "status", "history-model": "model_id", "history-date": "date"}.get(
            event.select.id or ""
        )
        if field:
            self._set_query(replace(self.query_state, **{field: value}))

    @on(HistoryTable.RowHighlighted, "#history-table")
    def _row_highlighted(self, event: HistoryTable.RowHighlighted) -> None:
        self.view.move_to(event.cursor_row)
        if self.view.near_end(event.cursor_row, PREFETCH_ROWS):
            self._request_page()
        self._show_selected()

    @on(Gallery.Moved)
    def _tile_moved(self, event: Gallery.Moved) -> None:
        self.view.move_to(event.index)
        if self.view.near_end(event.index, PREFETCH_ROWS):
            self._request_page()

    @on(Gallery.Open)
    def _tile_opened(self, event: Gallery.Open) -> None:
        self.view.move_to(event.index)
        self.action_view()

    @on(HistoryTable.RowSelected, "#history-table")
    def _row_selected(self, event: HistoryTable.RowSelected) -> None:
        job = self.selected_job()
        if job is not None:
            self.app.push_screen(JobDetailScreen(self.core, job.id))

    def _on_scroll(self, _old: float, new: float) -> None:
        table = self.table
        if new + table.size.height >= table.virtual_size.height - PREFETCH_ROWS:
            self._request_page()

    def on_jobs_deleted(self, message: Any) -> None:
        """The app's ``JobsDeleted`` (deleted here or elsewhere): they leave the table, the gallery and the marks."""
        self._remove_rows([job_id for job_id in getattr(message, "job_ids", ()) if self.view.get(job_id)
                           or job_id in self.view.marked])
        self._show_count()
        self._update_empty()
        self._show_selected()

    def _job_changed(self, job: Job) -> None:
        """A job changed (the app's ``JobChanged``): update the row and tile in place, or add a new job on top."""
        if not self.is_attached:
            if self.view.apply_change(job)[0] != "ignored":
                self._stale = True  # the view has it, the table not: redrawn at the next open
            return
        what, index = self.view.apply_change(job)
        if what == "ignored" or index is None:
            return
        table = self.table
        if what == "updated":
            for column, value in self._cells(job).items():
                table.update_cell(str(job.id), column, value)
        else:
            table.add_row(*self._cells(job).values(), key=str(job.id))
            table.sort(key=lambda row: int(row.key), reverse=True)
            table.move_cursor(row=self.view.cursor, animate=False)
            self._show_count()
            self._update_empty()
        if self.in_gallery and not self._gallery_sync_pending:
            self._gallery_sync_pending = True
            self.call_after_refresh(self._sync_gallery)
        if index == self.view.cursor:
            self._show_selected()

    def _sync_gallery(self) -> None:
        """The gallery shows the view as it is now: once per frame however many jobs changed in it (with 40
        jobs finishing, each change redrew every tile)."""
        self._gallery_sync_pending = False
        if self.in_gallery:
            self.gallery.show_jobs(self.view.jobs, self.view.cursor, set(self.view.marked))

    def on_job_changed(self, message: Any) -> None:
        """The app's ``JobChanged``: the app is the core's one subscriber and forwards each change once."""
        job = getattr(message, "job", None)
        if isinstance(job, Job):
            self._job_changed(job)

    # ---------------------------------------------------------------- selection
    def selected_job(self) -> Job | None:
        return self.view.current

    def _show_selected(self) -> None:
        self.query_one(JobPreview).show(self.selected_job())

    def move_cursor_to(self, job_id: int) -> None:
        """Put the cursor (table and gallery) on a job: the viewer ended there, or a mark stepped down."""
        index = self.view.index_of(job_id)
        if index is None:
            return
        self.view.move_to(index)
        self.table.move_cursor(row=index, animate=False)
        if self.in_gallery:
            self.gallery.show_jobs(self.view.jobs, index, set(self.view.marked))

    def _remove_rows(self, job_ids: list[int]) -> None:
        """Deleted jobs leave the table, the gallery and the marks."""
        for job_id in job_ids:
            if self.view.remove(job_id) is not None:
                self.table.remove_row(str(job_id))
        if self.in_gallery:
            self.gallery.show_jobs(self.view.jobs, self.view.cursor, set(self.view.marked))

    def _mark_changed(self, job_id: int) -> None:
        if self.view.get(job_id) is not None:
            self.table.update_cell(str(job_id), "mark", self._mark_cell(job_id))
        self._show_count()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_search" and isinstance(self.focused, Input):
            return False  # a "/" typed in the search box (or the path prompt) is text
        return True

    def action_focus_search(self) -> None:
        # set_focus at once, not Widget.focus() (queued): keys already on their way, "/fox" pasted or
        # typed fast over SSH, must land in the search box
        self.set_focus(self.query_one("#history-search", Input))

    def action_back(self) -> None:
        if isinstance(self.focused, Input | Select):
            # leave the search box or a filter first, like a browser
            self.set_focus(self.gallery if self.in_gallery else self.table)
            return
        if self.view.marked:  # then the marks, like a file manager's selection
            count = len(self.view.marked)
            self.clear_marks()
            self.notify(f"Unmarked {count} job{'s' if count != 1 else ''}.")
            return
        if self.app.screen is self and len(self.app.screen_stack) > 1:
            self.app.pop_screen()
