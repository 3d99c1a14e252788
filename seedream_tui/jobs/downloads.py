"""Downloading output files: streamed to a temp file, checked, then renamed.

- The URL must be https (plain http only for loopback hosts, i.e. the fake CDN);
  redirects are followed by hand and each target is checked the same way.
- No ``Authorization`` header ever goes with a download (the shared client has none).
- A size cap; a short body (truncated) is an error; the bytes must decode as an image
  of an expected type, within a pixel limit (decompression bombs are refused).
- File names come from the request id and the index, never from the URL.
- A local failure (disk full, images folder unusable) is a DownloadError of kind "local"
  with a sentence, and no partial file stays behind.
- PNGs get the prompt and options embedded as iTXt chunks (provenance).
- A thumbnail is cached; all blocking work runs in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from PIL import Image

from seedream_tui.api.errors import DownloadError
from seedream_tui.config import is_loopback_host
from seedream_tui.jobs.model import THUMB_SIZE, OutputFile
from seedream_tui.jobs.pngmeta import itxt_chunk

MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
#: 4704x2016 is the largest Seedream tier; allow headroom, refuse bombs
MAX_PIXELS = 64_000_000
#: what a text-to-image model delivers; anything else (a GIF under a .png URL, say) is refused
FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}
_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


def check_output_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return
    raise DownloadError(f"Refusing to download {url[:120]!r}: output files must come from an https URL.", kind="permanent")


def _mb(size: int) -> str:
    return f"{size / 2**20:.0f} MB"


def local_failure(exc: OSError, where: Path) -> DownloadError:
    """The sentence for a download that failed on this machine, not on the network.

    Kind "local": retrying later can work (once there is space again), so the job waits rather than fails
    and the paid image is not given up.
    """
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DownloadError(
            f"The disk is full: the image could not be saved in {where}. Free some space; the download is retried.",
            kind="local",
        )
    if exc.errno == errno.EROFS:
        return DownloadError(f"The images folder {where} is on a read-only disk; the image could not be saved.",
                             kind="local")
    reason = exc.strerror or type(exc).__name__
    culprit = f" ({exc.filename})" if exc.filename else ""
    return DownloadError(
        f"The image could not be saved in {where}: {reason}{culprit}. Check that the folder can be written to.",
        kind="local",
    )


def safe_name(request_id: str) -> str:
    return _SAFE.sub("_", request_id)[:80] or "job"


@dataclass
class Downloader:
    http: httpx.AsyncClient
    images_dir: Path
    thumbs_dir: Path
    max_bytes: int = MAX_DOWNLOAD_BYTES
    max_redirects: int = 3

    def target_path(self, request_id: str, index: int, ext: str, when: float | None = None) -> Path:
        day = time.strftime("%Y-%m-%d", time.localtime(when if when is not None else time.time()))
        return self.images_dir / day / f"{safe_name(request_id)}-{index}.{ext}"

    async def fetch(
        self,
        url: str,
        *,
        request_id: str,
        index: int,
        provenance: dict[str, Any] | None = None,
        when: float | None = None,
    ) -> OutputFile:
        """Download one output; returns it with path, size, format, dimensions and thumbnail."""
        day_dir = self.target_path(request_id, index, "x", when).parent
        try:
            await asyncio.to_thread(day_dir.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise local_failure(exc, self.images_dir) from None
        tmp = day_dir / f".{safe_name(request_id)}-{index}.part"
        try:
            size = await self._stream_to(url, tmp)
            fmt, width, height = await asyncio.to_thread(_inspect_image, tmp)
            if fmt == "png" and provenance:
                await asyncio.to_thread(_append_png_text, tmp, provenance)
                size = (await asyncio.to_thread(tmp.stat)).st_size
            final = self.target_path(request_id, index, "jpg" if fmt == "jpeg" else fmt, when)
            await asyncio.to_thread(os.replace, tmp, final)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(tmp.unlink, missing_ok=True)
            if isinstance(exc, OSError):
                raise local_failure(exc, day_dir) from None
            raise
        thumb = await asyncio.to_thread(self._make_thumb, final)
        return OutputFile(index, url, str(final), width, height, fmt, size, str(thumb) if thumb else None)

    async def _stream_to(self, url: str, tmp: Path) -> int:
        current = url
        for _ in range(self.max_redirects + 1):
            check_output_url(current)
            try:
                async with self.http.stream("GET", current, headers={"Accept": "image/*"}) as response:
                    if response.is_redirect:
                        location = response.headers.get("Location")
                        if not location:
                            raise DownloadError("The image server redirected without saying where to.", kind="permanent")
                        current = urljoin(current, location)
                        continue
                    if response.status_code != 200:
                        code = response.status_code
                        kind = "network" if code >= 500 or code in (408, 429) else "permanent"
                        hint = " (the link may have expired)" if code in (403, 404, 410) else ""
                        raise DownloadError(f"The image server answered HTTP {code}{hint}.", kind=kind)
                    return await self._write_body(response, tmp)
            except httpx.TimeoutException:
                raise DownloadError("The image download timed out.", kind="network") from None
            except (httpx.ConnectError, httpx.PoolTimeout):
                raise DownloadError("The image server cannot be reached.", kind="network") from None
            except httpx.HTTPError as exc:
                raise DownloadError(f"The image download failed: the connection dropped ({type(exc).__name__}).") from None
        raise DownloadError("The image server redirected too many times.", kind="permanent")

    async def _write_body(self, response: httpx.Response, tmp: Path) -> int:
        declared_text = response.headers.get("Content-Length", "")
        declared = int(declared_text) if declared_text.isdigit() else None
        if declared is not None and declared > self.max_bytes:
            raise DownloadError(
                f"The image is {_mb(declared)}, over the {_mb(self.max_bytes)} limit; not downloaded.",
                kind="permanent",
            )
        received = 0
        fh = await asyncio.to_thread(open, tmp, "wb")
        try:
            async for chunk in response.aiter_bytes(256 * 1024):
                received += len(chunk)
                if received > self.max_bytes:
                    raise DownloadError(
                        f"The image is over the {_mb(self.max_bytes)} limit; the download was stopped.",
                        kind="permanent",
                    )
                await asyncio.to_thread(fh.write, chunk)
            await asyncio.to_thread(fh.flush)
            await asyncio.to_thread(os.fsync, fh.fileno())
        finally:
            await asyncio.to_thread(fh.close)
        if declared is not None and received != declared:
            raise DownloadError(f"The image download was cut short ({received} of {declared} bytes).")
        if received == 0:
            raise DownloadError("The image server sent an empty file.")
        return received

    def _make_thumb(self, path: Path) -> Path | None:
        try:
            self.thumbs_dir.mkdir(parents=True, exist_ok=True)
            thumb = self.thumbs_dir / f"{path.stem}.png"
            with Image.open(path) as img:
                img.thumbnail(THUMB_SIZE)
                img.convert("RGB").save(thumb, "PNG", optimize=False, compress_level=1)
            return thumb
        except (OSError, ValueError):
            return None  # a missing thumbnail only costs a slower preview


def _inspect_image(path: Path) -> tuple[str, int, int]:
    """Format and size of a downloaded image; DownloadError if it is not a sane image."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as img:
                fmt = FORMATS.get(img.format or "")
                width, height = img.size
                if fmt is None:
                    raise DownloadError(
                        f"The downloaded file is a {img.format or 'unknown'} file, not an image type this app keeps.",
                        kind="permanent",
                    )
                if width * height > MAX_PIXELS:
                    raise DownloadError(f"The downloaded image is {width}x{height}, too large to be real; refused.", kind="permanent")
                img.verify()
        except DownloadError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise DownloadError("The downloaded image is a decompression bomb; refused.", kind="permanent") from None
        except (OSError, ValueError, SyntaxError):
            raise DownloadError("The downloaded file is not a valid image.") from None
    return fmt, width, height


def _append_png_text(path: Path, provenance: dict[str, Any]) -> None:
    """Insert iTXt chunks just before IEND, in place (no re-encode)."""
    items = {"prompt": str(provenance.get("prompt", ""))}
    items["seedream-tui"] = json.dumps(provenance, ensure_ascii=False, sort_keys=True)
    with open(path, "r+b") as fh:
        fh.seek(-len(_IEND), os.SEEK_END)
        if fh.read(len(_IEND)) != _IEND:
            return  # unusual layout: keep the file as the server made it
        fh.seek(-len(_IEND), os.SEEK_END)
        fh.write(b"".join(itxt_chunk(k, v) for k, v in items.items() if v) + _IEND)
        fh.flush()
        os.fsync(fh.fileno())
