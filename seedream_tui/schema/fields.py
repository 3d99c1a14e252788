"""One property of the dialect -> one :class:`FieldSpec` (kind, bounds, choices, default).

Split from the reader so each stays small; the rules are the reader's: liberal about loose
spelling, strict about contradictions (a default that is not a choice, minimum above maximum).
``fail`` builds the :class:`SchemaError` that names the file.
"""

from __future__ import annotations

from typing import Any

from seedream_tui.schema.dialect import (
    JSON_TYPE_WORDS,
    TEXT_FIELD_NAMES,
    TYPE_ALIASES,
    describe,
    is_media_format,
    matches_type,
    soft_word_limit,
    type_of,
)
from seedream_tui.schema.rules import parse_rules
from seedream_tui.schema.spec import FieldKind, FieldSpec

#: a real enum lists a handful of choices (sizes, ratios); one of 200,000 is not a form anyone can use,
#: and it would make every start slow: refused with this cap in the sentence
MAX_CHOICES = 1_000
#: a title or description is a sentence or a paragraph; far longer text is refused, so no text in a
#: schema can make reading it slow (the reader stays linear in the file's size)
MAX_TEXT_CHARS = 20_000

_DEPENDENCY_KEYS = ("x-depends-on", "depends_on", "dependsOn", "x-dependsOn")
# names a ``validations`` entry may use, normalised (lower case, no "_" or "-")
_RULES = {
    "min": "minimum", "minimum": "minimum", "minvalue": "minimum", "ge": "minimum", "gte": "minimum",
    "max": "maximum", "maximum": "maximum", "maxvalue": "maximum", "le": "maximum", "lte": "maximum",
    "minlength": "min_length", "minlen": "min_length", "minitems": "min_length",
    "maxlength": "max_length", "maxlen": "max_length", "maxitems": "max_length",
}  # fmt: skip


def parse_field(name: str, prop: Any, required: bool, fail: Any) -> tuple[FieldSpec, Any]:
    where = f"Field '{name}'"
    if not isinstance(prop, dict):
        raise fail(f"{where} must be an object, not {describe(prop)}.")
    prop = _unwrap_nullable(prop)
    title = optional_str(prop, "title", f"{where}: the title", fail)
    help_text = optional_str(prop, "description", f"{where}: the description", fail) or ""
    json_type = _json_type(name, prop, fail)
    fmt = prop.get("format") if isinstance(prop.get("format"), str) else None

    bounds = _bounds(where, prop, json_type, fail)
    minimum, maximum, min_length, max_length = bounds

    choices: tuple[Any, ...] | None = None
    if "enum" in prop and prop["enum"] is not None:
        choices = _choices(where, prop["enum"], json_type, fail)

    has_default = "default" in prop
    default = prop.get("default")
    if default is not None:
        default = _check_default(where, default, json_type, choices, bounds, fail)

    item_type: str | None = None
    media_items = False
    if json_type == "array":
        items = prop.get("items")
        item_type = "string"
        if isinstance(items, dict):
            raw_item = items.get("type")
            if isinstance(raw_item, str) and raw_item.lower() in TYPE_ALIASES:
                item_type = TYPE_ALIASES[raw_item.lower()]
            media_items = is_media_format(
                items.get("format") if isinstance(items.get("format"), str) else None
            )

    soft = soft_word_limit(help_text) if json_type == "string" else None
    if choices is not None and json_type != "array":
        kind = FieldKind.ENUM
    elif json_type == "string":
        long_text = name in TEXT_FIELD_NAMES or name.endswith("_prompt") or soft is not None
        long_text = (
            long_text or (max_length is not None and max_length > 300) or fmt in ("textarea", "multiline")
        )
        kind = FieldKind.MEDIA if is_media_format(fmt) else FieldKind.TEXT if long_text else FieldKind.STRING
    elif json_type == "array":
        kind = FieldKind.MEDIA_LIST if media_items or is_media_format(fmt) else FieldKind.LIST
    else:
        kind = FieldKind(json_type)

    shown_title = title if title is not None and title.strip() else name.replace("_", " ").capitalize()
    spec = FieldSpec(
        name=name,
        kind=kind,
        title=shown_title,
        help=help_text,
        json_type=json_type,
        default=default,
        has_default=has_default,
        choices=choices,
        minimum=minimum,
        maximum=maximum,
        min_length=min_length,
        max_length=max_length,
        required=required,
        format=fmt,
        soft_max_words=soft,
        item_type=item_type,
        rules=parse_rules(prop.get("validations"), shown_title),
    )
    dependency = next((prop[k] for k in _DEPENDENCY_KEYS if prop.get(k) is not None), None)
    return spec, dependency


