"""The fake server's job record on disk, so ``seedream-tui --demo`` finds its jobs again after a restart.

One JSON file (``jobs.json``) next to a ``files/`` folder holding the outputs, both in ``FakeConfig.state_dir``.
Output URLs are not stored: the CDN's port may differ on the next start, so they are rebuilt from the file
names and the current CDN URL. A record that cannot be read never stops the server: it starts empty, logs a
warning, and keeps the bad file aside as ``jobs.json.corrupt`` for a human to look at.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seedream_tui.fake.queue import TERMINAL, FakeJob
from seedream_tui.fsutil import atomic_write

log = logging.getLogger(__name__)

STATE_FILE = "jobs.json"
FILES_DIR = "files"
FORMAT = 1
#: seconds between a job change and the save it causes
SAVE_DELAY = 0.2
#: a saved job must name its folder and files with these, so a tampered record cannot reach outside
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")
_SAFE_NAME = re.compile(r"^\d{1,3}\.(png|jpeg|jpg|webp)$")
_STATUSES = (*TERMINAL, "in_queue", "in_progress")


@dataclass
class Loaded:
    """What a saved record gives back: finished jobs, unfinished ones in restart order, and warnings."""

    finished: list[FakeJob] = field(default_factory=list)
    unfinished: list[FakeJob] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


#: a finished job's record keeps a ``data:`` URI only up to this length (its output is made: the image is not
#: needed again, and a record of photos of up to 64 MiB a request would be rewritten on every change)
KEEP_DATA_URI = 4096


def slim_input(value: Any) -> Any:
    """``value`` with every long ``data:`` URI cut to its header and its length."""
    if isinstance(value, str) and value.startswith("data:") and len(value) > KEEP_DATA_URI:
        return f"{value.partition(',')[0]},… ({len(value)} characters, not kept once the job finished)"
    if isinstance(value, list):
        return [slim_input(item) for item in value]
    if isinstance(value, dict):
        return {key: slim_input(item) for key, item in value.items()}
    return value


def dump_record(jobs: dict[str, FakeJob], waiting: list[str]) -> bytes:
    """The whole record as JSON bytes; call it on the server's loop (it reads live job objects)."""
    entries = []
    for job in jobs.values():
        done = job.status in TERMINAL
        entries.append(
            {
                "request_id": job.request_id,
                "model_id": job.model_id,
                "input": slim_input(job.input) if done else job.input,
                "effective_input": slim_input(job.effective_input) if done else job.effective_input,
                "status": job.status,
                "created_at": job.created_at,
                "created_ts": job.created_ts,
                "started_at": job.started_at,
                "started_ts": job.started_ts,
                "finished_at": job.finished_at,
                "finished_ts": job.finished_ts,
                "files": [path.name for path in job.files],
                "error": job.error,
                "expired": job.expired,
                "answer_dropped": job.answer_dropped,
                "multi": job.multi,
                "media": job.media,
                "note": job.note,
            }
        )
    return json.dumps({"format": FORMAT, "waiting": waiting, "jobs": entries}, ensure_ascii=False).encode()


def parse_record(raw: bytes, files_dir: Path, cdn_url: str) -> Loaded:
    """Jobs from a saved record; raises ``ValueError`` when the file as a whole is unusable.

    A single bad entry is skipped with a warning. Unfinished jobs come back jobs that were running first (in
    the order they started), then the waiting line in its saved order.
    """
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"it is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("jobs"), list):
        raise ValueError(f"it is not a format-{FORMAT} job record")
    loaded = Loaded()
    running: list[FakeJob] = []
    waiting: dict[str, FakeJob] = {}
    seen: set[str] = set()
    for index, entry in enumerate(data["jobs"]):
        try:
            job = _job_from(entry, files_dir, cdn_url)
        except (KeyError, TypeError, ValueError) as exc:
            loaded.warnings.append(f"Saved job #{index + 1} was skipped: {exc}.")
            continue
        if job.request_id in seen:
            loaded.warnings.append(f"Saved job {job.request_id} appears twice; the later copy was skipped.")
            continue
        seen.add(job.request_id)
        if job.status in TERMINAL:
            loaded.finished.append(job)
        elif job.status == "in_progress":
            running.append(job)
        else:
            waiting[job.request_id] = job
    order = data.get("waiting")
    if not isinstance(order, list):
        order = []
    queued = [waiting.pop(rid) for rid in order if isinstance(rid, str) and rid in waiting]
    running.sort(key=lambda job: job.started_ts or job.created_ts)
    loaded.unfinished = running + queued + list(waiting.values())
    return loaded


