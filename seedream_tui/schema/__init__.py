"""The RunComfy schema dialect: read model schemas into field specs, and validate input against them.

No Textual here: the TUI builds its option panels from :class:`FieldSpec`, the CLI uses
:func:`coerce_value` for ``--set key=value``, and both call :func:`validate_input` before submitting.
"""

from seedream_tui.schema.reader import load_schema_file, parse_schema
from seedream_tui.schema.registry import ModelRegistry
from seedream_tui.schema.spec import (
    Dependency,
    FieldKind,
    FieldSpec,
    ModelSpec,
    SchemaError,
    ValidationResult,
)
from seedream_tui.schema.validate import coerce_value, count_words, validate_input

__all__ = [
    "Dependency",
    "FieldKind",
    "FieldSpec",
    "ModelRegistry",
    "ModelSpec",
    "SchemaError",
    "ValidationResult",
    "coerce_value",
    "count_words",
    "load_schema_file",
    "parse_schema",
    "validate_input",
]
