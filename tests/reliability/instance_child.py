"""One of two app instances sharing a history: ``python instance_child.py BASE_URL NAME COUNT LEASE``.

It opens the job core on ``$SEEDREAM_TUI_HOME`` with its own API token (``token-NAME``, so the fake server's
request log shows which instance sent each call) and a polling lease of LEASE seconds, resumes whatever is
live in the history, submits COUNT jobs (prompts ``"NAME 0"`` ...) and keeps polling until killed.
Narration on stdout: ``READY <live jobs resumed>``, ``SUBMITTED <job id> <request id>``, ``ALL-SUBMITTED``, and ``SETTLED <polls>``
(the /result requests its engine sent) each time the history has no live job left and it follows none.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import FAST, MODEL  # noqa: E402

from seedream_tui.config import resolve_config  # noqa: E402
from seedream_tui.jobs.service import Core  # noqa: E402


def say(*words: object) -> None:
    print(*words, flush=True)


async def main(base_url: str, name: str, count: int, lease: float) -> None:
    config = resolve_config(base_url=base_url, env={"RUNCOMFY_API_TOKEN": f"token-{name}"})
    core = await Core.open(config, policy=dataclasses.replace(FAST, lease=lease))
    resumed = await core.start()
    say("READY", len(resumed))
    await asyncio.gather(*(core.engine.submit(MODEL, {"prompt": f"{name} {i}"}) for i in range(count)))
    for job in await core.history.list_jobs(limit=10_000):
        if job.prompt.startswith(f"{name} "):
            say("SUBMITTED", job.id, job.request_id)
    say("ALL-SUBMITTED")
    settled = False
    while True:  # report each time everything is finished (a probe of real state, for the test to read)
        done = core.engine.live_count == 0 and not await core.history.live_jobs()
        if done and not settled:
            say("SETTLED", core.engine.poll_requests)
        settled = done
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
