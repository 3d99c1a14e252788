"""The command line's batches (issue 21): ``submit`` with variants, sweeps and repeats, ``batch FILE``,
``--dry-run`` (text and the exact JSON), asking before paying, ``--wait --json`` as JSON Lines while jobs
finish, the exit status, ``history --batch``. The real CLI against the fake server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import submits, wait_until

from seedream_tui.cli import main
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.paths import Paths

TOKEN = "rc_test_token_for_batches"
SEEDREAM = "bytedance/seedream-5/lite/text-to-image"
FLUX = "blackforestlabs/flux-2/flash/text-to-image"


@pytest.fixture
def paid(fake_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)
    return fake_server


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def history_jobs() -> list[Any]:
    path = Paths.default().history_db
    if not path.exists():
        return []
    store = HistoryStore(path)
    try:
        return store.list_jobs(limit=1000)
    finally:
        store.close()


# ---------------------------------------------------------------- --dry-run
def test_dry_run_json_is_exactly_the_plan_and_sends_nothing(
    fake_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "submit", "a {red|arctic} fox in {snow|fog}", "--sweep", "output_format=png,jpeg",
                         "--dry-run", "--json", "--base-url", fake_server.base_url)  # no token: none needed
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"jobs", "total_usd"} and data["total_usd"] is None  # the bundled schema has no price
    assert [set(job) for job in data["jobs"]] == [{"model", "inputs", "price_usd"}] * 8
    assert data["jobs"][0] == {"model": SEEDREAM, "inputs": {"prompt": "a red fox in snow", "output_format": "png"},
                               "price_usd": None}
    assert [j["inputs"]["prompt"] for j in data["jobs"]][::2] == [
        "a red fox in snow", "a red fox in fog", "a arctic fox in snow", "a arctic fox in fog"]
    assert submits(fake_server) == 0 and history_jobs() == []


def test_dry_run_text_lists_every_job_and_the_total(fake_server: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "submit", "a fox", "--model", FLUX, "--repeat", "3", "--set", "seed=10",
                         "--dry-run", "--base-url", fake_server.base_url)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("3 jobs of " + FLUX)
    assert [line.split()[0] for line in lines[1:4]] == ["1", "2", "3"]
    assert all(f"seed={s}" in line for s, line in zip((10, 11, 12), lines[1:4], strict=True))
    assert lines[4].startswith("Total: ") and any("seeds 10…12" in line for line in lines)
    assert submits(fake_server) == 0


def test_batch_file_dry_run_with_a_row_model(
    fake_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "prompts.jsonl"
    path.write_text(f'{{"prompt": "a {{cat|dog}}"}}\n{{"prompt": "a fox", "model": "{FLUX}", "seed": 3}}\n')
    code, out, err = run(capsys, "batch", str(path), "--dry-run", "--json", "--base-url", fake_server.base_url)
    assert code == 0, err
    assert [(j["model"], j["inputs"]) for j in json.loads(out)["jobs"]] == [
        (SEEDREAM, {"prompt": "a cat"}), (SEEDREAM, {"prompt": "a dog"}), (FLUX, {"seed": 3, "prompt": "a fox"})]


# ---------------------------------------------------------------- bad input: a sentence, exit 2, nothing sent
@pytest.mark.parametrize(("argv", "words"), [
    (["submit", "a {red|blue fox"], "column 3"),
    (["submit", "a fox", "--sweep", "resolution=2K,9K"], "'9K'"),
    (["submit", "a fox", "--sweep", "colour=red"], "options are"),
    (["submit", "{a|b|c|d|e|f|g|h|i|j} {a|b|c|d|e|f|g|h|i|j} {a|b|c|d|e|f|g|h|i|j} {a|b}"], "--sample"),
    (["submit", "a fox", "--sweep", "max_images=1,2"], "changes nothing"),
])
def test_a_plan_that_cannot_be_made_is_a_sentence(
    paid: Any, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, out, err = run(capsys, *argv, "--yes", "--base-url", paid.base_url)
    assert code == 2 and words in err and "Traceback" not in err
    assert submits(paid) == 0 and history_jobs() == []


def test_a_bad_prompt_file_is_a_sentence(paid: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.csv"
    path.write_text("prompt,colour\na fox,red\n")
    code, _, err = run(capsys, "batch", str(path), "--yes", "--base-url", paid.base_url)
    assert code == 2 and "Line 2: unknown option 'colour'" in err
    big = tmp_path / "big.txt"
    with open(big, "wb") as handle:
        handle.truncate(2 * 1024**3)
    code, _, err = run(capsys, "batch", str(big), "--yes", "--base-url", paid.base_url)
    assert code == 2 and "2 GB" in err
    assert submits(paid) == 0


def test_a_paid_batch_is_not_sent_without_yes_when_nobody_can_be_asked(
    paid: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "submit", "a {red|blue} fox", "--base-url", paid.base_url)
    assert code == 2 and "2 paid jobs" in err and "--yes" in err and "Nothing was sent" in err
    assert submits(paid) == 0 and history_jobs() == []


def test_a_refused_budget_exits_2_with_its_sentence(
    paid: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local queue refuses a batch over its budget (RefusedError, a sentence naming the budget); the CLI
    passes --budget and --max-live through and says the sentence."""
    from seedream_tui.api.errors import RefusedError
    from seedream_tui.jobs.service import Core

    seen: dict[str, Any] = {}

    async def refuse(self: Any, plan: Any, *, budget_usd: float | None = None, max_live: int | None = None) -> Any:
        seen.update(count=plan.count, budget=budget_usd, max_live=max_live)
        raise RefusedError(f"This batch costs up to $0.12, over your --budget of ${budget_usd:.2f}; nothing was sent.")

    monkeypatch.setattr(Core, "submit_batch", refuse)
    code, _, err = run(capsys, "submit", "a {red|blue} fox", "--budget", "0.05", "--max-live", "2", "--yes",
                       "--base-url", paid.base_url)
    assert code == 2 and "over your --budget of $0.05" in err
    assert seen == {"count": 2, "budget": 0.05, "max_live": 2}


