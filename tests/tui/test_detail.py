"""JobDetailScreen: the full record of a job, copy request id, cancel while queued (real core, fake server)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from textual.widgets import Button, Static

sys.path.insert(0, str(Path(__file__).parent))

from screens_support import ScreenHost, make_config, open_core, seed_history, wait_for  # noqa: E402
from tui_support import drawn_settled

from seedream_tui.jobs.model import JobStatus  # noqa: E402
from seedream_tui.paths import Paths  # noqa: E402
from seedream_tui.tui.formatting import error_sentence, fmt_duration, fmt_size  # noqa: E402
from seedream_tui.tui.screens.detail import JobDetailScreen  # noqa: E402

SNAP_HOME = Path("/tmp/seedream-tui-snapshots/detail")


def text_of(app: ScreenHost) -> str:
    return str(app.screen.query_one("#detail-text", Static).render())


async def test_detail_shows_everything_and_copies_request_id(fake_server) -> None:  # type: ignore[no-untyped-def]
    paths = Paths.default()
    jobs = seed_history(paths, 10)
    job = jobs[0]
    config = make_config(fake_server.base_url, paths)
    app = ScreenHost(lambda: open_core(config), lambda core: JobDetailScreen(core, job.id))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen) and "Timings" in text_of(app))
        text = text_of(app)
        for expected in (f"Job #{job.id}", "done", f"req-{job.id}", job.prompt, "64x48", "12.5 s", "2026-01-15 09:09:00",
                         str(job.outputs[0].path)):
            assert expected in text, expected
        # a finished job cannot be cancelled
        assert app.screen.query_one("#detail-cancel", Button).disabled
        await pilot.press("x")
        await pilot.press("c")
        assert app.copied == [f"req-{job.id}"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, JobDetailScreen))


async def test_cancel_a_queued_job(queue_server) -> None:  # type: ignore[no-untyped-def]
    config = make_config(queue_server.base_url)
    app = ScreenHost(lambda: open_core(config))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.core is not None)
        core = app.core
        spec = core.registry.get(config.settings.default_model)
        # one worker on the server: the last of these waits in the queue
        jobs = [await core.submit(spec, {"prompt": f"queued {i}"}) for i in range(4)]
        last = jobs[-1]
        await app.push_screen(JobDetailScreen(core, last.id))
        screen = app.screen
        await wait_for(pilot, lambda: "queued" in text_of(app) and not screen.query_one("#detail-cancel").disabled)
        assert "queued 3" in text_of(app)
        await pilot.press("x")
        await wait_for(pilot, lambda: "cancelled" in text_of(app))
        assert (await core.history.get(last.id)).status is JobStatus.CANCELLED
        assert any("Cancelled" in n.message for n in app._notifications)
        assert screen.query_one("#detail-cancel", Button).disabled


async def test_missing_job_is_a_sentence(fake_server) -> None:  # type: ignore[no-untyped-def]
    config = make_config(fake_server.base_url)
    app = ScreenHost(lambda: open_core(config), lambda core: JobDetailScreen(core, 999))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen) and "no longer" in text_of(app))
        await pilot.press("c")
        assert app.copied == []


def test_formatting_helpers() -> None:
    assert fmt_duration(10.0, 22.5) == "12.5 s"
    assert fmt_duration(0, 125) == "2 min 05 s"
    assert fmt_duration(None, 3) == ""
    assert fmt_size(2048) == "2.0 KB"
    assert fmt_size(None) == "size unknown"
    sentence = error_sentence("export", PermissionError(13, "Permission denied", "/root/x"))
    assert sentence == "Could not export: Permission denied (/root/x)."
    assert error_sentence("re-run", LookupError("That job is gone.")) == "Could not re-run: That job is gone."


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_detail_snapshot(snap_compare, monkeypatch, size) -> None:  # type: ignore[no-untyped-def]
    # a fixed home: the output file paths shown on screen must not depend on the temp dir
    shutil.rmtree(SNAP_HOME, ignore_errors=True)
    monkeypatch.setenv("SEEDREAM_TUI_HOME", str(SNAP_HOME))
    paths = Paths.default()
    job = seed_history(paths, 5)[0]
    config = make_config("http://127.0.0.1:1", paths)
    app = ScreenHost(lambda: open_core(config), lambda core: JobDetailScreen(core, job.id))

    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen) and "Timings" in text_of(app))
        await drawn_settled(app.screen)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=ready)
