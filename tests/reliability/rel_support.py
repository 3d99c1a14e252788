"""What the reliability tests share: the audit that compares the history with the fake server's own record.

"Lost" means any of: a job still live after everything settled, a finished job whose local state disagrees
with the server's, a completed job without all its images on disk (decodable), a job the server made that
the history does not know (unless it is accounted for by an UNKNOWN row with the same prompt), a duplicate
generation of one prompt, or a stray file in the images dir (a ``.part`` left behind, an extra image).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from seedream_tui.jobs.model import Job, JobStatus

#: submit errors after which nothing exists on the server, so the engine may send the submit again
NOTHING_CREATED = frozenset({"RateLimitedError", "NetworkError", "ApiTimeoutError"})
TEMP_SUFFIXES = (".part", ".tmp")


@dataclass
class AuditResult:
    jobs: int
    statuses: collections.Counter[str]
    images: int
    problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return len(self.problems)

    def summary(self) -> str:
        parts = " ".join(f"{name}={n}" for name, n in sorted(self.statuses.items()))
        return f"jobs={self.jobs} {parts} images={self.images} lost={self.lost}"


def server_error_text(error: Any) -> str:
    return str(error["message"]) if isinstance(error, dict) else str(error or "")


def audit(
    rows: Iterable[Job],
    server: dict[str, dict[str, Any]],
    images_dir: Path,
    *,
    prompts: Iterable[str] | None = None,
) -> AuditResult:
    """Compare every history row with the server's record and the files on disk; list every disagreement."""
    rows = list(rows)
    problems: list[str] = []
    statuses = collections.Counter(row.status.value for row in rows)
    if prompts is not None:
        missing = set(prompts) - {row.prompt for row in rows}
        problems.extend(f"prompt {p!r} has no row in the history" for p in sorted(missing))
    by_prompt = collections.Counter(row.prompt for row in rows)
    problems.extend(f"prompt {p!r} has {n} rows" for p, n in by_prompt.items() if n > 1)

    expected_files: set[Path] = set()
    local_ids: set[str] = set()
    unknown_prompts: set[str] = set()
    for row in rows:
        where = f"job {row.id} ({row.prompt!r}, {row.status.value})"
        if not row.status.terminal:
            problems.append(f"{where} is still live")
            continue
        if row.request_id is not None:
            local_ids.add(row.request_id)
        record = server.get(row.request_id) if row.request_id else None
        if row.status is JobStatus.COMPLETED:
            if record is None or record["status"] != "completed":
                problems.append(f"{where}: the server says {record and record['status']}")
                continue
            if [o.url for o in row.outputs] != record["outputs"]:
                problems.append(f"{where}: outputs differ from the server's")
            for out in row.outputs:
                problem = _check_image(out.path, out.width, out.height)
                if problem:
                    problems.append(f"{where} output {out.index}: {problem}")
                else:
                    expected_files.add(Path(out.path or ""))
        elif row.status is JobStatus.FAILED:
            if row.request_id is None:
                if not (row.error or "").startswith(("Not sent", "Not accepted")):
                    problems.append(f"{where} without request id says {row.error!r}")
            elif record is None or record["status"] != "failed":
                problems.append(f"{where}: the server says {record and record['status']}")
            elif server_error_text(record["error"]) not in (row.error or ""):
                problems.append(f"{where}: error {row.error!r} is not the server's")
        elif row.status is JobStatus.UNKNOWN:
            if row.request_id is not None or "dashboard" not in (row.error or ""):
                problems.append(f"{where}: an unknown job must have no request id and name the dashboard")
            unknown_prompts.add(row.prompt)
        else:
            problems.append(f"{where}: nothing in these tests cancels or expires a job")

    made = collections.Counter(str(rec["input"].get("prompt")) for rec in server.values())
    problems.extend(f"the server generated {p!r} {n} times" for p, n in made.items() if n > 1)
    for request_id, rec in server.items():
        if request_id in local_ids:
            continue
        if rec["input"].get("prompt") not in unknown_prompts:
            problems.append(f"server job {request_id} ({rec['input'].get('prompt')!r}) is unknown to the history")

    on_disk = {p for p in images_dir.rglob("*") if p.is_file()} if images_dir.exists() else set()
    problems.extend(f"temp file left: {p}" for p in sorted(on_disk) if p.name.endswith(TEMP_SUFFIXES))
    problems.extend(f"extra file: {p}" for p in sorted(on_disk - expected_files) if not p.name.endswith(TEMP_SUFFIXES))
    return AuditResult(len(rows), statuses, len(expected_files & on_disk), problems)


def _check_image(path: str | None, width: int | None, height: int | None) -> str | None:
    if not path or not Path(path).is_file():
        return "no file on disk"
    try:
        with Image.open(path) as img:
            img.load()
            if img.size != (width, height):
                return f"the file is {img.size}, the history says {(width, height)}"
    except (OSError, ValueError) as exc:
        return f"the file does not decode ({exc})"
    return None


class Stopwatch:
    """Wall time of a test section, for the printed figures."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start
