"""RunComfy protocol client (no Textual here)."""

from seedream_tui.api.client import RunComfyClient
from seedream_tui.api.errors import ApiError
from seedream_tui.api.http import RetryPolicy, make_http_client
from seedream_tui.api.types import CancelResult, RemoteStatus, RequestState, SubmitResult

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