def test_a_prompt_with_one_variant_is_a_plain_submit(paid: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "submit", r"a {fox} with a \{sign\}", "--json", "--base-url", paid.base_url)
    assert code == 0, err
    job = json.loads(out)
    assert job["inputs"]["prompt"] == "a fox with a {sign}" and job["batch"] is None


# ---------------------------------------------------------------- submitting and waiting
def test_batch_wait_json_prints_a_line_per_job_and_history_filters_by_batch(
    paid: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "prompts.txt"
    path.write_text("# two prompts\na {red|blue} fox\na cat\n")
    code, out, err = run(capsys, "batch", str(path), "--sweep", "output_format=png,jpeg", "--yes", "--wait",
                         "--json", "--timeout", "60", "--base-url", paid.base_url)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]  # JSON Lines: one object a line
    assert len(lines) == 6 and {j["status"] for j in lines} == {"completed"}
    batch = lines[0]["batch"]
    assert batch is not None and {j["batch"] for j in lines} == {batch}
    assert sorted(j["batch_place"] for j in lines) == list(range(6))
    assert submits(paid) == 6
    code, out, err = run(capsys, "history", "--batch", str(batch), "--json", "--base-url", paid.base_url)
    listed = json.loads(out)
    assert code == 0 and len(listed) == 6 and {j["batch"] for j in listed} == {batch}
    code, out, err = run(capsys, "history", "--batch", str(batch + 1), "--json", "--base-url", paid.base_url)
    assert code == 2 and out == "" and f"There is no batch {batch + 1}" in err  # not an empty list: a typo


def test_a_batch_with_failed_jobs_exits_as_a_failed_job(paid: Any, capsys: pytest.CaptureFixture[str]) -> None:
    paid.set_config(fail_rate=1.0)
    code, out, err = run(capsys, "submit", "a {red|blue} fox", "--yes", "--wait", "--timeout", "60",
                         "--base-url", paid.base_url)
    assert code == 5 and "2 of 2 jobs of batch" in err and "did not complete" in err


