"""httpx's transport, minus the per-request costs a poller pays for nothing (issue 13 §4).

Profiled on a poll loop against the fake server (8 requests in flight, 40 jobs), httpx's stock
transport spends its time, per request, on:

* connection-pool checks: before and after every request httpcore asks each pooled connection
  whether it has expired, which asks AnyIO's stream for its raw socket; AnyIO rebuilds a dict of
  every attribute of the stream on each such question (about a third of the client's CPU per poll).
  :class:`_SocketStream` looks the socket up once per connection; the check itself (a zero-timeout
  ``poll``) is unchanged, so a server that closed an idle connection is still noticed. httpcore's pool
  then made ~160 ``is_idle`` calls per request in its bookkeeping: :class:`_LinearPool` makes the same
  decisions in one pass;
* cookies: every answer goes through ``http.cookiejar`` (two urllib wrappers, a lock, a header
  scan). The API authenticates with a bearer token and sets no cookies we want;
  :class:`CookielessClient` keeps none and sends none (also one less thing that could carry state
  between hosts);
* URL parsing: ``build_request`` parses the URL string each time; the API client keeps the parsed
  URL of each job's poll address (see ``RunComfyClient._parsed``).

What stays as httpx does it: HTTP/1.1 parsing (h11), timeouts, TLS settings, keep-alive, the pool limits.
"""

# the timeout parameters are httpcore's interface (AsyncNetworkStream/Backend), passed through as they are
# ruff: noqa: ASYNC109

from __future__ import annotations

import select
import ssl
import typing
from collections.abc import Iterable

import httpcore
import httpx


def _readable(sock: typing.Any) -> bool:
    """Whether the socket has data (or EOF) waiting: an idle keep-alive connection the server closed.
    As httpcore's own check; a socket that is gone counts as readable (the pool then drops it)."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _SocketStream(httpcore.AsyncNetworkStream):
    """An AnyIO network stream that remembers its raw socket (see the module's docstring)."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _SocketStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


class _Backend(httpcore.AsyncNetworkBackend):
    """httpcore's AnyIO backend, handing out :class:`_SocketStream` s."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _SocketStream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _SocketStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)



class _LinearPool(httpcore.AsyncConnectionPool):
    """httpcore's pool, with its bookkeeping done in one pass over the connections instead of one per
    connection (see the module's docstring); the decisions are the same, in the same order."""

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        closing: list[httpcore.AsyncConnectionInterface] = []
        connections = self._connections
        for connection in list(connections):
            if connection.is_closed():
                connections.remove(connection)
            elif connection.has_expired():
                connections.remove(connection)
                closing.append(connection)
            # httpcore compares the number of *all* connections with the keep-alive limit here (its
            # ``len([c.is_idle() for c in connections])``); so does this, without the list
            elif connection.is_idle() and len(connections) > self._max_keepalive_connections:
                connections.remove(connection)
                closing.append(connection)
        for pool_request in self._requests:
            if not pool_request.is_queued():
                continue
            origin = pool_request.request.url.origin
            available = next((c for c in connections if c.can_handle_request(origin) and c.is_available()), None)
            if available is not None:
                pool_request.assign_to_connection(available)
            elif len(connections) < self._max_connections:
                connection = self.create_connection(origin)
                connections.append(connection)
                pool_request.assign_to_connection(connection)
            else:
                idle = next((c for c in connections if c.is_idle()), None)
                if idle is not None:
                    connections.remove(idle)
                    closing.append(idle)
                    connection = self.create_connection(origin)
                    connections.append(connection)
                    pool_request.assign_to_connection(connection)
        return closing


def pooled_transport(*, ssl_context: ssl.SSLContext, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's own transport (its request/response mapping and error translation), over a connection pool
    built with :class:`_Backend`."""
    transport = httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits, trust_env=False)
    # the pool is httpcore's public class, given a network backend, which httpx has no parameter for
    transport._pool = _LinearPool(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_Backend(),
    )
    return transport


class _NoCookies(httpx.Cookies):
    """Cookies that stay empty: nothing is read from an answer, nothing is added to a request."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


class CookielessClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` without cookies (see the module's docstring): httpx runs every answer through
    its cookie jar (urllib wrappers, ``http.cookiejar``) even when the jar is empty and stays so."""

    def __init__(self, **kwargs: typing.Any) -> None:
        self._no_cookies = _NoCookies()
        super().__init__(**kwargs)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: typing.Any) -> None:
        raise TypeError("this client keeps no cookies")
