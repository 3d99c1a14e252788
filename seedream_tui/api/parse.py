"""Reading RunComfy answers liberally: error bodies of any shape, states, outputs."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from seedream_tui.api.errors import (
    ApiError,
    AuthError,
    BadModelError,
    BalanceError,
    FieldError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RefusedError,
    ServerError,
)
from seedream_tui.api.types import CancelResult, RemoteStatus, RequestState, normalize_status

_MAX_MESSAGE = 500


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def error_text(value: Any) -> str | None:
    """A readable sentence from an error value of unknown shape (string, object, list)."""
    if value is None:
        return None
    if isinstance(value, str):
        return _short(value) or None
    if isinstance(value, dict):
        for key in ("error_message", "message", "msg", "error", "detail", "reason"):
            if key in value and value[key] not in (None, "", [], {}):
                return error_text(value[key])
        return _short(json.dumps(value, ensure_ascii=False))
    if isinstance(value, list):
        parts = [t for t in (error_text(v) for v in value) if t]
        return _short("; ".join(parts)) or None
    return _short(str(value))


def field_errors(detail: Any) -> list[FieldError]:
    """Field errors from a FastAPI/pydantic-style ``detail`` list (``loc`` + ``msg``), if any."""
    out: list[FieldError] = []
    if isinstance(detail, dict):
        detail = [detail]
    if not isinstance(detail, list):
        return out
    for item in detail:
        if isinstance(item, dict):
            loc = item.get("loc") or item.get("field") or item.get("path")
            if isinstance(loc, list | tuple):
                names = [str(p) for p in loc if p not in ("body", "input", "query")]
                name = ".".join(names) or None
            else:
                name = str(loc) if loc else None
            msg = error_text(item.get("msg") or item.get("message") or item.get("error")) or "is invalid"
            out.append(FieldError(name, msg))
        elif isinstance(item, str):
            out.append(FieldError(None, _short(item)))
    return out


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


#: no real queue is this long; a bigger (or negative) position is not shown as one
MAX_QUEUE_POSITION = 1_000_000


def _position(value: Any) -> int | None:
    number = _int_or_none(value)
    return number if number is not None and 0 <= number <= MAX_QUEUE_POSITION else None


def error_from_answer(
    status_code: int, body: Any, *, text: str = "", retry_after: float | None = None, what: str = "RunComfy"
) -> ApiError:
    """Map an HTTP status and body (JSON or not) to a typed error with a user sentence."""
    error = _error_from_answer(status_code, body, text=text, retry_after=retry_after, what=what)
    if error.server_message is None:
        error.server_message = error_text(body) if isinstance(body, dict | list) else None
        if error.server_message is None and text and not text.lstrip().startswith("<"):
            error.server_message = _short(text)
    return error


def _error_from_answer(
    status_code: int, body: Any, *, text: str, retry_after: float | None, what: str
) -> ApiError:
    code = _int_or_none(body.get("error_code")) if isinstance(body, dict) else None
    server_msg = error_text(body) if isinstance(body, dict | list) else None
    if server_msg is None and text and not text.lstrip().startswith("<"):
        server_msg = _short(text)
    detail = body.get("detail") if isinstance(body, dict) else None
    kw: dict[str, Any] = {"status_code": status_code, "error_code": code, "detail": detail}

    def said(prefix: str) -> str:
        return f"{prefix} ({server_msg})" if server_msg else prefix

    if code == 400004 or status_code == 401:
        return AuthError(
            said("RunComfy refused the API token: it is missing, expired or revoked, or the account is inactive."), **kw
        )
    if code == 403001:
        return ForbiddenError(said("That request belongs to another RunComfy account."), **kw)
    if status_code == 403:
        return ForbiddenError(said("RunComfy refused access to this (HTTP 403)."), **kw)
    if code == 400002 or status_code == 402:
        return BalanceError(said("Your RunComfy balance is used up: top it up to run more jobs."), **kw)
    if code == 404001 or status_code == 404:
        return NotFoundError(said("RunComfy no longer knows this request: it is unknown, deleted or expired."), **kw)
    if code == 400001:
        return BadModelError(said("RunComfy does not know this model id."), **kw)
    if status_code == 429:
        # the sentence outlives the retries, so it says what the server asked, not what we will do
        wait = f" It asked to wait {retry_after:.0f} s." if retry_after else ""
        return RateLimitedError(said("RunComfy is rate limiting requests.") + wait, retry_after=retry_after, **kw)
    if status_code >= 500:
        return ServerError(said(f"{what} had a server error (HTTP {status_code})."), retry_after=retry_after, **kw)
    if status_code == 413:
        return RefusedError(said("RunComfy refused the request as too large (HTTP 413)."), **kw)
    if status_code in (400, 422):
        fields = field_errors(detail)
        if fields:
            listed = "; ".join(str(f) for f in fields)
            return InvalidInputError(f"RunComfy refused the input: {listed}", fields=fields, **kw)
        return InvalidInputError(said("RunComfy refused the request as invalid."), **kw)
    if code is not None:
        return ApiError(said(f"RunComfy answered with error {code}."), **kw)
    return ProtocolError(said(f"RunComfy answered HTTP {status_code}, which this app does not understand."), **kw)


#: where known kinds of output live; they come first, in this order, then any other URL found
_OUTPUT_KEYS = ("image", "images", "video", "videos", "audio", "audios", "url", "urls", "file", "files")
#: keys whose string value is the output's address whatever it looks like (a bad one is refused later, said);
#: anywhere else a string is an output only when it is a link (``content_type``, ``file_name``: metadata)
_URL_KEYS = frozenset({"url", "urls", "uri", "uris", "href", "link", "download_url", "signed_url", "file_url"})
#: ``scheme://``: a link (an ``ftp://`` one is kept and refused with a sentence; ``image/png`` is no link)
_LINK = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S")
#: no real output object is deeper than this; a deeper one is not walked further
_MAX_OUTPUT_DEPTH = 32


def collect_outputs(output: Any) -> tuple[tuple[str, str], ...]:
    """Every URL in a result's ``output``, nested or not, with the key path it came under
    (``images[1]``, ``result.video.url``), known keys first, each URL once.

    As liberal as the most liberal of RunComfy's clients (its CLI takes every http(s) URL anywhere in the
    output): a model returning ``{"video": {"url": …}, "poster": …}`` keeps both. A URL is an http(s)
    string, a link under a known key (``image``, ``videos`` …), or the value of a ``url``-style key; the
    metadata beside it (``{"url": …, "content_type": "image/png", "file_name": "a.png"}``) is never one.
    """
    found: list[tuple[str, str]] = []

    def walk(value: Any, key: str, known: bool, address: bool, depth: int) -> None:
        if depth > _MAX_OUTPUT_DEPTH:
            return
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return
            if (text.lower().startswith(("http://", "https://")) or address
                    or (known and _LINK.match(text) is not None)):
                found.append((key or "output", text))
        elif isinstance(value, dict):
            names = [k for k in _OUTPUT_KEYS if k in value] + [k for k in value if k not in _OUTPUT_KEYS]
            for name in names:
                inherited = known and depth > 0  # below a known key links are outputs; not at the root
                lowered = str(name).lower()
                walk(value[name], f"{key}.{name}" if key else str(name), inherited or lowered in _OUTPUT_KEYS,
                     lowered in _URL_KEYS, depth + 1)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{key}[{i}]", known, address, depth + 1)

    walk(output, "", True, False, 0)
    seen: dict[str, str] = {}
    for key, url in found:
        seen.setdefault(url, key)
    return tuple((key, url) for url, key in seen.items())


def flatten_outputs(output: Any) -> tuple[str, ...]:
    """The output URLs in order (see :func:`collect_outputs`)."""
    return tuple(url for _key, url in collect_outputs(output))


#: where a model list may hold its entries: RunComfy's clients read ``models``; ``data``, ``items`` and
#: ``results`` are the other common envelopes
_LIST_KEYS = ("models", "data", "items", "results")


def model_entries(body: Any) -> list[Any] | None:
    """The entries of a model-list answer, under whichever envelope key holds a list (or a bare list);
    None when the answer holds no list at all."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in _LIST_KEYS:
            if isinstance(body.get(key), list):
                return list(body[key])
    return None


