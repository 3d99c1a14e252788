"""Real answers the client must take (issue 19, point 1) and the catalog a hostile server sends (point 3).

Every answer here has the shape RunComfy's own clients show (see docs: protocol.md): output entries that
carry metadata beside their URL, a 413 to a submit, the live ``validations`` rule names, catalog entries of
kind "model" whose task is in ``categories``, a ``data`` envelope; and the hostile ones: a catalog that
ignores ``offset`` and claims a trillion models, a detail naming another model, a schema too big to load.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import MODEL, TOKEN, is_file, open_core, read, wait_status
from PIL import Image
from routed_server import Call, routed_server
from scripted_server import json_answer, raw_answer, scripted_server, text_answer

from seedream_tui import cli_catalog
from seedream_tui.api.errors import RefusedError, ServerError, SubmitOutcomeUnknown
from seedream_tui.api.parse import collect_outputs
from seedream_tui.catalog.browse import entry_from
from seedream_tui.cli import main
from seedream_tui.jobs.model import JobStatus
from seedream_tui.paths import Paths
from seedream_tui.schema import ModelRegistry, parse_schema, validate_input
from seedream_tui.schema import reader as schema_reader
from seedream_tui.schema.rules import Rule, parse_rules

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200
EDIT = "acme/real-edit"


def _png(size: tuple[int, int] = (40, 30), colour: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)
    return TOKEN


# ------------------------------------------------------------------------------------------ outputs
def test_metadata_beside_an_output_url_is_never_an_output() -> None:
    images = {"images": [{"url": "https://cdn.runcomfy.net/1.png", "content_type": "image/png"},
                         {"url": "https://cdn.runcomfy.net/2.png", "content_type": "image/png"}]}  # fmt: skip
    assert collect_outputs(images) == (("images[0].url", "https://cdn.runcomfy.net/1.png"),
                                       ("images[1].url", "https://cdn.runcomfy.net/2.png"))  # fmt: skip
    video = {"video": {"url": "https://cdn.runcomfy.net/v.mp4", "content_type": "video/mp4", "file_name": "v.mp4",
                       "file_size": 1234}}  # fmt: skip
    assert collect_outputs(video) == (("video.url", "https://cdn.runcomfy.net/v.mp4"),)
    # a link under a known key still counts (a bad one is refused later with a sentence), a name does not
    assert collect_outputs({"image": "ftp://x/y.png", "images": ["a.png"]}) == (("image", "ftp://x/y.png"),)
    # under a url-style key the value is the address, whatever it looks like
    assert collect_outputs({"audio": {"url": "relative/a.wav", "mime": "audio/wav"}}) == (
        ("audio.url", "relative/a.wav"),)


async def test_two_images_with_metadata_are_both_saved_and_the_job_completes() -> None:
    first, second = _png(colour=(200, 0, 0)), _png(colour=(0, 200, 0))
    async with scripted_server() as server:
        urls = [f"{server.base_url}/files/{n}.png" for n in (1, 2)]
        server.script(
            json_answer({"request_id": "r-images"}),
            json_answer({"request_id": "r-images", "status": "completed",
                         "output": {"images": [{"url": u, "content_type": "image/png", "file_name": f"{n}.png"}
                                               for n, u in enumerate(urls, 1)]}}),  # fmt: skip
            raw_answer(first, headers={"Content-Type": "image/png"}),
            raw_answer(second, headers={"Content-Type": "image/png"}),
        )
        core = await open_core(server.base_url)
        try:
            job = await core.engine.submit(MODEL, {"prompt": "two cats"})
            done = await wait_status(core, job.id)
        finally:
            await core.close()
    assert done.status is JobStatus.COMPLETED, done.error
    assert [o.url for o in done.outputs] == urls
    colours = []
    for output in done.outputs:
        with Image.open(output.path or "") as saved:  # the saved PNG also carries the prompt: compare pixels
            colours.append(saved.convert("RGB").getpixel((0, 0)))
    assert colours == [(200, 0, 0), (0, 200, 0)]
    assert not any(r["path"].startswith("/image") for r in server.seen)  # "image/png" was never asked for


async def test_a_video_with_metadata_completes_with_its_mp4() -> None:
    async with scripted_server() as server:
        url = f"{server.base_url}/files/clip.mp4"
        server.script(
            json_answer({"request_id": "r-video"}),
            json_answer({"request_id": "r-video", "status": "completed",
                         "output": {"video": {"url": url, "content_type": "video/mp4", "file_name": "clip.mp4"}}}),
            raw_answer(MP4, headers={"Content-Type": "video/mp4"}),
        )
        core = await open_core(server.base_url)
        try:
            job = await core.engine.submit(MODEL, {"prompt": "a short clip"})
            done = await wait_status(core, job.id)
        finally:
            await core.close()
    assert done.status is JobStatus.COMPLETED, done.error
    assert done.error is None
    (clip,) = done.outputs
    assert clip.format == "mp4" and is_file(clip.path) and read(clip.path) == MP4


# ---------------------------------------------------------------------------- a refused submit
@pytest.mark.parametrize("status", [413, 405, 409, 410])
async def test_a_definite_4xx_to_a_submit_is_a_refusal_not_an_unknown_outcome(status: int) -> None:
    async with scripted_server() as server:
        server.script(text_answer("Request Entity Too Large", status) if status == 413
                      else json_answer({"error_message": "not here"}, status))  # fmt: skip
        core = await open_core(server.base_url)
        try:
            with pytest.raises(RefusedError) as caught:
                await core.engine.submit(MODEL, {"prompt": "a cat"})
            (job,) = await core.history.list_jobs()
        finally:
            await core.close()
    err = caught.value
    assert err.exit_code == 2 and not err.retryable
    assert "refused the submit" in str(err) and "no job was created" in str(err) and "dashboard" not in str(err)
    assert f"HTTP {status}" in str(err)
    if status == 413:
        assert "too large" in str(err) and "Request Entity Too Large" in str(err)
    assert job.status is JobStatus.FAILED and "no job was created" in (job.error or "")
    assert sum(1 for r in server.seen if r["method"] == "POST") == 1  # never sent again


async def test_a_5xx_or_a_lost_answer_to_a_submit_stays_unknown_or_an_error() -> None:
    async with scripted_server() as server:
        core = await open_core(server.base_url)
        try:
            server.script(json_answer({"error_message": "bad gateway"}, 502))
            with pytest.raises(SubmitOutcomeUnknown):
                await core.engine.submit(MODEL, {"prompt": "a cat"})
            server.script(json_answer({"error_message": "boom"}, 500))
            with pytest.raises(ServerError):
                await core.engine.submit(MODEL, {"prompt": "a cat"})
            server.script(raw_answer(b"<html>not json</html>", 200))
            with pytest.raises(SubmitOutcomeUnknown):
                await core.engine.submit(MODEL, {"prompt": "a cat"})
        finally:
            await core.close()


def test_the_cli_says_a_413_was_refused_and_exits_2(token: str, capsys: pytest.CaptureFixture[str]) -> None:
    with routed_server({"POST /v1/models/" + MODEL: lambda call: (413, b"Request Entity Too Large")}) as server:
        code = main(["submit", "a cat", "--base-url", server.base_url])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "refused the submit as too large (HTTP 413" in err and "no job was created" in err
    assert "may exist" not in err and "dashboard" not in err and "Traceback" not in err


# ------------------------------------------------------------------------------ real image rules
REAL_RULES = [
    {"validation_rule": "file_size_mb<", "validation_value": 30, "validation_error": "Each image under 30 MB."},
    {"validation_rule": "width/height>", "validation_value": 0.0625, "validation_error": "Not taller than 1:16."},
    {"validation_rule": "width/height<", "validation_value": 16, "validation_error": "Not wider than 16:1."},
    {"validation_rule": "width_pixels>", "validation_value": 14, "validation_error": "Wider than 14 pixels."},
    {"validation_rule": "height_pixels>", "validation_value": 14, "validation_error": "Taller than 14 pixels."},
]
EDIT_DETAIL: dict[str, Any] = {
    "model_id": EDIT, "display_name": "Real edit", "categories": ["image-to-image"], "kind": "model",
    "base_price_usd": 0.028, "price_unit": "output", "required_inputs": ["prompt", "image"],
    "input_schema": {"type": "object", "properties": {
        "prompt": {"type": "string"},
        "image": {"type": "array", "format": "image_uris", "items": {"type": "string"}, "validations": REAL_RULES},
    }},
}  # fmt: skip


def _data_uri(size: tuple[int, int]) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(_png(size)).decode()


def test_runcomfys_live_rule_names_are_all_read_and_applied() -> None:
    rules = parse_rules(REAL_RULES, "Image")
    assert [(r.subject, r.op, r.value) for r in rules] == [
        ("file_size_mb", "<", 30.0), ("aspect_ratio", ">", 0.0625), ("aspect_ratio", "<", 16.0),
        ("width", ">", 14.0), ("height", ">", 14.0)]  # fmt: skip
    spec = parse_schema(EDIT_DETAIL)

    def errors(size: tuple[int, int]) -> dict[str, str]:
        return validate_input(spec, {"prompt": "tint", "image": [_data_uri(size)]}).errors

    assert errors((100, 80)) == {}
    assert errors((10, 10)) == {"image": "Wider than 14 pixels."}
    assert errors((100, 10)) == {"image": "Taller than 14 pixels."}
    assert errors((1700, 100)) == {"image": "Not wider than 16:1."}
    assert errors((100, 1700)) == {"image": "Not taller than 1:16."}
    assert parse_rules([{"validation_rule": "height/width<", "validation_value": 2}], "x") == (
        Rule("height_ratio", "<", 2.0, "x: height ratio must be < 2."),)
    # a URL is never measured from its text: ".../shot_10x10.png" is left to the server
    assert validate_input(spec, {"prompt": "tint", "image": ["https://cdn.example/shot_10x10.png"]}).errors == {}


@pytest.mark.parametrize(("size", "message"), [((10, 10), "Wider than 14 pixels."),
                                               ((1700, 100), "Not wider than 16:1.")])  # fmt: skip
def test_a_local_image_that_breaks_a_rule_is_refused_at_the_field_and_never_sent(
    token: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], size: tuple[int, int], message: str
) -> None:
    folder = Paths.default().user_models_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "acme__real-edit.json").write_text(json.dumps(EDIT_DETAIL), "utf-8")
    picture = tmp_path / "small.png"
    picture.write_bytes(_png(size))
    with routed_server({}) as server:
        code = main(["submit", "tint it", "--model", EDIT, "--set", f"image={picture}", "--base-url", server.base_url])
        posts = [c for c in server.seen if c.method == "POST"]
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert posts == []  # refused here, not by the server after an upload


# -------------------------------------------------------------------------------------- the catalog
def _entry(model_id: str, name: str, categories: list[str], price: float = 0.03, unit: str = "output") -> dict[str, Any]:
    return {"model_id": model_id, "display_name": name, "kind": "model", "categories": categories,
            "base_price_usd": price, "price_unit": unit}  # fmt: skip


REAL_CATALOG = [
    _entry("bytedance/seedream-5/lite/text-to-image", "Seedream 5 lite", ["text-to-image"]),
    _entry("bytedance/seedream-5/lite/edit", "Seedream 5 lite edit", ["image-to-image"], 0.028),
    _entry("bytedance/seedance-1/lite/image-to-video", "Seedance lite i2v", ["image-to-video"], 0.036, "second"),
    _entry("acme/voice/tts", "Voice", ["text-to-audio"], 0.01, "second"),
]


def test_a_catalog_entry_of_kind_model_takes_its_task_and_output_from_its_categories() -> None:
    entries = [entry_from(raw) for raw in REAL_CATALOG]
    assert [(e.kind, e.output) for e in entries if e] == [
        ("text-to-image", "image"), ("image-to-image", "image"), ("image-to-video", "video"),
        ("text-to-audio", "audio")]  # fmt: skip
    odd = entry_from({"model_id": "x/y/upscaler", "kind": "model", "categories": ["Featured", "Text to Video"]})
    assert odd is not None and (odd.kind, odd.output) == ("text-to-video", "video")
    bare = entry_from({"model_id": "bytedance/seedream-5/lite/edit", "kind": "model"})
    assert bare is not None and bare.kind == "edit" and bare.output == "image"  # no categories: from the id
    assert entry_from({"model_id": "a/b", "kind": "model", "categories": []}).kind == ""  # type: ignore[union-attr]


def _catalog_route(entries: list[dict[str, Any]], *, envelope: str = "models") -> Any:
    def answer(call: Call) -> tuple[int, Any]:
        offset, limit = int(call.query.get("offset", 0)), int(call.query.get("limit", 100))
        return 200, {envelope: entries[offset:offset + limit], "total": len(entries)}

    return answer


def _listed(out: str) -> list[str]:
    return [line.split()[-1] for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize(("kind", "expected"), [
    ("text-to-image", ["bytedance/seedream-5/lite/text-to-image"]),
    ("edit", ["bytedance/seedream-5/lite/edit"]),
    ("image-to-image", ["bytedance/seedream-5/lite/edit"]),
    ("video", ["bytedance/seedance-1/lite/image-to-video"]),
    ("image-to-video", ["bytedance/seedance-1/lite/image-to-video"]),
])  # fmt: skip
def test_models_kind_finds_real_shaped_models_by_their_task(
    token: str, capsys: pytest.CaptureFixture[str], kind: str, expected: list[str]
) -> None:
    with routed_server({"GET /v1/models": _catalog_route(REAL_CATALOG)}) as server:
        code = main(["models", "--kind", kind, "--base-url", server.base_url])
        asked = server.calls("GET", "/v1/models")
    out = capsys.readouterr()
    assert code == 0, out.err
    assert _listed(out.out) == expected
    assert all("kind" not in c.query for c in asked)  # the server's kind is "model": never filtered on


def test_models_shows_the_task_not_model_in_every_row(token: str, capsys: pytest.CaptureFixture[str]) -> None:
    with routed_server({"GET /v1/models": _catalog_route(REAL_CATALOG)}) as server:
        assert main(["models", "--base-url", server.base_url]) == 0
        assert main(["models", "--json", "--base-url", server.base_url]) == 0
    out = capsys.readouterr().out
    table, _, listing = out.partition("{")
    rows = table.strip().splitlines()
    assert len(rows) == 4 and not any(" model " in row for row in rows)
    assert "text-to-image" in rows[0] and "image-to-video" in rows[2]
    body = json.loads("{" + listing)
    assert [(m["kind"], m["output"]) for m in body["models"]][2] == ("image-to-video", "video")


def test_a_catalog_in_a_data_envelope_is_listed(token: str, capsys: pytest.CaptureFixture[str]) -> None:
    with routed_server({"GET /v1/models": _catalog_route(REAL_CATALOG[:3], envelope="data")}) as server:
        code = main(["models", "--base-url", server.base_url])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert len(_listed(out.out)) == 3


def test_a_catalog_answer_with_no_list_says_so(token: str, capsys: pytest.CaptureFixture[str]) -> None:
    with routed_server({"GET /v1/models": lambda call: (200, {"entries_are_elsewhere": True, "total": 3})}) as srv:
        code = main(["models", "--base-url", srv.base_url])
    err = capsys.readouterr().err
    assert code == 0
    assert "held no list of models" in err and "only the models on disk are listed" in err.lower()


def test_a_catalog_that_ignores_offset_and_claims_a_trillion_stops(
    token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def same_page(call: Call) -> tuple[int, Any]:
        return 200, {"models": REAL_CATALOG, "total": 10**12}

    with routed_server({"GET /v1/models": same_page}) as server:
        code = main(["models", "--base-url", server.base_url])
        asked = len(server.calls("GET", "/v1/models"))
    out = capsys.readouterr()
    assert code == 0, out.err
    assert len(_listed(out.out)) == 4  # each model once
    assert asked == 2  # the second page added nothing: it stopped there
    assert "Page 2 of RunComfy's catalog held only models already listed" in out.err


def test_a_catalog_of_endless_new_models_stops_at_the_page_cap(
    token: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_catalog, "MAX_PAGES", 3)

    def endless(call: Call) -> tuple[int, Any]:
        offset, limit = int(call.query["offset"]), int(call.query["limit"])
        return 200, {"models": [_entry(f"gen/m{offset + i}", f"M {offset + i}", ["text-to-image"])
                                for i in range(limit)], "total": 10**12}  # fmt: skip

    with routed_server({"GET /v1/models": endless}) as server:
        code = main(["models", "--base-url", server.base_url])
        asked = len(server.calls("GET", "/v1/models"))
    out = capsys.readouterr()
    assert code == 0, out.err
    assert asked == 3 and len(_listed(out.out)) == 300
    assert "claims 1,000,000,000,000 models; only the first 300 (3 pages) were asked for" in out.err


# ------------------------------------------------------------------------------------ fetch-model
def test_a_detail_naming_another_model_never_replaces_it(token: str, capsys: pytest.CaptureFixture[str]) -> None:
    hijack = {**EDIT_DETAIL, "model_id": MODEL, "display_name": "HIJACKED", "base_price_usd": 99.0}
    with routed_server({"GET /v1/models/acme/other": lambda call: (200, hijack)}) as server:
        code = main(["fetch-model", "acme/other", "--base-url", server.base_url])
    err = capsys.readouterr().err
    assert code != 0 and "describes another model" in err and MODEL in err
    folder = Paths.default().user_models_dir
    assert not folder.exists() or list(folder.iterdir()) == []
    registry = ModelRegistry(folder)
    assert registry.get(MODEL).title != "HIJACKED" and registry.errors == []


def test_a_detail_without_an_id_is_stored_under_the_id_asked_for(token: str, capsys: pytest.CaptureFixture[str]) -> None:
    anonymous = {k: v for k, v in EDIT_DETAIL.items() if k != "model_id"}
    with routed_server({"GET /v1/models/acme/plain": lambda call: (200, anonymous)}) as server:
        code = main(["fetch-model", "acme/plain", "--base-url", server.base_url])
    assert code == 0, capsys.readouterr().err
    registry = ModelRegistry(Paths.default().user_models_dir)
    assert registry.get("acme/plain").model_id == "acme/plain" and registry.errors == []


def test_a_schema_too_large_to_load_is_refused_at_fetch_and_the_old_copy_kept(
    token: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = Paths.default().user_models_dir
    folder.mkdir(parents=True, exist_ok=True)
    old = folder / "acme__real-edit.json"
    old.write_text(json.dumps(EDIT_DETAIL), "utf-8")
    monkeypatch.setattr(schema_reader, "MAX_FILE_BYTES", 20_000)  # what the registry would refuse to load
    big = {**EDIT_DETAIL, "pricing_note": "x" * 30_000}
    with routed_server({"GET /v1/models/" + EDIT: lambda call: (200, big)}) as server:
        code = main(["fetch-model", EDIT, "--base-url", server.base_url])
    err = capsys.readouterr().err
    assert code != 0 and "more than a schema may be" in err and "not saved" in err
    assert json.loads(old.read_text("utf-8")) == EDIT_DETAIL  # the working copy is untouched
    assert ModelRegistry(folder).errors == []  # and no later command has anything to warn about


def test_a_detail_the_registry_could_not_read_back_is_refused_at_fetch(
    token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # 1e999 reads as infinity; written back it becomes "Infinity", which no JSON reader takes
    raw = json.dumps({**EDIT_DETAIL, "base_price_usd": 0.5}).replace("0.5", "1e999").encode()
    with routed_server({"GET /v1/models/" + EDIT: lambda call: (200, raw)}) as server:
        code = main(["fetch-model", EDIT, "--base-url", server.base_url])
    err = capsys.readouterr().err
    assert code != 0 and "not saved" in err and "Traceback" not in err
    folder = Paths.default().user_models_dir
    assert not folder.exists() or list(folder.iterdir()) == []
    assert ModelRegistry(folder).errors == []


def test_a_rule_check_on_a_decompression_bomb_is_quiet_and_unknown() -> None:
    """The rules read an image's size from its header; a bomb's claim neither raises nor prints a warning."""
    import io
    import warnings

    from PIL import Image

    from seedream_tui.schema.rules import image_dimensions

    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    raw = bytearray(buffer.getvalue())
    raw[16:24] = (40000).to_bytes(4, "big") * 2  # IHDR width and height: 1.6 gigapixels claimed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert image_dimensions(bytes(raw)) is None
