"""The TLS context of the shared HTTP client, built ahead of time on a thread.

Loading certifi's CA bundle takes 20-30 ms, all of it in OpenSSL's C code, which releases the GIL. The
TUI calls :func:`warm_up` first thing, so the bundle loads on the second core while Python imports
Textual, and the HTTP client is ready the moment the history is (instead of the start-up waiting for
it). It is exactly the context httpx builds for ``verify=True`` without ``trust_env``.

This module imports nothing heavy (not httpx) so it can run before everything else.
"""

from __future__ import annotations

import ssl
import threading
from concurrent.futures import Future

_pending: Future[ssl.SSLContext] | None = None
_lock = threading.Lock()


def build() -> ssl.SSLContext:
    """A verifying client context with certifi's CA bundle (what ``httpx`` uses by default)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def warm_up() -> None:
    """Start building the context on a daemon thread (once); :func:`context` collects it."""
    global _pending
    with _lock:
        if _pending is not None:
            return
        future: Future[ssl.SSLContext] = Future()
        _pending = future

    def run() -> None:
        try:
            future.set_result(build())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the context
            future.set_exception(exc)

    import certifi  # noqa: F401  (imported here, on the calling thread: no import runs on the helper)

    threading.Thread(target=run, name="tls-warm-up", daemon=True).start()


def context() -> ssl.SSLContext:
    """The warmed-up context when there is one (waiting for it if needed), else a fresh one.

    A failed warm-up is not trusted: the context is built again here, so the error (a broken CA
    bundle, say) reaches the caller as it would have without the warm-up.
    """
    with _lock:
        future = _pending
    if future is not None:
        try:
            return future.result()
        except Exception:  # noqa: BLE001
            pass
    return build()
