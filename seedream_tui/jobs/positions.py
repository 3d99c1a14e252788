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
    board = PositionBoard()
    for job in jobs:
        board.update(job)
    return board.shown


class PositionBoard:
    """:func:`consistent_positions` kept up to date one job at a time.

    A long queue polls all the time (500 queued jobs: dozens of answers a second); recomputing every shown
    position for each answer made each one cost the whole queue. Here a change touches only the position it
    left and the one it took: each holds the jobs claiming it, and shows its freshest (the same rule).
    """

    def __init__(self) -> None:
        #: position text -> the queued jobs claiming it, by id
        self._claims: dict[str, dict[int, Job]] = {}
        #: job id -> the position text it claims
        self._claim_of: dict[int, str] = {}
        #: position text -> the job shown with it
        self._holder: dict[str, int] = {}
        #: job id -> the position text shown for it (what ``consistent_positions`` returns)
        self.shown: dict[int, str] = {}

    def update(self, job: Job) -> set[int]:
        """Take ``job``'s latest state; return the ids of jobs whose shown position changed."""
        text = shown_position(job.queue_position) if job.status is JobStatus.QUEUED else None
        old = self._drop(job.id)
        if text is not None:
            self._claims.setdefault(text, {})[job.id] = job
            self._claim_of[job.id] = text
        return self._settle({t for t in (old, text) if t is not None})

    def remove(self, job_id: int) -> set[int]:
        """Forget a job (deleted); return the ids of jobs whose shown position changed."""
        old = self._drop(job_id)
        return self._settle({old} if old is not None else set())

    def _drop(self, job_id: int) -> str | None:
        old = self._claim_of.pop(job_id, None)
        if old is not None:
            claims = self._claims[old]
            claims.pop(job_id, None)
            if not claims:
                del self._claims[old]
        return old

    def _settle(self, texts: set[str]) -> set[int]:
        changed: set[int] = set()
        for text in texts:
            claims = self._claims.get(text)
            winner = max(claims.values(), key=lambda j: (j.updated_at, j.id)).id if claims else None
            before = self._holder.get(text)
            if before == winner:
                continue
            if before is not None:
                if self.shown.get(before) == text:
                    del self.shown[before]
                changed.add(before)
            if winner is None:
                del self._holder[text]
            else:
                self._holder[text] = winner
                self.shown[winner] = text
                changed.add(winner)
        return changed
