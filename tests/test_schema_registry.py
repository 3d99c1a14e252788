"""The model registry: bundled schemas, user schemas that add or override, broken files reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seedream_tui import DEFAULT_MODEL_ID
from seedream_tui.paths import Paths
from seedream_tui.schema import ModelRegistry

BUNDLED_KEYS = [
    "bytedance__seedream-5__lite__text-to-image",
    "blackforestlabs__flux-2__flash__text-to-image",
]
#: the translated schema of the tests: a fixture, never shipped as a model (issue 20 §6)
FIXTURE_MODELS = Path(__file__).resolve().parent / "fixtures" / "models"


def test_bundled_registry() -> None:
    registry = ModelRegistry.bundled()
    assert registry.errors == []
    assert [s.key for s in registry.list()] == BUNDLED_KEYS  # the default model first, then load order
    assert registry.default().key == BUNDLED_KEYS[0]
    assert registry.get(DEFAULT_MODEL_ID).key == BUNDLED_KEYS[0]
    assert "seed-original-zh" not in registry  # a test fixture is not offered as a model
    assert registry.get("blackforestlabs/flux-2/flash/text-to-image").key == BUNDLED_KEYS[1]
    assert registry.get(BUNDLED_KEYS[0]).source == f"bundled:{BUNDLED_KEYS[0]}.json"
    assert DEFAULT_MODEL_ID in registry and "acme/none" not in registry
    with pytest.raises(KeyError, match="acme/none"):
        registry.get("acme/none")


def test_a_translated_schema_is_a_variant_reachable_by_key() -> None:
    """The Chinese fixture added beside the bundled files: the model id still resolves to the English one."""
    from seedream_tui.schema import load_schema_file

    registry = ModelRegistry.bundled()
    registry.add(load_schema_file(FIXTURE_MODELS / "seed-original-zh.json"), user=False)
    assert registry.get(DEFAULT_MODEL_ID).key == BUNDLED_KEYS[0]
    assert registry.get("seed-original-zh").field("prompt").title == "提示词"
    assert [s.key for s in registry.variants(DEFAULT_MODEL_ID)] == [BUNDLED_KEYS[0], "seed-original-zh"]


def test_no_test_fixture_is_shipped_as_a_model() -> None:
    """Every bundled schema is a real RunComfy model, named by its model id (``owner__model__…json``)."""
    for spec in ModelRegistry.bundled().list():
        assert spec.key == spec.model_id.replace("/", "__"), spec.key


def _write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_user_dir_adds_overrides_and_reports_broken_files(tmp_path: Path) -> None:
    user = tmp_path / "models"
    user.mkdir()
    # a new model, bare schema: the model id comes from the file name
    _write(
        user, "acme__paint.json", {"properties": {"prompt": {"type": "string"}, "steps": {"type": "integer"}}}
    )
    # the default model again under another name: preferred over the bundled files for its model id
    _write(
        user,
        "my-seedream.json",
        {
            "model_id": DEFAULT_MODEL_ID,
            "title": "My Seedream",
            "input_schema": {"properties": {"prompt": {"type": "string"}, "resolution": {"enum": ["2K"]}}},
        },
    )
    # same key as a bundled file: replaces it in place
    _write(
        user,
        "blackforestlabs__flux-2__flash__text-to-image.json",
        {
            "model_id": "blackforestlabs/flux-2/flash/text-to-image",
            "properties": {"prompt": {"type": "string"}},
        },
    )
    broken = {
        "not-json.json": b"{oops",
        "empty.json": b"",
        "list.json": b"[]",
        "bad-enum.json": json.dumps(
            {"model_id": "a/b", "properties": {"s": {"enum": ["x"], "default": "y"}}}
        ).encode(),
    }
    for name, content in broken.items():
        (user / name).write_bytes(content)
    (user / "README.txt").write_text("not a schema", encoding="utf-8")

    registry = ModelRegistry(user)
    assert sorted(Path(e.source or "").name for e in registry.errors) == sorted(broken)
    assert all(str(e).startswith(str(user)) for e in registry.errors)

    keys = [s.key for s in registry.list()]
    assert keys == ["my-seedream", *BUNDLED_KEYS, "acme__paint"]
    assert registry.get(DEFAULT_MODEL_ID).title == "My Seedream"
    assert registry.default().key == "my-seedream"
    assert registry.get(BUNDLED_KEYS[0]).title == "Seedream 5 lite: text to image"  # still there by key
    flux = registry.get("blackforestlabs/flux-2/flash/text-to-image")
    assert [f.name for f in flux.fields] == ["prompt"] and flux.source.startswith(str(user))
    paint = registry.get("acme/paint")
    assert paint.title == "acme/paint" and [f.name for f in paint.fields] == ["prompt", "steps"]


def test_missing_user_dir_is_fine_and_a_file_is_reported(tmp_path: Path) -> None:
    missing = Paths.default().user_models_dir  # under the test's isolated home; not created
    assert not missing.exists()
    registry = ModelRegistry(missing)
    assert registry.errors == [] and len(registry) == len(BUNDLED_KEYS)
    not_a_dir = tmp_path / "models"
    not_a_dir.write_text("x", encoding="utf-8")
    registry = ModelRegistry(not_a_dir)
    assert len(registry.errors) == 1 and "not a folder" in str(registry.errors[0])
    assert len(registry) == len(BUNDLED_KEYS)


def test_add_registers_a_fetched_schema() -> None:
    registry = ModelRegistry.bundled()
    from seedream_tui.schema import parse_schema

    spec = parse_schema(
        {"input_schema": {"properties": {"prompt": {}}}}, model_id="acme/remote", source="api"
    )
    registry.add(spec)
    assert registry.get("acme/remote") is spec and registry.get("acme__remote") is spec
