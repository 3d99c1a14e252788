"""One output file over HTTP into its ``.part`` file, and the retry budget of a job's download.

- Redirects are followed by hand; each target is checked by the caller's ``check_url``.
- A download that was cut resumes with ``Range: bytes=N-`` from its ``.part`` (unless its body came
  compressed); only a 206 whose ``Content-Range`` starts where the ``.part`` ends is appended; a 200 to a
  Range request means the server starts over, and so does the file.
- The cap is the one of the file's kind (an image, or a video/sound), decided by what the job's model
  makes (:func:`makes_media`), never by the server's ``Content-Type`` label.
- A transfer slower than the minimum rate (averaged once the grace period is over) is dropped, also when
  no byte comes at all.
- :class:`DownloadBudget`: every failed try of a job's files (slow, cut short, garbled, 5xx, network,
  refused) counts against one budget of tries, and bytes thrown away against one budget of bytes; when
  either is spent the job fails with :meth:`DownloadBudget.sentence`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from seedream_tui.api.errors import DownloadError

_WRITE_CHUNK = 256 * 1024
#: words in a model id that say it makes videos or sounds (``…/text-to-video``, ``…/text-to-speech``)
_MEDIA_WORDS = ("video", "audio", "speech", "music", "sound")
_IMAGE_WORDS = ("image", "edit", "upscale", "photo", "picture")
_MEDIA_EXTS = (".mp4", ".webm", ".mov", ".m4a", ".mp3", ".wav", ".ogg", ".flac")
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


def makes_media(model_id: str, url: str = "") -> bool:
    """Whether the job's files may be videos or sounds (their larger cap applies), from what its model
    makes: the words after the last ``-to-`` of its id, else any media word in it. Only a model that says
    nothing either way (an adopted request) is judged by the URL's extension. A server's Content-Type label
    never counts."""
    model = model_id.lower()
    last = model.rsplit("/", 1)[-1]
    if "-to-" in last:
        return last.rsplit("-to-", 1)[1].startswith(_MEDIA_WORDS)
    if any(word in model for word in _MEDIA_WORDS):
        return True
    if any(word in model for word in _IMAGE_WORDS):
        return False
    return urlsplit(url).path.lower().endswith(_MEDIA_EXTS)


def size_text(size: float) -> str:
    if size >= 2**20:
        return f"{size / 2**20:.0f} MB"
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size:.0f} bytes"


def rate_text(rate: float) -> str:
    return f"{rate / 1024:.1f} KB/s" if rate >= 1024 else f"{rate:.1f} bytes/s"


class TooSlow(DownloadError):
    """A transfer slower than the minimum rate; ``rate`` is what was seen (bytes/s)."""

    def __init__(self, received: int, elapsed: float, min_rate: float) -> None:
        self.rate = received / elapsed if elapsed > 0 else 0.0
        super().__init__(
            f"The image server is sending too slowly ({received} bytes in {elapsed:.0f} s, {rate_text(self.rate)}; "
            f"at least {rate_text(min_rate)} is needed); the download was stopped.",
            kind="network",
        )


@dataclass
class Part:
    """The ``.part`` file of one output, kept between tries of it when the server takes ranges."""

    path: Path
    url: str
    size: int = 0  # good bytes on disk
    resumable: bool = False  # the body came as the file's own bytes (no Content-Encoding): a Range can follow

    def discard(self) -> int:
        """Delete the file; returns the bytes thrown away."""
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)
        thrown, self.size = self.size, 0
        return thrown


@dataclass
class DownloadBudget:
    """One budget for all the tries of a job's download, whatever went wrong: ``attempts`` failed tries,
    ``max_bytes`` fetched and thrown away (a garbled file fetched again, a server that will not resume)."""

    attempts: int
    max_bytes: int
    failures: int = 0
    wasted: int = 0
    over: bool = False  # the bytes budget stopped a transfer
    last: DownloadError | None = None
    #: resumable ``.part`` files by output index, kept between tries
    parts: dict[int, Part] = field(default_factory=dict)
    #: what the job makes, as its sentences say it ("image", or "video" for a model that makes videos/sounds)
    what: str = "image"

    @property
    def spent(self) -> bool:
        return self.failures >= self.attempts or self.over or self.wasted > self.max_bytes

    def failed(self, exc: DownloadError) -> bool:
        """Count a failed try; True when the budget is spent."""
        self.failures += 1
        self.last = exc
        return self.spent

    def throw_away(self, part: Part) -> None:
        self.wasted += part.discard()

    def at_risk(self, have: int) -> None:
        """Stop a transfer once what was thrown away plus what this one holds passes the bytes budget."""
        if self.wasted + have > self.max_bytes:
            self.over = True
            raise DownloadError(
                f"The download was stopped after {size_text(self.wasted + have)} fetched without a usable "
                f"file, over the {size_text(self.max_bytes)} allowed for retries.",
                kind="permanent",
            )

    def drop_parts(self) -> None:
        """Delete the kept ``.part`` files (the download ended, or goes on with other URLs)."""
        for part in self.parts.values():
            part.discard()
        self.parts.clear()

    def sentence(self) -> str:
        """Why the job's download was given up."""
        last = self.last
        if isinstance(last, TooSlow):
            why = (f"the image server sent too slowly ({rate_text(last.rate)} on the last try), "
                   f"{self.failures} tries in all.")
        elif self.over and last is not None:
            why = str(last)  # the sentence of the transfer the bytes budget stopped
        elif self.wasted > self.max_bytes:
            why = (f"{size_text(self.wasted)} were fetched without a usable file, over the "
                   f"{size_text(self.max_bytes)} allowed for retries.")
        else:
            tries = "1 try" if self.failures == 1 else f"{self.failures} tries"
            why = f"{last} The download was given up after {tries}."
        return (f"RunComfy made the {self.what} but it could not be saved: {why} Files already saved are kept; "
                "use \u201cdownload again\u201d to retry.")


