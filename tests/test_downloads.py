"""Output downloads: no token to the CDN, https only, atomic files named by request id, provenance, limits.

End-to-end cases run the engine against the fake server's CDN origin over loopback; the edge cases a real
CDN cannot be told to produce (redirect chains, bombs, non-images) use ``httpx.MockTransport``.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import TOKEN, is_file, leftovers, open_core, read, wait_for, wait_status
from PIL import Image

from seedream_tui.api.errors import DownloadError
from seedream_tui.jobs.downloads import THUMB_SIZE, Downloader, check_output_url, safe_name
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.service import Core


async def submit(core: Core, prompt: str, **extra: Any) -> Job:
    return await core.submit(core.registry.default(), {"prompt": prompt, **extra})


# ------------------------------------------------------------------ end to end, fake CDN


async def test_downloads_are_named_by_request_and_carry_the_prompt(fake_server: Any) -> None:
    core = await open_core(fake_server.base_url)
    try:
        prompt = "a lighthouse, «stormy» 夜"
        job = await submit(core, prompt, sequential_image_generation="auto", max_images=3)
        done = await wait_status(core, job.id)
        assert done.status is JobStatus.COMPLETED, done.error
        assert len(done.outputs) >= 2  # the fake server makes 2..3 images for this request
        day = time.strftime("%Y-%m-%d", time.localtime(done.created_at))
        for out in done.outputs:
            path = Path(out.path or "")
            assert path.parent == core.paths.images_dir / day
            assert path.name == f"{done.id}-{safe_name(done.request_id or '')}-{out.index}.png"
            assert len(read(path)) == out.size
            with Image.open(path) as img:
                img.load()
                assert (img.width, img.height) == (out.width, out.height)
                text: dict[str, str] = img.text  # type: ignore[attr-defined]
            assert text["prompt"] == prompt
            meta = json.loads(text["seedream-tui"])
            assert meta["request_id"] == done.request_id and meta["model_id"] == done.model_id
            assert meta["inputs"] == done.inputs
            thumb = Path(out.thumb_path or "")
            with Image.open(thumb) as small:
                assert small.width <= THUMB_SIZE[0] and small.height <= THUMB_SIZE[1]
        assert [o.index for o in done.outputs] == list(range(len(done.outputs)))

        cdn = fake_server.cdn_requests
        assert len(cdn) == len(done.outputs)
        assert all("authorization" not in r["headers"] for r in cdn)
        assert not any(TOKEN in v for r in cdn for v in r["headers"].values())
        # while every API call carried it
        assert all(r["headers"].get("authorization") == f"Bearer {TOKEN}" for r in fake_server.api_requests)
    finally:
        await core.close()


async def test_jpeg_output_keeps_its_format(fake_server: Any) -> None:
    core = await open_core(fake_server.base_url)
    try:
        done = await wait_status(core, (await submit(core, "in jpeg", output_format="jpeg")).id)
        assert done.status is JobStatus.COMPLETED, done.error
        [out] = done.outputs
        assert out.format == "jpeg" and (out.path or "").endswith("-0.jpg")
        with Image.open(out.path or "") as img:
            assert img.format == "JPEG"
    finally:
        await core.close()


async def test_truncated_downloads_leave_nothing_and_job_stays_unfinished(fake_server: Any) -> None:
    fake_server.set_config(truncate_rate=1.0)
    core = await open_core(fake_server.base_url)
    try:
        job = await submit(core, "cut short")
        await wait_for(lambda: len(fake_server.cdn_requests) >= 6, 10, what="several download attempts")
        row = await wait_status(core, job.id, {JobStatus.DOWNLOADING})
        assert row.error and row.error.startswith("Waiting: ")
        assert all(o.path is None for o in row.outputs)
        # pause the engine (a retry may be mid-download right now: stopping cancels it, which must clean up too)
        await core.engine.stop()
        assert leftovers(core.paths.images_dir) == []  # no image, no .part file
        assert fake_server.faults_injected["truncate"] >= 6

        fake_server.set_config(truncate_rate=0.0)  # the CDN recovers: the same job finishes
        await core.engine.start()
        done = await wait_status(core, job.id)
        assert done.status is JobStatus.COMPLETED and done.error is None
        assert [p.name for p in leftovers(core.paths.images_dir)] == [Path(done.outputs[0].path or "").name]
    finally:
        await core.close()


async def test_half_truncated_downloads_are_retried_until_they_succeed(fake_server: Any) -> None:
    fake_server.set_config(truncate_rate=0.5, seed=99)
    core = await open_core(fake_server.base_url)
    try:
        jobs = [await submit(core, f"flaky cdn {i}") for i in range(4)]
        for job in jobs:
            done = await wait_status(core, job.id, within=15)
            assert done.status is JobStatus.COMPLETED, done.error
            with Image.open(done.outputs[0].path or "") as img:
                img.load()
        assert fake_server.faults_injected["truncate"] >= 1
        assert len(leftovers(core.paths.images_dir)) == 4
    finally:
        await core.close()


async def test_oversized_download_is_refused_and_leaves_nothing(fake_server: Any) -> None:
    core = await open_core(fake_server.base_url)
    core.engine.downloader.max_bytes = 200
    try:
        job = await submit(core, "too big for the limit")
        # retrying cannot make a file smaller: the job fails at once, with the reason, after one download
        row = await wait_status(core, job.id, {JobStatus.FAILED})
        assert "limit" in (row.error or "") and "could not be saved" in (row.error or "")
        assert len(fake_server.cdn_requests) == 1
        assert leftovers(core.paths.images_dir) == []
    finally:
        await core.close()


# ------------------------------------------------------------------ the URL rule


@pytest.mark.parametrize(
    "url",
    ["https://cdn.runcomfy.net/a.png", "http://127.0.0.1:8080/files/x/0.png", "http://localhost/a.png",
     "http://[::1]:9/a.png"],
)
def test_allowed_output_urls(url: str) -> None:
    check_output_url(url)


@pytest.mark.parametrize(
    "url",
    ["http://cdn.example.com/a.png", "ftp://cdn.example.com/a.png", "file:///etc/passwd", "https:///nohost.png",
     "http://10.0.0.1/a.png", "javascript:alert(1)"],
)
def test_refused_output_urls(url: str) -> None:
    with pytest.raises(DownloadError) as caught:
        check_output_url(url)
    assert "https" in str(caught.value)


# ------------------------------------------------------------------ edge cases on a mock transport


def _png(size: tuple[int, int] = (8, 6), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, "PNG")
    return buf.getvalue()


def _downloader(tmp_path: Path, handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> Downloader:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=False)
    kw.setdefault("trusted_hosts", ("*.example.com",))
    return Downloader(http, tmp_path / "images", tmp_path / "thumbs", **kw)


async def _refused(tmp_path: Path, handler: Callable[[httpx.Request], httpx.Response], url: str,
                   **kw: Any) -> str:
    downloader = _downloader(tmp_path, handler, **kw)
    try:
        with pytest.raises(DownloadError) as caught:
            await downloader.fetch(url, job_id=1, request_id="req-1", index=0, provenance={"prompt": "p"})
    finally:
        await downloader.http.aclose()
    assert leftovers(tmp_path / "images") == []
    return str(caught.value)


async def test_plain_http_url_is_refused_before_any_request(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, content=_png())

    message = await _refused(tmp_path, handler, "http://cdn.example.com/a.png")
    assert "https" in message and calls == []


async def test_redirect_to_plain_http_is_refused(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.example.com":
            return httpx.Response(302, headers={"Location": "http://evil.example.com/a.png"})
        return httpx.Response(200, content=_png())

    assert "https" in await _refused(tmp_path, handler, "https://cdn.example.com/a.png")


async def test_https_redirect_is_followed_without_credentials(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "cdn.example.com":
            return httpx.Response(302, headers={"Location": "https://storage.example.com/real.png"})
        return httpx.Response(200, content=_png())

    downloader = _downloader(tmp_path, handler)
    try:
        out = await downloader.fetch("https://cdn.example.com/a.png", job_id=7, request_id="abc/../def", index=2)
    finally:
        await downloader.http.aclose()
    assert [r.url.host for r in seen] == ["cdn.example.com", "storage.example.com"]
    assert all("authorization" not in r.headers for r in seen)
    path = Path(out.path or "")
    assert path.name == "7-abc_def-2.png" and path.parent.parent == tmp_path / "images"  # never from the URL
    assert out.url == "https://cdn.example.com/a.png" and is_file(out.thumb_path)


async def test_redirect_loop_is_refused(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "https://cdn.example.com/again.png"})

    assert "too many" in await _refused(tmp_path, handler, "https://cdn.example.com/a.png")


async def test_oversized_without_content_length_is_stopped_midway(tmp_path: Path) -> None:
    async def chunks() -> Any:
        for _ in range(8):
            yield b"\x89PNG" + b"x" * 1020

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())  # streamed: no Content-Length

    assert "limit" in await _refused(tmp_path, handler, "https://cdn.example.com/a.png", max_bytes=2048)


async def test_declared_oversize_is_refused(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 4096)

    assert "limit" in await _refused(tmp_path, handler, "https://cdn.example.com/a.png", max_bytes=1024)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"<html>gateway</html>", 200, "not a valid image"),
        (b"", 200, "empty"),
        (b"nope", 403, "HTTP 403"),
    ],
)
async def test_bad_bodies_are_refused(tmp_path: Path, body: bytes, status: int, words: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    assert words in await _refused(tmp_path, handler, "https://cdn.example.com/a.png")


async def test_huge_dimensions_are_refused(tmp_path: Path) -> None:
    bomb = _png((9000, 9000), mode="1")  # tiny file, 81 megapixels

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bomb)

    assert "too large" in await _refused(tmp_path, handler, "https://cdn.example.com/a.png")


def _garbled_png() -> bytes:
    """A PNG whose pixel data is garbage behind valid CRCs: ``verify()`` passes, decoding does not."""
    import struct
    import zlib

    raw = bytearray(_png((64, 48)))
    start = raw.index(b"IDAT") - 4
    length = struct.unpack(">I", raw[start : start + 4])[0]
    data = bytes((b * 7 + 13) % 256 for b in raw[start + 8 : start + 8 + length])
    chunk = struct.pack(">I", length) + b"IDAT" + data + struct.pack(">I", zlib.crc32(b"IDAT" + data))
    return bytes(raw[:start]) + chunk + bytes(raw[start + 12 + length :])


def _cut_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.effect_noise((256, 192), 64).convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()[: len(buf.getvalue()) * 2 // 3]


@pytest.mark.parametrize("body", [_garbled_png(), _cut_jpeg()], ids=["png-garbage-with-valid-crcs", "jpeg-cut"])
async def test_every_pixel_is_decoded_before_a_file_is_accepted(tmp_path: Path, body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    assert "damaged" in await _refused(tmp_path, handler, "https://cdn.example.com/a.png")


async def test_images_are_decoded_one_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 64-megapixel 16-bit PNG takes ~600 MB to decode: six at once would take gigabytes."""
    import threading

    from seedream_tui.jobs import downloads

    decoding: dict[int, int] = {}  # thread -> nested load() calls (copy() and convert() load again)
    peak, lock = [0], threading.Lock()
    real_load = Image.Image.load

    def counting_load(self: Image.Image) -> Any:
        me = threading.get_ident()
        with lock:
            decoding[me] = decoding.get(me, 0) + 1
            peak[0] = max(peak[0], len(decoding))
        try:
            threading.Event().wait(0.05)  # a slow decode, so overlapping ones would show
            return real_load(self)
        finally:
            with lock:
                decoding[me] -= 1
                if not decoding[me]:
                    del decoding[me]

    body = _png((64, 48))
    monkeypatch.setattr(Image.Image, "load", counting_load)
    downloader = _downloader(tmp_path, lambda request: httpx.Response(200, content=body))
    try:
        outs = await asyncio.gather(*(
            downloader.fetch(f"https://cdn.example.com/{i}.png", job_id=i, request_id=f"r{i}", index=0)
            for i in range(6)
        ))
    finally:
        await downloader.http.aclose()
    assert len({o.path for o in outs}) == 6 and peak[0] == 1
    assert downloads._DECODES._value == 1  # type: ignore[attr-defined]  # released every time
