"""Price before you pay (quotes from the catalog price) and the spend ledger (costs the server reported)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from helpers import TOKEN, open_core, wait_status

from seedream_tui.catalog.cache import fetch_model
from seedream_tui.catalog.pricing import Quote, format_usd, price_of, quote, total
from seedream_tui.cli import main
from seedream_tui.fake.server import FakeServerThread
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.spend import group_spend, summarize
from seedream_tui.schema import ModelRegistry, parse_schema

SEEDREAM = "bytedance/seedream-5/lite/text-to-image"
VIDEO = "bytedance/seedance-1/lite/text-to-video"


def _spec(server: FakeServerThread, model_id: str) -> Any:
    return parse_schema(server.server.models[model_id].detail())


def test_quotes_count_what_the_unit_counts(fake_server: FakeServerThread) -> None:
    seedream = _spec(fake_server, SEEDREAM)
    assert quote(seedream, {"prompt": "x"}).text == "≈ $0.03"
    # a sequence may make up to max_images images (default 15): the quote is a ceiling
    assert quote(seedream, {"sequential_image_generation": "auto"}).text == "up to $0.45"
    assert quote(seedream, {"sequential_image_generation": "auto", "max_images": 4}).text == "up to $0.12"
    # max_images does not apply while the sequence is off
    assert quote(seedream, {"sequential_image_generation": "disabled", "max_images": 4}).text == "≈ $0.03"
    flux = _spec(fake_server, "blackforestlabs/flux-1-1/pro/text-to-image")
    assert quote(flux, {"num_images": 3}).text == "≈ $0.12"
    video = _spec(fake_server, VIDEO)
    assert quote(video, {}).text == "≈ $0.18"  # 5 s default
    assert quote(video, {"duration": 10}).text == "≈ $0.36"


def test_a_missing_price_is_unknown_never_zero(fake_server: FakeServerThread) -> None:
    lora = quote(_spec(fake_server, "community/sdxl/lora"), {"prompt": "x"})
    assert lora.usd is None and lora.text == "price unknown"
    # a unit the app cannot count (RunComfy's are "output" and "second"): no quote, and the reason says why
    per_megapixel = {**fake_server.server.models["topaz/image-upscale/standard"].detail(), "price_unit": "megapixel"}
    upscale = quote(parse_schema(per_megapixel), {})
    assert upscale.usd is None and "megapixel" in upscale.reason
    bundled = ModelRegistry.bundled().get(SEEDREAM)  # the file shipped with the app has no price
    assert quote(bundled, {}).text == "price unknown"
    for bad in (-1, float("nan"), True, "0.03"):
        assert price_of({"base_price_usd": bad, "price_unit": "output"}).base_usd is None
    assert total([Quote(0.03), Quote(None)]).usd is None
    assert total([Quote(0.03), Quote(0.45, upper_bound=True)]).text == "up to $0.48"


def test_money_is_written_plainly() -> None:
    assert [format_usd(x) for x in (0.03, 0.035, 1.8, 0, 12.5)] == ["$0.03", "$0.035", "$1.80", "$0.00", "$12.50"]


async def test_costs_are_stored_and_consistent_with_prices(fake_server: FakeServerThread) -> None:
    fake_server.set_config(tokens=[TOKEN])
    core = await open_core(fake_server.base_url)
    try:
        cached = await fetch_model(core.client, core.paths.user_models_dir, SEEDREAM)
        core.registry.add(cached.spec)
        spec = core.registry.get(SEEDREAM)
        inputs = {"prompt": "a lighthouse", "sequential_image_generation": "auto", "max_images": 3}
        before = quote(spec, inputs)
        job = await core.submit(spec, inputs)
        done = await wait_status(core, job.id, [JobStatus.COMPLETED])
        assert done.cost == pytest.approx(0.03 * len(done.outputs))
        assert before.usd is not None and done.cost <= before.usd + 1e-9  # the quote is a ceiling
        video = core.registry  # the video model is not on disk: submit through its fetched schema
        cached = await fetch_model(core.client, core.paths.user_models_dir, VIDEO)
        video.add(cached.spec)
        clip = await core.submit(core.registry.get(VIDEO), {"prompt": "waves", "duration": 10})
        clip_done = await wait_status(core, clip.id)
        assert clip_done.cost == pytest.approx(0.36)
        rows = await core.history.cost_rows()
        assert sorted(r[0] for r in rows) == sorted([SEEDREAM, VIDEO])
        summary = summarize(rows)
        assert summary.today.jobs == 2 and summary.today.usd == pytest.approx(done.cost + 0.36)
        assert [g.key for g in summary.by_model] == [VIDEO, SEEDREAM]  # largest first
    finally:
        await core.close()


def test_group_spend_by_day_and_model() -> None:
    day = datetime(2026, 3, 2, 12).timestamp()
    rows = [("a/m", day, 0.03), ("b/m", day + 60, 0.5), ("a/m", day + 86400, 0.06)]
    by_day = group_spend(rows, by="day")
    assert [(g.key, g.jobs, round(g.usd, 2)) for g in by_day] == [("2026-03-02", 2, 0.53), ("2026-03-03", 1, 0.06)]
    by_model = group_spend(rows, by="model")
    assert [(g.key, g.jobs) for g in by_model] == [("b/m", 1), ("a/m", 2)]
    week = summarize(rows, now=day + 86400 + 60)  # Tuesday: Monday and Tuesday are this week
    assert week.today.jobs == 1 and week.week.jobs == 3


def test_cli_spend(isolated_home: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from seedream_tui.jobs.store import HistoryStore
    from seedream_tui.paths import Paths

    store = HistoryStore(Paths.default().history_db)
    try:
        for model_id, when, cost in [("a/m", "2026-03-01", 0.03), ("b/m", "2026-03-05", 0.36), ("a/m", "2026-03-05", None)]:
            job = store.create_job(model_id, {"prompt": "p"}, now=datetime.fromisoformat(when + "T10:00").timestamp())
            store.update_job(job.id, status=JobStatus.COMPLETED, cost=cost)
    finally:
        store.close()
    assert main(["spend", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["total_usd"] == pytest.approx(0.39) and body["jobs"] == 2  # the job without a cost is not guessed
    assert main(["spend", "--by", "model", "--since", "2026-03-02", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["groups"] == [{"key": "b/m", "jobs": 1, "usd": 0.36}]
    assert main(["spend", "--since", "March"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
