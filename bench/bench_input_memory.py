"""What 30 past edit jobs with a 2 MiB input image each cost (`python bench/bench_input_memory.py`; issue 18 §5).

Before, the history row of an edit held the ``data:`` URI it sent (2.7 MB of base64 for a 2 MiB image), and
the run-time cache keyed each past job on ``repr`` of its options, the URI included: 30 such jobs kept
60 MiB in the cache and stalled the event loop while it was built. Now a row holds a reference (path,
sha256, size) and the cache keys on a 32-character digest, counting an old row's data: URI by its length.

Printed, not asserted: the history file with data: URI rows and with reference rows; the cache's memory
(tracemalloc) and the time to key the rows on the event loop, with the old key on old rows, the new key on
old rows (a history written before this change), and the new key on reference rows.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _common import figure  # noqa: E402

from seedream_tui.jobs import engine_runs  # noqa: E402
from seedream_tui.jobs.model import JobStatus  # noqa: E402
from seedream_tui.jobs.store import AsyncHistory  # noqa: E402

MODEL = "bytedance/seedream-5/lite/edit"
JOBS, IMAGE_BYTES = 30, 2 * 2**20


def old_options_key(inputs: dict[str, Any]) -> str:
    """The key before: repr of every option, images included."""
    return repr(sorted((k, repr(v)) for k, v in inputs.items() if k not in engine_runs._FREE_TEXT))


async def fill(db: Path, form: str) -> None:
    history = await AsyncHistory.open(db)
    try:
        for n in range(JOBS):
            raw = os.urandom(IMAGE_BYTES)
            if form == "data":
                image: Any = "data:image/png;base64," + base64.b64encode(raw).decode("ascii")
            else:
                image = {"file": f"/home/me/photos/p{n}.png", "sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)}
            job = await history.create_job(MODEL, {"prompt": f"edit {n}", "image": [image], "resolution": "2K"},
                                           now=1000.0 + n)
            await history.update_job(job.id, request_id=f"r{n}", status=JobStatus.COMPLETED,
                                     started_at=1000.0 + n, finished_at=1030.0 + n)
    finally:
        await history.close()


async def cache_cost(db: Path, key: Any) -> tuple[float, float]:
    """(MB the cache's keys take, ms the keying held the event loop) for the model's past jobs."""
    history = await AsyncHistory.open(db)
    try:
        past = await history.run_times(MODEL, 100)
        started = time.perf_counter()
        kept = [(key(inputs), seconds) for inputs, seconds in past]
        held = (time.perf_counter() - started) * 1000
        del kept
        tracemalloc.start()
        kept = [(key(inputs), seconds) for inputs, seconds in past]
        size = tracemalloc.get_traced_memory()[0] / 2**20
        tracemalloc.stop()
        assert len(kept) == JOBS
        return size, held
    finally:
        await history.close()


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="seedream-inputs-") as tmp:
        old_rows, ref_rows = Path(tmp) / "data.sqlite3", Path(tmp) / "refs.sqlite3"
        await fill(old_rows, "data")
        await fill(ref_rows, "ref")
        figure("history_mb_30_jobs_data_uri_rows", old_rows.stat().st_size / 2**20)
        figure("history_mb_30_jobs_reference_rows", ref_rows.stat().st_size / 2**20)
        for name, db, key in (("old_key_old_rows", old_rows, old_options_key),
                              ("new_key_old_rows", old_rows, engine_runs.options_key),
                              ("new_key_reference_rows", ref_rows, engine_runs.options_key)):
            size, held = await cache_cost(db, key)
            figure(f"runtime_cache_mb_{name}", size)
            figure(f"runtime_keying_ms_{name}", held)


if __name__ == "__main__":
    asyncio.run(main())
