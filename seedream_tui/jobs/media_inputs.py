"""Image inputs of edit and image-to-image models: what the user typed -> what RunComfy is sent.

A media field (``format: image_uri``, or an ``image_uris`` array) takes, per image:

- an ``https://`` (or ``http://``) URL: sent as it is (RunComfy's documentation asks for public URLs);
- a ``data:`` URI: sent as it is;
- a local file path (``~`` expanded): sent as a ``data:image/png|jpeg;base64,…`` URI, as RunComfy's own
  ComfyUI client does [client]. PNG and JPEG go as they are; other formats become PNG. Above the model's
  own file-size rule (``validations``: ``file_size_mb<``), or 6 MiB per image when it has none, the image
  is scaled down (as JPEG) until it fits; the whole request must stay under 64 MiB;
- ``#12`` (or ``#12.2`` for the second image of job 12): a result from the history, sent as its local file
  (the output URL may have expired), else its output URL.

Every refusal is a :class:`MediaInputError` whose text is a sentence naming the field. No Textual here.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seedream_tui.schema.spec import FieldKind, FieldSpec, ModelSpec

#: per image, when the model's schema gives no file-size rule (RunComfy's ComfyUI client) [client]
DEFAULT_IMAGE_BYTES = 6 * 1024 * 1024
#: the whole request body (RunComfy's ComfyUI client) [client]
MAX_REQUEST_BYTES = 64 * 1024 * 1024
#: a file bigger than this is not read at all (it is not an input image)
MAX_FILE_BYTES = 200 * 1024 * 1024
JOB_REF = re.compile(r"^#(\d+)(?:\.(\d+))?$")
_SENT_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


class MediaInputError(ValueError):
    """An image input that cannot be sent; ``str()`` is a sentence for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ResolvedInputs:
    values: dict[str, Any]
    #: the history jobs whose results are used as inputs (an edit chain's parents), in order
    parents: tuple[int, ...]


#: ``(job_id, output_index) -> (local path or None, url or None)``, or None when there is no such result
ResultLookup = Callable[[int, int], "tuple[str | None, str | None] | None"]


def is_reference(text: str) -> bool:
    """Does ``text`` need resolving (a path or a ``#job``), as opposed to a URL or data URI sent as it is?"""
    lowered = text.strip().lower()
    return bool(lowered) and not lowered.startswith(("https://", "http://", "data:"))


def image_limit(field: FieldSpec) -> int:
    """Bytes one image of ``field`` may have: its ``file_size_mb``/``file_size_kb`` rule, else 6 MiB."""
    limits = [
        rule.value * {"file_size_mb": 1024 * 1024, "file_size_kb": 1024, "file_size_bytes": 1}[rule.subject]
        for rule in field.rules
        if rule.subject in ("file_size_mb", "file_size_kb", "file_size_bytes") and rule.op in ("<", "<=")
    ]
    return int(min(limits)) - 1 if limits else DEFAULT_IMAGE_BYTES


def resolve_media(spec: ModelSpec, values: dict[str, Any], lookup: ResultLookup) -> ResolvedInputs:
    """Every media field's references turned into what is sent (blocking: file reads, Pillow)."""
    out = dict(values)
    parents: list[int] = []
    for field in spec.fields:
        value = values.get(field.name)
        if field.kind is FieldKind.MEDIA and isinstance(value, str) and is_reference(value):
            out[field.name] = _resolve_one(field, value, lookup, parents)
        elif field.kind is FieldKind.MEDIA_LIST and isinstance(value, list):
            out[field.name] = [
                _resolve_one(field, item, lookup, parents) if isinstance(item, str) and is_reference(item) else item
                for item in value
            ]
    size = len(json.dumps(out, ensure_ascii=False).encode("utf-8"))
    if size > MAX_REQUEST_BYTES:
        raise MediaInputError(
            f"The request with its images would be {size / 2**20:.0f} MiB; RunComfy takes at most "
            f"{MAX_REQUEST_BYTES // 2**20} MiB. Use fewer or smaller images, or URLs."
        )
    return ResolvedInputs(out, tuple(dict.fromkeys(parents)))


