"""SessionTally without Textual: live counts, spend, the quit sentence and the burst sentence."""

from __future__ import annotations

from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.tally import SessionTally, finished_sentence


def job(job_id: int, status: JobStatus, cost: float | None = None) -> Job:
    return Job(job_id, "m", {"prompt": "p"}, status, 0.0, 0.0, cost=cost)


def test_counts_follow_the_latest_status_of_each_job() -> None:
    tally = SessionTally()
    assert tally.see(job(1, JobStatus.SUBMITTING)) is None
    tally.see(job(2, JobStatus.QUEUED))
    tally.see(job(3, JobStatus.RUNNING))
    tally.see(job(4, JobStatus.DOWNLOADING))
    assert (tally.queued, tally.running, tally.live) == (2, 2, 4)
    assert tally.see(job(1, JobStatus.QUEUED)) is JobStatus.SUBMITTING
    tally.see(job(3, JobStatus.COMPLETED))
    tally.forget(4)
    assert tally.counts_line() == "2 queued · 0 running"
    tally.done_today = 14
    assert tally.counts_line() == "2 queued · 0 running · 14 done today"
    tally.done_today, tally.done_today_more = 1000, True  # counted up to the cap, and there are more
    assert tally.counts_line() == "2 queued · 0 running · 1,000+ done today"
    tally.queue = "queue paused · 8 pending"  # before the day's count: the end of the line is cut at 80 columns
    assert tally.counts_line() == "2 queued · 0 running · queue paused · 8 pending · 1,000+ done today"


def test_spend_counts_jobs_finished_while_watched_once() -> None:
    tally = SessionTally()
    assert tally.spend is None
    tally.see(job(1, JobStatus.COMPLETED, cost=0.5))  # finished before we saw it live: not this session's
    tally.see(job(2, JobStatus.RUNNING))
    tally.see(job(2, JobStatus.COMPLETED, cost=0.035))
    tally.see(job(2, JobStatus.COMPLETED, cost=0.035))  # the same change twice
    assert tally.spend == 0.035


def test_resume_sentence() -> None:
    tally = SessionTally()
    assert tally.resume_sentence() is None
    tally.see(job(1, JobStatus.QUEUED))
    assert tally.resume_sentence() == "1 job is still live; it will resume at the next start of seedream-tui."
    tally.see(job(2, JobStatus.RUNNING))
    assert tally.resume_sentence() == "2 jobs are still live; they will resume at the next start of seedream-tui."


def test_finished_sentence() -> None:
    done = [job(i, JobStatus.COMPLETED) for i in range(4)]
    assert finished_sentence(done) == ("4 jobs finished: 4 done.", "information")
    assert finished_sentence([*done, job(9, JobStatus.FAILED)]) == ("5 jobs finished: 4 done, 1 failed.", "warning")
    assert finished_sentence([job(1, JobStatus.FAILED), job(2, JobStatus.FAILED)])[1] == "error"
