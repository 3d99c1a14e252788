"""Edit and image-to-image models of the fake: they check their input images and derive their output from them.

A ``data:`` URI must decode to an image that keeps the field's ``validations`` (RunComfy's rule names:
``file_size_mb<``, ``width/height>``, ``width/height<``, ``width_pixels>``, ``height_pixels>``) and a list
its ``minItems``/``maxItems``, else the submit is refused with 422, as RunComfy would. A URL is fetched only
from the fake's own CDN origin: the fake is offline, so a public https URL (RunComfy's documented input
form, which RunComfy itself would fetch) gets a *demo stand-in* and a ``demo_note`` in the result saying so,
never a failed job. The output is the input, resized to the requested size, tinted per request and stamped
with the prompt, so the demo shows edits that visibly come from their source. Blocking (Pillow): called in
a thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

_MEDIA_FORMATS = ("image_uri", "image_uris")
#: what a stand-in output says on it
STAND_IN_LABEL = "demo stand-in"
#: RunComfy's rule names for input images -> does the image ``(bytes, width, height)`` keep the rule at ``limit``
IMAGE_RULES: dict[str, Callable[[int, int, int, float], bool]] = {
    "file_size_mb<": lambda size, w, h, limit: size / (1024 * 1024) < limit,
    "width/height>": lambda size, w, h, limit: h > 0 and w / h > limit,
    "width/height<": lambda size, w, h, limit: h > 0 and w / h < limit,
    "width_pixels>": lambda size, w, h, limit: w > limit,
    "height_pixels>": lambda size, w, h, limit: h > limit,
}


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
    """Refusals at submit: a ``data:`` URI that is not an image or breaks one of its field's rules, a value
    that is neither URI nor URL, a list with too few or too many images."""
    errors: dict[str, str] = {}
    props = schema.get("properties") or {}
    for name in media_fields(schema):
        value = values.get(name)
        prop = props.get(name) or {}
        if isinstance(value, list):
            most, least = prop.get("maxItems"), prop.get("minItems")
            if isinstance(most, int) and len(value) > most:
                errors[name] = f"{name} takes at most {most} images; {len(value)} were given."
            elif isinstance(least, int) and len(value) < least:
                errors[name] = f"{name} needs at least {least} image{'s' if least != 1 else ''}."
    for name, ref in input_images(schema, values):
        if name in errors:
            continue
        if ref.startswith("data:"):
            try:
                broken = _broken_rule(_decoded_facts(ref), (props.get(name) or {}).get("validations"))
            except ValueError as exc:
                errors[name] = str(exc)
                continue
            if broken:
                errors[name] = broken
        elif urlsplit(ref).scheme not in ("http", "https"):
            errors[name] = f"{name} must be an http(s) URL or a data: URI, not {ref[:40]!r}."
    return errors


def _decoded_facts(ref: str) -> tuple[int, int, int]:
    """``(bytes, width, height)`` of the image in a ``data:`` URI; ``ValueError`` when it is none."""
    image, size = _decode_data_uri_sized(ref)
    return size, image.size[0], image.size[1]


def _broken_rule(facts: tuple[int, int, int], validations: Any) -> str | None:
    """The ``validation_error`` of the first rule (RunComfy's names) the image breaks; other rules are not ours."""
    for rule in validations if isinstance(validations, list) else []:
        if not isinstance(rule, dict):
            continue
        check = IMAGE_RULES.get(str(rule.get("validation_rule", "")).replace(" ", ""))
        limit = rule.get("validation_value")
        if check is None or isinstance(limit, bool) or not isinstance(limit, int | float):
            continue
        if not check(*facts, float(limit)):
            return str(rule.get("validation_error") or f"The image breaks the rule {rule['validation_rule']} {limit}.")
    return None


def is_elsewhere(ref: str, cdn_url: str) -> bool:
    """An http(s) URL on another host than the fake's own CDN: the offline fake cannot fetch it."""
    url, own = urlsplit(ref), urlsplit(cdn_url)
    return url.scheme in ("http", "https") and (url.scheme, url.netloc) != (own.scheme, own.netloc)


def stand_in_note(refs: list[str], *, derived: bool) -> str:
    """The ``demo_note`` of a job whose input URLs the offline fake could not fetch (host names only: no URL)."""
    hosts = ", ".join(dict.fromkeys(urlsplit(ref).hostname or "?" for ref in refs))
    instead = (
        "the result was made from the other input image(s) only"
        if derived
        else "the result is a demo stand-in, not an edit of that image"
    )
    return (
        f"This offline demo server cannot fetch input images from the internet ({hosts}); RunComfy would. "
        f"So {instead}."
    )


def _decode_data_uri(ref: str) -> Image.Image:
    return _decode_data_uri_sized(ref)[0]


def _decode_data_uri_sized(ref: str) -> tuple[Image.Image, int]:
    """The image in a base64 ``data:`` URI and its size in bytes."""
    head, sep, payload = ref.partition(",")
    if not sep or ";base64" not in head:
        raise ValueError("The data: URI is not base64-encoded.")
    try:
        raw = base64.b64decode(payload, validate=False)
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError):
        raise ValueError("The data: URI does not decode to an image.") from None
    return image, len(raw)


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
