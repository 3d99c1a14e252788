"""Issue 13 §4: httpcore on asyncio's own transports keeps what the AnyIO stream did.

Real sockets on loopback: TLS is verified (a certificate the context does not trust is refused) and
works across keep-alive requests; a large body arrives whole although the stream pauses the socket when
its reader lags; a server that never answers is a read time-out and a closed port a connect error, as
httpx names them.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedream_tui.api.http import make_http_client
from seedream_tui.api.netstream import _HIGH_WATER, _Protocol
from seedream_tui.api.transport import CookielessClient, pooled_transport

BIG = 3 * 1024 * 1024 + 17


def _client(ctx: ssl.SSLContext, **kw: Any) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    return CookielessClient(transport=pooled_transport(ssl_context=ctx, limits=limits), **kw)


async def _serve(ssl_ctx: ssl.SSLContext | None, connections: list[int]) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            body = bytes(range(256)) * (BIG // 256) + b"x" * (BIG % 256) if b"GET /big" in head else b"hello"
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()

    return await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ssl_ctx)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("cert")
    key, crt = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True)
    return crt, key


async def test_tls_is_verified_and_kept_alive(cert: tuple[Path, Path]) -> None:
    crt, key = cert
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(crt, key)
    connections: list[int] = []
    server = await _serve(server_ctx, connections)
    port = server.sockets[0].getsockname()[1]
    trusting = ssl.create_default_context(cafile=str(crt))
    async with server, _client(trusting) as http:
        for _ in range(3):
            answer = await http.get(f"https://127.0.0.1:{port}/small")
            assert answer.status_code == 200 and answer.content == b"hello"
        big = await http.get(f"https://127.0.0.1:{port}/big")
        assert len(big.content) == BIG and big.content[:256] == bytes(range(256))
        assert len(connections) == 1  # one TLS connection for every request
        async with make_http_client() as stock:  # the real context does not trust this certificate
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await stock.get(f"https://127.0.0.1:{port}/small")


async def test_a_large_body_arrives_whole_over_plain_tcp() -> None:
    connections: list[int] = []
    server = await _serve(None, connections)
    port = server.sockets[0].getsockname()[1]
    async with server, _client(ssl.create_default_context()) as http:
        async with http.stream("GET", f"http://127.0.0.1:{port}/big") as response:
            received = bytearray()
            async for chunk in response.aiter_raw():
                received += chunk
                await asyncio.sleep(0)  # a reader slower than the socket
        assert len(received) == BIG and received[-1:] == b"x"
        assert (await http.get(f"http://127.0.0.1:{port}/small")).content == b"hello"


async def test_silence_is_a_read_timeout_and_a_closed_port_a_connect_error() -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads the request, never answers

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, _client(ssl.create_default_context(), timeout=httpx.Timeout(0.2)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"http://127.0.0.1:{port}/")
    async with _client(ssl.create_default_context()) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{_closed_port()}/")


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Transport:
    def __init__(self) -> None:
        self.paused = 0
        self.resumed = 0

    def pause_reading(self) -> None:
        self.paused += 1

    def resume_reading(self) -> None:
        self.resumed += 1

    def is_closing(self) -> bool:
        return False


async def test_a_lagging_reader_pauses_the_socket_and_resumes_it() -> None:
    from seedream_tui.api.netstream import AsyncioStream

    protocol = _Protocol()
    transport = _Transport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    stream = AsyncioStream(transport, protocol, None)  # type: ignore[arg-type]
    for _ in range(3):
        protocol.data_received(b"a" * (_HIGH_WATER // 2))
    assert transport.paused == 1  # once over the mark, not once per chunk
    read = bytearray()
    while len(read) < 3 * (_HIGH_WATER // 2):
        read += await stream.read(64 * 1024)
    assert transport.resumed == 1 and len(read) == 3 * (_HIGH_WATER // 2)
    protocol.eof_received()
    assert await stream.read(10) == b""
