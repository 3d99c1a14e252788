"""Quirks of the RunComfy schema dialect, kept apart from the reader so the rules are easy to find.

The dialect is JSON-Schema-like but loose: ``"type": "float"``, media hints in ``format``, a
``validations`` list of unknown shape, and facts written only in prose (a word limit, "only when
X is Y"). Everything here is a small pure function; the reader decides what is an error.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: dialect type names -> the JSON type we use
TYPE_ALIASES: dict[str, str] = {
    "string": "string",
    "str": "string",
    "text": "string",
    "integer": "integer",
    "int": "integer",
    "number": "number",
    "float": "number",
    "double": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "object": "object",
    "dict": "object",
}

#: formats that mean "a URL of a media file" (``image_uri`` is the one RunComfy uses)
MEDIA_FORMATS = frozenset(
    {
        "image_uri",
        "image_url",
        "image",
        "video_uri",
        "video_url",
        "video",
        "audio_uri",
        "audio_url",
        "audio",
        "media_uri",
        "media_url",
        "file_uri",
        "file_url",
        # RunComfy's names for arrays of media URLs (sometimes with no ``items``)
        "image_uris",
        "video_uris",
        "audio_uris",
    }
)

#: names that are long free text (a TextArea) whatever the description says
TEXT_FIELD_NAMES = frozenset({"prompt", "negative_prompt"})

#: input-schema titles that say nothing about the model (then the model id is the better title)
GENERIC_TITLES = frozenset(
    {
        "input schema",
        "input",
        "inputs",
        "schema",
        "input_schema",
        "parameters",
        "params",
        "输入结构",
        "输入",
        "输入参数",
        "参数",
    }
)

JSON_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}


def is_media_format(fmt: str | None) -> bool:
    return fmt is not None and fmt.lower() in MEDIA_FORMATS


def matches_type(json_type: str, value: Any) -> bool:
    """Does a JSON-decoded ``value`` have ``json_type``? (bool is not a number; 15.0 is an integer)."""
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if json_type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if json_type == "array":
        return isinstance(value, list | tuple)
    if json_type == "object":
        return isinstance(value, dict)
    return True


def type_of(value: Any) -> str | None:
    """The JSON type a default or enum value suggests, for properties without ``type``."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return None


# --- the soft word limit --------------------------------------------------------------------------

_WORD_LIMIT_PATTERNS = (
    # "Keep it under about 600 English words", "at most 300 words", "no more than ~200 words"
    re.compile(
        r"(?:under|below|at most|no more than|not more than|fewer than|less than|up to|within|max(?:imum)?(?: of)?)"
        r" (?:(?:about|around|approximately|roughly|~) ?)?(?<![\d,])(\d[\d,]*+) (?:english )?words",
        re.IGNORECASE,
    ),
    # "不超过 600 个英文单词", "不超过600词"
    re.compile(r"(?:不超过|不多于|少于|最多|小于) ?(?<!\d)(\d++) ?个? ?(?:英文)? ?(?:单词|词)"),
    # "600 个英文单词以内"
    re.compile(r"(?<!\d)(\d++) ?个? ?(?:英文)? ?(?:单词|词) ?(?:以内|之内)"),
)
#: descriptions are searched as one line with single spaces, and only this much of them: with runs of
#: white space gone, each pattern above is linear in the text (see ``_one_line``)
_SCAN_CHARS = 20_000


def _one_line(text: str) -> str:
    """``text`` with every run of white space as one space, cut to ``_SCAN_CHARS``. The patterns here
    match single spaces, so no run of blanks can make the regex engine try each way of splitting it
    (with 200,000 spaces that took minutes, deaf to Ctrl-C)."""
    return " ".join(text[: _SCAN_CHARS * 2].split())[:_SCAN_CHARS]


def soft_word_limit(description: str) -> int | None:
    """The word limit a description recommends ("under about 600 English words"), if any."""
    text = _one_line(description)
    for pattern in _WORD_LIMIT_PATTERNS:
        match = pattern.search(text)
        if match:
            number = int(match.group(1).replace(",", ""))
            if number > 0:
                return number
    return None


# --- dependencies written in prose ---------------------------------------------------------------

_NAME = r"[`'\"“‘]?+([A-Za-z_][A-Za-z0-9_]*+)[`'\"”’]?"
_VALUE = r"[`'\"“‘]?+([A-Za-z0-9_.\-]++)[`'\"”’]?"
_DEPENDENCY_PATTERNS = (
    # "Takes effect only when sequential_image_generation is auto", "Only used if mode is set to `pro`"
    re.compile(
        r"only (?:[a-z]++ ){0,2}?(?:when|if) "
        + _NAME
        + r" (?:is set to|is equal to|is|equals|==|=|set to) "
        + _VALUE
        + r"(?: or "
        + _VALUE
        + r")?",
        re.IGNORECASE,
    ),
    # "仅当 sequential_image_generation 设置为 auto 时生效"
    re.compile(
        r"(?:仅当|只有当|只在|仅在) ?"
        + _NAME
        + r" ?(?:设置为|设为|被设置为|为|是|等于|=|==) ?"
        + _VALUE
        + r"(?: ?(?:或|或者) ?"
        + _VALUE
        + r")?"
    ),
)


def prose_dependency(description: str) -> tuple[str, list[str]] | None:
    """``(field, [value, ...])`` when a description says the field applies only for some values."""
    text = _one_line(description)
    for pattern in _DEPENDENCY_PATTERNS:
        match = pattern.search(text)
        if match:
            name, *values = match.groups()
            return name, [v.rstrip(".") for v in values if v]
    return None


def coerce_literal(json_type: str, text: str) -> Any:
    """Read the word a description uses ("auto", "true", "3") as a value of ``json_type``, or raise ValueError."""
    if json_type == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "on", "1", "enabled"):
            return True
        if lowered in ("false", "no", "off", "0", "disabled"):
            return False
        raise ValueError(text)
    if json_type == "integer":
        return int(text)
    if json_type == "number":
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    return text


def describe(value: Any) -> str:
    """A few words for a JSON value's kind, for error sentences."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
