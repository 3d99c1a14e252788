"""HistoryScreen as a user drives it: paging over thousands of jobs, search, filters, actions."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input, Select, Static

from seedream_tui.tui.widgets.row_table import RowTable

sys.path.insert(0, str(Path(__file__).parent))

from screens_support import ScreenHost, exists, make_config, open_core, seed_history, wait_for  # noqa: E402
from tui_support import drawn_settled

from seedream_tui.jobs.exporting import slug  # noqa: E402
from seedream_tui.jobs.model import Job, JobStatus  # noqa: E402
from seedream_tui.paths import Paths  # noqa: E402
from seedream_tui.tui.messages import JobChanged  # noqa: E402
from seedream_tui.tui.screens.confirm import ConfirmScreen, PromptScreen  # noqa: E402
from seedream_tui.tui.screens.detail import JobDetailScreen  # noqa: E402
from seedream_tui.tui.screens.history import PAGE_SIZE, HistoryScreen  # noqa: E402

TOTAL = 2500


@pytest.fixture
def seeded() -> Paths:
    paths = Paths.default()
    SEEDED[:] = seed_history(paths, TOTAL)
    return paths


SEEDED: list[Job] = []


def expected(predicate) -> str:
    n = sum(1 for job in SEEDED if predicate(job))
    return f"{n:,} job{'s' if n != 1 else ''} match{'es' if n == 1 else ''}"


@pytest.fixture
def host(fake_server):  # type: ignore[no-untyped-def]
    def make(paths: Paths) -> ScreenHost:
        config = make_config(fake_server.base_url, paths)
        return ScreenHost(lambda: open_core(config), HistoryScreen)

    return make


def table_of(app: ScreenHost) -> RowTable:
    return app.screen.query_one("#history-table", RowTable)


def count_text(app: ScreenHost) -> str:
    return str(app.screen.query_one("#history-count", Static).render())


async def ready(pilot, app: ScreenHost) -> HistoryScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and table_of(app).row_count > 0)
    await wait_for(pilot, lambda: "jobs" in count_text(app))
    assert isinstance(app.screen, HistoryScreen)
    return app.screen


async def test_opens_with_one_page_and_pages_on_demand(seeded: Paths, host) -> None:
    app = host(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        table = table_of(app)
        assert table.row_count == PAGE_SIZE  # not 2,500
        assert count_text(app) == f"{TOTAL:,} jobs in history"
        # newest first
        assert str(table.get_row_at(0)[1]) == str(TOTAL)
        assert str(table.get_row_at(1)[1]) == str(TOTAL - 1)
        # moving the cursor near the end fetches the next page (keyset: ids continue below)
        table.move_cursor(row=PAGE_SIZE - 5)
        await wait_for(pilot, lambda: table.row_count == 2 * PAGE_SIZE)
        assert str(table.get_row_at(PAGE_SIZE)[1]) == str(TOTAL - PAGE_SIZE)
        ids = [int(str(table.get_row_at(i)[1])) for i in range(table.row_count)]
        assert ids == sorted(set(ids), reverse=True)
        assert screen.selected_job() is not None


async def test_search_narrows_and_empty_state(seeded: Paths, host) -> None:
    app = host(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await pilot.press("slash")
        await pilot.press(*"whale")
        # every 6th job is a blue whale (typed slowly, "wh" or "wha" may be searched on the way: the count of the
        # whole word is the one that stays)
        await wait_for(pilot, lambda: count_text(app) == expected(lambda j: "whale" in j.prompt))
        table = table_of(app)
        await wait_for(pilot, lambda: table.row_count > 0)
        assert all("whale" in str(table.get_row_at(i)[5]) for i in range(table.row_count))
        # CJK text works too
        search = screen.query_one("#history-search", Input)
        search.value = "雪山"
        await wait_for(pilot, lambda: table.row_count > 0 and "雪山" in str(table.get_row_at(0)[5]))
        search.value = "zebra"
        await wait_for(pilot, lambda: screen.has_class("-empty") and count_text(app) != "Counting…")
        assert "No jobs match" in str(screen.query_one("#history-empty", Static).render())
        assert count_text(app) == "0 jobs match"


async def test_keys_right_after_slash_land_in_the_search_box(seeded: Paths, host) -> None:
    """'/' then 'fox' in one burst (a paste, tmux send-keys, fast typing over SSH): no letter is lost."""
    from textual import events

    app = host(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        for key, char in [("slash", "/"), ("f", "f"), ("o", "o"), ("x", "x")]:
            event = events.Key(key, char)
            event.set_sender(app)
            app._driver.send_message(event)  # as the terminal driver does; all queued before the first is handled
        search = screen.query_one("#history-search", Input)
        await wait_for(pilot, lambda: search.value == "fox")
        assert screen.focused is search
        await pilot.press("slash", "2")  # in the search box "/" is text, not the binding
        assert search.value == "fox/2"


async def test_status_and_model_filters(seeded: Paths, host) -> None:
    app = host(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        table = table_of(app)
        screen.query_one("#history-status", Select).value = JobStatus.FAILED.value
        await wait_for(pilot, lambda: "match" in count_text(app))
        failed = expected(lambda j: j.status is JobStatus.FAILED)
        assert count_text(app) == failed
        await wait_for(pilot, lambda: table.row_count > 0)
        assert {str(table.get_row_at(i)[3]) for i in range(table.row_count)} == {"failed"}
        models = screen.query_one("#history-model", Select)
        await wait_for(pilot, lambda: len(models._options) > 2)
        models.value = "blackforestlabs/flux-2/flash/text-to-image"
        await wait_for(pilot, lambda: count_text(app) not in (failed, "Counting…"))
        assert count_text(app) == expected(lambda j: j.status is JobStatus.FAILED and j.model_id.startswith("black"))
        # the rows come from a separate query than the count: wait for the first page of the new query
        await wait_for(pilot, lambda: table.row_count > 0 and str(table.get_row_at(0)[4]) == "flux-2/flash")
        assert {str(table.get_row_at(i)[4]) for i in range(table.row_count)} == {"flux-2/flash"}
        # the seeded jobs are from January 2026: nothing was made "today"
        screen.query_one("#history-date", Select).value = "today"
        await wait_for(pilot, lambda: screen.has_class("-empty") and count_text(app) != "Counting…")
        assert count_text(app) == "0 jobs match"
        screen.query_one("#history-date", Select).value = "*"
        await wait_for(pilot, lambda: not screen.has_class("-empty") and table.row_count > 0)


async def test_delete_asks_then_removes_row_and_files(seeded: Paths, host) -> None:
    app = host(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        job = screen.selected_job()
        assert job is not None and job.outputs and job.outputs[0].path
        image = Path(job.outputs[0].path)
        assert exists(image)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")  # refusing keeps everything
        await wait_for(pilot, lambda: app.screen is screen)
        assert exists(image) and table_of(app).row_count == PAGE_SIZE
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: table_of(app).row_count == PAGE_SIZE - 1)
        assert not exists(image)
        assert str(job.id) not in {str(table_of(app).get_row_at(i)[1]) for i in range(5)}
        assert await app.core.history.get(job.id) is None
        await wait_for(pilot, lambda: count_text(app) == f"{TOTAL - 1:,} jobs in history")


async def test_export_writes_files(seeded: Paths, tmp_path: Path, host) -> None:
    app = host(seeded)
    dest = tmp_path / "exported"
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        job = screen.selected_job()
        assert job is not None
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
        # the default folder is ~/Pictures/seedream-tui, not the directory the app was started in
        assert app.screen.query_one(Input).value == str(Path.home() / "Pictures" / "seedream-tui")
        app.screen.query_one(Input).value = str(dest)
        await pilot.press("enter")
        await wait_for(pilot, lambda: exists(dest) and any(dest.iterdir()))
        assert [p.name for p in dest.iterdir()] == [f"{job.id}-job-{job.id}-a-golden-city-at-dawn-wide-shot-1.png"]
        # then it offers to copy the folder's path
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Copy the folder's path?" in str(app.screen.query_one("#confirm-message", Static).render())
        await pilot.press("y")
        await wait_for(pilot, lambda: app.copied == [str(dest)])
        # the next export offers the same folder
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
        assert app.screen.query_one(Input).value == str(dest)


async def test_copy_path_and_url(seeded: Paths, host) -> None:
    app = host(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        job = screen.selected_job()
        assert job is not None
        await pilot.press("c", "u")
        assert app.copied == [job.outputs[0].path, job.outputs[0].url]
        # a job without files says so instead of copying nothing
        table_of(app).move_cursor(row=5)
        await pilot.pause()
        await pilot.press("c")
        assert len(app.copied) == 2
        # marked jobs without files: one sentence for all of them, nothing copied, no folder asked for
        await pilot.press("space", "space", "c", "e")
        notes = [n.message for n in app._notifications]
        assert "The marked jobs have no downloaded image yet." in notes
        assert "None of the marked jobs has a downloaded image to export." in notes
        assert len(app.copied) == 2 and app.screen is screen


async def test_enter_opens_detail_and_rerun_appears_live(seeded: Paths, host) -> None:
    app = host(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("r")  # one key never spends money: a question with the price first
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = str(app.screen.query_one("#confirm-message", Static).render())
        assert question.startswith(f"Submit job #{TOTAL} again?") and "paid" in question
        await pilot.press("y")
        table = table_of(app)
        # the new job appears on top and its status follows the server until it is done
        await wait_for(pilot, lambda: table.row_count == PAGE_SIZE + 1)
        assert str(table.get_row_at(0)[1]) == str(TOTAL + 1)
        await wait_for(pilot, lambda: str(table.get_row_at(0)[3]) == "done")
        # a JobChanged message updates the cells of a shown job in place
        changed = await app.core.history.update_job(TOTAL - 1, status=JobStatus.EXPIRED)
        screen.post_message(JobChanged(changed))
        await wait_for(pilot, lambda: str(table.get_row_at(2)[3]) == "expired")
        assert str(table.get_row_at(2)[1]) == str(TOTAL - 1)


async def test_load_into_editor_posts_message_and_pops(seeded: Paths, host) -> None:
    from seedream_tui.tui.messages import LoadIntoEditor

    app = host(seeded)
    seen = []
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        screen = await ready(pilot, app)
        job = screen.selected_job()
        await pilot.press("l")
        await wait_for(pilot, lambda: app.screen is not screen)
        loads = [m for m in seen if isinstance(m, LoadIntoEditor)]
        assert loads and loads[0].job == job


def ids_in(table: RowTable, rows: int = 5) -> list[int]:
    return [int(str(table.get_row_at(i)[1])) for i in range(min(rows, table.row_count))]


async def test_marked_jobs_are_exported_copied_and_deleted_together(seeded: Paths, tmp_path: Path, host) -> None:
    app = host(seeded)
    dest = tmp_path / "exported"
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        table = table_of(app)
        first_three = ids_in(table, 3)  # the newest three have images (seed_history)
        await pilot.press("space", "space", "space")  # Space marks and steps down: a run of three
        assert list(screen.marked) == first_three
        assert [str(table.get_row_at(i)[0]) for i in range(4)] == ["●", "●", "●", ""]
        assert table.cursor_row == 3
        assert count_text(app).endswith("3 marked (Space unmarks, Esc clears, v compares)")
        # copy: every marked job's path, whatever row the cursor is on
        await pilot.press("c")
        assert app.copied == ["\n".join(job.outputs[0].path or "" for job in screen.marked.values())]
        # export: all their files into one folder
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
        assert "the 3 marked jobs" in str(app.screen.query_one("#prompt-message", Static).render())
        app.screen.query_one(Input).value = str(dest)
        await pilot.press("enter")
        await wait_for(pilot, lambda: exists(dest) and len(list(dest.iterdir())) == 3)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))  # copy the folder's path?
        await pilot.press("n")
        assert sorted(p.name for p in dest.iterdir()) == sorted(
            f"{job.id}-{slug(job.prompt)}-1.png" for job in screen.marked.values()
        )
        # Space on a marked job unmarks it
        await pilot.press("up", "space")  # the third
        assert list(screen.marked) == first_three[:2]
        # marks survive a search: mark in one view, act in another
        await pilot.press("slash", *"whale", "enter")
        await wait_for(pilot, lambda: "match" in count_text(app) and "2 marked" in count_text(app))
        screen.query_one("#history-search", Input).value = ""
        await wait_for(pilot, lambda: "in history" in count_text(app) and table.row_count > 0)
        assert [str(table.get_row_at(i)[0]) for i in range(3)] == ["●", "●", ""]
        # delete: one question for all of them; refusing keeps everything
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = str(app.screen.query_one("#confirm-message", Static).render())
        assert question.startswith("Delete the 2 marked jobs and their 2 image files?")
        await pilot.press("y")
        await wait_for(pilot, lambda: table.row_count == PAGE_SIZE - 2)
        assert ids_in(table, 1) == [first_three[2]] and not screen.marked
        for job_id in first_three[:2]:
            assert await app.core.history.get(job_id) is None
        await wait_for(pilot, lambda: count_text(app) == f"{TOTAL - 2:,} jobs in history")


async def test_rerun_of_marked_jobs_asks_once_then_submits_each(seeded: Paths, host) -> None:
    app = host(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        table = table_of(app)
        await pilot.press("space", "down", "space")  # rows 0 and 2
        marked = list(screen.marked.values())
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = str(app.screen.query_one("#confirm-message", Static).render())
        assert question.startswith("Submit the 2 marked jobs again?")
        await pilot.press("n")  # refusing submits nothing
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: table.row_count == PAGE_SIZE + 2)
        new = [await app.core.history.get(TOTAL + n) for n in (1, 2)]
        assert [job.inputs["prompt"] for job in new if job] == [job.prompt for job in marked]


async def test_home_and_end_go_to_the_first_and_last_row(seeded: Paths, host) -> None:
    """DataTable's own Home/End visit columns; ctrl+home/ctrl+end rarely survive tmux."""
    app = host(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        table = table_of(app)
        await pilot.press("end")
        assert table.cursor_row == PAGE_SIZE - 1  # the last row loaded; the next page is on its way
        await wait_for(pilot, lambda: table.row_count == 2 * PAGE_SIZE)
        await pilot.press("home")
        assert table.cursor_row == 0


async def test_escape_clears_the_marks_before_leaving(seeded: Paths, host) -> None:
    app = host(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await pilot.press("space", "space")
        assert len(screen.marked) == 2
        await pilot.press("escape")
        assert app.screen is screen and not screen.marked
        assert all(str(table_of(app).get_row_at(i)[0]) == "" for i in range(3))
        assert "marked" not in count_text(app)


async def test_compare_marked_jobs_side_by_side(seeded: Paths, host) -> None:
    from seedream_tui.tui.screens.compare import CompareScreen

    app = host(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await pilot.press("v")  # nothing marked: says how, opens nothing
        assert app.screen is screen
        await pilot.press("space", "down", "v")  # one marked: compared with the job under the cursor
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        newest, second = SEEDED[0], SEEDED[2]
        assert [job.id for job in compare.jobs] == [newest.id, second.id]
        title = str(compare.query_one("#compare-title", Static).render())
        assert title == f"Comparing jobs #{newest.id}, #{second.id}: 1 input differs"
        console = Console(width=76, record=True, file=io.StringIO())
        console.print(compare.table())
        lines = console.export_text().splitlines()
        assert lines[0].split() == [f"#{newest.id}", f"#{second.id}"]
        assert lines[1].split()[:3] == ["≠", "prompt", "job"]  # the one difference, first and marked
        facts = {line.split()[0]: line.split()[1:] for line in lines[3:] if line.strip()}
        assert facts["status"] == ["done", "done"] and facts["images"] == ["64×48", "64×48"]
        assert facts["≠"][0] == "model"  # every 5th seeded job is a flux job: a different model is pointed out
        # each column shows its job's image once decoded
        await wait_for(pilot, lambda: all(p.has_class("-has-image") for p in compare.query("JobPreview")))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert list(screen.marked) == [newest.id]  # the marks and the cursor are as they were
        assert screen.selected_job() is not None and screen.selected_job().id == second.id  # type: ignore[union-attr]


async def test_empty_history_says_so(host) -> None:
    app = host(Paths.default())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.has_class("-empty"))
        assert "No jobs yet" in str(app.screen.query_one("#history-empty", Static).render())


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_history_snapshot(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    paths = Paths.default()
    seed_history(paths, 300)
    config = make_config("http://127.0.0.1:1", paths)
    app = ScreenHost(lambda: open_core(config), HistoryScreen)

    async def ready_(pilot) -> None:  # type: ignore[no-untyped-def]
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and "300 jobs" in count_text(app))
        await wait_for(pilot, lambda: app.screen.query_one("#history-preview").has_class("-has-image"))
        await wait_for(pilot, lambda: len(app.screen.query_one("#history-model", Select)._options) == 3)
        for field in app.screen.query(Input):
            field.cursor_blink = False
        await drawn_settled(app.screen)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=ready_)


def test_compare_rows_put_the_differences_first() -> None:
    from seedream_tui.tui.screens.compare import NOT_SET, input_rows

    def job(job_id: int, **inputs: object) -> Job:
        return Job(job_id, "m", dict(inputs), JobStatus.COMPLETED, 0.0, 0.0)

    rows = input_rows([
        job(1, prompt="a fox", size="2K", seed=7, watermark=False),
        job(2, prompt="a fox", size="4K", seed=7, watermark=True),
        job(3, prompt="a fox", size="2K", seed=7),
    ])
    assert rows == [
        ("size", ["2K", "4K", "2K"], True),
        ("watermark", ["false", "true", NOT_SET], True),  # not sent: the model's default applied
        ("prompt", ["a fox"] * 3, False),
        ("seed", ["7"] * 3, False),
    ]
    assert all(not differs for _key, _values, differs in input_rows([job(1, prompt="x"), job(2, prompt="x")]))
