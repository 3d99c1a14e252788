"""httpcore's network stream on asyncio's own transports, without AnyIO in between (issue 13 §4).

With 40 jobs running, the shared client's CPU went mostly to what wraps each socket read and write
rather than to HTTP itself. AnyIO's asyncio stream pays, per read, two ``epoll_ctl`` calls (it resumes
reading on the transport before it waits and pauses it after), an ``asyncio.Event``, and a cancel
scope with its own timer for httpcore's per-operation timeout; per write, a cancellation checkpoint
and another cancel scope. Here a :class:`asyncio.Protocol` reads all the time into a buffer (paused
only when a large download outruns its reader), a read that finds data waiting returns it at once,
and a timer is set only when a read or write really has to wait.

What stays as it was: httpcore's connection pool, h11, httpx's models and error mapping (the stream
raises httpcore's own ``ReadTimeout``/``ReadError``/``WriteError``/``ConnectError``... as AnyIO's did),
TLS with the same context (asyncio's ``start_tls``), TCP_NODELAY (asyncio's default) and the idle
connection check (data or EOF waiting, in the buffer or still on the socket).
"""

# the timeout parameters are httpcore's interface (AsyncNetworkStream/Backend), passed through as they are
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import select
import ssl
import typing
from collections.abc import Iterable

import httpcore

#: a reader this far behind pauses the socket (a big download whose file writes lag)
_HIGH_WATER = 1024 * 1024


def _readable(sock: typing.Any) -> bool:
    """Whether the socket has data (or EOF) waiting, as httpcore's own check; a socket that is gone
    counts as readable (the pool then drops the connection)."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Protocol(asyncio.Protocol):
    """Buffers what arrives and wakes the one reader (HTTP/1.1: one request at a time per connection)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.lost = False
        self.error: BaseException | None = None
        self.reader: asyncio.Future[None] | None = None
        self.drained: asyncio.Future[None] | None = None
        self.paused = False  # reading paused by us (flow control)
        self.write_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _HIGH_WATER and self.transport is not None and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.error = exc
        self._wake_reader()
        self.write_paused = False
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    async def wait(self, which: str, timeout: float | None, timeout_error: type[Exception]) -> None:
        """Wait for data (``which`` = "reader") or for the send buffer to drain ("drained")."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        setattr(self, which, future)
        try:
            await _wait(future, timeout, timeout_error)
        finally:
            setattr(self, which, None)

    def _wake_reader(self) -> None:
        if self.reader is not None and not self.reader.done():
            self.reader.set_result(None)


async def _wait(future: asyncio.Future[None], timeout: float | None, timeout_error: type[Exception]) -> None:
    """Await ``future``; after ``timeout`` seconds raise ``timeout_error`` instead (one timer, only here)."""
    if timeout is None:
        await future
        return
    loop = asyncio.get_running_loop()
    timer = loop.call_later(timeout, future.cancel)
    try:
        await future
    except asyncio.CancelledError:
        if timer.cancelled() or loop.time() < timer.when():
            raise  # cancelled from outside (the caller's own deadline), not by our timer
        raise timeout_error(f"timed out after {timeout} s") from None
    finally:
        timer.cancel()


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One TCP (or TLS) connection for httpcore, on an asyncio transport."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol, sock: typing.Any) -> None:
        self._transport = transport
        self._protocol = protocol
        self._socket = sock

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.buffer and not protocol.eof and not protocol.lost:
            await protocol.wait("reader", timeout, httpcore.ReadTimeout)
        if protocol.buffer:
            chunk = bytes(protocol.buffer[:max_bytes])
            del protocol.buffer[:max_bytes]
            if protocol.paused and len(protocol.buffer) < _HIGH_WATER // 4:
                protocol.paused = False
                self._transport.resume_reading()
            return chunk
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__) from protocol.error
        return b""  # the end of the stream (EOF, or closed without an error), as AnyIO reports it to httpcore

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if protocol.lost or self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        try:
            self._transport.write(buffer)
        except (OSError, RuntimeError) as exc:
            raise httpcore.WriteError(str(exc)) from exc
        if protocol.write_paused:
            await protocol.wait("drained", timeout, httpcore.WriteTimeout)
            if protocol.lost:
                raise httpcore.WriteError("the connection was closed while sending")

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname,
                    ssl_handshake_timeout=timeout,
                )
        except TimeoutError as exc:
            self._transport.abort()
            raise httpcore.ConnectTimeout(str(exc) or "the TLS handshake timed out") from exc
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            self._transport.abort()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:  # the connection closed during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        self._protocol.transport = transport
        return AsyncioStream(transport, self._protocol, self._socket)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            protocol = self._protocol
            return bool(protocol.buffer) or protocol.eof or protocol.lost or _readable(self._socket)
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._socket
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend on asyncio's transports (see the module's docstring)."""

    def __init__(self) -> None:
        self._fallback = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Protocol, host, port, local_addr=(local_address, 0) if local_address else None,
                    happy_eyeballs_delay=0.25,  # as AnyIO's connect_tcp (RFC 8305)
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc) or f"connecting to {host}:{port} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(typing.cast(asyncio.Transport, transport), protocol, sock)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return await self._fallback.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
