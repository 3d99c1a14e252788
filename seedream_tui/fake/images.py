"""Pictures for the fake server: a gradient that differs per request, with the prompt written on it.

Blocking (Pillow): the server calls :func:`render_image` through ``asyncio.to_thread``. Only C-level Pillow
operations are used so a full-size 2304x1728 image takes a fraction of a second.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

#: what the model picks for the "let the model choose" tiers
TIER_SIZES = {"1K": (1024, 1024), "2K": (2048, 2048), "3K": (3072, 3072), "4K": (4096, 4096)}
#: FLUX-style named sizes
NAMED_SIZES = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
DEFAULT_SIZE = (1024, 1024)
MIN_SIDE = 16

CONTENT_TYPES = {
    "png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp", "mp4": "video/mp4",
}
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}
_WXH = re.compile(r"(\d{2,5})\s*[x×*]\s*(\d{2,5})")


def requested_size(values: dict[str, Any]) -> tuple[int, int]:
    """Width and height the input asks for, before scaling ("2304x1728 (4:3)", "2K", "landscape_4_3", ...)."""
    width, height = values.get("width"), values.get("height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width, height
    for key in ("resolution", "image_size", "size", "aspect_ratio"):
        raw = values.get(key)
        if not isinstance(raw, str):
            continue
        match = _WXH.search(raw)
        if match:
            return int(match.group(1)), int(match.group(2))
        tier = raw.strip().upper()
        if tier in TIER_SIZES:
            return TIER_SIZES[tier]
        if raw in NAMED_SIZES:
            return NAMED_SIZES[raw]
    return DEFAULT_SIZE


def scaled_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """``size`` times ``scale``, at least :data:`MIN_SIDE` pixels per side."""
    return max(MIN_SIDE, round(size[0] * scale)), max(MIN_SIDE, round(size[1] * scale))


def output_format(values: dict[str, Any]) -> str:
    """The file extension to produce: the input's ``output_format`` when we can write it, else png."""
    fmt = str(values.get("output_format") or "png").lower()
    return fmt if fmt in _PIL_FORMATS else "png"


def _colours(key: str) -> list[tuple[int, int, int]]:
    digest = hashlib.sha256(key.encode()).digest()
    return [(digest[i], digest[i + 1], digest[i + 2]) for i in (0, 3, 6)]


def render_image(
    path: Path, *, key: str, size: tuple[int, int], fmt: str, prompt: str, label: str = ""
) -> int:
    """Draw one picture to ``path`` and return its size in bytes; ``key`` makes the colours unique."""
    width, height = size
    first, second, third = _colours(key)
    ramp = Image.linear_gradient("L")  # 256x256, black at the top to white at the bottom
    across = ramp.rotate(90).resize(size)
    down = ramp.resize(size).point(lambda v: v // 2)
    image = Image.composite(Image.new("RGB", size, second), Image.new("RGB", size, first), across)
    image = Image.composite(Image.new("RGB", size, third), image, down)

    words = " ".join(prompt.split()[:6])
    text = f"{words}\n{label}" if label else words
    if text and min(size) >= 32:
        font = ImageFont.load_default(size=max(8, height // 14))
        draw = ImageDraw.Draw(image)
        draw.multiline_text(
            (width // 20, height // 3),
            text,
            font=font,
            fill=(255, 255, 255),
            stroke_width=max(1, height // 200),
            stroke_fill=(0, 0, 0),
        )

    pil_format = _PIL_FORMATS.get(fmt, "PNG")
    options: dict[str, Any] = {"compress_level": 1} if pil_format == "PNG" else {"quality": 85}
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=pil_format, **options)
    return path.stat().st_size
