"""Downloading output files: streamed to a temp file, checked, then renamed.

- The URL must be https (plain http only for loopback hosts, i.e. the fake CDN);
  redirects are followed by hand and each target is checked the same way.
- No ``Authorization`` header ever goes with a download (the shared client has none).
- A size cap per kind (image, or video/sound: what the job's model makes, never the server's label); a
  short body (truncated) is an error; the bytes must decode as an image of an expected type, within a
  pixel limit (decompression bombs are refused). The HTTP transfer itself (Range resume, the minimum
  rate, the job's retry budget) is :mod:`seedream_tui.jobs.transfer`.
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
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from seedream_tui.api.errors import DownloadError
from seedream_tui.config import RUNCOMFY_HOSTS, host_allowed, is_loopback_host
from seedream_tui.jobs.decoding import DECODES, TooManyPixels, open_image
from seedream_tui.jobs.decoding import MAX_PIXELS as DECODE_MAX_PIXELS
from seedream_tui.jobs.model import THUMB_SIZE, OutputFile
from seedream_tui.jobs.pngmeta import itxt_chunk
from seedream_tui.jobs.transfer import DownloadBudget, Part, Transfer, makes_media
from seedream_tui.jobs.video import VIDEO_EXTENSIONS, VideoProblem, inspect_video, save_poster, write_tags
from seedream_tui.proc import pid_alive

MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
MAX_MEDIA_BYTES = 2 * 1024 * 1024 * 1024
#: 4704x2016 is the largest Seedream tier; allow headroom, refuse bombs (see jobs.decoding)
MAX_PIXELS = DECODE_MAX_PIXELS
#: what a text-to-image model delivers; anything else (a GIF under a .png URL, say) is refused
FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}
_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


#: longer than any real storage URL; httpx refuses far longer ones with an exception of its own
MAX_URL_LENGTH = 8192
#: decoding a full image takes memory (a 64 MP PNG 256 MB): one at a time per process
_DECODES = DECODES


class UntrustedHost(DownloadError):
    """An output on a host the user has not allowed; ``host`` is named in the sentence."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"Refusing to download from {host}: outputs are only fetched from RunComfy's storage hosts "
            f"({', '.join(RUNCOMFY_HOSTS)}) and the hosts in trusted_hosts in the settings file. If you trust "
            f"{host}, add it there.",
            kind="permanent",
        )
        self.host = host


