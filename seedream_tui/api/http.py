"""The one shared ``httpx.AsyncClient`` and the retry policy.

The client carries no default ``Authorization`` header: the API client adds it per
request, only for URLs on the API origin, so downloads from the storage CDN never
see the token. Redirects are never followed automatically for the same reason.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

import httpx

from seedream_tui import __version__, tls
from seedream_tui.api.transport import CookielessClient, pooled_transport

#: official clients use 10 s connect, 20-60 s per call
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=30.0)
USER_AGENT = f"seedream-tui/{__version__}"


def make_http_client(
    *, timeout: httpx.Timeout = DEFAULT_TIMEOUT, max_connections: int = 16, max_keepalive: int = 8
) -> httpx.AsyncClient:
    """The shared client. A small keep-alive pool: httpcore checks every pooled connection
    on each request, so a big idle pool costs CPU on every poll (the engine caps requests
    in flight at 8 anyway). The TLS context may already be built (see :mod:`seedream_tui.tls`)."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive)
    return CookielessClient(  # the API sets no cookie we want; a jar costs on every answer
        transport=pooled_transport(ssl_context=tls.context(), limits=limits),  # cheaper pool checks
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        trust_env=False,
    )


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter for idempotent calls."""

    attempts: int = 5
    base: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    #: never wait longer than this for a server's Retry-After
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.cap, self.base * self.factor ** (attempt - 1))
        return (rng or random).uniform(ceiling / 2, ceiling)


NO_RETRY = RetryPolicy(attempts=1)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)
