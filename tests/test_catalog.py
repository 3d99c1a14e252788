"""The catalog over loopback: the fake's list/categories/detail, the client's calls, caching and refresh."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from helpers import TOKEN

from seedream_tui.api import RunComfyClient
from seedream_tui.catalog.browse import local_catalog, search_catalog
from seedream_tui.catalog.cache import NOTE_KEY, fetch_model, refresh_stale, stale_models
from seedream_tui.catalog.pricing import quote
from seedream_tui.cli import main
from seedream_tui.fake.server import FakeServerThread
from seedream_tui.paths import Paths
from seedream_tui.schema import FieldKind, ModelRegistry

EDIT5 = "bytedance/seedream-5/lite/edit"
EDIT45 = "bytedance/seedream-4-5/edit"


@pytest.fixture
async def client(fake_server: FakeServerThread) -> AsyncIterator[RunComfyClient]:
    fake_server.set_config(tokens=[TOKEN])
    c = RunComfyClient(fake_server.base_url, TOKEN)
    try:
        yield c
    finally:
        await c.aclose()


def _gets(server: FakeServerThread, path: str) -> int:
    return sum(1 for r in server.api_requests if r["method"] == "GET" and r["path"].split("?")[0] == path)


async def test_the_catalog_lists_a_dozen_models_of_several_kinds_with_prices(client: RunComfyClient) -> None:
    body = await client.list_models(limit=200)
    assert body["total"] == len(body["models"]) >= 12
    by_id = {m["model_id"]: m for m in body["models"]}
    for wanted in ("bytedance/seedream-5/lite/text-to-image", EDIT5, EDIT45,
                   "blackforestlabs/flux-2/flash/text-to-image", "bytedance/seedance-1/lite/text-to-video"):
        assert wanted in by_id  # fmt: skip
    assert {m.get("kind") for m in body["models"]} == {"model"}  # RunComfy's kind; the task is in categories
    tasks = {c for m in body["models"] for c in m["categories"]}
    assert tasks >= {"text-to-image", "image-to-image", "text-to-video"}
    assert by_id[EDIT5]["base_price_usd"] == 0.028 and by_id[EDIT5]["price_unit"] == "output"
    assert by_id["bytedance/seedance-1/lite/text-to-video"]["price_unit"] == "second"
    assert "input_schema" not in by_id[EDIT5]  # only with include_schema
    with_schema = await client.list_models(search="seedream 5 lite edit", include_schema=True)
    assert [m["model_id"] for m in with_schema["models"]] == [EDIT5]
    assert with_schema["models"][0]["required_inputs"] == ["prompt", "image"]


async def test_filters_paging_and_categories_route(client: RunComfyClient, fake_server: FakeServerThread) -> None:
    cats = await client.model_categories()
    assert {"image", "video", "image-to-image"} <= set(cats)
    assert _gets(fake_server, "/v1/models/categories") == 1  # answered as categories, not as a model id
    videos = await search_catalog(client, category="video")
    assert videos.total == len(videos.entries) == 2
    assert all("video" in e.categories and e.price_text == "$0.036/s" for e in videos.entries)
    edits = await search_catalog(client, category="image-to-image")
    assert {EDIT5, EDIT45} <= {e.model_id for e in edits.entries}
    assert {e.kind for e in edits.entries} == {"image-to-image"}  # the task, from categories (kind is "model")
    first = await search_catalog(client, limit=5)
    second = await search_catalog(client, limit=5, offset=5)
    assert first.total == second.total >= 12
    assert not {e.model_id for e in first.entries} & {e.model_id for e in second.entries}
    unknown = next(e for e in (await search_catalog(client, search="lora")).entries)
    assert unknown.price.base_usd is None and unknown.price_text == "price unknown"


async def test_fetching_caches_a_schema_that_works_offline_with_its_price(
    client: RunComfyClient, tmp_path: Path
) -> None:
    cached = await fetch_model(client, tmp_path, EDIT45)
    saved = json.loads(cached.path.read_text(encoding="utf-8"))
    assert saved["base_price_usd"] == 0.04 and saved[NOTE_KEY]["base_url"] == client.base_url
    # the next start: no network, the file alone
    registry = ModelRegistry(tmp_path)
    spec = registry.get(EDIT45)
    assert registry.errors == []
    assert spec.field("images").kind is FieldKind.MEDIA_LIST  # "image_uris" with no items
    assert spec.field("images").required  # from required_inputs
    assert quote(spec, {"prompt": "x"}).text == "≈ $0.04"
    offline = local_catalog(registry, search="4.5 edit")
    assert [e.model_id for e in offline.entries] == [EDIT45] and offline.offline


async def test_stale_cached_schemas_are_refreshed_and_hand_written_ones_never(
    client: RunComfyClient, fake_server: FakeServerThread, tmp_path: Path
) -> None:
    now = time.time()
    await fetch_model(client, tmp_path, EDIT5, now=now - 2 * 86400)  # two days old
    await fetch_model(client, tmp_path, EDIT45, now=now - 3600)  # an hour old
    (tmp_path / "mine.json").write_text(json.dumps({"model_id": "me/mine", "properties": {"p": {}}}), "utf-8")
    assert stale_models(tmp_path, now=now) == [EDIT5]
    registry = ModelRegistry(tmp_path)
    before = _gets(fake_server, f"/v1/models/{EDIT5}")
    assert await refresh_stale(client, tmp_path, registry, now=now) == [EDIT5]
    assert _gets(fake_server, f"/v1/models/{EDIT5}") == before + 1
    assert _gets(fake_server, f"/v1/models/{EDIT45}") == 1  # only the first fetch
    assert stale_models(tmp_path, now=now) == []


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_models_lists_and_filters_the_live_catalog(
    fake_server: FakeServerThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)
    base = ["--base-url", fake_server.base_url]
    code, out, err = _cli(["models", "--json", *base], capsys)
    assert code == 0, err
    listed = json.loads(out)
    assert listed["total"] >= 12 and not listed["offline"]
    assert len(listed["models"]) == listed["total"]
    code, out, err = _cli(["models", "--category", "video", *base], capsys)
    assert code == 0 and "Seedance 1 lite · text to video" in out and "$0.036/s" in out
    assert "Seedream" not in out
    code, out, _ = _cli(["models", "--search", "kontext", "--json", *base], capsys)
    assert [m["model_id"] for m in json.loads(out)["models"]] == ["blackforestlabs/flux-kontext/pro/edit"]


def test_cli_models_without_a_token_lists_the_schemas_on_disk(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(["models", "--json", "--base-url", "http://127.0.0.1:9"], capsys)
    assert code == 0
    assert "No API token" in err
    listed = json.loads(out)
    assert listed["offline"] and "bytedance/seedream-5/lite/text-to-image" in {m["model_id"] for m in listed["models"]}


def test_demo_schemas_are_cached_apart_from_real_ones() -> None:
    assert Paths.default(demo=True).user_models_dir != Paths.default().user_models_dir


def _fake_detail(server: FakeServerThread, model_id: str) -> dict[str, Any]:
    return server.server.models[model_id].detail()


def test_every_fake_model_reads_cleanly(fake_server: FakeServerThread) -> None:
    from seedream_tui.schema import parse_schema

    for model_id in fake_server.server.models:
        spec = parse_schema(_fake_detail(fake_server, model_id))
        assert spec.fields, model_id
