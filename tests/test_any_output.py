"""Whatever a model returns is kept, from the hosts the user trusts (issue 12, section 4).

RunComfy's clients collect outputs differently; the most liberal takes every http(s) URL anywhere in the
output. A video or a sound is saved with its own extension and never fails a job for not decoding as an
image. Downloads come only from RunComfy's storage hosts (and loopback, for the demo), plus what the user
adds to ``trusted_hosts``; any other host is refused with a sentence that names it and the setting.
"""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from helpers import MODEL, is_file, open_core, read, wait_status
from PIL import Image
from scripted_server import json_answer, raw_answer, scripted_server

from seedream_tui.api.errors import DownloadError
from seedream_tui.api.parse import collect_outputs
from seedream_tui.config import resolve_config
from seedream_tui.jobs.downloads import Downloader, UntrustedHost, sniff_media
from seedream_tui.jobs.model import JobStatus
from seedream_tui.paths import Paths

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def test_outputs_are_collected_from_the_whole_object_with_their_keys() -> None:
    assert collect_outputs({"image": "https://a/1.png"}) == (("image", "https://a/1.png"),)
    assert collect_outputs({"images": ["https://a/1.png", {"url": "https://a/2.png"}]}) == (
        ("images[0]", "https://a/1.png"), ("images[1].url", "https://a/2.png"))
    nested = {"result": {"seed": "123", "caption": "a cat", "poster": "https://a/p.png",
                         "video": {"url": "https://a/v.mp4"}}}
    assert collect_outputs(nested) == (("result.video.url", "https://a/v.mp4"), ("result.poster", "https://a/p.png"))
    assert collect_outputs({"image": "ftp://x/y.png"}) == (("image", "ftp://x/y.png"),)  # refused later, said
    assert collect_outputs(["https://a/x.png", "https://a/x.png"]) == (("[0]", "https://a/x.png"),)
    deep: object = "https://a/deep.png"
    for _ in range(200):
        deep = {"next": deep}
    assert collect_outputs(deep) == ()  # deeper than any real answer: not walked, never a RecursionError


async def test_a_video_and_its_poster_are_both_kept() -> None:
    async with scripted_server() as server:
        video, poster = f"{server.base_url}/files/v.mp4", f"{server.base_url}/files/p.png"
        server.script(
            json_answer({"request_id": "r-video"}),
            json_answer({"request_id": "r-video", "status": "completed",
                         "output": {"result": {"video": {"url": video}, "poster": poster}}}),
            raw_answer(MP4, headers={"Content-Type": "video/mp4"}),
            raw_answer(_png(), headers={"Content-Type": "image/png"}),
        )
        core = await open_core(server.base_url)
        try:
            job = await core.engine.submit(MODEL, {"prompt": "a short clip"})
            done = await wait_status(core, job.id)
        finally:
            await core.close()
    assert done.status is JobStatus.COMPLETED, done.error
    clip, still = done.outputs
    assert clip.format == "mp4" and (clip.path or "").endswith(".mp4") and clip.thumb_path is None
    assert read(clip.path) == MP4
    assert still.format == "png" and is_file(still.thumb_path) and (still.width, still.height) == (40, 30)


def test_media_is_told_by_its_first_bytes(tmp_path: Path) -> None:
    samples = {"mp4": MP4, "webm": b"\x1a\x45\xdf\xa3" + b"\x00" * 20, "wav": b"RIFF\x00\x00\x00\x00WAVEfmt ",
               "mp3": b"ID3\x04\x00\x00\x00", "ogg": b"OggS\x00\x02", "flac": b"fLaC\x00"}
    for ext, data in samples.items():
        (tmp_path / "f").write_bytes(data)
        assert sniff_media(tmp_path / "f") == ext
    (tmp_path / "f").write_bytes(b"<!DOCTYPE html><html>")
    assert sniff_media(tmp_path / "f") is None  # still refused as "not a valid image"


def _downloader(tmp_path: Path, trusted: tuple[str, ...]) -> Downloader:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=_png())))
    return Downloader(http, tmp_path / "images", tmp_path / "thumbs", trusted_hosts=trusted)


async def test_an_untrusted_host_is_refused_naming_it_and_the_setting(tmp_path: Path) -> None:
    url = "https://files.some-cdn.example.org/x.png"
    refusing = _downloader(tmp_path, ("*.runcomfy.net", "*.runcomfy.com"))
    try:
        with pytest.raises(UntrustedHost) as refused:
            await refusing.fetch(url, job_id=1, request_id="r", index=0)
    finally:
        await refusing.http.aclose()
    message = str(refused.value)
    assert "files.some-cdn.example.org" in message and "trusted_hosts" in message
    assert refused.value.kind == "permanent"
    for allowed in ("*.runcomfy.net", "cdn.runcomfy.com"):
        ok = _downloader(tmp_path, ("*.runcomfy.com", allowed, "*.some-cdn.example.org"))
        try:
            out = await ok.fetch(url, job_id=1, request_id="r", index=0)
        finally:
            await ok.http.aclose()
        assert is_file(out.path)


async def test_redirects_to_an_untrusted_host_are_refused(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.runcomfy.net":
            return httpx.Response(302, headers={"Location": "https://169.254.169.254/latest/meta-data"})
        return httpx.Response(200, content=_png())

    downloader = Downloader(httpx.AsyncClient(transport=httpx.MockTransport(handler)), tmp_path / "i", tmp_path / "t")
    try:
        with pytest.raises(DownloadError, match="169.254.169.254"):
            await downloader.fetch("https://storage.runcomfy.net/a.png", job_id=1, request_id="r", index=0)
    finally:
        await downloader.http.aclose()


async def test_trusted_hosts_come_from_the_settings_file() -> None:
    paths = Paths.default()
    paths.settings_file.parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text('trusted_hosts = ["cdn.example.com", "*.mirror.example.net"]\n')
    from seedream_tui.jobs.service import Core

    core = await Core.open(resolve_config(base_url="http://127.0.0.1:9", env={"RUNCOMFY_API_TOKEN": "t"}))
    try:
        trusted = core.engine.downloader.trusted_hosts
    finally:
        await core.close()
    assert set(trusted) >= {"*.runcomfy.net", "*.runcomfy.com", "cdn.example.com", "*.mirror.example.net"}


async def test_a_video_model_on_the_fake_server_gives_a_video_file(fake_server: object) -> None:
    core = await open_core(fake_server.base_url)  # type: ignore[attr-defined]
    try:
        job = await core.engine.submit("bytedance/seedance-1/lite/text-to-video", {"prompt": "waves at dusk"})
        done = await wait_status(core, job.id)
    finally:
        await core.close()
    assert done.status is JobStatus.COMPLETED, done.error
    [clip] = done.outputs
    # a real video now (issue 22): its first frame is the poster, the prompt is in its MP4 tags
    assert clip.format == "mp4" and (clip.path or "").endswith(".mp4") and is_file(clip.thumb_path)
    assert clip.kind == "video" and clip.duration == 5.0
    assert b"waves at dusk" in read(clip.path)
