"""RunComfy's ``validations`` entries: ``{"validation_rule": "file_size_mb<", "validation_value": 30,
"validation_error": "…"}``, read into :class:`Rule` and applied with the entry's own message.

What the rules measure is only partly known (RunComfy's clients show file size, pixel counts, aspect
ratios and item counts). The reader is liberal: the rule is a subject and an operator, written
together (``pixels>=``) or as ``max_``/``min_`` names (``max_file_size_mb``); a subject or a value it
does not understand is kept out, never an error, because a rule we cannot check must not block a
paid submit the server might accept. A value is measured only where it can be without the network:
numbers, text and list lengths, a ``WxH`` size string, and images given inline as ``data:`` URIs.
"""

from __future__ import annotations

import base64
import binascii
import io
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "=": operator.eq,
    "!=": operator.ne,
}
_RULE_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_ ./-]*?)\s*(<=|>=|==|!=|<|>|=)\s*$")
_PREFIX_OPS = {"max": "<=", "min": ">=", "maximum": "<=", "minimum": ">="}

#: subject words as servers may spell them -> what we measure
SUBJECTS: dict[str, str] = {
    "file_size_mb": "file_size_mb",
    "size_mb": "file_size_mb",
    "filesize_mb": "file_size_mb",
    "file_size_kb": "file_size_kb",
    "size_kb": "file_size_kb",
    "file_size": "file_size_bytes",
    "file_size_bytes": "file_size_bytes",
    "pixels": "pixels",
    "total_pixels": "pixels",
    "pixel_count": "pixels",
    "megapixels": "megapixels",
    "width": "width",
    "height": "height",
    # the names RunComfy's live schemas use [client]: ``width_pixels>`` 14, ``width/height<`` 16
    "width_pixels": "width",
    "height_pixels": "height",
    "width_px": "width",
    "height_px": "height",
    "width/height": "aspect_ratio",
    "height/width": "height_ratio",
    "aspect_ratio": "aspect_ratio",
    "ratio": "aspect_ratio",
    "count": "count",
    "items": "count",
    "item_count": "count",
    "num_items": "count",
    "length": "length",
    "len": "length",
    "characters": "length",
    "value": "value",
}
#: measures of one image, checked per item of a media list
IMAGE_SUBJECTS = frozenset({"file_size_mb", "file_size_kb", "file_size_bytes", "pixels", "megapixels", "width",
                            "height", "aspect_ratio", "height_ratio"})
_WXH = re.compile(r"(\d{1,5})\s*[x×*]\s*(\d{1,5})")
_RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[:/]\s*(\d+(?:\.\d+)?)\s*$")
_DATA_URI = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?((?:;[\w=.+-]+)*?)(;base64)?,", re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    """One validation: ``subject op value``, failing with ``message``."""

    subject: str
    op: str
    value: float
    message: str

    def holds(self, measured: float) -> bool:
        return _OPS[self.op](measured, self.value)


def parse_rules(validations: Any, field_title: str) -> tuple[Rule, ...]:
    """Every entry in RunComfy's shape that can be checked; other shapes are the reader's business."""
    rules: list[Rule] = []
    for entry in validations if isinstance(validations, list) else []:
        if not isinstance(entry, dict) or "validation_rule" not in entry:
            continue
        parsed = _subject_and_op(entry.get("validation_rule"))
        value = _number(entry.get("validation_value"))
        if parsed is None or value is None:
            continue
        subject, op = parsed
        message = entry.get("validation_error")
        if not isinstance(message, str) or not message.strip():
            message = f"{field_title}: {subject.replace('_', ' ')} must be {op} {value:g}."
        rules.append(Rule(subject, op, value, message.strip()))
    return tuple(rules)


def _subject_and_op(raw: Any) -> tuple[str, str] | None:
    if not isinstance(raw, str):
        return None
    match = _RULE_RE.match(raw)
    if match:
        name, op = match.group(1), match.group(2)
    else:
        head, _, rest = raw.strip().partition("_")
        if head.lower() not in _PREFIX_OPS or not rest:
            return None
        name, op = rest, _PREFIX_OPS[head.lower()]
    subject = SUBJECTS.get(name.strip().lower().replace(" ", "_").replace("-", "_"))
    return (subject, op) if subject else None


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        ratio = _RATIO.match(raw)
        if ratio:
            low = float(ratio.group(2))
            return float(ratio.group(1)) / low if low else None
        try:
            return float(raw)
        except ValueError:
            return None
    return None


def broken_rule(rules: tuple[Rule, ...], value: Any, *, media: bool) -> str | None:
    """The message of the first rule ``value`` breaks, or None (also when nothing could be measured)."""
    for rule in rules:
        if rule.subject in IMAGE_SUBJECTS:
            items = value if isinstance(value, list) else [value]
            for item in items:
                measured = measure_image(rule.subject, item, media=media)
                if measured is not None and not rule.holds(measured):
                    return rule.message
            continue
        measured = _measure_plain(rule.subject, value)
        if measured is not None and not rule.holds(measured):
            return rule.message
    return None


def _measure_plain(subject: str, value: Any) -> float | None:
    if subject in ("count", "length") and isinstance(value, str | list):
        return float(len(value))
    if subject == "value" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def measure_image(subject: str, value: Any, *, media: bool = False) -> float | None:
    """A measure of one image value: a ``data:`` URI (decoded; a local file is one by the time the input is
    checked before a submit) or, for a field that is not media, a ``WxH`` size string; else None. A media
    URL is never measured from its text (``…/shot_100x2000.png`` says nothing sure about the image)."""
    if not isinstance(value, str):
        return None
    if value[:5].lower() == "data:":
        facts = data_uri_facts(value)
        if facts is None:
            return None
        size, dims = facts
    elif media:
        return None
    else:
        match = _WXH.search(value)
        if match is None:
            return None
        size, dims = None, (int(match.group(1)), int(match.group(2)))
    if subject == "file_size_bytes":
        return float(size) if size is not None else None
    if subject == "file_size_kb":
        return size / 1024 if size is not None else None
    if subject == "file_size_mb":
        return size / (1024 * 1024) if size is not None else None
    if dims is None:
        return None
    width, height = dims
    return {
        "pixels": float(width * height),
        "megapixels": width * height / 1_000_000,
        "width": float(width),
        "height": float(height),
        "aspect_ratio": width / height if height else None,
        "height_ratio": height / width if width else None,
    }.get(subject)


def data_uri_facts(uri: str) -> tuple[int, tuple[int, int] | None] | None:
    """(bytes, (width, height) or None) of a base64 ``data:`` URI, or None when it is not one."""
    match = _DATA_URI.match(uri)
    if match is None or not match.group(3):
        return None
    try:
        raw = base64.b64decode(uri[match.end() :], validate=False)
    except (binascii.Error, ValueError):
        return None
    return len(raw), image_dimensions(raw)


def image_dimensions(raw: bytes) -> tuple[int, int] | None:
    """Width and height from an image's header (Pillow reads only the header), or None: a decompression
    bomb's claim is None too, with no warning printed (see jobs.decoding, which refuses it with a sentence)."""
    from seedream_tui.jobs.decoding import header_size

    return header_size(io.BytesIO(raw))
