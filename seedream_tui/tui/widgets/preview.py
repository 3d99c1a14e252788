"""The preview pane: the selected job's images, drawn inline, one at a time.

Decoding and shrinking happen in a thread (``asyncio.to_thread``, see ``thumbs``): the widget gets one small
PIL image, sized to about the pane's pixels, so drawing stays cheap even for a 4K result over SSH; the last
few are cached, and cell-drawn modes start from the downloader's thumbnail. With images off
(``--image-mode off``) or before a job has images, the pane shows a line of status text instead.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, ClassVar

from rich.cells import cell_len
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from seedream_tui.jobs.model import Job
from seedream_tui.tui import images, thumbs
from seedream_tui.tui.formatting import av_card, status_line, video_badge
from seedream_tui.tui.plain import plain


def load_thumbnail(path: str, max_px: tuple[int, int]) -> Any:
    """Decode ``path`` and shrink it to fit ``max_px`` (runs in a thread; cached)."""
    return thumbs.load_preview(path, max_px)


def cell_pixels() -> tuple[int, int]:
    """The terminal's cell size in pixels, as textual-image measured it (10x20 when unknown)."""
    if not images.enabled():
        return (10, 20)
    from seedream_tui.tui import compat

    return compat.image_cell_size()


class PreviewPane(Vertical, can_focus=True):
    """Shows ``job``'s images; ``[``/``]`` (or ``,``/``.``) step through a multi-image result."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket,comma", "step(-1)", "Prev image", id="image-prev", tooltip="Previous image"),
        Binding("right_square_bracket,full_stop", "step(1)", "Next image", id="image-next", tooltip="Next image"),
        Binding("f,enter", "view", "View", id="preview-view", tooltip="View the image full screen"),
    ]

    class View(Message):
        """Asked to show the previewed job full screen (the screen knows the list it belongs to)."""

        def __init__(self, job_id: int, image: int) -> None:
            super().__init__()
            self.job_id = job_id
            self.image = image

    # no repaint of their own: what changes on screen (title, line of text, image) repaints itself, and a
    # repaint of the pane is its 40 rows at 200x60, image included, each time the previewed job changes state
    job: reactive[Job | None] = reactive(None, init=False, always_update=True, repaint=False)
    index: reactive[int] = reactive(0, init=False, repaint=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown_path: str | None = None
        self._title = ""
        self._set_title("Preview")
        self._status_rows = -1  # rows the status text takes (-1: not known yet)
        #: (the load, the pane's content size it loads the image for) while an image loads
        self._loading: tuple[object, Any] | None = None

    def on_mount(self) -> None:
        # a live job's line says how long it has been running; only live jobs need the tick
        self.set_interval(1.0, self._tick, name="preview-elapsed")

    def _tick(self) -> None:
        if self.job is not None and not self.job.status.terminal:
            self._set_status(status_line(self.job, time.time()))

    def _set_title(self, text: str) -> None:
        """The pane's title; set only when it changes: setting it repaints the whole pane, image included
        (~8 KB at 200x60 in halfcell), and the previewed job changes state several times while it runs."""
        title = _title(text)
        if title != self._title:
            self._title = title
            self.border_title = title

    def _set_status(self, text: str) -> None:
        """The pane's line of text; hidden when empty, so it takes no row above a centred image.

        A layout pass only when the text may take another number of rows: the elapsed time of a live job
        ticks every second, and a layout of the screen redraws every scrollbar on it (slow SSH links).
        """
        status = self.query_one("#preview-status", Static)
        rows = _rows(text, status.size.width)
        status.update(plain(text), layout=rows != self._status_rows)  # outside text: never markup
        self._status_rows = rows
        status.display = bool(text)

    def action_view(self) -> None:
        if self.job is None:
            self.app.bell()
            return
        self.post_message(self.View(self.job.id, self.index))

    def compose(self) -> ComposeResult:
        # the image widget comes with the first image (see _load): not in the app's first frame
        yield Static("Select a job to see its images.", id="preview-status")

    # --- which image -------------------------------------------------------------------------------------
    def show_job(self, job: Job | None) -> None:
        """Show ``job`` (keeping the image index when it is the same job being updated)."""
        same = job is not None and self.job is not None and self.job.id == job.id
        if same and job == self.job:
            return  # nothing new (the table's cursor staying on it as rows come and go): no repaint of the pane
        if not same:
            self.index = 0
        self.job = job

    def _paths(self) -> list[str]:
        if self.job is None:
            return []
        return [o.path for o in self.job.outputs if o.path and Path(o.path).exists()]

    def action_step(self, delta: int) -> None:
        paths = self._paths()
        if len(paths) < 2:
            self.app.bell()
            return
        self.index = (self.index + delta) % len(paths)

    def watch_job(self) -> None:
        self._refresh_view()

    def watch_index(self) -> None:
        self._refresh_view()

    def on_resize(self) -> None:
        # also while an image is still loading (shown_path not set yet) for another size than this one
        loading = self._loading is not None and self._loading[1] != self.content_size
        if self.shown_path is not None or loading:
            self.shown_path = None
            self._refresh_view()

    def _refresh_view(self) -> None:
        job = self.job
        paths = self._paths()
        if job is None:
            self._set_title("Preview")
            self._set_status("Select a job to see its images.")
            self._hide_image()
            return
        self.index = min(self.index, max(0, len(paths) - 1))
        count = f" {self.index + 1}/{len(paths)}" if len(paths) > 1 else ""
        title = f"Preview #{job.id}{count}"
        if not paths:
            self._set_title(title)
            self._set_status(status_line(job, time.time()))
            self._hide_image()
            return
        path = paths[self.index]
        output = next((o for o in job.outputs if o.path == path), None)
        badge = video_badge(output)
        self._set_title(f"{title} {badge}" if badge else title)
        card = av_card(output) if output is not None else None
        if card is not None:  # a video or a sound: say what and where it is
            self._set_status(card)
            self._hide_image()
            return
        if not images.enabled():
            self._set_status(f"{status_line(job, time.time())}\n{path}")
            self.shown_path = path
            return
        self._set_status("")
        if path != self.shown_path:
            self._load(path)

    def _hide_image(self) -> None:
        self.shown_path = None
        for image in self.query("#preview-image"):
            image.display = False
            image.image = None  # type: ignore[attr-defined]

    @work(exclusive=True, group="preview-load")
    async def _load(self, path: str) -> None:
        token = object()
        self._loading = (token, self.content_size)
        try:
            await self._load_sized(path)
        finally:
            if self._loading is not None and self._loading[0] is token:
                self._loading = None

    async def _load_sized(self, path: str) -> None:
        cw, ch = cell_pixels()
        width = max(1, self.content_size.width) * cw
        height = max(1, self.content_size.height) * ch
        output = next((o for o in self.job.outputs if o.path == path), None) if self.job is not None else None
        try:
            thumb = await asyncio.to_thread(
                thumbs.load_preview,
                path,
                (width, height),
                thumb_path=output.thumb_path if output else None,
                size=(output.width, output.height) if output else None,
                coarse=images.coarse(),
            )
        except (OSError, ValueError) as exc:
            self._set_status(f"Could not open the image {path}: {exc}.")
            self._hide_image()
            return
        image: Widget | None = next(iter(self.query("#preview-image")), None)
        if image is None:
            image = images.hidden_image_widget(id="preview-image")
            if image is None:  # images were turned off meanwhile
                return
            await self.mount(image)
        image.image = thumb  # type: ignore[attr-defined]
        image.display = True
        self.shown_path = path


def _rows(text: str, width: int) -> int:
    """Rows ``text`` takes wrapped at ``width`` cells (an upper bound is enough: it only decides a layout)."""
    if width <= 0:
        return -2  # not laid out yet: always a layout
    return sum(max(1, -(-cell_len(line) // width)) for line in text.split("\n")) if text else 0


def _title(text: str) -> str:
    """The pane's title, naming the image mode when "auto" chose it (nothing else says which it chose)."""
    auto = images.chosen_by_auto()
    return f"{text} · {auto}" if auto else text