def test_a_batch_wait_that_runs_out_of_time_exits_124(paid: Any, capsys: pytest.CaptureFixture[str]) -> None:
    paid.set_config(min_duration=60.0, max_duration=60.0)
    code, out, err = run(capsys, "submit", "a {red|blue} fox", "--yes", "--wait", "--timeout", "0.5",
                         "--base-url", paid.base_url)
    assert code == 124 and "stopped waiting after 0.5 s" in err and "history --batch" in err
    assert {j.status.value for j in history_jobs()} <= {"queued", "running", "submitted", "pending"}


def test_json_lines_come_as_each_job_finishes(paid: Any, isolated_home: Path) -> None:
    """One job ends (cancelled while waiting at RunComfy) while the other still runs for a minute: its line
    is on stdout before the command ends."""
    paid.set_config(workers=1, min_duration=60.0, max_duration=60.0)
    # PYTHONFAULTHANDLER: SIGABRT prints where every thread is, should it not end after Ctrl-C (below)
    env = {**os.environ, "SEEDREAM_TUI_HOME": str(isolated_home), "RUNCOMFY_API_TOKEN": TOKEN,
           "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "seedream_tui", "submit", "a {red|blue} fox", "--yes", "--wait", "--json",
         "--timeout", "100", "--base-url", paid.base_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )
    try:
        waiting = wait_until(lambda: [rid for rid, j in paid.jobs_snapshot().items() if j["status"] == "in_queue"],
                             timeout=30, what="the second job waiting at the fake server")
        answer = httpx.post(f"{paid.base_url}/v1/requests/{waiting[0]}/cancel",
                            headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert answer.status_code < 300
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["request_id"] == waiting[0] and first["status"] == "cancelled" and first["batch"] is not None
        assert proc.poll() is None  # the other job is still running: the line came as its job finished
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired as late:  # say where it was (seen when SIGINT came ignored: conftest.py)
            proc.send_signal(signal.SIGABRT)
            _, err = proc.communicate()
            raise AssertionError(f"the command did not end within 60 s of Ctrl-C; its stderr: {err[-3000:]}") from late


@pytest.mark.parametrize(("answer", "code"), [("n\n", 2), ("y\n", 0)])
def test_a_paid_batch_asks_on_a_terminal(
    paid: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, answer: str, code: int
) -> None:
    import io

    from seedream_tui import cli_batch

    monkeypatch.setattr(cli_batch, "_can_ask", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer))
    got, out, err = run(capsys, "submit", "a {red|blue} fox", "--base-url", paid.base_url)
    assert got == code, err
    assert "2 paid jobs" in err and "a red fox" in err and "Submit these 2 jobs? [y/N]" in err
    assert submits(paid) == (2 if code == 0 else 0)


def test_the_demo_never_asks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "submit", "a {red|blue} fox", "--demo")
    assert code == 0, err
    assert "paid" not in err and len(out.splitlines()) == 2 and "Batch 1: 2 jobs" in err


def test_a_dry_run_lists_a_list_option_on_one_line() -> None:
    """An image list in the plan is one short JSON value per line, not an indented block with ``\\n`` in it."""
    from seedream_tui.cli_batch import _short

    assert _short(["p.png"]) == '["p.png"]'


def test_a_dry_run_fetches_the_prices_the_bundled_schemas_lack(
    fake_server: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh home's bundled schema has no price: with a way to ask (a token, or the demo) the plan reads the
    model's price from the catalog (a read, no submit) instead of saying "price unknown"."""
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "test-token-123")
    code, out, err = run(capsys, "submit", "a {red|arctic} fox", "--dry-run", "--json",
                         "--base-url", fake_server.base_url)
    assert code == 0, err
    data = json.loads(out)
    assert [job["price_usd"] for job in data["jobs"]] == [0.03, 0.03] and data["total_usd"] == 0.06
    assert submits(fake_server) == 0 and history_jobs() == []


def test_history_of_a_batch_that_does_not_exist_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "history", "--batch", "99")
    assert code == 2 and "There is no batch 99" in err
