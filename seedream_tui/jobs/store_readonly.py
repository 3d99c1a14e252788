"""Reading a history that cannot be written: a read-only home (a shared or mounted folder, a backup).

``history``, ``status`` of a saved job and ``export`` only read, so they must work there; commands that
write say that the folder is read-only (see ``store_schema.unreadable``). SQLite cannot open a WAL
database read-only when it cannot create the ``-shm`` file beside it, so the second try opens it
``immutable`` — exact only while nothing else writes the file, which is why it is used only when the
folder is not writable and no unmerged ``-wal`` file exists.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from pathlib import Path

from .store_schema import SCHEMA_VERSION, HistoryError, _refuse_unknown, closed_on_failure, unreadable


def folder_is_writable(folder: Path) -> bool:
    """Try it: ``os.access`` is wrong for root, for read-only mounts and for some network file systems."""
    probe = Path(folder) / f".seedream-write-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return False
    os.close(fd)
    with contextlib.suppress(OSError):
        probe.unlink()
    return True


def connect_read_only(path: Path) -> sqlite3.Connection:
    """Open the history at ``path`` for reading only; HistoryError (a sentence) when that cannot be done."""
    path = Path(path)
    if not path.is_file():
        raise HistoryError(
            f"There is no job history at {path}, and its folder is read-only, so none can be started there."
        )
    uri = path.resolve().as_uri()
    conn = _open(f"{uri}?mode=ro", path)
    if conn is None:
        wal = path.with_name(path.name + "-wal")
        if wal.is_file() and wal.stat().st_size > 0:
            raise HistoryError(
                f"The job history at {path} has recent changes in {wal.name} that can only be read with write "
                f"access to {path.parent}, which is read-only. Make the folder writable (or run seedream-tui "
                "once where it is) and try again."
            )
        conn = _open(f"{uri}?immutable=1", path)
    if conn is None:
        raise HistoryError(f"The job history at {path} cannot be read from its read-only folder.")
    with closed_on_failure(conn, path):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        _refuse_unknown(conn, path, version)
        if version < SCHEMA_VERSION:
            raise HistoryError(
                f"The job history at {path} was made by an older seedream-tui and must be upgraded before it "
                f"can be read, but its folder {path.parent} is read-only. Make it writable once and try again."
            )
    return conn


def _open(uri: str, path: Path) -> sqlite3.Connection | None:
    """A connection that has read the header, or None when SQLite needs write access to do so."""
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None, timeout=5.0)
    except sqlite3.Error as exc:
        raise unreadable(path, exc) from exc
    try:
        conn.execute("PRAGMA user_version").fetchone()
    except sqlite3.OperationalError as exc:
        conn.close()
        if "readonly" in str(exc) or "unable to open" in str(exc) or "disk i/o error" in str(exc).lower():
            return None
        raise unreadable(path, exc) from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise unreadable(path, exc) from exc
    return conn
