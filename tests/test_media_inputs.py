"""Image inputs: URLs, local files as data: URIs (size limits), results from history, and the fake's edits."""

from __future__ import annotations

import base64
import io
import tempfile
from pathlib import Path
from typing import Any

import pytest
from helpers import TOKEN, open_core, wait_status
from PIL import Image

from seedream_tui.api.errors import InvalidInputError
from seedream_tui.fake.server import FakeServerThread
from seedream_tui.jobs import media_inputs
from seedream_tui.jobs.media_inputs import MediaInputError, resolve_media, shorten_data_uris
from seedream_tui.jobs.model import JobStatus
from seedream_tui.schema import parse_schema

T2I = "bytedance/seedream-5/lite/text-to-image"
EDIT = "bytedance/seedream-5/lite/edit"
KONTEXT = "blackforestlabs/flux-kontext/pro/edit"  # a single image_uri field: image_url


def _spec(server: FakeServerThread, model_id: str) -> Any:
    return parse_schema(server.server.models[model_id].detail())


def _png(path: Path, size: tuple[int, int], colour: tuple[int, int, int] = (200, 30, 30), fmt: str = "PNG") -> Path:
    Image.new("RGB", size, colour).save(path, fmt)
    return path


def _decoded(uri: str) -> Image.Image:
    head, _, payload = uri.partition(",")
    image = Image.open(io.BytesIO(base64.b64decode(payload)))
    image.load()
    return image


def _none(job_id: int, index: int) -> None:
    return None


def test_urls_pass_and_files_become_data_uris(fake_server: FakeServerThread, tmp_path: Path) -> None:
    spec = _spec(fake_server, EDIT)
    png = _png(tmp_path / "a.png", (64, 48))
    webp = _png(tmp_path / "b.webp", (32, 32), fmt="WEBP")
    done = resolve_media(spec, {"prompt": "p", "image": ["https://cdn.example/x.png", str(png), str(webp)]},
                         _none)  # fmt: skip
    url, first, second = done.values["image"]
    assert url == "https://cdn.example/x.png"
    assert first.startswith("data:image/png;base64,") and _decoded(first).size == (64, 48)
    assert second.startswith("data:image/png;base64,")  # webp is converted: PNG or JPEG only
    assert done.parents == ()


def test_a_file_above_the_models_size_rule_is_scaled_down(fake_server: FakeServerThread, tmp_path: Path) -> None:
    spec = _spec(fake_server, EDIT)  # "Each input image must be smaller than 10 MB."
    noisy = Image.effect_noise((2400, 2400), 120).convert("RGB")
    big = tmp_path / "big.png"
    noisy.save(big, "PNG")
    limit = media_inputs.image_limit(spec.field("image"))
    assert limit < 10 * 2**20
    # a tighter rule makes the difference visible without a 10 MB fixture
    tight = parse_schema({"model_id": "a/b", "input_schema": {"properties": {"image": {
        "type": "string", "format": "image_uri", "validations": [
            {"validation_rule": "file_size_mb<", "validation_value": 0.5, "validation_error": "Under 0.5 MB."}]}}}})  # fmt: skip
    sent = resolve_media(tight, {"image": str(big)}, _none).values["image"]
    assert sent.startswith("data:image/jpeg;base64,")
    assert len(base64.b64decode(sent.partition(",")[2])) < 0.5 * 2**20
    assert _decoded(sent).size[0] < 2400


