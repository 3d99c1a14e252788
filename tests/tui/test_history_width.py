"""History that fits its width: filters under the search box below 100 columns, the prompt column visible
and cut with "…", the id column as wide as the largest id, no model column when only one model is used."""

from __future__ import annotations

import pytest
from history_fill import fill_history
from screens_support import ScreenHost, make_config, open_core, seed_history, wait_for
from textual.widgets import Input

from seedream_tui.paths import Paths
from seedream_tui.tui.screens.history import HistoryScreen
from seedream_tui.tui.widgets.row_table import RowTable


async def opened(pilot, app: ScreenHost) -> HistoryScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.view.jobs, within=10)
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    table = screen.query_one(RowTable)
    await wait_for(pilot, lambda: table.row_count > 0, within=10)
    await pilot.pause()
    return screen


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (120, 30)])
async def test_filters_wrap_and_the_prompt_stays_visible(fake_server, size) -> None:
    paths = Paths.default()
    seed_history(paths, 120)
    app = ScreenHost(lambda: open_core(make_config(fake_server.base_url, paths)), HistoryScreen)
    async with app.run_test(size=size) as pilot:
        screen = await opened(pilot, app)
        search = screen.query_one("#history-search", Input)
        status = screen.query_one("#history-status")
        if size[0] < 100:
            assert status.region.y > search.region.y  # under the search box
            assert search.region.width >= size[0] - 4
        else:
            assert status.region.y == search.region.y
        table = screen.query_one(RowTable)
        assert table.columns["id"].width == 3  # "120"
        # the prompt column starts inside the table's view and its cells end with "…" when cut
        offsets = 0
        for key, column in table.columns.items():
            if key == "prompt":
                break
            offsets += table.render_width(column)
        assert offsets < table.scrollable_content_region.width - 10
        # and the first row's prompt shows, cut with "…" where it does not fit
        prompt = table.columns["prompt"]
        assert prompt.width >= 12 and offsets + table.render_width(prompt) <= table.scrollable_content_region.width


async def test_one_model_in_history_drops_the_model_column(fake_server) -> None:
    from seedream_tui import DEFAULT_MODEL_ID
    from seedream_tui.jobs.model import JobStatus
    from seedream_tui.jobs.store import HistoryStore

    paths = Paths.default()
    paths.profile_data_dir.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(paths.history_db)
    fill_history(store, [(DEFAULT_MODEL_ID, {"prompt": f"p {i}"}, JobStatus.COMPLETED, 1000.0 + i) for i in range(5)])
    store.close()
    app = ScreenHost(lambda: open_core(make_config(fake_server.base_url, paths)), HistoryScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot, app)
        table = screen.query_one(RowTable)
        await wait_for(pilot, lambda: "model" not in table.columns, within=10)
        assert [str(c) for c in table.get_row_at(0)][-1] == "p 4"
