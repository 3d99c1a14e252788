"""Issue 18 §5: run times are keyed on a short digest of the options, never on megabytes of image data."""

from __future__ import annotations

from pathlib import Path

from seedream_tui.jobs.engine_runs import RunTimes, options_key
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.store import AsyncHistory

EDIT = "bytedance/seedream-5/lite/edit"


def test_run_time_keys_are_short_digests_without_image_data() -> None:
    image = "data:image/png;base64," + "A" * (2 * 2**20)
    key = options_key({"prompt": "a", "image": [image], "resolution": "2K"})
    assert len(key) <= 64
    assert key == options_key({"prompt": "b", "image": [image], "resolution": "2K"})  # free text does not count
    assert key != options_key({"prompt": "a", "image": [image], "resolution": "4K"})


async def test_the_run_time_cache_keeps_no_image_data(isolated_home: Path) -> None:
    """30 past jobs each sent a 2 MiB data: URI (rows from before references): the cache keeps only keys."""
    history = await AsyncHistory.open(isolated_home / "history.sqlite3")
    try:
        image = "data:image/png;base64," + "A" * (2 * 2**20)
        for n in range(30):
            job = await history.create_job(EDIT, {"prompt": f"p{n}", "image": [image + str(n)]}, now=1000.0 + n)
            await history.update_job(job.id, request_id=f"r{n}", status=JobStatus.COMPLETED,
                                     started_at=1000.0 + n, finished_at=1030.0 + n)
        runs = RunTimes(history, min_samples=3)
        probe = Job(id=999, model_id=EDIT, inputs={"prompt": "new", "image": ["#1"]}, status=JobStatus.RUNNING,
                    created_at=2000.0, updated_at=2000.0)
        assert await runs.expected(probe) == ()  # read (and kept) even though other inputs never stand in
        kept = runs._kept[EDIT][1]
        assert len(kept) == 30
        assert sum(len(key) for key, _ in kept) < 30 * 100  # on the code before: 60 MiB of repr'd base64
    finally:
        await history.close()
