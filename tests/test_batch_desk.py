"""A batch exported with its contact sheet (``export --batch ID --sheet``) and run again (all, or only the
failed ones), against the fake server, with batches made by ``Core.submit_batch``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import TOKEN, open_core, wait_all_terminal
from PIL import Image

from seedream_tui.batch.planner import PlanRequest, Sweep, make_plan
from seedream_tui.batch.sheet import META_KEY
from seedream_tui.cli import main
from seedream_tui.jobs.model import JobStatus


async def _batch(base_url: str, *, sizes: tuple[str, ...] = ("2K", "2048x2048 (1:1)"), repeat: int = 2) -> tuple[int, list[Any]]:
    """A batch swept over resolution × repeat, every job finished; (batch id, its jobs)."""
    core = await open_core(base_url)
    try:
        plan = make_plan(core.registry.default(),
                         PlanRequest({"prompt": "a red fox"}, sweeps=[Sweep("resolution", sizes)], repeat=repeat))
        batch, jobs = await core.submit_batch(plan)
        done = await wait_all_terminal(core, [j.id for j in jobs])
        return batch.id, done
    finally:
        await core.close()


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_export_batch_sheet_writes_the_images_and_the_sheet_beside_them(
    fake_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)
    batch_id, jobs = asyncio.run(_batch(fake_server.base_url))
    assert all(j.status is JobStatus.COMPLETED for j in jobs)
    base = ["--base-url", fake_server.base_url]
    sheet = tmp_path / "out" / "sheet.png"
    code, out, err = _cli(["export", "--batch", str(batch_id), "--sheet", str(sheet), *base], capsys)
    assert code == 0, err
    printed = [Path(line) for line in out.splitlines()]
    assert printed[-1] == sheet and sheet.is_file()
    images = [p for p in printed[:-1]]
    assert len(images) == 4 and all(p.parent == sheet.parent and p.is_file() for p in images)  # beside it
    with Image.open(sheet) as img:
        meta = json.loads(img.text[META_KEY])  # type: ignore[attr-defined]
        width, height = img.size
    assert meta["batch"] == batch_id
    assert [a["key"] for a in meta["plan"]["axes"]] == ["resolution", "repeat"]
    assert sorted(meta["jobs"]) == sorted(j.id for j in jobs)
    assert width > 2 * 256 and height > 2 * 256  # two columns (resolution) by two rows (repeat) of cells

    code, _, err = _cli(["export", "--sheet", str(tmp_path / "x.png"), *base], capsys)
    assert code == 2 and "a --sheet needs a batch" in err
    code, _, err = _cli(["export", "--batch", "999", "--sheet", str(tmp_path / "x.png"), *base], capsys)
    assert code == 2 and "There is no batch 999 in the history." in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


def test_export_batch_without_finished_images_is_refused(
    fake_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)
    fake_server.set_config(fail_rate=1.0)
    batch_id, jobs = asyncio.run(_batch(fake_server.base_url, repeat=1))
    assert all(j.status is JobStatus.FAILED for j in jobs)
    code, _, err = _cli(["export", "--batch", str(batch_id), "--sheet", str(tmp_path / "s.png"),
                         "--base-url", fake_server.base_url], capsys)
    assert code == 2 and f"Batch {batch_id} has no finished images yet" in err
    assert not (tmp_path / "s.png").exists()


async def test_rerun_only_failed_makes_jobs_for_exactly_the_failed_ones(fake_server: Any) -> None:
    core = await open_core(fake_server.base_url)
    try:
        plan = make_plan(core.registry.default(),
                         PlanRequest({"prompt": "a fox"}, sweeps=[Sweep("resolution", ("2K", "3K", "2048x2048 (1:1)"))], repeat=2))
        batch, jobs = await core.submit_batch(plan)
        done = await wait_all_terminal(core, [j.id for j in jobs])
        # two of them end badly (failed on the server's side, cancelled): the status the history keeps is what counts
        await core.history.update_job(done[1].id, status=JobStatus.FAILED, error="boom")
        await core.history.update_job(done[4].id, status=JobStatus.CANCELLED)
        again, new_jobs = await core.rerun_batch(batch.id, only_failed=True)
        assert again.id != batch.id
        assert [j.variant for j in new_jobs] == [done[1].variant, done[4].variant]
        assert [j.inputs for j in new_jobs] == [done[1].inputs, done[4].inputs]
        assert [(j.batch_id, j.batch_place) for j in new_jobs] == [(again.id, 0), (again.id, 1)]
        kept = await core.history.get_batch(again.id)
        assert kept is not None and [a["key"] for a in kept.plan["axes"]] == ["resolution", "repeat"]
        assert any("re-run of batch" in n for n in kept.plan["notes"])
        await wait_all_terminal(core, [j.id for j in new_jobs])
        everything, all_jobs = await core.rerun_batch(batch.id)
        assert len(all_jobs) == 6
        await wait_all_terminal(core, [j.id for j in all_jobs])
        with pytest.raises(LookupError, match="has no failed, cancelled or expired jobs"):
            await core.rerun_batch(everything.id, only_failed=True)
        with pytest.raises(LookupError, match="There is no batch 12345"):
            await core.rerun_batch(12345)
    finally:
        await core.close()


def test_cli_rerun_batch_failed(
    fake_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)
    fake_server.set_config(fail_rate=1.0)
    batch_id, jobs = asyncio.run(_batch(fake_server.base_url, repeat=1))
    assert all(j.status is JobStatus.FAILED for j in jobs)
    fake_server.set_config(fail_rate=0.0)
    before = len(fake_server.jobs_snapshot())
    code, out, err = _cli(["rerun", "--batch", str(batch_id), "--failed", "--wait", "--timeout", "30",
                           "--base-url", fake_server.base_url], capsys)
    assert code == 0, err
    assert f"a re-run of batch {batch_id}'s failed jobs" in err
    assert len(fake_server.jobs_snapshot()) == before + 2
    assert len([line for line in out.splitlines() if line.endswith(".png")]) == 2
    code, _, err = _cli(["rerun", "--failed", "3", "--base-url", fake_server.base_url], capsys)
    assert code == 2 and "--failed picks a batch's failed jobs" in err