def check_output_url(url: str, trusted: Sequence[str] | None = None) -> None:
    """Refuse, with a sentence, an output URL that is not https (http for loopback) or that no HTTP
    client could use (absurdly long, control characters, a port out of range). With ``trusted`` (host
    patterns), an https host must also be one of them (loopback is always allowed: the demo's CDN)."""
    shown = repr(url[:120])
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH or any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise DownloadError(f"Refusing to download {shown}: it is not a usable URL.", kind="permanent")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError when out of range
    except ValueError:
        raise DownloadError(f"Refusing to download {shown}: it is not a usable URL.", kind="permanent") from None
    if parts.scheme == "https" and parts.hostname:
        if trusted is not None and not is_loopback_host(parts.hostname) and not host_allowed(parts.hostname, trusted):
            raise UntrustedHost(parts.hostname)
        return
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return
    raise DownloadError(f"Refusing to download {shown}: output files must come from an https URL.", kind="permanent")


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
    #: videos and sounds may be larger than any image
    max_media_bytes: int = MAX_MEDIA_BYTES
    max_redirects: int = 3
    #: host patterns outputs may come from (RunComfy's storage, plus the user's ``trusted_hosts``)
    trusted_hosts: Sequence[str] = RUNCOMFY_HOSTS
    #: bytes one job's download may fetch and throw away (a garbled file fetched again, a server that will
    #: not resume): None = twice the cap of its kind
    retry_bytes: int | None = None
    #: a download slower than this (bytes/s, averaged once ``rate_grace`` seconds have passed) is dropped
    min_rate: float = 16 * 1024
    rate_grace: float = 20.0
    #: no download, however it trickles, takes longer than this in all
    deadline: float = 1800.0
    #: downloads at once (each holds a connection and a file; decoding is one at a time anyway)
    parallel: int = 4
    _gate: asyncio.Semaphore | None = field(default=None, init=False, repr=False, compare=False)

    def target_path(self, job_id: int, request_id: str, index: int, ext: str, when: float | None = None) -> Path:
        """Unique per job: the local job id comes first (two request ids may share their first 80
        characters, or differ only in characters the name cannot keep)."""
        day = time.strftime("%Y-%m-%d", time.localtime(when if when is not None else time.time()))
        return self.images_dir / day / f"{job_id}-{safe_name(request_id)[:60]}-{index}.{ext}"

    async def fetch(
        self,
        url: str,
        *,
        job_id: int,
        request_id: str,
        index: int,
        provenance: dict[str, Any] | None = None,
        when: float | None = None,
        media: bool | None = None,
        budget: DownloadBudget | None = None,
    ) -> OutputFile:
        """Download one output; returns it with path, size, format, dimensions and thumbnail.

        ``media``: the file may be a video or a sound (its cap applies; None: judged by the URL's extension);
        ``budget``: the job's retry budget, whose resumable ``.part`` files this try continues and keeps."""
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.parallel)
        async with self._gate:
            return await self._fetch(url, job_id, request_id, index, provenance, when,
                                     makes_media("", url) if media is None else media, budget)

    def cap(self, media: bool) -> int:
        """The size cap of one file of this kind (a label on the answer never changes it)."""
        return self.max_media_bytes if media else self.max_bytes

    def retry_budget(self, attempts: int, media: bool) -> DownloadBudget:
        """A fresh budget for one job's download: ``attempts`` failed tries, bytes as ``retry_bytes`` says."""
        return DownloadBudget(attempts, self.retry_bytes if self.retry_bytes is not None else 2 * self.cap(media),
                              what="video" if media else "image")

    async def _fetch(
        self, url: str, job_id: int, request_id: str, index: int, provenance: dict[str, Any] | None,
        when: float | None, media: bool, budget: DownloadBudget | None,
    ) -> OutputFile:
        day_dir = self.target_path(job_id, request_id, index, "x", when).parent
        # each step that touches the disk runs in a thread, grouped so that a download costs three hand-offs
        # to a thread (folder, body, checks) rather than one per call: with 40 jobs running, the hand-offs
        # themselves were a tenth of the event loop's time (issue 13 §4)
        try:
            # a name of its own per file: two instances (one suspended, then resumed) never share a .part;
            # the pid in it lets a later attempt remove what a killed process left
            await asyncio.to_thread(_prepare_folder, day_dir, job_id, index)
        except OSError as exc:
            raise local_failure(exc, self.images_dir) from None
        part = budget.parts.pop(index, None) if budget is not None else None
        if part is not None and (part.url != url or part.path.parent != day_dir
                                 or await asyncio.to_thread(_size_on_disk, part.path) != part.size):
            budget.throw_away(part)  # type: ignore[union-attr]  # other URLs now, or the file changed: start over
            part = None
        if part is None:
            part = Part(day_dir / f".{job_id}-{index}-{os.getpid()}-{uuid.uuid4().hex[:8]}.part", url)
        transfer = Transfer(self.http, lambda u: check_output_url(u, self.trusted_hosts), self.cap(media), media,
                            self.min_rate, self.rate_grace, self.max_redirects, budget)
        try:
            try:
                async with asyncio.timeout(self.deadline):
                    size = await transfer.into(url, part)
            except TimeoutError:
                raise DownloadError(f"The image download took longer than {self.deadline:.0f} s; it was stopped.",
                                    kind="network") from None
        except BaseException as exc:
            if (budget is not None and isinstance(exc, DownloadError) and exc.kind not in ("permanent", "local")
                    and part.resumable and part.size > 0):
                budget.parts[index] = part  # the next try asks for the rest
            elif budget is not None:
                budget.throw_away(part)
            else:
                part.discard()
            if isinstance(exc, OSError):
                raise local_failure(exc, day_dir) from None
            raise
        tmp = part.path
        try:
            return await asyncio.to_thread(self._settle, tmp, size, url, media, job_id, request_id, index,
                                           provenance, when)
        except BaseException as exc:
            if budget is not None:
                budget.throw_away(part)  # a garbled file: the next try starts over
            else:
                part.discard()
            if isinstance(exc, OSError):
                raise local_failure(exc, day_dir) from None
            raise

    def _settle(
        self, tmp: Path, size: int, url: str, media: bool, job_id: int, request_id: str, index: int,
        provenance: dict[str, Any] | None, when: float | None,
    ) -> OutputFile:
        """In a thread: a video or sound (by what the model makes, or by the file's first bytes) is settled by
        :meth:`_settle_media`, anything else must be an image (:meth:`_settle_file`)."""
        if media or sniff_media(tmp) is not None:
            return self._settle_media(tmp, size, url, job_id, request_id, index, provenance, when)
        fmt, width, height, made, size, final, thumb = self._settle_file(
            tmp, size, job_id, request_id, index, provenance, when)
        return OutputFile(index, url, str(final), width, height, fmt, size, str(thumb) if made else None)

    def _settle_file(
        self, tmp: Path, size: int, job_id: int, request_id: str, index: int, provenance: dict[str, Any] | None,
        when: float | None,
    ) -> tuple[str, int | None, int | None, bool, int, Path, Path]:
        """In a thread: check the downloaded file, make its thumbnail, embed the provenance, move it into
        place. Returns (format, width, height, thumbnail made, size, final path, thumbnail path)."""
        media = sniff_media(tmp)
        if media is not None:  # a video or a sound: kept as it came, with its own extension
            final = self.target_path(job_id, request_id, index, media, when)
            _replace_durably(tmp, final)
            return media, None, None, False, size, final, final
        fmt, width, height = _inspect_image(tmp)
        final = self.target_path(job_id, request_id, index, "jpg" if fmt == "jpeg" else fmt, when)
        thumb = self.thumbs_dir / f"{final.stem}.png"
        # every pixel decoded before the file is accepted (a cut or garbled body fails here); the thumbnail
        # comes from that same decode
        made = _decode_fully(tmp, thumb)
        if fmt == "png" and provenance:
            _append_png_text(tmp, provenance)
            size = tmp.stat().st_size
        _replace_durably(tmp, final)
        return fmt, width, height, made, size, final, thumb

    def _settle_media(
        self, tmp: Path, size: int, url: str, job_id: int, request_id: str, index: int,
        provenance: dict[str, Any] | None, when: float | None,
    ) -> OutputFile:
        """In a thread: a file of a model that makes videos or sounds. A video is opened and its first frames
        decoded before it is accepted (:func:`video.inspect_video`); its provenance goes in its MP4 tags, its
        first frame becomes the poster (the thumbnail). A video that cannot be played here (damaged, no frame,
        16K frames, hours long, no decoder) is still kept, with ``problem`` saying why: it was paid for. A web
        page where the video should be is refused (retried: a sign-in page or an error page of a proxy). An
        image is checked as images are; anything else is kept as it came, as a ``file``."""
        media = sniff_media(tmp)
        if media is None:
            if _looks_like_html(tmp):
                raise DownloadError("The downloaded file is a web page (HTML), not the video the model made.")
            try:
                fmt, width, height = _inspect_image(tmp)
            except DownloadError:
                final = self.target_path(job_id, request_id, index, "bin", when)
                _replace_durably(tmp, final)
                return OutputFile(index, url, str(final), None, None, "bin", size, None, kind="file")
            final = self.target_path(job_id, request_id, index, "jpg" if fmt == "jpeg" else fmt, when)
            thumb = self.thumbs_dir / f"{final.stem}.png"
            made = _decode_fully(tmp, thumb)
            _replace_durably(tmp, final)
            return OutputFile(index, url, str(final), width, height, fmt, size, str(thumb) if made else None,
                              kind="image")
        final = self.target_path(job_id, request_id, index, media, when)
        if media not in VIDEO_EXTENSIONS:
            _replace_durably(tmp, final)
            return OutputFile(index, url, str(final), None, None, media, size, None, kind="audio")
        try:
            info = inspect_video(tmp)
        except VideoProblem as exc:
            _replace_durably(tmp, final)
            return OutputFile(index, url, str(final), None, None, media, size, None, kind="video",
                              problem=f"The video {exc}; it was saved but cannot be played here.")
        if info.kind == "audio":
            _replace_durably(tmp, final)
            return OutputFile(index, url, str(final), None, None, media, size, None, kind="audio",
                              duration=info.duration)
        if provenance and media in ("mp4", "mov") and write_tags(tmp, provenance):
            size = tmp.stat().st_size
        thumb = self.thumbs_dir / f"{final.stem}.png"
        made = info.poster is not None and save_poster(info.poster, thumb, THUMB_SIZE)
        _replace_durably(tmp, final)
        return OutputFile(index, url, str(final), info.width, info.height, media, size,
                          str(thumb) if made else None, kind="video", duration=info.duration, fps=info.fps)

    def _make_thumb(self, path: Path) -> Path | None:
        """The cached thumbnail of an image already on disk (None when it cannot be decoded)."""
        thumb = self.thumbs_dir / f"{path.stem}.png"
        try:
            return thumb if _decode_fully(path, thumb) else None
        except DownloadError:
            return None


