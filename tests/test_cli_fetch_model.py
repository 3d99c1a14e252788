"""`seedream-tui fetch-model`: a model's schema from the API becomes a file the registry loads."""

from __future__ import annotations

from typing import Any

import pytest

from seedream_tui.cli import main
from seedream_tui.paths import Paths
from seedream_tui.schema import ModelRegistry

FLUX = "blackforestlabs/flux-2/flash/text-to-image"


def test_fetch_model_saves_a_schema_the_registry_loads(
    fake_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "rc_test_token_for_fetch")
    code = main(["fetch-model", FLUX, "--base-url", fake_server.base_url])
    out = capsys.readouterr()
    assert code == 0, out.err
    paths = Paths.default()
    target = paths.user_models_dir / "blackforestlabs__flux-2__flash__text-to-image.json"
    assert target.exists() and str(target) in out.out
    registry = ModelRegistry(paths.user_models_dir)
    assert registry.errors == []
    spec = registry.get(FLUX)
    assert spec.source.endswith(target.name) or str(target) in spec.source
    assert spec.field("guidance_scale").maximum == 20


def test_fetch_model_of_an_unknown_model_says_so(
    fake_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "rc_test_token_for_fetch")
    code = main(["fetch-model", "nobody/no-model", "--base-url", fake_server.base_url])
    err = capsys.readouterr().err
    assert code == 2
    assert "RunComfy does not know the model 'nobody/no-model' (HTTP 400)" in err and "Traceback" not in err
    assert not Paths.default().user_models_dir.exists() or not any(Paths.default().user_models_dir.iterdir())
