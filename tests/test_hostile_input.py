"""Hostile input gets a sentence, never a hang, a traceback or a blocked history (issue 19, point 3).

A server that gives two submits one request id; a disk that fills between a submit and its answer; an error
echoing most of the token; costs that add up past the float range; SQLite failures that are not damage; a
log file that cannot be written.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import logging
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from helpers import FAST, MODEL, open_core, wait_for
from scripted_server import scripted_server

from seedream_tui import logsetup
from seedream_tui.api.client import REDACTED, redact
from seedream_tui.jobs import store_schema
from seedream_tui.jobs.journal import Entry
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.service import Core
from seedream_tui.jobs.spend import OUT_OF_RANGE, usd_text
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.paths import Paths
from seedream_tui.safetext import hide_secret, json_text


# ---------------------------------------------------------------------------------- one request id, twice
def _twin_server(ids: list[str]) -> Any:
    """Submits are answered with ``ids`` in turn (the last repeats); every status call: in the queue."""
    given = list(ids)

    async def answer(request: web.Request) -> web.StreamResponse:
        if request.method == "POST" and not request.path.endswith("/cancel"):
            rid = given.pop(0) if len(given) > 1 else given[0]
            return web.json_response({"request_id": rid})
        return web.json_response({"status": "in_queue", "queue_position": 3})

    return answer


async def test_a_request_id_given_twice_is_a_sentence_on_that_job_and_blocks_nothing() -> None:
    async with scripted_server() as server:
        server.script(_twin_server(["r-same", "r-same", "r-third"]))
        core = await open_core(server.base_url)
        try:
            first = await core.engine.submit(MODEL, {"prompt": "one"})
            second = await core.engine.submit(MODEL, {"prompt": "two"})  # the same request id: no exception
            third = await core.engine.submit(MODEL, {"prompt": "three"})
        finally:
            await core.close()
        assert first.request_id == "r-same" and first.status is JobStatus.QUEUED
        assert second.status is JobStatus.UNKNOWN and second.request_id is None
        assert f"RunComfy gave this job the request id r-same of job {first.id}" in (second.error or "")
        assert third.request_id == "r-third" and third.status is JobStatus.QUEUED  # later submits work
        again = await open_core(server.base_url)  # the next start replays the journal: nothing is blocked
        try:
            live = {job.id for job in await again.history.live_jobs()}
            assert live == {first.id, third.id}
            assert again.history.store.journal.entries() == []
            row = await again.history.get(first.id)
            assert row is not None and row.request_id == "r-same"  # the first job was left as it was
        finally:
            await again.close()


async def test_a_journaled_id_that_was_looked_up_meanwhile_does_not_block_the_start() -> None:
    """The id was not saved; the user followed it with ``status <request id>`` (adopted as a new row); the
    journal still holds it for the first row: the start goes on and the first row says where the job is."""
    async with scripted_server() as server:
        server.script(_twin_server(["r-lost"]))
        store = HistoryStore(Paths.default().history_db)
        try:
            row = store.create_job(MODEL, {"prompt": "lost"})
            store.journal.append(Entry(row.id, "r-lost", MODEL, 1.0))
            adopted, new = store.adopt_request("r-lost", model_id=MODEL, base_url=server.base_url, owner=None)
            assert new
        finally:
            store.close()
        core = await open_core(server.base_url)
        try:
            settled = await core.history.get(row.id)
            assert settled is not None and settled.status is JobStatus.UNKNOWN
            assert settled.error == (f"This job's request r-lost is followed as job {adopted.id} (looked up by its "
                                     "request id before it could be saved here).")
            assert [j.id for j in await core.history.live_jobs()] == [adopted.id]
        finally:
            await core.close()


# ---------------------------------------------------------------------------------- a disk that fills
def _fill(folder: Path) -> list[Path]:
    """Write until the disk is full; the files written (none when it already was)."""
    import os

    filler = folder / f"filler-{len(list(folder.glob('filler-*')))}"
    try:
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
        return []
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return [filler]


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The home on a 4 MB file system of its own (tmpfs), so it can really be filled."""
    import subprocess

    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("a small file system cannot be mounted here (needs root)")
    monkeypatch.setenv("SEEDREAM_TUI_HOME", str(mount / "home"))
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


