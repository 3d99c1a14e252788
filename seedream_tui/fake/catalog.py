"""Which models the fake server knows, what it answers on ``GET /v1/models``, ``GET /v1/models/categories``
and ``GET /v1/models/{id}``, and input validation.

Validation goes through the app's own schema layer (``seedream_tui.schema``) when it offers
``ModelRegistry``/``validate_input``, so the fake and the app agree on what is valid. A minimal checker stands
in when that layer cannot be imported: the fake must still run while the schema layer is being built.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seedream_tui.fake.catalog_models import BUNDLED_FACTS, extra_models

MODELS_DIR = Path(__file__).resolve().parent.parent / "schema" / "models"


@dataclass(frozen=True)
class FakeModel:
    model_id: str
    title: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    #: catalog facts: display_name, categories, kind ("model"), base_price_usd, price_unit, pricing_note
    facts: dict[str, Any] = field(default_factory=dict)

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

    @property
    def display_name(self) -> str:
        return str(self.facts.get("display_name") or self.title)

    @property
    def categories(self) -> list[str]:
        return list(self.facts.get("categories") or [])

    @property
    def media(self) -> str:
        """What the model makes, from its categories (RunComfy's end in ``image``, ``video`` or ``audio``)."""
        endings = {c.lower().rsplit("-", 1)[-1] for c in self.categories}
        return next((kind for kind in ("video", "audio") if kind in endings), "image")

    @property
    def required(self) -> list[str]:
        """The required inputs: ``input_schema.required`` (served again as the top-level ``required_inputs``)."""
        names = self.input_schema.get("required") or self.input_schema.get("required_inputs") or []
        return [name for name in names if isinstance(name, str)] if isinstance(names, list) else []

    @property
    def price(self) -> tuple[float | None, str | None]:
        """``(base_price_usd, price_unit)``; None where the catalog gives none."""
        return self.facts.get("base_price_usd"), self.facts.get("price_unit")

    def summary(self, *, include_schema: bool) -> dict[str, Any]:
        """One entry of ``GET /v1/models``: the detail, with the schemas only when asked. Like RunComfy's, every
        entry is ``kind: "model"``; what it does is in ``categories``."""
        body: dict[str, Any] = {"model_id": self.model_id, "title": self.title, **self.facts}
        body.setdefault("display_name", self.title)
        body.setdefault("categories", [])
        body["kind"] = "model"
        body.pop("required_inputs", None)
        if include_schema:
            body["input_schema"] = self.input_schema
            body["required_inputs"] = self.required
            if self.output_schema:
                body["output_schema"] = self.output_schema
        return body

    def detail(self) -> dict[str, Any]:
        """``GET /v1/models/{id}``: ``model_id``, ``display_name``, ``categories``, price, ``input_schema`` and the
        top-level ``required_inputs`` RunComfy's Zapier client reads."""
        return self.summary(include_schema=True)

    def matches(self, search: str, category: str, kind: str) -> bool:
        """The catalog filters: ``search`` in the id, name or categories; exact category and kind."""
        folded = search.strip().lower()
        haystack = " ".join([self.model_id, self.display_name, *self.categories])
        if folded and not all(word in haystack.lower() for word in folded.split()):
            return False
        if category and category.lower() not in (c.lower() for c in self.categories):
            return False
        return not kind or kind.lower() == "model"


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
            facts=dict(BUNDLED_FACTS.get(model_id, {})),
        )
    if directory == MODELS_DIR:
        for detail in extra_models():
            facts = {
                k: v for k, v in detail.items() if k not in ("model_id", "title", "input_schema", "required_inputs")
            }
            models[detail["model_id"]] = FakeModel(
                detail["model_id"], detail["title"], detail["input_schema"], {}, facts
            )
    return models


def categories(models: dict[str, FakeModel]) -> list[str]:
    """Every category of the catalog, sorted."""
    return sorted({c for model in models.values() for c in model.categories})


class Validator:
    """``errors(model_id, values) -> {field: sentence}``, via the app's schema layer when it is there."""

    def __init__(self, models: dict[str, FakeModel]) -> None:
        self._models = models
        self._specs: dict[str, Any] = {}
        self._validate: Any = None
        try:
            from seedream_tui import schema

            self._validate = schema.validate_input
            for model in models.values():
                try:
                    self._specs[model.model_id] = schema.parse_schema(model.detail(), model_id=model.model_id)
                except schema.SchemaError:
                    continue  # that model is checked by the fallback
        except Exception:  # the schema layer is missing or broken: use the fallback checker
            self._validate = None

    def errors(self, model_id: str, values: dict[str, Any]) -> dict[str, str]:
        spec = self._specs.get(model_id)
        if spec is not None and self._validate is not None:
            return dict(self._validate(spec, values).errors)
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
    required = model.input_schema.get("required") or model.input_schema.get("required_inputs") or []
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