def _cost(value: Any) -> float | None:
    """A cost in USD: a finite, non-negative number (``"inf"``, ``NaN`` or ``-3`` are no cost at all)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | str):
        try:
            number = float(value)
        except (ValueError, OverflowError):
            return None
        return number if math.isfinite(number) and number >= 0 else None
    if isinstance(value, dict):
        for key in ("total", "amount", "cost", "usd"):
            if key in value:
                return _cost(value[key])
    return None


def parse_state(body: Any, request_id: str) -> RequestState:
    """A status or result answer. Liberal: unknown fields are kept, a missing status with outputs means done."""
    if not isinstance(body, dict):
        raise ProtocolError("RunComfy's answer about the request was not a JSON object.")
    raw_status = body.get("status")
    if raw_status is None:
        if body.get("output") or body.get("outputs"):
            status = RemoteStatus.COMPLETED
        else:
            raise ProtocolError("RunComfy's answer about the request has no status.")
    else:
        status = normalize_status(raw_status)
    outputs = flatten_outputs(body.get("output", body.get("outputs")))
    error = error_text(body.get("error")) if status is RemoteStatus.FAILED else None
    if status is RemoteStatus.FAILED and not error:
        error = "RunComfy reports the job failed without saying why."
    rid = body.get("request_id")
    return RequestState(
        request_id=rid if isinstance(rid, str) and rid else request_id,
        status=status,
        raw_status=raw_status if isinstance(raw_status, str) else None,
        queue_position=_position(body.get("queue_position")) if status is RemoteStatus.IN_QUEUE else None,
        outputs=outputs,
        error=error,
        created_at=body.get("created_at") if isinstance(body.get("created_at"), str) else None,
        finished_at=body.get("finished_at") if isinstance(body.get("finished_at"), str) else None,
        cost=_cost(body.get("cost")),
        note=_short(note) if isinstance(note := body.get("demo_note"), str) and note.strip() else None,
        raw=body,
    )


#: cancel outcomes that mean the cancel was accepted (``cancellation_requested`` comes with status cancelled)
_CANCEL_ACCEPTED = frozenset({"cancelled", "canceled", "cancellation_requested", "cancel_requested"})


def parse_cancel(body: Any, request_id: str) -> CancelResult:
    """A cancel's answer. No body at all (a bare 2xx) means accepted, as RunComfy's CLI reads it."""
    if body is None:
        return CancelResult(request_id, True, RemoteStatus.CANCELLED, None, raw={})
    if not isinstance(body, dict):
        raise ProtocolError("RunComfy's answer to cancel was not a JSON object.")
    status = normalize_status(body.get("status"))
    outcome = body.get("outcome") if isinstance(body.get("outcome"), str) else None
    if outcome is not None:
        cancelled = outcome.strip().lower() in _CANCEL_ACCEPTED
    else:
        cancelled = status is RemoteStatus.CANCELLED
    return CancelResult(request_id, cancelled, status, outcome, raw=body)