async def test_a_request_id_that_meets_a_full_disk_reaches_the_history_once_there_is_room(small_disk: Path) -> None:
    from seedream_tui.jobs.engine import RequestIdNotSaved

    async with scripted_server() as server:
        server.script(_twin_server(["r-paid"]))
        core = await open_core(server.base_url, policy=dataclasses.replace(FAST, save_attempts=1, save_backoff=0.01))
        real_submit = core.engine.client.submit
        filled: list[Path] = []

        async def submit_then_fill(*args: Any, **kwargs: Any) -> Any:
            answer = await real_submit(*args, **kwargs)
            filled.extend(_fill(small_disk))  # the disk fills while RunComfy answers
            return answer

        store = core.history.store
        real_record = store.record_request_id

        def record_on_a_full_disk(*args: Any, **kwargs: Any) -> Any:
            filled.extend(_fill(small_disk))  # full again (the journal's room given back is taken too)
            return real_record(*args, **kwargs)

        core.engine.client.submit = submit_then_fill  # type: ignore[method-assign]
        store.record_request_id = record_on_a_full_disk  # type: ignore[method-assign]
        try:
            with pytest.raises(RequestIdNotSaved) as refused:
                await core.engine.submit(MODEL, {"prompt": "a paid fox"})
        finally:
            await core.close()
        assert "r-paid" in str(refused.value)
        for filler in filled:
            filler.unlink()  # room again
        again = await open_core(server.base_url)
        try:
            row = await again.history.get(refused.value.job_id)
            assert row is not None and row.request_id == "r-paid" and row.status is JobStatus.QUEUED
        finally:
            await again.close()


def test_the_journal_takes_an_id_on_a_full_disk_with_the_room_it_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from seedream_tui.jobs import journal as journal_module

    journal = journal_module.RequestJournal(tmp_path / "history.sqlite3.requests")
    journal.keep_room()
    assert journal.reserve.stat().st_size == journal_module.RESERVE_BYTES
    real_write = os.write

    def full_while_the_room_is_kept(fd: int, data: Any) -> int:
        if journal.reserve.exists():
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    with monkeypatch.context() as patched:
        patched.setattr(journal_module.os, "write", full_while_the_room_is_kept)
        journal.append(Entry(1, "r-1", MODEL, 1.0))
    assert [e.request_id for e in journal.entries()] == ["r-1"] and not journal.reserve.exists()
    journal.append(Entry(2, "r-2", MODEL, 2.0))  # room again: it is kept again
    assert journal.reserve.stat().st_size == journal_module.RESERVE_BYTES


# ---------------------------------------------------------------------------------- the token, in pieces
SECRET = "rc-7f3a9c21b84e4d0fa6c5e2b19d"  # 28 characters


def _runs_left(text: str) -> list[str]:
    return [SECRET[i : i + 8] for i in range(len(SECRET) - 7) if SECRET[i : i + 8] in text]


@pytest.mark.parametrize("piece", [SECRET[:20], SECRET[5:13], SECRET[-9:], SECRET, SECRET[:8] + SECRET[10:18]])
def test_any_run_of_8_token_characters_is_hidden(piece: str) -> None:
    text = f"Authentication failed for key '{piece}': check it"
    cleaned = redact({"error": text, "items": [text]}, SECRET)
    assert _runs_left(json.dumps(cleaned)) == []
    assert cleaned["error"].startswith("Authentication failed for key '") and REDACTED in cleaned["error"]


def test_seven_characters_and_unrelated_text_stay() -> None:
    text = f"code {SECRET[3:10]} and 7f3a9c2 and rc-7f3a"  # never 8 in a row
    assert hide_secret(text, SECRET, REDACTED) == text


async def test_a_failed_jobs_error_echoing_20_of_28_token_characters_is_stored_and_shown_without_them() -> None:
    async with scripted_server() as server:
        async def answer(request: web.Request) -> web.StreamResponse:
            if request.method == "POST":
                return web.json_response({"request_id": "r-echo"})
            if request.path.endswith("/result"):
                return web.json_response({"status": "failed", "error": f"bad key {SECRET[:20]}... refused"})
            return web.json_response({"status": "failed"})

        server.script(answer)
        from seedream_tui.config import resolve_config

        config = resolve_config(base_url=server.base_url, env={"RUNCOMFY_API_TOKEN": SECRET})
        core = await Core.open(config, policy=FAST)
        await core.start()
        try:
            job = await core.engine.submit(MODEL, {"prompt": "echo"})

            async def ended() -> Any:
                row = await core.history.get(job.id)
                return row if row and row.status.terminal else None

            row = await wait_for(ended, 10, what="the job to fail")
        finally:
            await core.close()
    assert row.status is JobStatus.FAILED and "bad key" in (row.error or "")
    assert _runs_left(row.error or "") == []


# ---------------------------------------------------------------------------------- costs past the range
def test_strict_json_never_says_infinity() -> None:
    text = json_text({"total_usd": math.inf, "groups": [{"usd": math.nan}, {"usd": 1.5}]})
    assert "Infinity" not in text and "NaN" not in text
    assert json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in JSON")) == {
        "total_usd": None, "groups": [{"usd": None}, {"usd": 1.5}]}
    assert usd_text(math.inf) == OUT_OF_RANGE and usd_text(1.8) == "$1.80"