def _resolve_one(field: FieldSpec, text: str, lookup: ResultLookup, parents: list[int]) -> str:
    text = text.strip()
    match = JOB_REF.match(text)
    if match:
        job_id, index = int(match.group(1)), int(match.group(2) or 1) - 1
        found = lookup(job_id, index)
        if found is None:
            raise MediaInputError(f"{field.title}: job #{job_id} has no result {index + 1} in the history.", field.name)
        path, url = found
        parents.append(job_id)
        if path and Path(path).is_file():
            return file_to_data_uri(Path(path), image_limit(field), field)
        if url:
            return url
        raise MediaInputError(f"{field.title}: the result of job #{job_id} is neither on disk nor online.", field.name)
    return file_to_data_uri(Path(text).expanduser(), image_limit(field), field)


def image_field(spec: ModelSpec) -> FieldSpec | None:
    """The model's first image input (where "edit this result" puts the result), if it has one."""
    return next((f for f in spec.fields if f.kind in (FieldKind.MEDIA, FieldKind.MEDIA_LIST)), None)


def reference_to(field: FieldSpec, job_id: int) -> str | list[str]:
    """``#12`` in the shape the field takes (a list for an ``image_uris`` field)."""
    return [f"#{job_id}"] if field.kind is FieldKind.MEDIA_LIST else f"#{job_id}"


def file_to_data_uri(path: Path, limit: int, field: FieldSpec) -> str:
    """A local image as a ``data:`` URI within ``limit`` bytes (scaled down as JPEG when it is bigger)."""
    from PIL import Image, UnidentifiedImageError

    where = f"{field.title}: {path}"
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise MediaInputError(f"{where} is {size / 2**20:.0f} MiB, far too big for an input image.", field.name)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise MediaInputError(f"{where} does not exist (give a URL, a file path or #job).", field.name) from None
    except IsADirectoryError:
        raise MediaInputError(f"{where} is a folder, not an image file.", field.name) from None
    except OSError as exc:
        raise MediaInputError(f"{where} cannot be read ({exc.strerror or exc}).", field.name) from None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            fmt = image.format or ""
            if fmt in _SENT_FORMATS and len(raw) <= limit:
                return _data_uri(_SENT_FORMATS[fmt], raw)
            image.load()
            return _shrunk(image, limit, where, field.name, keep_png=fmt not in _SENT_FORMATS)
    except (UnidentifiedImageError, OSError, ValueError):
        raise MediaInputError(f"{where} is not an image Pillow can read (PNG or JPEG are best).", field.name) from None


def _shrunk(image: Any, limit: int, where: str, name: str, *, keep_png: bool) -> str:
    """Re-encode (PNG for a small non-PNG/JPEG image, else JPEG), halving the area until it fits."""
    from PIL import Image

    picture = image.convert("RGBA" if keep_png and "A" in image.getbands() else "RGB")
    for _ in range(12):
        buffer = io.BytesIO()
        if keep_png:
            picture.save(buffer, "PNG", optimize=True)
            mime = "image/png"
        else:
            picture.convert("RGB").save(buffer, "JPEG", quality=90)
            mime = "image/jpeg"
        if buffer.tell() <= limit:
            return _data_uri(mime, buffer.getvalue())
        keep_png = False  # too big as PNG: JPEG from here on
        width, height = picture.size
        if width < 64 or height < 64:
            break
        picture = picture.resize((max(1, int(width / 1.41)), max(1, int(height / 1.41))), Image.Resampling.LANCZOS)
    raise MediaInputError(f"{where} cannot be made smaller than {limit / 2**20:.1f} MiB.", name)


def _data_uri(mime: str, raw: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


_DATA_URI_HEAD = re.compile(r"^(data:[^,;]*)[^,]*,(.*)$", re.DOTALL)


def shorten_data_uris(value: Any) -> Any:
    """``value`` for display: every ``data:`` URI as ``data:image/png (1.2 MB)`` instead of megabytes of text."""
    if isinstance(value, str) and value.startswith("data:"):
        match = _DATA_URI_HEAD.match(value)
        if match:
            size = len(match.group(2)) * 3 // 4
            shown = f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"
            return f"{match.group(1)} ({shown})"
    if isinstance(value, list):
        return [shorten_data_uris(v) for v in value]
    if isinstance(value, dict):
        return {k: shorten_data_uris(v) for k, v in value.items()}
    return value
