"""The history's gallery: a grid of thumbnails over the same jobs as the table (``HistoryView``).

Virtual, not a scrolled column of widgets: a fixed set of tiles, as many as fit the widget (at least 2×2),
shows a window of the jobs; moving the cursor past the window's edge shifts the window a row. So a
10,000-job history costs what one page of tiles costs: the tiles are reused, and only the thumbnails in
view are decoded, in a thread, from the downloader's cached thumbnail (``OutputFile.thumb_path``), at the
tile's pixel size; the last few pages' tiles are kept in a small LRU so paging back is instant.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, ClassVar, TypeVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

from seedream_tui.jobs.model import Job, OutputFile
from seedream_tui.tui import images, thumbs
from seedream_tui.tui.formatting import clipped, job_badge, status_text
from seedream_tui.tui.widgets.preview import cell_pixels

T = TypeVar("T")

#: the smallest tile, in cells (image plus one caption line)
TILE_WIDTH = 26
TILE_HEIGHT = 11
#: decoded tile images kept (about three pages at 200x60)
TILE_CACHE = 96
#: rows of tiles whose pictures are set together (each update is one layout pass)
ROWS_PER_UPDATE = 1

_tile_cache: OrderedDict[tuple[str, tuple[int, int]], Any] = OrderedDict()
_tile_lock = threading.Lock()


def grid_shape(width: int, height: int) -> tuple[int, int]:
    """(columns, rows) of tiles for a widget of ``width`` x ``height`` cells: as many as fit, at least 2x2."""
    return max(2, width // TILE_WIDTH), max(2, height // TILE_HEIGHT)


def tile_image(output: OutputFile, box: tuple[int, int]) -> Any:
    """The output's picture at ``box`` pixels, from its cached thumbnail when there is one (runs in a thread)."""
    key = (str(output.path), box)
    with _tile_lock:
        cached = _tile_cache.get(key)
        if cached is not None:
            _tile_cache.move_to_end(key)
            return cached
    picture = thumbs.load_preview(
        str(output.path), box, thumb_path=output.thumb_path, size=(output.width, output.height),
        coarse=True, keep=False,
    )
    with _tile_lock:
        _tile_cache[key] = picture
        while len(_tile_cache) > TILE_CACHE:
            _tile_cache.popitem(last=False)
    return picture


def first_output(job: Job) -> OutputFile | None:
    return next((o for o in job.outputs if o.path), None)


