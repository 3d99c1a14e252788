"""Check what the user set against a model's schema before anything is sent (and paid for).

``validate_input`` returns a sentence per field in ``errors``, soft advice in ``warnings`` and the
request body in ``cleaned``. ``cleaned`` holds only what the user set, converted to the schema's
types: defaults are **not** injected (the server applies its own, and sending only explicit choices
keeps a request honest and the history readable), and fields that do not apply (e.g. ``max_images``
while ``sequential_image_generation`` is not ``auto``) are dropped silently. Dependencies are judged
against the user's values over the schema defaults, because that is what the server will see.

``coerce_value`` reads text a person typed (``--set key=value``, an Input) as a field's value.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

from seedream_tui.schema.dialect import JSON_TYPE_WORDS, coerce_literal, describe, matches_type
from seedream_tui.schema.rules import broken_rule
from seedream_tui.schema.spec import FieldKind, FieldSpec, ModelSpec, ValidationResult

#: control characters other than tab and line feed (C0, DEL, C1)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INT_TEXT = re.compile(r"^[+-]?\d+$")
_TEXT_KINDS = (FieldKind.STRING, FieldKind.TEXT, FieldKind.MEDIA)


def coerce_value(field: FieldSpec, text: str) -> Any:
    """Read ``text`` as a value of ``field``; raise ``ValueError`` whose text is a sentence for the user.

    Text kinds keep the text as typed. For other kinds blank text means "not set" and gives ``None``.
    Enum text matches a choice exactly, then case-insensitively, then by value ("3" -> 3).
    Lists take a JSON array or comma-separated items; objects take JSON.
    """
    if field.kind in _TEXT_KINDS:
        return text.strip() if field.kind is FieldKind.MEDIA else text
    stripped = text.strip()
    if not stripped:
        return None
    if field.kind is FieldKind.ENUM:
        return _choice(field, stripped)
    if field.kind in (FieldKind.LIST, FieldKind.MEDIA_LIST):
        if stripped.startswith("["):
            items = _json(field, stripped)  # text starting with "[" decodes to a list or fails
        else:
            items = [part.strip() for part in stripped.split(",") if part.strip()]
        return [_item(field, item) for item in items]
    if field.kind is FieldKind.OBJECT:
        return _json(field, stripped)
    return _scalar_from_text(field, field.json_type, stripped)


def validate_input(spec: ModelSpec, values: dict[str, Any]) -> ValidationResult:
    """Errors, warnings and the cleaned request for ``values`` (see the module docstring)."""
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    if not isinstance(values, dict):
        return ValidationResult({"": f"The input must be an object, not {describe(values)}."}, {}, {})
    names = {f.name for f in spec.fields}
    for key in values:
        if key not in names:
            errors[str(key)] = f"Unknown option '{key}' for {spec.model_id}."

    converted: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for field in spec.fields:
        raw = values.get(field.name)
        if _is_unset(raw):
            if field.required:
                problems[field.name] = (
                    f"{field.title} must not be empty."
                    if isinstance(raw, str)
                    else f"{field.title} is required."
                )
            continue
        try:
            value = _convert(field, raw)
            if value is None:  # blank text for a number, say: not set
                if field.required:
                    problems[field.name] = f"{field.title} is required."
                continue
            _check(field, value)
        except ValueError as exc:
            problems[field.name] = str(exc)
            continue
        converted[field.name] = value

    effective = {**spec.defaults(), **converted}
    by_name = {f.name: f for f in spec.fields}
    cleaned: dict[str, Any] = {}
    for field in spec.fields:
        if not _applies(field, effective, by_name):
            continue  # it would be ignored by the server: drop it, and whatever was wrong with it
        if field.name in problems:
            errors[field.name] = problems[field.name]
        elif field.name in converted:
            value = converted[field.name]
            cleaned[field.name] = value
            warning = _word_warning(field, value)
            if warning:
                warnings[field.name] = warning
    return ValidationResult(errors=errors, warnings=warnings, cleaned=cleaned)


def _is_unset(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _applies(field: FieldSpec, effective: dict[str, Any], by_name: dict[str, FieldSpec]) -> bool:
    """A field applies when its controller has a matching value and itself applies (to any depth)."""
    current: FieldSpec | None = field
    for _ in range(len(by_name) + 1):
        if current is None or current.depends_on is None:
            return True
        if not current.depends_on.satisfied_by(effective):
            return False
        current = by_name.get(current.depends_on.field)
    return False  # a loop (the reader rejects them; a hand-built spec might not)


def _convert(field: FieldSpec, raw: Any) -> Any:
    if field.kind is FieldKind.ENUM:
        return _choice(field, raw.strip() if isinstance(raw, str) else raw)
    if isinstance(raw, str) and field.kind not in _TEXT_KINDS:
        return coerce_value(field, raw)
    if field.kind in _TEXT_KINDS:
        if not isinstance(raw, str):
            raise ValueError(f"{field.title} must be text, not {describe(raw)}.")
        return raw.strip() if field.kind is FieldKind.MEDIA else raw.replace("\r\n", "\n")
    if field.kind in (FieldKind.LIST, FieldKind.MEDIA_LIST):
        if not isinstance(raw, list | tuple):
            raise ValueError(f"{field.title} must be a list, not {describe(raw)}.")
        return [_item(field, item) for item in raw]
    if field.kind is FieldKind.OBJECT:
        return raw
    return _scalar(field, field.json_type, raw)


def _scalar(field: FieldSpec, json_type: str, raw: Any, what: str = "") -> Any:
    """A native JSON value checked (and narrowed: 15.0 -> 15) against ``json_type``."""
    if isinstance(raw, str) and json_type != "string":
        return _scalar_from_text(field, json_type, raw.strip(), what)
    if not matches_type(json_type, raw):
        raise ValueError(f"{field.title}{what} must be {JSON_TYPE_WORDS[json_type]}, not {describe(raw)}.")
    return int(raw) if json_type == "integer" else raw


def _scalar_from_text(field: FieldSpec, json_type: str, text: str, what: str = "") -> Any:
    wanted = JSON_TYPE_WORDS.get(json_type, "a value")
    try:
        if json_type == "integer" and not _INT_TEXT.match(text):
            number = float(text)
            if not number.is_integer():
                raise ValueError(text)
            return int(number)
        value = coerce_literal(json_type, text)
    except (ValueError, OverflowError):
        raise ValueError(f"{field.title}{what} must be {wanted}, not {text!r}.") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{field.title}{what} must be a finite number, not {text!r}.")
    return value


def _item(field: FieldSpec, item: Any) -> Any:
    item_type = field.item_type or "string"
    value = _scalar(field, item_type, item, " items")
    if isinstance(value, str) and field.kind is FieldKind.MEDIA_LIST:
        value = value.strip()
    return value


def _json(field: FieldSpec, text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError(f"{field.title} must be valid JSON.") from None


def _choice(field: FieldSpec, value: Any) -> Any:
    choices = field.choices or ()
    for choice in choices:
        if choice == value and isinstance(choice, bool) == isinstance(value, bool):
            return choice
    if isinstance(value, str):
        exact = [c for c in choices if str(c) == value]
        folded = [c for c in choices if str(c).lower() == value.lower()]
        for found in (exact, folded):
            if len(found) == 1:
                return found[0]
        try:
            literal = coerce_literal(field.json_type, value)
        except (ValueError, OverflowError):
            literal = None
        for choice in choices:
            if literal is not None and choice == literal and not isinstance(literal, str):
                return choice
    shown = ", ".join(str(c) for c in choices)
    raise ValueError(f"{field.title} must be one of {shown}.")


def _check(field: FieldSpec, value: Any) -> None:
    """Bounds, lengths and control characters of an already converted value."""
    title = field.title
    texts = (
        [value]
        if isinstance(value, str)
        else [v for v in value if isinstance(v, str)]
        if isinstance(value, list)
        else []
    )
    for text in texts:
        bad = _CONTROL.search(text)
        if bad:
            code = f"U+{ord(bad.group()):04X}"
            raise ValueError(
                f"{title} contains a control character ({code}); only line breaks and tabs are allowed."
            )
    if isinstance(value, int | float) and not isinstance(value, bool):
        if field.minimum is not None and value < field.minimum:
            raise ValueError(f"{title} must be at least {field.minimum}, not {value}.")
        if field.maximum is not None and value > field.maximum:
            raise ValueError(f"{title} must be at most {field.maximum}, not {value}.")
    if isinstance(value, str | list) and field.kind is not FieldKind.ENUM:
        unit = "characters" if isinstance(value, str) else "items"
        if field.min_length is not None and len(value) < field.min_length:
            raise ValueError(f"{title} must have at least {field.min_length} {unit} (it has {len(value)}).")
        if field.max_length is not None and len(value) > field.max_length:
            raise ValueError(f"{title} must have at most {field.max_length} {unit} (it has {len(value)}).")
    broken = broken_rule(field.rules, value, media=field.kind in (FieldKind.MEDIA, FieldKind.MEDIA_LIST))
    if broken is not None:
        raise ValueError(broken)


_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"


@functools.cache
def _words() -> re.Pattern[str]:
    """Compiled on first use: ~3 ms, and start-up does not count words."""
    return re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")


def count_words(text: str) -> int:
    """Words for the soft prompt limit: runs of non-space, and each CJK character on its own (Chinese and
    Japanese put no spaces between words; a character is the closer stand-in for an English word)."""
    return len(_words().findall(text)) if text and not text.isspace() else 0


def _word_warning(field: FieldSpec, value: Any) -> str | None:
    if field.soft_max_words is None or not isinstance(value, str):
        return None
    count = count_words(value)
    if count <= field.soft_max_words:
        return None
    return (
        f"{field.title} has {count} words; the model works best under about {field.soft_max_words}"
        " and may skip details of a longer one."
    )
