"""The bad-input catalogue (docs/bad-input.md): every way a user, a file or a server can hand the app garbage.

Each case asserts the sentence the user sees (or its stable part), that no traceback appears, and that saved
data is intact: history rows, image files, the settings, schema and token files (see ``bad_input_support``).
CLI cases run ``python -m seedream_tui`` in a subprocess against a fake server on loopback, as a user would;
the server-answer cases drive a real ``Core``; the TUI cases use Pilot. The ids here are the catalogue's.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import shutil
import socket
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bad_input_support import (
    MODEL,
    TOKEN,
    CliRun,
    assert_intact,
    fingerprint,
    home_paths,
    run_cli,
    seed_home,
)
from helpers import FAST, is_file, leftovers, open_core, wait_for
from scripted_server import json_answer, scripted_server, text_answer

from seedream_tui.config import resolve_config
from seedream_tui.fake.server import FakeConfig, FakeServerThread
from seedream_tui.jobs import transfer
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.store import HistoryStore

URL = "{url}"  # replaced by the fake server's base URL
EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_NETWORK, EXIT_AUTH, EXIT_JOB = 0, 1, 2, 3, 4, 5


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServerThread]:
    """One fast fake server for the module; each test sets the knobs it needs (and they are reset after)."""
    config = FakeConfig(workers=4, min_duration=0.05, max_duration=0.1, image_scale=0.02, seed=99)
    with FakeServerThread(config) as fake:
        yield fake


@pytest.fixture
def home(isolated_home: Path, server: FakeServerThread) -> Iterator[Path]:
    seed_home(isolated_home)
    yield isolated_home
    server.set_config(output_url_style="normal", api_body_style="normal", bad_token=False)


# ----------------------------------------------------------------------------------------------- set-ups
def write(rel: str, data: str | bytes) -> Callable[[Path], None]:
    def setup(home: Path) -> None:
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")

    return setup


def replace_with_file(rel: str) -> Callable[[Path], None]:
    def setup(home: Path) -> None:
        shutil.rmtree(home / rel)
        (home / rel).write_text("not a folder\n", encoding="utf-8")

    return setup


def history_as(make: Callable[[Path], object]) -> Callable[[Path], None]:
    """Replace the seeded history with whatever ``make`` puts at its path."""

    def setup(home: Path) -> None:
        db = home_paths(home).history_db
        db.unlink()
        make(db)

    return setup


def truncated(db: Path) -> None:
    seed_home(db.parent.parent / "other")
    whole = home_paths(db.parent.parent / "other").history_db.read_bytes()
    db.write_bytes(whole[: len(whole) // 2])


def other_program(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
        conn.execute("INSERT INTO contacts VALUES ('Ada', '555')")
    conn.close()


def newer_schema(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY)")
        conn.execute("PRAGMA user_version = 99")
    conn.close()


def stale_options_job(home: Path) -> None:
    store = HistoryStore(home_paths(home).history_db)
    try:
        job = store.create_job(MODEL, {"prompt": "an old fox", "resolution": "9K"}, now=1768467800.0)
        store.update_job(job.id, request_id="saved-stale", status=JobStatus.FAILED, error="Old.")
    finally:
        store.close()


def remove_saved_image(home: Path) -> None:
    for path in leftovers(home_paths(home).images_dir):
        path.unlink()


def folder_instead(home: Path, rel: str) -> None:
    (home / rel).unlink()
    (home / rel).mkdir()


def only_saved_image(home: Path) -> bool:
    return [p.name for p in leftovers(home_paths(home).images_dir)] == ["saved-request-0.png"]


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def schema(props: dict[str, Any]) -> str:
    return json.dumps({"model_id": "acme/broken", "input_schema": {"type": "object", "properties": props}})


# ------------------------------------------------------------------------------------------------ the CLI
@dataclass(frozen=True)
class Case:
    args: tuple[str | bytes, ...]
    code: int
    says: tuple[str, ...]
    setup: Callable[[Path], None] | None = None
    stdin: bytes | None = None
    env: dict[str, str] = field(default_factory=dict)
    knobs: dict[str, Any] = field(default_factory=dict)


def case(*args: str | bytes, code: int, says: str | tuple[str, ...], **kw: Any) -> Case:
    return Case(tuple(args), code, (says,) if isinstance(says, str) else says, **kw)


MUST_NOT_BE_EMPTY = "The input is not valid: Prompt must not be empty."
NOT_JSON = "schema skipped: "
CLI_CASES: dict[str, Case] = {
    # --- the prompt
    "prompt-empty": case("submit", "", "--base-url", URL, code=EXIT_INPUT, says=MUST_NOT_BE_EMPTY),
    "prompt-whitespace": case("submit", "  \n\t ", "--base-url", URL, code=EXIT_INPUT, says=MUST_NOT_BE_EMPTY),
    "prompt-stdin-empty": case("submit", "-", "--base-url", URL, code=EXIT_INPUT, says=MUST_NOT_BE_EMPTY, stdin=b""),
    "prompt-10000-words": case(
        "submit", "-", "--base-url", URL, code=EXIT_OK, stdin=b"fox " * 10_000,
        says=("warning: Prompt has 10000 words; the model works best under about 600", "Submitted job 3"),
    ),
    "prompt-nul": case("submit", "-", "--base-url", URL, code=EXIT_INPUT, stdin=b"a fox\x00 in the snow",
                       says="Prompt contains a control character (U+0000); only line breaks and tabs are allowed."),
    "prompt-escape-sequence": case("submit", "a \x1b[31mred\x1b[0m fox", "--base-url", URL, code=EXIT_INPUT,
                                   says="Prompt contains a control character (U+001B)"),
    "prompt-stdin-not-utf8": case("submit", "-", "--base-url", URL, code=EXIT_INPUT, stdin=b"a fox \xff\xfe",
                                  says="The prompt on stdin is not UTF-8 text (invalid byte at position 6)."),
    "prompt-argv-not-utf8": case("submit", b"a fox \xff", "--base-url", URL, code=EXIT_INPUT,
                                 says="The prompt is not UTF-8 text"),
    # --- options and ids
    "set-invalid-enum": case("submit", "fox", "--set", "resolution=9K", "--base-url", URL, code=EXIT_INPUT,
                             says="--set resolution: Resolution must be one of 2K, 3K"),
    "set-unknown-option": case("submit", "fox", "--set", "colour=red", "--base-url", URL, code=EXIT_INPUT,
                               says="Unknown option 'colour' for bytedance/seedream-5/lite/text-to-image"),
    "set-without-equals": case("submit", "fox", "--set", "resolution", "--base-url", URL, code=EXIT_INPUT,
                               says="--set expects KEY=VALUE, got 'resolution'."),
    "set-not-a-number": case("submit", "fox", "--set", "max_images=lots", "--base-url", URL, code=EXIT_INPUT,
                             says="--set max_images: Max images must be one of 1, 2"),
    "model-unknown": case("submit", "fox", "--model", "nope/x", "--base-url", URL, code=EXIT_INPUT,
                          says="Unknown model 'nope/x'; known models: "),
    "history-unknown-status": case("history", "--status", "bogus", code=EXIT_INPUT,
                                   says="Unknown status 'bogus'; use one of submitting"),
    "history-limit-not-a-number": case("history", "--limit", "ten", code=EXIT_INPUT,
                                       says="argument --limit: invalid int value: 'ten'"),
    "status-unknown-job": case("status", "999", code=EXIT_INPUT, says="No job '999' in the history."),
    "rerun-stale-options": case("rerun", "3", "--base-url", URL, code=EXIT_INPUT, setup=stale_options_job,
                                says="The input is not valid: Resolution must be one of"),
    "export-to-a-file": case("export", "1", "--to", "{home}/config/settings.toml", code=EXIT_ERROR,
                             says="Export failed: the images could not be copied to"),
    "export-no-images": case("export", "2", "--to", "{home}/out", code=EXIT_ERROR,
                             says="Export failed: Those jobs have no downloaded images to export."),
    "export-image-deleted": case("export", "1", "--to", "{home}/out", code=EXIT_ERROR, setup=remove_saved_image,
                                 says=("Export failed:", "is missing from disk.")),
    # --- base URL and token
    "base-url-not-http": case("history", "--base-url", "ftp://example.com", code=EXIT_INPUT,
                              says="The base URL 'ftp://example.com' is not a valid http(s) URL."),
    "base-url-plain-http": case("history", "--base-url", "http://example.com", code=EXIT_INPUT,
                                says="uses plain http: only https is allowed, except for loopback hosts"),
    "base-url-env-garbage": case("history", code=EXIT_INPUT, env={"RUNCOMFY_BASE_URL": "javascript:alert(1)"},
                                 says="The base URL 'javascript:alert(1)' is not a valid http(s) URL."),
    "token-not-ascii": case("submit", "fox", "--base-url", URL, code=EXIT_AUTH, env={"RUNCOMFY_API_TOKEN": "tökén"},
                            says="The API token contains characters that cannot be sent (only plain ASCII"),
    "token-control-chars": case("token", code=EXIT_INPUT, stdin=b"abc\x07def\n",
                                says="The API token must not contain spaces or control characters."),
    "token-empty": case("token", code=EXIT_INPUT, stdin=b"\n", says="The API token is empty."),
    # --- the settings file
    "settings-invalid-enum": case("history", code=EXIT_OK, setup=write("config/settings.toml", 'image_mode = "holo"\n'),
                                  says="Settings: image_mode = 'holo' is not valid; using 'auto'."),
    "settings-wrong-type": case("history", code=EXIT_OK, setup=write("config/settings.toml", 'notify_bell = "yes"\n'),
                                says="Settings: notify_bell = 'yes' is not valid; using True."),
    "settings-malformed": case("history", code=EXIT_OK, setup=write("config/settings.toml", "image_mode = \n[[[\n"),
                               says=("settings.toml is not valid TOML", "using defaults. It was left as it is.")),
    "settings-not-utf8": case("history", code=EXIT_OK, setup=write("config/settings.toml", b'theme = "\xff"\n'),
                              says="settings.toml is not valid TOML ('utf-8' codec can't decode"),
    "settings-is-a-folder": case("history", code=EXIT_OK,
                                 setup=lambda h: folder_instead(h, "config/settings.toml"),
                                 says="Could not read the settings file"),
    "settings-base-url-plain-http": case(
        "history", code=EXIT_OK, setup=write("config/settings.toml", 'base_url = "http://evil.example"\n'),
        says=("uses plain http", "(settings file) Using the default."),
    ),
    "settings-defaults-not-tables": case("history", code=EXIT_OK, setup=write("config/settings.toml", "defaults = 3\n"),
                                         says="Settings: [defaults] must be a table of tables"),
    "settings-unknown-key": case("history", code=EXIT_OK, setup=write("config/settings.toml", 'colour = "red"\n'),
                                 says="Settings: unknown setting 'colour' ignored."),
    "settings-default-model-unknown": case(
        "submit", "fox", "--base-url", URL, code=EXIT_INPUT,
        setup=write("config/settings.toml", 'default_model = "nope/x"\n'), says="Unknown model 'nope/x'",
    ),
    "settings-default-option-invalid": case(
        "submit", "fox", "--base-url", URL, code=EXIT_INPUT,
        setup=write("config/settings.toml", f'[defaults."{MODEL}"]\nresolution = "9K"\n'),
        says=("Resolution must be one of", "(resolution comes from [defaults] in"),
    ),
    "config-dir-is-a-file": case("history", code=EXIT_OK, setup=replace_with_file("config"),
                                 says="Could not read the settings file"),
    # --- the data dir and the history database
    "data-dir-is-a-file": case("history", code=EXIT_ERROR, setup=replace_with_file("data"),
                               says=("Cannot create the folder", "for the job history (File exists")),
    "history-garbage": case("history", code=EXIT_ERROR,
                            setup=history_as(lambda db: db.write_bytes(b"\x00garbage\xff" * 500)),
                            says=("history.sqlite3 cannot be read (file is not a database)", "left untouched")),
    "history-truncated": case("history", code=EXIT_ERROR, setup=history_as(truncated),
                              says="history.sqlite3 cannot be read (database disk image is malformed)"),
    "history-is-a-folder": case("history", code=EXIT_ERROR, setup=history_as(lambda db: db.mkdir()),
                                says="history.sqlite3 cannot be read (unable to open database file)"),
    "history-other-program": case("history", code=EXIT_ERROR, setup=history_as(other_program),
                                  says="is an SQLite database of another program, not a seedream-tui job history"),
    "history-newer-schema": case("history", code=EXIT_ERROR, setup=history_as(newer_schema),
                                 says="was made by a newer seedream-tui (schema version 99"),
    # --- schema files in the config dir's models/
    "schema-not-json": case("history", code=EXIT_OK, setup=write("config/models/a.json", "{nope"),
                            says=(NOT_JSON, "a.json: The file is not valid JSON (Expecting property name")),
    "schema-empty": case("history", code=EXIT_OK, setup=write("config/models/a.json", "  \n"),
                         says="a.json: The file is empty."),
    "schema-not-utf8": case("history", code=EXIT_OK, setup=write("config/models/a.json", b'{"x": "\xff"}'),
                            says="a.json: The file is not UTF-8 text (invalid byte at position 7)."),
    "schema-not-an-object": case("history", code=EXIT_OK, setup=write("config/models/a.json", "[1, 2]"),
                                 says="a.json: A schema must be a JSON object, not a list."),
    "schema-no-fields": case("history", code=EXIT_OK, setup=write("config/models/a.json", '{"model_id": "a/b"}'),
                             says="a.json: No input fields found"),
    "schema-bad-enum-default": case(
        "history", code=EXIT_OK,
        setup=write("config/models/a.json", schema({"r": {"type": "string", "enum": ["x", "y"], "default": "z"}})),
        says="a.json: Field 'r' has a default 'z' that is not one of its choices (x, y).",
    ),
    "schema-unknown-type": case("history", code=EXIT_OK,
                                setup=write("config/models/a.json", schema({"prompt": {"type": "quaternion"}})),
                                says="a.json: Field 'prompt' has an unknown type 'quaternion'."),
    "schema-min-above-max": case(
        "history", code=EXIT_OK,
        setup=write("config/models/a.json", schema({"n": {"type": "integer", "minimum": 10, "maximum": 1}})),
        says="a.json: Field 'n' has a minimum (10) above its maximum (1).",
    ),
    "schema-nan": case("history", code=EXIT_OK, setup=write("config/models/a.json", '{"model_id": "a/b", "x": NaN}'),
                       says="a.json: The file is not valid JSON (NaN is not a number JSON allows)."),
    "schema-nested-deeply": case("history", code=EXIT_OK,
                                 setup=write("config/models/a.json", "[" * 100_000 + "]" * 100_000),
                                 says="a.json: The JSON is nested too deeply to be a schema."),
    "schema-too-large": case("history", code=EXIT_OK,
                             setup=write("config/models/a.json", '{"pad": "' + "x" * (5 * 2**20) + '"}'),
                             says="a.json: The file is too large for a schema"),
    "schema-is-a-folder": case("history", code=EXIT_OK, setup=lambda h: (h / "config/models/a.json").mkdir(parents=True),
                               says="a.json: This is a directory, not a schema file."),
    "models-folder-is-a-file": case("history", code=EXIT_OK, setup=write("config/models", "x"),
                                    says="models: The models folder is not a folder."),
    "schema-broken-then-used": case("submit", "fox", "--model", "a", "--base-url", URL, code=EXIT_INPUT,
                                    setup=write("config/models/a.json", "{nope"),
                                    says=("a.json: The file is not valid JSON", "Unknown model 'a'")),
    # --- the server
    "server-refuses-token": case("submit", "fox", "--base-url", URL, code=EXIT_AUTH, knobs={"bad_token": True},
                                 says="RunComfy refused the API token: it is missing, expired or revoked"),
    "server-unreachable": case("submit", "fox", "--base-url", "{closed}", code=EXIT_NETWORK,
                               says="Cannot reach RunComfy at http://127.0.0.1:"),
    "output-url-ftp-wait": case("submit", "fox", "--wait", "--base-url", URL, code=EXIT_JOB,
                                knobs={"output_url_style": "ftp"},
                                says=("job 3 failed: RunComfy made the image but it could not be saved: "
                                      "Refusing to download 'ftp://")),
    "output-gif-not-png-wait": case("submit", "fox", "--wait", "--base-url", URL, code=EXIT_JOB,
                                    knobs={"output_url_style": "wrong_type"},
                                    says="The downloaded file is a GIF file, not an image type this app keeps."),
}


def _fill(arg: str | bytes, home: Path, url: str) -> str | bytes:
    if isinstance(arg, bytes):
        return arg
    if arg == "{closed}":
        return closed_port()
    return arg.replace(URL, url).replace("{home}", str(home))


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_cli_bad_input(name: str, home: Path, server: FakeServerThread) -> None:
    spec = CLI_CASES[name]
    if spec.setup is not None:
        spec.setup(home)
    if spec.knobs:
        server.set_config(**spec.knobs)
    before = fingerprint(home)
    args = [_fill(a, home, server.base_url) for a in spec.args]
    run: CliRun = run_cli(home, *args, stdin=spec.stdin, env=spec.env)
    for sentence in spec.says:
        assert sentence in run.err, f"{name}: {sentence!r} not in stderr:\n{run.err}"
    assert run.code == spec.code, f"{name}: exit code {run.code}, stderr:\n{run.err}"
    assert "unexpected error" not in run.err  # the last line of defence is for bugs, not for known bad input
    assert "None" not in run.out.split()  # nothing half-made is printed as a result
    assert_intact(home, before)
    assert not [p for p in leftovers(home_paths(home).images_dir) if p.name.endswith(".part")]


# ------------------------------------------------------------------------------------- server answers (Core)
async def _submit(core: Any, prompt: str) -> Job:
    job: Job = await core.submit(core.registry.get(MODEL), {"prompt": prompt})
    return job


async def _job_where(core: Any, job_id: int, test: Callable[[Job], bool], what: str, within: float = 8.0) -> Job:
    async def probe() -> Job | None:
        job = await core.history.get(job_id)
        return job if job is not None and test(job) else None

    found: Job = await wait_for(probe, within, what=what)
    return found


#: broken status/result bodies: the job stays live with a "Waiting: …" sentence, then finishes once they heal
WAITING_CASES = {
    "answer-html": ("html", "Waiting: RunComfy's answer was not JSON; it may be having trouble."),
    "answer-empty": ("empty", "Waiting: RunComfy's answer was empty; it may be having trouble."),
    "answer-truncated-json": ("truncated_json", "Waiting: RunComfy's answer was not JSON; it may be having trouble."),
    "answer-wrong-types": ("wrong_types", "Waiting: RunComfy reports a status this app does not know ("),
    "answer-unknown-status": (
        "unknown_status", "Waiting: RunComfy reports a status this app does not know ('warming_up'); it keeps checking."
    ),
    "answer-gigantic": ("gigantic", "Waiting: RunComfy's answer was far larger than expected; it was not read."),
}


@pytest.mark.parametrize("name", list(WAITING_CASES))
async def test_server_answer_waits_then_recovers(name: str, home: Path, server: FakeServerThread) -> None:
    style, sentence = WAITING_CASES[name]
    before = fingerprint(home)
    server.set_config(api_body_style=style)
    core = await open_core(server.base_url)
    try:
        job = await _submit(core, f"a fox ({name})")
        seen = await _job_where(core, job.id, lambda j: (j.error or "").startswith("Waiting: "), "a waiting sentence")
        assert sentence in (seen.error or ""), seen.error
        assert not seen.status.terminal
        server.set_config(api_body_style="normal")
        done = await _job_where(core, job.id, lambda j: j.status.terminal, "the job to finish")
        assert done.status is JobStatus.COMPLETED and done.error is None and done.outputs[0].path
    finally:
        await core.close()
    assert_intact(home, before)


SAVED_FAILS = "RunComfy made the image but it could not be saved: "
#: hostile output URLs and CDN answers: the job fails with the reason, nothing half-written stays
OUTPUT_CASES = {
    "output-url-ftp": ("ftp", "Refusing to download 'ftp://127.0.0.1:"),
    "output-url-file": ("file", "Refusing to download 'file:///etc/passwd': output files must come from an https URL."),
    "output-redirect-plain-http": ("redirect_http", "Refusing to download 'http://example.invalid/x.png'"),
    "output-redirect-loop": ("redirect_loop", "The image server redirected too many times."),
    "output-not-an-image": ("not_image", "The downloaded file is not a valid image."),
    "output-decompression-bomb": ("bomb", "The downloaded image is a decompression bomb; refused."),
    "output-2gb": ("huge", "The image is 2048 MB, over the 200 MB limit; not downloaded."),
    "output-empty-file": ("empty", "The image server sent an empty file."),
    "output-gif-under-png-url": ("wrong_type", "The downloaded file is a GIF file, not an image type this app keeps."),
}
#: a budget of one failed try: a garbled file fails at once (the retries are tested elsewhere)
IMPATIENT = dataclasses.replace(FAST, download_attempts=1)


@pytest.mark.parametrize("name", list(OUTPUT_CASES))
async def test_hostile_output_fails_the_job(name: str, home: Path, server: FakeServerThread) -> None:
    style, sentence = OUTPUT_CASES[name]
    before = fingerprint(home)
    server.set_config(output_url_style=style)
    core = await open_core(server.base_url, policy=IMPATIENT)
    try:
        job = await _submit(core, f"a fox ({name})")
        done = await _job_where(core, job.id, lambda j: j.status.terminal, "the job to end")
    finally:
        await core.close()
    assert done.status is JobStatus.FAILED
    assert (done.error or "").startswith(SAVED_FAILS) and sentence in (done.error or ""), done.error
    assert only_saved_image(home)  # nothing half-written
    assert_intact(home, before)


class _FullDisk:
    """A file whose writes fail as on a full disk."""

    def __init__(self, path: Any, mode: str) -> None:
        self._fh = open(path, mode)  # noqa: SIM115 (closed by the downloader)

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self) -> None:
        self._fh.flush()

    def fileno(self) -> int:
        return self._fh.fileno()

    def close(self) -> None:
        self._fh.close()


async def test_disk_full_waits_leaves_no_partial_file_then_recovers(
    home: Path, server: FakeServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = fingerprint(home)
    monkeypatch.setattr(transfer, "open", _FullDisk, raising=False)
    core = await open_core(server.base_url)
    try:
        job = await _submit(core, "a fox on a full disk")
        seen = await _job_where(core, job.id, lambda j: "disk is full" in (j.error or ""), "the disk-full sentence")
        assert (seen.error or "").startswith("Waiting: The disk is full: the image could not be saved in ")
        assert seen.status is JobStatus.DOWNLOADING
        assert only_saved_image(home)  # no .part left behind
        monkeypatch.delattr(transfer, "open")  # space was freed
        done = await _job_where(core, job.id, lambda j: j.status.terminal, "the job to finish")
        assert done.status is JobStatus.COMPLETED and is_file(done.outputs[0].path)
    finally:
        await core.close()
    assert_intact(home, before)


async def test_images_folder_blocked_waits_then_recovers(home: Path, server: FakeServerThread) -> None:
    import time

    before = fingerprint(home)
    blocker = home_paths(home).images_dir / time.strftime("%Y-%m-%d")
    blocker.write_text("a file where the day's folder goes\n", encoding="utf-8")
    core = await open_core(server.base_url)
    try:
        job = await _submit(core, "a fox with nowhere to go")
        seen = await _job_where(core, job.id, lambda j: "could not be saved" in (j.error or ""), "the sentence")
        assert "Waiting: The image could not be saved in" in (seen.error or "")
        assert "File exists" in (seen.error or "") and "Check that the folder can be written to." in (seen.error or "")
        blocker.unlink()
        done = await _job_where(core, job.id, lambda j: j.status.terminal, "the job to finish")
        assert done.status is JobStatus.COMPLETED
    finally:
        await core.close()
    assert_intact(home, before)


SUBMIT_CASES = {
    "submit-answer-html": (
        lambda: text_answer("<!DOCTYPE html><html><body>Just a moment...</body></html>", 200, "text/html"),
        JobStatus.UNKNOWN, "The submit was sent but RunComfy's answer was lost: the job may exist.",
    ),
    "submit-answer-no-request-id": (
        lambda: json_answer({"status": "in_queue"}), JobStatus.UNKNOWN,
        "RunComfy accepted the submit but its answer had no request id: check the RunComfy dashboard.",
    ),
    # a gateway's 502/504: the origin may have taken the job; never "failed" (the user would submit again)
    "submit-answer-502-html": (
        lambda: text_answer("<html><h1>502 Bad Gateway</h1></html>", 502, "text/html"), JobStatus.UNKNOWN,
        "RunComfy's gateway answered HTTP 502 to the submit: the job may have been created. Check the RunComfy",
    ),
    "submit-answer-504-empty": (
        lambda: text_answer("", 504, "text/plain"), JobStatus.UNKNOWN,
        "RunComfy's gateway answered HTTP 504 to the submit: the job may have been created.",
    ),
    "submit-answer-500-json": (
        lambda: json_answer({"error_code": 500000, "error_message": "Internal error"}, 500), JobStatus.FAILED,
        "Not accepted: RunComfy had a server error (HTTP 500). (Internal error)",
    ),
    "submit-answer-503-html": (
        lambda: text_answer("<html><h1>503 Service Unavailable</h1></html>", 503, "text/html"), JobStatus.FAILED,
        "Not accepted: RunComfy had a server error (HTTP 503).",
    ),
    "submit-answer-422-detail": (
        lambda: json_answer({"detail": [{"loc": ["body", "prompt"], "msg": "too spicy"}]}, 422), JobStatus.FAILED,
        "Not accepted: RunComfy refused the input: prompt: too spicy",
    ),
}


@pytest.mark.parametrize("name", list(SUBMIT_CASES))
async def test_bad_submit_answer_is_recorded(name: str, home: Path) -> None:
    from seedream_tui.api.errors import ApiError

    make, status, sentence = SUBMIT_CASES[name]
    before = fingerprint(home)
    async with scripted_server() as scripted:
        scripted.script(make())
        core = await open_core(scripted.base_url)
        try:
            with pytest.raises(ApiError):
                await _submit(core, f"a fox ({name})")
            job = (await core.history.list_jobs(limit=1))[0]
        finally:
            await core.close()
    assert job.prompt == f"a fox ({name})" and job.status is status
    assert sentence in (job.error or ""), job.error
    assert "<" not in (job.error or "")  # no HTML soup in a sentence
    assert_intact(home, before)


# ------------------------------------------------------------------------------------------------- the TUI
async def test_tui_corrupted_history_is_a_sentence(home: Path, server: FakeServerThread) -> None:
    from seedream_tui.tui.app import SeedreamApp

    db = home_paths(home).history_db
    db.write_bytes(b"\x00garbage\xff" * 500)
    before = fingerprint(home)
    app = SeedreamApp(resolve_config(base_url=server.base_url, env={"RUNCOMFY_API_TOKEN": TOKEN}))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.startup_error, 10, what="the start-up error")
        await pilot.pause()
    # run_tui prints this after the terminal is restored, and exits 1
    assert app.startup_error is not None and app.return_code == 1
    assert "history.sqlite3 cannot be read (file is not a database)" in app.startup_error
    assert "it was left untouched" in app.startup_error
    assert_intact(home, before)


async def test_tui_bad_settings_and_schema_are_notifications(home: Path, server: FakeServerThread) -> None:
    from seedream_tui.tui.app import SeedreamApp

    paths = home_paths(home)
    paths.settings_file.write_text('image_mode = "holo"\ntheme = [1\n', encoding="utf-8")
    (paths.user_models_dir / "broken.json").parent.mkdir(parents=True, exist_ok=True)
    (paths.user_models_dir / "broken.json").write_text("{nope", encoding="utf-8")
    before = fingerprint(home)
    app = SeedreamApp(resolve_config(base_url=server.base_url, env={"RUNCOMFY_API_TOKEN": TOKEN}))
    async with app.run_test(size=(100, 30)):
        await wait_for(lambda: app.main_screen is not None or app.startup_error, 10, what="the main screen")
        # a notice is a message to the app (kept when it is handled): on a loaded machine one pause was not enough
        await wait_for(lambda: len(app._notifications) >= 2 or app.startup_error, 10, what="the two notices")
        messages = [n.message for n in app._notifications]
        assert app.startup_error is None
    assert any("settings.toml is not valid TOML" in m and "It was left as it is." in m for m in messages), messages
    assert any("broken.json: The file is not valid JSON" in m for m in messages), messages
    assert paths.settings_file.read_text(encoding="utf-8") == 'image_mode = "holo"\ntheme = [1\n'
    assert_intact(home, before)
