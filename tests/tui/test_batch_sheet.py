"""Batches in the TUI: a batch folded into one row of the job table (with its progress), and a batch opened
as a contact sheet (tiles laid out by the swept values, labelled; enter views a tile; q goes back)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static
from tui_support import SEED_TIME, gradient, open_main, seed_finished_jobs, wait_for

from seedream_tui.jobs.model import JobStatus, OutputFile
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.main import MainScreen

SIZES = ("2K", "3K", "2048x2048 (1:1)")
MODEL = "bytedance/seedream-5/lite/text-to-image"


def seed_batch(paths: Any) -> tuple[int, list[int]]:
    """A finished batch swept over resolution × repeat (3 × 2 places): four done (with images, $0.03 each),
    one failed, one place never filled. (batch id, job ids in plan order)."""
    paths.profile_data_dir.mkdir(parents=True, exist_ok=True)
    paths.images_dir.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(paths.history_db)
    ids = []
    try:
        plan = {"source": "submit", "label": "a red fox in the snow",
                "axes": [{"key": "resolution", "values": list(SIZES)}, {"key": "repeat", "values": [1, 2]}]}
        batch = store.create_batch(label="a red fox in the snow", plan=plan, now=SEED_TIME)
        place = 0
        for res in SIZES:
            for rep in (1, 2):
                if (res, rep) == ("3K", 2):
                    place += 1
                    continue  # never made: a missing cell
                created = SEED_TIME + 10 * place
                job = store.create_job(MODEL, {"prompt": "a red fox in the snow", "resolution": res},
                                       base_url="http://127.0.0.1:9", now=created, batch_id=batch.id,
                                       batch_place=place, variant={"resolution": res, "repeat": rep})
                failed = (res, rep) == ("2K", 2)
                if not failed:
                    target = paths.images_dir / f"batch-{job.id}.png"
                    gradient(target, (160, 120), 37 * place)
                    store.set_outputs(job.id, [OutputFile(0, f"https://cdn.example/{job.id}.png", str(target),
                                                          160, 120, "png")])
                store.update_job(job.id, status=JobStatus.FAILED if failed else JobStatus.COMPLETED,
                                 request_id=f"req-b{job.id}", submitted_at=created + 1, started_at=created + 2,
                                 finished_at=created + 8, updated_at=created + 9, cost=None if failed else 0.03,
                                 error="The model could not generate an image for this prompt." if failed else None)
                ids.append(job.id)
                place += 1
    finally:
        store.close()
    return batch.id, ids


def _row_texts(table: Any) -> list[str]:
    return [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_fold_and_unfold_a_batch_shows_its_progress(config, core) -> None:
    batch_id, ids = seed_batch(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(100, 30)) as pilot:
        main = await open_main(app, pilot)
        table = main.table
        await wait_for(lambda: set(ids) <= set(table.jobs), what="the batch's jobs in the table")
        rows_before = table.row_count
        table.focus()
        table.select_job(ids[2])
        await pilot.press("z")
        await wait_for(lambda: table.row_count == rows_before - len(ids) + 1, what="the batch folded")
        assert table.selected_batch_id == batch_id and table.selected_job_id is None
        folded = [t for t in _row_texts(table) if t.startswith(f"B{batch_id}")]
        assert len(folded) == 1 and "4/5 done · 1 failed · $0.12" in folded[0], folded
        # a change to one of its jobs is counted in the row, from the job itself (no store read)
        changed = table.jobs[ids[0]].evolve(status=JobStatus.FAILED, cost=None)
        table.upsert(changed)
        assert "3/5 done · 2 failed · $0.09" in next(t for t in _row_texts(table) if t.startswith(f"B{batch_id}"))
        await pilot.press("z")
        await wait_for(lambda: table.row_count == rows_before, what="the batch unfolded")
        assert not any(t.startswith("B") for t in _row_texts(table))
        assert table.selected_job_id == ids[-1]
        # a job outside any batch: a sentence, nothing folds
        loose = [j for j in table.jobs.values() if j.batch_id is None]
        if loose:
            table.select_job(loose[0].id)
            await pilot.press("z")
            assert table.row_count == rows_before


async def test_a_batch_opens_as_a_labelled_contact_sheet(config, core) -> None:
    from seedream_tui.tui.screens.sheet import BatchSheetScreen
    from seedream_tui.tui.screens.viewer import ViewerScreen

    batch_id, ids = seed_batch(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        table = main.table
        await wait_for(lambda: set(ids) <= set(table.jobs), what="the batch's jobs")
        table.focus()
        table.select_job(ids[0])
        await pilot.press("b")
        await wait_for(lambda: isinstance(app.screen, BatchSheetScreen) and app.screen.drawn(), what="the sheet")
        sheet = app.screen
        assert isinstance(sheet, BatchSheetScreen)
        labels = [str(w.render()) for w in sheet.query(Static).filter(".sheet-col")]
        assert labels == list(SIZES)
        rows = [str(w.render()) for w in sheet.query(Static).filter(".sheet-row")]
        assert rows == ["1", "2"]
        grid = [[t.job.id if t.job else None for t in row] for row in sheet.rows]
        # columns: resolution; rows: repeat; 3K × 2 was never made
        assert grid == [[ids[0], ids[2], ids[3]], [ids[1], None, ids[4]]]
        assert "4/5 done · 1 failed · $0.12" in str(sheet.query_one("#sheet-title").render())
        await pilot.press("down")  # to the failed job, then on to the missing place
        assert sheet.cursor == (1, 0)
        await pilot.press("right")
        await pilot.press("enter")  # the missing place: nothing to view
        assert app.screen is sheet
        await pilot.press("right", "enter")
        await wait_for(lambda: isinstance(app.screen, ViewerScreen), what="the viewer")
        assert app.screen.job.id == ids[4]  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_for(lambda: app.screen is sheet, what="back to the sheet")
        await pilot.press("q")
        await wait_for(lambda: isinstance(app.screen, MainScreen), what="back to the main screen")
        # a folded batch's row opens its sheet with enter
        table.select_job(ids[0])
        await pilot.press("z", "enter")
        await wait_for(lambda: isinstance(app.screen, BatchSheetScreen), what="the sheet from the folded row")
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, MainScreen), what="back again")


async def test_history_shows_a_batch_and_reruns_its_failed_jobs_after_asking(config, core) -> None:
    from textual.widgets import Input

    from seedream_tui.tui.screens.confirm import ConfirmScreen
    from seedream_tui.tui.screens.history import HistoryScreen
    from seedream_tui.tui.screens.sheet import BatchSheetScreen
    from seedream_tui.tui.widgets.row_table import RowTable

    loose = seed_finished_jobs(config.paths)  # jobs outside any batch
    batch_id, ids = seed_batch(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_main(app, pilot)
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen) and app.screen.is_mounted, what="history")
        history = app.screen
        table = history.query_one(RowTable)
        await wait_for(lambda: table.row_count == len(ids) + len(loose), what="the history's rows")
        history.move_cursor_to(ids[1])
        await pilot.press("B")
        assert history.query_one("#history-search", Input).value == f"batch:{batch_id}"
        await wait_for(lambda: table.row_count == len(ids), what="only the batch's jobs")
        history.move_cursor_to(ids[1])
        await pilot.press("b")
        await wait_for(lambda: isinstance(app.screen, BatchSheetScreen) and app.screen.drawn(), what="the sheet")
        sheet = app.screen
        await pilot.press("r")  # its failed jobs again: asks first, with the price
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), what="the money question")
        question = app.screen.message  # type: ignore[attr-defined]
        assert f"Run batch {batch_id}'s 1 failed jobs again" in question and "paid as such" in question
        before = await core.history.list_batches()
        await pilot.press("n")  # no: nothing is sent
        await wait_for(lambda: app.screen is sheet, what="back to the sheet")
        assert await core.history.list_batches() == before
        await pilot.press("r")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), what="the question again")
        await pilot.press("y")

        async def new_batch() -> Any:
            batches = await core.history.list_batches()
            return batches[0] if batches and batches[0].id != batch_id else None

        made = None
        for _ in range(200):  # at most ~10 s
            made = await new_batch()
            if made is not None:
                break
            await pilot.pause(0.05)
        assert made is not None, "the re-run made no batch"
        jobs = await core.history.batch_jobs(made.id)
        assert [j.variant for j in jobs] == [{"resolution": "2K", "repeat": 2}]  # exactly the failed one
        # its job finished before the app closes (a job changing while the app shuts down is not this test's)
        job_id = jobs[0].id
        finished: list[Any] = []

        async def probe() -> None:
            job = await core.history.get(job_id)
            if job is not None and job.status.terminal:
                finished.append(job)

        for _ in range(400):  # at most ~20 s
            await probe()
            if finished:
                break
            await pilot.pause(0.05)
        assert finished and finished[0].status is JobStatus.COMPLETED


async def test_the_sheet_closed_at_once_or_resized_while_it_loads(config, core) -> None:
    """Closed before its batch is read or its pictures decoded, shrunk and grown as it builds: no error (its
    workers end with it; tiles are the screen's own list, never looked for with a query)."""
    from seedream_tui.tui.screens.sheet import BatchSheetScreen

    batch_id, _ = seed_batch(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        for _ in range(3):
            app.push_screen(BatchSheetScreen(core, batch_id))
            await pilot.press("q")
            await wait_for(lambda: app.screen is main, what="back at once")
        app.push_screen(BatchSheetScreen(core, batch_id))
        for size in ((40, 12), (120, 40), (60, 20)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
        await wait_for(lambda: isinstance(app.screen, BatchSheetScreen) and app.screen.drawn(), what="the sheet")
        sheet = app.screen
        assert sheet._tile_size[1] >= 5
        await pilot.press("escape")
        await wait_for(lambda: app.screen is main, what="back")
        missing = BatchSheetScreen(core, 4242)  # a batch that is not there: a sentence, no crash
        app.push_screen(missing)
        await wait_for(lambda: missing.is_mounted and "There is no batch 4242" in str(missing._word_label.render()),
                       what="the sentence")
        await pilot.press("q")
        await wait_for(lambda: app.screen is main, what="back again")


async def test_the_tiles_are_fitted_again_when_the_sheets_body_changes_size(config, core) -> None:
    """The body can change size without the screen (the key hints taking a second line, the title going): the
    tiles are fitted to it again. Before, they kept the size of the first layout (a row too tall in one run of
    two, a snapshot that failed at random)."""
    from seedream_tui.tui.screens.sheet import BatchSheetScreen

    batch_id, _ids = seed_batch(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_main(app, pilot)
        app.push_screen(BatchSheetScreen(app.core, batch_id))
        await wait_for(lambda: isinstance(app.screen, BatchSheetScreen) and app.screen.drawn(), what="the sheet")
        sheet = app.screen
        before = sheet._tile_size
        sheet.query_one("#sheet-title").styles.height = 6  # the body loses five rows; the screen keeps its size
        await wait_for(lambda: sheet._tile_size[1] < before[1], what=f"shorter tiles than {before}")
        assert sheet._tile_size == sheet._fit_tiles()
