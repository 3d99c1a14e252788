"""Which models the fake server knows, what it answers on ``GET /v1/models/{id}``, and input validation.

Validation goes through the app's own schema layer (``seedream_tui.schema``) when it offers
``ModelRegistry``/``validate_input``, so the fake and the app agree on what is valid. A minimal checker stands
in when that layer cannot be imported: the fake must still run while the schema layer is being built.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODELS_DIR = Path(__file__).resolve().parent.parent / "schema" / "models"


@dataclass(frozen=True)
class FakeModel:
    model_id: str
    title: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]

    def properties(self) -> dict[str, Any]:
        props = self.input_schema.get("properties")
        return props if isinstance(props, dict) else {}

    def with_defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        """The input as the model sees it: schema defaults filled in where the client left a field out."""
        merged = {
            name: prop["default"]
            for name, prop in self.properties().items()
            if isinstance(prop, dict) and prop.get("default") is not None
        }
        merged.update(values)
        return merged

    def detail(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "title": self.title,
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
        }


def load_models(directory: Path = MODELS_DIR) -> dict[str, FakeModel]:
    """The bundled schema files by model id; a file named after its model id wins over other files for it."""
    models: dict[str, FakeModel] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(raw, dict) or not isinstance(raw.get("model_id"), str):
            continue
        model_id = raw["model_id"]
        canonical = path.stem == model_id.replace("/", "__")
        if model_id in models and not canonical:
            continue
        schema = raw.get("input_schema", raw)
        output_schema = raw.get("output_schema")
        models[model_id] = FakeModel(
            model_id=model_id,
            title=str(raw.get("title") or model_id),
            input_schema=schema if isinstance(schema, dict) else {},
            output_schema=output_schema if isinstance(output_schema, dict) else {},
        )
    return models


class Validator:
    """``errors(model_id, values) -> {field: sentence}``, via the app's schema layer when it is there."""

    def __init__(self, models: dict[str, FakeModel]) -> None:
        self._models = models
        self._registry: Any = None
        self._validate: Any = None
        try:
            from seedream_tui import schema

            self._registry = schema.ModelRegistry.bundled()
            self._validate = schema.validate_input
        except Exception:  # the schema layer is missing or broken: use the fallback checker
            self._registry = None

    def errors(self, model_id: str, values: dict[str, Any]) -> dict[str, str]:
        if self._registry is not None:
            try:
                spec = self._registry.get(model_id)
            except KeyError:
                spec = None
            if spec is not None:
                result = self._validate(spec, values)
                return dict(result.errors)
        return _fallback_errors(self._models[model_id], values)


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "float": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _fallback_errors(model: FakeModel, values: dict[str, Any]) -> dict[str, str]:
    """Required fields, types, enums and numeric bounds: enough to make the fake refuse obvious mistakes."""
    errors: dict[str, str] = {}
    props = model.properties()
    required = model.input_schema.get("required") or []
    for name in required:
        if name in props and values.get(name) in (None, ""):
            errors[name] = f"{name} is required."
    for name, value in values.items():
        prop = props.get(name)
        if not isinstance(prop, dict) or value is None:
            continue
        types = _JSON_TYPES.get(str(prop.get("type")))
        if types and (not isinstance(value, types) or (isinstance(value, bool) and bool not in types)):
            errors[name] = f"{name} must be of type {prop.get('type')}."
            continue
        choices = prop.get("enum")
        if isinstance(choices, list) and value not in choices:
            errors[name] = f"{name} must be one of: {', '.join(map(str, choices))}."
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, high = prop.get("minimum"), prop.get("maximum")
            if isinstance(low, int | float) and value < low:
                errors[name] = f"{name} must be at least {low}."
            elif isinstance(high, int | float) and value > high:
                errors[name] = f"{name} must be at most {high}."
    return errors
