"""Opening the history database and migrating its schema.

The history is the only record of jobs a user has paid for, so this module is
careful about one thing above all: it never deletes, truncates or "repairs" a file
it does not understand. A newer schema, a foreign SQLite file or a corrupted file
all become a :class:`HistoryError` whose text names the file, and the file is left
exactly as it was.

Schema versions live in ``PRAGMA user_version``. ``MIGRATIONS[n]`` upgrades a
database from version ``n`` to ``n + 1``; each runs inside one ``BEGIN IMMEDIATE``
transaction together with the version bump, so a crash mid-migration leaves the
old version intact. Adding schema v2 means appending one function.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: how long a writer waits for another app instance holding the write lock
BUSY_TIMEOUT_MS = 5000

#: statuses of jobs that still need polling/downloading (kept in sync with model.TERMINAL)
LIVE_STATUSES = ("submitting", "queued", "running", "downloading")

#: Scripts whose words are not separated by spaces. ``unicode61`` would index a whole
#: Chinese sentence as one token, so prompts containing them also go to a trigram
#: index searched by substring. The Python regex and the SQL GLOB class must agree.
CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
CJK_GLOB = f"*[{CJK_CLASS}]*"


class HistoryError(Exception):
    """A problem with the history database; ``str()`` is a sentence for the user."""


class JobNotFoundError(HistoryError):
    """The job id is not (or no longer) in the history, e.g. the user deleted it."""


LIVE_SQL = ", ".join(f"'{s}'" for s in LIVE_STATUSES)


def _migrate_v1(conn: sqlite3.Connection) -> None:
    """The first schema: jobs, outputs, per-(model, status) counters and two FTS indexes."""
    run_script(
        conn,
        f"""
        CREATE TABLE jobs (
            id               INTEGER PRIMARY KEY,
            request_id       TEXT UNIQUE,
            model_id         TEXT NOT NULL,
            inputs           TEXT NOT NULL,
            prompt           TEXT NOT NULL DEFAULT '',
            status           TEXT NOT NULL,
            queue_position   INTEGER,
            created_at       REAL NOT NULL,
            updated_at       REAL NOT NULL,
            submitted_at     REAL,
            started_at       REAL,
            finished_at      REAL,
            error            TEXT,
            cost             REAL,
            base_url         TEXT,
            poll_owner       TEXT,
            poll_lease_until REAL
        );
        CREATE TABLE outputs (
            job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            idx        INTEGER NOT NULL,
            url        TEXT NOT NULL,
            path       TEXT,
            width      INTEGER,
            height     INTEGER,
            format     TEXT,
            size       INTEGER,
            thumb_path TEXT,
            PRIMARY KEY (job_id, idx)
        ) WITHOUT ROWID;
        -- newest-first listing is the rowid (id) itself; these serve the filters
        CREATE INDEX jobs_status_id ON jobs(status, id);
        CREATE INDEX jobs_model_id ON jobs(model_id, id);
        CREATE INDEX jobs_model_status_id ON jobs(model_id, status, id);
        CREATE INDEX jobs_created ON jobs(created_at);
        CREATE INDEX jobs_live ON jobs(id) WHERE status IN ({LIVE_SQL});
        -- the CJK rows, for substring terms too short for the trigram index
        CREATE INDEX jobs_cjk_rows ON jobs(id) WHERE prompt GLOB '{CJK_GLOB}';

        -- O(1) counts for the filter bar: one row per (model, status)
        CREATE TABLE job_counts (
            model_id TEXT NOT NULL,
            status   TEXT NOT NULL,
            n        INTEGER NOT NULL,
            PRIMARY KEY (model_id, status)
        ) WITHOUT ROWID;
        CREATE TRIGGER jobs_count_ins AFTER INSERT ON jobs BEGIN
            INSERT INTO job_counts(model_id, status, n) VALUES (new.model_id, new.status, 1)
                ON CONFLICT(model_id, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER jobs_count_del AFTER DELETE ON jobs BEGIN
            UPDATE job_counts SET n = n - 1 WHERE model_id = old.model_id AND status = old.status;
        END;
        CREATE TRIGGER jobs_count_upd AFTER UPDATE OF status, model_id ON jobs
            WHEN old.status IS NOT new.status OR old.model_id IS NOT new.model_id BEGIN
            UPDATE job_counts SET n = n - 1 WHERE model_id = old.model_id AND status = old.status;
            INSERT INTO job_counts(model_id, status, n) VALUES (new.model_id, new.status, 1)
                ON CONFLICT(model_id, status) DO UPDATE SET n = n + 1;
        END;

        -- word search (external content: the text lives once, in jobs.prompt)
        CREATE VIRTUAL TABLE jobs_fts USING fts5(
            prompt, content='jobs', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER jobs_fts_ins AFTER INSERT ON jobs BEGIN
            INSERT INTO jobs_fts(rowid, prompt) VALUES (new.id, new.prompt);
        END;
        CREATE TRIGGER jobs_fts_del AFTER DELETE ON jobs BEGIN
            INSERT INTO jobs_fts(jobs_fts, rowid, prompt) VALUES ('delete', old.id, old.prompt);
        END;
        CREATE TRIGGER jobs_fts_upd AFTER UPDATE OF prompt ON jobs BEGIN
            INSERT INTO jobs_fts(jobs_fts, rowid, prompt) VALUES ('delete', old.id, old.prompt);
            INSERT INTO jobs_fts(rowid, prompt) VALUES (new.id, new.prompt);
        END;

        -- substring search for CJK prompts only (trigram indexes are large)
        CREATE VIRTUAL TABLE jobs_cjk USING fts5(
            prompt, content='jobs', content_rowid='id', tokenize='trigram'
        );
        CREATE TRIGGER jobs_cjk_ins AFTER INSERT ON jobs WHEN new.prompt GLOB '{CJK_GLOB}' BEGIN
            INSERT INTO jobs_cjk(rowid, prompt) VALUES (new.id, new.prompt);
        END;
        CREATE TRIGGER jobs_cjk_del AFTER DELETE ON jobs WHEN old.prompt GLOB '{CJK_GLOB}' BEGIN
            INSERT INTO jobs_cjk(jobs_cjk, rowid, prompt) VALUES ('delete', old.id, old.prompt);
        END;
        CREATE TRIGGER jobs_cjk_upd_del AFTER UPDATE OF prompt ON jobs
            WHEN old.prompt GLOB '{CJK_GLOB}' BEGIN
            INSERT INTO jobs_cjk(jobs_cjk, rowid, prompt) VALUES ('delete', old.id, old.prompt);
        END;
        CREATE TRIGGER jobs_cjk_upd_ins AFTER UPDATE OF prompt ON jobs
            WHEN new.prompt GLOB '{CJK_GLOB}' BEGIN
            INSERT INTO jobs_cjk(rowid, prompt) VALUES (new.id, new.prompt);
        END;
        """,
    )


def _migrate_v2(conn: sqlite3.Connection) -> None:
    """Compare-and-set writes and clock-free polling leases (many instances on one history).

    ``version`` is bumped by every write, so a write made from a stale copy of a row can be refused.
    ``poll_beat`` is the lease holder's heartbeat counter: another instance takes a lease over only after
    it has seen the counter stand still for a whole lease on its *own* monotonic clock, so no process's
    wall clock (skewed, or jumping after a suspend) decides who polls. ``poll_lease_until`` stays, unused.
    """
    run_script(
        conn,
        """
        ALTER TABLE jobs ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE jobs ADD COLUMN poll_beat INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX jobs_poll_owner ON jobs(poll_owner) WHERE poll_owner IS NOT NULL;
        """,
    )


def _migrate_v3(conn: sqlite3.Connection) -> None:
    """Edit chains: which earlier jobs' results a job took as its input images (its parents, in order).

    A table of its own, so a job row stays as it was; deleting a job forgets its links both ways.
    """
    run_script(
        conn,
        """
        CREATE TABLE job_parents (
            job_id    INTEGER NOT NULL,
            parent_id INTEGER NOT NULL,
            position  INTEGER NOT NULL,
            PRIMARY KEY (job_id, position)
        );
        CREATE INDEX job_parents_parent ON job_parents(parent_id);
        CREATE TRIGGER job_parents_forget AFTER DELETE ON jobs BEGIN
            DELETE FROM job_parents WHERE job_id = old.id OR parent_id = old.id;
        END;
        """,
    )


def _migrate_v4(conn: sqlite3.Connection) -> None:
    """A sentence the server added about a job's result (the offline demo's stand-in for an image it could
    not fetch): kept apart from ``error``, which is about failures."""
    run_script(conn, "ALTER TABLE jobs ADD COLUMN note TEXT;")


def _migrate_v5(conn: sqlite3.Connection) -> None:
    """Batches: many jobs from one idea (variants, sweeps, repeats, a prompt file). A batch row keeps its plan
    (JSON: how it was made, its axes); each job keeps its batch, its place in it, the values that made it
    (``variant``, JSON) and why it is held back in the local queue (``hold``)."""
    run_script(
        conn,
        """
        CREATE TABLE batches (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            label TEXT NOT NULL DEFAULT '',
            plan TEXT NOT NULL DEFAULT '{}',
            budget_usd REAL
        );
        ALTER TABLE jobs ADD COLUMN batch_id INTEGER;
        ALTER TABLE jobs ADD COLUMN batch_place INTEGER;
        ALTER TABLE jobs ADD COLUMN variant TEXT;
        ALTER TABLE jobs ADD COLUMN hold TEXT;
        CREATE INDEX jobs_batch ON jobs(batch_id, batch_place) WHERE batch_id IS NOT NULL;
        """,
    )


def _migrate_v6(conn: sqlite3.Connection) -> None:
    """The local queue (see local_queue.py): a pending job's place in the queue (``queue_rank``: lower goes
    first; moved up by the user) and its quote when it was written (``price_usd``, the "up to" figure; NULL
    when unknown) for the daily budget; a batch's own live-job limit (``batches.max_live``); and the queue's
    state shared by every instance on this history (``queue_state``: ``paused``)."""
    run_script(
        conn,
        """
        ALTER TABLE jobs ADD COLUMN queue_rank INTEGER;
        ALTER TABLE jobs ADD COLUMN price_usd REAL;
        ALTER TABLE batches ADD COLUMN max_live INTEGER;
        CREATE TABLE queue_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE INDEX jobs_pending ON jobs(queue_rank, id) WHERE status = 'pending';
        """,
    )


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run statements one by one: ``executescript`` would COMMIT our open transaction first."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            conn.execute(pending)
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:60]}")


#: ``MIGRATIONS[n]`` takes a database from user_version n to n + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_v1, _migrate_v2, _migrate_v3, _migrate_v4, _migrate_v5,
                                                        _migrate_v6]
SCHEMA_VERSION = len(MIGRATIONS)

_OUR_TABLES = {"jobs", "outputs", "job_counts"}


class HistoryUnwritable(HistoryError):
    """The history cannot be written for a reason outside the file (``reason``: "full" or "read-only"): the
    file is healthy, so commands that only read may open it for reading (see ``store._open_store``)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


