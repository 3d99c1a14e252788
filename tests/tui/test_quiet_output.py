"""Issue 13 §1: what the job table sends to the terminal while jobs run (a slow SSH link carries every byte).

A tick sends the changed Time cells alone (not the table, not the rest of the row: Textual writes a repainted
region from the widget's left edge, so Time comes right after the id, before the status and the prompt), a
tick that changes no text sends nothing, and elapsed time past a minute steps coarsely. The frames are the ones
Textual hands its driver, rendered to the bytes a terminal would get.
"""

from __future__ import annotations

from typing import Any

from history_fill import fill_history
from textual.app import App, ComposeResult
from tui_support import wait_for

from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.tui.screens.main import INITIAL_JOBS, read_initial
from seedream_tui.tui.widgets.job_table import JobTable, format_live_elapsed
from seedream_tui.tui.widgets.row_table import RowTable

T0 = 1_800_000_000.0
PROMPT = "a lighthouse on a basalt cliff at dusk"


def _job(job_id: int, status: JobStatus) -> Job:
    return Job(
        id=job_id, model_id="m", inputs={"prompt": f"{PROMPT} {job_id}"}, status=status, created_at=T0,
        updated_at=T0, submitted_at=T0, finished_at=T0 + 9 if status.terminal else None,
    )


class TableApp(App[None]):
    """One job table, with a clock the test turns, and every frame sent to the terminal kept as text."""

    CSS = "JobTable { height: 1fr; }"  # as on the main screen: a size that does not follow the rows

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.sent: list[str] = []

    def compose(self) -> ComposeResult:
        yield JobTable(clock=lambda: self.now)

    def _display(self, screen: Any, renderable: Any) -> None:
        super()._display(screen, renderable)
        if renderable is not None:
            self.sent.append(renderable.render_segments(self.console))


async def _tick_to(app: TableApp, pilot: Any, seconds: float) -> str:
    """Move the clock to ``T0 + seconds``, tick, and return what went to the terminal for it."""
    app.sent.clear()
    app.now = T0 + seconds
    app.query_one(JobTable).tick()
    for _ in range(3):
        await pilot.pause()
    return "".join(app.sent)


async def _settled(app: TableApp, pilot: Any) -> None:
    """Wait until the first frames (everything drawn, focus given) are over: a tick at T0 sends nothing."""
    table = app.query_one(JobTable)
    await wait_for(lambda: table.row_count, what="the rows")
    app.sent.clear()
    table.refresh()  # one whole frame now, which takes along any repaint still pending from the start
    await wait_for(lambda: app.sent, what="a whole frame")
    for _ in range(100):
        if await _tick_to(app, pilot, 0) == "":
            return
    raise AssertionError("the table never stopped drawing")


async def test_a_tick_sends_the_changed_time_cells_alone() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(JobTable)
        table.set_jobs([_job(1, JobStatus.COMPLETED), _job(2, JobStatus.RUNNING), _job(3, JobStatus.QUEUED)])
        await _settled(app, pilot)

        sent = await _tick_to(app, pilot, 5)
        assert sent.count("5s") == 2, sent  # the two live rows' Time cells
        # nothing else: not the rows' other cells, not the finished row, not the table
        for other in (PROMPT, "running", "queued", "Status", "9s"):
            assert other not in sent, (other, sent)
        assert len(sent) < 400, len(sent)

        assert await _tick_to(app, pilot, 5.6) == ""  # same text: nothing written at all
        assert "1m05" in await _tick_to(app, pilot, 65)
        assert await _tick_to(app, pilot, 68) == ""  # past a minute, time steps by 5 s
        assert "1m10" in await _tick_to(app, pilot, 70)


async def test_a_changed_job_repaints_only_its_changed_cells() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(JobTable)
        table.set_jobs([_job(1, JobStatus.SUBMITTING), _job(2, JobStatus.SUBMITTING)])
        await _settled(app, pilot)
        table.upsert(_job(2, JobStatus.SUBMITTING))  # a poll that changed nothing shown
        await pilot.pause()
        assert "".join(app.sent) == ""
        table.upsert(_job(2, JobStatus.QUEUED))
        await wait_for(lambda: "queued" in "".join(app.sent), what="the new status drawn")
        assert PROMPT not in "".join(app.sent)
        # a status wider than the column widens it (the whole table moves): shown whole, not cut
        table.upsert(_job(1, JobStatus.DOWNLOADING))
        await wait_for(lambda: "downloading" in "".join(app.sent), what="the wider status drawn whole")


def test_live_elapsed_is_coarser_as_it_grows() -> None:
    shown = {s: format_live_elapsed(s) for s in (0, 59, 60, 64, 65, 599, 600, 659, 3599, 3600, 3659, 36000)}
    assert shown == {
        0: "0s", 59: "59s", 60: "1m00", 64: "1m00", 65: "1m05", 599: "9m55", 600: "10m", 659: "10m",
        3599: "59m", 3600: "1h00", 3659: "1h00", 36000: "10h00",
    }
    # at most four characters until ten hours: the Time column never has to widen (it is not re-measured)
    assert max(len(format_live_elapsed(s)) for s in range(0, 36000, 7)) == 4