class Tile(Vertical):
    """One job: its first image (or a word about it) and a caption line."""

    DEFAULT_CSS = """
    Tile { width: 1fr; height: 1fr; padding: 0 1; }
    Tile.-cursor { background: $boost; }
    Tile.-cursor .tile-caption { background: $accent; color: $text; text-style: bold; }
    Tile .tile-stage { height: 1fr; align: center middle; }
    Tile .tile-image { width: auto; height: auto; }
    Tile .tile-word { width: 1fr; height: 1fr; content-align: center middle; color: $text-muted; }
    Tile .tile-caption { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    Tile.-blank { visibility: hidden; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.job: Job | None = None
        self.shown_path: str | None = None
        #: the pixel box the shown picture was decoded for: a resize that keeps it needs no new picture
        self.shown_box: tuple[int, int] | None = None
        # the parts are made here, not found by a query: a tile is drawn on before it is composed (just mounted
        # by a resize) and after it was removed (a thumbnail arriving late), and a query then finds nothing
        self._stage = Container(classes="tile-stage")
        self._word_label = Static("", classes="tile-word")
        self._picture = images.hidden_image_widget(classes="tile-image")
        self._caption = Static("", classes="tile-caption")
        self._caption_text = Text()
        #: (marked, cursor) as last shown: the caption is fitted again when the tile's width changes
        self._marks = (False, False)

    def compose(self) -> ComposeResult:
        with self._stage:
            yield self._word_label
            if self._picture is not None:
                yield self._picture
        yield self._caption

    def show(self, job: Job | None, *, marked: bool, cursor: bool) -> bool:
        """Show ``job`` (None: an empty slot); True when its picture must be (re)loaded: the tile does not show
        that image yet (a job read again, its thumbnail's path or any other field changed, keeps its picture)."""
        self.set_class(job is None, "-blank")
        self.set_class(cursor, "-cursor")
        self.job = job
        if job is None:
            return False
        self._marks = (marked, cursor)
        self._set_caption(self.caption(job, marked=marked, cursor=cursor))
        output = first_output(job)
        if output is None or not images.enabled():
            word = "no image" if output is None else "images off"
            self._word(job.status.label if not job.status.terminal else word)
            return False
        return output.path != self.shown_path

    def on_resize(self) -> None:
        """The caption fitted to the new width (the gallery's redraw may run before the tiles have it), and the
        picture decoded again if the tile's pixel box changed since (the gallery's redraw checks each tile)."""
        if self.job is not None:
            marked, cursor = self._marks
            self._set_caption(self.caption(self.job, marked=marked, cursor=cursor))
            gallery = self.parent
            if isinstance(gallery, Gallery) and self.shown_box is not None and self.shown_box != self.pixel_box():
                gallery.redraw_when_laid_out()

    def _set_caption(self, caption: Text) -> None:
        """Only a caption that reads differently is set: each update asks for a layout pass of the screen (a
        redraw of the gallery updates every tile, most of them unchanged)."""
        if caption != self._caption_text:
            self._caption_text = caption
            self._caption.update(caption)

    def caption(self, job: Job, *, marked: bool, cursor: bool) -> Text:
        """One line as wide as the tile: id, status and as much of the prompt as fits, cut with "…" (by cells:
        a prompt that starts with CJK text shows its start too; wrapped, it went whole to an unseen 2nd line)."""
        width = max(0, self.size.width - 2)  # the tile's padding
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append("● " if marked else "", style="bold yellow")
        line.append(f"#{job.id} ", style="bold")
        # on the accent bar of the cursor, the status's own colour would not read: plain there
        line.append_text(Text(job.status.label) if cursor else status_text(job.status))
        if badge := job_badge(job):
            line.append(f" {badge}", style="bold")
        room = width - line.cell_len - 1
        if room > 0:
            line.append(" " + clipped(job.prompt, room), style="dim")
        if width:
            line.truncate(width, overflow="ellipsis")
        return line

    def _word(self, text: str) -> None:
        self.shown_path = self.shown_box = None
        self._word_label.update(Text(text))
        self._word_label.display = True
        if self._picture is not None:
            self._picture.display = False

    def set_picture(self, path: str, picture: Any, box: tuple[int, int] | None = None) -> None:
        if self._picture is not None:
            self._picture.image = picture  # type: ignore[attr-defined]
            self._picture.display = True
        self._word_label.display = False
        self.shown_path, self.shown_box = path, box

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on this tile; a double click views it."""
        gallery = self.parent
        if isinstance(gallery, Gallery) and self.job is not None:
            event.stop()
            if self not in gallery.tiles:
                return  # on its way out (a resize removed it)
            index = gallery.first + gallery.tiles.index(self)
            gallery.focus()
            gallery._go(index)
            if event.chain >= 2:
                gallery.action_open()

    def pixel_box(self) -> tuple[int, int]:
        cw, ch = cell_pixels()
        return max(1, self._stage.size.width) * cw, max(1, self._stage.size.height) * ch


class Gallery(Widget, can_focus=True):
    """A window of ``jobs`` as tiles; posts :class:`Moved`, :class:`Open` and :class:`NearEnd`."""

    DEFAULT_CSS = """
    Gallery { layout: grid; grid-size: 2 2; height: 1fr; min-height: 6; }
    Gallery:focus .tile-caption { text-style: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "Left", show=False, id="gallery-left"),
        Binding("right", "move(1)", "Right", show=False, id="gallery-right"),
        Binding("up", "move_rows(-1)", "Up", show=False, id="gallery-up"),
        Binding("down", "move_rows(1)", "Down", show=False, id="gallery-down"),
        Binding("pageup", "move_pages(-1)", "Page up", show=False, id="gallery-page-up"),
        Binding("pagedown", "move_pages(1)", "Page down", show=False, id="gallery-page-down"),
        Binding("home", "move_to(0)", "First", show=False, id="gallery-first"),
        Binding("end", "move_to(-1)", "Last", show=False, id="gallery-last"),
        Binding("enter", "open", "View", show=False, id="gallery-open", tooltip="View the job's images full screen"),
    ]

    class Moved(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class Open(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.jobs: list[Job] = []
        self.marked: set[int] = set()
        self.cursor = 0
        #: index of the job in the first tile
        self.first = 0
        self.columns, self.rows = 2, 2
        #: the tiles in use, in grid order: the gallery's own list, so a tile being mounted or removed by a resize
        #: is never looked for with a query in between (drawn on while it has no parts: NoMatches)
        self.tiles: list[Tile] = [Tile() for _ in range(self.columns * self.rows)]
        self._redraw_pending = False

    def compose(self) -> ComposeResult:
        yield from self.tiles

    def on_resize(self) -> None:
        shape = grid_shape(self.size.width, self.size.height)
        if shape != (self.columns, self.rows):
            self.columns, self.rows = shape
            self.styles.grid_size_columns, self.styles.grid_size_rows = shape
            wanted = self.columns * self.rows
            # the list changes now, the DOM follows: a redraw in between draws only tiles that stay
            if len(self.tiles) < wanted:
                added = [Tile() for _ in range(wanted - len(self.tiles))]
                self.tiles.extend(added)
                self.mount_all(added)
            elif len(self.tiles) > wanted:
                gone, self.tiles = self.tiles[wanted:], self.tiles[:wanted]
                self.remove_children(gone)
            self._scroll_to_cursor()
        self.redraw_when_laid_out()

    def redraw_when_laid_out(self) -> None:
        """A redraw (and the thumbnails of a new tile size) once the layout settles: one for a burst of resizes,
        not one each. The tiles call it too: theirs can change size in a later layout pass than the gallery's."""
        if not self._redraw_pending:
            self._redraw_pending = True
            self.call_after_refresh(self._redraw_after_resize)

    def _redraw_after_resize(self) -> None:
        self._redraw_pending = False
        self.redraw(True)

    # ---------------------------------------------------------------- data
    def show_jobs(self, jobs: list[Job], cursor: int, marked: set[int]) -> None:
        """The jobs (the view's list, newest first), where the cursor is, and which are marked."""
        self.jobs, self.marked = jobs, marked
        self.cursor = max(0, min(cursor, len(jobs) - 1))
        self._scroll_to_cursor()
        self.redraw()

    @property
    def page(self) -> int:
        return self.columns * self.rows

    def _scroll_to_cursor(self) -> None:
        row = self.cursor // self.columns
        first_row = self.first // self.columns
        if row < first_row:
            first_row = row
        elif row >= first_row + self.rows:
            first_row = row - self.rows + 1
        self.first = first_row * self.columns

    def redraw(self, reload: bool = False) -> None:
        """Put the window's jobs on the tiles and load the pictures that are not there yet; ``reload`` (after a
        resize): also those decoded for another pixel box than the tiles have now."""
        if not self.is_mounted:
            return
        wanted: list[tuple[Tile, OutputFile, tuple[int, int]]] = []
        tiles = list(self.tiles)
        # one pixel box for every tile (1fr tiles differ by a cell): one cache entry per image, not several
        box = tiles[0].pixel_box() if tiles else (1, 1)
        for offset, tile in enumerate(tiles):
            index = self.first + offset
            job = self.jobs[index] if index < len(self.jobs) else None
            load = tile.show(job, marked=job is not None and job.id in self.marked, cursor=index == self.cursor)
            output = first_output(job) if job is not None else None
            # a resize that leaves the tiles' box as it was (the screen shown again at its size, a row of the
            # terminal that went to another widget) decodes and redraws nothing
            stale = reload and tile.shown_box != box
            if output is not None and (load or stale) and images.enabled():
                if stale:
                    tile.shown_path = None
                wanted.append((tile, output, box))
        if wanted:
            self._load(wanted)

    @work(thread=True, exclusive=True, group="gallery-thumbs", exit_on_error=False)
    def _load(self, wanted: list[tuple[Tile, OutputFile, tuple[int, int]]]) -> None:
        """Decode the window's thumbnails; a row of tiles shows its pictures as soon as that row is ready.

        A row at a time, not a tile at a time: every picture set means a layout pass of the screen, and 28
        of them per page cost more than the decoding (measured with bench/bench_gallery.py).
        """
        box = wanted[0][2]  # one box for the whole window (redraw)
        decode_tiles(self.app, wanted, self.columns * ROWS_PER_UPDATE, partial(self._pictures_ready, box=box))

    def _pictures_ready(self, ready: list[tuple[Tile, OutputFile, Any]], box: tuple[int, int] | None = None) -> None:
        with self.app.batch_update():
            for tile, output, picture in ready:
                if tile not in self.tiles:
                    continue  # removed by a resize while its picture was decoded
                job = tile.job
                if job is None or (first := first_output(job)) is None or first.path != output.path:
                    continue  # the tile shows another job by now
                if picture is None:
                    tile._word("unreadable image")
                else:
                    tile.set_picture(str(output.path), picture, box)

    def drawn(self) -> bool:
        """Every tile in view shows its picture, decoded for the tiles' pixel box now, or its word (tests, the
        benchmark)."""
        box = self.tiles[0].pixel_box() if self.tiles else None
        for tile in self.tiles:
            job = tile.job
            if job is None or not images.enabled():
                continue
            output = first_output(job)
            if output is not None and (tile.shown_path != output.path or tile.shown_box != box):
                return False
        return True

    # ---------------------------------------------------------------- keys
    def _go(self, index: int) -> None:
        if not self.jobs:
            self.app.bell()
            return
        index = max(0, min(index, len(self.jobs) - 1))
        if index == self.cursor:
            return
        self.cursor = index
        self._scroll_to_cursor()
        self.redraw()
        self.post_message(self.Moved(index))

    def action_move(self, delta: int) -> None:
        self._go(self.cursor + delta)

    def action_move_rows(self, delta: int) -> None:
        self._go(self.cursor + delta * self.columns)

    def action_move_pages(self, delta: int) -> None:
        self._go(self.cursor + delta * self.page)

    def action_move_to(self, index: int) -> None:
        self._go(index if index >= 0 else len(self.jobs) - 1)

    def action_open(self) -> None:
        if self.jobs:
            self.post_message(self.Open(self.cursor))


def decode_tiles(app: Any, wanted: Sequence[tuple[T, OutputFile, tuple[int, int]]], every: int,
                 deliver: Callable[[list[tuple[T, OutputFile, Any]]], None]) -> None:
    """In a thread worker: decode each wanted tile's picture (None when it cannot be read) and hand them to
    ``deliver`` on the event loop ``every`` at a time; stops as soon as the worker is cancelled."""
    worker = get_current_worker()
    ready: list[tuple[T, OutputFile, Any]] = []
    for n, (tile, output, box) in enumerate(wanted):
        if worker.is_cancelled:
            return
        try:
            ready.append((tile, output, tile_image(output, box)))
        except (OSError, ValueError):
            ready.append((tile, output, None))
        if len(ready) >= every or n == len(wanted) - 1:
            if worker.is_cancelled:
                return
            app.call_from_thread(deliver, ready)
            ready = []