#: SQLite's primary result codes that say something about the file or the disk
_SQLITE_READONLY, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 8, 11, 13, 26
#: free space below this on the history's disk: the disk is called full when SQLite fails to write
_NEARLY_FULL_BYTES = 1 << 20


def unreadable(path: Path, exc: BaseException) -> HistoryError:
    """The sentence for a file SQLite cannot use; the file itself is left untouched.

    A full disk or a read-only folder is not damage: those get their own sentences (moving a healthy
    history aside would be the wrong advice). "It may be damaged" is said only when SQLite says so
    (a malformed file, or not a database); any other failure is looked into (free space, a write probe
    in the folder) before it is named.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc).lower()
    os_errno = getattr(exc, "errno", None)
    if primary == _SQLITE_FULL or "full" in text or os_errno == errno.ENOSPC:
        return _full(path)
    if primary == _SQLITE_READONLY or "readonly" in text or "read-only" in text or os_errno in _READ_ONLY_ERRNOS:
        return _read_only(path)
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in text or "not a database" in text:
        return HistoryError(
            f"The job history at {path} cannot be read ({exc}). It may be damaged or not a "
            "seedream-tui history; it was left untouched — move it aside to start a new history."
        )
    trouble = disk_trouble(path)
    if trouble == "full":
        return _full(path)
    if trouble == "read-only":
        return _read_only(path)
    if path.is_dir():
        return HistoryError(f"The job history at {path} cannot be read ({exc}): it is a folder, not a file. "
                            "It was left untouched.")
    return HistoryError(
        f"The job history at {path} cannot be read ({exc}). It was left untouched; check the disk it is on "
        "and that the file and its folder can be read and written, then try again."
    )


_READ_ONLY_ERRNOS = (errno.EROFS, errno.EACCES, errno.EPERM)


def _full(path: Path) -> HistoryUnwritable:
    return HistoryUnwritable(
        f"The disk holding the job history at {path} is full: free some space and try again.", "full"
    )


def _read_only(path: Path) -> HistoryUnwritable:
    return HistoryUnwritable(
        f"The job history at {path} is in a read-only folder; nothing could be written to it.", "read-only"
    )


def disk_trouble(path: Path) -> str | None:
    """Why the history at ``path`` cannot be written, when the cause is around it: "full" (no room on its
    disk), "read-only" (its folder or the file refuses writes: a mode, a read-only mount), or None."""
    folder = Path(path).parent
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):
        stats = None
    if stats is not None:
        free = (stats.f_bfree if os.geteuid() == 0 else stats.f_bavail) * stats.f_frsize
        if free < _NEARLY_FULL_BYTES and stats.f_blocks:
            return "full"
    probe = folder / f".seedream-write-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return "full"
        return "read-only" if exc.errno in _READ_ONLY_ERRNOS else None
    try:
        os.write(fd, b"\0" * 4096)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return "full"
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            probe.unlink()
    try:
        os.close(os.open(path, os.O_WRONLY))
    except OSError as exc:
        if exc.errno in _READ_ONLY_ERRNOS:
            return "read-only"
    return None


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the history at ``path``.

    Reads the header before writing anything, so a file that is not a database (or
    is from a newer app) fails here without a single byte changed.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        culprit = f": {exc.filename}" if exc.filename else ""
        raise HistoryError(
            f"Cannot create the folder {path.parent} for the job history ({exc.strerror or exc}{culprit}). "
            "Check that no file is in the way and that the folder can be written to."
        ) from exc
    try:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5.0)
    except sqlite3.Error as exc:
        raise unreadable(path, exc) from exc
    with closed_on_failure(conn, path):
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # first read of the header
        _refuse_unknown(conn, path, version)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if version < SCHEMA_VERSION:
            _migrate(conn, path)
    return conn


@contextmanager
def closed_on_failure(conn: sqlite3.Connection, path: Path) -> Iterator[None]:
    """Close a half-opened connection on any failure; SQLite's errors become the file's sentence."""
    try:
        yield
    except HistoryError:
        conn.close()
        raise
    except sqlite3.Error as exc:
        conn.close()
        raise unreadable(path, exc) from exc


def _refuse_unknown(conn: sqlite3.Connection, path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"The job history at {path} was made by a newer seedream-tui (schema version "
            f"{version}, this one knows up to {SCHEMA_VERSION}). Upgrade seedream-tui to open it."
        )
    if version == 0:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and not tables & _OUR_TABLES:
            raise HistoryError(
                f"The file at {path} is an SQLite database of another program, not a seedream-tui "
                "job history; it was left untouched."
            )


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply the missing migrations, each in its own transaction with its version bump."""
    while True:
        conn.execute("BEGIN IMMEDIATE")  # another instance may be migrating the same file
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA_VERSION:
                conn.execute("COMMIT")
                return
            try:
                MIGRATIONS[version](conn)
            except sqlite3.Error as exc:
                raise HistoryError(
                    f"The job history at {path} could not be upgraded to schema version {version + 1} "
                    f"({exc}); it was left at version {version}."
                ) from exc
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
