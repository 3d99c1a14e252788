"""Plain data returned by the protocol client. Unknown fields are kept in ``raw``."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class RemoteStatus(StrEnum):
    """A request's state on the server, normalised.

    ``succeeded`` -> completed, ``canceled`` -> cancelled; unknown non-terminal
    states (``pending``, ``starting``, ...) become ``waiting``.
    """

    IN_QUEUE = "in_queue"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    WAITING = "waiting"

    @property
    def terminal(self) -> bool:
        return self in (RemoteStatus.COMPLETED, RemoteStatus.FAILED, RemoteStatus.CANCELLED)


_SYNONYMS = {
    "in_queue": RemoteStatus.IN_QUEUE,
    "queued": RemoteStatus.IN_QUEUE,
    "in_progress": RemoteStatus.IN_PROGRESS,
    "running": RemoteStatus.IN_PROGRESS,
    "processing": RemoteStatus.IN_PROGRESS,
    "completed": RemoteStatus.COMPLETED,
    "succeeded": RemoteStatus.COMPLETED,
    "success": RemoteStatus.COMPLETED,
    "failed": RemoteStatus.FAILED,
    "error": RemoteStatus.FAILED,
    "cancelled": RemoteStatus.CANCELLED,
    "canceled": RemoteStatus.CANCELLED,
}


def normalize_status(raw: object) -> RemoteStatus:
    if not isinstance(raw, str):
        return RemoteStatus.WAITING
    return _SYNONYMS.get(raw.strip().lower().replace("-", "_").replace(" ", "_"), RemoteStatus.WAITING)


@dataclass(frozen=True)
class SubmitResult:
    request_id: str
    status_url: str | None = None
    result_url: str | None = None
    cancel_url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class RequestState:
    """What ``/status`` or ``/result`` said about a request."""

    request_id: str
    status: RemoteStatus
    raw_status: str | None = None
    queue_position: int | None = None
    #: output URLs in order (``image``, ``images``, ``video``, ``videos`` flattened)
    outputs: tuple[str, ...] = ()
    #: the failure, as text, when status is failed
    error: str | None = None
    created_at: str | None = None
    finished_at: str | None = None
    cost: float | None = None
    #: a sentence the server adds about the result (the offline demo's ``demo_note``: a stand-in image)
    note: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class CancelResult:
    request_id: str
    #: True when the request is now cancelled; False when it was already running
    cancelled: bool
    status: RemoteStatus
    outcome: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