async def test_live_jobs_older_than_the_first_page_are_listed_from_the_start(config, core) -> None:
    config.paths.profile_data_dir.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(config.paths.history_db)
    try:
        old = store.create_job("m", {"prompt": "an old live job"})
        store.update_job(old.id, status=JobStatus.QUEUED, request_id="req-old")
        fill_history(store, (("m", {"prompt": f"job {i}"}, JobStatus.COMPLETED, T0 + i)
                                    for i in range(INITIAL_JOBS + 5)))
    finally:
        store.close()
    initial = await read_initial(core)
    assert len(initial.jobs) == INITIAL_JOBS and old.id not in {job.id for job in initial.jobs}
    assert [job.id for job in initial.older_live] == [old.id]


async def test_a_tick_over_many_live_rows_keeps_what_was_drawn_of_the_rest(monkeypatch: Any) -> None:
    """A tick draws the lines of the rows whose time changed, in view, and nothing else: with every visible
    row drawn anew per changed cell (DataTable's caches), a tick over 500 live rows blocked the event loop
    60-90 ms (a typed key waited)."""
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(JobTable)
        table.set_jobs([_job(i, JobStatus.RUNNING) for i in range(1, 301)])
        await _settled(app, pilot)
        drawn: list[object] = []
        original = RowTable._line

        def counting(self: Any, cells: Any, *args: Any) -> Any:
            drawn.append(cells[0])
            return original(self, cells, *args)

        monkeypatch.setattr(RowTable, "_line", counting)
        app.sent.clear()
        app.now = T0 + 7
        table.tick()
        await wait_for(lambda: "7s" in "".join(app.sent), what="the new times drawn")
        assert 0 < len(drawn) <= len(table.rows_in_view())  # the changed rows in view, each once
        drawn.clear()
        table.tick()  # the same times again: nothing drawn, nothing sent
        await pilot.pause()
        assert drawn == []
        assert "0s" not in "".join(app.sent)
        top = table.scroll_offset.y
        in_view = [i for i in range(table.row_count) if top <= i < top + table.size.height - 2]
        assert in_view and all(str(table.get_cell(table.row_key_at(i), "elapsed")) == "7s" for i in in_view)
        # a tick costs the rows on screen only: the 280 others are brought up to date as they scroll in
        far = table.row_count - 1 if top < table.row_count // 2 else 0
        assert str(table.get_cell(table.row_key_at(far), "elapsed")) == "0s"
        app.sent.clear()
        if far:
            table.scroll_end(animate=False)
        else:
            table.scroll_home(animate=False)
        await pilot.pause()
        assert str(table.get_cell(table.row_key_at(far), "elapsed")) == "7s"
        await wait_for(lambda: "7s" in "".join(app.sent) and "0s" not in "".join(app.sent),
                       what="the scrolled-in rows drawn with their time")


async def test_time_ticks_by_itself_once_a_live_job_arrives() -> None:
    """The ticker sleeps while every row is finished (no wake-ups for nothing) and wakes with a live one."""
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(JobTable)
        table.set_jobs([_job(1, JobStatus.COMPLETED)])
        await _settled(app, pilot)
        table.upsert(_job(2, JobStatus.RUNNING))
        app.now = T0 + 3
        await wait_for(lambda: str(table.get_cell(table.row_key_at(0), "elapsed")) == "3s", what="the time moved without a manual tick")


class PaneApp(App[None]):
    """The preview pane and the status bar beside a scrolling job table, as on the main screen."""

    def compose(self) -> ComposeResult:
        from seedream_tui.tui.widgets.preview import PreviewPane
        from seedream_tui.tui.widgets.status_bar import StatusBar

        yield PreviewPane(id="preview")
        yield StatusBar()


async def test_the_elapsed_tick_of_a_previewed_live_job_and_the_status_line_need_no_layout() -> None:
    """A layout pass of the screen redraws every scrollbar on it (a whole column of a long job table, each
    second, over SSH): the preview's one status line ticking and the status bar changing need none."""
    from textual.widgets import Static

    from seedream_tui.config import resolve_config
    from seedream_tui.jobs.tally import SessionTally
    from seedream_tui.tui.widgets.preview import PreviewPane
    from seedream_tui.tui.widgets.status_bar import StatusBar

    app = PaneApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(PreviewPane)
        status = pane.query_one("#preview-status", Static)
        pane._set_status("Running… 5s")  # what the one-second tick of a live job writes
        await pilot.pause()
        pane._set_status("Running… 6s")
        assert "6s" in str(status.render())
        assert not status._layout_required  # redrawn in place: no layout pass
        # a longer text that wraps to more rows does ask for one
        pane._set_status("Failed: " + "the server said no " * 20)
        assert status._layout_required
        await pilot.pause()
        bar = app.query_one(StatusBar)
        tally = SessionTally()
        bar.show(resolve_config(demo=True), tally)
        assert not bar._layout_required
