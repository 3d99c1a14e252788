"""The main screen driven like a user, against a real Core on the fake server (one worker, so jobs queue)."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import Select
from tui_support import open_main, wait_for

from seedream_tui.jobs.model import JobStatus
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.messages import Alerted, JobChanged
from seedream_tui.tui.widgets.job_table import JobTable
from seedream_tui.tui.widgets.options import OptionsPanel
from seedream_tui.tui.widgets.preview import PreviewPane
from seedream_tui.tui.widgets.prompt_editor import PromptArea

start = open_main


async def test_submit_queue_cancel_complete(config, core) -> None:
    seen: list[Message] = []
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        main = await start(app, pilot)
        editor = main.query_one(PromptArea)
        editor.focus()
        editor.clear()
        await pilot.press(*"a red fox")
        assert editor.text == "a red fox"
        options = main.query_one(OptionsPanel)
        assert options.field("max_images").disabled
        options.field("sequential_image_generation").query_one(Select).value = "auto"
        await wait_for(lambda: not options.field("max_images").disabled, what="max_images enabled")
        options.field("sequential_image_generation").query_one(Select).value = "disabled"
        await wait_for(lambda: options.field("max_images").disabled, what="max_images disabled again")

        table = main.query_one(JobTable)
        await pilot.press("ctrl+s")  # the binding (the other two through the action, as fast as a user can)
        main.editor.load_text(main.editor.text + " again")  # the same input twice asks first (paid)
        main.action_submit()
        main.editor.load_text(main.editor.text + " again")  # the same input twice asks first (paid)
        main.action_submit()
        await wait_for(lambda: table.row_count == 3, what="three rows")
        ids = sorted(table.jobs)
        assert table.get_row_at(0)[0] == ids[-1]  # newest on top
        await wait_for(lambda: table.selected_job_id == ids[-1], what="the cursor on the newest job")
        await wait_for(lambda: table.jobs[ids[-1]].status is JobStatus.QUEUED, what="the last job queued")
        table.focus()
        await pilot.press("c")
        await wait_for(lambda: table.jobs[ids[-1]].status is JobStatus.CANCELLED, what="cancellation")
        await wait_for(
            lambda: all(table.jobs[i].status is JobStatus.COMPLETED for i in ids[:2]), limit=15, what="completion"
        )
        assert table.row_count == 3
        changed = [m for m in seen if isinstance(m, JobChanged)]
        assert {m.job.id for m in changed} >= set(ids)
        table.select_job(ids[0])
        preview = main.query_one(PreviewPane)
        await wait_for(lambda: preview.shown_path is not None, what="an image in the preview")
        # finished jobs are announced together, a moment after the last of a burst (see BURST_SECONDS)
        alerts = lambda: [m.text for m in seen if isinstance(m, Alerted)]  # noqa: E731
        await wait_for(alerts, what="the bell and OSC 9 alert")
        assert "done" in alerts()[0]
