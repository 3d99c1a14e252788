"""What the bad-input catalogue tests share: a home with saved data in it, a fingerprint of that data, the CLI.

"Saved data" is what a user would be upset to lose: the rows of the job history, the image files, the settings
file, the model schemas and the token file. :func:`seed_home` puts some of each under a home dir;
:func:`fingerprint` records it (history rows as data, every other file as bytes; a history that cannot be
opened is recorded as bytes too), and :func:`assert_intact` proves a run changed none of it (new jobs and new
files may appear; nothing recorded may change or disappear).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from seedream_tui.fake.server import FakeConfig, FakeServerThread
from seedream_tui.jobs.model import JobStatus, OutputFile
from seedream_tui.jobs.store import HistoryError, HistoryStore
from seedream_tui.paths import Paths

MODEL = "bytedance/seedream-5/lite/text-to-image"
TOKEN = "test-token"
SETTINGS = 'theme = "textual-dark"\nnotify_bell = false\n'
REPO = Path(__file__).resolve().parents[2]
#: files the app may rewrite without anything of the user's changing (SQLite side files, log, thumbnails)
_VOLATILE = ("history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm")


def home_paths(home: Path) -> Paths:
    root = Path(home)
    return Paths(root / "config", root / "data", root / "cache", root / "log")


def seed_home(home: Path) -> None:
    """A history with a finished job (its image on disk) and a failed one, a settings file and a token file."""
    paths = home_paths(home)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text(SETTINGS, encoding="utf-8")
    paths.token_file.write_text("saved-token-123", encoding="utf-8")
    image = paths.images_dir / "2026-01-15" / "saved-request-0.png"
    image.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 24), (30, 140, 200)).save(image)
    store = HistoryStore(paths.history_db)
    try:
        done = store.create_job(MODEL, {"prompt": "a saved fox in the snow"}, now=1768467600.0)
        store.update_job(done.id, request_id="saved-request", status=JobStatus.COMPLETED, finished_at=1768467660.0)
        store.set_outputs(done.id, [OutputFile(0, "https://cdn.example/saved.png")])
        store.update_output(done.id, OutputFile(0, "https://cdn.example/saved.png", str(image), 32, 24, "png",
                                                image.stat().st_size))
        failed = store.create_job(MODEL, {"prompt": "a saved owl", "resolution": "2K"}, now=1768467700.0)
        store.update_job(failed.id, request_id="saved-failed", status=JobStatus.FAILED, error="Saved failure.")
    finally:
        store.close()


@dataclass(frozen=True)
class Fingerprint:
    rows: dict[int, dict[str, Any]]
    files: dict[str, bytes]


def fingerprint(home: Path) -> Fingerprint:
    home = Path(home)
    files: dict[str, bytes] = {}
    for path in sorted(home.rglob("*")):
        rel = path.relative_to(home).as_posix()
        if not path.is_file() or rel.startswith(("log/", "cache/")) or path.name in _VOLATILE:
            continue
        files[rel] = path.read_bytes()
    rows: dict[int, dict[str, Any]] = {}
    db = home_paths(home).history_db
    if db.is_file():
        try:
            store = HistoryStore(db)
        except HistoryError:  # unreadable: its bytes are what must survive
            files[db.relative_to(home).as_posix()] = db.read_bytes()
        else:
            try:
                rows = {job.id: asdict(job) for job in store.list_jobs(limit=10_000)}
            finally:
                store.close()
    elif db.exists():
        files[db.relative_to(home).as_posix()] = b"<not a file>"
    return Fingerprint(rows, files)


def assert_intact(home: Path, before: Fingerprint) -> None:
    """Every recorded row and file is still there, unchanged (more may have been added)."""
    after = fingerprint(home)
    for rel, data in before.files.items():
        assert rel in after.files, f"{rel} disappeared"
        assert after.files[rel] == data, f"{rel} was changed"
    for job_id, row in before.rows.items():
        assert after.rows.get(job_id) == row, f"history row {job_id} was changed or lost"


@dataclass(frozen=True)
class CliRun:
    code: int
    out: str
    err: str


def run_cli(
    home: Path, *args: str | bytes, stdin: bytes | None = None, env: dict[str, str] | None = None, timeout: float = 30
) -> CliRun:
    """``python -m seedream_tui ARGS`` as a user runs it, with its own home; never a traceback."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("RUNCOMFY_")}
    full_env.update({"SEEDREAM_TUI_HOME": str(home), "RUNCOMFY_API_TOKEN": TOKEN, "PYTHONUTF8": "1"})
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "seedream_tui", *args], input=stdin if stdin is not None else b"",
        capture_output=True, env=full_env, cwd=REPO, timeout=timeout,
    )
    run = CliRun(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))
    assert "Traceback" not in run.err + run.out, run.err
    return run


@contextmanager
def fast_fake_server(seed: int, **knobs: Any) -> Iterator[FakeServerThread]:
    """A fake server whose jobs finish in a tenth of a second, with tiny images (knobs override)."""
    config = FakeConfig(**{"workers": 4, "min_duration": 0.05, "max_duration": 0.1, "image_scale": 0.02,
                           "seed": seed, **knobs})
    with FakeServerThread(config) as fake:
        yield fake


@contextmanager
def seeded_home(home: Path, server: FakeServerThread, **reset: Any) -> Iterator[Path]:
    """``home`` with saved data in it (see seed_home); the server's ``reset`` knobs are put back after."""
    seed_home(home)
    try:
        yield home
    finally:
        server.set_config(**reset)
