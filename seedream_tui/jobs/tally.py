"""What this session has seen of the jobs: the latest status of each, what is live, what was spent.

Fed every job change (the core's callback) and the jobs resumed at start; read by the status bar, by the
quit path ("N jobs will resume at the next start") and by the finish announcements. No Textual here:
tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seedream_tui.jobs.model import Job, JobStatus

#: shown as "queued": waiting for the server (a submit not yet answered waits too)
WAITING = frozenset({JobStatus.SUBMITTING, JobStatus.QUEUED})
#: shown as "running": the server works on it, or we download its images
WORKING = frozenset({JobStatus.RUNNING, JobStatus.DOWNLOADING})


@dataclass
class SessionTally:
    """Latest status per job id seen this session, and the cost of jobs finished in it."""

    statuses: dict[int, JobStatus] = field(default_factory=dict)
    #: job id -> cost, for jobs that finished while the app watched (costs the server reported)
    spent: dict[int, float] = field(default_factory=dict)
    #: completed jobs today, as last counted in the history (see ``set_done_today``)
    done_today: int | None = None
    #: the count stopped at ``done_today`` and there are more (a history of a million jobs: ``1,000+``)
    done_today_more: bool = False
    #: what the local queue says, as last read from the history (``queue paused · 12 pending (3 held)``)
    queue: str = ""

    def see(self, job: Job) -> JobStatus | None:
        """Record ``job``'s status; return the one it had before (None when new to this session)."""
        previous = self.statuses.get(job.id)
        self.statuses[job.id] = job.status
        if job.status.terminal and job.cost is not None and previous is not None and not previous.terminal:
            self.spent[job.id] = job.cost
        return previous

    def forget(self, job_id: int) -> None:
        """A deleted job: it no longer counts as live."""
        self.statuses.pop(job_id, None)

    @property
    def queued(self) -> int:
        return sum(1 for s in self.statuses.values() if s in WAITING)

    @property
    def running(self) -> int:
        return sum(1 for s in self.statuses.values() if s in WORKING)

    @property
    def live(self) -> int:
        return self.queued + self.running

    @property
    def spend(self) -> float | None:
        """What the jobs finished this session cost, when the server told us any cost."""
        return sum(self.spent.values()) if self.spent else None

    def counts_line(self) -> str:
        """``3 queued · 2 running · 14 done today`` (the parts that are known); the local queue's state
        (``queue paused · 8 pending``) before the day's count: at 80 columns the end of the line is cut, and
        "queue paused" is what a user who pressed P looks for."""
        parts = [f"{self.queued} queued", f"{self.running} running"]
        if self.queue:
            parts.append(self.queue)
        if self.done_today is not None:
            parts.append(f"{self.done_today:,}{'+' if self.done_today_more else ''} done today")
        return " · ".join(parts)

    @property
    def pending(self) -> int:
        """Jobs waiting in the local queue, not sent yet."""
        return sum(1 for s in self.statuses.values() if s is JobStatus.PENDING)

    def resume_sentence(self) -> str | None:
        """What quitting now means for live and pending jobs, or None when there are none."""
        n, waiting = self.live, self.pending
        later = (f"{waiting:,} pending job{'s' if waiting != 1 else ''} will be sent then" if waiting else "")
        if not n:
            return f"{later[0].upper()}{later[1:]} (at the next start of seedream-tui)." if later else None
        if n == 1:
            text = "1 job is still live; it will resume at the next start of seedream-tui"
        else:
            text = f"{n} jobs are still live; they will resume at the next start of seedream-tui"
        return f"{text}{'; ' + later if later else ''}."


def finished_sentence(jobs: list[Job]) -> tuple[str, str]:
    """One toast for a burst of finished jobs: (sentence, severity)."""
    done = sum(1 for job in jobs if job.status is JobStatus.COMPLETED)
    failed = sum(1 for job in jobs if job.status is JobStatus.FAILED)
    other = len(jobs) - done - failed
    parts = [f"{done} done"] if done else []
    if failed:
        parts.append(f"{failed} failed")
    if other:
        parts.append(f"{other} ended otherwise")
    severity = "error" if failed == len(jobs) else "warning" if failed or other else "information"
    return f"{len(jobs)} jobs finished: {', '.join(parts)}.", severity
