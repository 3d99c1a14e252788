"""Batches in the history: the batch row, each job's batch/place/variant, and the ``batch:7`` filter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import open_core, wait_all_terminal

from seedream_tui.batch.plan import Axis, BatchPlan, PlannedJob, axes_of, numbered
from seedream_tui.catalog.pricing import Quote
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import HistoryStore


def test_a_batch_and_its_jobs_round_trip(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    try:
        batch = store.create_batch(label="a {red|blue} fox", plan={"axes": [{"key": "prompt", "values": ["a", "b"]}]})
        loose = store.create_job("m", {"prompt": "alone"})
        first = store.create_job("m", {"prompt": "a red fox"}, batch_id=batch.id, batch_place=0,
                                 variant={"prompt": "a red fox", "seed": 1})
        second = store.create_job("m", {"prompt": "a blue fox"}, batch_id=batch.id, batch_place=1,
                                  variant={"prompt": "a blue fox", "seed": 2})
        assert store.get(first.id).variant == {"prompt": "a red fox", "seed": 1}
        assert store.get(loose.id).batch_id is None and store.get(loose.id).variant is None
        assert [j.id for j in store.batch_jobs(batch.id)] == [first.id, second.id]
        assert {j.id for j in store.list_jobs(batch_id=batch.id)} == {first.id, second.id}
        assert {j.id for j in store.list_jobs(search=f"batch:{batch.id}")} == {first.id, second.id}
        assert {j.id for j in store.list_jobs(search=f"blue batch:{batch.id}")} == {second.id}
        assert store.count_jobs(batch_id=batch.id) == 2
        assert store.count_jobs() == 3
        kept = store.get_batch(batch.id)
        assert kept is not None and kept.label == "a {red|blue} fox"
        assert axes_of(kept.plan) == [Axis("prompt", ("a", "b"))]
        updated = store.update_job(second.id, variant={"prompt": "a blue fox", "seed": 3}, hold="daily budget")
        assert updated.variant == {"prompt": "a blue fox", "seed": 3} and updated.hold == "daily budget"
    finally:
        store.close()


async def test_submit_batch_writes_each_jobs_place_and_variant(fake_server: Any) -> None:
    core = await open_core(fake_server.base_url)
    try:
        spec = core.registry.default()
        plan = BatchPlan(
            numbered([
                PlannedJob(spec.model_id, {"prompt": f"a {c} fox"}, Quote(0.03), variant={"prompt": f"a {c} fox"})
                for c in ("red", "arctic")
            ]),
            axes=(Axis("prompt", ("a red fox", "a arctic fox")),),
            label="a {red|arctic} fox",
        )
        assert plan.to_json()["total_usd"] == 0.06
        batch, jobs = await core.submit_batch(plan)
        done = await wait_all_terminal(core, [j.id for j in jobs])
        assert all(j.status is JobStatus.COMPLETED for j in done)
        assert [(j.batch_id, j.batch_place, j.variant) for j in done] == [
            (batch.id, 0, {"prompt": "a red fox"}), (batch.id, 1, {"prompt": "a arctic fox"})
        ]
        kept = await core.history.get_batch(batch.id)
        assert kept is not None and kept.plan["count"] == 2
    finally:
        await core.close()


def test_the_first_planner_sweeps_and_repeats() -> None:
    from seedream_tui.batch.planner import PlanRequest, Sweep, make_plan
    from seedream_tui.schema import ModelRegistry

    spec = ModelRegistry.bundled().get("blackforestlabs/flux-2/flash/text-to-image")  # a model with a seed option
    plan = make_plan(spec, PlanRequest({"prompt": "a fox"}, sweeps=[Sweep("seed", (1, 2))], repeat=2))
    assert plan.count == 4
    assert [j.variant for j in plan.jobs][:2] == [{"seed": 1, "repeat": 1}, {"seed": 1, "repeat": 2}]
    assert [j.place for j in plan.jobs] == [0, 1, 2, 3]