def _costly_history(n: int = 3) -> None:
    store = HistoryStore(Paths.default().history_db)
    try:
        for i in range(n):
            job = store.create_job(MODEL, {"prompt": f"pricey {i}"})
            store.update_job(job.id, request_id=f"r-{i}", status=JobStatus.COMPLETED, cost=1e308)
    finally:
        store.close()


@pytest.mark.parametrize("as_json", [True, False])
def test_spend_past_the_float_range_is_strict_json_and_a_sentence(
    as_json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    from seedream_tui import cli

    _costly_history()
    code = cli.main(["spend", "--by", "model", *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Some totals are too large to add up" in err
    if as_json:
        body = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
        assert body["total_usd"] is None and body["jobs"] == 3 and "too large" in body["note"]
    else:
        assert "inf" not in out and OUT_OF_RANGE in out


# ---------------------------------------------------------------------------------- failures that are not damage
def _sqlite_error(text: str, code: int) -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError(text)
    exc.sqlite_errorcode = code  # type: ignore[attr-defined]
    return exc


@pytest.mark.parametrize(("trouble", "says"), [("full", "is full: free some space"),
                                               ("read-only", "is in a read-only folder")])
def test_an_io_error_around_a_healthy_history_names_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trouble: str, says: str
) -> None:
    monkeypatch.setattr(store_schema, "disk_trouble", lambda path: trouble)
    error = store_schema.unreadable(tmp_path / "history.sqlite3", _sqlite_error("disk I/O error", 10))
    assert says in str(error) and "damaged" not in str(error) and "move it aside" not in str(error)
    assert isinstance(error, store_schema.HistoryUnwritable) and error.reason == trouble


def test_only_sqlite_saying_so_is_called_damage(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    db.write_bytes(b"x")
    unknown = store_schema.unreadable(db, _sqlite_error("disk I/O error", 10))
    assert "damaged" not in str(unknown) and "move it aside" not in str(unknown)
    for text, code in (("database disk image is malformed", 11), ("file is not a database", 26)):
        assert "may be damaged" in str(store_schema.unreadable(db, _sqlite_error(text, code)))


def test_a_full_disk_is_seen_by_free_space_and_a_read_only_file_by_its_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    db = tmp_path / "history.sqlite3"
    db.write_bytes(b"x")
    assert store_schema.disk_trouble(db) is None
    real = os.statvfs(tmp_path)

    class Full:
        f_bfree = f_bavail = 3
        f_frsize, f_blocks = real.f_frsize, real.f_blocks

    monkeypatch.setattr(store_schema.os, "statvfs", lambda path: Full())
    assert store_schema.disk_trouble(db) == "full"
    monkeypatch.setattr(store_schema.os, "statvfs", lambda path: real)
    real_open = os.open

    def refuse(path: Any, flags: int, *args: Any) -> int:
        if Path(path) == db and flags & os.O_WRONLY:
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, flags, *args)

    monkeypatch.setattr(store_schema.os, "open", refuse)
    assert store_schema.disk_trouble(db) == "read-only"


# ---------------------------------------------------------------------------------- a log that cannot be written
class _FullStream:
    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def close(self) -> None:
        pass

    def seek(self, *args: Any) -> int:
        return 0

    def tell(self) -> int:
        return 0


@pytest.fixture
def fresh_log_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logsetup, "_state", logsetup._State())


@pytest.mark.usefixtures("fresh_log_state")
def test_a_log_file_that_cannot_be_written_is_one_line(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    log_file = logsetup.setup_logging(tmp_path / "log" / "app.log", "test")
    assert log_file is not None
    handler = logging.getLogger().handlers[0]
    handler.stream = _FullStream()  # type: ignore[attr-defined]
    for i in range(30):
        logging.getLogger("seedream_tui.test").warning("record %d", i)
        try:
            raise ValueError("inner")
        except ValueError:
            logging.getLogger("seedream_tui.test").exception("with a traceback %d", i)
    err = capfd.readouterr().err
    assert "Logging error" not in err and "Traceback" not in err
    assert err.splitlines() == [f"seedream-tui: the log file {log_file} could not be written (No space left on "
                                "device); later log lines are dropped."]


@pytest.mark.usefixtures("fresh_log_state")
def test_a_log_failure_while_the_tui_runs_is_said_after_it(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    logsetup.setup_logging(tmp_path / "log" / "app.log", "tui")
    logging.getLogger().handlers[0].stream = _FullStream()  # type: ignore[attr-defined]
    logsetup.quiet_while(True)
    logging.getLogger("seedream_tui.test").warning("while the app draws")
    assert capfd.readouterr().err == ""
    logsetup.quiet_while(False)
    assert "could not be written" in capfd.readouterr().err


