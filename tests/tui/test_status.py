"""Knowing what is going on: the status line, one toast per event (a burst in one), toasts off the job
table (on the message line under it), the quit line for live jobs, and honest clipboard wording."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest
from textual.message import Message
from textual.notifications import Notify
from textual.widgets._toast import Toast
from tui_support import drawn_settled, open_main, seed_finished_jobs, wait_for

from seedream_tui.config import AppConfig
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.paths import Paths
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.messages import JobChanged
from seedream_tui.tui.widgets.status_bar import StatusBar


def toasts(seen: list[Message]) -> list[str]:
    return [n.notification.message for n in seen if isinstance(n, Notify)]


def status_of(app: SeedreamApp) -> str:
    return app.screen.query_one(StatusBar).plain()


async def test_status_line_says_host_token_and_live_counts(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        line = status_of(app)
        assert line.startswith(" PAID   127.0.0.1") and "token: test" in line and "DEMO" not in line
        await wait_for(lambda: "0 queued · 0 running · 0 done today" in status_of(app), what="the first counts")
        main.editor.load_text("a red fox")
        main.action_submit()
        main.editor.load_text(main.editor.text + " again")  # the same input twice asks first (paid)
        main.action_submit()
        # one worker: one job runs while the other waits
        await wait_for(lambda: "1 queued · 1 running" in status_of(app), what="1 queued, 1 running")
        await wait_for(lambda: "0 queued · 0 running · 2 done today" in status_of(app), limit=15, what="2 done")


async def test_status_line_says_demo_is_free(config: AppConfig, core) -> None:
    config.demo = True
    config.token_source = "demo"
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_main(app, pilot)
        assert status_of(app).startswith(" DEMO  free  0 queued · 0 running")


def finished(job_id: int, status: JobStatus, now: float) -> Job:
    return Job(job_id, "m", {"prompt": f"p{job_id}"}, status, now, now)


async def test_a_burst_of_finished_jobs_is_one_toast_off_the_job_table(config, core) -> None:
    seen: list[Message] = []
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24), message_hook=seen.append, notifications=True) as pilot:
        main = await open_main(app, pilot)
        now = time.time() + 5
        for i in range(1, 6):
            app.post_message(JobChanged(finished(900 + i, JobStatus.RUNNING, now)))
        await pilot.pause()
        for i in range(1, 6):
            status = JobStatus.FAILED if i == 5 else JobStatus.COMPLETED
            app.post_message(JobChanged(finished(900 + i, status, now)))
        await wait_for(lambda: toasts(seen), what="the toast")
        await pilot.pause(1.0)  # a second toast would come within the burst window: there must be none
        assert toasts(seen) == ["5 jobs finished: 4 done, 1 failed."]
        # toasts sit on the message line under the job table, never over its rows (issue 20 §3)
        await wait_for(lambda: [t for t in main.query(Toast) if t.region.area], what="the toast drawn")
        table = main.table.region
        for toast in main.query(Toast):
            if toast.region.area:
                assert toast.region.y >= table.bottom, (toast.region, table)
        # one job alone: its own sentence
        app.post_message(JobChanged(finished(999, JobStatus.RUNNING, now)))
        await pilot.pause()
        app.post_message(JobChanged(finished(999, JobStatus.COMPLETED, now)))
        await wait_for(lambda: len(toasts(seen)) == 2, what="the second toast")
        assert toasts(seen)[1] == "Job #999 is done: 0 images."
        # costs the server reported for jobs finished this session: the status line adds them up
        app.post_message(JobChanged(finished(998, JobStatus.RUNNING, now)))
        await pilot.pause()
        app.post_message(JobChanged(replace(finished(998, JobStatus.COMPLETED, now), cost=0.035)))
        await wait_for(lambda: "session $0.035" in status_of(app), what="the session's spend")


async def test_cancelling_gives_one_toast(config, core) -> None:
    seen: list[Message] = []
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a red fox")
        main.action_submit()
        main.editor.load_text(main.editor.text + " again")  # the same input twice asks first (paid)
        main.action_submit()
        await wait_for(lambda: main.table.row_count == 2, what="two rows")
        newest = max(main.table.jobs)
        await wait_for(lambda: main.table.jobs[newest].status is JobStatus.QUEUED, what="the second job queued")
        main.set_focus(main.table)
        main.table.select_job(newest)
        # each paid submit says its price: counted before the cancel, so only the cancel's toasts are compared
        await wait_for(lambda: any(f"Job #{newest} submitted" in t for t in toasts(seen)), what="the submit's toast")
        before = len(toasts(seen))
        await pilot.press("c")
        await wait_for(lambda: main.table.jobs[newest].status is JobStatus.CANCELLED, what="cancellation")
        await pilot.pause(1.0)  # the core's change and any second toast would have come by now
        about = [t for t in toasts(seen)[before:] if f"#{newest}" in t or "cancel" in t.lower()]
        assert len(about) == 1, about


async def test_quit_with_live_jobs_says_they_resume(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a red fox")
        main.action_submit()
        main.editor.load_text(main.editor.text + " again")  # the same input twice asks first (paid)
        main.action_submit()
        await wait_for(lambda: app.tally.live == 2, what="two live jobs")
        await pilot.press("ctrl+q")
    assert app.quit_note == "2 jobs are still live; they will resume at the next start of seedream-tui."


async def test_quit_with_nothing_live_says_nothing(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_main(app, pilot)
        await pilot.press("ctrl+q")
    assert app.quit_note is None


def test_run_tui_prints_the_quit_note(monkeypatch, capsys, config) -> None:
    """The line is printed after the terminal is restored, so it stays on screen."""
    from seedream_tui.tui import run

    def fake_run(self: Any) -> int:
        self.quit_note = "2 jobs are still live; they will resume at the next start of seedream-tui."
        return 0

    from seedream_tui.tui import images

    monkeypatch.setattr(SeedreamApp, "run", fake_run)
    monkeypatch.setattr(images, "configure", lambda mode, **_: mode)  # the session's halfcell stays for others
    env = {"TERM": "xterm-256color", "LANG": "C.UTF-8"}
    assert run.run_tui(config, image_mode="halfcell", env=env) == 0
    assert "2 jobs are still live" in capsys.readouterr().err


async def settle_status(pilot: Any) -> None:
    from test_main_snapshots import settle

    await settle(pilot)
    app = pilot.app
    await wait_for(lambda: "done today" in status_of(app), what="the counts")
    await drawn_settled(app.screen)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_status_bar_snapshot(snap_compare, queue_server, size) -> None:
    """The main screen's bottom: the status line above the key hints (the main snapshot shows it too)."""
    from conftest import make_config

    seed_finished_jobs(Paths.default())
    app = SeedreamApp(make_config(queue_server.base_url, theme="textual-dark", notify_bell=False))
    assert snap_compare(app, terminal_size=size, run_before=settle_status)


async def test_the_day_is_counted_up_to_a_cap(config, core, monkeypatch) -> None:
    """A busy history's count of the day's completed jobs stops at the cap ("1,000+ done today" in use): a
    full count walked every completed job (0.2-0.6 s at a million) and held up the history's other reads."""
    import time

    from seedream_tui.tui import app as app_module

    monkeypatch.setattr(app_module, "DONE_TODAY_CAP", 3)
    now = time.time()
    for i in range(5):
        job = await core.history.create_job("m", {"prompt": f"done {i}"}, base_url="http://127.0.0.1:9", now=now)
        await core.history.update_job(job.id, status=JobStatus.COMPLETED, finished_at=now, updated_at=now)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(100, 24)) as pilot:
        await open_main(app, pilot)
        await wait_for(lambda: "3+ done today" in status_of(app), what="the capped count")
