"""Videos: checked before a job is done, tagged with their provenance, a poster frame, played frame by frame.

PyAV (FFmpeg in its wheels) reads and writes the files; no container code of our own. Everything here blocks
(FFmpeg's demuxers and decoders): callers run it in a thread.

- :func:`inspect_video` opens a downloaded file, refuses what cannot be played here with
  :class:`VideoProblem` (a sentence's core: damaged, no frame decodes, no decoder, a 16K frame, 4 hours long)
  and otherwise returns :class:`VideoInfo` (size, duration, frame rate, the first frame as a poster). The
  frame size and the duration are checked from the headers **before** anything is decoded; at most
  :data:`CHECK_FRAMES` frames are decoded, one large decode at a time per process (``decoding.DECODES``).
- :func:`write_tags` puts the provenance in the file's own metadata (MP4 ``title``/``comment``), by copying
  its packets into a new file (no re-encode); :func:`read_tags` reads it back.
- :class:`FramePlayer` decodes frames as they are wanted (never the whole video in memory), seeks, and
  scales each frame to a box: the viewer's worker calls it.

No Textual here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from seedream_tui.jobs.decoding import DECODES, tune_allocator

#: the largest frame played: 8K UHD (7680x4320, 33 megapixels; one decoded frame is ~50 MB in yuv420p)
MAX_VIDEO_PIXELS = 7680 * 4320
#: the longest video played (a generated clip is seconds long; a header claiming hours is not one)
MAX_VIDEO_SECONDS = 3600.0
#: frames decoded to check a file before it is accepted
CHECK_FRAMES = 3
#: extensions of files that may hold a video (an ``mp4`` with only a sound in it is a sound)
VIDEO_EXTENSIONS = ("mp4", "mov", "webm", "mkv")


class VideoProblem(ValueError):
    """Why a file cannot be played here; ``str()`` completes "The video …" ("is damaged: …")."""


@dataclass(frozen=True)
class VideoInfo:
    kind: str  # "video" or "audio" (a container with no picture in it)
    width: int | None
    height: int | None
    duration: float | None  # seconds
    fps: float | None
    codec: str = ""
    poster: Image.Image | None = None  # the first frame (RGB), for the thumbnail


def fmt_clock(seconds: float | None) -> str:
    """``0:05``, ``1:02:03``: how long a video is, or where in it the player is."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?:??"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _av() -> Any:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is a dependency
        raise VideoProblem(f"cannot be read: PyAV is not installed ({exc})") from None
    return av


def _open(path: str | os.PathLike[str]) -> Any:
    av = _av()
    try:
        return av.open(os.fspath(path), "r", options={"probesize": "5000000"})
    except av.error.FFmpegError as exc:
        raise VideoProblem(f"is damaged or not a video: {_ffmpeg_reason(exc)}") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise VideoProblem(f"cannot be opened: {exc}") from None


def _ffmpeg_reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split())[:160] or type(exc).__name__


def _duration(container: Any, stream: Any) -> float | None:
    if stream is not None and stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
        if seconds > 0:
            return seconds
    if container.duration is not None and container.duration > 0:
        return container.duration / 1_000_000
    return None


def _rate(stream: Any) -> float | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            value = float(rate)
            if 0 < value <= 1000:
                return value
    return None


