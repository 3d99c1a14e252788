"""A batch as a contact sheet: its jobs' thumbnails laid out by the values that made them (an X/Y plot).

The layout is :mod:`seedream_tui.batch.sheet`'s (first swept axis = columns, second = rows, further axes =
stacked groups, titled), the tiles are the gallery's (:class:`~seedream_tui.tui.widgets.gallery.Tile`, its
thumbnails decoded in a thread from the downloader's cached thumbnail). Tiles shrink to fit the window down to
a least size, and the sheet scrolls both ways when it is larger than the window (80×24 and smaller).
Only the tiles in view are decoded; a scroll or a resize loads the ones that came into view.

Keys: arrows move, enter views the tile full screen, ``r`` runs the batch's failed jobs again and ``R`` all of
them (a new batch, after one question with the price), ``e`` exports the images with the sheet as a PNG,
``q``/escape go back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, ScrollableContainer
from textual.geometry import Region
from textual.widgets import Static

from seedream_tui.batch.sheet import Sheet, batch_sheet, cell_word, progress_of
from seedream_tui.catalog.pricing import total_sentence
from seedream_tui.jobs.exporting import default_export_dir
from seedream_tui.jobs.model import Batch, Job, OutputFile
from seedream_tui.safetext import visible
from seedream_tui.tui import images
from seedream_tui.tui.compat import OneLayoutPerResize
from seedream_tui.tui.formatting import error_sentence
from seedream_tui.tui.messages import JobChanged
from seedream_tui.tui.widgets.gallery import Tile, decode_tiles, first_output
from seedream_tui.tui.widgets.keyhints import KeyHints

#: a tile's least and largest size in cells (picture plus a caption line)
TILE_LEAST = (14, 5)
TILE_MOST = (26, 11)
#: cells drawn at most: a bigger batch shows its first cells and says so (its PNG export holds them all)
MAX_CELLS = 400


class SheetTile(Tile):
    """A gallery tile that says ``missing`` for an empty place and the status word for a job without an image."""

    def show(self, job: Job | None, *, marked: bool, cursor: bool) -> bool:
        if job is None:
            self.set_class(False, "-blank")
            self.set_class(cursor, "-cursor")
            self.job = None
            self._caption.update(Text("missing" if cursor else "", style="dim"))
            self._word("missing")
            return False
        load = super().show(job, marked=marked, cursor=cursor)
        if first_output(job) is None and job.status.terminal:
            self._word(cell_word(job))
        return load

    def on_resize(self) -> None:
        """Laid out (or resized): the sheet loads the pictures now in view. (Textual calls Tile's own handler
        too, which fits the caption.)"""
        screen = self.screen
        if isinstance(screen, BatchSheetScreen):
            screen._load_soon()


class _Body(ScrollableContainer, can_focus=False):
    """The scrolled sheet: not focusable, so the arrows move the tile cursor (the view follows it)."""

    def on_resize(self) -> None:
        """Its own size changed (the key hints below took a second line, the title wrapped), not only the
        screen's: the tiles are fitted again (a tile a row too tall in one run of two, before)."""
        screen = self.screen
        if isinstance(screen, BatchSheetScreen):
            screen.on_resize()


