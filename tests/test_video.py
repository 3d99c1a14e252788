"""Videos end to end, the core (issue 22): the fake makes real MP4s, a video is checked before "done", its
provenance is in its MP4 tags, the history knows its kind, length, size and frame rate, and bad files end
in a sentence with the job's state honest (kept but not playable, or failed with the reason)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import video_samples as samples
from aiohttp import web
from helpers import is_file, open_core, wait_status
from PIL import Image
from scripted_server import scripted_server

from seedream_tui.fake.server import FakeConfig, FakeServerThread
from seedream_tui.jobs.downloads import Downloader
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.jobs.video import FramePlayer, VideoProblem, fmt_clock, inspect_video, read_tags

T2V = "bytedance/seedance-1/lite/text-to-video"
I2V = "bytedance/seedance-1/lite/image-to-video"


@pytest.fixture
def video_fake() -> Any:
    """A fake whose videos are large enough to measure (720p x 0.1 = 128x72) at a low frame rate."""
    config = FakeConfig(workers=2, min_duration=0.05, max_duration=0.1, image_scale=0.2, video_scale=0.5,
                        video_fps=6, seed=7)
    with FakeServerThread(config) as server:
        yield server


async def test_the_fake_makes_a_real_h264_video_of_the_duration_and_size_asked_for(
    video_fake: Any, tmp_path: Path
) -> None:
    core = await open_core(video_fake.base_url)
    try:
        job = await core.engine.submit(T2V, {"prompt": "waves at dusk", "duration": 10, "resolution": "480p"})
        done = await wait_status(core, job.id)
        [exported] = await core.export([job.id], tmp_path / "out")
    finally:
        await core.close()
    assert done.status is JobStatus.COMPLETED, done.error
    [clip] = done.outputs
    assert clip.kind == "video" and clip.problem is None
    assert clip.duration == pytest.approx(10.0, abs=0.2) and clip.fps == pytest.approx(6.0)
    assert (clip.width, clip.height) == (84, 48)  # 854x480 x 0.1, even sides
    info = inspect_video(clip.path or "", decode=1000)
    assert info.codec == "h264" and (info.width, info.height) == (84, 48)
    # provenance in the file's own tags
    tags = read_tags(clip.path or "")
    assert tags["prompt"] == "waves at dusk" and tags["model_id"] == T2V
    assert tags["request_id"] == done.request_id and tags["inputs"]["duration"] == 10
    assert exported.suffix == ".mp4" and read_tags(exported) == tags  # `export` keeps them
    # the poster is the first frame, as the thumbnail
    assert is_file(clip.thumb_path)
    with Image.open(clip.thumb_path or "") as poster:
        assert poster.size == (84, 48)
    # the history keeps kind, length and frame rate
    store = HistoryStore(core.config.paths.history_db)
    try:
        kept = store.get(job.id)
    finally:
        store.close()
    assert kept is not None and kept.outputs[0] == clip


async def test_frames_move_and_image_to_video_comes_from_its_input(video_fake: Any, tmp_path: Path) -> None:
    source = tmp_path / "red.png"
    Image.new("RGB", (200, 100), (230, 20, 20)).save(source)  # 2:1 and red
    core = await open_core(video_fake.base_url)
    try:
        spec = await core.fetch_model(I2V)
        job = await core.submit(spec, {"prompt": "the red flag waves", "image_url": str(source), "duration": 5})
        done = await wait_status(core, job.id)
    finally:
        await core.close()
    assert done.status is JobStatus.COMPLETED, done.error
    [clip] = done.outputs
    assert clip.kind == "video" and clip.duration == pytest.approx(5.0, abs=0.2)
    assert clip.width == 2 * (clip.height or 0)  # the input's aspect
    player = FramePlayer(clip.path or "")
    try:
        first = player.next_frame((64, 64))
        assert first is not None
        _, _, image = first
        red, green, blue = image.convert("RGB").resize((1, 1)).getpixel((0, 0))  # type: ignore[misc]
        assert red > 2 * green and red > 2 * blue  # the input image, not a gradient of its own
        later = None
        for _ in range(10):
            later = player.next_frame((64, 64))
        assert later is not None and later[0] > first[0]
        assert later[2].tobytes() != image.tobytes()  # the camera moves
    finally:
        player.close()


# ------------------------------------------------------------------ bad files: a sentence, an honest state


def _downloader(tmp_path: Path, body: bytes) -> Downloader:
    http = httpx.AsyncClient(transport=httpx.MockTransport(
        lambda r: httpx.Response(200, content=body, headers={"Content-Type": "video/mp4"})))
    return Downloader(http, tmp_path / "images", tmp_path / "thumbs")


async def _fetch(tmp_path: Path, body: bytes) -> Any:
    downloader = _downloader(tmp_path, body)
    try:
        return await downloader.fetch("https://storage.runcomfy.net/v/0.mp4", job_id=1, request_id="r", index=0,
                                      media=True, provenance={"prompt": "p", "model_id": T2V})
    finally:
        await downloader.http.aclose()


@pytest.mark.parametrize(("make", "reason"), [
    (samples.truncated, "is damaged"),
    (samples.garbled, "is damaged"),
    (samples.zero_frames, "has neither pictures nor sound"),
    (samples.four_hours, "is 4:00:01 long, longer than the 1:00:00 this app plays"),
    (lambda _path: samples.frame_16k(), "has 15360x8640 frames, larger than the 7680x4320 (8K) this app plays"),
])
async def test_a_video_that_cannot_play_is_kept_with_the_reason(tmp_path: Path, make: Any, reason: str) -> None:
    body = make(tmp_path / "sample.mp4")
    saved = await _fetch(tmp_path, body)
    assert saved.kind == "video" and is_file(saved.path) and saved.thumb_path is None
    assert samples.read(saved.path) == body  # kept as it came: it was paid for
    assert saved.problem.startswith("The video ") and reason in saved.problem
    assert saved.problem.endswith("it was saved but cannot be played here.")
    assert "Traceback" not in saved.problem and saved.duration is None


def test_a_missing_decoder_is_a_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = samples.make_mp4(tmp_path / "v.mp4")
    import av

    real = av.container.InputContainer.decode

    def no_frames(self: Any, *args: Any, **kw: Any) -> Any:
        return iter(())

    monkeypatch.setattr(av.container.InputContainer, "decode", no_frames)
    monkeypatch.setattr("seedream_tui.jobs.video._has_decoder", lambda codec: False)
    with pytest.raises(VideoProblem, match=r"is in a format \(h264\) this app has no decoder for"):
        inspect_video(path)
    monkeypatch.setattr(av.container.InputContainer, "decode", real)
    assert inspect_video(path).kind == "video"


async def test_a_good_video_is_checked_tagged_and_given_a_poster(tmp_path: Path) -> None:
    saved = await _fetch(tmp_path, samples.good(tmp_path / "g.mp4"))
    assert saved.kind == "video" and saved.problem is None and is_file(saved.thumb_path)
    assert (saved.width, saved.height, saved.duration, saved.fps) == (64, 48, 2.0, 8.0)
    assert read_tags(saved.path) == {"prompt": "p", "model_id": T2V}
    assert fmt_clock(saved.duration) == "0:02" and fmt_clock(3725) == "1:02:05"


class _Origin:
    """A scripted RunComfy whose one job's output is ``body``."""

    def __init__(self, base_url: str, body: bytes) -> None:
        self.url, self.body = f"{base_url}/files/0.mp4", body

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/files/"):
            return web.Response(body=self.body, headers={"Content-Type": "video/mp4"})
        if request.method == "POST":
            return web.json_response({"request_id": "r-v"})
        return web.json_response({"request_id": "r-v", "status": "completed", "output": {"video": self.url}})