@dataclass
class Transfer:
    """How one file is fetched: the cap of its kind, the minimum rate, redirects, and the budget."""

    http: httpx.AsyncClient
    check_url: Callable[[str], None]
    cap: int
    media: bool
    min_rate: float
    rate_grace: float
    max_redirects: int
    budget: DownloadBudget | None = None

    async def into(self, url: str, part: Part) -> int:
        """Fetch ``url`` into ``part`` (resuming it when it holds bytes); returns the file's size."""
        current = url
        for _ in range(self.max_redirects + 1):
            self.check_url(current)
            headers = {"Accept": "*/*"}
            if part.size:
                headers.update({"Range": f"bytes={part.size}-", "Accept-Encoding": "identity"})
            try:
                async with self.http.stream("GET", current, headers=headers) as response:
                    if response.is_redirect:
                        location = response.headers.get("Location")
                        if not location:
                            raise DownloadError("The image server redirected without saying where to.", kind="permanent")
                        current = urljoin(current, location)
                        continue
                    return await self._receive(response, part)
            except httpx.TimeoutException:
                raise DownloadError("The image download timed out.", kind="network") from None
            except (httpx.ConnectError, httpx.PoolTimeout):
                raise DownloadError("The image server cannot be reached.", kind="network") from None
            except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError):
                raise DownloadError(f"Refusing to download {current[:120]!r}: it is not a usable URL.",
                                    kind="permanent") from None
            except httpx.DecodingError:
                raise DownloadError("The image server sent a body that could not be decompressed.") from None
            except httpx.HTTPError as exc:
                raise DownloadError(f"The image download failed: the connection dropped ({type(exc).__name__}).") from None
        raise DownloadError("The image server redirected too many times.", kind="permanent")

    def _start(self, response: httpx.Response, part: Part) -> tuple[int, int | None]:
        """Where this answer's body goes in the file, and the whole file's size if known."""
        code = response.status_code
        encoded = response.headers.get("Content-Encoding", "").strip().lower() not in ("", "identity")
        length = response.headers.get("Content-Length", "")
        declared = int(length) if length.isdigit() else None
        if code == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if match is None or int(match.group(1)) != part.size or encoded:
                part.resumable = False
                raise DownloadError("The image server sent another part of the file than the one asked for; "
                                    "the download starts over.")
            part.resumable = True
            return part.size, None if match.group(3) == "*" else int(match.group(3))
        if code == 416 and part.size:
            part.resumable = False
            raise DownloadError("The image server could not resume the download; it starts over.")
        if code != 200:
            kind = "network" if code >= 500 or code in (408, 429) else "permanent"
            hint = " (the link may have expired)" if code in (403, 404, 410) else ""
            raise DownloadError(f"The image server answered HTTP {code}{hint}.", kind=kind)
        if part.size:  # a 200 to a Range request: the whole file again, from its first byte
            if self.budget is not None:
                self.budget.throw_away(part)
            else:
                part.discard()
        # the next try asks for the rest whether or not Accept-Ranges was said (a server that ignores it
        # answers 200 with the whole file, as without it); not for a compressed body, whose bytes on the
        # wire are not the file's
        part.resumable = not encoded
        return 0, None if encoded else declared

    async def _receive(self, response: httpx.Response, part: Part) -> int:
        offset, total = self._start(response, part)
        length = response.headers.get("Content-Length", "")
        declared = int(length) if length.isdigit() else None
        what = "file" if self.media else "image"
        claimed = total if total is not None else declared
        if claimed is not None and claimed > self.cap:
            raise DownloadError(f"The {what} is {size_text(claimed)}, over the {size_text(self.cap)} limit; "
                                "not downloaded.", kind="permanent")
        received = 0
        started = time.monotonic()
        sink = _PartFile(part.path, append=offset > 0)
        pending = bytearray()
        done = False
        chunks = response.aiter_bytes()  # as they come: a trickle must be seen
        try:
            while True:
                # nothing more by then, and the transfer is slower than the minimum rate
                patience = max(self.rate_grace, received / self.min_rate) - (time.monotonic() - started)
                try:
                    async with asyncio.timeout(max(0.0, patience)):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise TooSlow(received, time.monotonic() - started, self.min_rate) from None
                received += len(chunk)
                if offset + received > self.cap:
                    raise DownloadError(f"The {what} is over the {size_text(self.cap)} limit; the download was stopped.",
                                        kind="permanent")
                if self.budget is not None:
                    self.budget.at_risk(offset + received)
                pending += chunk
                if len(pending) >= _WRITE_CHUNK:
                    await asyncio.to_thread(sink.write, bytes(pending))
                    part.size += len(pending)
                    pending.clear()
            # the rest, the sync and the close in one hand-off (for most images, the whole file)
            await asyncio.to_thread(sink.finish, bytes(pending))
            part.size += len(pending)
            done = True
        finally:
            if not done:  # what came is good: kept for a resume (the caller deletes it otherwise)
                written = sink.abandon(bytes(pending))
                if written is None:
                    part.resumable = False  # how much reached the disk is unknown
                else:
                    part.size += written
        # Content-Length counts the bytes on the wire: compressed ones when the server used gzip or brotli
        encoded = response.headers.get("Content-Encoding", "").strip().lower() not in ("", "identity")
        wire = response.num_bytes_downloaded if encoded else received
        if (declared is not None and wire != declared) or (total is not None and part.size != total):
            whole = total if total is not None else declared
            raise DownloadError(f"The image download was cut short ({part.size} of {whole} bytes).")
        if part.size == 0:
            raise DownloadError("The image server sent an empty file.")
        return part.size


