"""The full-screen image viewer: one job's images as large as the terminal allows, and its list to step through.

Its own screen, so its keys act on it alone (a maximized pane inside the main screen left the options panel
and the job table listening). Opened from the job table, the preview, the history (table and gallery),
compare and the job details, always with the list it was opened from: ``←``/``→`` (or ``n``/``N``) step
through those jobs, ``[``/``]`` (or ``,``/``.``) through one job's images. A ``moved`` callback tells the
list where the viewer ended, so leaving it puts the list's cursor on the job last looked at.

The image is decoded off the event loop at the stage's pixel size (see ``thumbs``) and drawn with
``width: auto; height: auto``, which textual-image scales to fill the stage with the aspect kept; the
stage centres it.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.widgets import Static

from seedream_tui.jobs.model import Job, OutputFile
from seedream_tui.jobs.video import fmt_clock
from seedream_tui.tui import images, thumbs, video_play
from seedream_tui.tui.compat import OneLayoutPerResize
from seedream_tui.tui.formatting import av_card, clipped, is_image, playable, status_line, status_text
from seedream_tui.tui.plain import plain
from seedream_tui.tui.widgets.keyhints import KeyHints
from seedream_tui.tui.widgets.preview import cell_pixels
from seedream_tui.tui.widgets.video_frame import HalfcellFrame, halfcell_strips


def shown_outputs(job: Job) -> list[OutputFile]:
    """The job's images that are on disk, in order (the ones the viewer can show)."""
    return [o for o in job.outputs if o.path and Path(o.path).exists()]


def caption(
    job: Job, image: int, count: int, pixels: tuple[int, int] | None, mode: str, width: int, timeline: str = ""
) -> Text:
    """One line: ``#12 done  <prompt cut with …>  2304×1728  2/4  halfcell``, fitted to ``width`` cells.

    The prompt gives way first; the facts around it stay whole.
    """
    head = Text(f"#{job.id} ", style="bold")
    head.append_text(status_text(job.status))
    head.append("  ")
    facts = []
    if pixels is not None:
        facts.append(f"{pixels[0]}×{pixels[1]}")
    if count > 1:
        facts.append(f"{image + 1}/{count}")
    if timeline:
        facts.append(timeline)
    facts.append(mode)
    tail = Text("  " + "  ".join(facts), style="dim")
    room = width - cell_len(head.plain) - cell_len(tail.plain)
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append_text(head)
    prompt = clipped(job.prompt, room)
    line.append(prompt + " " * max(0, room - cell_len(prompt)))
    line.append_text(tail)
    return line


