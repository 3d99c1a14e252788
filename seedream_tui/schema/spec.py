"""Field specs: what the schema reader produces and the UI / validator consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from seedream_tui.schema.rules import Rule


class FieldKind(StrEnum):
    STRING = "string"  # one-line text
    TEXT = "text"  # long text (prompt): a TextArea in the UI
    INTEGER = "integer"
    NUMBER = "number"  # "number" and the dialect's "float"
    BOOLEAN = "boolean"
    ENUM = "enum"  # any type with an ``enum`` list: a Select in the UI
    MEDIA = "media"  # "format": "image_uri" etc.: a URL string
    MEDIA_LIST = "media_list"  # array of media URLs
    LIST = "list"  # other arrays (comma separated in the UI)
    OBJECT = "object"  # anything else: raw JSON in the UI


@dataclass(frozen=True)
class Dependency:
    """This field applies only when ``field`` has one of ``values``."""

    field: str
    values: tuple[Any, ...]

    def satisfied_by(self, values: dict[str, Any]) -> bool:
        return values.get(self.field) in self.values


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: FieldKind
    title: str
    help: str = ""
    #: the schema's JSON type after dialect fixes ("string", "integer", "number", "boolean", "array", "object")
    json_type: str = "string"
    default: Any = None
    has_default: bool = False
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    required: bool = False
    depends_on: Dependency | None = None
    format: str | None = None
    #: a soft limit on words (the prompt's "about 600 words"): a warning, not an error
    soft_max_words: int | None = None
    #: for LIST / MEDIA_LIST: the JSON type of each item ("string" when the schema does not say)
    item_type: str | None = None
    #: RunComfy's ``validations`` entries (file size, pixels, aspect ratio, counts), each with its own message
    rules: tuple[Rule, ...] = ()

    def applies(self, values: dict[str, Any]) -> bool:
        return self.depends_on is None or self.depends_on.satisfied_by(values)


@dataclass(frozen=True)
class ModelSpec:
    """One model's input schema, read from the RunComfy dialect."""

    model_id: str
    title: str
    fields: tuple[FieldSpec, ...]
    #: where it came from: "bundled:<file>" or a user file path
    source: str = ""
    #: a unique key among loaded schemas (two files may describe the same model id)
    key: str = ""
    output_schema: dict[str, Any] = field(default_factory=dict, repr=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {f.name: f.default for f in self.fields if f.has_default and f.default is not None}


@dataclass(frozen=True)
class ValidationResult:
    #: field name (or "" for the whole request) -> sentence
    errors: dict[str, str]
    warnings: dict[str, str]
    #: the input to send: coerced types, fields that do not apply dropped
    cleaned: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.errors


class SchemaError(Exception):
    """A schema file that cannot be used; ``str()`` is a sentence naming the file and the problem."""

    def __init__(self, message: str, *, source: str | Path | None = None) -> None:
        self.source = str(source) if source is not None else None
        super().__init__(f"{source}: {message}" if source else message)
        self.reason = message
