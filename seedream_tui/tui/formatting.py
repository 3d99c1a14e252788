"""How the screens say things: times, durations, sizes, status colours, model names, error sentences.

One place, so the job table, the history, the viewer, compare and the job details all say them the same way.
"""

from __future__ import annotations

import time

from rich.text import Text

from seedream_tui.jobs.model import AV_FORMATS, Job, JobStatus, OutputFile
from seedream_tui.jobs.positions import shown_position
from seedream_tui.safetext import visible

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


_SOUNDS = frozenset({"m4a", "mp3", "wav", "ogg", "flac"})


def playable(output: OutputFile) -> bool:
    """A video checked when it was saved (it opens, its first frames decode): the viewer plays it, and its
    poster frame stands in for it wherever images show."""
    return output.kind == "video" and output.problem is None and output.duration is not None


def is_image(output: OutputFile) -> bool:
    """An image (what "edit/animate this result" can take), not a video, a sound or another file."""
    return output.kind in (None, "image") and output.format not in AV_FORMATS


def video_badge(output: OutputFile | None) -> str:
    """``▶ 0:05`` for a playable video (shown on its poster, in tables and captions), else ""."""
    if output is None or not playable(output):
        return ""
    from seedream_tui.jobs.video import fmt_clock

    return f"▶ {fmt_clock(output.duration)}"


def job_badge(job: Job) -> str:
    """The badge of the job's first video (``▶ 0:05``), or "" when it made none."""
    return next((badge for o in job.outputs if (badge := video_badge(o))), "")


def av_card(output: OutputFile) -> str | None:
    """What stands in for a picture when an output is a video that cannot be played here, a sound or another
    file: its kind, type, size, why (a video's problem) and where it is. None for images and playable videos
    (their poster frame is shown)."""
    if playable(output):
        return None
    if output.kind == "file":
        return f"File · {fmt_size(output.size)}: not an image or a video.\n{output.path or output.url}"
    if output.format not in AV_FORMATS:
        return None
    kind = "Sound" if output.format in _SOUNDS or output.kind == "audio" else "Video"
    why = f"{output.problem}" if output.problem else "open it with a player."
    return f"{kind} · {output.format} · {fmt_size(output.size)}: {why}\n{output.path or output.url}"


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




def clipped(text: str, width: int) -> str:
    """``text`` on one line (controls shown visibly: it is outside text), cut to ``width`` cells with "…"."""
    from rich.cells import cell_len, set_cell_size

    line = " ".join(visible(text).split())
    if width <= 0:
        return ""
    if cell_len(line) <= width:
        return line
    return set_cell_size(line, width - 1).rstrip() + "…"  # no "A …": nor the pad of a cut wide character


def clipboard_sentence(what: str) -> str:
    """What a copy did, honestly: OSC 52 hands the text to the terminal, which may or may not pass it on."""
    return f"Sent {what} to the terminal's clipboard (OSC 52; in tmux: set -g set-clipboard on)."


def format_elapsed(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}"


def elapsed_of(job: Job, now: float) -> float | None:
    start = job.submitted_at or job.created_at
    end = job.finished_at if job.status.terminal else now
    if end is None:
        end = job.updated_at
    return end - start


def status_line(job: Job, now: float) -> str:
    """One sentence on where a job without a picture to show stands (with the time it has taken so far)."""
    position = shown_position(job.queue_position)
    if job.status is JobStatus.QUEUED and position is not None:
        return f"Queued (position {position}), {format_elapsed(elapsed_of(job, now))}."
    if job.status is JobStatus.FAILED:
        return f"Failed: {job.error or 'no reason given.'}"
    if job.status is JobStatus.COMPLETED and not job.outputs:
        return "Completed, but the server returned no images."
    if job.status is JobStatus.COMPLETED:
        return "Completed; the image files are missing (deleted or moved?)."
    if not job.status.terminal:
        return f"{job.status.label.capitalize()}… {format_elapsed(elapsed_of(job, now))}"
    return job.status.label.capitalize() + "."
