"""Typed API errors, each carrying a sentence a user understands.

``str(err)`` is always that sentence; it never contains the token.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One invalid input field as the server (or our validator) reported it."""

    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ApiError(Exception):
    """Base of every failure talking to RunComfy.

    ``retryable`` says whether repeating the *same idempotent* call may succeed.
    """

    retryable: bool = False
    #: process exit code family used by the CLI
    exit_code: int = 1
    #: what the server's answer itself said (its error message), when it said anything
    server_message: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_code: int | None = None,
        detail: object = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error_code = error_code
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class AuthError(ApiError):
    """Token missing, expired or revoked, or the account is inactive (400004 / 401)."""

    exit_code = 4


class ForbiddenError(ApiError):
    """The request belongs to another user (403001)."""

    exit_code = 4


class BalanceError(ApiError):
    """No balance left (400002 / 402)."""

    exit_code = 4


class BadModelError(ApiError):
    """Malformed or unknown model id (400001)."""

    exit_code = 2


class InvalidInputError(ApiError):
    """The input does not match the model's schema (400 / 422)."""

    exit_code = 2

    def __init__(self, message: str, *, fields: list[FieldError] | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.fields: list[FieldError] = list(fields or [])


class RefusedError(ApiError):
    """A definite refusal with no other meaning (413 too large, 405, 409, 410 …): the server answered, so
    a submit refused this way created nothing; sending the same again cannot help."""

    exit_code = 2


class NotFoundError(ApiError):
    """Request id unknown, deleted or expired (404001)."""

    exit_code = 5


class RateLimitedError(ApiError):
    """HTTP 429. ``retry_after`` in seconds when the server said so."""

    retryable = True
    exit_code = 3

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx from RunComfy. ``retry_after`` in seconds when the server said so (503 often does)."""

    retryable = True
    exit_code = 3

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class NetworkError(ApiError):
    """The API could not be reached, or the connection dropped."""

    retryable = True
    exit_code = 3


class ApiTimeoutError(NetworkError):
    """The API did not answer in time."""


class SubmitOutcomeUnknown(NetworkError):
    """A submit was sent but no answer came back: the job may or may not exist.

    Submit has no idempotency key, so it is never retried blindly. Its exit code is the job one (5), not
    "network trouble" (3): a script that retries on 3 would pay twice for a job that may exist.
    """

    retryable = False
    exit_code = 5


class ProtocolError(ApiError):
    """The answer could not be understood (not JSON, wrong shape)."""

    retryable = True
    exit_code = 3


class EmptyAnswer(ProtocolError):
    """A 2xx answer with no body at all: an error for every call but cancel (RunComfy's CLI takes an
    empty cancel answer as "accepted")."""


class DownloadError(ApiError):
    """An output file could not be fetched or is not a valid image.

    ``kind`` says what retrying can do: "network" (the CDN is unreachable: wait and
    retry, however long), "integrity" (a cut-short or garbled file: retry a few times),
    "permanent" (a refused URL, an oversized file, not an image: retrying cannot help),
    "local" (this machine could not store it: disk full, unusable folder; wait and retry, the
    paid image is not given up).
    """

    retryable = True
    exit_code = 3

    def __init__(self, message: str, *, kind: str = "integrity", **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.kind = kind
        self.retryable = kind != "permanent"