def _unwrap_nullable(prop: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [{type: X}, {type: null}]`` (pydantic's Optional) reads as plain ``type: X``."""
    if "type" in prop:
        return prop
    for key in ("anyOf", "oneOf"):
        variants = prop.get(key)
        if isinstance(variants, list):
            real = [v for v in variants if isinstance(v, dict) and v.get("type") not in (None, "null")]
            if len(real) == 1:
                merged = {k: v for k, v in prop.items() if k != key}
                return {**real[0], **merged}
    return prop


def _json_type(name: str, prop: dict[str, Any], fail: Any) -> str:
    raw = prop.get("type")
    if isinstance(raw, list):  # ["string", "null"]
        real = [t for t in raw if t != "null"]
        raw = real[0] if real else None
    if raw is None:  # infer: an enum's values, the default, items, else a string
        enum = prop.get("enum")
        hint = enum[0] if isinstance(enum, list) and enum else prop.get("default")
        inferred = type_of(hint) or ("array" if "items" in prop else "string")
        if inferred == "integer" and isinstance(enum, list) and any(isinstance(v, float) for v in enum):
            inferred = "number"
        return inferred
    if not isinstance(raw, str):
        raise fail(f"Field '{name}' has a type that is not a string ({describe(raw)}).")
    json_type = TYPE_ALIASES.get(raw.strip().lower())
    if json_type is None:
        raise fail(f"Field '{name}' has an unknown type {raw!r}.")
    return json_type


def _number(where: str, what: str, value: Any, fail: Any) -> float | None:
    if value is None:
        return None
    if not matches_type("number", value):
        raise fail(f"{where} has a {what} that is not a number ({value!r}).")
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _count(where: str, what: str, value: Any, fail: Any) -> int | None:
    if value is None:
        return None
    if not matches_type("integer", value) or value < 0:
        raise fail(f"{where} has a {what} that is not a whole number of 0 or more ({value!r}).")
    return int(value)


def _bounds(
    where: str, prop: dict[str, Any], json_type: str, fail: Any
) -> tuple[float | None, float | None, int | None, int | None]:
    minimum = _number(where, "minimum", prop.get("minimum", prop.get("exclusiveMinimum")), fail)
    maximum = _number(where, "maximum", prop.get("maximum", prop.get("exclusiveMaximum")), fail)
    length_keys = ("minItems", "maxItems") if json_type == "array" else ("minLength", "maxLength")
    min_length = _count(where, "minimum length", prop.get(length_keys[0]), fail)
    max_length = _count(where, "maximum length", prop.get(length_keys[1]), fail)
    # the dialect's ``validations`` list fills in what the plain keys did not say; unknown rules are ignored
    found: dict[str, Any] = {}
    validations = prop.get("validations")
    for rule in validations if isinstance(validations, list) else []:
        if not isinstance(rule, dict):
            continue
        name = rule.get("type", rule.get("rule", rule.get("name")))
        pairs = (
            [(name, rule.get("value", rule.get("limit")))] if isinstance(name, str) else list(rule.items())
        )
        for rule_name, value in pairs:
            target = _RULES.get(str(rule_name).lower().replace("_", "").replace("-", ""))
            if target and target not in found and matches_type("number", value):
                found[target] = value
    if minimum is None and "minimum" in found:
        minimum = found["minimum"]
    if maximum is None and "maximum" in found:
        maximum = found["maximum"]
    if min_length is None and matches_type("integer", found.get("min_length")):
        min_length = int(found["min_length"])
    if max_length is None and matches_type("integer", found.get("max_length")):
        max_length = int(found["max_length"])
    if minimum is not None and maximum is not None and minimum > maximum:
        raise fail(f"{where} has a minimum ({minimum}) above its maximum ({maximum}).")
    if min_length is not None and max_length is not None and min_length > max_length:
        raise fail(f"{where} has a minimum length ({min_length}) above its maximum length ({max_length}).")
    return minimum, maximum, min_length, max_length


def _choices(where: str, enum: Any, json_type: str, fail: Any) -> tuple[Any, ...]:
    if not isinstance(enum, list):
        raise fail(f"{where} has an 'enum' that is not a list ({describe(enum)}).")
    item_type = "string" if json_type == "array" else json_type
    if len(enum) > MAX_CHOICES:
        raise fail(f"{where} lists {len(enum):,} choices; a schema may list at most {MAX_CHOICES:,} per field.")
    choices: list[Any] = []
    seen: set[Any] = set()  # a set, not ``in choices``: that was quadratic in the number of choices
    for value in enum:
        if value is None:  # "may be null" is not a choice the user makes
            continue
        if isinstance(value, list | dict) or not matches_type(item_type, value):
            raise fail(f"{where} has a choice {_shown(value)} that is not {JSON_TYPE_WORDS[item_type]}.")
        if item_type == "integer":
            value = int(value)
        if value not in seen:
            seen.add(value)
            choices.append(value)
    if not choices:
        raise fail(f"{where} has an empty 'enum': there is nothing to choose.")
    return tuple(choices)


def _check_default(
    where: str,
    default: Any,
    json_type: str,
    choices: tuple[Any, ...] | None,
    bounds: tuple[float | None, float | None, int | None, int | None],
    fail: Any,
) -> Any:
    if not matches_type(json_type, default):
        raise fail(f"{where} has a default {default!r} that is not {JSON_TYPE_WORDS[json_type]}.")
    if json_type == "integer":
        default = int(default)
    if choices is not None and json_type != "array" and default not in choices:
        shown = ", ".join(str(c) for c in choices[:12]) + (", …" if len(choices) > 12 else "")
        raise fail(f"{where} has a default {default!r} that is not one of its choices ({shown}).")
    minimum, maximum, min_length, max_length = bounds
    if json_type in ("integer", "number"):
        if minimum is not None and default < minimum:
            raise fail(f"{where} has a default {default!r} below its minimum {minimum}.")
        if maximum is not None and default > maximum:
            raise fail(f"{where} has a default {default!r} above its maximum {maximum}.")
    if json_type in ("string", "array"):
        if min_length is not None and len(default) < min_length:
            raise fail(f"{where} has a default shorter than its minimum length {min_length}.")
        if max_length is not None and len(default) > max_length:
            raise fail(f"{where} has a default longer than its maximum length {max_length}.")
    return default


def optional_str(obj: dict[str, Any], name: str, what: str, fail: Any) -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise fail(f"{what} must be a string, not {describe(value)}.")
    if value is not None and len(value) > MAX_TEXT_CHARS:
        raise fail(f"{what} is {len(value):,} characters long; a schema's texts may be at most {MAX_TEXT_CHARS:,}.")
    return value


def _shown(value: Any) -> str:
    """A value for a sentence, cut short: a schema's values may be as long as the file."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
