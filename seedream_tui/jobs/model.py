"""The job record shared by the store, the engine, the CLI and the TUI."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

#: the bounding box of the cached thumbnail of each output: big enough for a pixel-protocol (sixel,
#: kitty) preview pane of ~100 cells, so previews skip decoding the full image
THUMB_SIZE = (1024, 1024)
#: output formats that are not images: videos and sounds, kept as they come (no decode, no thumbnail)
AV_FORMATS = ("mp4", "mov", "webm", "m4a", "mp3", "wav", "ogg", "flac")


class JobStatus(StrEnum):
    #: row written, submit not yet answered
    SUBMITTING = "submitting"
    QUEUED = "queued"
    RUNNING = "running"
    #: server says completed; outputs being downloaded
    DOWNLOADING = "downloading"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    #: the server no longer knows the request (404001)
    EXPIRED = "expired"
    #: submit was sent but its answer never came: check the RunComfy dashboard
    UNKNOWN = "unknown"
    #: written, not yet sent: waiting in the local queue for a free slot (see local_queue.py); not live on the
    #: server, not terminal. Last, so the words listed in a refusal keep their order
    PENDING = "pending"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def from_word(cls, word: str) -> JobStatus:
        """The status a user's word names: the stored value (``completed``) or the word the TUI shows
        (``done``), any case, ``canceled`` too. ValueError when it names none."""
        key = word.strip().lower()
        for status in cls:
            if key in (status.value, _LABELS[status].split(" ")[0]):
                return status
        if key == "canceled":
            return cls.CANCELLED
        raise ValueError(word)

    @classmethod
    def words(cls) -> str:
        """Every status word, for a refusal: ``submitting, queued, …, completed (done), …``."""
        shown = []
        for status in cls:
            label = _LABELS[status].split(" ")[0]
            shown.append(status.value if label == status.value else f"{status.value} ({label})")
        return ", ".join(shown)


TERMINAL = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED, JobStatus.UNKNOWN}
)

_LABELS = {
    JobStatus.SUBMITTING: "submitting",
    JobStatus.QUEUED: "queued",
    JobStatus.RUNNING: "running",
    JobStatus.DOWNLOADING: "downloading",
    JobStatus.COMPLETED: "done",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "cancelled",
    JobStatus.EXPIRED: "expired",
    JobStatus.UNKNOWN: "unknown — check the RunComfy dashboard",
    JobStatus.PENDING: "pending",
}


@dataclass(frozen=True)
class OutputFile:
    index: int
    url: str
    path: str | None = None  # local file once downloaded
    width: int | None = None
    height: int | None = None
    format: str | None = None  # "png", "jpeg", ...
    size: int | None = None  # bytes
    thumb_path: str | None = None
    #: what the file is: "image", "video", "audio" or "file" (None: an image, or not yet downloaded)
    kind: str | None = None
    #: a video's (or sound's) length in seconds and a video's frames per second
    duration: float | None = None
    fps: float | None = None
    #: why a kept video cannot be played here (damaged, no frame decodes, 16K frames…), a sentence; else None
    problem: str | None = None

    @property
    def is_video(self) -> bool:
        return self.kind == "video"


@dataclass(frozen=True)
class Job:
    id: int  # local id (history row)
    model_id: str
    inputs: dict[str, Any]
    status: JobStatus
    created_at: float  # unix seconds, local clock
    updated_at: float
    request_id: str | None = None
    queue_position: int | None = None
    submitted_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    cost: float | None = None
    outputs: tuple[OutputFile, ...] = field(default=())
    #: the base URL the job was submitted to (a job is always polled where it was made)
    base_url: str | None = None
    #: a sentence the server added about the result (the offline demo: "a stand-in for an image it could not fetch")
    note: str | None = None
    #: the batch the job belongs to (``batches.id``), its place in the batch's plan (0-based) and the values that
    #: made it (``{"prompt": "a red fox", "resolution": "2K", "repeat": 2}``: a variant's choices and swept options)
    batch_id: int | None = None
    batch_place: int | None = None
    variant: dict[str, Any] | None = None
    #: why a job waiting in the local queue is held back (a budget, a paused queue), else None
    hold: str | None = None
    #: the row's write counter: a write that expects an older one is refused (a stale copy never wins).
    #: Not part of equality: two reads of the same facts are the same job.
    version: int = field(default=0, compare=False)

    @property
    def prompt(self) -> str:
        value = self.inputs.get("prompt", "")
        return value if isinstance(value, str) else str(value)

    @property
    def prompt_line(self) -> str:
        """The prompt on one line (runs of white space folded), for tables and listings."""
        return " ".join(self.prompt.split())

    def evolve(self, **changes: Any) -> Job:
        return replace(self, **changes)


@dataclass(frozen=True)
class Batch:
    """Many jobs made from one idea: its plan (JSON) says how (axes, source, options); jobs point at it."""

    id: int
    created_at: float
    label: str = ""
    plan: dict[str, Any] = field(default_factory=dict)
    budget_usd: float | None = None
