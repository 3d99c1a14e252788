"""Read a schema in the RunComfy dialect into a :class:`ModelSpec`.

Liberal where the dialect is loose (``"type": "float"``, ``"default": null``, ``required`` naming
missing properties, unknown extra keys, the schema wrapped in ``input_schema`` or bare), strict where
a guess would mislead the user (an enum whose default is not a choice, minimum above maximum, an
unknown type). Every problem is a :class:`SchemaError` whose text names the file and the fault; no
other exception type escapes. Titles, descriptions and enum values are kept exactly as written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from seedream_tui.schema.dependencies import resolve_dependencies
from seedream_tui.schema.dialect import GENERIC_TITLES, describe
from seedream_tui.schema.fields import optional_str, parse_field
from seedream_tui.schema.spec import FieldSpec, ModelSpec, SchemaError

#: a schema is a few KB; anything this big is not one
MAX_FILE_BYTES = 4 * 1024 * 1024
#: every property becomes a widget of the options panel: a form of thousands is not a model's input
MAX_FIELDS = 500
_MODEL_ID_RE = re.compile(r"^[A-Za-z0-9._\-]+(?:/[A-Za-z0-9._\-]+)*$")


def load_schema_file(path: Path) -> ModelSpec:
    """Read one schema file; the key is the file stem (``seed-original-zh``)."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SchemaError("The file does not exist.", source=source) from None
    except IsADirectoryError:
        raise SchemaError("This is a directory, not a schema file.", source=source) from None
    except OSError as exc:
        raise SchemaError(f"The file cannot be read ({exc.strerror or exc}).", source=source) from None
    return schema_from_bytes(raw, source=source, key=path.stem)


def schema_from_bytes(raw: bytes, *, source: str, key: str) -> ModelSpec:
    """A schema file's bytes read as :func:`load_schema_file` reads them (a fetched model is checked with
    this before it is saved: what the registry would refuse at every start is never written)."""
    if len(raw) > MAX_FILE_BYTES:
        raise SchemaError(f"The file is too large for a schema ({len(raw)} bytes).", source=source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemaError(
            f"The file is not UTF-8 text (invalid byte at position {exc.start}).", source=source
        ) from None
    if not text.strip():
        raise SchemaError("The file is empty.", source=source)
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise SchemaError(
            f"The file is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}).", source=source
        ) from None
    except RecursionError:
        raise SchemaError("The JSON is nested too deeply to be a schema.", source=source) from None
    except ValueError as exc:
        raise SchemaError(f"The file is not valid JSON ({exc}).", source=source) from None
    return parse_schema(data, source=source, key=key)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_schema(data: object, *, source: str = "", key: str = "", model_id: str | None = None) -> ModelSpec:
    """Turn decoded JSON (a file, or a model detail from the API) into a :class:`ModelSpec`.

    ``model_id`` comes from the data's ``model_id``, else the argument, else ``key`` with ``__`` -> ``/``.
    """
    try:
        return _parse(data, source, key, model_id)
    except SchemaError:
        raise
    except RecursionError:
        raise SchemaError("The schema is nested too deeply.", source=source or None) from None
    except Exception as exc:  # a shape nobody foresaw must still be a sentence, not a traceback
        raise SchemaError(
            f"The schema cannot be read ({type(exc).__name__}: {exc}).", source=source or None
        ) from exc


def _parse(data: object, source: str, key: str, model_id: str | None) -> ModelSpec:
    src = source or None

    def fail(message: str) -> SchemaError:
        return SchemaError(message, source=src)

    if not isinstance(data, dict):
        raise fail(f"A schema must be a JSON object, not {describe(data)}.")
    if "input_schema" in data:
        schema = data["input_schema"]
        if not isinstance(schema, dict):
            raise fail(f"'input_schema' must be an object, not {describe(schema)}.")
        top_title = optional_str(data, "title", "The model's 'title'", fail)
    elif "properties" in data:
        schema, top_title = data, None
    else:
        raise fail(
            "No input fields found: expected an 'input_schema' object or a top-level 'properties' object."
        )

    mid = _model_id(data, model_id, key, fail)
    schema_title = optional_str(schema, "title", "The input schema's 'title'", fail)
    if top_title and top_title.strip():
        title = top_title
    elif schema_title and schema_title.strip() and schema_title.strip().lower() not in GENERIC_TITLES:
        title = schema_title
    else:
        title = mid

    schema_type = schema.get("type", "object")
    if schema_type != "object":
        raise fail(f"The input schema's type must be 'object', not {schema_type!r}.")
    props = schema.get("properties")
    if props is None:
        raise fail("The input schema has no 'properties'.")
    if not isinstance(props, dict):
        raise fail(f"'properties' must be an object, not {describe(props)}.")
    if not props:
        raise fail("The input schema has no properties: there is nothing to send.")
    if len(props) > MAX_FIELDS:
        raise fail(f"The input schema has {len(props):,} properties; a schema may have at most {MAX_FIELDS:,}.")
    # RunComfy's model detail may say ``required_inputs`` instead (in the schema or beside it)
    required = schema.get("required", schema.get("required_inputs", data.get("required_inputs", [])))
    if required is None:
        required = []
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise fail("'required' must be a list of field names.")
    required_names = frozenset(required)  # a set: looked up once per property

    fields: list[FieldSpec] = []
    explicit: dict[str, Any] = {}
    for name, prop in _ordered(props):
        if not name.strip():
            raise fail("A property has an empty name.")
        spec, dependency = parse_field(name, prop, name in required_names, fail)
        fields.append(spec)
        if dependency is not None:
            explicit[name] = dependency
    fields = resolve_dependencies(fields, explicit, fail)

    output_schema = data.get("output_schema", {}) if schema is not data else {}
    if output_schema is None:
        output_schema = {}
    if not isinstance(output_schema, dict):
        raise fail(f"'output_schema' must be an object, not {describe(output_schema)}.")
    return ModelSpec(
        model_id=mid,
        title=title,
        fields=tuple(fields),
        source=source,
        key=key or mid.replace("/", "__"),
        output_schema=output_schema,
        raw=data,
    )


def _model_id(data: dict[str, Any], given: str | None, key: str, fail: Any) -> str:
    if "model_id" in data:
        mid = data["model_id"]
        if not isinstance(mid, str) or not mid.strip():
            raise fail(f"'model_id' must be a non-empty string, not {describe(mid)}.")
    elif given:
        mid = given
    elif key:
        mid = key.replace("__", "/")
    else:
        raise fail("The schema has no 'model_id' and none was given.")
    mid = mid.strip()
    if not _MODEL_ID_RE.match(mid):
        raise fail(
            f"{mid!r} is not a valid model id (letters, digits, '.', '_', '-', and '/' between parts)."
        )
    return mid


def _ordered(props: dict[str, Any]) -> list[tuple[str, Any]]:
    """Properties in file order, or by ``x-order`` when the schema gives one (Cog-style schemas do)."""
    items = list(props.items())

    def order(pair: tuple[int, tuple[str, Any]]) -> tuple[float, int]:
        index, (_, prop) = pair
        rank = prop.get("x-order") if isinstance(prop, dict) else None
        if isinstance(rank, int | float) and not isinstance(rank, bool):
            return (float(rank), index)
        return (float("inf"), index)

    return [pair for _, pair in sorted(enumerate(items), key=order)]


__all__ = ["describe", "load_schema_file", "parse_schema", "schema_from_bytes"]