def inspect_video(path: str | os.PathLike[str], *, decode: int = CHECK_FRAMES, poster: bool = True) -> VideoInfo:
    """Open ``path``, check its headers, decode its first ``decode`` frames; :class:`VideoProblem` when it
    cannot be played here. The first frame is returned as ``poster`` (RGB) when asked for."""
    av = _av()
    tune_allocator()
    container = _open(path)
    try:
        streams = list(container.streams.video)
        if not streams:
            if container.streams.audio:
                return VideoInfo("audio", None, None, _duration(container, container.streams.audio[0]), None)
            raise VideoProblem("has neither pictures nor sound in it")
        stream = streams[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        codec = stream.codec_context.name or ""
        if width and height and width * height > MAX_VIDEO_PIXELS:
            raise VideoProblem(f"has {width}x{height} frames, larger than the 7680x4320 (8K) this app plays")
        duration = _duration(container, stream)
        if duration is not None and duration > MAX_VIDEO_SECONDS:
            raise VideoProblem(f"is {fmt_clock(duration)} long, longer than the {fmt_clock(MAX_VIDEO_SECONDS)} "
                               "this app plays")
        first: Image.Image | None = None
        decoded = 0
        stream.thread_type = "AUTO"
        with DECODES:
            try:
                for frame in container.decode(stream):
                    if decoded == 0:
                        if frame.width * frame.height > MAX_VIDEO_PIXELS:
                            raise VideoProblem(f"has {frame.width}x{frame.height} frames, larger than the "
                                               "7680x4320 (8K) this app plays")
                        width, height = frame.width, frame.height
                        if poster:
                            first = frame.to_image()
                    decoded += 1
                    if decoded >= decode:
                        break
            except av.error.FFmpegError as exc:
                if decoded == 0:
                    raise VideoProblem(f"is damaged: its first frame does not decode ({_ffmpeg_reason(exc)})") from None
        if decoded == 0:
            if not codec or not _has_decoder(codec):
                raise VideoProblem(f"is in a format ({codec or 'unknown'}) this app has no decoder for")
            raise VideoProblem("has no frame that decodes (it is empty or damaged)")
        if duration is None:
            raise VideoProblem("does not say how long it is (its headers are damaged)")
        return VideoInfo("video", width, height, duration, _rate(stream), codec, first)
    except VideoProblem:
        raise
    except av.error.FFmpegError as exc:
        raise VideoProblem(f"is damaged: {_ffmpeg_reason(exc)}") from None
    finally:
        container.close()


def _has_decoder(codec: str) -> bool:
    av = _av()
    try:
        av.codec.Codec(codec, "r")
    except Exception:  # noqa: BLE001 - UnknownCodecError and kin
        return False
    return True


def save_poster(image: Image.Image, thumb: Path, box: tuple[int, int]) -> bool:
    """The poster (first frame) as the output's thumbnail PNG; False when it could not be written."""
    try:
        small = image.copy()
        small.thumbnail(box)
        thumb.parent.mkdir(parents=True, exist_ok=True)
        small.save(thumb, "PNG", optimize=False, compress_level=1)
    except (OSError, ValueError):
        return False
    return True


#: the MP4 tags the provenance goes in: the prompt as the title (what players show), everything as JSON
TAG_TITLE, TAG_JSON = "title", "comment"


def write_tags(path: Path, provenance: dict[str, Any]) -> bool:
    """Copy ``path``'s packets into a new file with the provenance in its metadata, then replace it (no
    re-encode). False (the file untouched) when it cannot be done."""
    av = _av()
    tmp = path.with_name(f".{path.name}.tags")
    try:
        with av.open(os.fspath(path), "r") as source, av.open(os.fspath(tmp), "w", format="mp4") as target:
            for key, value in source.metadata.items():
                if key not in ("major_brand", "minor_version", "compatible_brands", "encoder"):
                    target.metadata[key] = value
            target.metadata[TAG_TITLE] = str(provenance.get("prompt", ""))[:2000]
            target.metadata[TAG_JSON] = json.dumps(provenance, ensure_ascii=False, sort_keys=True)
            mapping = {}
            for stream in source.streams:
                if stream.type in ("video", "audio"):
                    mapping[stream.index] = target.add_stream_from_template(stream)
            for packet in source.demux(list(source.streams)):
                out = mapping.get(packet.stream.index)
                if out is None or packet.dts is None:
                    continue
                packet.stream = out
                target.mux(packet)
        os.replace(tmp, path)
        return True
    except (av.error.FFmpegError, OSError, ValueError, TypeError):
        tmp.unlink(missing_ok=True)
        return False


def read_tags(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The provenance :func:`write_tags` put in the file ({} when there is none or it cannot be read)."""
    av = _av()
    try:
        with av.open(os.fspath(path), "r") as container:
            raw = container.metadata.get(TAG_JSON, "")
    except (av.error.FFmpegError, OSError, ValueError):
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class FramePlayer:
    """Frames of one video, decoded one at a time as they are asked for (the viewer's worker thread).

    ``next_frame()`` returns the next (index, seconds, PIL image scaled to fit ``box``) or None at the end;
    ``seek(seconds)`` jumps to the key frame before and decodes on to the time asked for. Only the current
    frame is held: memory stays that of the decoder, however long the video."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._av = _av()
        self.container = _open(path)
        if not self.container.streams.video:
            self.container.close()
            raise VideoProblem("has no pictures in it")
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        ctx = self.stream.codec_context
        if ctx.width * ctx.height > MAX_VIDEO_PIXELS:
            self.container.close()
            raise VideoProblem(f"has {ctx.width}x{ctx.height} frames, larger than the 7680x4320 (8K) this app plays")
        self.duration = _duration(self.container, self.stream) or 0.0
        self.fps = _rate(self.stream) or 24.0
        self.frame_count = self.stream.frames or max(1, round(self.duration * self.fps))
        self._frames: Iterator[Any] | None = None
        self.index = -1
        self.time = 0.0

    def _iter(self) -> Iterator[Any]:
        if self._frames is None:
            self._frames = self.container.decode(self.stream)
        return self._frames

    def next_frame(self, box: tuple[int, int]) -> tuple[int, float, Image.Image] | None:
        """The next frame scaled to fit ``box`` (width, height in pixels), or None at the end of the video."""
        frame = self.next_raw()
        return None if frame is None else (self.index, self.time, scaled(frame, box))

    def next_raw(self) -> Any:
        """The next decoded frame, not converted (cheap to skip), or None at the end of the video."""
        try:
            frame = next(self._iter())
        except StopIteration:
            return None
        except self._av.error.FFmpegError:
            return None  # a damaged tail: the video ends there
        self.time = float(frame.time) if frame.time is not None else (self.index + 1) / self.fps
        self.index = max(0, round(self.time * self.fps))
        return frame

    def seek(self, seconds: float) -> None:
        """Go to ``seconds`` (clamped to the video): the next frame is the one shown at that time."""
        seconds = max(0.0, min(seconds, max(0.0, self.duration - 1 / self.fps)))
        target = int(seconds / float(self.stream.time_base)) if self.stream.time_base else 0
        self.container.seek(target, stream=self.stream, backward=True, any_frame=False)
        self._frames = None
        if seconds <= 0:
            self.index, self.time = -1, 0.0
            return
        # decode on from the key frame, without scaling, up to the frame before the one asked for
        step = 1 / self.fps
        while True:
            try:
                frame = next(self._iter())
            except (StopIteration, self._av.error.FFmpegError):
                return
            time = float(frame.time) if frame.time is not None else 0.0
            self.time, self.index = time, max(0, round(time * self.fps))
            if time + step * 1.5 > seconds:
                return

    def close(self) -> None:
        self._frames = None
        self.container.close()


def scaled(frame: Any, box: tuple[int, int]) -> Image.Image:
    """The frame as RGB scaled to fit ``box`` (keeping its aspect), scaled by FFmpeg's swscale (fast)."""
    bw, bh = max(1, box[0]), max(1, box[1])
    scale = min(bw / frame.width, bh / frame.height, 1.0)
    width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
    return frame.to_image(width=width, height=height)
