"""RunComfy's ``validations`` entries: read, applied, and refused with the entry's own message."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
from helpers import TOKEN
from PIL import Image

from seedream_tui.fake.server import FakeServerThread
from seedream_tui.schema import parse_schema, validate_input
from seedream_tui.schema.rules import Rule, parse_rules


def _data_uri(size: tuple[int, int], *, pad: int = 0) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, "PNG")
    raw = buffer.getvalue() + b"\0" * pad  # trailing bytes: still a PNG to a reader, but a bigger file
    return "data:image/png;base64," + base64.b64encode(raw).decode()


RULES = [
    {"validation_rule": "file_size_mb<", "validation_value": 1, "validation_error": "Under 1 MB, please."},
    {"validation_rule": "pixels>=", "validation_value": 4096, "validation_error": "At least 64x64 pixels."},
    {"validation_rule": "aspect_ratio<=", "validation_value": "4:1", "validation_error": "Not wider than 4:1."},
    {"validation_rule": "count<=", "validation_value": 2, "validation_error": "Two images at most."},
    {"validation_rule": "weird_thing~", "validation_value": 1, "validation_error": "never applied"},
]
SCHEMA: dict[str, Any] = {
    "model_id": "acme/edit",
    "input_schema": {
        "required_inputs": ["prompt", "images"],
        "properties": {
            "prompt": {"type": "string", "validations": [
                {"validation_rule": "length<=", "validation_value": 10, "validation_error": "Ten characters max."}]},
            "images": {"type": "array", "format": "image_uris", "validations": RULES},
            "steps": {"type": "integer", "validations": [
                {"validation_rule": "max_value", "validation_value": 50, "validation_error": "50 steps max."}]},
            "size": {"type": "string", "validations": [
                {"validation_rule": "pixels<=", "validation_value": 1_000_000, "validation_error": "1 MP max."}]},
        },
    },
}  # fmt: skip


def test_rules_are_read_with_their_messages_and_unknown_ones_left_out() -> None:
    rules = parse_rules(RULES, "Images")
    assert rules[0] == Rule("file_size_mb", "<", 1.0, "Under 1 MB, please.")
    assert rules[2].value == 4.0  # "4:1"
    assert len(rules) == 4  # "weird_thing~" is not understood: ignored, never an error
    assert parse_rules([{"validation_rule": "count<="}], "x") == ()  # no value: nothing to check


def _errors(values: dict[str, Any]) -> dict[str, str]:
    return validate_input(parse_schema(SCHEMA), values).errors


def test_each_rule_refuses_with_the_entrys_own_message() -> None:
    ok = _data_uri((100, 80))
    assert _errors({"prompt": "hi", "images": [ok]}) == {}
    assert _errors({"prompt": "far too long", "images": [ok]}) == {"prompt": "Ten characters max."}
    assert _errors({"prompt": "hi", "images": [ok, ok, ok]}) == {"images": "Two images at most."}
    assert _errors({"prompt": "hi", "images": [_data_uri((40, 40))]}) == {"images": "At least 64x64 pixels."}
    assert _errors({"prompt": "hi", "images": [_data_uri((500, 100))]}) == {"images": "Not wider than 4:1."}
    big = _data_uri((100, 80), pad=1_100_000)
    assert _errors({"prompt": "hi", "images": [ok, big]}) == {"images": "Under 1 MB, please."}
    assert _errors({"prompt": "hi", "images": [ok], "steps": 51}) == {"steps": "50 steps max."}
    assert _errors({"prompt": "hi", "images": [ok], "size": "2048x2048"}) == {"size": "1 MP max."}
    # a URL cannot be measured offline: left to the server, never refused on a guess
    assert _errors({"prompt": "hi", "images": ["https://cdn.example/a.png"]}) == {}
    assert _errors({"prompt": "hi"}) == {"images": "Images is required."}  # required_inputs


def test_the_fake_server_refuses_with_the_rules_message(fake_server: FakeServerThread) -> None:
    fake_server.set_config(tokens=[TOKEN])
    answer = httpx.post(
        f"{fake_server.base_url}/v1/models/bytedance/seedream-5/lite/edit",
        json={"prompt": "tint it", "image": [_data_uri((10, 10))]},  # RunComfy's rule: width_pixels> 14
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 422
    assert "Each input image must be more than 14 pixels wide." in answer.json()["error_message"]
