"""A stand-in for a running app that the crash tests kill: ``python crash_child.py BASE_URL PREFIX COUNT``.

It opens the job core on ``$SEEDREAM_TUI_HOME`` (resuming whatever is live there), then submits COUNT jobs
one after another (prompts ``"PREFIX 0"`` ...) and polls until it is killed. It narrates on stdout, one line
per event, so the test can aim its SIGKILL:

- ``READY`` once the history is open and live jobs are resumed;
- ``STATUS <job id> <status>`` on every job change the engine records (``downloading`` marks a download start);
- ``SUBMITTED <job id> <request id>`` / ``REFUSED <error>`` per submit, then ``ALL-SUBMITTED``.

Its downloads go through a slow link (:class:`SlowTransport`: each body arrives in pieces over ~0.3 s), so
there is a real window in which a half-received image sits on disk as a ``.part`` file. The job core itself
is used exactly as the app uses it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import MODEL, open_core  # noqa: E402

from seedream_tui.api.errors import ApiError  # noqa: E402
from seedream_tui.jobs.model import Job  # noqa: E402

PIECES = 20
PAUSE = 0.015  # seconds between pieces: a body takes ~0.3 s whatever its size


class SlowStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self.inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        body = b"".join([chunk async for chunk in self.inner])
        step = max(1, -(-len(body) // PIECES))
        for start in range(0, len(body), step):
            await asyncio.sleep(PAUSE)  # the slow link, not a synchronisation
            yield body[start : start + step]

    async def aclose(self) -> None:
        await self.inner.aclose()


class SlowTransport(httpx.AsyncBaseTransport):
    """The real transport, with every response body trickling in."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code, headers=response.headers, stream=SlowStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def say(*words: object) -> None:
    print(*words, flush=True)


async def main(base_url: str, prefix: str, count: int) -> None:
    core = await open_core(base_url, start=False)
    # the downloader's client only (no redirects followed, no proxies, as make_http_client); API calls keep theirs
    core.engine.downloader.http = httpx.AsyncClient(transport=SlowTransport(), follow_redirects=False, trust_env=False)

    def narrate(job: Job) -> None:
        say("STATUS", job.id, job.status.value)

    core.subscribe(narrate)
    await core.start()
    say("READY")
    for index in range(count):
        try:
            job = await core.engine.submit(MODEL, {"prompt": f"{prefix} {index}"})
            say("SUBMITTED", job.id, job.request_id)
        except ApiError as exc:
            say("REFUSED", type(exc).__name__)
    say("ALL-SUBMITTED")
    await asyncio.Event().wait()  # keep polling until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
