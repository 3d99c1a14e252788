"""The second origin: a storage CDN that serves the generated files, as RunComfy's output URLs do.

It is a separate host:port on purpose: the client must never send the API token there, and every request's
headers are kept in ``cdn_requests`` so tests can prove it (with the status and the body bytes sent of each
file answer). Like a storage CDN it honours ``Range: bytes=N-`` (206, ``Accept-Ranges: bytes``) unless
``cdn_ranges`` is off or it gzips.
"""

from __future__ import annotations

import asyncio
import gzip
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from seedream_tui.fake.badoutput import bad_file_answer, rewrites_urls
from seedream_tui.fake.images import CONTENT_TYPES

if TYPE_CHECKING:
    from seedream_tui.fake.server import FakeServer

_NAME = re.compile(r"^\d{1,3}\.(png|jpeg|jpg|webp|mp4)$")
_RANGE = re.compile(r"^\s*bytes=(\d+)-\s*$")


class CdnRoutes:
    def __init__(self, server: FakeServer) -> None:
        self.s = server

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/files/{request_id}/{name}", self.file)

    async def file(self, request: web.Request) -> web.StreamResponse:
        record = {
            "method": request.method,
            "path": request.path_qs,
            "headers": {name.lower(): value for name, value in request.headers.items()},
            "status": None,  # the answer's status and the body bytes sent, for the files this route serves
            "sent": 0,
        }
        self.s.cdn_requests.append(record)
        request_id, name = request.match_info["request_id"], request.match_info["name"]
        match = _NAME.match(name)
        job = self.s.board.jobs.get(request_id)
        path = self.s.files_dir / request_id / name if self.s.files_dir else None
        if match is None or job is None or path is None or path not in job.files:
            return web.Response(status=404, text="Not found.")
        style = self.s.config.output_url_style
        if style != "normal" and not rewrites_urls(style):
            self.s.count_fault("output_url_style")
            return await bad_file_answer(self.s, request, style)
        try:
            data = await asyncio.to_thread(Path.read_bytes, path)
        except OSError:
            return web.Response(status=404, text="Not found.")
        content_type = CONTENT_TYPES[match.group(1)]
        config = self.s.config
        if config.one_time_links and request.method == "GET":
            link = (path, request.query.get("sig", ""))
            if link in self.s.served_once:
                return web.Response(status=410, text="This link has been used.")
            self.s.served_once.add(link)
        headers = {"Content-Type": content_type}
        status = 200
        if config.cdn_ranges and not config.cdn_gzip:  # like a storage CDN: Range: bytes=N- is honoured
            headers["Accept-Ranges"] = "bytes"
            start = _range_start(request.headers.get("Range", ""))
            if start is not None and start >= len(data):
                record["status"] = 416
                return web.Response(status=416, headers={"Content-Range": f"bytes */{len(data)}"})
            if start is not None:
                status, headers["Content-Range"] = 206, f"bytes {start}-{len(data) - 1}/{len(data)}"
                data = data[start:]
        record["status"] = status
        if request.method == "GET" and self.s.dice.hit(config.truncate_rate):
            self.s.count_fault("truncate")
            return await _truncated(request, data, headers, status, record)
        if config.cdn_gzip:
            data = gzip.compress(data)
            headers["Content-Encoding"] = "gzip"
        if config.cdn_rate is not None and request.method == "GET":
            return await _trickle(request, data, headers, config.cdn_rate, status, record)
        record["sent"] = len(data) if request.method == "GET" else 0
        return web.Response(body=data, headers=headers, status=status)


def _range_start(value: str) -> int | None:
    """N of ``bytes=N-`` (the one form a resuming client sends); None for no Range or another form."""
    match = _RANGE.match(value)
    return int(match.group(1)) if match else None


async def _trickle(
    request: web.Request, data: bytes, headers: dict[str, str], rate: float, status: int, record: dict[str, Any],
) -> web.StreamResponse:
    """Send ``data`` at about ``rate`` bytes a second (a CDN on a dying link); ends early if the client goes."""
    response = web.StreamResponse(headers=headers, status=status)
    response.content_length = len(data)
    await response.prepare(request)
    step = max(1, int(rate / 10))
    for start in range(0, len(data), step):
        try:
            await response.write(data[start : start + step])
        except (ConnectionError, RuntimeError):
            return response
        record["sent"] += len(data[start : start + step])
        await asyncio.sleep(step / rate)
    return response


async def _truncated(
    request: web.Request, data: bytes, headers: dict[str, str], status: int, record: dict[str, Any],
) -> web.StreamResponse:
    """Promise the whole body in Content-Length, send half of it, then hang up."""
    response = web.StreamResponse(headers=headers, status=status)
    response.content_length = len(data)
    await response.prepare(request)
    half = data[: max(1, len(data) // 2)]
    await response.write(half)
    record["sent"] = len(half)
    if request.transport is not None:
        request.transport.close()  # close() flushes what was written, then disconnects
    return response