class BatchSheetScreen(OneLayoutPerResize[None]):
    """One batch as a grid of thumbnails; opened from the job table, the history or a folded batch row."""

    DEFAULT_CSS = """
    BatchSheetScreen #sheet-title { height: 1; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis; }
    BatchSheetScreen #sheet-body { height: 1fr; }
    BatchSheetScreen .sheet-group { height: auto; width: auto; }
    BatchSheetScreen .sheet-heading { height: 1; width: auto; text-style: bold; padding: 0 1; text-wrap: nowrap; }
    BatchSheetScreen .sheet-col { height: 1; text-align: center; text-wrap: nowrap; text-overflow: ellipsis; }
    BatchSheetScreen .sheet-row { content-align: right middle; padding-right: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    BatchSheetScreen .sheet-corner { height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    BatchSheetScreen SheetTile { width: 1fr; height: 1fr; }
    BatchSheetScreen #sheet-word { height: 1fr; content-align: center middle; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="sheet-back"),
        Binding("enter", "open", "View", id="sheet-view", tooltip="View the tile's images full screen"),
        Binding("r", "rerun(True)", "Re-run failed", id="sheet-rerun-failed",
                tooltip="Run the batch's failed, cancelled and expired jobs again as a new batch (asks first)"),
        Binding("R", "rerun(False)", "Re-run all", id="sheet-rerun-all",
                tooltip="Run all the batch's jobs again as a new batch (asks first)"),
        Binding("e", "export", "Export", id="sheet-export",
                tooltip="Copy the batch's images to a folder with its contact sheet as one PNG"),
        Binding("left", "move(0, -1)", "Left", show=False, id="sheet-left"),
        Binding("right", "move(0, 1)", "Right", show=False, id="sheet-right"),
        Binding("up", "move(-1, 0)", "Up", show=False, id="sheet-up"),
        Binding("down", "move(1, 0)", "Down", show=False, id="sheet-down"),
        Binding("home", "move_to(0)", "First", show=False, id="sheet-first"),
        Binding("end", "move_to(-1)", "Last", show=False, id="sheet-last"),
    ]

    def __init__(self, core: Any, batch_id: int) -> None:
        super().__init__()
        self.core = core
        self.batch_id = batch_id
        self.batch_row: Batch | None = None
        self.jobs: list[Job] = []
        self.sheet: Sheet | None = None
        #: the tiles by visual row (groups one after the other), as made: never found by a query
        self.rows: list[list[SheetTile]] = []
        self.cursor = (0, 0)
        self._grids: list[tuple[Grid, int, int]] = []
        self._label_width = 0
        self._tile_size = TILE_MOST
        self._title = Static("", id="sheet-title", markup=False)
        self._body = _Body(id="sheet-body")
        self._word_label = Static("Reading the batch…", id="sheet-word", markup=False)
        self._loading_due = False

    def compose(self) -> ComposeResult:
        yield self._title
        with self._body:
            yield self._word_label
        yield KeyHints()

    def on_mount(self) -> None:
        self._title.update(f"Batch {self.batch_id}")
        self.watch(self._body, "scroll_y", lambda: self._load_soon(), init=False)
        self.watch(self._body, "scroll_x", lambda: self._load_soon(), init=False)
        self._read()

    def on_screen_suspend(self) -> None:
        images.wipe_graphics(self.app)  # no sixel fragment stays on the screen below

    # ------------------------------------------------------------------ reading and building
    @work(group="sheet-read", exclusive=True, exit_on_error=False)
    async def _read(self) -> None:
        try:
            batch, jobs = await self.core.batch_and_jobs(self.batch_id)
        except Exception as exc:  # noqa: BLE001 - LookupError, HistoryError: a sentence either way
            self.app.notify(error_sentence(f"open batch {self.batch_id}", exc), severity="error")
            self._word_label.update(str(exc))
            return
        self.batch_row, self.jobs = batch, jobs
        if not jobs:
            self._word_label.update(f"Batch {self.batch_id} has no jobs.")
            self._show_title()
            return
        self.sheet = batch_sheet(batch, jobs)
        await self._build()

    def _show_title(self) -> None:
        batch = self.batch_row
        label = " ".join((batch.label if batch else "").split())
        parts = [f"Batch {self.batch_id}"]
        if label:
            parts[0] += f": {visible(label)}"
        if self.sheet is not None:
            if self.sheet.col_key:
                parts.append(f"→ {visible(self.sheet.col_key)}")
            if self.sheet.row_key:
                parts.append(f"↓ {visible(self.sheet.row_key)}")
        parts.append(progress_of(self.jobs))
        self._title.update(" · ".join(parts))

    async def _build(self) -> None:
        sheet = self.sheet
        if sheet is None:
            return
        self._show_title()
        self._label_width = self._label_cells(sheet)
        self._tile_size = self._fit_tiles()
        widgets: list[Any] = []
        self.rows, self._grids = [], []
        drawn = 0
        for group in sheet.groups:
            cols, rows = group.shape
            if drawn + cols * rows > MAX_CELLS and self.rows:
                left = sum(g.shape[0] * g.shape[1] for g in sheet.groups) - drawn
                widgets.append(Static(f"… {left} more cells: export the sheet (e) to see them all.",
                                      classes="sheet-heading", markup=False))
                break
            drawn += cols * rows
            if group.title:
                widgets.append(Static(visible(group.title), classes="sheet-heading", markup=False))
            children: list[Any] = [Static(visible(sheet.row_key), classes="sheet-corner", markup=False)]
            children += [Static(visible(text), classes="sheet-col", markup=False) for text in group.col_labels]
            for r, row in enumerate(group.cells):
                children.append(Static(visible(group.row_labels[r]), classes="sheet-row", markup=False))
                tiles = [SheetTile() for _ in row]
                for tile, job in zip(tiles, row, strict=True):
                    tile.show(job, marked=False, cursor=False)  # before it is laid out: its resize loads it
                children += tiles
                self.rows.append(tiles)
            grid = Grid(*children, classes="sheet-group")  # its parts given now: mounted with it, in one go
            self._grids.append((grid, cols, rows))
            widgets.append(grid)
        if not self.is_attached:
            return  # closed while the batch was read
        self._apply_sizes()
        await self._body.mount_all(widgets)
        if self._word_label.is_attached:
            await self._word_label.remove()
        self._move_cursor(0, 0)
        self._load_soon()

    def _label_cells(self, sheet: Sheet) -> int:
        widest = max([len(sheet.row_key)] + [len(t) for g in sheet.groups for t in g.row_labels])
        return 0 if widest == 0 else min(widest + 2, 16)

    def _fit_tiles(self) -> tuple[int, int]:
        """The tile size that shows the widest group whole, within the least and largest sizes."""
        if self.sheet is None:
            return TILE_MOST
        # the body's outer size: the same with or without its scroll bars (fitted to the inner size, tiles that
        # then need a scroll bar would be fitted smaller, lose it, and grow again)
        body = self._body.region.size
        width, height = body if body.width else self.app.size
        cols = max(1, self.sheet.columns)
        rows = max((g.shape[1] for g in self.sheet.groups), default=1)
        w = (width - self._label_width - 2) // cols
        h = (height - 2) // rows
        return (max(TILE_LEAST[0], min(TILE_MOST[0], w)), max(TILE_LEAST[1], min(TILE_MOST[1], h)))

    def _apply_sizes(self) -> None:
        tw, th = self._tile_size
        label = max(1, self._label_width)
        for grid, cols, rows in self._grids:
            grid.styles.grid_size_columns = cols + 1
            grid.styles.grid_size_rows = rows + 1
            grid.styles.grid_columns = f"{label} " + " ".join([str(tw)] * cols)
            grid.styles.grid_rows = "1 " + " ".join([str(th)] * rows)
            grid.styles.width = label + cols * tw
            grid.styles.height = 1 + rows * th

    def on_resize(self) -> None:
        if self.sheet is None or not self._grids:
            return
        size = self._fit_tiles()
        if size != self._tile_size:
            self._tile_size = size
            self._apply_sizes()
        self._load_soon()

    # ------------------------------------------------------------------ pictures
    def _load_soon(self) -> None:
        if not self._loading_due:
            self._loading_due = True
            self.call_after_refresh(self._load_in_view)

    def _in_view(self) -> list[SheetTile]:
        """The tiles inside the scrolled window (by the layout's own offsets: no compositor lookups)."""
        body = self._body
        view = Region(round(body.scroll_x), round(body.scroll_y), body.size.width, body.size.height)
        out = []
        grids = iter(self._grids)
        row_index = 0
        for grid, _cols, rows in grids:
            origin = grid.virtual_region.offset
            for tiles in self.rows[row_index:row_index + rows]:
                for tile in tiles:
                    region = tile.virtual_region.translate(origin)
                    if region.overlaps(view):
                        out.append(tile)
            row_index += rows
        return out

    def _load_in_view(self) -> None:
        self._loading_due = False
        if not self.is_attached or not images.enabled():
            return
        wanted: list[tuple[SheetTile, OutputFile, tuple[int, int]]] = []
        tiles = self._in_view()
        box = tiles[0].pixel_box() if tiles else (1, 1)
        for tile in tiles:
            job = tile.job
            output = first_output(job) if job is not None else None
            if output is not None and tile.shown_path != output.path:
                wanted.append((tile, output, box))
        if wanted:
            self._load(wanted)

    @work(thread=True, exclusive=True, group="sheet-thumbs", exit_on_error=False)
    def _load(self, wanted: list[tuple[SheetTile, OutputFile, tuple[int, int]]]) -> None:
        decode_tiles(self.app, wanted, 4, self._pictures_ready)

    def _pictures_ready(self, ready: list[tuple[SheetTile, OutputFile, Any]]) -> None:
        if not self.is_attached:
            return  # closed while the pictures were decoded
        with self.app.batch_update():
            for tile, output, picture in ready:
                job = tile.job
                if not tile.is_attached or job is None or (first := first_output(job)) is None:
                    continue
                if first.path != output.path:
                    continue
                if picture is None:
                    tile._word("unreadable image")
                else:
                    tile.set_picture(str(output.path), picture)

    def drawn(self) -> bool:
        """Every tile in view shows its picture or its word (tests)."""
        if self.sheet is None or not self.rows:
            return False
        in_view = self._in_view()
        if not in_view:
            return False  # not laid out yet
        for tile in in_view:
            output = first_output(tile.job) if tile.job is not None else None
            if output is not None and images.enabled() and tile.shown_path != output.path:
                return False
        return True

    # ------------------------------------------------------------------ live changes
    def on_job_changed(self, message: JobChanged) -> None:
        job = message.job
        if job.batch_id != self.batch_id:
            return
        self.jobs = [job if j.id == job.id else j for j in self.jobs]
        if self.sheet is not None:
            self._show_title()
        for r, tiles in enumerate(self.rows):
            for c, tile in enumerate(tiles):
                if tile.job is not None and tile.job.id == job.id:
                    if tile.show(job, marked=False, cursor=(r, c) == self.cursor):
                        self._load_soon()
                    return

    # ------------------------------------------------------------------ keys
    def _move_cursor(self, row: int, col: int) -> None:
        if not self.rows:
            return
        row = max(0, min(row, len(self.rows) - 1))
        col = max(0, min(col, len(self.rows[row]) - 1))
        old_r, old_c = self.cursor
        if old_r < len(self.rows) and old_c < len(self.rows[old_r]):
            old = self.rows[old_r][old_c]
            old.show(old.job, marked=False, cursor=False)
        self.cursor = (row, col)
        tile = self.rows[row][col]
        tile.show(tile.job, marked=False, cursor=True)
        if tile.is_attached:
            self._body.scroll_to_widget(tile, animate=False, immediate=True)

    def action_move(self, rows: int, cols: int) -> None:
        if not self.rows:
            self.app.bell()
            return
        r, c = self.cursor
        self._move_cursor(r + rows, c + cols)

    def action_move_to(self, where: int) -> None:
        if self.rows:
            self._move_cursor(0, 0) if where == 0 else self._move_cursor(len(self.rows) - 1, len(self.rows[-1]) - 1)

    def action_open(self) -> None:
        """The tile's job full screen; the viewer walks the sheet's jobs in its order."""
        if not self.rows:
            return
        r, c = self.cursor
        job = self.rows[r][c].job
        ordered = [t.job for row in self.rows for t in row if t.job is not None]
        if job is None:
            self.app.bell()
            return
        from seedream_tui.tui.screens.viewer import ViewerScreen

        self.app.push_screen(ViewerScreen(ordered, ordered.index(job), moved=self._moved))

    def _moved(self, job: Job) -> None:
        for r, tiles in enumerate(self.rows):
            for c, tile in enumerate(tiles):
                if tile.job is not None and tile.job.id == job.id:
                    self._move_cursor(r, c)
                    return

    def action_close(self) -> None:
        self.dismiss(None)

    def action_rerun(self, only_failed: bool) -> None:
        """A new batch of this one's jobs (or failed ones), after the question any paid submit of several asks."""
        self._ask_rerun(only_failed)

    @work(group="sheet-rerun", exclusive=True, exit_on_error=False)
    async def _ask_rerun(self, only_failed: bool) -> None:
        from seedream_tui.tui.screens.confirm import ConfirmScreen

        try:
            plan = await self.core.rerun_plan(self.batch_id, only_failed=only_failed)
        except Exception as exc:  # noqa: BLE001 - LookupError: nothing to run again; a sentence either way
            self.app.notify(str(exc) if isinstance(exc, LookupError) else error_sentence("plan the re-run", exc),
                            severity="warning")
            return
        cost = total_sentence(job.quote for job in plan.jobs)
        what = "failed jobs" if only_failed else "jobs"
        if self.core.demo:
            question = (f"Run batch {self.batch_id}'s {plan.count} {what} again, as a new batch? "
                        f"(demo prices, not charged: {cost}).")
        else:
            question = (f"Run batch {self.batch_id}'s {plan.count} {what} again, as a new batch? Each one is a new "
                        f"generation, paid as such: {cost}.")
        if not await self.app.push_screen_wait(ConfirmScreen(question, yes_label="Re-run")):
            return
        try:
            batch, jobs = await self.core.submit_batch(plan)
        except Exception as exc:  # noqa: BLE001 - refused (budget, token): say so
            self.app.notify(error_sentence(f"re-run batch {self.batch_id}", exc), severity="error")
            return
        self.app.notify(f"Submitted batch {batch.id}: {len(jobs)} jobs, a re-run of batch {self.batch_id}.")

    def action_export(self) -> None:
        from seedream_tui.tui.screens.confirm import PromptScreen

        default = default_export_dir() / f"batch-{self.batch_id}"
        message = f"Export batch {self.batch_id}'s images and its contact sheet (one PNG) to this folder:"

        def done(folder: str | None) -> None:
            if folder:
                self._export(Path(folder).expanduser())

        self.app.push_screen(PromptScreen(message, str(default), ok_label="Export"), done)

    @work(group="sheet-export", exit_on_error=False)
    async def _export(self, dest: Path) -> None:
        try:
            written = await self.core.export_batch(self.batch_id, dest, sheet=dest / f"batch-{self.batch_id}-sheet.png")
        except Exception as exc:  # noqa: BLE001
            self.app.notify(error_sentence(f"export batch {self.batch_id}", exc), severity="error")
            return
        self.app.notify(f"Exported {len(written) - 1} images and the contact sheet to {dest}.")
