"""A stand-in for an app sending a batch, for the local queue's crash test:
``python child_queue.py BASE_URL COUNT``.

It opens the job core on ``$SEEDREAM_TUI_HOME`` against the fake server the test runs, writes a batch of
COUNT jobs sent one at a time (``max_live=1``), prints ``BATCH <id>`` and keeps sending and polling until the
test kills it with SIGKILL. Also the plans the local queue's tests submit (:func:`fox_plan`).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import MODEL, open_core  # noqa: E402

from seedream_tui.batch.plan import Axis, BatchPlan, PlannedJob, numbered  # noqa: E402
from seedream_tui.catalog.pricing import Quote  # noqa: E402


def fox_plan(count: int, *, price: float | None = 0.03, word: str = "fox") -> BatchPlan:
    """``count`` jobs of one idea (``a fox, take N``), each quoted ``price`` (None: unknown)."""
    jobs = [
        PlannedJob(MODEL, {"prompt": f"a {word}, take {i + 1}"}, Quote(price), variant={"repeat": i + 1})
        for i in range(count)
    ]
    return BatchPlan(numbered(jobs), axes=(Axis("repeat", tuple(range(1, count + 1))),), label=f"a {word}")


async def main(base_url: str, count: int) -> None:
    core = await open_core(base_url)
    batch, _ = await core.submit_batch(fox_plan(count), max_live=1)
    print(f"BATCH {batch.id}", flush=True)
    await asyncio.Event().wait()  # send and poll until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
