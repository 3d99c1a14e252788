"""Hostile or broken local files (issue 9, section 6), run as a user runs the CLI.

A schema file made to be slow (a 200,000-value enum, 200,000 spaces in a description) is refused at once
with its cap in the sentence, and Ctrl-C works while schemas load; ``fetch-model`` never saves such a
schema; a settings file nested 100,000 deep is a warning; a read-only home still lists, shows and exports
(writers say the folder is read-only); a submit whose outcome is unknown exits 5, not 3; a reader that
goes away (``history --json | head``) ends the CLI quietly.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bad_input_support import (
    REPO,
    TOKEN,
    assert_intact,
    fast_fake_server,
    fingerprint,
    home_paths,
    run_cli,
    seeded_home,
)
from helpers import wait_until

from seedream_tui.fake.server import FakeServerThread

EXIT_OK, EXIT_ERROR, EXIT_JOB, EXIT_INTERRUPTED = 0, 1, 5, 130
#: no test here waits this long unless the code is broken (the slow schema took 3-5 minutes)
PATIENCE = 60.0


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServerThread]:
    with fast_fake_server(9) as fake:
        yield fake


@pytest.fixture
def home(isolated_home: Path, server: FakeServerThread) -> Iterator[Path]:
    with seeded_home(isolated_home, server, schema_style="normal", gateway_after_submit_rate=0.0) as home:
        yield home


def hostile_schema(kind: str) -> str:
    props: dict[str, object] = {"prompt": {"type": "string"}}
    if kind == "enum":
        props["size"] = {"type": "string", "enum": [f"{i}x{i}" for i in range(200_000)]}
    else:
        props["prompt"] = {"type": "string", "description": "1" + " " * 200_000 + "x"}
    return json.dumps({"model_id": f"acme/{kind}", "input_schema": {"type": "object", "properties": props}})


def within_caps_but_nasty() -> str:
    """As slow as the old reader could be made by text under every cap: a run of blanks after a number,
    which the word-limit pattern tried every way of splitting (cubic)."""
    description = "1" + " " * 19_000 + "x"
    props = {f"f{i}": {"type": "string", "description": description} for i in range(150)}
    return json.dumps({"model_id": "acme/nasty", "input_schema": {"type": "object", "properties": props}})


# ---------------------------------------------------------------------------------------- schema files
def test_slow_schema_files_are_refused_at_once_with_the_cap(home: Path) -> None:
    models = home_paths(home).user_models_dir
    models.mkdir(parents=True)
    (models / "enum.json").write_text(hostile_schema("enum"), encoding="utf-8")
    (models / "spaces.json").write_text(hostile_schema("description"), encoding="utf-8")
    (models / "nasty.json").write_text(within_caps_but_nasty(), encoding="utf-8")
    run = run_cli(home, "history", timeout=PATIENCE)
    assert run.code == EXIT_OK, run.err
    assert "enum.json: Field 'size' lists 200,000 choices; a schema may list at most 1,000 per field." in run.err
    assert "spaces.json: Field 'prompt': the description is 200,002 characters long; a schema's texts may be " \
           "at most 20,000." in run.err
    assert "nasty.json" not in run.err  # under every cap: read (quickly), not refused
    assert "a saved fox in the snow" in run.out


def test_ctrl_c_works_while_schemas_load(home: Path) -> None:
    """SIGINT while a dozen hostile schema files load ends the run with the interrupted sentence (or it was
    already done): it is never ignored for minutes."""
    models = home_paths(home).user_models_dir
    models.mkdir(parents=True)
    for i in range(6):
        (models / f"enum{i}.json").write_text(hostile_schema("enum"), encoding="utf-8")
        (models / f"nasty{i}.json").write_text(within_caps_but_nasty(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNCOMFY_")}
    env.update({"SEEDREAM_TUI_HOME": str(home), "RUNCOMFY_API_TOKEN": TOKEN, "PYTHONUTF8": "1"})
    proc = subprocess.Popen([sys.executable, "-m", "seedream_tui", "history"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    log = home_paths(home).log_file
    try:
        # the run's first log line is written before the schemas are read: interrupt once it is there
        wait_until(lambda: log.is_file() and "history" in log.read_text("utf-8"), PATIENCE, "the run's first log line")
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=PATIENCE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = err.decode("utf-8", "replace")
    assert "Traceback" not in text, text
    assert proc.returncode in (EXIT_OK, EXIT_INTERRUPTED), text
    if proc.returncode == EXIT_INTERRUPTED:
        assert "interrupted" in text


@pytest.mark.parametrize("style", ["huge_enum", "long_description"])
def test_fetch_model_does_not_save_a_slow_schema(home: Path, server: FakeServerThread, style: str) -> None:
    server.set_config(schema_style=style)
    model = "bytedance/seedream-5/lite/text-to-image"
    run = run_cli(home, "fetch-model", model, "--base-url", server.base_url, timeout=PATIENCE)
    assert run.code == EXIT_ERROR, run.err
    assert f"RunComfy's schema for {model} cannot be used:" in run.err
    assert ("lists 200,000 choices" if style == "huge_enum" else "characters long") in run.err
    assert not list(home_paths(home).user_models_dir.glob("*.json"))  # nothing saved


# ---------------------------------------------------------------------------------------- settings
def test_settings_nested_100000_deep_is_a_warning(home: Path) -> None:
    settings = home_paths(home).settings_file
    settings.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    before = fingerprint(home)
    run = run_cli(home, "history")
    assert run.code == EXIT_OK, run.err
    assert "is nested more than 16 levels deep, which no setting is; using defaults. It was left as it is." in run.err
    assert "unexpected error" not in run.err
    assert "a saved fox in the snow" in run.out
    assert_intact(home, before)


# ---------------------------------------------------------------------------------------- a read-only home
def _read_only_prefix() -> list[str]:
    """How to run the CLI so that the home is really read-only for it: root ignores file modes, so it runs
    without the capabilities that let it (util-linux ``setpriv``)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be made")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


