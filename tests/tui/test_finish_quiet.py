"""Jobs that finish cost the terminal little (issue 23): one toast and one OSC 9 per burst of completions, the
preview on screen left alone when another job ends, the status line drawn only where and when it changed."""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.message import Message
from textual.notifications import Notify
from tui_support import open_main, seed_finished_jobs, wait_for

import seedream_tui.tui.app as app_module
from seedream_tui.config import resolve_config
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.tally import SessionTally
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.messages import Alerted, JobChanged
from seedream_tui.tui.widgets.status_bar import StatusBar, status_text


def toasts(seen: list[Message]) -> list[str]:
    return [m.notification.message for m in seen if isinstance(m, Notify)]


def alerts(seen: list[Message]) -> list[str]:
    return [m.text for m in seen if isinstance(m, Alerted)]


def job(job_id: int, status: JobStatus, now: float) -> Job:
    return Job(job_id, "m", {"prompt": f"p{job_id}"}, status, now, now)


async def test_completions_one_after_another_are_one_toast_and_one_alert(config, core, monkeypatch) -> None:
    """Jobs ending one after another (40 running, one ends every ~0.1 s) are announced together: after a toast,
    the next comes ANNOUNCE_EVERY later with every job that ended meanwhile, one toast and one bell + OSC 9;
    before, each 0.6 s burst had its own (11 toasts and 11 bells in 15 s)."""
    monkeypatch.setattr(app_module, "BURST_SECONDS", 0.1)
    monkeypatch.setattr(app_module, "ANNOUNCE_EVERY", 60.0)  # the test ends the wait itself (below)
    seen: list[Message] = []
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(100, 30), message_hook=seen.append, notifications=True) as pilot:
        await open_main(app, pilot)
        now = time.time() + 5
        for i in range(1, 8):
            app.post_message(JobChanged(job(900 + i, JobStatus.RUNNING, now)))
        await pilot.pause()
        app.post_message(JobChanged(job(901, JobStatus.COMPLETED, now)))
        await wait_for(lambda: toasts(seen), what="the first toast")
        assert toasts(seen) == ["Job #901 is done: 0 images."]  # a lone job keeps its own sentence
        assert alerts(seen) == ["Job #901 is done: 0 images."]
        for i in range(2, 8):  # the others end one by one, farther apart than a burst: each was a toast before
            app.post_message(JobChanged(job(900 + i, JobStatus.FAILED if i == 7 else JobStatus.COMPLETED, now)))
            await pilot.pause(3 * app_module.BURST_SECONDS)
        assert len(toasts(seen)) == 1 and len(alerts(seen)) == 1
        timer = app._burst_timer
        assert timer is not None and timer._interval > 50  # due ANNOUNCE_EVERY after the first toast
        timer.stop()
        app._announce_finished()  # as the timer would, ANNOUNCE_EVERY after the first toast
        await wait_for(lambda: len(toasts(seen)) == 2, what="the second toast")
        assert toasts(seen)[1:] == ["6 jobs finished: 5 done, 1 failed."]
        assert alerts(seen)[1:] == ["6 jobs finished: 5 done, 1 failed."]


async def test_a_burst_of_completions_is_one_toast_and_one_alert(config, core) -> None:
    seen: list[Message] = []
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(100, 30), message_hook=seen.append, notifications=True) as pilot:
        await open_main(app, pilot)
        now = time.time() + 5
        for i in range(1, 13):
            app.post_message(JobChanged(job(900 + i, JobStatus.RUNNING, now)))
        await pilot.pause()
        for i in range(1, 13):
            app.post_message(JobChanged(job(900 + i, JobStatus.COMPLETED, now)))
        await wait_for(lambda: toasts(seen) and alerts(seen), what="the toast and the alert")
        await wait_for(lambda: app._burst_timer is None, what="the burst announced")
        assert toasts(seen) == ["12 jobs finished: 12 done."]
        assert alerts(seen) == ["12 jobs finished: 12 done."]