async def _job_with(body: bytes) -> Any:
    async with scripted_server() as server:
        server.script(_Origin(server.base_url, body))
        core = await open_core(server.base_url)
        try:
            job = await core.engine.submit(T2V, {"prompt": "a broken clip"})
            return await wait_status(core, job.id, within=30)
        finally:
            await core.close()


async def test_html_labelled_mp4_fails_the_job_with_a_sentence() -> None:
    done = await _job_with(samples.HTML)
    assert done.status is JobStatus.FAILED
    assert ("RunComfy made the video but it could not be saved: The downloaded file is a web page (HTML), not the "
            "video the model made.") in (done.error or ""), done.error
    assert "Traceback" not in (done.error or "")


async def test_a_damaged_video_completes_the_job_saved_but_not_playable(tmp_path: Path) -> None:
    body = samples.garbled(tmp_path / "g.mp4")
    done = await _job_with(body)
    assert done.status is JobStatus.COMPLETED, done.error
    [clip] = done.outputs
    assert clip.kind == "video" and is_file(clip.path) and "cannot be played here" in (clip.problem or "")


def test_the_player_never_holds_more_than_one_frame(tmp_path: Path) -> None:
    path = samples.make_mp4(tmp_path / "v.mp4", frames=24, fps=8)
    player = FramePlayer(path)
    try:
        assert player.duration == pytest.approx(3.0) and player.fps == 8.0 and player.frame_count == 24
        seen = []
        while (got := player.next_frame((32, 24))) is not None:
            seen.append(got[0])
        assert seen == list(range(24))
        player.seek(2.0)
        again = player.next_frame((32, 24))
        assert again is not None and again[0] == 16
    finally:
        player.close()


