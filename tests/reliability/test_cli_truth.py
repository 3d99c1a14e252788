"""The CLI tells the truth (issue 9, section 7), run as a user runs it against the fake server on loopback.

``status`` asks RunComfy once and saves what it learns; ``wait`` / ``status --wait`` follow and download like
``submit --wait``; any request id (made on the dashboard or by another tool) is adopted into the history; a
404 about a model is not "request expired", and a base URL ending in /v1 says which form to use; every cancel
answer RunComfy's clients accept is accepted; a token pasted with ``Bearer `` works and the CLI says so; the
log file is written from the first line of every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bad_input_support import (
    MODEL,
    TOKEN,
    CliRun,
    fast_fake_server,
    home_paths,
    run_cli,
    seed_home,
    seeded_home,
)
from helpers import wait_until

from seedream_tui.config import BEARER_REMOVED
from seedream_tui.fake.server import FakeServerThread
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import HistoryStore

EXIT_OK, EXIT_INPUT, EXIT_NETWORK, EXIT_JOB = 0, 2, 3, 5
#: the seeded home holds jobs 1 and 2; the first job a test makes is 3
FIRST = 3


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServerThread]:
    with fast_fake_server(7) as fake:
        yield fake


@pytest.fixture(scope="module")
def busy_server() -> Iterator[FakeServerThread]:
    """One worker and jobs that run for a minute: a second job stays queued (cancellable)."""
    with fast_fake_server(8, workers=1, min_duration=60, max_duration=60) as fake:
        yield fake


@pytest.fixture
def home(isolated_home: Path, server: FakeServerThread) -> Iterator[Path]:
    with seeded_home(isolated_home, server, error_5xx_rate=0.0, gateway_after_submit_rate=0.0,
                     unknown_model_style="400001", tokens=None, cancel_style="normal") as home:
        yield home


def cli(home: Path, server: FakeServerThread, *args: str, **kw: object) -> CliRun:
    return run_cli(home, *args, "--base-url", server.base_url, **kw)  # type: ignore[arg-type]


def row(home: Path, job_id: int) -> object:
    store = HistoryStore(home_paths(home).history_db)
    try:
        return store.get(job_id)
    finally:
        store.close()


def rows(home: Path) -> list[object]:
    store = HistoryStore(home_paths(home).history_db)
    try:
        return list(store.list_jobs(limit=100))
    finally:
        store.close()


def submit_elsewhere(server: FakeServerThread, prompt: str) -> str:
    """A request made outside this history (RunComfy's dashboard, another tool): its id."""
    answer = httpx.post(f"{server.base_url}/v1/models/{MODEL}", json={"prompt": prompt},
                        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["request_id"])


def server_status(server: FakeServerThread, request_id: str) -> str:
    return str(server.jobs_snapshot()[request_id]["status"])


def result_calls(server: FakeServerThread, request_id: str) -> int:
    return sum(1 for r in server.api_requests if r["path"].startswith(f"/v1/requests/{request_id}/"))


# ------------------------------------------------------------------------------------ status asks RunComfy
def test_status_asks_once_and_saves_what_it_learns(home: Path, server: FakeServerThread) -> None:
    submitted = cli(home, server, "submit", "a fox")
    assert submitted.code == EXIT_OK, submitted.err
    rid = row(home, FIRST).request_id  # type: ignore[attr-defined]
    assert "seedream-tui status 3" in submitted.err  # what the CLI suggests must move
    wait_until(lambda: server_status(server, rid) == "completed", 30, "the fake server to finish the job")
    before = result_calls(server, rid)
    shown = cli(home, server, "status", "3")
    assert shown.code == EXIT_OK, shown.err
    assert result_calls(server, rid) == before + 1  # asked once
    assert "job 3  done" in shown.out
    saved = row(home, FIRST)
    assert saved.status is JobStatus.COMPLETED  # type: ignore[attr-defined]
    path = Path(saved.outputs[0].path)  # type: ignore[attr-defined]
    assert path.is_file() and str(path) in shown.out


@pytest.mark.parametrize("form", [("wait", "{id}"), ("status", "{id}", "--wait")])
def test_wait_follows_and_downloads_like_submit_wait(home: Path, server: FakeServerThread,
                                                     form: tuple[str, ...]) -> None:
    assert cli(home, server, "submit", "an owl").code == EXIT_OK
    run = cli(home, server, *(a.replace("{id}", str(FIRST)) for a in form), "--json")
    assert run.code == EXIT_OK, run.err
    job = json.loads(run.out)
    assert job["status"] == "completed" and Path(job["outputs"][0]["path"]).is_file()


# ------------------------------------------------------------------------------------ any request id
def test_any_request_id_is_adopted_once(home: Path, server: FakeServerThread) -> None:
    rid = submit_elsewhere(server, "made on the dashboard")
    first = cli(home, server, "status", rid)
    assert first.code == EXIT_OK, first.err
    assert f"Request {rid} is now job {FIRST} in the history." in first.err
    assert f"request {rid}" in first.out
    again = cli(home, server, "wait", rid)
    assert again.code == EXIT_OK, again.err
    assert "is now job" not in again.err  # the same row, not a second one
    adopted = [j for j in rows(home) if j.request_id == rid]  # type: ignore[attr-defined]
    assert len(adopted) == 1 and adopted[0].status is JobStatus.COMPLETED
    assert Path(adopted[0].outputs[0].path).is_file() and adopted[0].outputs[0].path in again.out
    assert len(rows(home)) == 3


def test_unknown_or_malformed_request_id_adds_nothing(home: Path, server: FakeServerThread) -> None:
    unknown = cli(home, server, "status", "no-such-request")
    assert unknown.code == EXIT_JOB, unknown.err
    assert "RunComfy does not know the request no-such-request: it is unknown, deleted or expired" in unknown.err
    malformed = cli(home, server, "cancel", "a/b c")
    assert malformed.code == EXIT_INPUT, malformed.err
    assert "'a/b c' is not a RunComfy request id" in malformed.err
    assert len(rows(home)) == 2


# ------------------------------------------------------------------------------------ cancel answers
@pytest.mark.parametrize("style", ["normal", "requested", "canceled", "empty", "adopted"])
def test_every_accepted_cancel_answer_cancels(isolated_home: Path, busy_server: FakeServerThread, style: str) -> None:
    home = isolated_home
    seed_home(home)
    busy_server.set_config(cancel_style="normal" if style == "adopted" else style)
    try:
        submit_elsewhere(busy_server, "the job that keeps the only worker busy")
        if style == "adopted":
            target = submit_elsewhere(busy_server, "queued on the dashboard")
        else:
            assert cli(home, busy_server, "submit", "a queued fox").code == EXIT_OK
            target = "3"
        run = cli(home, busy_server, "cancel", target)
        assert run.code == EXIT_OK, run.err
        assert run.out.strip() == "Cancelled."
        assert row(home, FIRST).status is JobStatus.CANCELLED  # type: ignore[attr-defined]
    finally:
        busy_server.set_config(cancel_style="normal")


# ------------------------------------------------------------------------------------ 404s and base URLs
GHOST = json.dumps({"model_id": "acme/ghost", "input_schema": {"type": "object", "properties": {
    "prompt": {"type": "string"}}}})


@pytest.mark.parametrize("answer", ["404", "400001"])
def test_an_unknown_model_is_not_an_expired_request(home: Path, server: FakeServerThread, answer: str) -> None:
    models = home_paths(home).user_models_dir
    models.mkdir(parents=True)
    (models / "acme__ghost.json").write_text(GHOST, encoding="utf-8")
    server.set_config(unknown_model_style=answer)
    status = 404 if answer == "404" else 400
    for args in (("submit", "a fox", "--model", "acme/ghost"), ("fetch-model", "acme/ghost")):
        run = cli(home, server, *args)
        assert run.code == EXIT_INPUT, run.err
        assert f"RunComfy does not know the model 'acme/ghost' (HTTP {status}): check the model id" in run.err
        assert "expired" not in run.err and "request" not in run.err


def test_a_base_url_ending_in_v1_says_which_form_to_use(home: Path, server: FakeServerThread) -> None:
    before = len(server.jobs_snapshot())
    run = run_cli(home, "submit", "a fox", "--base-url", f"{server.base_url}/v1/")
    assert run.code == EXIT_INPUT, run.err
    assert f"ends in /v1: use '{server.base_url}' instead (this app adds /v1 to every call itself)." in run.err
    assert len(server.jobs_snapshot()) == before  # refused before anything was sent


# ------------------------------------------------------------------------------------ Bearer
def test_a_token_pasted_with_bearer_works_everywhere(home: Path, server: FakeServerThread) -> None:
    server.set_config(tokens=[TOKEN])
    from_env = cli(home, server, "submit", "a fox", "--wait", env={"RUNCOMFY_API_TOKEN": f"Bearer {TOKEN}"})
    assert from_env.code == EXIT_OK, from_env.err
    assert f"{BEARER_REMOVED} (in RUNCOMFY_API_TOKEN)" in from_env.err
    stored = run_cli(home, "token", stdin=f"bearer {TOKEN}\n".encode())
    assert stored.code == EXIT_OK, stored.err
    assert BEARER_REMOVED in stored.err
    assert home_paths(home).token_file.read_text("utf-8") == TOKEN
    home_paths(home).token_file.write_text(f"Bearer {TOKEN}\n", encoding="utf-8")  # pasted into the file by hand
    from_file = cli(home, server, "submit", "an owl", "--wait", env={"RUNCOMFY_API_TOKEN": ""})
    assert from_file.code == EXIT_OK, from_file.err
    assert "(in the token file" in from_file.err


# ------------------------------------------------------------------------------------ the log file
def log_text(home: Path) -> str:
    log = home_paths(home).log_file
    return log.read_text("utf-8") if log.is_file() else ""


def test_a_bad_base_url_is_a_sentence_and_the_log_exists(home: Path) -> None:
    run = run_cli(home, "history", "--base-url", "https://[::1")
    assert run.code == EXIT_INPUT, run.err
    assert "The base URL 'https://[::1' is not a valid http(s) URL." in run.err
    assert "unexpected error" not in run.err
    assert "history" in log_text(home) and "is not a valid http(s) URL" in log_text(home)


def test_the_log_tells_what_happened(home: Path, server: FakeServerThread) -> None:
    done = cli(home, server, "submit", "a fox", "--wait")
    assert done.code == EXIT_OK, done.err
    assert "job 3: downloading file 0 from 127.0.0.1" in log_text(home)
    assert cli(home, server, "submit", "an owl").code == EXIT_OK  # job 4, live
    server.set_config(error_5xx_rate=1.0)
    storm = cli(home, server, "status", "4")
    assert storm.code == EXIT_NETWORK, storm.err
    assert "RunComfy could not be asked about job 4" in storm.err
    assert "had a server error (HTTP 5" in log_text(home)
    server.set_config(error_5xx_rate=0.0, gateway_after_submit_rate=1.0)
    lost = cli(home, server, "submit", "a lost hare")
    assert lost.code == EXIT_JOB, lost.err
    assert "job 5: submit ended unknown" in log_text(home)
