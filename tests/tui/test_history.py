"""HistoryScreen as a user drives it: paging over thousands of jobs, search, filters, actions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static

sys.path.insert(0, str(Path(__file__).parent))

from screens_support import ScreenHost, exists, make_config, open_core, seed_history, wait_for  # noqa: E402
from tui_support import drawn_settled

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


def table_of(app: ScreenHost) -> DataTable:
    return app.screen.query_one("#history-table", DataTable)


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
        assert str(table.get_row_at(0)[0]) == str(TOTAL)
        assert str(table.get_row_at(1)[0]) == str(TOTAL - 1)
        # moving the cursor near the end fetches the next page (keyset: ids continue below)
        table.move_cursor(row=PAGE_SIZE - 5)
        await wait_for(pilot, lambda: table.row_count == 2 * PAGE_SIZE)
        assert str(table.get_row_at(PAGE_SIZE)[0]) == str(TOTAL - PAGE_SIZE)
        ids = [int(str(table.get_row_at(i)[0])) for i in range(table.row_count)]
        assert ids == sorted(set(ids), reverse=True)
        assert screen.selected_job() is not None


async def test_search_narrows_and_empty_state(seeded: Paths, host) -> None:
    app = host(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await pilot.press("slash")
        await pilot.press(*"whale")
        await wait_for(pilot, lambda: "match" in count_text(app))
        table = table_of(app)
        # every 6th job is a blue whale
        assert count_text(app) == expected(lambda j: "whale" in j.prompt)
        await wait_for(pilot, lambda: table.row_count > 0)
        assert all("whale" in str(table.get_row_at(i)[4]) for i in range(table.row_count))
        # CJK text works too
        search = screen.query_one("#history-search", Input)
        search.value = "雪山"
        await wait_for(pilot, lambda: table.row_count > 0 and "雪山" in str(table.get_row_at(0)[4]))
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
        assert {str(table.get_row_at(i)[2]) for i in range(table.row_count)} == {"failed"}
        models = screen.query_one("#history-model", Select)
        await wait_for(pilot, lambda: len(models._options) > 2)
        models.value = "blackforestlabs/flux-2/flash/text-to-image"
        await wait_for(pilot, lambda: count_text(app) not in (failed, "Counting…"))
        assert count_text(app) == expected(lambda j: j.status is JobStatus.FAILED and j.model_id.startswith("black"))
        # the rows come from a separate query than the count: wait for the first page of the new query
        await wait_for(pilot, lambda: table.row_count > 0 and str(table.get_row_at(0)[3]) == "flux-2/flash")
        assert {str(table.get_row_at(i)[3]) for i in range(table.row_count)} == {"flux-2/flash"}
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
        assert str(job.id) not in {str(table_of(app).get_row_at(i)[0]) for i in range(5)}
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
        app.screen.query_one(Input).value = str(dest)
        await pilot.press("enter")
        await wait_for(pilot, lambda: exists(dest) and any(dest.iterdir()))
        assert [p.name for p in dest.iterdir()] == [Path(job.outputs[0].path or "").name]


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


async def test_enter_opens_detail_and_rerun_appears_live(seeded: Paths, host) -> None:
    app = host(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("r")
        table = table_of(app)
        # the new job appears on top and its status follows the server until it is done
        await wait_for(pilot, lambda: table.row_count == PAGE_SIZE + 1)
        assert str(table.get_row_at(0)[0]) == str(TOTAL + 1)
        await wait_for(pilot, lambda: str(table.get_row_at(0)[2]) == "done")
        # a JobChanged message updates the cells of a shown job in place
        changed = await app.core.history.update_job(TOTAL - 1, status=JobStatus.EXPIRED)
        screen.post_message(JobChanged(changed))
        await wait_for(pilot, lambda: str(table.get_row_at(2)[2]) == "expired")
        assert str(table.get_row_at(2)[0]) == str(TOTAL - 1)


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
