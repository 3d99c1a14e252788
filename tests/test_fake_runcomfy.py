"""Issue 19.2, "the demo must not lie": where the fake (test double and ``--demo`` backend) used to differ
from RunComfy. The shapes themselves are checked in ``test_conformance.py``; these are the behaviours."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import TOKEN, open_core, wait_status, wait_until
from PIL import Image

from seedream_tui.api.parse import parse_state
from seedream_tui.fake import edits
from seedream_tui.fake.cli import build_parser, config_from_args
from seedream_tui.fake.server import FakeConfig, FakeServerThread
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.service import demo_fake_config
from seedream_tui.paths import Paths

EDIT = "bytedance/seedream-5/lite/edit"
T2I = "bytedance/seedream-5/lite/text-to-image"


def _png_uri(size: tuple[int, int]) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@pytest.fixture
def http(fake_server: FakeServerThread) -> Any:
    with httpx.Client(base_url=fake_server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as c:
        yield c


def _finished(http: httpx.Client, request_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        body: dict[str, Any] = http.get(f"/v1/requests/{request_id}/result").json()
        return body if body["status"] in ("completed", "failed", "cancelled") else None

    done: dict[str, Any] = wait_until(probe, 20, "the job to finish")
    return done


async def test_an_edit_of_a_real_photo_goes_through_the_app(fake_server: FakeServerThread, tmp_path: Path) -> None:
    """A 3 MB photo makes a body of ~4 MB: the fake used to answer 413 (aiohttp's 1 MiB default)."""
    photo = tmp_path / "photo.png"
    Image.merge("RGB", [Image.effect_noise((1000, 1000), 120) for _ in range(3)]).save(photo, compress_level=1)
    assert photo.stat().st_size > 2 * 1024 * 1024
    fake_server.set_config(tokens=[TOKEN])
    core = await open_core(fake_server.base_url)
    try:
        spec = await core.fetch_model(EDIT)
        job = await core.submit(spec, {"prompt": "the same, at night", "image": [str(photo)]})
        done = await wait_status(core, job.id, within=30)
        assert done.status is JobStatus.COMPLETED, done.error
        assert done.inputs["image"][0]["file"] == str(photo)  # sent as a data: URI, kept as a reference
    finally:
        await core.close()


def test_a_public_url_gets_a_stand_in_that_says_so(http: httpx.Client, fake_server: FakeServerThread) -> None:
    sent = http.post(f"/v1/models/{EDIT}", json={"prompt": "a boat", "image": ["https://photos.example.com/a.png"]})
    body = _finished(http, sent.json()["request_id"])
    assert body["status"] == "completed"
    note = body["demo_note"]  # beside output, where a client may show it and no URL walker takes it
    assert "stand-in" in note and "photos.example.com" in note and "https://" not in note
    assert parse_state(body, "r").outputs == (body["output"]["image"],)  # the note is no output
    picture = httpx.get(body["output"]["image"], timeout=10)
    Image.open(io.BytesIO(picture.content)).verify()
    assert fake_server.jobs_snapshot()[body["request_id"]]["note"] == note
    # with an input it can read as well, the edit is made from that one, and the note says so
    mixed = http.post(f"/v1/models/{EDIT}", json={"prompt": "b", "image": ["https://photos.example.com/a.png",
                                                                          _png_uri((64, 64))]})  # fmt: skip
    assert "other input image" in _finished(http, mixed.json()["request_id"])["demo_note"]
    # an input from its own CDN needs no note
    own = http.post(f"/v1/models/{EDIT}", json={"prompt": "c", "image": [body["output"]["image"]]})
    assert "demo_note" not in _finished(http, own.json()["request_id"])


@pytest.mark.parametrize(
    ("size", "words"),
    [((10, 10), "more than 14 pixels wide"), ((40, 10), "more than 14 pixels high"),
     ((20, 400), "16 times taller"), ((400, 20), "16 times wider")],
)  # fmt: skip
def test_the_fake_applies_the_rules_it_serves(
    http: httpx.Client, fake_server: FakeServerThread, size: tuple[int, int], words: str
) -> None:
    schema = fake_server.server.models[EDIT].input_schema
    assert words in edits.check_inputs(schema, {"image": [_png_uri(size)]})["image"]  # on its own, no app layer
    refused = http.post(f"/v1/models/{EDIT}", json={"prompt": "x", "image": [_png_uri(size)]})
    assert refused.status_code == 422
    assert fake_server.jobs_snapshot() == {}
    assert edits.check_inputs(schema, {"image": [_png_uri((64, 48))]}) == {}


def test_the_fake_applies_item_counts_and_sizes(fake_server: FakeServerThread) -> None:
    schema = fake_server.server.models[EDIT].input_schema
    assert "at most 14" in edits.check_inputs(schema, {"image": ["https://a.example/x.png"] * 15})["image"]
    assert "at least 1" in edits.check_inputs(schema, {"image": []})["image"]
    tight = {"properties": {"image": {"type": "string", "format": "image_uri", "validations": [
        {"validation_rule": "file_size_mb<", "validation_value": 0.0001, "validation_error": "Too big."}]}}}  # fmt: skip
    assert edits.check_inputs(tight, {"image": _png_uri((64, 64))}) == {"image": "Too big."}


def test_the_request_log_keeps_the_last_n() -> None:
    config = FakeConfig(workers=1, min_duration=0.01, max_duration=0.01, request_log_limit=5)
    with FakeServerThread(config) as server, httpx.Client(base_url=server.base_url, timeout=10) as http:
        for n in range(12):
            http.get(f"/v1/requests/r{n}/status", headers={"Authorization": "Bearer t"})
        log = server.api_requests
        assert [entry["path"] for entry in log] == [f"/v1/requests/r{n}/status" for n in range(7, 12)]
        server.set_config(request_log_limit=2)
        assert [entry["path"] for entry in server.api_requests] == ["/v1/requests/r10/status", "/v1/requests/r11/status"]
        assert http.post("/_fake/config", json={"request_log_limit": 0}).status_code == 400
    assert FakeConfig().request_log_limit <= 10_000  # bounded by default, too
    assert demo_fake_config(Paths.default()).request_log_limit <= 500  # the demo keeps fewer
    assert config_from_args(build_parser().parse_args(["--request-log", "50"])).request_log_limit == 50


def test_a_finished_jobs_saved_record_drops_its_big_data_uris() -> None:
    """With 64 MiB bodies the demo's saved record (rewritten on every change) must not keep every photo."""
    from seedream_tui.fake.persist import dump_record
    from seedream_tui.fake.queue import FakeJob

    photo = "data:image/png;base64," + "A" * 1_000_000
    values = {"prompt": "p", "image": [photo]}
    done = FakeJob(request_id="done", model_id=EDIT, input=values, effective_input=dict(values))
    done.mark_finished("completed")
    waiting = FakeJob(request_id="waiting", model_id=EDIT, input=values, effective_input=dict(values))
    record = dump_record({"done": done}, [])
    assert len(record) < 10_000 and b"data:image/png;base64,\xe2\x80\xa6 (1000022 characters" in record
    assert len(dump_record({"waiting": waiting}, ["waiting"])) > 2_000_000  # still needed to make its output
    assert done.input["image"] == [photo]  # the live job is untouched
