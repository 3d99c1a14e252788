"""Budgets (issue 21, "a budget you trust"): a batch past the budget given with it or the per-batch cap is
refused before anything is written; jobs that would pass the daily cap wait, pending, with the reason, and go
when the cap is raised or the day turns; each cost the server reports is counted once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from child_queue import fox_plan
from helpers import open_core, submits, wait_all_terminal, wait_for

from seedream_tui.api.errors import InvalidInputError, RefusedError
from seedream_tui.config import load_settings
from seedream_tui.jobs.budget import BudgetRefusedError
from seedream_tui.jobs.local_queue import daily_cap
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.jobs.store_queue import PendingRow
from seedream_tui.paths import Paths


async def test_a_batch_over_its_budget_is_refused_before_anything_is_written(fake_server: Any) -> None:
    core = await open_core(fake_server.base_url)
    try:
        with pytest.raises(BudgetRefusedError) as given:
            await core.submit_batch(fox_plan(3), budget_usd=0.05)
        assert str(given.value) == ("The batch costs $0.09, over the budget of $0.05 given for it (--budget): "
                                    "nothing was sent.")
        assert isinstance(given.value, RefusedError) and given.value.exit_code == 2
        core.config.settings.batch_budget_usd = 1.0
        with pytest.raises(BudgetRefusedError) as capped:
            await core.submit_batch(fox_plan(40))
        assert str(capped.value) == ("The batch costs $1.20, over the batch budget of $1.00 (settings: "
                                     "batch_budget_usd): nothing was sent.")
        with pytest.raises(BudgetRefusedError) as unknown:
            await core.submit_batch(fox_plan(2, price=None))
        assert "price is not known" in str(unknown.value) and "batch budget of $1.00" in str(unknown.value)
        with pytest.raises(InvalidInputError, match="must be a number of dollars"):
            await core.submit_batch(fox_plan(2), budget_usd=-1)
        assert await core.history.count_jobs() == 0 and await core.history.list_batches() == []
        assert submits(fake_server) == 0
        batch, jobs = await core.submit_batch(fox_plan(3), budget_usd=0.09)  # exactly the budget: it goes
        assert len(jobs) == 3 and (await core.history.get_batch(batch.id)).budget_usd == 0.09
    finally:
        await core.close()


async def test_jobs_past_the_daily_budget_wait_with_the_reason_and_go_when_it_is_raised(fake_server: Any) -> None:
    fake_server.set_config(workers=8, min_duration=0.05, max_duration=0.1)
    core = await open_core(fake_server.base_url)
    core.config.settings.daily_budget_usd = 0.07
    try:
        _, jobs = await core.submit_batch(fox_plan(4), max_live=4)
        done = await wait_all_terminal(core, [j.id for j in jobs[:2]], within=20)
        assert all(j.status is JobStatus.COMPLETED and j.cost == 0.03 for j in done)

        async def held() -> list[Any]:
            rows = [await core.history.get(j.id) for j in jobs[2:]]
            return rows if all(r is not None and r.hold for r in rows) else []

        waiting = await wait_for(held, 10, what="the last two jobs to be held")
        assert all(r.status is JobStatus.PENDING for r in waiting)
        assert waiting[0].hold == ("Held: sending it would pass the daily budget of $0.07 (settings: "
                                   "daily_budget_usd); it is sent when the day turns or the budget is raised.")
        assert (await core.queue_counts()).text == "2 pending (2 held)"
        assert submits(fake_server) == 2 and abs(await core.spent_today() - 0.06) < 1e-9
        core.config.settings.daily_budget_usd = 0.20
        await core.wake_queue()
        done = await wait_all_terminal(core, [j.id for j in jobs], within=20)
        assert all(j.status is JobStatus.COMPLETED and j.hold is None for j in done)
        assert abs(await core.spent_today() - 0.12) < 1e-9
    finally:
        await core.close()


def test_the_daily_sum_counts_each_job_once_and_only_what_was_sent_today(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    now = time.time()
    midnight = daily_cap(1.0, now).day_start
    try:
        yesterday = store.create_job("m", {"prompt": "sent yesterday"}, now=midnight - 3600)
        store.update_job(yesterday.id, status=JobStatus.COMPLETED, cost=0.5, submitted_at=midnight - 3600)
        finished = store.create_job("m", {"prompt": "done today"}, now=now)
        for _ in range(3):  # the same cost written again (a resume, a second instance, a poll after the end)
            store.update_job(finished.id, status=JobStatus.COMPLETED, cost=0.05, submitted_at=now)
        store.create_job("m", {"prompt": "failed, not charged"}, now=now)
        store.update_job(3, status=JobStatus.FAILED, submitted_at=now)
        store.create_pending_batch([PendingRow("m", {"prompt": "live"}, 0, price_usd=0.03),
                                    PendingRow("m", {"prompt": "still pending"}, 1, price_usd=0.5)])
        live = store.claim_pending("me", limit=10, base_url=None, daily=daily_cap(0.10, now))
        assert live.job is not None and live.job.prompt == "live"
        # 0.05 reported + 0.03 quoted (sent, no cost yet); the pending 0.5 would pass the 0.10 cap: held
        assert abs(store.spent_since(midnight) - 0.08) < 1e-9
        held = store.claim_pending("me", limit=10, base_url=None, daily=daily_cap(0.10, now))
        assert held.job is None
        [pending] = store.list_jobs(statuses=[JobStatus.PENDING])
        assert pending.hold is not None and "daily budget of $0.10" in pending.hold
        # the day turns: what was sent before it no longer counts
        tomorrow = store.claim_pending("me", limit=10, base_url=None, daily=daily_cap(0.60, now + 86400))
        assert tomorrow.job is not None and tomorrow.job.id == pending.id and tomorrow.job.hold is None
    finally:
        store.close()


def test_a_job_of_unknown_price_waits_under_a_daily_budget(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    try:
        store.create_pending_batch([PendingRow("m", {"prompt": "no price"}, 0, price_usd=None)])
        assert store.claim_pending("me", limit=4, base_url=None, daily=daily_cap(5.0)).job is None
        [row] = store.list_jobs()
        assert row.hold is not None and row.hold.startswith("Held: its price is not known")
        claim = store.claim_pending("me", limit=4, base_url=None, daily=None)  # the budget removed
        assert claim.job is not None and claim.job.hold is None and claim.held_changed == (row.id,)
    finally:
        store.close()


def test_the_budget_settings_are_read_and_checked() -> None:
    paths = Paths.default()
    paths.settings_file.parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text("max_live_jobs = 2\ndaily_budget_usd = 5\nbatch_budget_usd = 0.5\n")
    settings, warnings = load_settings(paths)
    assert (settings.max_live_jobs, settings.daily_budget_usd, settings.batch_budget_usd) == (2, 5, 0.5)
    assert warnings == []
    paths.settings_file.write_text("max_live_jobs = 0\ndaily_budget_usd = -1\nbatch_budget_usd = nan\n")
    settings, warnings = load_settings(paths)
    assert (settings.max_live_jobs, settings.daily_budget_usd, settings.batch_budget_usd) == (4, None, None)
    assert len(warnings) == 3


def test_status_says_why_a_pending_job_is_held(isolated_home: Path) -> None:
    import os
    import subprocess
    import sys

    store = HistoryStore(Paths.default().history_db)
    store.create_pending_batch([PendingRow("m", {"prompt": "over budget"}, 0, price_usd=0.5)])
    store.claim_pending("me", limit=4, base_url=None, daily=daily_cap(0.10))
    store.close()
    env = {**os.environ, "SEEDREAM_TUI_HOME": str(isolated_home), "RUNCOMFY_API_TOKEN": "t"}
    done = subprocess.run([sys.executable, "-m", "seedream_tui", "status", "1"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "job 1  pending" in done.stdout
    assert "held    Held: sending it would pass the daily budget of $0.10" in done.stdout


def test_quitting_says_pending_jobs_are_sent_at_the_next_start() -> None:
    from seedream_tui.jobs.model import Job
    from seedream_tui.jobs.tally import SessionTally

    tally = SessionTally()
    for i, status in enumerate((JobStatus.PENDING, JobStatus.PENDING, JobStatus.QUEUED)):
        tally.see(Job(id=i, model_id="m", inputs={}, status=status, created_at=0, updated_at=0))
    assert tally.resume_sentence() == ("1 job is still live; it will resume at the next start of seedream-tui; "
                                       "2 pending jobs will be sent then.")
    tally.forget(2)
    assert tally.resume_sentence() == "2 pending jobs will be sent then (at the next start of seedream-tui)."
