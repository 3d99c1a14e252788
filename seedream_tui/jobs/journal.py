"""The request-id journal: a tiny append-only file beside the history.

A submit's answer (the request id) is the only handle on a job the user has paid for. It is appended
here, synced to disk, *before* the history row is written, so a history that cannot be written at that
moment (a full disk, another instance holding the write lock for too long) loses nothing: the next
start replays the journal into the history. One JSON object a line; a torn last line (a crash
mid-append) is skipped. Appends and the compaction at start hold an advisory lock on the file, so
several instances can share it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    job_id: int
    request_id: str
    model_id: str
    at: float


#: room kept on disk for the journal (a file beside it, given back when the disk is full): ~300 request ids
RESERVE_BYTES = 64 * 1024


class RequestJournal:
    """The journal at ``path``, and the room kept for it at ``path`` + ``.reserve``.

    A disk can fill between the row written before a submit and the submit's answer; the journal must
    still take that request id. So a small file of zeros is kept beside it while there is room: an append
    that meets a full disk deletes it (its blocks are free at once) and tries again; the room is taken back
    by a later append once the disk has room.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.reserve = self.path.with_name(self.path.name + ".reserve")

    def keep_room(self) -> None:
        """Make sure the room for the journal is kept (best effort: a full disk or read-only folder is fine)."""
        try:
            if self.reserve.stat().st_size >= RESERVE_BYTES:
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
        try:
            stats = os.statvfs(self.path.parent)
            if stats.f_bavail * stats.f_frsize < 16 * RESERVE_BYTES:
                return  # little room left: the history needs it more (the room is kept again once there is)
        except (OSError, AttributeError):
            pass
        partial = self.reserve.with_name(f"{self.reserve.name}.{os.getpid()}")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, bytes(RESERVE_BYTES))  # real blocks (not a sparse file), so deleting it frees room
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(partial, self.reserve)
        except OSError:
            with contextlib.suppress(OSError):
                partial.unlink()

    @contextlib.contextmanager
    def _locked(self, mode: str) -> Iterator[int]:
        fd = os.open(self.path, {"a": os.O_RDWR | os.O_APPEND | os.O_CREAT, "rw": os.O_RDWR | os.O_CREAT}[mode],
                     0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # closing releases the lock

    def append(self, entry: Entry) -> None:
        """Append one entry and sync it to disk. Raises OSError (a full disk with no room kept, a read-only
        folder)."""
        try:
            self._append(entry)
        except OSError as exc:
            if exc.errno != errno.ENOSPC or not self.reserve.exists():
                raise
            log.warning("the disk is full: the room kept for the request journal is used")
            self.reserve.unlink()
            self._append(entry)
        else:
            self.keep_room()

    def _append(self, entry: Entry) -> None:
        line = json.dumps(entry.__dict__, ensure_ascii=True, separators=(",", ":")) + "\n"
        with self._locked("a") as fd:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":  # a torn last line: start on a line of our own
                line = "\n" + line
            data = memoryview(line.encode("ascii"))
            while data:  # a short write (the disk filled mid-line) goes on, or raises ENOSPC
                data = data[os.write(fd, data):]
            os.fsync(fd)

    def entries(self) -> list[Entry]:
        """Every readable entry (torn or foreign lines are skipped)."""
        try:
            text = self.path.read_text("utf-8", errors="replace")
        except FileNotFoundError:
            return []
        return _parse(text)

    def compact(self, done: set[tuple[int, str]]) -> None:
        """Drop the entries ``(job_id, request_id)`` in ``done`` (safely in the history now); entries
        another instance appended meanwhile stay."""
        with contextlib.suppress(FileNotFoundError), self._locked("rw") as fd:
            size = os.fstat(fd).st_size
            data = os.pread(fd, size, 0).decode("utf-8", errors="replace") if size else ""
            kept = [e for e in _parse(data) if (e.job_id, e.request_id) not in done]
            out = "".join(json.dumps(e.__dict__, separators=(",", ":")) + "\n" for e in kept).encode("ascii")
            if out == data.encode("utf-8", errors="replace"):
                return
            os.ftruncate(fd, 0)
            if out:
                os.pwrite(fd, out, 0)
            os.fsync(fd)


def _parse(text: str) -> list[Entry]:
    out: list[Entry] = []
    for line in text.splitlines():
        try:
            raw = json.loads(line)
            entry = Entry(int(raw["job_id"]), str(raw["request_id"]), str(raw["model_id"]), float(raw["at"]))
        except (ValueError, KeyError, TypeError):
            continue
        if entry.request_id:
            out.append(entry)
    return out
