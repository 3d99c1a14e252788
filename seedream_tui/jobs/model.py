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

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @property
    def label(self) -> str:
        return _LABELS[self]


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
