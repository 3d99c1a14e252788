"""One of many processes on one history: ``python swarm_child.py BASE_URL NAME COUNT LEASE SKEW``.

It patches its own wall clock SKEW seconds away from the real one (as faketime would: only this process's
``time.time`` is wrong), opens the job core on ``$SEEDREAM_TUI_HOME`` with its own API token
(``token-NAME``) and a polling lease of LEASE seconds, resumes what is live, submits COUNT jobs (prompts
``"NAME 0"`` ...), waits until each of them is final *whoever settled it*, and exits 0.
Narration on stdout: ``ALL-SUBMITTED <job ids>``, then ``DONE <status of each of its jobs>``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_real_time = time.time


def _skewed(skew: float) -> None:
    time.time = lambda: _real_time() + skew  # every module reads the clock through time.time()


async def main(base_url: str, name: str, count: int, lease: float) -> None:
    from helpers import FAST, MODEL

    from seedream_tui.config import resolve_config
    from seedream_tui.jobs.service import Core

    config = resolve_config(base_url=base_url, env={"RUNCOMFY_API_TOKEN": f"token-{name}"})
    core = await Core.open(config, policy=dataclasses.replace(FAST, lease=lease))
    try:
        await core.start()
        jobs = await asyncio.gather(*(core.engine.submit(MODEL, {"prompt": f"{name} {i}"}) for i in range(count)))
        print("ALL-SUBMITTED", *(job.id for job in jobs), flush=True)
        finals = await asyncio.gather(*(core.engine.wait_for(job.id, check_every=0.2) for job in jobs)) \
            if hasattr(core.engine, "wait_for") else await _read_until_final(core, [job.id for job in jobs])
        print("DONE", *(job.status.value if job else "gone" for job in finals), flush=True)
    finally:
        await core.close()


async def _read_until_final(core: object, ids: list[int]) -> list[object]:
    """The same wait for a build without ``JobEngine.wait_for`` (to show the test fails on it for the right
    reason): read the history until every job is final."""
    while True:
        jobs = [await core.history.get(i) for i in ids]  # type: ignore[attr-defined]
        if all(job is None or job.status.terminal for job in jobs):
            return jobs
        await asyncio.sleep(0.2)


if __name__ == "__main__":
    _skewed(float(sys.argv[5]))
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