class ViewerScreen(OneLayoutPerResize[None]):
    """One image at a time, full screen, with a caption line; Esc or q goes back to where it was opened."""

    DEFAULT_CSS = """
    ViewerScreen { layout: vertical; background: $background; }
    ViewerScreen #viewer-stage { height: 1fr; width: 1fr; align: center middle; }
    ViewerScreen #viewer-image { width: auto; height: auto; }
    ViewerScreen #viewer-video { width: auto; height: auto; }
    ViewerScreen #viewer-message { width: 1fr; height: auto; content-align: center middle; text-align: center;
                                   color: $text-muted; padding: 0 2; }
    ViewerScreen #viewer-caption { height: 1; padding: 0 1; background: $boost; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="viewer-close"),
        Binding("left_square_bracket,comma", "image(-1)", "Prev image", id="viewer-prev-image",
                tooltip="Previous image of this job (a video: the previous frame)"),
        Binding("right_square_bracket,full_stop", "image(1)", "Next image", id="viewer-next-image",
                tooltip="Next image of this job (a video: the next frame)"),
        Binding("left", "left_right(-1)", "Prev job", id="viewer-prev-job",
                tooltip="Previous job in the list (a video: back 5 seconds)"),
        Binding("right", "left_right(1)", "Next job", id="viewer-next-job",
                tooltip="Next job in the list (a video: on 5 seconds)"),
        Binding("N", "job(-1)", "Prev job", id="viewer-prev-job-n", show=False),
        Binding("n", "job(1)", "Next job", id="viewer-next-job-n", show=False),
        Binding("space", "play_pause", "Play/pause", id="viewer-play", tooltip="Play or pause the video"),
        Binding("l", "loop", "Loop", id="viewer-loop", show=False, tooltip="Play the video again and again"),
        Binding("e", "edit_result", "Edit", id="viewer-edit",
                tooltip="Edit this result: the family's edit model with this image as input"),
        Binding("a", "animate_result", "Animate", id="viewer-animate", show=False,
                tooltip="Animate this result: the family's image-to-video model with this image as input"),
    ]

    def __init__(
        self,
        jobs: Sequence[Job],
        index: int = 0,
        *,
        image: int = 0,
        moved: Callable[[Job], None] | None = None,
    ) -> None:
        super().__init__()
        self.jobs = list(jobs)
        self.index = max(0, min(index, len(self.jobs) - 1))
        self.image = image
        self._moved = moved
        #: the path on the stage and the original pixel size of the image shown
        self.shown_path: str | None = None
        self.pixels: tuple[int, int] | None = None
        #: the video being played (its decoding thread), the frame on the stage, and whether it loops
        self.playback: video_play.Playback | None = None
        self.frame: video_play.Frame | None = None
        self.loop = False

    @property
    def job(self) -> Job | None:
        return self.jobs[self.index] if self.jobs else None

    def compose(self) -> ComposeResult:
        with Container(id="viewer-stage"):
            yield Static("", id="viewer-message")
            image = images.hidden_image_widget(id="viewer-image")
            if image is not None:
                yield image
            video = HalfcellFrame(id="viewer-video")
            video.display = False
            yield video
        yield Static("", id="viewer-caption")
        yield KeyHints()

    def on_mount(self) -> None:
        self.title = "Viewer"
        self.set_interval(1.0, self._tick, name="viewer-elapsed")
        self._show()

    def on_unmount(self) -> None:
        """Leaving the viewer gives its memory back: its large decoded images go (issue 20 §5), and a video's
        decoding stops at once."""
        self._stop_video()
        thumbs.release()

    def on_screen_suspend(self) -> None:
        if self.playback is not None:
            self.playback.send("play", False)  # a screen on top: the video waits
        images.wipe_graphics(self.app)  # no sixel fragment stays on the screen below (issue 20 §6)

    def on_resize(self) -> None:
        if self.playback is not None:  # playing on: the next frames come at the new size
            self._fit_video()
            return
        self.shown_path = None  # a new stage size: decode again at the new size
        self._show()

    # ---------------------------------------------------------------- stepping
    def action_image(self, delta: int) -> None:
        if self.playback is not None:  # a video: a frame back or on
            self.playback.send("step", delta)
            return
        job = self.job
        count = len(shown_outputs(job)) if job is not None else 0
        if count < 2:
            self.app.bell()
            return
        self.image = (self.image + delta) % count
        self._show()

    def action_job(self, delta: int) -> None:
        target = self.index + delta
        if not 0 <= target < len(self.jobs):
            self.app.bell()  # the end of the list: say so rather than wrap to the other end
            return
        self.index, self.image = target, 0
        self._show()
        if self._moved is not None and self.job is not None:
            self._moved(self.job)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Play/pause and loop are keys of a video only (hidden from the key hints otherwise)."""
        if action in ("play_pause", "loop"):
            return self.playback is not None
        return True

    def action_left_right(self, delta: int) -> None:
        """A video: seek by :data:`video_play.SEEK_SECONDS`; else the previous or next job."""
        if self.playback is not None:
            self.playback.send("seek", delta * video_play.SEEK_SECONDS)
            return
        self.action_job(delta)

    def action_play_pause(self) -> None:
        if self.playback is None:
            self.app.bell()
            return
        self.playback.send("play", None)

    def action_loop(self) -> None:
        if self.playback is None:
            self.app.bell()
            return
        self.loop = not self.loop
        self.playback.send("loop", self.loop)
        self._caption()

    def action_close(self) -> None:
        self._stop_video()
        self.dismiss(None)

    def action_edit_result(self) -> None:
        job = self.job
        if job is None or not shown_outputs(job):
            self.notify("This job has no result to edit yet.", severity="warning")
            return
        from seedream_tui.tui.messages import EditResult

        self.app.post_message(EditResult(job))  # the app leaves the viewer for the main screen's editor

    def action_animate_result(self) -> None:
        job = self.job
        if job is None or not any(is_image(o) for o in shown_outputs(job)):
            self.notify("This job has no image to animate.", severity="warning")
            return
        from seedream_tui.tui.messages import AnimateResult

        self.app.post_message(AnimateResult(job))

    # ---------------------------------------------------------------- drawing
    def _show(self) -> None:
        job = self.job
        if job is None:
            self._message("Nothing to show.")
            self._caption()
            return
        outputs = shown_outputs(job)
        self.image = min(self.image, max(0, len(outputs) - 1))
        if not outputs:
            self._message(status_line(job, time.time()))
            self._caption()
            return
        output = outputs[self.image]
        if playable(output) and images.enabled():
            if self.playback is None or self.playback.path != output.path:
                self._start_video(output)
            self._caption()
            return
        self._stop_video()
        card = av_card(output)
        if card is not None:  # a video or a sound: say what and where it is
            self._message(card)
            self._caption()
            return
        if not images.enabled():
            self._message(f"Image preview is off (--image-mode off).\n{output.path}")
            self.pixels = (output.width, output.height) if output.width and output.height else None
            self._caption()
            return
        if output.path != self.shown_path:
            self._load(job.id, output)
        self._caption()

    def _message(self, text: str) -> None:
        """Words on the stage instead of an image (outside text: never markup)."""
        self._stop_video()
        self.shown_path = None
        self.pixels = None
        message = self.query_one("#viewer-message", Static)
        message.update(plain(text))
        message.display = True
        for image in self.query("#viewer-image"):
            image.display = False

    def _caption(self) -> None:
        job = self.job
        widget = self.query_one("#viewer-caption", Static)
        if job is None:
            widget.update("")
            return
        count = len(shown_outputs(job))
        width = max(1, widget.content_size.width or self.size.width - 2)
        widget.update(caption(job, self.image, count, self.pixels, images.current_mode(), width, self._timeline()))

    # ---------------------------------------------------------------- video
    def _timeline(self) -> str:
        """``▶ 0:03 / 0:05`` (``⏸`` paused, `` loop`` when looping) while a video is on the stage."""
        playback = self.playback
        if playback is None:
            return ""
        frame = self.frame
        at = frame.time if frame is not None else 0.0
        sign = "▶" if frame is None or frame.playing else "⏸"
        total = playback.duration or (self.job_output_duration() or 0.0)
        line = f"{sign} {fmt_clock(at)} / {fmt_clock(total)}"
        return f"{line} loop" if self.loop else line

    def job_output_duration(self) -> float | None:
        job = self.job
        outputs = shown_outputs(job) if job is not None else []
        return outputs[self.image].duration if 0 <= self.image < len(outputs) else None

    def _video_box(self, size: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
        """(the picture's size in cells, the pixel box frames are scaled to) for a ``size`` video on the stage.

        Character-cell modes get frames of one pixel per half cell (no more is drawn); pixel protocols the
        stage's pixels. The widget is given its size in cells, so the layout never depends on the frame."""
        stage = self.query_one("#viewer-stage")
        cols, rows = max(1, stage.content_size.width), max(1, stage.content_size.height)
        cw, ch = cell_pixels()
        width, height = max(1, size[0]), max(1, size[1])
        scale = min(cols * cw / width, rows * ch / height)
        cells = (max(1, min(cols, round(width * scale / cw))), max(1, min(rows, round(height * scale / ch))))
        box = (cells[0], cells[1] * 2) if images.coarse() else (cells[0] * cw, cells[1] * ch)
        return cells, box

    def _fit_video(self) -> None:
        output = self._video_output()
        if self.playback is None or output is None:
            return
        cells, box = self._video_box((output.width or 16, output.height or 9))
        widget: Any = self.query_one(self._video_widget_id())
        widget.styles.width, widget.styles.height = cells
        self.playback.send("box", box)

    @staticmethod
    def _video_widget_id() -> str:
        """Halfcell frames are drawn by the viewer's own fast widget; other modes by textual-image's."""
        return "#viewer-video" if images.current_mode() == "halfcell" else "#viewer-image"

    def _video_output(self) -> OutputFile | None:
        job = self.job
        outputs = shown_outputs(job) if job is not None else []
        return outputs[self.image] if 0 <= self.image < len(outputs) else None

    def _start_video(self, output: OutputFile) -> None:
        """Play ``output`` from its start in a worker thread (the one before is stopped first)."""
        self._stop_video()
        self.query_one("#viewer-message").display = False
        cells, box = self._video_box((output.width or 16, output.height or 9))
        widget: Any = self.query_one(self._video_widget_id())
        widget.styles.width, widget.styles.height = cells
        settings = getattr(getattr(self.app, "config", None), "settings", None)
        fps = video_play.terminal_fps(getattr(settings, "video_fps", None), os.environ)
        loop = asyncio.get_running_loop()

        def deliver(frame: video_play.Frame) -> None:
            """On the event loop, and wait until it is on the widget (a slow terminal holds the decoder back);
            never for ever: a stop (the viewer left, the app quitting) releases the thread at once."""
            shown = threading.Event()

            def apply() -> None:
                try:
                    self._frame_ready(playback, frame)
                finally:
                    shown.set()

            loop.call_soon_threadsafe(apply)  # RuntimeError once the loop is closed: the playback ends
            while not shown.wait(0.1):
                if playback.stopping:
                    return

        prepare = halfcell_strips if self._video_widget_id() == "#viewer-video" else None
        playback = video_play.Playback(str(output.path), box, deliver, max_fps=fps, loop=self.loop, prepare=prepare)
        self.playback, self.frame = playback, None
        self.pixels = (output.width, output.height) if output.width and output.height else None
        self.refresh_bindings()
        self.run_worker(self._run_video(playback), group="viewer-video", exit_on_error=False)

    async def _run_video(self, playback: video_play.Playback) -> None:
        await asyncio.to_thread(playback.run)
        if playback.error and playback is self.playback:
            self._message(playback.error)
            self._caption()

    def _frame_ready(self, playback: video_play.Playback, frame: video_play.Frame) -> None:
        if playback is not self.playback or not self.is_attached:
            return  # a frame of a video left meanwhile
        if frame.lines is not None:
            video = self.query_one("#viewer-video", HalfcellFrame)
            video.show(frame.lines)
            video.display = True
            for image in self.query("#viewer-image"):
                image.display = False
        else:
            widget: Any = self.query_one("#viewer-image")
            widget.image = frame.image
            widget.display = True
        self.frame = frame
        self.shown_path = playback.path
        self._caption()

    def _stop_video(self) -> None:
        """Stop the decoding thread at once (it ends at its next wait; the file is closed there)."""
        playback, self.playback, self.frame = self.playback, None, None
        if playback is None:
            return
        playback.stop()
        for widget in self.query("#viewer-image"):
            widget.styles.width, widget.styles.height = "auto", "auto"
        for video in self.query("#viewer-video"):
            video.display = False
        if self.is_attached:
            self.refresh_bindings()

    def _tick(self) -> None:
        job = self.job
        if job is not None and not job.status.terminal and not shown_outputs(job):
            self._message(status_line(job, time.time()))

    @work(exclusive=True, group="viewer-load", exit_on_error=False)
    async def _load(self, job_id: int, output: OutputFile) -> None:
        stage = self.query_one("#viewer-stage")
        cw, ch = cell_pixels()
        box = (max(1, stage.content_size.width) * cw, max(1, stage.content_size.height) * ch)
        path = str(output.path)
        try:
            picture, pixels = await asyncio.to_thread(_decode, path, box, output)
        except (OSError, ValueError) as exc:
            if self.job is not None and self.job.id == job_id:
                self._message(f"Could not open the image {path}: {exc}.")
                self._caption()
            return
        if self.job is None or self.job.id != job_id:
            return  # stepped on while decoding
        widget: Any = self.query_one("#viewer-image")
        widget.image = picture
        widget.display = True
        self.query_one("#viewer-message").display = False
        self.shown_path, self.pixels = path, pixels
        self._caption()

    # ---------------------------------------------------------------- live jobs
    def on_jobs_deleted(self, message: Any) -> None:
        """Deleted jobs leave the list; the viewer shows the next one (or goes back when none is left)."""
        gone = set(getattr(message, "job_ids", ()))
        current = self.job
        kept = [job for job in self.jobs if job.id not in gone]
        if len(kept) == len(self.jobs):
            return
        if not kept:
            self.dismiss(None)
            return
        before = sum(1 for job in self.jobs[: self.index] if job.id not in gone)
        self.jobs = kept
        self.index = min(before, len(kept) - 1)
        if current is None or current.id in gone:
            self.image, self.shown_path = 0, None
            self._show()

    def on_job_changed(self, message: Any) -> None:
        """A job in the list changed (the app forwards every change to open screens): show its new state."""
        job = getattr(message, "job", None)
        if not isinstance(job, Job):
            return
        for i, known in enumerate(self.jobs):
            if known.id == job.id and known != job:
                self.jobs[i] = job
                if i == self.index:
                    if known.outputs != job.outputs:
                        self.shown_path = None
                    self._show()


def _decode(path: str, box: tuple[int, int], output: OutputFile) -> tuple[Any, tuple[int, int]]:
    """(the image shrunk to ``box``, its original pixel size), in a worker thread."""
    picture = thumbs.load_preview(
        path,
        box,
        thumb_path=output.thumb_path,
        size=(output.width, output.height),
        coarse=images.coarse(),
    )
    if output.width and output.height:
        return picture, (output.width, output.height)
    from PIL import Image as PILImage

    with PILImage.open(path) as img:  # reads the header only
        return picture, img.size