def _job_from(entry: Any, files_dir: Path, cdn_url: str) -> FakeJob:
    if not isinstance(entry, dict):
        raise TypeError("it is not an object")
    request_id = entry["request_id"]
    if not isinstance(request_id, str) or not _SAFE_ID.match(request_id) or request_id.strip(".") == "":
        raise ValueError("its request_id is not a plain name")
    status = entry["status"]
    if status not in _STATUSES:
        raise ValueError(f"its status {status!r} is unknown")
    names = entry.get("files") or []
    if not isinstance(names, list) or not all(isinstance(n, str) and _SAFE_NAME.match(n) for n in names):
        raise ValueError("its file list is not a list of output file names")
    if status == "completed" and not names:
        raise ValueError("it is completed but has no output files")
    for key in ("input", "effective_input"):
        if not isinstance(entry[key], dict):
            raise TypeError(f"its {key} is not an object")
    created_ts = _number(entry.get("created_ts"))
    if created_ts is None:
        raise ValueError("it has no creation time")
    job = FakeJob(
        request_id=request_id,
        model_id=str(entry["model_id"]),
        input=entry["input"],
        effective_input=entry["effective_input"],
        status=status,
        created_ts=created_ts,
        created_at=str(entry.get("created_at") or ""),
        # expire_after counts from the job's real age, not from this start
        created_monotonic=time.monotonic() - max(0.0, time.time() - created_ts),
        started_at=_text(entry.get("started_at")),
        started_ts=_number(entry.get("started_ts")),
        finished_at=_text(entry.get("finished_at")),
        finished_ts=_number(entry.get("finished_ts")),
        error=entry.get("error"),
        expired=bool(entry.get("expired")),
        answer_dropped=bool(entry.get("answer_dropped")),
        multi=bool(entry.get("multi")),
        media=str(entry.get("media") or "image"),
        note=_text(entry.get("note")),
    )
    if status == "completed":
        job.files = [files_dir / request_id / name for name in names]
        job.outputs = [f"{cdn_url}/files/{request_id}/{name}" for name in names]
    return job


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class StateFile:
    """Reads and atomically writes ``jobs.json``; writes run in threads, so they carry a generation number
    and a write older than one already on disk is dropped (a slow debounced save cannot undo the final one)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / STATE_FILE
        self._lock = threading.Lock()
        self._written = -1

    def read(self) -> bytes | None:
        """The saved bytes, or None when nothing was saved yet; raises ``OSError`` when unreadable."""
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def set_aside(self) -> Path | None:
        """Move an unusable record out of the way (``jobs.json.corrupt``) so the next save cannot erase it."""
        target = self.path.with_name(STATE_FILE + ".corrupt")
        try:
            os.replace(self.path, target)
        except OSError:
            return None
        return target

    def write(self, data: bytes, generation: int) -> bool:
        """Write ``data`` unless a newer generation is already saved; temp file + ``os.replace``."""
        with self._lock:
            if generation < self._written:
                return False
            atomic_write(self.path, data, mode=0o600)
            self._written = generation
            return True


class Saver:
    """Debounced saving on the server's loop: a burst of job changes costs one write ``delay`` seconds later.

    The JSON is built on the loop (it reads live jobs) and written in a thread. A failed write is logged and
    retried at the next change; it never disturbs the server.
    """

    def __init__(self, state_file: StateFile, dump: Callable[[], bytes], delay: float = SAVE_DELAY) -> None:
        self.state_file = state_file
        self._dump = dump
        self._delay = delay
        self._generation = 0
        self._task: asyncio.Task[None] | None = None
        self.saves = 0

    def changed(self) -> None:
        """Note a change; a save follows within ``delay`` seconds."""
        self._generation += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._save_soon(), name="fake-state-save")

    async def _save_soon(self) -> None:
        while True:
            await asyncio.sleep(self._delay)  # the debounce window, not synchronisation
            generation = self._generation
            await self._write(generation)
            if generation == self._generation:  # nothing changed while writing
                return

    async def _write(self, generation: int) -> None:
        try:
            data = self._dump()
            if await asyncio.to_thread(self.state_file.write, data, generation):
                self.saves += 1
        except (OSError, TypeError, ValueError) as exc:
            log.warning("The fake server could not save its job record to %s: %s", self.state_file.path, exc)

    async def flush(self) -> None:
        """Save now (on stop), after cancelling a pending debounced save."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._generation += 1
        await self._write(self._generation)
