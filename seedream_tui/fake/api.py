"""HTTP handlers of the fake API origin: the RunComfy endpoints (with faults) and the ``/_fake`` controls.

Every ``/v1`` answer first passes :meth:`ApiRoutes._gate`, which applies latency, the bad-token switch, auth,
429s, 5xx and dropped connections in that order, so a test that turns one knob to 1.0 sees exactly that fault.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from seedream_tui.fake import edits
from seedream_tui.fake.badoutput import api_body_answer, output_urls, rewrites_urls
from seedream_tui.fake.catalog import categories
from seedream_tui.fake.faults import styled_status
from seedream_tui.fake.queue import TERMINAL, FakeJob

if TYPE_CHECKING:
    from seedream_tui.fake.server import FakeServer

#: what a request costs on the fake bill when its model has no catalog price (``?include_cost=true``)
COST_WITHOUT_PRICE = 0.02
#: the most catalog entries one page holds
MAX_PAGE = 200
#: the largest request body RunComfy takes (its ComfyUI client's limit; data URIs make bodies big) [client]
MAX_REQUEST_BYTES = 64 * 1024 * 1024

_HTML_5XX = "<html><head><title>{code}</title></head><body><h1>{code} {reason}</h1><hr>nginx</body></html>"
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _html_error(code: int) -> web.Response:
    """A 5xx page as nginx in front of an API would send it."""
    return web.Response(status=code, text=_HTML_5XX.format(code=code, reason=_REASONS[code]), content_type="text/html")


class _Dropped(Exception):
    """The gate decided to close the connection without an answer."""


def drop_connection(request: web.Request) -> web.Response:
    """Close the socket so the client gets no answer; aiohttp then fails to write and gives up quietly."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=204)



Handler = Callable[[Any, web.Request], Awaitable[web.Response]]


def _gated(handler: Handler) -> Handler:
    """Run the fault gate first (recording, latency, auth, 429, 5xx, drops); its answer wins."""

    @functools.wraps(handler)
    async def gated(self: Any, request: web.Request) -> web.Response:
        try:
            refused = await self._gate(request)
        except _Dropped:
            return drop_connection(request)
        if refused is not None:
            return refused
        return await handler(self, request)

    return gated

