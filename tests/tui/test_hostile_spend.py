"""Costs that add up past the float range (issue 19, point 3): the spend view and the status line say
"out of range" and why, never ``$inf.00``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from textual.widgets import Static

from seedream_tui.tui.widgets.row_table import RowTable

sys.path.insert(0, str(Path(__file__).parent))
from tui_support import open_main, wait_for  # noqa: E402

from seedream_tui.config import resolve_config  # noqa: E402
from seedream_tui.fake.server import FakeServerThread  # noqa: E402
from seedream_tui.jobs.model import Job, JobStatus  # noqa: E402
from seedream_tui.jobs.spend import OUT_OF_RANGE  # noqa: E402
from seedream_tui.jobs.store import HistoryStore  # noqa: E402
from seedream_tui.jobs.tally import SessionTally  # noqa: E402
from seedream_tui.paths import Paths  # noqa: E402
from seedream_tui.tui.app import SeedreamApp  # noqa: E402
from seedream_tui.tui.screens.spend import SpendScreen  # noqa: E402
from seedream_tui.tui.widgets.status_bar import status_text  # noqa: E402

MODEL = "bytedance/seedream-5/lite/text-to-image"


async def test_the_spend_view_says_out_of_range_with_a_sentence(fake_server: FakeServerThread) -> None:
    paths = Paths.default()
    paths.profile_data_dir.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(paths.history_db)
    try:
        for i in range(3):
            job = store.create_job(MODEL, {"prompt": f"p{i}"}, now=time.time())
            store.update_job(job.id, status=JobStatus.COMPLETED, cost=1e308)
    finally:
        store.close()
    from conftest import make_config

    app = SeedreamApp(make_config(fake_server.base_url))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_main(app, pilot)
        await pilot.press("f6")
        await wait_for(lambda: isinstance(app.screen, SpendScreen), what="the spend view")
        totals = app.screen.query_one("#spend-totals", Static)
        await wait_for(lambda: "too large to add up" in str(totals.render()), what="the sentence")
        text = str(totals.render())
        assert OUT_OF_RANGE in text and "inf" not in text.replace("information", "")
        by_model = app.screen.query_one("#spend-by-model", RowTable)
        await wait_for(lambda: by_model.row_count == 1, what="the by-model table")
        assert str(by_model.get_row_at(0)[2]) == OUT_OF_RANGE


def test_the_status_line_never_shows_an_infinite_session_spend() -> None:
    tally = SessionTally()
    for i in range(3):
        running = Job(id=i, model_id=MODEL, inputs={}, status=JobStatus.RUNNING, created_at=0.0, updated_at=0.0)
        tally.see(running)
        tally.see(Job(id=i, model_id=MODEL, inputs={}, status=JobStatus.COMPLETED, created_at=0.0, updated_at=0.0,
                      cost=1e308))
    config = resolve_config(base_url="http://127.0.0.1:9", env={"RUNCOMFY_API_TOKEN": "t"})
    line = status_text(config, tally).plain
    assert "session out of range" in line and "inf" not in line