def _size_on_disk(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _prepare_folder(folder: Path, job_id: int, index: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _remove_orphan_parts(folder, job_id, index)


def _decode_fully(path: Path, thumb: Path) -> bool:
    """Decode every pixel (DownloadError when the data is cut or garbled) and write the thumbnail from
    that decode. The pixel count is checked before decoding; JPEGs decode at the reduced scale the thumbnail
    needs (``draft``: the whole entropy-coded stream is still read); a PNG is shrunk in place (reduced by a
    whole factor first), so its full frame is freed at once and never copied. One decode
    at a time per process (``decoding.DECODES``). Returns whether the thumbnail was written (a missing one
    only costs a slower preview)."""
    with DECODES:
        try:
            with open_image(path, draft_box=THUMB_SIZE) as img:
                img.load()
                img.thumbnail(THUMB_SIZE, reducing_gap=2.0)  # in place: the full frame is freed here
                small = img.convert("RGB")
        except TooManyPixels as exc:
            raise DownloadError(f"The downloaded image {exc}; refused.", kind="permanent") from None
        except (OSError, ValueError, SyntaxError):
            raise DownloadError("The downloaded image is damaged: its pixel data cannot be decoded.") from None
        try:
            thumb.parent.mkdir(parents=True, exist_ok=True)
            small.save(thumb, "PNG", optimize=False, compress_level=1)
        except (OSError, ValueError):
            return False
        return True


def _remove_orphan_parts(folder: Path, job_id: int, index: int) -> None:
    """Delete the job's ``.part`` files whose writing process is gone (killed mid-download)."""
    for part in folder.glob(f".{job_id}-{index}-*.part"):
        pid_text = part.name.split("-")[2] if part.name.count("-") >= 3 else ""
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not pid_alive(int(pid_text)):
            with contextlib.suppress(OSError):
                part.unlink()


def _replace_durably(tmp: Path, final: Path) -> None:
    """Rename into place, then sync the folder so the new name survives a power cut."""
    os.replace(tmp, final)
    try:
        fd = os.open(final.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)




def sniff_media(path: Path) -> str | None:
    """The extension of a video or audio file, from its first bytes; None for anything else (images, and
    files no model returns: those must still pass the image checks)."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "mov" if brand == b"qt  " else "m4a" if brand.startswith(b"M4A") else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def _looks_like_html(path: Path) -> bool:
    """Whether a file starts like a web page (a captive portal's sign-in, a proxy's error page)."""
    with open(path, "rb") as fh:
        head = fh.read(512).lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml", b"<!--"))


def _inspect_image(path: Path) -> tuple[str, int, int]:
    """Format and size of a downloaded image; DownloadError if it is not a sane image."""
    try:
        with open_image(path) as img:  # the header only; too many pixels refused here
            fmt = FORMATS.get(img.format or "")
            width, height = img.size
            if fmt is None:
                raise DownloadError(
                    f"The downloaded file is a {img.format or 'unknown'} file, not an image type this app keeps.",
                    kind="permanent",
                )
            img.verify()
    except DownloadError:
        raise
    except TooManyPixels as exc:
        if exc.width and exc.height:
            raise DownloadError(f"The downloaded image is {exc.width}x{exc.height}, too large to be real; refused.",
                                kind="permanent") from None
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
