"""A job's first image beside a few lines about it: the history's side pane and each column of compare."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.widgets import Static
from textual.worker import get_current_worker

from seedream_tui.jobs.model import Job, OutputFile
from seedream_tui.safetext import visible
from seedream_tui.tui import images, thumbs
from seedream_tui.tui.formatting import (
    av_card,
    error_sentence,
    fmt_duration,
    fmt_size,
    fmt_time,
    short_model,
    status_text,
    video_badge,
)
from seedream_tui.tui.images import image_widget_class
from seedream_tui.tui.plain import plain


def job_summary(job: Job) -> Text:
    """The few lines shown in the history preview."""
    out = Text()
    out.append(f"#{job.id} ", style="bold")
    out.append_text(status_text(job.status))
    out.append(f"  {visible(short_model(job.model_id))}\n", style="dim")
    out.append(f"{fmt_time(job.created_at)}")
    took = fmt_duration(job.submitted_at or job.created_at, job.finished_at)
    out.append(f"  ({took})\n" if took else "\n", style="dim")
    for f in job.outputs:
        dims = f"{f.width}x{f.height}" if f.width and f.height else "?x?"
        badge = video_badge(f)
        if badge:
            out.append(f"{badge} ", style="bold")
            out.append(f"video {f.index + 1}: {dims}, {f.fps or 0:.0f} fps, {fmt_size(f.size)}\n", style="dim")
        elif f.kind in ("video", "audio", "file"):
            out.append(f"{f.kind} {f.index + 1}: {fmt_size(f.size)}\n", style="dim")
            if f.problem:
                out.append(f"{visible(f.problem)}\n", style="yellow")
        else:
            out.append(f"image {f.index + 1}: {dims}, {fmt_size(f.size)}\n", style="dim")
    if job.error:
        out.append(f"{visible(job.error, multiline=True)}\n", style="red")
    if job.note:
        out.append(f"{visible(job.note, multiline=True)}\n", style="yellow")
    out.append(visible(job.prompt, multiline=True))
    return out



def _decode_thumbnail(path: str, box: tuple[int, int], output: OutputFile | None = None) -> Any:
    """Open and shrink an image once, in a worker thread, to about the preview's pixel size (cached)."""
    return thumbs.load_preview(
        path,
        box,
        thumb_path=output.thumb_path if output else None,
        size=(output.width, output.height) if output else None,
        coarse=images.coarse(),
    )


class JobPreview(Vertical):
    """The selected job in the history: its image (when image mode allows) and a few lines of text."""

    DEFAULT_CSS = """
    JobPreview { height: 1fr; padding: 0 1; }
    JobPreview #preview-image-box { height: 1fr; min-height: 3; align: center top; }
    JobPreview #preview-placeholder { width: 100%; height: 100%; content-align: center middle; color: $text-muted; }
    JobPreview #preview-image { display: none; width: auto; height: auto; }
    JobPreview.-has-image #preview-image { display: block; }
    JobPreview.-has-image #preview-placeholder { display: none; }
    JobPreview #preview-info { height: auto; max-height: 14; margin-bottom: 1; }
    """

    def __init__(self, *, id: str | None = None, summary: Callable[[Job], Text] = job_summary) -> None:
        super().__init__(id=id)
        self.job: Job | None = None
        self._summary = summary
        #: the image waiting for its box to be laid out (the history built ahead shows its first job before it
        #: has a size): decoded for the box it will be drawn in, not for a stand-in size and then rescaled
        self._waiting: tuple[int, str, OutputFile | None] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="preview-info")
        with Container(id="preview-image-box"):
            yield Static("", id="preview-placeholder")
            widget_class = image_widget_class()
            if widget_class is not None:
                yield widget_class(id="preview-image")

    def show(self, job: Job | None) -> None:
        """Show a job (or nothing); the image is decoded in a thread and only shown if still wanted."""
        same_files = (
            job is not None and self.job is not None and job.id == self.job.id and job.outputs == self.job.outputs
        )
        self.job = job
        info = self.query_one("#preview-info", Static)
        placeholder = self.query_one("#preview-placeholder", Static)
        if job is None:
            info.update("")
            placeholder.update("Select a job to preview it.")
            self.remove_class("-has-image")
            self._waiting = None
            return
        info.update(self._summary(job))
        if same_files and self.has_class("-has-image"):
            return
        self.remove_class("-has-image")
        self._waiting = None
        output = next((f for f in job.outputs if f.path), None)
        path = output.path if output else None
        card = av_card(output) if output is not None else None
        if card is not None:  # a sound, another file, or a video that cannot play: its kind, never decoded
            placeholder.update(plain(card))
        elif not images.enabled():
            placeholder.update("Image preview is off (Settings → image mode).")
        elif path is None:
            placeholder.update("No image yet." if not job.status.terminal else "No image file.")
        else:
            placeholder.update("Loading image…")
            self._waiting = (job.id, path, output)
            self._load_when_sized()

    def _load_when_sized(self) -> None:
        """Decode the waiting image for its box once the box has a size (at once when it has one)."""
        box = self.query_one("#preview-image-box")
        if self._waiting is None or not box.size.area:
            return
        job_id, path, output = self._waiting
        self._waiting = None
        self._load_image(job_id, path, (max(80, box.size.width * 10), max(80, box.size.height * 20)), output)

    def on_resize(self) -> None:
        self._load_when_sized()

    @work(thread=True, exclusive=True, group="preview-image", exit_on_error=False)
    def _load_image(self, job_id: int, path: str, box: tuple[int, int], output: OutputFile | None = None) -> None:
        worker = get_current_worker()
        try:
            image = _decode_thumbnail(path, box, output)
        except FileNotFoundError:
            self.app.call_from_thread(self._image_failed, job_id, "The image file is missing.")
            return
        except Exception as exc:  # noqa: BLE001 - unreadable file: say so
            self.app.call_from_thread(self._image_failed, job_id, error_sentence("read the image", exc))
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._image_ready, job_id, image)

    def _image_ready(self, job_id: int, image: Any) -> None:
        if self.job is None or self.job.id != job_id:
            return
        widget = self.query("#preview-image")
        if widget:
            widget.first().image = image  # type: ignore[attr-defined]
            self.add_class("-has-image")

    def _image_failed(self, job_id: int, sentence: str) -> None:
        if self.job is not None and self.job.id == job_id:
            self.query_one("#preview-placeholder", Static).update(plain(sentence))
