"""Issue 20 §6: the CLI's words agree with the TUI's, and a refused cancel is not a failed job."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from seedream_tui.cli import EXIT_INPUT, main
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.paths import Paths

MODEL = "bytedance/seedream-5/lite/text-to-image"


def _seed(statuses: list[JobStatus]) -> None:
    store = HistoryStore(Paths.default(demo=True).history_db)
    try:
        for i, status in enumerate(statuses):
            job = store.create_job(MODEL, {"prompt": f"job {i} {status.value}"})
            store.update_job(job.id, status=status, request_id=f"req-{i}", finished_at=time.time())
    finally:
        store.close()


@pytest.mark.parametrize("word", ["done", "completed", "DONE", "Completed"])
def test_history_status_accepts_the_tuis_word_and_the_stored_one(
    isolated_home: Path, capsys: pytest.CaptureFixture[str], word: str
) -> None:
    _seed([JobStatus.COMPLETED, JobStatus.FAILED])
    assert main(["history", "--demo", "--status", word]) == 0
    out = capsys.readouterr().out
    assert "job 0 completed" in out and "job 1 failed" not in out


def test_an_unknown_status_names_both_words(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--demo", "--status", "finished"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "Unknown status 'finished'" in err and "completed (done)" in err


@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_cancelling_a_finished_job_is_a_refused_request_exit_2(
    isolated_home: Path, capsys: pytest.CaptureFixture[str], status: JobStatus
) -> None:
    """Exit 5 says "the job failed"; a cancel the app refuses (the job is over) is a refused request: 2."""
    _seed([status])
    assert main(["cancel", "1", "--demo"]) == EXIT_INPUT
    assert f"already {status.label}" in capsys.readouterr().out


def test_status_words() -> None:
    assert JobStatus.from_word("done") is JobStatus.COMPLETED
    assert JobStatus.from_word("canceled") is JobStatus.CANCELLED
    assert JobStatus.from_word("unknown") is JobStatus.UNKNOWN
    with pytest.raises(ValueError):
        JobStatus.from_word("finished")