# ------------------------------------------------------------------ priced per second, counted in the ledger


async def test_a_video_is_quoted_per_second_and_the_ledger_counts_its_seconds(
    video_fake: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from seedream_tui.batch.planner import PlanRequest, Sweep, make_plan
    from seedream_tui.catalog.pricing import quote

    core = await open_core(video_fake.base_url)
    try:
        spec = await core.fetch_model(T2V)
        assert quote(spec, {"prompt": "x", "duration": 10}).usd == pytest.approx(0.36)  # 10 s x $0.036
        # the batch plan (`--dry-run --json`): each job at its own duration
        plan = make_plan(spec, PlanRequest(inputs={"prompt": "waves"}, sweeps=[Sweep("duration", (5, 10))]))
        assert plan.to_json()["total_usd"] == pytest.approx(0.18 + 0.36)
        job = await core.submit(spec, {"prompt": "waves", "duration": 10})
        done = await wait_status(core, job.id)
        assert done.cost == pytest.approx(0.36)
        assert await core.history.video_seconds() == (1, pytest.approx(10.0, abs=0.2))
    finally:
        await core.close()
    import json

    from seedream_tui import cli

    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "t")
    code = await asyncio.to_thread(cli.main, ["spend", "--json", "--base-url", video_fake.base_url])
    body = json.loads(capsys.readouterr().out)
    assert code == 0 and body["video_jobs"] == 1 and body["video_seconds"] == pytest.approx(10.0, abs=0.2)
    assert await asyncio.to_thread(cli.main, ["spend", "--base-url", video_fake.base_url]) == 0
    assert "video made" in capsys.readouterr().out


async def test_a_file_that_is_no_image_nor_video_is_kept_with_its_kind(tmp_path: Path) -> None:
    saved = await _fetch(tmp_path, b"\x00\x01binary output of some other kind" * 100)
    assert saved.kind == "file" and saved.format == "bin" and is_file(saved.path) and saved.problem is None
    from seedream_tui.tui.formatting import av_card

    assert (av_card(saved) or "").startswith("File · 3.3 KB: not an image or a video.")


def test_the_player_says_why_a_video_does_not_play(tmp_path: Path) -> None:
    from seedream_tui.tui.video_play import Playback

    frames: list[Any] = []
    for path, reason in ((tmp_path / "gone.mp4", "is damaged or not a video"),
                         (tmp_path / "page.mp4", "is damaged or not a video")):
        if path.name == "page.mp4":
            path.write_bytes(samples.HTML)
        playback = Playback(str(path), (32, 24), frames.append, max_fps=15)
        playback.run()  # returns at once: nothing to play
        assert playback.ended.is_set() and frames == []
        assert (playback.error or "").startswith(f"The video {reason}"), playback.error
