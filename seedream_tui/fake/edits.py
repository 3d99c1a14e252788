"""Edit and image-to-image models of the fake: they check their input images and derive their output from them.

A ``data:`` URI must decode to an image (else the submit is refused with 422, as a real model would);
a URL is fetched only from the fake's own CDN origin (it has no internet), other hosts fail the job with a
sentence. The output is the input, resized to the requested size, tinted per request and stamped with the
prompt, so the demo shows edits that visibly come from their source. Blocking (Pillow): called in a thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

_MEDIA_FORMATS = ("image_uri", "image_uris")


def media_fields(schema: dict[str, Any]) -> list[str]:
    """Names of the image-input properties of an input schema, in order."""
    names = []
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        items = prop.get("items")
        item_format = items.get("format") if isinstance(items, dict) else None
        if prop.get("format") in _MEDIA_FORMATS or item_format in _MEDIA_FORMATS:
            names.append(name)
    return names


def input_images(schema: dict[str, Any], values: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field, reference)`` of every image the input gives, in field order."""
    found = []
    for name in media_fields(schema):
        value = values.get(name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.strip():
                found.append((name, item.strip()))
    return found


def check_inputs(schema: dict[str, Any], values: dict[str, Any]) -> dict[str, str]:
    """Refusals at submit: a ``data:`` URI that is not an image, or a value that is neither URI nor URL."""
    errors: dict[str, str] = {}
    for name, ref in input_images(schema, values):
        if ref.startswith("data:"):
            try:
                _decode_data_uri(ref)
            except ValueError as exc:
                errors.setdefault(name, str(exc))
        elif urlsplit(ref).scheme not in ("http", "https"):
            errors.setdefault(name, f"{name} must be an http(s) URL or a data: URI, not {ref[:40]!r}.")
    return errors


def _decode_data_uri(ref: str) -> Image.Image:
    head, sep, payload = ref.partition(",")
    if not sep or ";base64" not in head:
        raise ValueError("The data: URI is not base64-encoded.")
    try:
        raw = base64.b64decode(payload, validate=False)
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError):
        raise ValueError("The data: URI does not decode to an image.") from None
    return image


def load_source(ref: str, files_dir: Path, cdn_url: str) -> Image.Image:
    """The input image: decoded from a ``data:`` URI, or read from the fake's own CDN files."""
    if ref.startswith("data:"):
        return _decode_data_uri(ref)
    own = urlsplit(cdn_url)
    url = urlsplit(ref)
    parts = url.path.strip("/").split("/")
    if (url.scheme, url.netloc) != (own.scheme, own.netloc) or len(parts) != 3 or parts[0] != "files":
        raise ValueError(f"The input image at {url.netloc or ref[:40]} could not be downloaded by the model.")
    path = files_dir / parts[1] / parts[2]
    if ".." in parts or not path.is_file():
        raise ValueError("The input image on the CDN no longer exists.")
    with Image.open(path) as image:
        image.load()
        return image


def render_derived(
    source: Image.Image, path: Path, *, key: str, size: tuple[int, int] | None, fmt: str, prompt: str
) -> None:
    """The source resized (to ``size``, else its own size), tinted per ``key`` and stamped with the prompt."""
    image = ImageOps.fit(source.convert("RGB"), size) if size else source.convert("RGB")
    digest = hashlib.sha256(key.encode()).digest()
    tint = Image.new("RGB", image.size, (digest[0], digest[1], digest[2]))
    image = Image.blend(image, tint, 0.35)
    width, height = image.size
    words = " ".join(prompt.split()[:6])
    if words and min(image.size) >= 32:
        font = ImageFont.load_default(size=max(8, height // 14))
        ImageDraw.Draw(image).multiline_text(
            (width // 20, height - height // 5 - (digest[3] % 5) * height // 8), f"edit: {words}", font=font, fill=(255, 255, 255),
            stroke_width=max(1, height // 200), stroke_fill=(0, 0, 0),
        )  # fmt: skip
    pil = {"jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}.get(fmt, "PNG")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=pil, **({"compress_level": 1} if pil == "PNG" else {"quality": 85}))
