"""Does the fake server still speak RunComfy? A checklist of the shapes in the protocol spec
(``/work/shared/spec/protocol.md``), each run against the real fake over loopback.

The fake is both the test double and the ``--demo`` backend: where it drifts from RunComfy, the tests and
the demo both lie. Every entry of :data:`CHECKS` is one sentence of the spec and the code that holds the
fake to it; add a line here when the spec learns something new.
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from helpers import wait_until
from PIL import Image

from seedream_tui.fake.server import FakeServerThread

TOKEN = "conformance-token"
T2I = "bytedance/seedream-5/lite/text-to-image"
EDIT = "bytedance/seedream-5/lite/edit"
#: RunComfy's request ids as its clients accept them
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
STATUS_WORDS = {"in_queue", "in_progress", "completed", "failed", "cancelled"}
#: validation rule names seen in RunComfy's live schemas [client]
REAL_RULES = {"file_size_mb<", "width/height>", "width/height<", "width_pixels>", "height_pixels>"}
MIB = 1024 * 1024
LIMIT = 64 * MIB


class Api:
    """The fake on loopback, with a token, and the few moves the checks need."""

    def __init__(self, server: FakeServerThread, http: httpx.Client) -> None:
        self.server, self.http = server, http

    def submit(self, model_id: str = T2I, body: Any = None) -> httpx.Response:
        return self.http.post(f"/v1/models/{model_id}", json={"prompt": "a red fox"} if body is None else body)

    def submitted(self, model_id: str = T2I, body: Any = None) -> str:
        response = self.submit(model_id, body)
        assert 200 <= response.status_code < 300, response.text
        return str(response.json()["request_id"])

    def result(self, request_id: str, query: str = "") -> dict[str, Any]:
        return dict(self.http.get(f"/v1/requests/{request_id}/result{query}").json())

    def finished(self, request_id: str, query: str = "") -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            body = self.result(request_id, query)
            return body if body["status"] in ("completed", "failed", "cancelled") else None

        done: dict[str, Any] = wait_until(probe, 20, f"request {request_id} to finish")
        return done

    def held(self) -> tuple[str, str]:
        """A running job and one waiting behind it (one worker, long jobs)."""
        self.server.set_config(workers=1, min_duration=60.0, max_duration=60.0)
        running, waiting = self.submitted(), self.submitted()
        wait_until(lambda: self.server.jobs_snapshot()[running]["status"] == "in_progress", 10, "the first job to run")
        return running, waiting


@pytest.fixture
def api(fake_server: FakeServerThread) -> Iterator[Api]:
    with httpx.Client(base_url=fake_server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as c:
        yield Api(fake_server, c)


def _error_body(response: httpx.Response, *codes: int) -> None:
    body = response.json()
    assert isinstance(body.get("error_message"), str) and body["error_message"].strip()
    if codes:
        assert body.get("error_code") in codes


def _png_data_uri(size: tuple[int, int], *, noisy: bool = False) -> str:
    if noisy:  # noise does not compress: a file of about width x height x 3 bytes
        image = Image.merge("RGB", [Image.effect_noise(size, 120) for _ in range(3)])
    else:
        image = Image.new("RGB", size, (30, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# ----- the checks ---------------------------------------------------------------------------------------


def submit_answers_the_four_keys(api: Api) -> None:
    response = api.submit()
    assert response.status_code == 200
    body = response.json()
    request_id = body["request_id"]
    assert REQUEST_ID.match(request_id)
    for key, tail in (("status_url", "status"), ("result_url", "result"), ("cancel_url", "cancel")):
        assert urlsplit(body[key]).path == f"/v1/requests/{request_id}/{tail}"


def status_walks_in_queue_in_progress_completed(api: Api) -> None:
    done = api.submitted()
    assert api.finished(done)["status"] == "completed"
    running, waiting = api.held()
    queued = api.http.get(f"/v1/requests/{waiting}/status").json()
    assert queued["status"] == "in_queue" and queued["queue_position"] == 1
    busy = api.http.get(f"/v1/requests/{running}/status").json()
    assert busy["status"] == "in_progress" and "queue_position" not in busy  # only while in_queue
    final = api.http.get(f"/v1/requests/{done}/status").json()
    assert final["status"] == "completed"
    for body in (queued, busy, final):
        assert set(body) >= {"request_id", "status", "status_url", "result_url"}
        assert body["status"] in STATUS_WORDS  # lower case, "cancelled" with two l's


def result_before_completion_answers_the_state(api: Api) -> None:
    running, waiting = api.held()
    for request_id, word in ((running, "in_progress"), (waiting, "in_queue")):
        response = api.http.get(f"/v1/requests/{request_id}/result")
        assert response.status_code == 200
        assert response.json()["status"] == word and "output" not in response.json()


def result_has_output_urls_on_another_host_and_times(api: Api) -> None:
    body = api.finished(api.submitted())
    assert set(body) >= {"request_id", "status", "output", "created_at", "finished_at"}
    url = body["output"]["image"]
    assert urlsplit(url).scheme in ("http", "https")
    assert urlsplit(url).netloc != urlsplit(api.server.base_url).netloc  # a storage CDN, not the API host
    assert ISO_Z.match(body["created_at"]) and ISO_Z.match(body["finished_at"])
    assert "cost" not in body


def include_cost_adds_a_cost(api: Api) -> None:
    body = api.finished(api.submitted(), "?include_cost=true")
    assert isinstance(body["cost"], int | float) and math.isfinite(body["cost"]) and body["cost"] >= 0


def cancel_of_a_queued_request_is_cancelled(api: Api) -> None:
    _running, waiting = api.held()
    # RunComfy's CLI sends a JSON body with the request id
    response = api.http.post(f"/v1/requests/{waiting}/cancel", json={"request_id": waiting})
    assert 200 <= response.status_code < 300
    assert response.json() == {"request_id": waiting, "status": "cancelled", "outcome": "cancelled"}
    assert api.http.get(f"/v1/requests/{waiting}/status").json()["status"] == "cancelled"


def cancel_of_a_running_request_is_not_cancellable(api: Api) -> None:
    running, _waiting = api.held()
    response = api.http.post(f"/v1/requests/{running}/cancel")
    assert 200 <= response.status_code < 300
    assert response.json() == {"request_id": running, "status": "in_progress", "outcome": "not_cancellable"}


def unknown_request_is_404_with_404001(api: Api) -> None:
    for method, action in (("GET", "status"), ("GET", "result"), ("POST", "cancel")):
        response = api.http.request(method, f"/v1/requests/no-such-request/{action}")
        assert response.status_code == 404
        _error_body(response, 404001)


def unknown_model_is_400_400001_or_404(api: Api) -> None:
    for response in (api.submit("acme/no-such/model"), api.http.get("/v1/models/acme/no-such/model")):
        assert response.status_code in (400, 404)
        if response.status_code == 400:
            _error_body(response, 400001)


def a_missing_token_is_refused_with_400004(api: Api) -> None:
    response = httpx.post(f"{api.server.base_url}/v1/models/{T2I}", json={"prompt": "x"}, timeout=10)
    assert response.status_code in (400, 401)
    _error_body(response, 400004)


def input_off_the_schema_is_400_or_422_with_a_message(api: Api) -> None:
    response = api.submit(T2I, {})  # prompt is required
    assert response.status_code in (400, 422)
    _error_body(response)
    assert isinstance(response.json().get("detail"), list)


def catalog_is_models_and_total_of_kind_model(api: Api) -> None:
    body = api.http.get("/v1/models", params={"limit": 200}).json()
    assert set(body) >= {"models", "total"} and body["total"] == len(body["models"]) >= 12
    for entry in body["models"]:
        assert entry["kind"] == "model", entry["model_id"]  # RunComfy's catalog script refuses any other kind
        assert entry["categories"] and all(
            isinstance(c, str) and c.endswith(("image", "video", "audio")) for c in entry["categories"]
        ), entry["model_id"]
        assert entry.get("price_unit") in (None, "output", "second"), entry["model_id"]
    assert api.http.get("/v1/models", params={"kind": "model"}).json()["total"] == body["total"]


def categories_route_is_not_a_model_id(api: Api) -> None:
    response = api.http.get("/v1/models/categories")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"categories"} and body["categories"]
    assert all(isinstance(c, str) for c in body["categories"])


def model_detail_has_runcomfys_fields(api: Api) -> None:
    for entry in api.http.get("/v1/models", params={"limit": 200}).json()["models"]:
        detail = api.http.get(f"/v1/models/{entry['model_id']}").json()
        assert detail["model_id"] == entry["model_id"] and detail["display_name"]
        assert detail["categories"] == entry["categories"]
        if "base_price_usd" in detail:
            price = detail["base_price_usd"]
            assert isinstance(price, int | float) and math.isfinite(price) and price >= 0
            assert detail["price_unit"] in ("output", "second")
        assert isinstance(detail.get("pricing_note", ""), str)
        schema = detail["input_schema"]
        assert isinstance(schema["properties"], dict)
        # RunComfy's Zapier client reads input_schema.required or the top-level required_inputs
        assert detail["required_inputs"] == schema["required"] and detail["required_inputs"], detail["model_id"]


def validations_use_runcomfys_rule_names(api: Api) -> None:
    for entry in api.http.get("/v1/models", params={"limit": 200, "include_schema": "true"}).json()["models"]:
        for name, prop in entry["input_schema"]["properties"].items():
            for rule in prop.get("validations") or []:
                assert rule["validation_rule"] in REAL_RULES, (entry["model_id"], name, rule)
                assert isinstance(rule["validation_value"], int | float) and rule["validation_error"]


def seedream_5_lite_edit_is_the_documented_one(api: Api) -> None:
    detail = api.http.get(f"/v1/models/{EDIT}").json()
    assert (detail["base_price_usd"], detail["price_unit"]) == (0.028, "output")
    image = detail["input_schema"]["properties"]["image"]
    assert image["type"] == "array" and "image" in detail["required_inputs"]
    # the page's own example body
    response = api.submit(EDIT, {"prompt": "make it night", "image": ["https://example.com/photo.png"]})
    assert response.status_code == 200, response.text


def a_public_https_image_url_makes_a_result(api: Api) -> None:
    request_id = api.submitted(EDIT, {"prompt": "at night", "image": ["https://example.com/photo.png"]})
    body = api.finished(request_id)
    assert body["status"] == "completed" and body["output"]


def an_image_below_the_pixel_rules_is_refused(api: Api) -> None:
    response = api.submit(EDIT, {"prompt": "x", "image": [_png_data_uri((10, 10))]})
    assert response.status_code in (400, 422)
    _error_body(response)
    assert api.server.jobs_snapshot() == {}


def a_large_body_is_taken_up_to_64_mib(api: Api) -> None:
    one = _png_data_uri((1250, 1250), noisy=True)  # about 4.5 MiB of PNG, 6 MiB as a data URI
    body = {"prompt": "x", "image": [one] * 11}
    size = len(httpx.Request("POST", "http://x", json=body).content)
    assert 56 * MIB < size <= LIMIT
    response = api.submit(EDIT, body)
    assert response.status_code == 200, response.text[:300]


def a_body_over_64_mib_is_413_and_creates_nothing(api: Api) -> None:
    filler = "x" * (LIMIT - len('{"prompt":""}') + 1)
    response = api.http.post(
        f"/v1/models/{T2I}", content=b'{"prompt":"' + filler.encode() + b'"}',
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 413
    _error_body(response)
    assert api.server.jobs_snapshot() == {}


@dataclass(frozen=True)
class Check:
    #: the spec's sentence
    what: str
    run: Callable[[Api], None]


CHECKS = [
    Check("submit -> request_id, status_url, result_url, cancel_url", submit_answers_the_four_keys),
    Check("status: in_queue (+queue_position) -> in_progress -> completed", status_walks_in_queue_in_progress_completed),
    Check("result before completion: 200 with the current state", result_before_completion_answers_the_state),
    Check("result: output URLs on a CDN host, created_at, finished_at", result_has_output_urls_on_another_host_and_times),
    Check("result?include_cost=true adds cost", include_cost_adds_a_cost),
    Check("cancel of a queued request: status cancelled, outcome cancelled", cancel_of_a_queued_request_is_cancelled),
    Check("cancel of a running request: 2xx, outcome not_cancellable", cancel_of_a_running_request_is_not_cancellable),
    Check("unknown request: 404 error_code 404001 + error_message", unknown_request_is_404_with_404001),
    Check("unknown model: 400 + 400001, or 404", unknown_model_is_400_400001_or_404),
    Check("no token: error_code 400004", a_missing_token_is_refused_with_400004),
    Check("input off the schema: 400/422 with error_message and detail", input_off_the_schema_is_400_or_422_with_a_message),
    Check("catalog: {models, total}, kind model, categories end in image/video/audio", catalog_is_models_and_total_of_kind_model),
    Check("/v1/models/categories is not a model id", categories_route_is_not_a_model_id),
    Check("model detail: model_id, display_name, categories, price, input_schema, required_inputs", model_detail_has_runcomfys_fields),
    Check("validations use RunComfy's rule names only", validations_use_runcomfys_rule_names),
    Check("Seedream 5 lite edit: image array, $0.028 per output, the page's body", seedream_5_lite_edit_is_the_documented_one),
    Check("a public https image URL makes a result", a_public_https_image_url_makes_a_result),
    Check("an image under the pixel rules is refused", an_image_below_the_pixel_rules_is_refused),
    Check("a body up to 64 MiB is taken", a_large_body_is_taken_up_to_64_mib),
    Check("a body over 64 MiB: 413, nothing created", a_body_over_64_mib_is_413_and_creates_nothing),
]  # fmt: skip


@pytest.mark.parametrize("check", CHECKS, ids=[c.run.__name__ for c in CHECKS])
def test_runcomfy_conformance(check: Check, api: Api) -> None:
    check.run(api)
