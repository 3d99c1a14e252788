"""One job in full: inputs, status, timings, errors, output files; cancel while queued."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from seedream_tui.jobs.media_inputs import shorten_data_uris
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.positions import shown_position
from seedream_tui.safetext import visible
from seedream_tui.tui.formatting import (
    clipboard_sentence,
    error_sentence,
    fmt_duration,
    fmt_size,
    fmt_time,
    is_image,
    status_text,
)
from seedream_tui.tui.messages import AnimateResult, EditResult
from seedream_tui.tui.plain import plain
from seedream_tui.tui.widgets.keyhints import KeyHints

#: statuses a user may still cancel (the server refuses once a job runs)
#: a queued job is cancelled at RunComfy; a downloading one has its download stopped
CANCELLABLE = frozenset({JobStatus.PENDING, JobStatus.SUBMITTING, JobStatus.QUEUED, JobStatus.DOWNLOADING})


#: how a step of an edit chain that made no images says what it made
_KIND_MARKS = {"video": " ▶", "audio": " ♪"}


def chain_text(chain: Sequence[int | tuple[int, str | None]]) -> str:
    """``#12 → #31 ▶``: an edit chain, oldest first, each step that made a video (``▶``) or a sound (``♪``)
    marked as such (a chain of mixed kinds: an image animated into a video)."""
    steps = (step if isinstance(step, tuple) else (step, None) for step in chain)
    return " → ".join(f"#{n}{_KIND_MARKS.get(kind or '', '')}" for n, kind in steps)


def job_report(job: Job, chain: Sequence[int | tuple[int, str | None]] | None = None) -> Text:
    """Everything we know about a job, for the detail screen; ``chain`` is its edit chain, oldest first (each
    step a job id, or ``(id, kind)`` from ``chain_kinds``)."""
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
        row("edit chain", chain_text(chain))
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
    if job.note:
        head("Note")
        t.append(f"  {visible(job.note, multiline=True)}\n", style="yellow")
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


class JobDetailScreen(ModalScreen[EditResult | AnimateResult | None]):
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
        Binding("a", "animate_result", "Animate this result", id="detail-animate", show=False,
                tooltip="Open an image-to-video model with this result as its input"),
        Binding("d", "download_again", "Download again", id="detail-download-again",
                tooltip="Ask RunComfy for fresh links and save the job's files again"),
        Binding("f", "view", "View", id="detail-view", tooltip="View the job's images full screen"),
    ]

    def __init__(self, core: Any, job_id: int) -> None:
        super().__init__()
        self.core = core
        self.job_id = job_id
        self.job: Job | None = None
        self.chain: list[tuple[int, str | None]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="detail-box"):
            with VerticalScroll(id="detail-body"):
                yield Static("Loading…", id="detail-text")
            with Horizontal(id="detail-buttons"):
                yield Button("Copy request id (c)", id="detail-copy")
                # shown only while the job can be cancelled (a done job offers no "Cancel job")
                cancel = Button("Cancel job (x)", id="detail-cancel", variant="error", disabled=True)
                cancel.display = False
                yield cancel
                yield Button("Close (esc)", id="detail-close", variant="primary")
        yield KeyHints()

    async def on_mount(self) -> None:
        self.title = f"Job #{self.job_id}"
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
            self.chain = await self.core.history.chain_kinds(self.job_id)
        except Exception:  # noqa: BLE001 - the chain is a detail: the rest of the record still shows
            self.chain = []
        self._render_job(job)

    def _render_job(self, job: Job) -> None:
        self.job = job
        self.query_one("#detail-text", Static).update(job_report(job, self.chain))
        self._show_actions(job)

    def _show_actions(self, job: Job | None) -> None:
        """Only the actions that apply to the job as it is now: buttons and key hints."""
        cancel = self.query_one("#detail-cancel", Button)
        cancel.disabled = cancel_hidden = job is None or job.status not in CANCELLABLE
        cancel.display = not cancel_hidden
        copy = self.query_one("#detail-copy", Button)
        copy.disabled = job is None or not job.request_id
        copy.display = not copy.disabled
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys of actions that do not apply to this job are neither shown nor run."""
        job = self.job
        if action == "cancel_job":
            return job is not None and job.status in CANCELLABLE
        if action in ("copy_request_id", "download_again"):
            return job is not None and bool(job.request_id)
        if action in ("edit_result", "view"):
            return job is not None and bool(job.outputs)
        return True

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
            self._show_actions(None)

    def action_view(self) -> None:
        if self.job is None:
            self.app.bell()
            return
        from seedream_tui.tui.screens.viewer import ViewerScreen

        self.app.push_screen(ViewerScreen([self.job]))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_edit_result(self) -> None:
        if self.job is None or not self.job.outputs:
            self.notify("This job has no result to edit yet.", severity="warning")
            return
        self.dismiss(EditResult(self.job))

    def action_animate_result(self) -> None:
        if self.job is None or not any(is_image(o) and o.path for o in self.job.outputs):
            self.notify("This job has no image to animate.", severity="warning")
            return
        self.dismiss(AnimateResult(self.job))

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
        self.notify(clipboard_sentence(f"request id {self.job.request_id}"))

    @on(Button.Pressed, "#detail-cancel")
    def action_cancel_job(self) -> None:
        if self.job is None or self.job.status not in CANCELLABLE:
            self.notify("Only a queued job can be cancelled (or a download stopped).", severity="warning")
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
