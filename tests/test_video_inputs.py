"""Video inputs (issue 22): a ``video_uris`` field takes a local file, a URL or ``#31`` like image inputs do,
within RunComfy's limit for input videos (at most 100 MB). A local video is checked (a video, its size) before
a byte of it is read; the history keeps a reference, never the ``data:`` URI sent; ``#31`` sends that job's
video and records the lineage. Against the fake server."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import video_samples as samples
from helpers import TOKEN, open_core, wait_status
from PIL import Image

from seedream_tui.api.errors import InvalidInputError
from seedream_tui.cli import main
from seedream_tui.fake.catalog import FakeModel
from seedream_tui.fake.server import FakeConfig, FakeServerThread
from seedream_tui.jobs import media_inputs, video
from seedream_tui.jobs.media_inputs import MediaInputError, is_video_field, resolve_media
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.paths import Paths
from seedream_tui.schema.spec import FieldKind, FieldSpec

V2V = "community/video-restyle/video-to-video"
T2V = "bytedance/seedance-1/lite/text-to-video"
T2I = "bytedance/seedream-5/lite/text-to-image"
#: a video-to-video model as RunComfy describes one: a ``video_uris`` array with no ``items`` (served by the
#: fake for these tests only, so the demo's catalog stays as it is)
V2V_MODEL = FakeModel(
    V2V, "Video restyle · video to video",
    {"type": "object", "title": "Input schema", "required": ["prompt", "video_uris"],
     "properties": {"prompt": {"title": "Prompt", "type": "string"},
                    "video_uris": {"title": "Source video", "type": "array", "format": "video_uris",
                                   "minItems": 1, "maxItems": 1},
                    "duration": {"title": "Duration", "type": "integer", "enum": [5, 10], "default": 5}}},
    {}, {"display_name": "Video restyle", "categories": ["video", "video-to-video"], "kind": "model",
         "base_price_usd": 0.036, "price_unit": "second"},
)


@pytest.fixture
def video_fake() -> Any:
    config = FakeConfig(workers=2, min_duration=0.05, max_duration=0.1, image_scale=0.2, video_scale=0.5,
                        video_fps=6, seed=7, tokens=[TOKEN])
    with FakeServerThread(config) as server:
        server.server.models[V2V] = V2V_MODEL
        yield server


async def _recording_core(server: FakeServerThread) -> tuple[Any, list[dict[str, Any]]]:
    core = await open_core(server.base_url)
    core.registry.add(await core.fetch_model(V2V))
    sent: list[dict[str, Any]] = []
    real = core.client.submit

    async def recording(model_id: str, inputs: dict[str, Any]) -> Any:
        sent.append(inputs)
        return await real(model_id, inputs)

    core.client.submit = recording
    return core, sent


def _sent_video(value: Any) -> bytes:
    [uri] = value
    assert uri.startswith("data:video/mp4;base64,"), uri[:40]
    return base64.b64decode(uri.partition(",")[2])


def _row_inputs(core: Any, job_id: int) -> str:
    conn = sqlite3.connect(core.paths.history_db)
    try:
        text: str = conn.execute("SELECT inputs FROM jobs WHERE id = ?", (job_id,)).fetchone()[0]
    finally:
        conn.close()
    return text


def _job_count(core: Any) -> int:
    conn = sqlite3.connect(core.paths.history_db)
    try:
        count: int = conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
    finally:
        conn.close()
    return count


def _sparse(path: Path, size: int) -> None:
    with path.open("wb") as fh:
        os.truncate(fh.fileno(), size)


def test_video_fields_are_known_by_format_or_name() -> None:
    def media(name: str, fmt: str | None, kind: FieldKind = FieldKind.MEDIA_LIST) -> FieldSpec:
        return FieldSpec(name=name, kind=kind, title=name, format=fmt)

    assert is_video_field(media("video_uris", "video_uris"))
    assert is_video_field(media("clip", "video_url", FieldKind.MEDIA))
    assert is_video_field(media("reference_video", "media_uri", FieldKind.MEDIA))
    assert is_video_field(media("videos", None))
    assert not is_video_field(media("image_url", "image_uri", FieldKind.MEDIA))
    assert not is_video_field(media("video_thumbnail", "image_uri", FieldKind.MEDIA))  # the format says image
    assert not is_video_field(FieldSpec(name="video", kind=FieldKind.STRING, title="Video"))


async def test_a_local_video_is_sent_as_data_and_the_history_keeps_a_reference(
    video_fake: FakeServerThread, tmp_path: Path
) -> None:
    clip = samples.make_mp4(tmp_path / "clip.mp4")
    core, sent = await _recording_core(video_fake)
    try:
        spec = core.registry.get(V2V)
        job = await core.submit(spec, {"prompt": "as a watercolour", "video_uris": [str(clip)]})
        done = await wait_status(core, job.id)
        row = _row_inputs(core, job.id)
    finally:
        await core.close()
    raw = clip.read_bytes()
    assert _sent_video(sent[-1]["video_uris"]) == raw  # RunComfy got the video itself, not re-encoded
    [kept] = job.inputs["video_uris"]
    assert kept["file"] == str(clip) and kept["size"] == len(raw)  # a reference to the file, not its bytes
    assert "data:" not in row and json.loads(row)["video_uris"] == [kept]
    assert done.status is JobStatus.COMPLETED, done.error
    assert done.outputs[0].kind == "video"


async def test_a_video_over_100_mb_is_refused_before_it_is_read_or_sent(
    video_fake: FakeServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = tmp_path / "huge.mp4"
    _sparse(huge, 101 * 2**20)  # like `truncate -s 101M`: no disk used
    spec_field = FieldSpec(name="video_uris", kind=FieldKind.MEDIA_LIST, title="Source video", format="video_uris")

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the file was opened for reading")

    with monkeypatch.context() as patch:  # neither decoded nor read: the size is checked first
        patch.setattr(video, "inspect_video", never)
        patch.setattr(media_inputs.os, "fdopen", never)
        spec = type("Spec", (), {"fields": (spec_field,)})()
        with pytest.raises(MediaInputError) as caught:
            resolve_media(spec, {"video_uris": [str(huge)]}, lambda job_id, index: None)  # type: ignore[arg-type]
    assert str(caught.value) == (f"Source video: {huge} is 106 MB; RunComfy takes input videos of at most "
                                 "100 MB. Trim or compress it, or give a URL.")
    core, sent = await _recording_core(video_fake)
    try:
        with pytest.raises(InvalidInputError) as refused:
            await core.submit(core.registry.get(V2V), {"prompt": "big", "video_uris": [str(huge)]})
        assert "at most 100 MB" in str(refused.value) and refused.value.fields[0].field == "video_uris"
        assert sent == [] and _job_count(core) == 0  # nothing sent, nothing saved
    finally:
        await core.close()


async def test_a_file_that_says_mp4_and_is_html_or_an_image_is_refused(
    video_fake: FakeServerThread, tmp_path: Path
) -> None:
    page = tmp_path / "page.mp4"
    page.write_text("<!doctype html><html><body>Not found</body></html>" * 20)
    still = tmp_path / "still.png"
    Image.new("RGB", (32, 32), (9, 9, 9)).save(still)
    core, sent = await _recording_core(video_fake)
    try:
        spec = core.registry.get(V2V)
        with pytest.raises(InvalidInputError) as html:
            await core.submit(spec, {"prompt": "x", "video_uris": [str(page)]})
        with pytest.raises(InvalidInputError) as image:
            await core.submit(spec, {"prompt": "x", "video_uris": [str(still)]})
        with pytest.raises(InvalidInputError) as missing:
            await core.submit(spec, {"prompt": "x", "video_uris": [str(tmp_path / "gone.mp4")]})
        assert sent == [] and _job_count(core) == 0
    finally:
        await core.close()
    for refusal, path in ((html, page), (image, still)):
        text = str(refusal.value)
        assert text.startswith(f"Source video: {path} ") and "cannot be sent as a video" in text, text
        assert "Traceback" not in text and text.endswith(".")
    assert "does not exist" in str(missing.value)


async def test_a_jobs_video_result_is_an_input_with_its_lineage(video_fake: FakeServerThread) -> None:
    core, sent = await _recording_core(video_fake)
    try:
        first = await wait_status(core, (await core.engine.submit(T2V, {"prompt": "waves", "duration": 5})).id)
        assert first.status is JobStatus.COMPLETED, first.error
        spec = core.registry.get(V2V)
        job = await core.submit(spec, {"prompt": "as ink", "video_uris": [f"#{first.id}"]})
        assert _sent_video(sent[-1]["video_uris"]) == samples.read(first.outputs[0].path or "")
        assert job.inputs["video_uris"] == [f"#{first.id}"]  # kept as typed
        assert await core.history.parents(job.id) == [first.id]
        done = await wait_status(core, job.id)
        assert done.status is JobStatus.COMPLETED, done.error
        # an image result is not a video: a sentence
        still = await wait_status(core, (await core.engine.submit(T2I, {"prompt": "a cat"})).id)
        with pytest.raises(InvalidInputError) as refused:
            await core.submit(spec, {"prompt": "as ink", "video_uris": [f"#{still.id}"]})
        assert "cannot be sent as a video" in str(refused.value)
    finally:
        await core.close()


async def test_a_url_is_sent_as_it_is(video_fake: FakeServerThread) -> None:
    core, sent = await _recording_core(video_fake)
    try:
        url = "https://example.com/clip.mp4"
        job = await core.submit(core.registry.get(V2V), {"prompt": "x", "video_uris": [url]})
        assert sent[-1]["video_uris"] == [url] and job.inputs["video_uris"] == [url]
    finally:
        await core.close()


def test_the_cli_takes_a_video_file_and_a_job_reference(
    video_fake: FakeServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)
    clip = samples.make_mp4(tmp_path / "clip.mp4")
    url = ["--base-url", video_fake.base_url]
    assert main(["fetch-model", V2V, *url]) == 0, capsys.readouterr().err
    assert main(["submit", "restyle", "--model", V2V, "--set", f"video_uris={clip}", "--wait", *url]) == 0, \
        capsys.readouterr().err
    capsys.readouterr()
    store = HistoryStore(Paths.default().history_db)
    try:
        [job] = store.list_jobs(limit=10)
    finally:
        store.close()
    [kept] = job.inputs["video_uris"]
    assert kept["file"] == str(clip) and kept["size"] == clip.stat().st_size
    assert main(["submit", "again", "--model", V2V, "--set", f"video_uris=#{job.id}", *url]) == 0, \
        capsys.readouterr().err
    store = HistoryStore(Paths.default().history_db)
    try:
        newest = store.list_jobs(limit=10)[0]
        assert newest.inputs["video_uris"] == [f"#{job.id}"] and store.parents(newest.id) == [job.id]
    finally:
        store.close()
    huge = tmp_path / "huge.mp4"
    _sparse(huge, 101 * 2**20)
    assert main(["submit", "big", "--model", V2V, "--set", f"video_uris={huge}", *url]) == 2
    err = capsys.readouterr().err
    assert "at most 100 MB" in err and "Traceback" not in err


def test_the_edit_chain_says_which_steps_are_videos(tmp_path: Path) -> None:
    from seedream_tui.jobs.model import OutputFile
    from seedream_tui.tui.screens.detail import chain_text, job_report

    store = HistoryStore(tmp_path / "history.db")
    try:
        still = store.create_job(T2I, {"prompt": "a cat"})
        store.set_outputs(still.id, [OutputFile(0, "https://cdn.example/a.png", format="png", kind="image")])
        film = store.create_job(V2V, {"prompt": "the cat walks", "image_url": f"#{still.id}"})
        store.set_outputs(film.id, [OutputFile(0, "https://cdn.example/b.mp4", format="mp4", kind="video",
                                               duration=5.0)])
        store.set_parents(film.id, [still.id])
        sound = store.create_job("some/audio-model", {"prompt": "purr"})
        store.set_outputs(sound.id, [OutputFile(0, "https://cdn.example/c.mp3", format="mp3", kind="audio")])
        store.set_parents(sound.id, [film.id])
        steps = store.chain_kinds(sound.id)
        film_job = store.get(film.id)
    finally:
        store.close()
    assert steps == [(still.id, None), (film.id, "video"), (sound.id, "audio")]
    assert chain_text(steps) == f"#{still.id} → #{film.id} ▶ → #{sound.id} ♪"
    assert chain_text([still.id, film.id]) == f"#{still.id} → #{film.id}"  # plain ids still read
    assert film_job is not None
    assert f"edit chain  #{still.id} → #{film.id} ▶" in job_report(film_job, steps[:2]).plain


def test_the_history_command_says_video_or_sound_not_file() -> None:
    from seedream_tui.cli import _files_word
    from seedream_tui.jobs.model import OutputFile

    def out(fmt: str, kind: str | None) -> OutputFile:
        return OutputFile(0, f"https://cdn.example/x.{fmt}", format=fmt, kind=kind)

    assert _files_word([out("png", "image"), out("png", None)]) == "2 img"
    assert _files_word([out("mp4", "video")]) == "1 video"
    assert _files_word([out("mp4", None), out("webm", None)]) == "2 videos"  # rows from before: by format
    assert _files_word([out("mp3", "audio")]) == "1 sound"
    assert _files_word([out("bin", "file")]) == "1 file"
    assert _files_word([out("mp4", "video"), out("png", "image")]) == "2 files"


def test_a_video_too_big_for_one_request_or_no_file_at_all_is_a_sentence(tmp_path: Path) -> None:
    spec_field = FieldSpec(name="video", kind=FieldKind.MEDIA, title="Video", format="video_uri")
    spec = type("Spec", (), {"fields": (spec_field,)})()

    def refusal(value: str) -> str:
        with pytest.raises(MediaInputError) as caught:
            resolve_media(spec, {"video": value}, lambda job_id, index: None)  # type: ignore[arg-type]
        return str(caught.value)

    big = tmp_path / "big.mp4"
    _sparse(big, 60 * 1000 * 1000)  # within 100 MB, but 76 MiB as a data: URI
    assert refusal(str(big)) == (f"Video: {big} is 60 MB, too big to send from this computer: in the request it "
                                 "would take 76 MiB and RunComfy takes at most 64 MiB. Put it online and give its "
                                 "https URL.")
    assert refusal(str(tmp_path)) == f"Video: {tmp_path} is a folder, not a video file."
    assert "is not a regular file" in refusal("/dev/zero") and "give a video file" in refusal("/dev/zero")


async def test_a_rerun_sends_the_video_again_and_says_so_when_it_changed(
    video_fake: FakeServerThread, tmp_path: Path
) -> None:
    clip = samples.make_mp4(tmp_path / "clip.mp4")
    core, sent = await _recording_core(video_fake)
    try:
        job = await core.submit(core.registry.get(V2V), {"prompt": "as charcoal", "video_uris": [str(clip)]})
        again = await core.rerun(job.id)
        assert _sent_video(sent[-1]["video_uris"]) == samples.read(clip)
        assert again.inputs["video_uris"] == job.inputs["video_uris"]  # the same reference
        samples.make_mp4(clip, frames=20)  # another video in its place
        with pytest.raises(InvalidInputError) as refused:
            await core.rerun(job.id)
        assert "has changed since the job was sent with it, so it would not be the same video" in str(refused.value)
    finally:
        await core.close()
