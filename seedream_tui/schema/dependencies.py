"""Which fields apply only for some value of another field.

Two sources: an explicit ``"x-depends-on": {"field": ..., "values": [...]}`` (or ``depends_on``),
which must be right (a mistake is a :class:`SchemaError`), and the prose RunComfy actually ships
("Takes effect only when sequential_image_generation is auto", "仅当 … 设置为 auto 时生效"), which is
a hint: it is used only when it names a real field and values that field can take.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from seedream_tui.schema.dialect import coerce_literal, matches_type, prose_dependency
from seedream_tui.schema.spec import Dependency, FieldSpec, SchemaError


def resolve_dependencies(
    fields: list[FieldSpec], explicit: dict[str, Any], fail: Callable[[str], SchemaError]
) -> list[FieldSpec]:
    by_name = {f.name: f for f in fields}
    resolved: list[FieldSpec] = []
    for spec in fields:
        dependency: Dependency | None = None
        if spec.name in explicit:
            dependency = _explicit(spec.name, explicit[spec.name], by_name, fail)
        else:
            dependency = _from_prose(spec, by_name)
        resolved.append(replace(spec, depends_on=dependency) if dependency else spec)
    _reject_loops(resolved, fail)
    return resolved


def _explicit(
    name: str, raw: Any, by_name: dict[str, FieldSpec], fail: Callable[[str], SchemaError]
) -> Dependency:
    where = f"Field '{name}'"
    if not isinstance(raw, dict) or not isinstance(raw.get("field"), str):
        raise fail(f'{where} has a dependency that is not an object like {{"field": ..., "values": [...]}}.')
    target_name = raw["field"]
    values = raw.get("values", [raw["value"]] if "value" in raw else None)
    if not isinstance(values, list) or not values:
        raise fail(f"{where} has a dependency without a non-empty 'values' list.")
    target = by_name.get(target_name)
    if target is None or target_name == name:
        raise fail(f"{where} depends on '{target_name}', which is not another field of this schema.")
    coerced = []
    for value in values:
        value = _as_value_of(target, value)
        if value is None:
            raise fail(f"{where} depends on '{target_name}' taking a value it cannot take ({values!r}).")
        coerced.append(value)
    return Dependency(target_name, tuple(coerced))


def _from_prose(spec: FieldSpec, by_name: dict[str, FieldSpec]) -> Dependency | None:
    found = prose_dependency(spec.help)
    if found is None:
        return None
    target_name, words = found
    target = by_name.get(target_name)
    if target is None or target_name == spec.name:
        return None
    values = [v for v in (_as_value_of(target, w) for w in words) if v is not None]
    return Dependency(target_name, tuple(values)) if values else None


def _as_value_of(target: FieldSpec, value: Any) -> Any:
    """``value`` as a value ``target`` can take (a choice, matched by its text if need be), else None."""
    if target.choices is not None:
        for choice in target.choices:
            if choice == value and isinstance(choice, bool) == isinstance(value, bool):
                return choice
        text = str(value).strip().lower()
        matches = [c for c in target.choices if str(c).lower() == text]
        return matches[0] if len(matches) == 1 else None
    if matches_type(target.json_type, value):
        return value
    if isinstance(value, str):
        try:
            return coerce_literal(target.json_type, value)
        except ValueError:
            return None
    return None


def _reject_loops(fields: list[FieldSpec], fail: Callable[[str], SchemaError]) -> None:
    by_name = {f.name: f for f in fields}
    for spec in fields:
        seen = [spec.name]
        current = spec
        while current.depends_on is not None:
            nxt = current.depends_on.field
            if nxt in seen:
                raise fail(f"Fields depend on each other in a loop: {' -> '.join([*seen, nxt])}.")
            seen.append(nxt)
            current = by_name[nxt]
