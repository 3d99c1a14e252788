"""A tiny scripted HTTP server on 127.0.0.1:0 for protocol cases the fake RunComfy server cannot produce.

Each request gets the next canned answer (the last one repeats), and every request is recorded, so a test
can count attempts and see headers. It runs on the test's own event loop: still real loopback HTTP.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from seedream_tui.api import RunComfyClient
from seedream_tui.api.http import RetryPolicy

Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.json_response(body, status=status, headers=headers)

    return answer


def text_answer(text: str, status: int, content_type: str = "text/plain") -> Answer:
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.Response(text=text, status=status, content_type=content_type)

    return answer


def raw_answer(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, status=status, headers=headers)

    return answer


@dataclass
class Scripted:
    answers: list[Answer] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    def script(self, *answers: Answer) -> None:
        self.answers[:] = answers

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            {
                "method": request.method,
                "path": request.path_qs,
                "raw_path": request.raw_path,
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "body": await request.read(),
            }
        )
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return await answer(request)


@asynccontextmanager
async def scripted_server() -> AsyncIterator[Scripted]:
    scripted = Scripted()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", scripted.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    scripted.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield scripted
    finally:
        await runner.cleanup()


class Sleeps:
    """Injected into RunComfyClient: records each backoff delay instead of waiting; ``hook(n)`` after sleep n."""

    def __init__(self, hook: Callable[[int], None] | None = None) -> None:
        self.delays: list[float] = []
        self.hook = hook

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.hook is not None:
            self.hook(len(self.delays))


def make_client(
    base_url: str, token: str | None, sleeps: Sleeps, *, attempts: int = 5, **kw: Any
) -> RunComfyClient:
    return RunComfyClient(
        base_url, token, retry=RetryPolicy(attempts=attempts), sleep=sleeps, rng=random.Random(7), **kw
    )
