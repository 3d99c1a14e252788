"""A home on a full disk or in a read-only folder, run as a user runs the CLI (issue 19, point 3).

The history there is healthy: no command may call it damaged nor advise moving it aside. Commands that
only read (``history``, ``spend``, ``models``) work; commands that write say what is wrong (full,
read-only). A disk that fills during ``submit --wait`` costs one line about the log file, never logging's
"--- Logging error ---" blocks and tracebacks.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bad_input_support import REPO, TOKEN, fast_fake_server, run_cli, seed_home
from helpers import wait_until
from test_local_files import _run_read_only, home, read_only_home  # noqa: F401 - fixtures

from seedream_tui.fake.server import FakeServerThread

EXIT_OK, EXIT_ERROR = 0, 1
LOG_LINE = "could not be written (No space left on device); later log lines are dropped."


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServerThread]:
    with fast_fake_server(19) as fake:
        yield fake


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB file system of its own (tmpfs), so that it can really be filled."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("a small file system cannot be mounted here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def test_a_disk_full_before_any_command_is_called_full_and_readers_still_read(
    small_disk: Path, server: FakeServerThread
) -> None:
    user_home = small_disk / "home"
    seed_home(user_home)
    _fill(small_disk)
    url = ("--base-url", server.base_url)
    jobs_before = len(server.jobs_snapshot())
    for args in (("history",), ("spend",), ("spend", "--json"), ("models", *url)):
        run = run_cli(user_home, *args)
        assert run.code == EXIT_OK, run.err
        assert "damaged" not in run.err and "Logging error" not in run.err
    assert "a saved fox in the snow" in run_cli(user_home, "history").out
    for args in (("submit", "a fox", *url), ("cancel", "2", *url), ("download", "1", *url)):
        run = run_cli(user_home, *args)
        assert run.code == EXIT_ERROR, run.err
        assert "history.sqlite3 is full: free some space and try again." in run.err
        assert "damaged" not in run.err and "move it aside" not in run.err
        assert len(run.err.splitlines()) <= 2 and "Logging error" not in run.err  # the log's one line at most
    assert len(server.jobs_snapshot()) == jobs_before  # nothing was sent that could not be recorded


def test_in_a_read_only_home_spend_and_models_read(read_only_home: Path, server: FakeServerThread) -> None:  # noqa: F811
    spent = _run_read_only(read_only_home, "spend", "--json")
    assert spent.returncode == EXIT_OK, spent.stderr
    assert '"jobs": 0' in spent.stdout
    listed = _run_read_only(read_only_home, "models", "--base-url", server.base_url)
    assert listed.returncode == EXIT_OK, listed.stderr
    assert "seedream" in listed.stdout
    for run in (spent, listed):
        assert "damaged" not in run.stderr and "read-only folder" not in run.stderr


def test_a_disk_that_fills_during_submit_wait_costs_one_line(small_disk: Path, server: FakeServerThread) -> None:
    user_home = small_disk / "home"
    seed_home(user_home)
    server.set_config(min_duration=1.5, max_duration=1.5)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNCOMFY_")}
    env.update({"SEEDREAM_TUI_HOME": str(user_home), "RUNCOMFY_API_TOKEN": TOKEN, "PYTHONUTF8": "1"})
    err_file = small_disk.parent / "stderr.txt"
    with err_file.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "seedream_tui", "submit", "a fox", "--wait",
                                 "--base-url", server.base_url], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                stderr=err)
    filler: Path | None = None
    try:
        wait_until(lambda: "Submitted job" in err_file.read_text("utf-8", "replace"), 30, "the submit")
        filler = _fill(small_disk)  # the disk fills while the job runs
        asked = len(server.api_requests)
        # the job ends on the server and the CLI goes on asking about it, its writes (history, log) failing
        wait_until(lambda: all(j["status"] == "completed" for j in server.jobs_snapshot().values()), 30,
                   "the job to end on the server")
        wait_until(lambda: len(server.api_requests) >= asked + 6, 60, "more questions from the waiting CLI")
        filler.unlink()  # room again: the outcome and the image are saved and the wait ends
        filler = None
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if filler is not None:
            filler.unlink()
        server.set_config(min_duration=0.05, max_duration=0.1)
    text = err_file.read_text("utf-8", "replace")
    assert proc.returncode == EXIT_OK, text
    assert "Logging error" not in text and "Traceback" not in text
    assert text.count(LOG_LINE) <= 1
    assert len(text.splitlines()) < 15, text


async def test_the_tui_on_a_full_disk_says_full_not_damaged(
    small_disk: Path, server: FakeServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers import wait_for

    from seedream_tui.config import resolve_config
    from seedream_tui.tui.app import SeedreamApp

    user_home = small_disk / "home"
    seed_home(user_home)
    monkeypatch.setenv("SEEDREAM_TUI_HOME", str(user_home))
    _fill(small_disk)
    app = SeedreamApp(resolve_config(base_url=server.base_url, env={"RUNCOMFY_API_TOKEN": TOKEN}))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.startup_error, 10, what="the start-up error")
        await pilot.pause()
    assert app.startup_error is not None
    assert "history.sqlite3 is full: free some space and try again." in app.startup_error
    assert "damaged" not in app.startup_error and "move it aside" not in app.startup_error


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[Path]:
    """A home seen through a read-only bind mount (EROFS, as on a read-only file system or a backup)."""
    source, mount = tmp_path / "source", tmp_path / "mounted"
    seed_home(source)
    mount.mkdir()
    if subprocess.run(["mount", "--bind", str(source), str(mount)], capture_output=True).returncode != 0:
        pytest.skip("a bind mount cannot be made here (needs root)")
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], capture_output=True).returncode != 0:
            pytest.skip("a bind mount cannot be made read-only here")
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_read_only_file_system_is_called_read_only_and_readers_read(
    read_only_mount: Path, server: FakeServerThread
) -> None:
    url = ("--base-url", server.base_url)
    jobs_before = len(server.jobs_snapshot())
    for args in (("history",), ("spend",), ("models", *url)):
        run = run_cli(read_only_mount, *args)
        assert run.code == EXIT_OK, run.err
        assert "damaged" not in run.err
    for args in (("submit", "a fox", *url), ("cancel", "2", *url), ("download", "1", *url)):
        run = run_cli(read_only_mount, *args)
        assert run.code == EXIT_ERROR, run.err
        assert "history.sqlite3 is in a read-only folder; nothing could be written to it." in run.err
        assert "damaged" not in run.err and "move it aside" not in run.err
    assert len(server.jobs_snapshot()) == jobs_before  # nothing was sent that could not be recorded
