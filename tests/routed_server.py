"""A loopback HTTP server in its own thread that answers by path, for commands (the CLI, a TUI screen) that
run their own event loop against real-shaped RunComfy answers the fake server does not give.

Each route is a function of the request (method, path, query, body) returning ``(status, body)``: a body
that is bytes is sent as it is, anything else as JSON. Every request is recorded.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: bytes


Route = Callable[[Call], tuple[int, Any]]


@dataclass
class Routed:
    routes: dict[str, Route]
    seen: list[Call] = field(default_factory=list)
    base_url: str = ""

    def calls(self, method: str, path: str) -> list[Call]:
        return [c for c in self.seen if c.method == method and c.path == path]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        call = Call(request.method, request.path, dict(request.query), await request.read())
        self.seen.append(call)
        route = self.routes.get(f"{request.method} {request.path}") or self.routes.get(request.path)
        if route is None:
            return web.json_response({"error_message": f"nothing at {request.path}"}, status=404)
        status, body = route(call)
        if isinstance(body, bytes):
            return web.Response(body=body, status=status)
        return web.Response(text=json.dumps(body), status=status, content_type="application/json")


@contextmanager
def routed_server(routes: dict[str, Route]) -> Iterator[Routed]:
    """Serve ``routes`` ("GET /v1/models" or just "/v1/models") on 127.0.0.1 until the block ends."""
    routed = Routed(routes)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner_box: list[web.AppRunner] = []

    async def start() -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", routed.handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        routed.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        runner_box.append(runner)

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="routed-server", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the routed test server did not start")
    try:
        yield routed
    finally:
        asyncio.run_coroutine_threadsafe(runner_box[0].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
