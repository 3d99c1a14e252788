"""RunComfy protocol client (no Textual here).

The names below load on first use (PEP 562), so ``from seedream_tui.api.errors import ApiError`` does not
import httpx: the command line and the TUI's first frame do not need it yet.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seedream_tui.api.client import RunComfyClient
    from seedream_tui.api.errors import ApiError
    from seedream_tui.api.http import RetryPolicy, make_http_client
    from seedream_tui.api.types import CancelResult, RemoteStatus, RequestState, SubmitResult

_WHERE = {
    "ApiError": "errors",
    "CancelResult": "types",
    "RemoteStatus": "types",
    "RequestState": "types",
    "RetryPolicy": "http",
    "RunComfyClient": "client",
    "SubmitResult": "types",
    "make_http_client": "http",
}

__all__ = [
    "ApiError",
    "CancelResult",
    "RemoteStatus",
    "RequestState",
    "RetryPolicy",
    "RunComfyClient",
    "SubmitResult",
    "make_http_client",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