class ApiRoutes:
    def __init__(self, server: FakeServer) -> None:
        self.s = server

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/v1/models/{model_id:.+}", self.submit)
        # before the model detail route: "categories" is not a model id
        app.router.add_get("/v1/models", self.list_models)
        app.router.add_get("/v1/models/categories", self.list_categories)
        app.router.add_get("/v1/models/{model_id:.+}", self.model_detail)
        app.router.add_get("/v1/requests/{request_id}/status", self.status)
        app.router.add_get("/v1/requests/{request_id}/result", self.result)
        app.router.add_post("/v1/requests/{request_id}/cancel", self.cancel)
        app.router.add_get("/_fake/config", self.get_config)
        app.router.add_post("/_fake/config", self.post_config)
        app.router.add_get("/_fake/jobs", self.get_jobs)
        app.router.add_get("/_fake/cdn-log", self.get_cdn_log)
        app.router.add_get("/_fake/faults", self.get_faults)
        app.router.add_post("/_fake/expire/{request_id}", self.post_expire)

    # ----- answers -------------------------------------------------------------------------------------

    def error(self, status: int, code: int | None, message: str, detail: Any = None) -> web.Response:
        """An API error; with ``errors_in_200`` one that carries an ``error_code`` comes as HTTP 200."""
        body: dict[str, Any] = {"error_code": code, "error_message": message}
        if detail is not None:
            body["detail"] = detail
        if code is None:
            body.pop("error_code")
        elif self.s.config.errors_in_200:
            self.s.count_fault("errors_in_200")
            status = 200
        return web.json_response(body, status=status)

    def _status_word(self, status: str) -> str:
        word = styled_status(status, self.s.config.status_style)
        if word != status:
            self.s.count_fault("status_style")
        return word

    def _urls(self, request_id: str) -> dict[str, str]:
        base = f"{self.s.base_url}/v1/requests/{request_id}"
        return {
            "status_url": f"{base}/status",
            "result_url": f"{base}/result",
            "cancel_url": f"{base}/cancel",
        }

    def _state_body(self, job: FakeJob) -> dict[str, Any]:
        body: dict[str, Any] = {"request_id": job.request_id, "status": self._status_word(job.status)}
        if job.status == "in_queue":
            body["queue_position"] = self.s.board.queue_position(job.request_id)
        urls = self._urls(job.request_id)
        body["status_url"], body["result_url"] = urls["status_url"], urls["result_url"]
        return body

    # ----- the gate ------------------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        tokens = self.s.config.tokens
        return tokens is None or token in tokens

    async def _gate(self, request: web.Request, *, submit: bool = False) -> web.Response | None:
        """Record the call and apply the fault knobs; an answer here replaces the endpoint's own."""
        self.s.api_requests.append(
            {"method": request.method, "path": request.path_qs, "headers": _headers(request)}
        )
        cfg, dice = self.s.config, self.s.dice
        if cfg.latency > 0:
            self.s.count_fault("latency")
            await asyncio.sleep(cfg.latency)  # simulated network latency, not synchronisation
        if dice.hit(cfg.latency_spike_rate):
            self.s.count_fault("latency_spike")
            await asyncio.sleep(cfg.latency_spike)
        if cfg.bad_token:
            self.s.count_fault("bad_token")
            return self.error(401, 400004, "The API token is invalid, expired or revoked.")
        if not self._authorized(request):
            return self.error(401, 400004, "A valid API token is required (Authorization: Bearer <token>).")
        if dice.hit(cfg.rate_429):
            self.s.count_fault("rate_429")
            return web.json_response(
                {"error_message": "Too many requests: slow down."},
                status=429,
                headers={"Retry-After": f"{cfg.retry_after:g}"},
            )
        if dice.hit(cfg.error_5xx_rate):
            self.s.count_fault("error_5xx")
            return self._server_error()
        if not submit and dice.hit(cfg.drop_rate):
            self.s.count_fault("drop")
            raise _Dropped
        return None

    def _server_error(self) -> web.Response:
        code = self.s.dice.choice([500, 502, 503])
        kind = self.s.dice.choice(["html", "json", "empty"])
        if kind == "html":
            return _html_error(code)
        if kind == "json":
            return web.json_response(
                {"error_code": 500000 + code, "error_message": f"Upstream failure ({_REASONS[code]})."},
                status=code,
            )
        return web.Response(status=code)

    def _find(self, request: web.Request) -> FakeJob | web.Response:
        request_id = request.match_info["request_id"]
        job = self.s.board.jobs.get(request_id)
        if job is None:
            return self.error(404, 404001, f"Request {request_id} was not found.")
        expire_after = self.s.config.expire_after
        aged = expire_after is not None and time.monotonic() - job.created_monotonic > expire_after
        if job.expired or aged:
            self.s.count_fault("expired")
            return self.error(404, 404001, f"Request {request_id} has expired or was deleted.")
        return job

    # ----- RunComfy endpoints --------------------------------------------------------------------------

    async def submit(self, request: web.Request) -> web.Response:
        refused = await self._gate(request, submit=True)  # submit decides on drops itself, below
        if refused is not None:
            return refused
        model = self.s.models.get(request.match_info["model_id"])
        if model is None:
            return self._unknown_model(request)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self.error(
                413, None,
                f"The request body is larger than {MAX_REQUEST_BYTES // 2**20} MiB. Send large images as "
                "public https URLs, or fewer or smaller images.",
            )  # fmt: skip
        try:
            values = json.loads(raw or b"null") if len(raw) < 2**20 else await asyncio.to_thread(json.loads, raw)
        except ValueError:
            return self.error(400, None, "The request body is not valid JSON.")
        if not isinstance(values, dict):
            return self.error(400, None, "The request body must be a JSON object of model inputs.")
        errors = self.s.validator.errors(model.model_id, values)
        media_errors = await asyncio.to_thread(edits.check_inputs, model.input_schema, values)  # decodes images
        errors.update({k: v for k, v in media_errors.items() if k not in errors})
        if errors:
            detail = [
                {"loc": ["body", name] if name else ["body"], "msg": msg, "type": "value_error"}
                for name, msg in errors.items()
            ]
            summary = "; ".join(f"{name}: {msg}" if name else msg for name, msg in errors.items())
            return web.json_response(
                {"error_message": f"Invalid input: {summary}", "detail": detail}, status=422
            )

        dice = self.s.dice
        dropped = dice.hit(self.s.config.drop_rate)
        gateway = not dropped and dice.hit(self.s.config.gateway_after_submit_rate)
        if dropped:
            self.s.count_fault("drop")
            if not dice.hit(0.5):
                return drop_connection(request)  # lost before the job was created
        prefix = self.s.config.request_id_prefix
        request_id = prefix + dice.request_id()
        while request_id in self.s.board.jobs:  # a seeded run after a restart draws the same ids again
            request_id = prefix + dice.request_id()
        job = FakeJob(
            request_id=request_id,
            model_id=model.model_id,
            input=values,
            effective_input=model.with_defaults(values),
            answer_dropped=dropped or gateway,
        )
        self.s.board.add(job)
        if dropped:
            return drop_connection(request)  # the job exists but the client never hears of it
        if gateway:  # the origin took the job; the proxy in front timed out or failed on the way back
            self.s.count_fault("gateway_after_submit")
            return _html_error(dice.choice([502, 504]))
        return web.json_response({"request_id": job.request_id, **self._urls(job.request_id)})

    @_gated
    async def list_models(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            limit = int(query.get("limit", "50"))
            offset = int(query.get("offset", "0"))
        except ValueError:
            return self.error(400, 400001, "limit and offset must be whole numbers.")
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            return self.error(400, 400001, f"limit must be 1 to {MAX_PAGE} and offset 0 or more.")
        schema = query.get("include_schema", "").lower() in ("true", "1", "yes")
        found = [
            model
            for model in self.s.models.values()
            if model.matches(query.get("search", ""), query.get("category", ""), query.get("kind", ""))
        ]
        found.sort(key=lambda m: m.display_name.lower())
        page = [m.summary(include_schema=schema) for m in found[offset : offset + limit]]
        return web.json_response({"models": page, "total": len(found)})

    @_gated
    async def list_categories(self, request: web.Request) -> web.Response:
        return web.json_response({"categories": categories(self.s.models)})

    @_gated
    async def model_detail(self, request: web.Request) -> web.Response:
        model = self.s.models.get(request.match_info["model_id"])
        if model is None:
            return self._unknown_model(request)
        return web.json_response(hostile_detail(model.detail(), self.s.config.schema_style))

    def _unknown_model(self, request: web.Request) -> web.Response:
        if self.s.config.unknown_model_style == "404":
            return web.json_response({"detail": "Not Found"}, status=404)
        return self.error(400, 400001, f"Unknown model id: {request.match_info['model_id']}.")

    @_gated
    async def status(self, request: web.Request) -> web.Response:
        job = self._find(request)
        if isinstance(job, web.Response):
            return job
        return self._answer(self._state_body(job))

    @_gated
    async def result(self, request: web.Request) -> web.Response:
        job = self._find(request)
        if isinstance(job, web.Response):
            return job
        if job.status not in TERMINAL:
            return self._answer(self._state_body(job))
        body: dict[str, Any] = {"request_id": job.request_id, "status": self._status_word(job.status)}
        if job.status == "completed":
            urls = job.outputs
            if self.s.config.one_time_links:  # freshly signed links on every ask, each good for one download
                self.s.signatures += 1
                urls = [f"{url}?sig={self.s.signatures}" for url in urls]
            if rewrites_urls(self.s.config.output_url_style):
                self.s.count_fault("output_url_style")
                urls = output_urls(urls, self.s.config.output_url_style)
            if job.media == "video":
                body["output"] = {"video": urls[0]}
            else:
                body["output"] = {"images": list(urls)} if job.multi else {"image": urls[0]}
        elif job.status == "failed":
            body["error"] = job.error
        body["created_at"], body["finished_at"] = job.created_at, job.finished_at
        if job.note:  # beside output, never in it: a client that walks output for URLs must not take it
            body["demo_note"] = job.note
        if request.query.get("include_cost", "").lower() in ("true", "1", "yes"):
            body["cost"] = self._cost(job)
        return self._answer(body)

    def _cost(self, job: FakeJob) -> float:
        """The bill of a finished job, from its model's catalog price: per image (``output``) or per ``second``."""
        model = self.s.models.get(job.model_id)
        price, unit = model.price if model is not None else (None, None)
        if not isinstance(price, int | float):
            return COST_WITHOUT_PRICE if job.status == "completed" else 0.0
        if job.status != "completed":
            return 0.0
        if unit == "second":
            duration = job.effective_input.get("duration")
            count = float(duration) if isinstance(duration, int | float) else 5.0
        else:
            count = float(len(job.outputs))
        return round(price * count, 6)

    def _answer(self, body: dict[str, Any]) -> web.Response:
        """A status/result answer, broken the ``api_body_style`` way when that knob is on."""
        style = self.s.config.api_body_style
        if style == "normal":
            return web.json_response(body)
        self.s.count_fault("api_body_style")
        return api_body_answer(body, style)

    @_gated
    async def cancel(self, request: web.Request) -> web.Response:
        job = self._find(request)
        if isinstance(job, web.Response):
            return job
        if not self.s.board.cancel(job.request_id):
            return web.json_response(
                {"request_id": job.request_id, "status": self._status_word(job.status), "outcome": "not_cancellable"}
            )
        return cancelled_answer(job.request_id, self._status_word(job.status), self.s.config.cancel_style)

    # ----- control endpoints (no auth, no faults) -----------------------------------------------------

    async def get_config(self, request: web.Request) -> web.Response:
        return web.json_response(self.s.config.public_dict())

    async def post_config(self, request: web.Request) -> web.Response:
        try:
            changes = json.loads(await request.read() or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("Send a JSON object of knobs to change.")
            self.s.set_config(**changes)
        except ValueError as exc:
            return web.json_response({"error_message": str(exc)}, status=400)
        return web.json_response(self.s.config.public_dict())

    async def get_jobs(self, request: web.Request) -> web.Response:
        return web.json_response(self.s.jobs_snapshot())

    async def get_cdn_log(self, request: web.Request) -> web.Response:
        return web.json_response(list(self.s.cdn_requests))

    async def get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.s.faults_injected)

    async def post_expire(self, request: web.Request) -> web.Response:
        request_id = request.match_info["request_id"]
        if not self.s.expire(request_id):
            return web.json_response({"error_message": f"Request {request_id} was not found."}, status=404)
        return web.json_response({"request_id": request_id, "expired": True})


def cancelled_answer(request_id: str, word: str, style: str) -> web.Response:
    """A cancel that worked, worded the ``cancel_style`` way (see faults.CANCEL_STYLES); ``word`` is the
    status as the server's ``status_style`` says it."""
    if style == "empty":
        return web.Response(status=200)
    if style == "requested":
        body = {"request_id": request_id, "status": "cancelled", "outcome": "cancellation_requested"}
    elif style == "canceled":
        body = {"request_id": request_id, "status": "canceled", "outcome": "canceled"}
    else:
        body = {"request_id": request_id, "status": word, "outcome": "cancelled"}
    return web.json_response(body)


def hostile_detail(detail: dict[str, Any], style: str) -> dict[str, Any]:
    """A model detail made slow to read the ``schema_style`` way (see faults.SCHEMA_STYLES)."""
    if style == "normal":
        return detail
    schema = json.loads(json.dumps(detail["input_schema"]))
    props = schema["properties"]
    if style == "huge_enum":
        props["resolution"] = {"type": "string", "enum": [f"{i}x{i}" for i in range(200_000)], "default": "0x0"}
    else:
        props["prompt"] = {**props.get("prompt", {}), "description": "1" + " " * 200_000 + "x"}
    return {**detail, "input_schema": schema}


def _headers(request: web.Request) -> dict[str, str]:
    """Request headers with lower-cased names, so tests can look for ``authorization`` whatever the case."""
    return {name.lower(): value for name, value in request.headers.items()}
