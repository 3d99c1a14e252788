"""Every wait ends (issue 18, point 3), run as a user runs the CLI against the fake server on loopback.

``submit --wait``, ``status --wait``, ``wait``, ``rerun --wait`` and ``download`` take ``--timeout SECONDS``: a
job that never reaches a final status (a queue that never moves, a download that trickles) ends the wait with
exit 124, the request id and the command that follows it later, and stays live in the history for the next
start. While the server cannot be reached, the wait says so again at growing intervals, not once and not once
per poll. A bad ``--timeout`` is refused with a sentence and exit 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from itertools import islice, takewhile
from pathlib import Path

import httpx
import pytest
from bad_input_support import (
    MODEL,
    REPO,
    TOKEN,
    CliRun,
    assert_intact,
    fast_fake_server,
    fingerprint,
    home_paths,
    run_cli,
    seed_home,
    seeded_home,
)
from helpers import wait_until

from seedream_tui.cli import EXIT_TIMEOUT, TROUBLE_ENV, trouble_gaps
from seedream_tui.fake.server import FakeServerThread
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.store import HistoryStore

EXIT_OK, EXIT_INPUT = 0, 2
#: the seeded home holds jobs 1 and 2 (1: a finished job of MODEL); the first job a test makes is 3
FIRST = 3
#: what the wait says when it gives up, and what it says again while RunComfy cannot be reached
GAVE_UP = "stopped waiting after"
AGAIN = "no usable answer from RunComfy for"


@pytest.fixture(scope="module")
def still_server() -> Iterator[FakeServerThread]:
    """A queue that never moves: one worker, busy for ten minutes with a job made elsewhere."""
    with fast_fake_server(31, workers=1, min_duration=600, max_duration=600) as fake:
        blocker = _submit_elsewhere(fake, "the job that holds the only worker")
        wait_until(lambda: fake.jobs_snapshot()[blocker]["status"] == "in_progress", 30, "the blocker to run")
        yield fake


@pytest.fixture
def home(isolated_home: Path, still_server: FakeServerThread) -> Iterator[Path]:
    with seeded_home(isolated_home, still_server) as home:
        yield home


def _submit_elsewhere(server: FakeServerThread, prompt: str) -> str:
    answer = httpx.post(f"{server.base_url}/v1/models/{MODEL}", json={"prompt": prompt},
                        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["request_id"])


def cli(home: Path, server: FakeServerThread, *args: str) -> CliRun:
    return run_cli(home, *args, "--base-url", server.base_url, timeout=60)


def row(home: Path, job_id: int) -> Job | None:
    store = HistoryStore(home_paths(home).history_db)
    try:
        return store.get(job_id)
    finally:
        store.close()


def assert_live(job: Job | None) -> Job:
    """Kept for the next start: not cancelled, not failed, not finished."""
    assert job is not None
    assert not job.status.terminal and job.finished_at is None, job
    assert not (job.error or "").strip() or job.error.startswith("Waiting: "), job.error  # type: ignore[union-attr]
    return job


def assert_gave_up(run: CliRun, job: Job, seconds: str) -> None:
    assert run.code == EXIT_TIMEOUT, run.err
    assert job.request_id
    said = [line for line in run.err.splitlines() if GAVE_UP in line]
    assert len(said) == 1, run.err
    assert f"{GAVE_UP} {seconds} s" in said[0] and f"job {job.id} (request {job.request_id})" in said[0]
    assert said[0].endswith(f"follow it with: seedream-tui wait {job.request_id}"), said[0]


# ---------------------------------------------------------------------------------- a queue that never moves
def test_submit_wait_in_a_queue_that_never_moves_ends_at_its_timeout(home: Path, still_server: FakeServerThread) -> None:
    run = cli(home, still_server, "submit", "a fox in a queue that never moves", "--wait", "--timeout", "2")
    job = assert_live(row(home, FIRST))
    assert job.status is JobStatus.QUEUED
    assert_gave_up(run, job, "2")
    assert f"job {FIRST} queued: request {job.request_id}" in run.out
    assert still_server.jobs_snapshot()[job.request_id]["status"] == "in_queue"  # not cancelled there either

    # what it says to run follows the job from the history (the next start), and ends the same way
    again = cli(home, still_server, "wait", job.request_id, "--timeout", "1.5", "--json")  # type: ignore[arg-type]
    assert_gave_up(again, job, "1.5")
    assert "is now job" not in again.err  # the same row, not adopted again
    shown = json.loads(again.out)
    assert shown["id"] == FIRST and shown["status"] == "queued"
    assert assert_live(row(home, FIRST)).status is JobStatus.QUEUED


@pytest.mark.parametrize("form", [("status", "{id}", "--wait"), ("rerun", "1", "--wait")])
def test_status_wait_and_rerun_wait_end_at_their_timeout(home: Path, still_server: FakeServerThread,
                                                         form: tuple[str, ...]) -> None:
    if form[0] == "status":
        rid = _submit_elsewhere(still_server, "made on the dashboard, behind the busy worker")
        form = tuple(a.replace("{id}", rid) for a in form)
    run = cli(home, still_server, *form, "--timeout", "1")
    job = assert_live(row(home, FIRST))
    assert_gave_up(run, job, "1")


def test_download_that_never_ends_stops_at_its_timeout(isolated_home: Path) -> None:
    """``download`` waits for the files: a CDN that trickles a byte a second ends at the timeout, and the job
    stays downloading (its files are fetched at the next start)."""
    with fast_fake_server(32) as server, seeded_home(isolated_home, server) as home:
        done = cli(home, server, "submit", "a fox to download again", "--wait")
        assert done.code == EXIT_OK, done.err
        server.set_config(cdn_rate=1.0)
        run = cli(home, server, "download", str(FIRST), "--timeout", "2")
        job = assert_live(row(home, FIRST))
        assert job.status is JobStatus.DOWNLOADING
        assert_gave_up(run, job, "2")


# -------------------------------------------------------------------------- a server that stops answering
def test_a_server_killed_mid_wait_is_said_again_at_growing_intervals(isolated_home: Path) -> None:
    first = 0.5  # the real first gap is 10 s; the schedule's shape is the same (see the test below)
    home = isolated_home
    seed_home(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNCOMFY_")}
    env.update({"SEEDREAM_TUI_HOME": str(home), "RUNCOMFY_API_TOKEN": TOKEN, "PYTHONUTF8": "1",
                TROUBLE_ENV: str(first)})
    with fast_fake_server(33, workers=1, min_duration=600, max_duration=600) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "seedream_tui", "submit", "a fox", "--wait", "--timeout", "12",
             "--base-url", server.base_url],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO,
        )
        try:
            # the CLI is waiting once its history says the job runs (it learnt that by polling)
            wait_until(lambda: (j := row(home, FIRST)) is not None and j.status is JobStatus.RUNNING, 30,
                       "the waiting CLI to see the job run")
            server.stop()  # killed mid-wait
            out, err_bytes = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    err = err_bytes.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    job = assert_live(row(home, FIRST))
    assert job.status is JobStatus.RUNNING
    assert_gave_up(CliRun(proc.returncode, out.decode(), err), job, "12")
    again = [line for line in err.splitlines() if AGAIN in line]
    # said more than once, each time with the reason; never more often than the growing gaps allow
    assert len(again) >= 2, err
    assert all("Cannot reach RunComfy" in line and "Still trying." in line for line in again), again
    most = len(list(takewhile(lambda mark: mark <= 12, _marks(first))))
    assert len(again) <= most, err
    said_for = [float(line.split(AGAIN, 1)[1].split(" s:", 1)[0]) for line in again]
    assert said_for == sorted(said_for) and len(set(said_for)) == len(said_for), said_for


def _marks(first: float) -> Iterator[float]:
    """Seconds of trouble after which the wait speaks again."""
    total = 0.0
    for gap in trouble_gaps(first, first * 30):
        total += gap
        yield total


def test_the_reminders_grow_then_are_capped() -> None:
    """The real schedule: 10 s, then doubling gaps, never more than 5 minutes apart; never silent for good."""
    gaps = list(islice(trouble_gaps(), 12))
    assert gaps[:6] == [10.0, 20.0, 40.0, 80.0, 160.0, 300.0]
    assert all(a <= b for a, b in zip(gaps, gaps[1:], strict=False)) and set(gaps[5:]) == {300.0}


# ----------------------------------------------------------------------------------------- bad --timeout
@pytest.fixture(scope="module")
def idle_server() -> Iterator[FakeServerThread]:
    with fast_fake_server(34) as fake:
        yield fake


@pytest.mark.parametrize(("command", "value"), [
    (("wait", "1"), "0"), (("status", "1", "--wait"), "-5"), (("submit", "a fox", "--wait"), "abc"),
    (("rerun", "1", "--wait"), "nan"), (("download", "1"), "inf"), (("wait", "1"), ""), (("wait", "1"), "1e999"),
])
def test_a_bad_timeout_is_refused_with_a_sentence(isolated_home: Path, idle_server: FakeServerThread,
                                                  command: tuple[str, ...], value: str) -> None:
    with seeded_home(isolated_home, idle_server) as home:
        before, asked = fingerprint(home), len(idle_server.api_requests)
        run = cli(home, idle_server, *command, f"--timeout={value}")
        assert run.code == EXIT_INPUT, run.err
        assert "--timeout" in run.err and "expects a positive number of seconds" in run.err, run.err
        assert len(idle_server.api_requests) == asked  # nothing was sent
        assert_intact(home, before)
        assert row(home, FIRST) is None


def test_a_timeout_without_a_wait_is_refused(isolated_home: Path, idle_server: FakeServerThread) -> None:
    with seeded_home(isolated_home, idle_server) as home:
        asked = len(idle_server.api_requests)
        run = cli(home, idle_server, "submit", "a fox", "--timeout", "30")
        assert run.code == EXIT_INPUT, run.err
        assert "--timeout limits a wait: add --wait" in run.err
        assert len(idle_server.api_requests) == asked and row(home, FIRST) is None  # not submitted


def test_help_documents_the_timeout_exit_code(isolated_home: Path) -> None:
    shown = subprocess.run([sys.executable, "-m", "seedream_tui", "--help"], capture_output=True, text=True,
                           cwd=REPO, env={**os.environ, "SEEDREAM_TUI_HOME": str(isolated_home)}, timeout=60)
    assert shown.returncode == EXIT_OK
    text = " ".join(shown.stdout.split())
    assert f"{EXIT_TIMEOUT} a wait reached its --timeout" in text
    for sub in ("submit", "status", "wait", "rerun", "download"):
        sub_help = subprocess.run([sys.executable, "-m", "seedream_tui", sub, "--help"], capture_output=True,
                                  text=True, cwd=REPO, env={**os.environ, "SEEDREAM_TUI_HOME": str(isolated_home)},
                                  timeout=60)
        assert "--timeout SECONDS" in sub_help.stdout, sub
