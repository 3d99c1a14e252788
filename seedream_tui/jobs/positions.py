"""Queue positions as the user is shown them.

Each live job is polled on its own, so at any moment the positions held are from different polls: job A
still says "position 1" from two seconds ago while job B's newer poll says it is now 1. Shown as they come,
two jobs both claim to be next. And a server may send a negative or absurd number. So a view shows:

* a position only when it is plausible (0 … :data:`MAX_SHOWN`; larger is "9999+", negative is nothing);
* one job per position: when two queued jobs claim the same one, the most recently updated keeps it and the
  other shows nothing until its own next poll (a stale number is worse than none).

Pure functions, used by the main table, the preview, the detail screen and the CLI alike.
"""

from __future__ import annotations

from collections.abc import Iterable

from seedream_tui.jobs.model import Job, JobStatus

MAX_SHOWN = 9999


def shown_position(position: int | None) -> str | None:
    """The text for a queue position, or None when there is nothing believable to show."""
    if position is None or isinstance(position, bool) or not isinstance(position, int) or position < 0:
        return None
    return f"{MAX_SHOWN}+" if position > MAX_SHOWN else str(position)


def consistent_positions(jobs: Iterable[Job]) -> dict[int, str]:
    """Job id -> position text for the queued jobs that may show one (see the module's rules)."""
    freshest: dict[str, Job] = {}
    for job in jobs:
        if job.status is not JobStatus.QUEUED:
            continue
        text = shown_position(job.queue_position)
        if text is None:
            continue
        held = freshest.get(text)
        if held is None or (job.updated_at, job.id) > (held.updated_at, held.id):
            freshest[text] = job
    return {job.id: text for text, job in freshest.items()}
