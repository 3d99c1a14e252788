"""Issue 13 §4: the shared HTTP client's cheaper transport keeps what the stock one does.

Real HTTP on loopback: a keep-alive connection the server closed while idle is noticed by the pool
check (the request goes out on a new connection, no error), and no cookie is ever kept or sent back.
"""

from __future__ import annotations

import asyncio

from seedream_tui.api.http import make_http_client


async def _serve(close_after_answer: bool, seen: list[bytes], closed: asyncio.Event) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # one request after another on the connection (keep-alive)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            seen.append(head)
            body = b'{"ok": true}'
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nSet-Cookie: session=abc; Path=/\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
            if close_after_answer:  # keep-alive promised (no "Connection: close"), then dropped while idle
                writer.close()
                await writer.wait_closed()
                closed.set()
                return

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def test_an_idle_connection_the_server_closed_is_replaced_not_failed() -> None:
    seen: list[bytes] = []
    closed = asyncio.Event()
    server = await _serve(True, seen, closed)
    port = server.sockets[0].getsockname()[1]
    async with server, make_http_client() as http:
        first = await http.get(f"http://127.0.0.1:{port}/a")
        assert first.status_code == 200
        await asyncio.wait_for(closed.wait(), 10)
        second = await http.get(f"http://127.0.0.1:{port}/b")
        assert second.status_code == 200 and second.json() == {"ok": True}
    assert len(seen) == 2


async def test_no_cookie_is_kept_or_sent_back() -> None:
    seen: list[bytes] = []
    server = await _serve(False, seen, asyncio.Event())
    port = server.sockets[0].getsockname()[1]
    async with server, make_http_client() as http:
        await http.get(f"http://127.0.0.1:{port}/a")
        await http.get(f"http://127.0.0.1:{port}/b")
        assert not list(http.cookies.jar) and not http.cookies
    assert len(seen) == 2 and b"cookie:" not in seen[1].lower()
