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

A video field (``format: video_uri``/``video_uris``, or a media field named ``video``, ``video_url``,
``videos``, ``reference_video``…) takes a URL, a ``data:`` URI, a local video file or ``#31`` (a job's video
result) the same way, within RunComfy's limit for input videos (at most 100 MB) [doc]: a local file is checked
before it is read (a regular file, its size, then it opens as a video with pictures in it, via
``jobs.video.inspect_video``, one frame decoded) and sent as a ``data:video/mp4;base64,…`` URI, never
re-encoded; one that would push the request past 64 MiB is refused with a sentence asking for a URL (a
``#31`` result that big is sent as its output URL instead).

Only regular files are read (a device such as ``/dev/zero``, a FIFO or a socket is refused before it is
opened for reading, so nothing can block or fill memory), their size is checked before reading and their
pixel count before decoding (``jobs.decoding``: at most 64 megapixels; a JPEG to be scaled down, up to
178). Every refusal is a :class:`MediaInputError` whose text is a sentence naming the field.

What is stored is not what is sent (issue 18 §5): the history row keeps each local file as a reference,
``{"file": "/abs/path.png", "sha256": "…", "size": 12345}``, and ``#12`` as typed (``ResolvedInputs.stored``);
the ``data:`` URI exists only while the submit is sent. A re-run resolves the reference again and refuses,
with a sentence, a file that is gone or has changed since. Rows written before hold ``data:`` URIs: those
are sent as they are. No Textual here.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seedream_tui.schema.spec import FieldKind, FieldSpec, ModelSpec

#: per image, when the model's schema gives no file-size rule (RunComfy's ComfyUI client) [client]
DEFAULT_IMAGE_BYTES = 6 * 1024 * 1024
#: the whole request body (RunComfy's ComfyUI client) [client]
MAX_REQUEST_BYTES = 64 * 1024 * 1024
#: a file bigger than this is not read at all (it is not an input image)
MAX_FILE_BYTES = 200 * 1024 * 1024
#: RunComfy's limit for an input video [doc] (decimal megabytes, as documented)
MAX_VIDEO_INPUT_BYTES = 100 * 1000 * 1000
_VIDEO_MIME = {"mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime", "webm": "video/webm",
               "mkv": "video/x-matroska"}
_VIDEO_NAME = re.compile(r"(?:^|_)videos?(?:$|_)")
JOB_REF = re.compile(r"^#(\d+)(?:\.(\d+))?$")
_SENT_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


class MediaInputError(ValueError):
    """An image input that cannot be sent; ``str()`` is a sentence for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ResolvedInputs:
    #: what is sent: local files and ``#job`` results as ``data:`` URIs (or URLs)
    values: dict[str, Any]
    #: the history jobs whose results are used as inputs (an edit chain's parents), in order
    parents: tuple[int, ...]
    #: what the history keeps of each media field that was resolved: a file reference (see :func:`file_ref`)
    #: or ``#12`` instead of its ``data:`` URI; the other fields are stored as they are sent
    stored: dict[str, Any] = field(default_factory=dict)

    def for_history(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        """``cleaned`` (the validated ``values``) with each resolved media field in its stored form."""
        return {key: self.stored.get(key, value) for key, value in cleaned.items()}


#: the keys of a stored file reference
_REF_KEYS = frozenset({"file", "sha256", "size"})


def is_file_ref(value: Any) -> bool:
    """Is ``value`` a stored file reference ``{"file": …, "sha256": …, "size": …}``?"""
    return isinstance(value, dict) and set(value) == _REF_KEYS and isinstance(value.get("file"), str)


def file_ref(path: Path, raw: bytes) -> dict[str, Any]:
    """What the history keeps of a local image instead of its bytes: where it was, its digest and size."""
    return {"file": str(path), "sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)}


def editable_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """A past job's inputs as the editor takes them: each stored file reference as its path."""
    return {key: editable(value) for key, value in inputs.items()}


def editable(value: Any) -> Any:
    """A stored input as the user can edit it again: a file reference becomes its path."""
    if is_file_ref(value):
        return value["file"]
    if isinstance(value, list):
        return [editable(v) for v in value]
    return value


#: ``(job_id, output_index) -> (local path or None, url or None)``, or None when there is no such result
ResultLookup = Callable[[int, int], "tuple[str | None, str | None] | None"]


def is_video_field(field: FieldSpec) -> bool:
    """Does this media field take videos? Its format says so (``video_uri``, ``video_url``, ``video_uris``);
    a generic or missing format (``media_uri``, ``file_url``) leaves it to the name (``video``, ``video_url``,
    ``videos``, ``reference_video``)."""
    if field.kind not in (FieldKind.MEDIA, FieldKind.MEDIA_LIST):
        return False
    fmt = (field.format or "").lower()
    if fmt.startswith("video"):
        return True
    if fmt.startswith(("image", "audio")):
        return False
    return bool(_VIDEO_NAME.search(field.name.lower()))


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
    """Every media field's references (paths, ``#job``, stored file references) turned into what is sent,
    with what the history keeps of them (blocking: file reads, Pillow)."""
    out = dict(values)
    stored: dict[str, Any] = {}
    parents: list[int] = []
    for spec_field in spec.fields:
        value = values.get(spec_field.name)
        if spec_field.kind is FieldKind.MEDIA and _needs_resolving(value):
            out[spec_field.name], stored[spec_field.name] = _resolve_one(spec_field, value, lookup, parents)
        elif spec_field.kind is FieldKind.MEDIA_LIST and isinstance(value, list) and any(map(_needs_resolving, value)):
            pairs = [
                _resolve_one(spec_field, item, lookup, parents) if _needs_resolving(item) else (item, item)
                for item in value
            ]
            out[spec_field.name] = [sent for sent, _ in pairs]
            stored[spec_field.name] = [kept for _, kept in pairs]
    _check_request_size(out)
    return ResolvedInputs(out, tuple(dict.fromkeys(parents)), stored)


def resolve_stored_refs(values: dict[str, Any]) -> ResolvedInputs:
    """A past job's inputs whose model has no schema here: every stored file reference (at the top level or
    in a list) resolved to a ``data:`` URI within the default size limit; the rest sent as stored."""
    image = FieldSpec(name="", kind=FieldKind.MEDIA, title="An image input")
    video = FieldSpec(name="", kind=FieldKind.MEDIA, title="A video input", format="video_uri")

    def resolved(ref: dict[str, Any]) -> str:
        is_video = Path(ref["file"]).suffix.lower().lstrip(".") in _VIDEO_MIME
        return _resolve_one(video if is_video else image, ref, _no_results, [])[0]

    out = dict(values)
    stored: dict[str, Any] = {}
    for key, value in values.items():
        if is_file_ref(value):
            out[key] = resolved(value)
            stored[key] = value
        elif isinstance(value, list) and any(map(is_file_ref, value)):
            out[key] = [resolved(v) if is_file_ref(v) else v for v in value]
            stored[key] = value
    _check_request_size(out)
    return ResolvedInputs(out, (), stored)


def _no_results(job_id: int, index: int) -> None:
    return None


def _needs_resolving(value: Any) -> bool:
    return is_file_ref(value) or (isinstance(value, str) and is_reference(value))


def _check_request_size(out: dict[str, Any]) -> None:
    size = len(json.dumps(out, ensure_ascii=False).encode("utf-8"))
    if size > MAX_REQUEST_BYTES:
        raise MediaInputError(
            f"The request with its images or videos would be {size / 2**20:.0f} MiB; RunComfy takes at most "
            f"{MAX_REQUEST_BYTES // 2**20} MiB. Use fewer or smaller images, or URLs."
        )


def _resolve_one(spec_field: FieldSpec, value: Any, lookup: ResultLookup, parents: list[int]) -> tuple[str, Any]:
    """(what is sent, what the history keeps) for one image (or video) reference."""
    video = is_video_field(spec_field)
    if is_file_ref(value):
        path = Path(value["file"])
        if video:
            raw = _read_video_file(path, spec_field, stored=True)
        else:
            raw = _read_regular_file(path, spec_field, stored=True)
        if len(raw) != value["size"] or hashlib.sha256(raw).hexdigest() != value["sha256"]:
            raise MediaInputError(
                f"{spec_field.title}: {path} has changed since the job was sent with it, so it would not be the "
                f"same {'video' if video else 'image'}; submit it as a new job to use it as it is now.", spec_field.name,
            )
        if video:
            return _video_data_uri(raw, path), value
        return _as_data_uri(raw, path, image_limit(spec_field), spec_field), value
    text = value.strip()
    match = JOB_REF.match(text)
    if match:
        job_id, index = int(match.group(1)), int(match.group(2) or 1) - 1
        found = lookup(job_id, index)
        if found is None:
            raise MediaInputError(
                f"{spec_field.title}: job #{job_id} has no result {index + 1} in the history.", spec_field.name
            )
        result_path, url = found
        parents.append(job_id)
        if video:
            return _result_video(spec_field, job_id, result_path, url), text
        if result_path and Path(result_path).is_file():
            return file_to_data_uri(Path(result_path), image_limit(spec_field), spec_field), text
        if url:
            return url, text
        raise MediaInputError(
            f"{spec_field.title}: the result of job #{job_id} is neither on disk nor online.", spec_field.name
        )
    where = Path(os.path.abspath(Path(text).expanduser()))
    if video:
        raw = _read_video_file(where, spec_field)
        return _video_data_uri(raw, where), file_ref(where, raw)
    raw = _read_regular_file(where, spec_field)
    return _as_data_uri(raw, where, image_limit(spec_field), spec_field), file_ref(where, raw)


def _result_video(spec_field: FieldSpec, job_id: int, result_path: str | None, url: str | None) -> str:
    """What is sent for ``#31`` in a video field: the result's file (checked as a video) as a ``data:`` URI
    when it fits in a request, else its output URL."""
    if result_path and Path(result_path).is_file():
        path = Path(result_path)
        if url and _data_uri_size(path.stat().st_size) > MAX_REQUEST_BYTES:
            return url
        return _video_data_uri(_read_video_file(path, spec_field), path)
    if url:
        return url
    raise MediaInputError(
        f"{spec_field.title}: the result of job #{job_id} is neither on disk nor online.", spec_field.name
    )


def _data_uri_size(size: int) -> int:
    """Bytes of a file of ``size`` bytes as a ``data:`` URI (base64 plus a header)."""
    return (size + 2) // 3 * 4 + 40


def _read_video_file(path: Path, field: FieldSpec, *, stored: bool = False) -> bytes:
    """The bytes of a local video input, checked before a byte is read: a regular file, at most 100 MB
    (RunComfy's limit), small enough to go in one request as a ``data:`` URI, and a video with pictures in
    it that opens and whose first frame decodes (``jobs.video.inspect_video``)."""
    where = f"{field.title}: {path}"

    def check(size: int) -> None:
        if size > MAX_VIDEO_INPUT_BYTES:
            raise MediaInputError(
                f"{where} is {size / 1e6:.0f} MB; RunComfy takes input videos of at most "
                f"{MAX_VIDEO_INPUT_BYTES // 1_000_000} MB. Trim or compress it, or give a URL.", field.name,
            )
        if _data_uri_size(size) > MAX_REQUEST_BYTES:
            raise MediaInputError(
                f"{where} is {size / 1e6:.0f} MB, too big to send from this computer: in the request it would "
                f"take {_data_uri_size(size) / 2**20:.0f} MiB and RunComfy takes at most "
                f"{MAX_REQUEST_BYTES // 2**20} MiB. Put it online and give its https URL.", field.name,
            )
        _check_is_video(path, where, field)

    return _read_regular_file(path, field, stored=stored, what="video", before_read=check)


def _check_is_video(path: Path, where: str, field: FieldSpec) -> None:
    from seedream_tui.jobs.video import VideoProblem, inspect_video

    try:
        info = inspect_video(path, decode=1, poster=False)
    except VideoProblem as exc:
        raise MediaInputError(f"{where} {exc}, so it cannot be sent as a video.", field.name) from None
    except Exception as exc:  # noqa: BLE001 - a decoder's own failure is still a sentence
        raise MediaInputError(f"{where} cannot be read as a video ({type(exc).__name__}).", field.name) from None
    if info.kind != "video":
        raise MediaInputError(f"{where} is a sound with no pictures in it, not a video.", field.name)


def _video_data_uri(raw: bytes, path: Path) -> str:
    """A checked local video as a ``data:`` URI, sent as it is (no re-encode)."""
    return _data_uri(_VIDEO_MIME.get(path.suffix.lower().lstrip("."), "video/mp4"), raw)


def image_field(spec: ModelSpec) -> FieldSpec | None:
    """The model's first image input (where "edit this result" puts the result), if it has one."""
    return next((f for f in spec.fields if f.kind in (FieldKind.MEDIA, FieldKind.MEDIA_LIST)), None)


def reference_to(field: FieldSpec, job_id: int) -> str | list[str]:
    """``#12`` in the shape the field takes (a list for an ``image_uris`` field)."""
    return [f"#{job_id}"] if field.kind is FieldKind.MEDIA_LIST else f"#{job_id}"


def file_to_data_uri(path: Path, limit: int, field: FieldSpec) -> str:
    """A local image as a ``data:`` URI within ``limit`` bytes (scaled down as JPEG when it is bigger)."""
    return _as_data_uri(_read_regular_file(path, field), path, limit, field)


def _read_regular_file(
    path: Path, field: FieldSpec, *, stored: bool = False, what: str = "image",
    before_read: Callable[[int], None] | None = None,
) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; anything else is a sentence. The file is opened
    without blocking (a FIFO would wait for a writer for ever) and checked before a byte is read: a device
    (``/dev/zero`` never ends), a FIFO or a socket is refused."""
    where = f"{field.title}: {path}"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if stored:
            raise MediaInputError(
                f"{where} is gone (moved or deleted) since the job was sent with it.", field.name,
            ) from None
        raise MediaInputError(f"{where} does not exist (give a URL, a file path or #job).", field.name) from None
    except IsADirectoryError:
        raise MediaInputError(f"{where} is a folder, not {_an(what)} file.", field.name) from None
    except OSError as exc:
        raise MediaInputError(f"{where} cannot be read ({exc.strerror or exc}).", field.name) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise MediaInputError(f"{where} is a folder, not {_an(what)} file.", field.name)
        if not stat.S_ISREG(info.st_mode):
            raise MediaInputError(
                f"{where} is not a regular file (a device, a pipe or a socket), so it is not read; "
                f"give {_an(what)} file.", field.name,
            )
        if before_read is not None:
            before_read(info.st_size)
        if info.st_size > MAX_FILE_BYTES:
            raise MediaInputError(_too_big(where, info.st_size), field.name)
        with os.fdopen(os.dup(fd), "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise MediaInputError(f"{where} cannot be read ({exc.strerror or exc}).", field.name) from None
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:  # it grew while it was read
        raise MediaInputError(_too_big(where, len(raw)), field.name)
    return raw


def _an(what: str) -> str:
    return f"an {what}" if what[:1] in "aeiou" else f"a {what}"


def _too_big(where: str, size: int) -> str:
    return (f"{where} is {size / 2**20:.0f} MiB, far too big for an input image "
            f"(at most {MAX_FILE_BYTES // 2**20} MiB is read).")


#: a JPEG bigger than this is decoded at 1/2, 1/4 or 1/8 scale to be shrunk (a sent image is smaller anyway)
_DRAFT_BOX = (4096, 4096)


def _as_data_uri(raw: bytes, path: Path, limit: int, field: FieldSpec) -> str:
    """``raw`` (a file's bytes) as a ``data:`` URI: PNG/JPEG within ``limit`` as it is, else re-encoded and
    shrunk. The pixel count is checked before anything is decoded; one large decode at a time."""
    from PIL import UnidentifiedImageError

    from seedream_tui.jobs.decoding import DECODES, TooManyPixels, open_image

    where = f"{field.title}: {path}"
    try:
        with open_image(io.BytesIO(raw), draft_box=_DRAFT_BOX) as image:
            fmt = image.format or ""
            if fmt in _SENT_FORMATS and len(raw) <= limit:
                return _data_uri(_SENT_FORMATS[fmt], raw)
            with DECODES:
                image.load()
                return _shrunk(image, limit, where, field.name, keep_png=fmt not in _SENT_FORMATS)
    except TooManyPixels as exc:
        raise MediaInputError(f"{where} {exc}: scale it down first.", field.name) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
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
    """``value`` for display: every ``data:`` URI as ``data:image/png (1.2 MB)`` instead of megabytes of text,
    and every stored file reference as its path and size (``/home/me/cat.png (1.2 MB)``)."""
    if is_file_ref(value):
        return f"{value['file']} ({_shown_size(int(value['size']))})"
    if isinstance(value, str) and value.startswith("data:"):
        match = _DATA_URI_HEAD.match(value)
        if match:
            return f"{match.group(1)} ({_shown_size(len(match.group(2)) * 3 // 4)})"
    if isinstance(value, list):
        return [shorten_data_uris(v) for v in value]
    if isinstance(value, dict):
        return {k: shorten_data_uris(v) for k, v in value.items()}
    return value


def _shown_size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"
