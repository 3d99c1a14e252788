"""Issue 13 §5: a search's matches are counted up to a cap, and the count line says "more than" past it
(counting every match of a million-job history took 55-85 ms; the cap makes it a few ms)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from history_fill import fill_history
from textual.widgets import Input, Static

sys.path.insert(0, str(Path(__file__).parent))

from screens_support import ScreenHost, make_config, open_core, seed_history, wait_for  # noqa: E402

from seedream_tui.jobs import view  # noqa: E402
from seedream_tui.jobs.model import JobStatus  # noqa: E402
from seedream_tui.jobs.store import HistoryStore  # noqa: E402
from seedream_tui.paths import Paths  # noqa: E402
from seedream_tui.tui.screens.history import HistoryScreen  # noqa: E402


def test_a_capped_count_stops_past_the_cap(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    try:
        fill_history(store, (("m", {"prompt": f"a red fox {i}"}, JobStatus.COMPLETED, 1e9 + i)
                                    for i in range(30)))
        assert store.count_jobs(search="fox") == 30
        assert store.count_matches(10, search="fox") == (10, True)  # "more than 10"
        assert store.count_matches(30, search="fox") == (30, False)  # not past it: exact
        assert store.count_matches(10, search="zebra") == (0, False)
        assert store.count_matches(10) == (30, False)  # no filter: the counters answer, exactly
        assert store.count_matches(10, statuses=[JobStatus.COMPLETED]) == (30, False)
    finally:
        store.close()


async def test_the_count_line_says_more_than_past_the_cap(fake_server, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = Paths.default()
    seeded = seed_history(paths, 300)
    whales = sum(1 for job in seeded if "whale" in job.prompt)
    assert whales > 20
    monkeypatch.setattr(view, "COUNT_CAP", 20)
    app = ScreenHost(lambda: open_core(make_config(fake_server.base_url, paths)), HistoryScreen)
    async with app.run_test(size=(80, 24)) as pilot:

        def count_text() -> str:
            return str(app.screen.query_one("#history-count", Static).render())

        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and "in history" in count_text())
        assert count_text() == "300 jobs in history"  # the whole history: exact, whatever its size
        app.screen.query_one("#history-search", Input).value = "whale"
        await wait_for(pilot, lambda: "match" in count_text())
        assert count_text() == "more than 20 jobs match"