class _PartFile:
    """The ``.part`` file of one download, opened by its first write (every method runs in a thread)."""

    def __init__(self, path: Path, *, append: bool = False) -> None:
        self.path = path
        self._append = append
        self._fh: typing.BinaryIO | None = None
        self.closed = False

    def write(self, data: bytes) -> None:
        if self._fh is None:
            # closed by finish(), abandon() or close()
            self._fh = open(self.path, "ab") if self._append else open(self.path, "wb")  # noqa: SIM115
        self._fh.write(data)

    def finish(self, data: bytes) -> None:
        """Write what is left, then flush, sync and close: the bytes are on disk before the file is checked."""
        try:
            self.write(data)
            assert self._fh is not None
            self._fh.flush()
            os.fsync(self._fh.fileno())
        finally:
            self.close()

    def abandon(self, data: bytes) -> int | None:
        """A transfer that stopped: write what came (small), close; returns the bytes written (None: a write
        failed, so what is on disk is not known)."""
        if self.closed:  # finish() failed part-way
            return None
        try:
            if data:
                self.write(data)
            return len(data)
        except OSError:
            return None
        finally:
            with contextlib.suppress(OSError):
                self.close()

    def close(self) -> None:
        self.closed = True
        if self._fh is not None:
            self._fh.close()
