"""The RunComfy Model API client: submit, status, result, cancel, model detail.

One shared ``httpx.AsyncClient``; the token is added per request for the API origin
only. Idempotent calls (GETs, cancel) retry with exponential backoff and jitter,
honouring ``Retry-After``; submit never retries by itself (no idempotency key).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from seedream_tui.api.errors import (
    ApiError,
    ApiTimeoutError,
    AuthError,
    BadModelError,
    EmptyAnswer,
    FieldError,
    InvalidInputError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RefusedError,
    ServerError,
    SubmitOutcomeUnknown,
)
from seedream_tui.api.http import DEFAULT_TIMEOUT, RetryPolicy, make_http_client, parse_retry_after
from seedream_tui.api.parse import error_from_answer, model_entries, parse_cancel, parse_state
from seedream_tui.api.types import CancelResult, RequestState, SubmitResult
from seedream_tui.config import RUNCOMFY_HOSTS, host_allowed, is_loopback_host
from seedream_tui.safetext import hide_secret

log = logging.getLogger(__name__)

#: API answers are small JSON; anything bigger is refused rather than buffered
MAX_API_BODY = 4 * 1024 * 1024

Sleep = Callable[[float], Awaitable[None]]
#: a submit answered with these may still have created the job (see ``submit``)
GATEWAY_STATUSES = frozenset({502, 504})
#: what replaces the token if a server echoes it back in an error
REDACTED = "[token hidden]"


class RunComfyClient:
    """One object per API origin and token; safe to share between concurrent tasks."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        http: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        total_timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        #: no call takes longer than this in all, however slowly the answer trickles in (the httpx
        #: timeouts are per read, so a server sending a byte a second would otherwise hold it for hours)
        self.total_timeout = total_timeout
        self._origin = _origin(self.base_url)
        self._token = token
        self._own_http = http is None
        self.http = http or make_http_client(timeout=DEFAULT_TIMEOUT)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        #: parsed URLs by text: a job's poll address is asked for again and again, and httpx parses a
        #: URL given as text on every request (kept small: cleared when it grows past a few thousand)
        self._parsed: dict[str, httpx.URL] = {}

    def set_base_url(self, base_url: str) -> None:
        """Point the client at another API origin (the demo server, once it has started)."""
        self.base_url = base_url.rstrip("/")
        self._origin = _origin(self.base_url)

    @property
    def _base_path(self) -> str:
        """The base URL's own path ("" for RunComfy's), in front of every /v1/... path."""
        return urlsplit(self.base_url).path.rstrip("/")

    def for_base_url(self, base_url: str) -> RunComfyClient:
        """A client for another API origin (a job submitted to a base URL used before), sharing this one's
        HTTP client. The token goes with it only to RunComfy's own https hosts or loopback: a job made
        against some other origin is asked without it (an auth error keeps it waiting, with the sentence)."""
        parts = urlsplit(base_url)
        host = parts.hostname or ""
        trusted = (parts.scheme == "https" and host_allowed(host, RUNCOMFY_HOSTS)) or is_loopback_host(host)
        client = RunComfyClient(base_url, self._token if trusted else None, http=self.http, retry=self.retry,
                                sleep=self._sleep, rng=self._rng, total_timeout=self.total_timeout)
        return client

    # ----------------------------------------------------------------- token
    def set_token(self, token: str | None) -> None:
        self._token = token

    @property
    def has_token(self) -> bool:
        return bool(self._token)

    def __repr__(self) -> str:  # never show the token
        return f"RunComfyClient(base_url={self.base_url!r}, token={'set' if self._token else 'unset'})"

    async def aclose(self) -> None:
        """Close the HTTP client if this object made it; a shared one belongs to its owner."""
        if self._own_http:
            await self.http.aclose()

    async def __aenter__(self) -> RunComfyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    # ------------------------------------------------------------ endpoints
    async def submit(self, model_id: str, inputs: dict[str, Any]) -> SubmitResult:
        """POST the input; never retried here. A lost answer raises SubmitOutcomeUnknown."""
        try:
            body = await self._call("POST", self.model_url(model_id), json_body=inputs, idempotent=False)
        except (NotFoundError, BadModelError) as exc:
            raise _unknown_model(model_id, exc) from None
        except ServerError as exc:
            # 502/504 come from a gateway in front of RunComfy: the origin may have taken the job before the
            # gateway gave up on its answer. (500 and 503 are the origin's own "not done"/"not now".)
            if exc.status_code in GATEWAY_STATUSES:
                raise SubmitOutcomeUnknown(
                    f"RunComfy's gateway answered HTTP {exc.status_code} to the submit: the job may have been "
                    "created. Check the RunComfy dashboard before submitting again.",
                    status_code=exc.status_code,
                ) from None
            raise
        except ApiError as exc:
            code = exc.status_code
            if type(exc) in (RefusedError, ProtocolError, ApiError) and code is not None and 400 <= code < 500:
                # an answer that refuses (413 too large, 405, 409, 410 …): nothing was created
                raise _refused(exc) from None
            if isinstance(exc, ProtocolError) and not isinstance(exc, SubmitOutcomeUnknown):
                # a 2xx we could not read: the job may exist
                raise _unknown() from None
            raise
        if not isinstance(body, dict) or not isinstance(body.get("request_id"), str) or not body["request_id"]:
            raise SubmitOutcomeUnknown(
                "RunComfy accepted the submit but its answer had no request id: check the RunComfy dashboard."
            )

        def url(key: str) -> str | None:
            value = body.get(key)
            return value if isinstance(value, str) else None

        return SubmitResult(body["request_id"], url("status_url"), url("result_url"), url("cancel_url"), raw=body)

    async def status(self, request_id: str, *, retry: RetryPolicy | None = None) -> RequestState:
        body = await self._call("GET", self.request_url(request_id, "status"), retry=retry)
        return parse_state(body, request_id)

    async def result(
        self, request_id: str, *, include_cost: bool = False, retry: RetryPolicy | None = None
    ) -> RequestState:
        """The outputs once done; before that the current state, so it is safe to poll."""
        # the query is part of the URL text (not ``params``): httpx parses a URL again whenever params are
        # merged into it, while a whole URL is parsed once and kept (see ``_url``)
        url = self.request_url(request_id, "result") + ("?include_cost=true" if include_cost else "")
        body = await self._call("GET", url, retry=retry)
        return parse_state(body, request_id)

    async def cancel(self, request_id: str, *, retry: RetryPolicy | None = None) -> CancelResult:
        body = await self._call("POST", self.request_url(request_id, "cancel"), retry=retry, accept_empty=True)
        return parse_cancel(body, request_id)

    async def model_detail(self, model_id: str) -> dict[str, Any]:
        try:
            body = await self._call("GET", self.model_url(model_id))
        except (NotFoundError, BadModelError) as exc:
            raise _unknown_model(model_id, exc) from None
        if not isinstance(body, dict):
            raise ProtocolError("RunComfy's model detail was not a JSON object.")
        return body

    async def list_models(
        self,
        *,
        search: str | None = None,
        category: str | None = None,
        kind: str | None = None,
        include_schema: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        """One page of ``GET /v1/models`` (``{"models": [...], "total": N}`` as RunComfy's clients read it)."""
        params = {"limit": str(limit), "offset": str(offset)}
        for key, value in (("search", search), ("category", category), ("kind", kind)):
            if value:
                params[key] = value
        if include_schema:
            params["include_schema"] = "true"
        body = await self._call("GET", f"{self.base_url}/v1/models", params=params)
        entries = model_entries(body)
        if entries is None:
            if isinstance(body, dict) and body.get("total") in (0, None) and not any(
                    isinstance(v, list) for v in body.values()):
                entries = []  # an empty catalog may say nothing at all
            else:
                raise ProtocolError("RunComfy's model list held no list of models (expected them under "
                                    "\"models\"); the catalog cannot be read.")
        return {**body, "models": entries} if isinstance(body, dict) else {"models": entries}

    async def model_categories(self) -> list[str]:
        """``GET /v1/models/categories``: the category names, as strings."""
        body = await self._call("GET", f"{self.base_url}/v1/models/categories")
        raw = body.get("categories") if isinstance(body, dict) else body
        if not isinstance(raw, list):
            raise ProtocolError("RunComfy's category list was not the expected JSON object.")
        names = [item.get("name", item.get("id")) if isinstance(item, dict) else item for item in raw]
        return [name for name in names if isinstance(name, str) and name]

    # ---------------------------------------------------------------- urls
    def model_url(self, model_id: str) -> str:
        segments = [_segment(s) for s in model_id.strip("/").split("/") if s]
        return f"{self.base_url}/v1/models/" + "/".join(segments)

    def request_url(self, request_id: str, action: str) -> str:
        return f"{self.base_url}/v1/requests/{_segment(request_id)}/{action}"

    # ------------------------------------------------------------ plumbing
    async def _call(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool = True,
        retry: RetryPolicy | None = None,
        accept_empty: bool = False,
    ) -> Any:
        """The decoded answer; ``accept_empty``: None for a 2xx without a body (instead of an error)."""
        policy = retry or self.retry
        attempts = policy.attempts if idempotent else 1
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._once(method, url, json_body=json_body, params=params, idempotent=idempotent)
            except ApiError as exc:
                if accept_empty and isinstance(exc, EmptyAnswer):
                    return None
                _redact(exc, self._token)
                if isinstance(exc, NotFoundError) and not _path(url).startswith(f"{self._base_path}/v1/requests/"):
                    # "unknown or expired" is about a request; anywhere else a 404 says only that nothing is there
                    exc.message = f"RunComfy has nothing at {_path(url)} (HTTP 404)."
                    exc.args = (exc.message,)
                if not exc.retryable or attempt >= attempts:
                    log.warning("%s %s failed: %s", method, _path(url), exc)
                    raise
                log.info("%s %s failed (attempt %d of %d), retrying: %s", method, _path(url), attempt, attempts, exc)
                await self._sleep(policy.delay(attempt, getattr(exc, "retry_after", None), self._rng))

    async def _once(
        self, method: str, url: str, *, json_body: Any, params: dict[str, str] | None, idempotent: bool
    ) -> Any:
        if _origin(url) != self._origin:  # the token only ever goes to the API origin
            raise _final(ProtocolError("Refusing to send the API token to a host other than the API's own."))
        headers = {"Accept": "application/json"}
        content: bytes | None = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            try:
                content = json.dumps(json_body, ensure_ascii=False, allow_nan=False).encode("utf-8")
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(
                    f"The input cannot be sent as JSON ({exc}).", fields=[FieldError(None, str(exc))]
                ) from None
        try:
            # the token goes straight into httpx's Headers (whose repr hides it), never into a local
            # that a crash report listing locals (Textual's) would print
            request = self.http.build_request(
                method, self._url(url), headers={**headers, **self._auth_header()}, params=params, content=content
            )
        except UnicodeEncodeError:  # httpx sends header values as ASCII; say so instead of a traceback
            raise AuthError(
                "The API token contains characters that cannot be sent (only plain ASCII is allowed): "
                "check that it was pasted correctly."
            ) from None
        try:
            async with asyncio.timeout(self.total_timeout):
                response = await self.http.send(request, stream=True)
                try:
                    raw = await _read_capped(response)
                finally:
                    await response.aclose()
        except (httpx.TimeoutException, TimeoutError) as exc:
            # connect/pool time-outs mean nothing was sent; read/write ones (and the overall deadline) may
            # have reached the server
            if not idempotent and not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                raise _unknown() from None
            raise ApiTimeoutError("RunComfy did not answer in time; check your connection.") from None
        except (httpx.ConnectError, httpx.PoolTimeout):
            raise NetworkError(
                f"Cannot reach RunComfy at {self.base_url}: the network or the service is unreachable."
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            if not idempotent and not isinstance(exc, httpx.WriteError):
                raise _unknown() from None
            raise NetworkError("The connection to RunComfy dropped before it answered.") from None
        except httpx.HTTPError as exc:
            if not idempotent:
                raise _unknown() from None
            raise NetworkError(f"Talking to RunComfy failed: {type(exc).__name__}.") from None
        return self._interpret(response, raw)

    def _url(self, url: str) -> httpx.URL:
        parsed = self._parsed.get(url)
        if parsed is None:
            if len(self._parsed) >= 4096:
                self._parsed.clear()
            parsed = self._parsed[url] = httpx.URL(url)
        return parsed

    def _interpret(self, response: httpx.Response, raw: bytes) -> Any:
        # the token is hidden before anything reads the answer: nothing stored, cut or shown can hold it
        text = redact(raw.decode("utf-8", errors="replace"), self._token)
        try:
            body: Any = redact(json.loads(text, parse_constant=_no_constant), self._token) if text.strip() else None
        except (ValueError, RecursionError):  # not JSON, or nested deeper than any real answer
            body = None
        code = response.status_code
        if 200 <= code < 300:
            if isinstance(body, dict) and body.get("error_code") not in (None, 0, "0", ""):
                return_code = _status_for_error_code(body.get("error_code"))
                raise error_from_answer(return_code, body)
            if body is None:
                if not text.strip():
                    raise EmptyAnswer("RunComfy's answer was empty; it may be having trouble.")
                raise ProtocolError("RunComfy's answer was not JSON; it may be having trouble.")
            return body
        if 300 <= code < 400:
            raise _final(
                ProtocolError(f"RunComfy answered with a redirect (HTTP {code}), which this app does not follow.")
            )
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise error_from_answer(code, body, text=text, retry_after=retry_after)


def _unknown() -> SubmitOutcomeUnknown:
    return SubmitOutcomeUnknown(
        "The submit was sent but RunComfy's answer was lost: the job may exist. "
        "Check the RunComfy dashboard before submitting again."
    )


def _refused(exc: ApiError) -> RefusedError:
    """A submit answered with a definite 4xx: say it was refused, why, and that nothing was created."""
    said = f": {exc.server_message.rstrip('. ')}" if exc.server_message else ""
    if exc.status_code == 413:
        text = (f"RunComfy refused the submit as too large (HTTP 413{said}), so no job was created. "
                "Make the input smaller (fewer or smaller images) and submit again.")
    else:
        text = f"RunComfy refused the submit (HTTP {exc.status_code}{said}), so no job was created."
    refused = RefusedError(text, status_code=exc.status_code, error_code=exc.error_code, detail=exc.detail)
    refused.server_message = exc.server_message
    return refused


def _path(url: str) -> str:
    """The URL's path for the log (no query string, no host)."""
    return urlsplit(url).path


def _unknown_model(model_id: str, exc: ApiError) -> BadModelError:
    """A 404 (or 400 + 400001) on ``/v1/models/...`` is about the model id, never "request expired"."""
    return BadModelError(
        f"RunComfy does not know the model {model_id!r} (HTTP {exc.status_code}): check the model id "
        "(as on its RunComfy page, e.g. bytedance/seedream-5/lite/text-to-image).",
        status_code=exc.status_code, error_code=exc.error_code, detail=exc.detail,
    )


def _final(exc: ApiError) -> ApiError:
    """Mark an error that the same call would only repeat (redirects, oversized answers): no retry."""
    exc.retryable = False
    return exc


def _no_constant(name: str) -> None:
    """``NaN``/``Infinity`` are not JSON: read them as missing values."""
    return None


def redact(value: Any, token: str | None) -> Any:
    """``value`` (text, or JSON data of any depth) with every copy of the token, and every run of 8 or more
    of its characters, replaced."""
    if not token or len(token) < 4:
        return value

    def clean(item: Any) -> Any:
        if isinstance(item, str):
            return hide_secret(item, token, REDACTED)  # the whole token, or any 8 characters of it in a row
        if isinstance(item, list):
            return [clean(v) for v in item]
        if isinstance(item, dict):
            return {clean(k): clean(v) for k, v in item.items()}
        return item

    try:
        return clean(value)
    except RecursionError:  # deeper than any real answer: keep nothing of it
        return None


def _redact(exc: ApiError, token: str | None) -> None:
    """Hide the token if a server echoed it back (message, args, detail, field errors)."""
    if not token or len(token) < 4:
        return

    def clean(value: Any) -> Any:
        return redact(value, token)

    exc.message = clean(exc.message)
    exc.args = tuple(clean(a) for a in exc.args)
    exc.detail = clean(exc.detail)
    exc.server_message = clean(exc.server_message)
    fields = getattr(exc, "fields", None)
    if isinstance(fields, list):
        exc.fields = [FieldError(clean(f.field), clean(f.message)) for f in fields]  # type: ignore[attr-defined]


def _segment(value: str) -> str:
    """One path segment, percent-encoded; "." and ".." are escaped so they cannot climb the path."""
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def _status_for_error_code(code: Any) -> int:
    try:
        value = int(code)
    except (TypeError, ValueError):
        return 400
    head = value // 1000
    return head if 400 <= head < 600 else 400


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return (parts.scheme, (parts.hostname or "").lower(), port)


async def _read_capped(response: httpx.Response, limit: int = MAX_API_BODY) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _final(ProtocolError("RunComfy's answer was far larger than expected; it was not read."))
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _final(ProtocolError("RunComfy's answer was far larger than expected; it was not read."))
        chunks.append(chunk)
    return b"".join(chunks)
