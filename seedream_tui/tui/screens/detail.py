"""One job in full: inputs, status, timings, errors, output files; cancel while queued.

Also holds the small formatting helpers the history screen shares (times, sizes,
status colours, error sentences), so both screens say things the same way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.worker import get_current_worker

from seedream_tui.jobs.media_inputs import shorten_data_uris
from seedream_tui.jobs.model import Job, JobStatus, OutputFile
from seedream_tui.jobs.positions import shown_position
from seedream_tui.safetext import visible
from seedream_tui.tui import images, thumbs
from seedream_tui.tui.images import image_widget_class
from seedream_tui.tui.messages import EditResult
from seedream_tui.tui.plain import plain
from seedream_tui.tui.widgets.keyhints import KeyHints

#: statuses a user may still cancel (the server refuses once a job runs)
CANCELLABLE = frozenset({JobStatus.SUBMITTING, JobStatus.QUEUED})

STATUS_STYLE = {
    JobStatus.SUBMITTING: "cyan",
    JobStatus.QUEUED: "cyan",
    JobStatus.RUNNING: "bold yellow",
    JobStatus.DOWNLOADING: "yellow",
    JobStatus.COMPLETED: "green",
    JobStatus.FAILED: "bold red",
    JobStatus.CANCELLED: "dim",
    JobStatus.EXPIRED: "dim",
    JobStatus.UNKNOWN: "magenta",
}


def fmt_time(ts: float | None) -> str:
    """Local wall-clock time; absolute (not '5 min ago') so screenshots and logs stay stable."""
    if ts is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def fmt_short_time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def fmt_duration(start: float | None, end: float | None) -> str:
    if start is None or end is None:
        return ""
    seconds = max(0.0, end - start)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def fmt_size(size: int | None) -> str:
    if size is None:
        return "size unknown"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def status_text(status: JobStatus) -> Text:
    return Text(status.label, style=STATUS_STYLE.get(status, ""))


def short_model(model_id: str) -> str:
    """'bytedance/seedream-5/lite/text-to-image' -> 'seedream-5/lite': enough to tell models apart."""
    parts = [p for p in model_id.split("/") if p]
    if len(parts) >= 3:
        return "/".join(parts[1:3])
    return parts[-1] if parts else model_id


def error_sentence(action: str, exc: BaseException) -> str:
    """Turn any failure into one sentence: our errors already are sentences; OS errors get a reason."""
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename else ""
        return f"Could not {action}: {reason}{where}."
    text = str(exc).strip()
    if not text:
        return f"Could not {action} ({type(exc).__name__})."
    return text if type(exc).__module__.startswith("seedream_tui") else f"Could not {action}: {text}"


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
        out.append(f"image {f.index + 1}: {dims}, {fmt_size(f.size)}\n", style="dim")
    if job.error:
        out.append(f"{visible(job.error, multiline=True)}\n", style="red")
    out.append(visible(job.prompt, multiline=True))
    return out


def job_report(job: Job, chain: list[int] | None = None) -> Text:
    """Everything we know about a job, for the detail screen; ``chain`` is its edit chain, oldest first."""
    t = Text()

    def head(title: str) -> None:
        t.append(f"\n{title}\n", style="bold underline")

    def row(label: str, value: str, style: str = "") -> None:
        t.append(f"  {label:<12}", style="dim")
        t.append(f"{visible(value)}\n", style=style)

    t.append(f"Job #{job.id}  ", style="bold")
    t.append_text(status_text(job.status))
    t.append("\n")
    row("model", job.model_id)
    row("request id", job.request_id or "— (not submitted yet)")
    position = shown_position(job.queue_position)
    if position is not None and job.status is JobStatus.QUEUED:
        row("queue", f"position {position}")
    if job.cost is not None:
        row("cost", f"${job.cost:.4f}")
    if job.base_url:
        row("endpoint", job.base_url)
    if chain and len(chain) > 1:
        row("edit chain", " → ".join(f"#{n}" for n in chain))
    head("Timings")
    row("created", fmt_time(job.created_at))
    row("submitted", fmt_time(job.submitted_at))
    row("started", fmt_time(job.started_at))
    row("finished", fmt_time(job.finished_at))
    for label, start, end in (
        ("waited", job.submitted_at, job.started_at),
        ("ran", job.started_at, job.finished_at),
        ("total", job.created_at, job.finished_at),
    ):
        took = fmt_duration(start, end)
        if took:
            row(label, took)
    if job.error:
        head("Error")
        t.append(f"  {visible(job.error, multiline=True)}\n", style="red")
    head("Output files")
    if not job.outputs:
        t.append("  none yet\n", style="dim")
    for f in job.outputs:
        dims = f"{f.width}x{f.height}" if f.width and f.height else "size unknown"
        t.append(f"  {f.index + 1}. {visible(f.path or '(not downloaded)')}\n")
        t.append(f"     {dims}, {fmt_size(f.size)}{', ' + visible(f.format) if f.format else ''}\n", style="dim")
        t.append(f"     {visible(f.url)}\n", style="dim")
    head("Input")
    t.append(visible(json.dumps(shorten_data_uris(job.inputs), indent=2, ensure_ascii=False, sort_keys=True), multiline=True))
    t.append("\n")
    return t


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
            return
        info.update(self._summary(job))
        if same_files and self.has_class("-has-image"):
            return
        self.remove_class("-has-image")
        output = next((f for f in job.outputs if f.path), None)
        path = output.path if output else None
        if image_widget_class() is None:
            placeholder.update("Image preview is off (Settings → image mode).")
        elif path is None:
            placeholder.update("No image yet." if not job.status.terminal else "No image file.")
        else:
            placeholder.update("Loading image…")
            box = self.query_one("#preview-image-box")
            pixels = (max(80, box.size.width * 10), max(80, box.size.height * 20))
            self._load_image(job.id, path, pixels, output)

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


class JobDetailScreen(ModalScreen[EditResult | None]):
    """Full record of one job, live: it re-renders whenever the core reports a change to it."""

    DEFAULT_CSS = """
    JobDetailScreen {
        align: center middle;
    }
    JobDetailScreen > #detail-box {
        width: 100%;
        max-width: 120;
        height: 100%;
        max-height: 40;
        border: thick $primary;
        background: $surface;
    }
    JobDetailScreen #detail-body {
        height: 1fr;
        padding: 0 1;
    }
    JobDetailScreen #detail-buttons {
        height: auto;
        align-horizontal: right;
        padding: 0 1;
    }
    JobDetailScreen #detail-buttons Button {
        margin-left: 1;
    }
    """

    BINDINGS = [
        Binding("escape", "close", "Close", id="detail-close"),
        Binding("x", "cancel_job", "Cancel job", tooltip="Cancel the job (only while queued)", id="detail-cancel"),
        Binding("c", "copy_request_id", "Copy request id", id="detail-copy-id"),
        Binding("e", "edit_result", "Edit this result", id="detail-edit",
                tooltip="Open an edit model of the same family with this result as its input"),
        Binding("d", "download_again", "Download again", id="detail-download-again",
                tooltip="Ask RunComfy for fresh links and save the job's files again"),
    ]

    def __init__(self, core: Any, job_id: int) -> None:
        super().__init__()
        self.core = core
        self.job_id = job_id
        self.job: Job | None = None
        self.chain: list[int] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="detail-box"):
            with VerticalScroll(id="detail-body"):
                yield Static("Loading…", id="detail-text")
            with Horizontal(id="detail-buttons"):
                yield Button("Copy request id (c)", id="detail-copy")
                yield Button("Cancel job (x)", id="detail-cancel", variant="error", disabled=True)
                yield Button("Close (esc)", id="detail-close", variant="primary")
        yield KeyHints()

    async def on_mount(self) -> None:
        self.query_one("#detail-box").border_title = f"Job #{self.job_id}"
        self._load()

    @work(exclusive=True, group="detail-load")
    async def _load(self) -> None:
        try:
            job = await self.core.history.get(self.job_id)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
            self.query_one("#detail-text", Static).update(plain(error_sentence("read this job", exc)))
            return
        if job is None:
            self.query_one("#detail-text", Static).update("This job is no longer in the history.")
            return
        try:
            self.chain = await self.core.history.chain(self.job_id)
        except Exception:  # noqa: BLE001 - the chain is a detail: the rest of the record still shows
            self.chain = []
        self._render_job(job)

    def _render_job(self, job: Job) -> None:
        self.job = job
        self.query_one("#detail-text", Static).update(job_report(job, self.chain))
        self.query_one("#detail-cancel", Button).disabled = job.status not in CANCELLABLE
        self.query_one("#detail-copy", Button).disabled = not job.request_id

    def _job_changed(self, job: Job) -> None:
        if job.id == self.job_id and self.is_attached and job != self.job:
            self._render_job(job)

    def on_job_changed(self, message: Any) -> None:
        """The app's ``JobChanged`` (the app is the core's one subscriber and forwards each change once)."""
        job = getattr(message, "job", None)
        if isinstance(job, Job):
            self._job_changed(job)

    def on_jobs_deleted(self, message: Any) -> None:
        """The app's ``JobsDeleted``: this job was deleted (in the history, opened over this screen)."""
        if self.job_id in getattr(message, "job_ids", ()):
            self.job = None
            self.query_one("#detail-text", Static).update("This job was deleted from the history.")
            self.query_one("#detail-cancel", Button).disabled = True
            self.query_one("#detail-copy", Button).disabled = True

    def action_close(self) -> None:
        self.dismiss(None)

    def action_edit_result(self) -> None:
        if self.job is None or not self.job.outputs:
            self.notify("This job has no result to edit yet.", severity="warning")
            return
        self.dismiss(EditResult(self.job))

    def action_download_again(self) -> None:
        if self.job is None or not self.job.request_id:
            self.notify("This job has no request id: there is nothing to download.", severity="warning")
            return
        self._download_again(self.job.id)

    @work(exclusive=True, group="detail-download-again")
    async def _download_again(self, job_id: int) -> None:
        message = await self.core.download_again(job_id)
        self.notify(message, severity="information" if message.startswith("Downloading") else "warning")

    @on(Button.Pressed, "#detail-close")
    def _close_pressed(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#detail-copy")
    def action_copy_request_id(self) -> None:
        if self.job is None or not self.job.request_id:
            self.notify("This job has no request id yet.", severity="warning")
            return
        self.app.copy_to_clipboard(self.job.request_id)
        self.notify(f"Copied request id {self.job.request_id}.")

    @on(Button.Pressed, "#detail-cancel")
    def action_cancel_job(self) -> None:
        if self.job is None or self.job.status not in CANCELLABLE:
            self.notify("Only a queued job can be cancelled.", severity="warning")
            return
        self._cancel()

    @work(exclusive=True, group="detail-cancel")
    async def _cancel(self) -> None:
        try:
            sentence = await self.core.cancel(self.job_id)
        except Exception as exc:  # noqa: BLE001
            self.notify(error_sentence("cancel this job", exc), severity="error")
            return
        self.notify(sentence)
        self._load()
