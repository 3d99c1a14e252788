"""Issue 10 §2: one error path. A worker that raises anything (a busy history, a full disk, a RecursionError,
a bug) never ends the app: one handler shows a sentence and logs the traceback."""

from __future__ import annotations

import errno
import logging
from typing import Any

import pytest
from textual import work
from tui_support import open_main, wait_for

from seedream_tui.jobs.store_schema import HistoryError
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.failures import reason

ERRORS: list[tuple[BaseException, str]] = [
    (HistoryError("The history is busy (another seedream-tui is writing to it)."), "The history is busy"),
    (OSError(errno.ENOSPC, "No space left on device", "/data/history.sqlite3"), "No space left on device"),
    (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
    (MemoryError(), "ran out of memory"),
    (KeyError("prompt"), "KeyError: 'prompt'"),
    (ValueError("[/x] not a markup tag"), "ValueError: [/x] not a markup tag"),
]


def _toasts(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


@pytest.mark.parametrize(("error", "said"), ERRORS, ids=[type(e).__name__ for e, _ in ERRORS])
async def test_submit_worker_failure_is_a_sentence_not_an_exit(
    config, core, error: BaseException, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_submit(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    core.submit = broken_submit
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a red fox")
        with caplog.at_level(logging.ERROR, logger="seedream_tui.tui"):
            await pilot.press("ctrl+s")
            await wait_for(lambda: any("Could not submit the job" in t for t in _toasts(app)), what="the toast")
        toast = next(t for t in _toasts(app) if "Could not submit" in t)
        assert said in toast and "log file" in toast
        assert app.is_running and app.return_code is None
        logged = [r for r in caplog.records if r.name == "seedream_tui.tui" and r.exc_info]
        assert logged and logged[0].exc_info[1] is error  # the traceback went to the log


async def test_thread_worker_of_a_widget_and_the_apps_own_worker(config, core) -> None:
    """A thread worker on a screen and a worker of the app itself, both declared with the default
    ``exit_on_error=True``: neither ends the app, each is reported once."""
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)

        @work(thread=True, group="probe-thread")
        def boom_in_thread(_self: Any) -> None:
            raise OSError(errno.EACCES, "Permission denied", "/images/1.png")

        @work(group="probe-app")
        async def boom_on_app(_self: Any) -> None:
            raise RuntimeError("bug")

        boom_in_thread(main)
        boom_on_app(app)
        await wait_for(lambda: len([t for t in _toasts(app) if "Could not" in t]) >= 2, what="two toasts")
        await pilot.pause(0.2)
        toasts = [t for t in _toasts(app) if "Could not" in t]
        assert len(toasts) == 2, toasts
        assert any("Permission denied (/images/1.png)" in t for t in toasts)
        assert any("RuntimeError: bug" in t for t in toasts)
        assert app.is_running


def test_reason_of_our_errors_is_their_sentence() -> None:
    assert reason(HistoryError("The history file is locked.")) == "The history file is locked"
    assert reason(OSError(errno.ENOSPC, "No space left on device")) == "No space left on device"


async def test_the_app_is_the_one_subscriber_and_screens_follow_its_messages(config, core) -> None:
    """History and detail open at once: the core has one listener (the app); the detail still follows the job."""
    from textual.widgets import Static

    from seedream_tui.jobs.model import JobStatus
    from seedream_tui.tui.screens.detail import JobDetailScreen
    from seedream_tui.tui.screens.history import HistoryScreen

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a red fox")
        await pilot.press("ctrl+s")
        await wait_for(lambda: main.table.jobs, what="the submitted job")
        job_id = max(main.table.jobs)
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen), what="the history")
        await app.run_action(f"open_job({job_id})")
        await wait_for(lambda: isinstance(app.screen, JobDetailScreen), what="the detail")
        assert len(core.engine.listeners._listeners) == 1  # the app alone
        detail = app.screen
        await wait_for(lambda: detail.job is not None and detail.job.status is JobStatus.COMPLETED, limit=15,
                       what="the detail following the job to its end")
        assert f"Job #{job_id}  done" in str(detail.query_one("#detail-text", Static).render())
