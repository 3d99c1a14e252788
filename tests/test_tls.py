"""The TLS context warm-up: the shared client verifies certificates exactly as httpx would by default."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from seedream_tui import tls
from seedream_tui.api.http import make_http_client


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls, "_pending", None)


def test_warmed_context_is_the_one_the_client_uses_and_it_verifies() -> None:
    tls.warm_up()
    tls.warm_up()  # once only
    ctx = tls.context()
    assert ctx is tls.context()
    assert ctx.verify_mode is ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] > 50  # certifi's bundle is loaded
    client = make_http_client()
    try:
        pool: Any = client._transport._pool  # type: ignore[attr-defined]
        assert pool._ssl_context is ctx
    finally:
        import asyncio

        asyncio.run(client.aclose())


def test_without_warm_up_a_context_is_built_on_demand() -> None:
    ctx = tls.context()
    assert ctx.verify_mode is ssl.CERT_REQUIRED and ctx.cert_store_stats()["x509_ca"] > 50


def test_a_failed_warm_up_is_retried_and_a_real_failure_reaches_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def broken() -> ssl.SSLContext:
        calls.append(1)
        raise ssl.SSLError("the CA bundle is unreadable")

    monkeypatch.setattr(tls, "build", broken)
    tls.warm_up()
    with pytest.raises(ssl.SSLError, match="CA bundle is unreadable"):
        tls.context()
    assert len(calls) == 2  # the warm-up's failure was not trusted: built again, failed again, raised
