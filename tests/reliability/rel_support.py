"""What the reliability tests share: the audit that compares the history with the fake server's own record.

"Lost" means any of: a job still live after everything settled, a finished job whose local state disagrees
with the server's, a completed job without all its images on disk (decodable), a job the server made that
the history does not know (unless it is accounted for by an UNKNOWN row with the same prompt), a duplicate
generation of one prompt, or a stray file in the images dir (a ``.part`` left behind, an extra image).
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from helpers import wait_for
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
        return f"jobs={self.jobs} {parts} images={self.images}"


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
                problem = _check_image(out.path, out.width, out.height) or _check_thumb(out.thumb_path)
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


def _check_thumb(path: str | None) -> str | None:
    if not path or not Path(path).is_file():
        return "no thumbnail"
    try:
        with Image.open(path) as img:
            img.load()
    except (OSError, ValueError) as exc:
        return f"the thumbnail does not decode ({exc})"
    return None


class Stopwatch:
    """Wall time of a test section, for the printed figures."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


class Child:
    """One app run as a subprocess; its narration is read as it comes so the kill can be aimed."""

    def __init__(self, proc: asyncio.subprocess.Process, stderr: Path) -> None:
        self.proc = proc
        self.stderr = stderr
        self.lines: list[list[str]] = []
        self.killed = False
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, script: Path, args: list[str], stderr: Path) -> Child:
        with stderr.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(script), *args,
                stdout=asyncio.subprocess.PIPE, stderr=err, env=dict(os.environ),
            )
        return cls(proc, stderr)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode().split())

    def said(self, *words: str) -> bool:
        return any(line[: len(words)] == list(words) for line in self.lines)

    async def until(self, probe: Callable[[], Any], what: str, within: float = 15.0) -> Any:
        def check() -> Any:
            if self.proc.returncode is not None:
                raise AssertionError(f"the child app ended early: {self.stderr.read_text()[-2000:]}")
            return probe()

        return await wait_for(check, within, what=what, interval=0.005)

    def kill_now(self) -> None:
        """SIGKILL, once: a second ``send_signal`` would poll (reap) the corpse before asyncio's child
        watcher does, and the watcher would then report exit code 255 instead of the kill."""
        if not self.killed and self.proc.returncode is None:
            self.killed = True
            self.proc.send_signal(signal.SIGKILL)

    async def reap(self) -> None:
        await asyncio.wait_for(self.proc.wait(), 10)
        assert self.proc.returncode == -signal.SIGKILL, self.stderr.read_text()[-2000:]
        await self._reader



class HoldingProxy:
    """A loopback pass-through to the fake API that can sit on a submit's answer after the server made the job.

    The fake server decides everything before it reads a submit's body, so a client killed while the fake
    delays an answer leaves no job behind. Real networks also lose answers *after* the job exists; with
    ``hold`` set, this proxy forwards the submit at once and keeps its answer back that long, so a kill in
    between leaves a job on the server that the app never heard of.
    """

    _FORWARDED = ("Authorization", "Content-Type", "Accept", "User-Agent")

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.hold = 0.0
        #: submits the server answered while ``hold`` was set (the job exists from then on)
        self.held_answers = 0
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> HoldingProxy:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k in self._FORWARDED if (v := request.headers.get(k)) is not None}
        async with self._session.request(
            request.method, self.upstream + request.path_qs, data=body or None, headers=headers
        ) as upstream:
            data = await upstream.read()
            answer = {k: v for k in ("Content-Type", "Retry-After") if (v := upstream.headers.get(k)) is not None}
            status = upstream.status
        if request.method == "POST" and request.path.startswith("/v1/models/") and self.hold > 0:
            self.held_answers += 1
            await asyncio.sleep(self.hold)  # the lost-answer window itself, not a synchronisation
        return web.Response(status=status, body=data, headers=answer)
