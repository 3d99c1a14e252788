"""Videos for the fake server: a real, playable H.264 MP4 made with PyAV (FFmpeg in its wheels).

The picture is a camera move over a generated still (the same gradient-and-prompt picture as the fake's
images, or the input image for image-to-video): a slow zoom and pan, the prompt and a frame counter drawn on
every frame. Blocking (Pillow, the encoder): the server calls :func:`render_video` through
``asyncio.to_thread``, so the server's event loop never waits on it.

Speed: frames are small (the requested size times ``FakeConfig.image_scale``, as the demo's images) and the
frame rate is ``FakeConfig.video_fps`` (tests use a low one).
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from seedream_tui.fake.images import render_image

#: H.264 encoders in order of preference (PyAV's wheels ship libx264; ``mpeg4`` only when none exists)
H264_ENCODERS = ("libx264", "h264", "libopenh264")
FALLBACK_ENCODER = "mpeg4"
#: the durations a video model may be asked for, and the default (Seedance: 5 or 10 s; anything within 1-12)
DEFAULT_SECONDS = 5
MIN_SECONDS, MAX_SECONDS = 1, 12
#: named resolutions of video models (``480p``, ``720p``, ``1080p``) at 16:9
VIDEO_SIZES = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}


def encoder_name() -> str:
    """The first H.264 encoder this PyAV has, else the MPEG-4 part 2 one."""
    import av

    for name in H264_ENCODERS:
        try:
            av.codec.Codec(name, "w")
        except Exception:  # noqa: BLE001 - av raises its own UnknownCodecError (a ValueError) or others
            continue
        return name
    return FALLBACK_ENCODER


def requested_seconds(values: dict[str, Any]) -> int:
    """The ``duration`` option as whole seconds, within :data:`MIN_SECONDS`..:data:`MAX_SECONDS`."""
    raw = values.get("duration", DEFAULT_SECONDS)
    try:
        seconds = round(float(raw))
    except (TypeError, ValueError):
        seconds = DEFAULT_SECONDS
    return max(MIN_SECONDS, min(MAX_SECONDS, seconds))


def requested_video_size(values: dict[str, Any], source: Image.Image | None) -> tuple[int, int]:
    """Width and height asked for: a named resolution (``720p``), ``WxH``, or the input image's aspect."""
    raw = str(values.get("resolution") or "").strip().lower()
    if raw in VIDEO_SIZES:
        width, height = VIDEO_SIZES[raw]
    else:
        width, height = VIDEO_SIZES["720p"]
    ratio = str(values.get("aspect_ratio") or "")
    if ":" in ratio:
        try:
            aw, ah = (float(x) for x in ratio.split(":", 1))
            if aw > 0 and ah > 0:
                width = round(height * aw / ah)
        except ValueError:
            pass
    elif source is not None and source.width > 0 and source.height > 0:
        width = round(height * source.width / source.height)
    return width, height


def even_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """``size`` times ``scale``, even on both sides (H.264 in yuv420p needs it), at least 32x32."""
    width = max(32, round(size[0] * scale) // 2 * 2)
    height = max(32, round(size[1] * scale) // 2 * 2)
    return width, height


def render_video(
    path: Path,
    *,
    key: str,
    size: tuple[int, int],
    seconds: int,
    fps: int,
    prompt: str,
    source: Image.Image | None = None,
    metadata: dict[str, str] | None = None,
) -> int:
    """Encode a ``seconds``-long MP4 of ``size`` at ``fps`` to ``path``; returns its size in bytes.

    The still is ``source`` (image-to-video: the film visibly comes from its input) or a generated picture;
    the camera zooms in from the whole still to 80 % of it while panning, so every frame differs."""
    import av

    width, height = size
    frames = max(1, seconds * fps)
    margin = 1.25  # the still is larger than the frame so the camera has room to move
    still_size = (round(width * margin), round(height * margin))
    if source is not None:
        still = source.convert("RGB").resize(still_size)
    else:
        tmp = path.with_suffix(".still.png")
        render_image(tmp, key=key, size=still_size, fmt="png", prompt=prompt)
        with Image.open(tmp) as img:
            still = img.convert("RGB")
        tmp.unlink(missing_ok=True)
    digest = hashlib.sha256(key.encode()).digest()
    direction = 1 if digest[0] % 2 else -1
    words = " ".join(prompt.split()[:6])
    font = ImageFont.load_default(size=max(8, height // 12))
    small = ImageFont.load_default(size=max(8, height // 16))

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_suffix(".part.mp4")
    codec = encoder_name()
    with av.open(str(tmp_path), "w", format="mp4") as container:
        for name, value in (metadata or {}).items():
            container.metadata[name] = value
        stream: Any = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        if codec in ("libx264", "h264"):
            stream.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": "28"}
        for index in range(frames):
            t = index / max(1, frames - 1)
            zoom = 1.0 - 0.2 * t  # the crop shrinks: a zoom in
            crop_w, crop_h = still_size[0] * zoom, still_size[1] * zoom
            span_x, span_y = still_size[0] - crop_w, still_size[1] - crop_h
            x = span_x * (t if direction > 0 else 1 - t)
            y = span_y * 0.5
            box = (round(x), round(y), round(x + crop_w), round(y + crop_h))
            frame_img = still.resize((width, height), Image.Resampling.BILINEAR, box=box)
            draw = ImageDraw.Draw(frame_img)
            if words and min(width, height) >= 48:
                draw.text((width // 20, height // 10), words, font=font, fill=(255, 255, 255),
                          stroke_width=1, stroke_fill=(0, 0, 0))
            draw.text((width // 20, height - height // 6), f"{index + 1}/{frames}", font=small,
                      fill=(255, 255, 0), stroke_width=1, stroke_fill=(0, 0, 0))
            frame = av.VideoFrame.from_image(frame_img)
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp_path.replace(path)
    return path.stat().st_size
