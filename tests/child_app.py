"""A stand-in for a running app, for the crash tests: ``python child_app.py BASE_URL PROMPT``.

It opens the job core on ``$SEEDREAM_TUI_HOME`` against the fake server the test runs, submits one job,
prints ``SUBMITTED <job id> <request id>`` and then keeps polling until the test kills it with SIGKILL.
Before submitting it prints ``READY`` so the test knows the history is open.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import MODEL, open_core  # noqa: E402


async def main(base_url: str, prompt: str) -> None:
    core = await open_core(base_url)
    print("READY", flush=True)
    job = await core.engine.submit(MODEL, {"prompt": prompt})
    print(f"SUBMITTED {job.id} {job.request_id}", flush=True)
    await asyncio.Event().wait()  # poll until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
