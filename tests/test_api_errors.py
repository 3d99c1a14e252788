"""Every row of the protocol's error table, odd bodies and odd answers, over real loopback HTTP.

The rows the fake RunComfy server does not produce (403001, 400002, HTML 404s, echoed tokens, huge bodies,
redirects) come from a tiny scripted aiohttp app; the parsing helpers are also checked directly.
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from scripted_server import (
    Scripted,
    Sleeps,
    json_answer,
    make_client,
    raw_answer,
    scripted_server,
    text_answer,
)

from seedream_tui.api import RemoteStatus, RunComfyClient
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
    ServerError,
    SubmitOutcomeUnknown,
)
from seedream_tui.api.http import RetryPolicy, parse_retry_after
from seedream_tui.api.parse import error_from_answer, flatten_outputs, parse_cancel, parse_state
from seedream_tui.api.types import normalize_status

TOKEN = "rc_secret_5b1e8d2fa9c04417"
MODEL = "bytedance/seedream-5/lite/text-to-image"


@pytest.fixture
async def server() -> AsyncIterator[Scripted]:
    async with scripted_server() as s:
        yield s


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(server: Scripted, sleeps: Sleeps) -> AsyncIterator[RunComfyClient]:
    async with make_client(server.base_url, TOKEN, sleeps) as c:
        yield c


def body(code: int | None, message: str, **extra: object) -> dict[str, object]:
    return {"error_code": code, "error_message": message, **extra}


# ----- the error table ---------------------------------------------------------------------------------

TABLE = [
    (400, body(400001, "bad model id"), BadModelError, "does not know this model id"),
    (403, body(403001, "not yours"), ForbiddenError, "another RunComfy account"),
    (404, body(404001, "gone"), NotFoundError, "unknown, deleted or expired"),
    (400, body(400002, "no money"), BalanceError, "balance is used up"),
    (402, body(400002, "no money"), BalanceError, "balance is used up"),
    (401, body(400004, "token revoked"), AuthError, "refused the API token"),
    (400, body(400004, "account inactive"), AuthError, "refused the API token"),
    (401, {}, AuthError, "missing, expired or revoked"),
]


@pytest.mark.parametrize(("status", "answer", "kind", "sentence"), TABLE)
async def test_error_table_row(
    server: Scripted,
    client: RunComfyClient,
    sleeps: Sleeps,
    status: int,
    answer: dict,
    kind: type[ApiError],
    sentence: str,
) -> None:
    server.script(json_answer(answer, status=status))
    with pytest.raises(kind) as caught:
        await client.status("req-1")
    err = caught.value
    assert sentence in str(err) and err.status_code == status
    assert err.error_code == answer.get("error_code")
    if answer.get("error_message"):
        assert str(answer["error_message"]) in str(err)  # the server's own words are shown too
    assert len(server.seen) == 1 and sleeps.delays == []  # none of these is worth repeating


@pytest.mark.parametrize("status", [400, 422])
async def test_invalid_input_fields_from_detail_list(
    server: Scripted, client: RunComfyClient, status: int
) -> None:
    detail = [
        {"loc": ["body", "max_images"], "msg": "must be at most 15", "type": "value_error"},
        {"loc": ["body", "input", "seed"], "msg": "not an integer"},
    ]
    server.script(json_answer({"detail": detail}, status=status))
    with pytest.raises(InvalidInputError) as caught:
        await client.submit(MODEL, {"prompt": "x", "max_images": 99})
    err = caught.value
    assert err.fields == [
        FieldError("max_images", "must be at most 15"),
        FieldError("seed", "not an integer"),
    ]
    assert "max_images: must be at most 15" in str(err) and "seed" in str(err)
    assert err.detail == detail


async def test_invalid_input_with_a_plain_message(server: Scripted, client: RunComfyClient) -> None:
    server.script(json_answer({"detail": "prompt: must not be empty"}, status=422))
    with pytest.raises(InvalidInputError, match="prompt: must not be empty") as caught:
        await client.submit(MODEL, {"prompt": ""})
    assert caught.value.fields == []


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        ({"error_message": "from error_message", "message": "no"}, "from error_message"),
        ({"message": "from message", "error": "no"}, "from message"),
        ({"error": {"message": "nested error"}}, "nested error"),
        ({"detail": "from detail"}, "from detail"),
    ],
)
async def test_error_message_keys_in_order(
    server: Scripted, client: RunComfyClient, answer: dict, shown: str
) -> None:
    server.script(json_answer(answer, status=404))
    with pytest.raises(NotFoundError) as caught:
        await client.status("r")
    assert shown in str(caught.value) and " no)" not in str(caught.value)


async def test_retry_after_on_429_and_503_is_honoured(
    server: Scripted, client: RunComfyClient, sleeps: Sleeps
) -> None:
    ok = json_answer({"request_id": "r", "status": "in_queue", "queue_position": 3})
    server.script(
        json_answer({}, 429, {"Retry-After": "4"}), json_answer({}, 503, {"Retry-After": "1.5"}), ok
    )
    state = await client.status("r")
    assert state.queue_position == 3 and sleeps.delays == [4.0, 1.5]
    server.script(json_answer({}, 429, {"Retry-After": "100000"}))
    with pytest.raises(RateLimitedError):
        await client.status("r")
    assert sleeps.delays[2:] == [120.0] * 4  # a silly Retry-After is capped, never obeyed blindly


# ----- error bodies of every shape ---------------------------------------------------------------------

NGINX = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


@pytest.mark.parametrize(
    "answer",
    [
        text_answer(NGINX, 502, "text/html"),
        raw_answer(b"", 500),
        json_answer({"error_code": 500503, "error_message": "Upstream failure."}, 503),
        text_answer("upstream timed out", 504),
    ],
    ids=["html", "empty", "json", "text"],
)
async def test_5xx_bodies_become_sentences(
    server: Scripted, client: RunComfyClient, sleeps: Sleeps, answer: object
) -> None:
    server.script(answer)  # type: ignore[arg-type]
    with pytest.raises(ServerError) as caught:
        await client.result("r")
    text = str(caught.value)
    assert text.startswith("RunComfy had a server error (HTTP 5") and "<" not in text and "\n" not in text
    assert len(server.seen) == 5 and len(sleeps.delays) == 4


async def test_html_404_and_unknown_status_codes(server: Scripted, client: RunComfyClient) -> None:
    server.script(text_answer("<html><body><h1>404 Not Found</h1></body></html>", 404, "text/html"))
    with pytest.raises(NotFoundError) as missing:
        await client.status("r")
    assert "<" not in str(missing.value)
    server.script(raw_answer(b"", 403))  # a firewall, not RunComfy's 403001: do not blame another account
    with pytest.raises(ForbiddenError, match="refused access") as forbidden:
        await client.status("r")
    assert "another RunComfy account" not in str(forbidden.value)
    server.script(json_answer({"error_code": 499123, "error_message": "odd"}, 409))
    with pytest.raises(ApiError, match="error 499123"):
        await client.status("r")


@pytest.mark.parametrize("payload", [b"", b"<html>ok</html>", b"{not json"])
async def test_unreadable_2xx(server: Scripted, client: RunComfyClient, payload: bytes) -> None:
    server.script(raw_answer(payload, 200))
    with pytest.raises(ProtocolError):
        await client.status("r")
    with pytest.raises(SubmitOutcomeUnknown, match="may exist"):  # a 2xx to a submit: the job may exist
        await client.submit(MODEL, {"prompt": "x"})


async def test_submit_answer_without_request_id(server: Scripted, client: RunComfyClient) -> None:
    server.script(json_answer({"status": "in_queue"}))
    with pytest.raises(SubmitOutcomeUnknown, match="no request id"):
        await client.submit(MODEL, {"prompt": "x"})


async def test_gigantic_bodies_are_refused_once(
    server: Scripted, client: RunComfyClient, sleeps: Sleeps
) -> None:
    huge = b'{"request_id": "r", "status": "completed", "pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    server.script(raw_answer(huge, 200, {"Content-Type": "application/json"}))
    with pytest.raises(ProtocolError, match="far larger"):
        await client.result("r")

    async def chunked(request: web.Request) -> web.StreamResponse:  # no Content-Length to go by
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(80):
            await response.write(b"x" * 65536)
        await response.write_eof()
        return response

    server.script(chunked)
    with pytest.raises(ProtocolError, match="far larger"):
        await client.result("r")
    assert len(server.seen) == 2 and sleeps.delays == []  # the same answer again would not be smaller


async def test_redirects_are_not_followed(server: Scripted, client: RunComfyClient, sleeps: Sleeps) -> None:
    server.script(raw_answer(b"", 302, {"Location": "http://127.0.0.1:9/steal"}))
    with pytest.raises(ProtocolError, match="redirect"):
        await client.status("r")
    assert len(server.seen) == 1 and sleeps.delays == []


# ----- liberal reading ---------------------------------------------------------------------------------


async def test_unknown_fields_are_tolerated_and_kept(server: Scripted, client: RunComfyClient) -> None:
    server.script(
        json_answer({"request_id": "r", "status_url": "s", "shiny": {"new": [1, 2]}, "eta": None}),
        json_answer(
            {
                "request_id": "r",
                "status": "Succeeded",
                "output": {"images": [{"url": "https://cdn.example/a.png"}, "https://cdn.example/b.png"]},
                "cost": {"total": "0.06", "currency": "USD"},
                "telemetry": {"gpu": "h100"},
                "queue_position": 9,
            }
        ),
        json_answer({"request_id": "r", "status": "canceled", "note": "bye"}),
    )
    sent = await client.submit(MODEL, {"prompt": "x"})
    assert sent.request_id == "r" and sent.raw["shiny"] == {"new": [1, 2]} and sent.result_url is None
    state = await client.result("r", include_cost=True)
    assert state.status is RemoteStatus.COMPLETED
    assert state.outputs == ("https://cdn.example/a.png", "https://cdn.example/b.png")
    assert state.cost == pytest.approx(0.06) and state.queue_position is None
    assert state.raw["telemetry"] == {"gpu": "h100"}
    assert server.seen[1]["path"] == "/v1/requests/r/result?include_cost=true"
    cancelled = await client.cancel("r")  # no "outcome": the status decides
    assert cancelled.cancelled and cancelled.status is RemoteStatus.CANCELLED


# ----- the token ---------------------------------------------------------------------------------------


async def test_an_echoed_token_never_reaches_the_message(server: Scripted, client: RunComfyClient) -> None:
    async def echo(request: web.Request) -> web.StreamResponse:
        said = request.headers["Authorization"]
        detail = [{"loc": ["body", "prompt"], "msg": f"bad with {said}"}]
        return web.json_response({"error_message": f"Token {said} is invalid", "detail": detail}, status=422)

    server.script(echo)
    with pytest.raises(InvalidInputError) as caught:
        await client.submit(MODEL, {"prompt": "x"})
    err = caught.value
    assert server.seen[0]["headers"]["authorization"] == f"Bearer {TOKEN}"
    for text in (str(err), repr(err), repr(err.args), repr(err.detail), repr(err.fields)):
        assert TOKEN not in text
    assert "[token hidden]" in str(err)

    server.script(text_answer(f"no entry for {TOKEN}", 401))
    with pytest.raises(AuthError) as refused:
        await client.status("r")
    assert TOKEN not in str(refused.value)


async def test_a_token_that_cannot_be_sent(server: Scripted, sleeps: Sleeps) -> None:
    async with make_client(server.base_url, "rc_tökén", sleeps) as c:
        with pytest.raises(AuthError, match="ASCII"):
            await c.status("r")
    assert server.seen == []


async def test_ids_cannot_climb_the_path(server: Scripted, client: RunComfyClient) -> None:
    server.script(json_answer({"request_id": "..", "status": "in_queue"}))
    await client.status("..")
    await client.status("a/b?c")
    assert server.seen[0]["raw_path"] == "/v1/requests/%2E%2E/status"
    assert server.seen[1]["raw_path"] == "/v1/requests/a%2Fb%3Fc/status"


async def test_input_that_is_not_json(server: Scripted, client: RunComfyClient) -> None:
    with pytest.raises(InvalidInputError, match="cannot be sent as JSON"):
        await client.submit(MODEL, {"guidance": float("nan")})
    assert server.seen == []


# ----- the parsing helpers, directly -------------------------------------------------------------------


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("7") == 7.0 and parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    for junk in (None, "", "soon", "nan"):
        assert parse_retry_after(junk) is None


def test_retry_policy_delays() -> None:
    policy = RetryPolicy(base=1.0, factor=2.0, cap=5.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0)]:
        assert ceiling / 2 <= policy.delay(attempt, rng=rng) <= ceiling
    assert policy.delay(3, retry_after=9.0) == 9.0
    assert policy.delay(3, retry_after=1e9) == policy.max_retry_after
    assert policy.delay(3, retry_after=-1) == 0.0


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("in_queue", RemoteStatus.IN_QUEUE),
        ("in_progress", RemoteStatus.IN_PROGRESS),
        ("completed", RemoteStatus.COMPLETED),
        ("succeeded", RemoteStatus.COMPLETED),
        ("cancelled", RemoteStatus.CANCELLED),
        ("canceled", RemoteStatus.CANCELLED),
        ("failed", RemoteStatus.FAILED),
        ("pending", RemoteStatus.WAITING),
        ("starting", RemoteStatus.WAITING),
        ("In-Progress", RemoteStatus.IN_PROGRESS),
        (None, RemoteStatus.WAITING),
    ],
)
def test_status_words(word: object, status: RemoteStatus) -> None:
    assert normalize_status(word) is status
    assert status.terminal == (
        status in (RemoteStatus.COMPLETED, RemoteStatus.FAILED, RemoteStatus.CANCELLED)
    )


def test_parse_state_shapes() -> None:
    no_status = parse_state({"output": {"image": "https://c/a.png"}}, "fallback-id")
    assert no_status.status is RemoteStatus.COMPLETED and no_status.request_id == "fallback-id"
    failed = parse_state({"status": "failed", "error": {"message": "GPU on fire", "code": "OOM"}}, "r")
    assert failed.error == "GPU on fire"
    silent = parse_state({"status": "failed"}, "r")
    assert silent.error and "without saying why" in silent.error
    running = parse_state({"status": "in_progress", "queue_position": 4}, "r")
    assert running.queue_position is None
    with pytest.raises(ProtocolError):
        parse_state({"request_id": "r"}, "r")
    with pytest.raises(ProtocolError):
        parse_state(["not", "an", "object"], "r")


def test_flatten_outputs() -> None:
    assert flatten_outputs({"image": "https://c/1.png"}) == ("https://c/1.png",)
    assert flatten_outputs({"images": ["https://c/1.png", "https://c/2.png"]}) == (
        "https://c/1.png",
        "https://c/2.png",
    )
    assert flatten_outputs({"videos": [{"url": "https://c/v.mp4"}]}) == ("https://c/v.mp4",)
    assert flatten_outputs({"whatever": "https://c/x.png"}) == ("https://c/x.png",)
    assert flatten_outputs(["https://c/1.png", "https://c/1.png"]) == ("https://c/1.png",)
    assert flatten_outputs(None) == ()


def test_parse_cancel_outcome_wins_over_status() -> None:
    refused = parse_cancel({"status": "in_progress", "outcome": "not_cancellable"}, "r")
    assert not refused.cancelled and refused.status is RemoteStatus.IN_PROGRESS
    assert parse_cancel({"status": "cancelled", "outcome": "Canceled"}, "r").cancelled
    with pytest.raises(ProtocolError):
        parse_cancel("ok", "r")


def test_error_from_answer_edge_cases() -> None:
    long = error_from_answer(500, {"error_message": "x" * 5000})
    assert len(str(long)) < 600
    in_200 = error_from_answer(404, {"error_code": "404001"})
    assert isinstance(in_200, NotFoundError) and in_200.error_code == 404001
    limited = error_from_answer(429, None, retry_after=3.0)
    assert isinstance(limited, RateLimitedError) and limited.retryable and "3 s" in str(limited)
    assert not AuthError("x").retryable and not SubmitOutcomeUnknown("x").retryable