def test_refusals_are_sentences(fake_server: FakeServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec(fake_server, KONTEXT)
    with pytest.raises(MediaInputError, match="does not exist"):
        resolve_media(spec, {"image_url": str(tmp_path / "nope.png")}, _none)
    (tmp_path / "notes.txt").write_text("hello", "utf-8")
    with pytest.raises(MediaInputError, match="not an image"):
        resolve_media(spec, {"image_url": str(tmp_path / "notes.txt")}, _none)
    with pytest.raises(MediaInputError, match="#7 has no result 1"):
        resolve_media(spec, {"image_url": "#7"}, _none)
    monkeypatch.setattr(media_inputs, "MAX_REQUEST_BYTES", 1000)
    with pytest.raises(MediaInputError, match="at most"):
        noisy = tmp_path / "c.png"
        Image.effect_noise((200, 200), 100).save(noisy)
        resolve_media(spec, {"image_url": str(noisy)}, _none)


def test_data_uris_are_shortened_for_display() -> None:
    shown = shorten_data_uris({"image": "data:image/png;base64," + "A" * 400_000, "n": 1})
    assert shown == {"image": "data:image/png (0.3 MB)", "n": 1}


async def test_an_edit_chain_three_deep_derives_each_image_from_the_last(fake_server: FakeServerThread) -> None:
    fake_server.set_config(tokens=[TOKEN])
    core = await open_core(fake_server.base_url)
    try:
        for model_id in (T2I, EDIT):
            core.registry.add(await core.fetch_model(model_id))
        first = await core.submit(core.registry.get(T2I), {"prompt": "a red fox"})
        previous = await wait_status(core, first.id, [JobStatus.COMPLETED])
        chain = [previous.id]
        for step in range(3):
            resolved = await core.resolve_media(core.registry.get(EDIT), {"image": [f"#{previous.id}"]})
            assert resolved.parents == (previous.id,)
            job = await core.submit(core.registry.get(EDIT), {"prompt": f"step {step}", "image": [f"#{previous.id}"]})
            done = await wait_status(core, job.id, [JobStatus.COMPLETED])
            source = Image.open(previous.outputs[0].path).convert("RGB")
            result = Image.open(done.outputs[0].path).convert("RGB")
            assert _derived(result, source, f"{done.request_id}/0")  # tinted and stamped from its source
            # sent as a data: URI (the result above is derived from it), kept in the history as typed
            assert done.inputs["image"] == [f"#{previous.id}"]
            chain.append(job.id)
            previous = done
        assert len(chain) == 4
        # the history keeps the lineage: the chain up from the last edit, and everything derived from the first
        assert await core.history.chain(chain[-1]) == chain
        assert await core.history.derived_from(chain[0]) == chain[1:]
        again = await core.rerun(chain[-1])  # the same inputs, the same place in the chain
        assert await core.history.parents(again.id) == [chain[-2]]
        assert (await core.history.get(again.id)).inputs == previous.inputs  # type: ignore[union-attr]
        # history can filter "derived from #first" (with other search words too)
        derived = await core.history.list_jobs(limit=50, search=f"from:#{chain[0]}")
        assert sorted(j.id for j in derived) == sorted([*chain[1:], again.id])
        assert await core.history.count_jobs(search=f"from:#{chain[0]}") == 4
        assert [j.id for j in await core.history.list_jobs(limit=50, search=f"step 1 from:#{chain[1]}")] == [chain[2]]
    finally:
        await core.close()


def _derived(result: Image.Image, source: Image.Image, key: str) -> bool:
    """The result's top quarter is exactly its source fitted to its size and tinted with the request's colour
    (the prompt is stamped at the bottom)."""
    from seedream_tui.fake.edits import render_derived

    buffer = Path(tempfile.mkdtemp()) / "expected.png"
    render_derived(source, buffer, key=key, size=result.size, fmt="png", prompt="")
    expected = Image.open(buffer).convert("RGB")
    box = (0, 0, result.size[0], result.size[1] // 4)
    return result.crop(box).tobytes() == expected.crop(box).tobytes()


async def test_url_inputs_from_its_own_cdn_work_and_other_hosts_get_a_stand_in(fake_server: FakeServerThread) -> None:
    fake_server.set_config(tokens=[TOKEN])
    core = await open_core(fake_server.base_url)
    try:
        kontext = await core.fetch_model(KONTEXT)
        t2i = await core.fetch_model(T2I)
        first = await wait_status(core, (await core.submit(t2i, {"prompt": "a boat"})).id, [JobStatus.COMPLETED])
        by_url = await core.submit(kontext, {"prompt": "at night", "image_url": first.outputs[0].url})
        assert (await wait_status(core, by_url.id)).status is JobStatus.COMPLETED
        # a public https URL is RunComfy's documented form: the offline fake answers with a stand-in, and says so
        foreign = await core.submit(kontext, {"prompt": "x", "image_url": "https://elsewhere.example/a.png"})
        stood_in = await wait_status(core, foreign.id)
        assert stood_in.status is JobStatus.COMPLETED and stood_in.outputs
        assert "stand-in" in (fake_server.jobs_snapshot()[stood_in.request_id or ""]["note"] or "")
        assert "stand-in" in (stood_in.note or "")  # the job says so, beside its image (detail, preview, CLI)
        with pytest.raises(InvalidInputError, match="does not decode to an image"):
            await core.submit(kontext, {"prompt": "x", "image_url": "data:image/png;base64,bm90IGFuIGltYWdl"})
    finally:
        await core.close()