def _make_read_only(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _run_read_only(home: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNCOMFY_")}
    env.update({"SEEDREAM_TUI_HOME": str(home), "RUNCOMFY_API_TOKEN": TOKEN, "PYTHONUTF8": "1"})
    proc = subprocess.run([*_read_only_prefix(), sys.executable, "-m", "seedream_tui", *args], cwd=REPO, env=env,
                          input=stdin.decode(), capture_output=True, text=True, timeout=PATIENCE)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture
def read_only_home(home: Path) -> Iterator[Path]:
    _make_read_only(home)
    yield home
    for path in [home, *home.rglob("*")]:  # let pytest clean it up
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_read_only_home_reads_and_writers_say_why(read_only_home: Path, server: FakeServerThread,
                                                   tmp_path: Path) -> None:
    home = read_only_home
    listed = _run_read_only(home, "history")
    assert listed.returncode == EXIT_OK, listed.stderr
    assert "a saved fox in the snow" in listed.stdout and "a saved owl" in listed.stdout
    as_json = _run_read_only(home, "history", "--json")
    assert as_json.returncode == EXIT_OK and len(json.loads(as_json.stdout)) == 2
    shown = _run_read_only(home, "status", "1", "--base-url", server.base_url)
    assert shown.returncode == EXIT_OK, shown.stderr
    assert "saved-request" in shown.stdout and "saved-request-0.png" in shown.stdout
    out = tmp_path / "exported"
    exported = _run_read_only(home, "export", "1", "--to", str(out))
    assert exported.returncode == EXIT_OK, exported.stderr
    assert (out / "1-a-saved-fox-in-the-snow-1.png").is_file()  # <id>-<prompt-slug>-<n>.png
    for args in (("submit", "a fox", "--base-url", server.base_url), ("cancel", "2", "--base-url", server.base_url)):
        refused = _run_read_only(home, *args)
        assert refused.returncode == EXIT_ERROR, refused.stderr
        assert "is in a read-only folder; nothing could be written to it." in refused.stderr
        assert "damaged" not in refused.stderr
    assert not server.jobs_snapshot()  # nothing was submitted that could not be recorded


# ---------------------------------------------------------------------------------------- exit codes and pipes
def test_unknown_submit_outcome_exits_5_not_3(home: Path, server: FakeServerThread) -> None:
    """The submit reached RunComfy but its answer was lost (a gateway 502/504 after the job was made): 3 means
    "network trouble, try again", which a script would follow and pay twice."""
    server.set_config(gateway_after_submit_rate=1.0)
    run = run_cli(home, "submit", "a fox", "--base-url", server.base_url)
    assert run.code == EXIT_JOB, run.err
    assert "the job may have been created. Check the RunComfy dashboard before submitting again." in run.err


@pytest.mark.parametrize("args", [("history", "--json"), ("history",), ("status", "1")])
def test_a_reader_that_goes_away_ends_quietly(home: Path, args: tuple[str, ...]) -> None:
    """``seedream-tui history --json | head``: the reader closes the pipe; the CLI ends with 0 and says nothing.
    Output buffered as in a user's shell (no PYTHONUNBUFFERED): the write that fails is the last flush, which
    Python made at exit ("Exception ignored … BrokenPipeError", exit 120) before the CLI flushed it itself."""
    reader, writer = os.pipe()
    os.close(reader)  # gone before the first byte: every write fails with EPIPE
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNCOMFY_", "PYTHONUNBUFFERED"))}
    env.update({"SEEDREAM_TUI_HOME": str(home), "PYTHONUTF8": "1"})
    try:
        proc = subprocess.run([sys.executable, "-m", "seedream_tui", *args], cwd=REPO, env=env, stdout=writer,
                              stderr=subprocess.PIPE, timeout=PATIENCE)
    finally:
        os.close(writer)
    assert proc.stderr.decode() == ""
    assert proc.returncode == EXIT_OK


def test_ctrl_c_before_the_run_starts_is_a_sentence(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C while the arguments are read (modules still loading) ends with the sentence and 130, never a
    traceback (it once escaped main's handler and printed one)."""
    from seedream_tui import cli

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["history"]) == EXIT_INTERRUPTED
    assert "interrupted" in capsys.readouterr().err
