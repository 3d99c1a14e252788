"""The second origin: a storage CDN that serves the generated files, as RunComfy's output URLs do.

It is a separate host:port on purpose: the client must never send the API token there, and every request's
headers are kept in ``cdn_requests`` so tests can prove it.
"""

from __future__ import annotations

import asyncio
import gzip
import re
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from seedream_tui.fake.badoutput import bad_file_answer, rewrites_urls
from seedream_tui.fake.images import CONTENT_TYPES

if TYPE_CHECKING:
    from seedream_tui.fake.server import FakeServer

_NAME = re.compile(r"^\d{1,3}\.(png|jpeg|jpg|webp|mp4)$")


class CdnRoutes:
    def __init__(self, server: FakeServer) -> None:
        self.s = server

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/files/{request_id}/{name}", self.file)

    async def file(self, request: web.Request) -> web.StreamResponse:
        self.s.cdn_requests.append(
            {
                "method": request.method,
                "path": request.path_qs,
                "headers": {name.lower(): value for name, value in request.headers.items()},
            }
        )
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
        if request.method == "GET" and self.s.dice.hit(config.truncate_rate):
            self.s.count_fault("truncate")
            return await _truncated(request, data, content_type)
        headers = {"Content-Type": content_type}
        if config.cdn_gzip:
            data = gzip.compress(data)
            headers["Content-Encoding"] = "gzip"
        if config.cdn_rate is not None and request.method == "GET":
            return await _trickle(request, data, headers, config.cdn_rate)
        return web.Response(body=data, headers=headers)


async def _trickle(request: web.Request, data: bytes, headers: dict[str, str], rate: float) -> web.StreamResponse:
    """Send ``data`` at about ``rate`` bytes a second (a CDN on a dying link); ends early if the client goes."""
    response = web.StreamResponse(headers=headers)
    response.content_length = len(data)
    await response.prepare(request)
    step = max(1, int(rate / 10))
    for start in range(0, len(data), step):
        try:
            await response.write(data[start : start + step])
        except (ConnectionError, RuntimeError):
            return response
        await asyncio.sleep(step / rate)
    return response


async def _truncated(request: web.Request, data: bytes, content_type: str) -> web.StreamResponse:
    """Promise the whole file in Content-Length, send half of it, then hang up."""
    response = web.StreamResponse(headers={"Content-Type": content_type})
    response.content_length = len(data)
    await response.prepare(request)
    await response.write(data[: max(1, len(data) // 2)])
    if request.transport is not None:
        request.transport.close()  # close() flushes what was written, then disconnects
    return response
