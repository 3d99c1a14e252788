"""Every model schema the app knows: the bundled ones, then the user's ``models/*.json``.

A new model is a new file, not new code. A broken user file must not stop the app: it lands in
``errors`` (a sentence naming the file) and the rest still load. Several files may describe the same
``model_id`` (the English and the original Chinese Seedream schema); ``key`` (the file stem) tells
them apart, and a ``model_id`` resolves to the preferred one: a user file over a bundled one, and
within each, the file named after the model id (``bytedance__seedream-5__…json``) first.
"""

from __future__ import annotations

import builtins
from dataclasses import replace
from pathlib import Path

from seedream_tui import DEFAULT_MODEL_ID
from seedream_tui.schema.reader import load_schema_file
from seedream_tui.schema.spec import ModelSpec, SchemaError

BUNDLED_DIR = Path(__file__).resolve().parent / "models"


class ModelRegistry:
    def __init__(self, user_dir: Path | None = None) -> None:
        #: broken files, each a sentence naming the file: shown to the user, never fatal
        self.errors: list[SchemaError] = []
        self._specs: dict[str, ModelSpec] = {}  # key -> spec, in load order
        self._user_keys: set[str] = set()
        for path in self._json_files(BUNDLED_DIR):
            self._load(path, source=f"bundled:{path.name}", user=False)
        if user_dir is not None:
            user_dir = Path(user_dir)
            if user_dir.is_dir():
                for path in self._json_files(user_dir):
                    self._load(path, source=str(path), user=True)
            elif user_dir.exists():
                self.errors.append(SchemaError("The models folder is not a folder.", source=user_dir))

    @classmethod
    def bundled(cls) -> ModelRegistry:
        """Only the schemas shipped with the app (tests, ``--demo``)."""
        return cls(user_dir=None)

    def _json_files(self, folder: Path) -> builtins.list[Path]:
        try:
            return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".json")
        except OSError as exc:
            self.errors.append(
                SchemaError(f"The folder cannot be read ({exc.strerror or exc}).", source=folder)
            )
            return []

    def _load(self, path: Path, *, source: str, user: bool) -> None:
        try:
            spec = load_schema_file(path)
        except SchemaError as exc:
            self.errors.append(exc)
            return
        self.add(replace(spec, source=source), user=user)

    def add(self, spec: ModelSpec, *, user: bool = True) -> None:
        """Register a spec (e.g. one fetched from the API); the same key replaces the earlier one in place."""
        self._specs[spec.key] = spec
        if user:
            self._user_keys.add(spec.key)
        else:
            self._user_keys.discard(spec.key)

    def get(self, model_id_or_key: str) -> ModelSpec:
        """The spec with this key, else the preferred spec for this model id; KeyError if none."""
        if model_id_or_key in self._specs:
            return self._specs[model_id_or_key]
        variants = self.variants(model_id_or_key)
        if not variants:
            raise KeyError(f"No schema for model '{model_id_or_key}'.")
        return variants[0]

    def variants(self, model_id: str) -> builtins.list[ModelSpec]:
        """All specs for one model id, preferred first."""
        canonical = model_id.replace("/", "__")
        found = [(i, s) for i, s in enumerate(self._specs.values()) if s.model_id == model_id]
        found.sort(key=lambda pair: (pair[1].key not in self._user_keys, pair[1].key != canonical, pair[0]))
        return [spec for _, spec in found]

    def list(self) -> builtins.list[ModelSpec]:
        """Every loaded spec: the default model's specs first (preferred first), then load order."""
        default = self.variants(DEFAULT_MODEL_ID)
        return [*default, *(s for s in self._specs.values() if s.model_id != DEFAULT_MODEL_ID)]

    def default(self) -> ModelSpec:
        """The preferred spec of ``DEFAULT_MODEL_ID`` (else the first loaded one)."""
        specs = self.list()
        if not specs:
            raise KeyError("No model schema is loaded.")
        return specs[0]

    def __contains__(self, model_id_or_key: object) -> bool:
        if not isinstance(model_id_or_key, str):
            return False
        return model_id_or_key in self._specs or bool(self.variants(model_id_or_key))

    def __len__(self) -> int:
        return len(self._specs)
