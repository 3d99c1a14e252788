"""Issue 18 §5: image inputs are kept as references, never as data: URIs, in the history and in memory.

A local file is stored as ``{"file", "sha256", "size"}`` and ``#12`` as typed; the ``data:`` URI exists only
while the submit is sent. A re-run reads the file again and says so when it is gone or changed; rows written
before (holding data: URIs) still re-run. (Run-time keys: test_run_time_keys.py.)
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from helpers import TOKEN, open_core, wait_status
from PIL import Image

from seedream_tui.api.errors import InvalidInputError
from seedream_tui.fake.server import FakeServerThread
from seedream_tui.jobs import media_inputs
from seedream_tui.jobs.media_inputs import image_field, shorten_data_uris
from seedream_tui.jobs.model import JobStatus

EDIT = "bytedance/seedream-5/lite/edit"
T2I = "bytedance/seedream-5/lite/text-to-image"


def _png(path: Path, colour: tuple[int, int, int] = (200, 30, 30)) -> Path:
    Image.new("RGB", (64, 48), colour).save(path, "PNG")
    return path


def _sent_images(sent: dict[str, Any], name: str) -> list[bytes]:
    values = sent[name] if isinstance(sent[name], list) else [sent[name]]
    assert all(v.startswith("data:image/") for v in values), values
    return [base64.b64decode(v.partition(",")[2]) for v in values]


async def _recording_core(fake_server: FakeServerThread) -> tuple[Any, list[dict[str, Any]]]:
    """A core whose every submit body is recorded (what RunComfy was sent)."""
    fake_server.set_config(tokens=[TOKEN])
    core = await open_core(fake_server.base_url)
    core.registry.add(await core.fetch_model(EDIT))
    sent: list[dict[str, Any]] = []
    real = core.client.submit

    async def recording(model_id: str, inputs: dict[str, Any]) -> Any:
        sent.append(inputs)
        return await real(model_id, inputs)

    core.client.submit = recording
    return core, sent


def _bytes_of(path: str | None) -> bytes:
    return Path(path or "").read_bytes()


def _row_inputs(core: Any, job_id: int) -> str:
    with sqlite3.connect(core.paths.history_db) as conn:
        text: str = conn.execute("SELECT inputs FROM jobs WHERE id = ?", (job_id,)).fetchone()[0]
    conn.close()
    return text


async def test_a_local_image_is_stored_as_a_reference_and_sent_as_data(fake_server: FakeServerThread,
                                                                        tmp_path: Path) -> None:
    core, sent = await _recording_core(fake_server)
    try:
        spec = core.registry.get(EDIT)
        name = image_field(spec).name
        photo = _png(tmp_path / "photo.png")
        job = await core.submit(spec, {"prompt": "at night", name: [str(photo)]})
        raw = photo.read_bytes()
        # RunComfy got the image itself
        assert _sent_images(sent[-1], name) == [raw]
        # the history row and the job in memory hold a reference: path, digest, size
        ref = {"file": str(photo), "sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)}
        assert job.inputs[name] == [ref]
        assert (await core.history.get(job.id)).inputs[name] == [ref]  # type: ignore[union-attr]
        row = _row_inputs(core, job.id)
        assert "data:" not in row and len(row) < 500
        done = await wait_status(core, job.id, [JobStatus.COMPLETED])
        assert done.inputs[name] == [ref]
        # shown as its path and size; loaded into the editor as its path
        assert shorten_data_uris(done.inputs)[name] == [f"{photo} ({len(raw) / 1e3:.0f} kB)"]
        assert media_inputs.editable_inputs(done.inputs)[name] == [str(photo)]

        # a re-run reads the file again and sends the same bytes; its row holds the reference too
        again = await core.rerun(job.id)
        assert _sent_images(sent[-1], name) == [raw]
        assert again.inputs[name] == [ref] and "data:" not in _row_inputs(core, again.id)
    finally:
        await core.close()


async def test_a_rerun_says_so_when_its_file_is_gone_or_changed(fake_server: FakeServerThread, tmp_path: Path) -> None:
    core, sent = await _recording_core(fake_server)
    try:
        spec = core.registry.get(EDIT)
        name = image_field(spec).name
        photo = _png(tmp_path / "photo.png")
        job = await core.submit(spec, {"prompt": "at night", name: [str(photo)]})
        rows = await core.history.count_jobs()
        _png(photo, colour=(10, 200, 10))  # the same name, another picture
        with pytest.raises(InvalidInputError, match=rf"Job {job.id} cannot be run again: .*{photo.name} has changed "
                                                    "since the job was sent with it"):
            await core.rerun(job.id)
        photo.unlink()
        with pytest.raises(InvalidInputError, match=rf"Job {job.id} cannot be run again: .*{photo.name} is gone "
                                                    r"\(moved or deleted\)"):
            await core.rerun(job.id)
        assert await core.history.count_jobs() == rows and len(sent) == 1  # nothing made, nothing sent
    finally:
        await core.close()


async def test_a_result_used_as_input_is_stored_as_its_job_reference(fake_server: FakeServerThread) -> None:
    core, sent = await _recording_core(fake_server)
    try:
        core.registry.add(await core.fetch_model(T2I))
        first = await wait_status(core, (await core.submit(core.registry.get(T2I), {"prompt": "a fox"})).id,
                                  [JobStatus.COMPLETED])
        spec = core.registry.get(EDIT)
        name = image_field(spec).name
        job = await core.submit(spec, {"prompt": "at night", name: [f"#{first.id}"]})
        assert _sent_images(sent[-1], name) == [_bytes_of(first.outputs[0].path)]
        assert job.inputs[name] == [f"#{first.id}"] and "data:" not in _row_inputs(core, job.id)
    finally:
        await core.close()


async def test_rows_from_before_holding_data_uris_still_rerun(fake_server: FakeServerThread, tmp_path: Path) -> None:
    core, sent = await _recording_core(fake_server)
    try:
        spec = core.registry.get(EDIT)
        name = image_field(spec).name
        raw = _png(tmp_path / "old.png").read_bytes()
        uri = "data:image/png;base64," + base64.b64encode(raw).decode("ascii")
        old = await core.history.create_job(EDIT, {"prompt": "old", name: [uri]})
        await core.history.update_job(old.id, request_id="old-request", status=JobStatus.COMPLETED)
        again = await core.rerun(old.id)
        assert sent[-1][name] == [uri]
        assert (await wait_status(core, again.id)).status is JobStatus.COMPLETED
    finally:
        await core.close()


def test_a_model_without_schema_still_resolves_stored_references(tmp_path: Path) -> None:
    photo = _png(tmp_path / "p.png")
    raw = photo.read_bytes()
    ref = {"file": str(photo), "sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)}
    resolved = media_inputs.resolve_stored_refs({"prompt": "x", "image": ref, "images": [ref, "https://cdn.example/a.png"]})
    assert base64.b64decode(resolved.values["image"].partition(",")[2]) == raw
    assert resolved.values["images"][1] == "https://cdn.example/a.png"
    assert media_inputs.is_file_ref(resolved.stored["image"])