async def test_the_preview_on_screen_is_not_redrawn_when_another_job_finishes(config, core) -> None:
    """The preview shows the selected job's image; another job running and ending (a new row above it) does not
    touch it: no new view of its job, no repaint of the pane or its image (a redrawn halfcell image is ~8 KB)."""
    seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(200, 60)) as pilot:
        main = await open_main(app, pilot)
        preview = main.preview
        await wait_for(lambda: preview.job is not None and preview.shown_path is not None, what="the image shown")
        shown = preview.job
        image = preview.query_one("#preview-image")
        await pilot.pause()
        calls: list[str] = []
        for widget, name in ((preview, "pane"), (image, "image")):
            original = widget.refresh

            def counted(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
                calls.append(_name)
                return _original(*args, **kwargs)

            widget.refresh = counted  # type: ignore[method-assign]
        views: list[Job | None] = []
        original_show = preview.show_job
        preview.show_job = lambda j: (views.append(j), original_show(j))[1]  # type: ignore[method-assign]
        now = time.time()
        other = job(shown.id + 100, JobStatus.RUNNING, now)
        app.post_message(JobChanged(other))
        await wait_for(lambda: other.id in main.table.jobs, what="the other job's row")
        app.post_message(JobChanged(job(other.id, JobStatus.COMPLETED, now)))
        await wait_for(lambda: main.table.jobs[other.id].status is JobStatus.COMPLETED, what="the other job done")
        await pilot.pause()
        assert preview.job is not None and preview.job.id == shown.id
        assert views == [] and calls == [], (views, calls)


class BarApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusBar()


async def test_the_status_line_is_drawn_where_and_when_it_changed(monkeypatch) -> None:
    """Counts changing ten times a second were ten whole lines a second (most of the bytes with 40 jobs running):
    the line is drawn at most every EVERY s, the latest counts always, nothing when nothing changed, and then
    only from the first changed cell."""
    config = resolve_config(demo=True)
    tally = SessionTally()
    app = BarApp()
    async with app.run_test(size=(120, 5)) as pilot:
        bar = app.query_one(StatusBar)
        bar.show(config, tally)
        await pilot.pause()
        refreshed: list[tuple[Any, ...]] = []
        original = bar.refresh

        def counted(*regions: Any, **kwargs: Any) -> Any:
            refreshed.append(regions)
            return original(*regions, **kwargs)

        bar.refresh = counted  # type: ignore[method-assign]
        monkeypatch.setattr(bar, "_drawn_at", -1e9)
        bar.show(config, tally)  # the same line: nothing to draw
        assert refreshed == []
        for n in range(1, 11):  # ten changes at once: the first drawn now, the rest once, at the end of EVERY
            tally.see(job(n, JobStatus.RUNNING, time.time()))
            bar.show(config, tally)
        assert len(refreshed) == 1
        await wait_for(lambda: "10 running" in bar.plain(), what="the latest counts drawn")
        assert len(refreshed) == 2
        region = refreshed[1][0]  # "1 running" -> "10 running" ("2" to "9 running" were never drawn)
        line = str(status_text(config, tally))
        assert region.x == line.index("10 running") + 1  # from the first changed cell on: the 0
        assert region.x + region.width == len(line)


@pytest.mark.parametrize(("old", "new", "cells"), [
    ("abc", "abc", None),
    ("1 queued · 2 running", "1 queued · 3 running", (11, 12)),
    ("9 done", "10 done", (0, 7)),
    ("10 done", "9 done", (0, 7)),
    ("狐 1", "狐 2", (3, 4)),
])
def test_changed_cells(old: str, new: str, cells: tuple[int, int] | None) -> None:
    from rich.text import Text

    from seedream_tui.tui.widgets.status_bar import changed_cells

    assert changed_cells(Text(old), Text(new)) == cells


async def test_the_previewed_job_changing_state_repaints_its_line_not_the_pane(config, core) -> None:
    """A live job in the preview goes queued -> running -> downloading: its line of text says so; the pane's
    title stays "Preview #N", so the pane is not repainted (setting the title repainted the whole pane, 40 rows
    of it at 200x60, at each change of the job)."""
    from textual.widgets import Static

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(200, 60)) as pilot:
        main = await open_main(app, pilot)
        preview = main.preview
        now = time.time()
        live = job(700, JobStatus.QUEUED, now)
        app.post_message(JobChanged(live))
        await wait_for(lambda: live.id in main.table.jobs, what="the job's row")
        main.table.select_job(live.id)
        await wait_for(lambda: preview.job is not None and preview.job.id == live.id, what="the job previewed")
        await pilot.pause()
        calls: list[Any] = []
        original = preview.refresh

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls.append(args)
            return original(*args, **kwargs)

        preview.refresh = counted  # type: ignore[method-assign]
        status = preview.query_one("#preview-status", Static)
        for state in (JobStatus.RUNNING, JobStatus.DOWNLOADING):
            app.post_message(JobChanged(job(live.id, state, now)))
            await wait_for(lambda s=state: preview.job is not None and preview.job.status is s, what=f"{state}")
            await pilot.pause()
        assert "Downloading" in str(status.render())
        assert calls == []


async def test_the_previewed_jobs_picture_is_sent_to_the_terminal_once_when_it_finishes(config, core) -> None:
    """The previewed job ends: its picture is drawn once. Textual drew it twice (the layout that shows it, then
    the repaint its widget's new virtual size asked for, a frame later: ~125 KB more at 200x60 in truecolor
    halfcell); ``compat.steady_image_class`` keeps the first only. Read from the frames handed to the driver,
    cell by cell, as a terminal would get them. A frame drawn while the picture had another box (the pane laid
    out again meanwhile, as on a loaded machine: a new size is a new picture) is not counted."""
    from test_toast_leaving import written_cells

    from seedream_tui.tui.widgets.preview import PreviewPane

    app = SeedreamApp(config, core=core)
    sent: list[tuple[Any, str]] = []  # (the picture's box when the frame was drawn, the frame)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await open_main(app, pilot)
        main.editor.cursor_blink = False
        preview = main.query_one(PreviewPane)
        display = app._display

        def keep(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None and preview.shown_path is not None:  # from the moment the picture is set
                box = next((w.region for w in preview.query("#preview-image")), None)
                sent.append((box, renderable.render_segments(app.console)))

        app._display = keep  # type: ignore[method-assign]
        await pilot.press(*"a red fox", "ctrl+s")
        await wait_for(lambda: preview.shown_path is not None, what="the finished job's picture")
        picture = preview.query_one("#preview-image")
        for _ in range(10):
            await pilot.pause()
        box = picture.region
        assert box.area
        writes: dict[tuple[int, int], int] = {}
        for frame_box, frame in sent:
            if frame_box != box:
                continue
            for cell in written_cells(frame):
                if box.contains(*cell):
                    writes[cell] = writes.get(cell, 0) + 1
        assert writes, "the picture was not drawn"
        assert max(writes.values()) == 1, f"picture cells sent up to {max(writes.values())} times"
