"""The TUI's first frame waits for no network code (issue 13 §6).

``Core.open(defer_backend=True)`` (the TUI) opens the history and the schemas only; httpx, the protocol
client, the downloader and the engine are built by ``start()``, after the first frame. What is asked of them
before then still works: listeners subscribed early hear every change, a token or base URL set early is
the one used.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import FAST, MODEL, app_config, wait_for

from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.service import Core

REPO = Path(__file__).resolve().parent.parent

FIRST_FRAME_IMPORTS = (
    "import sys\n"
    "import seedream_tui.cli\n"
    "from seedream_tui.tui import images\n"
    "images.configure('halfcell')\n"
    "import seedream_tui.tui.run, seedream_tui.tui.app\n"
    "heavy = ('httpx', 'httpcore', 'seedream_tui.jobs.engine', 'seedream_tui.api.client', 'PIL.Image',\n"
    "         'textual_image.widget', 'seedream_tui.tui.screens.help',\n"
    "         'tomli_w', 'seedream_tui.catalog.browse', 'seedream_tui.api.parse',\n"
    "         'seedream_tui.batch.planner', 'seedream_tui.tui.screens.confirm')\n"
    "print(sorted(m for m in heavy if m in sys.modules))\n"
)


def test_the_first_frame_imports_no_network_code_no_image_decoder() -> None:
    out = subprocess.run([sys.executable, "-c", FIRST_FRAME_IMPORTS], cwd=REPO, capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


async def test_a_deferred_core_builds_its_network_side_at_start_and_keeps_early_listeners(fake_server: Any) -> None:
    config = app_config(fake_server.base_url)
    core = await Core.open(config, policy=FAST, defer_backend=True)
    try:
        assert core._engine is None and core._client is None
        early: list[Job] = []
        dropped: list[Job] = []
        core.subscribe(early.append)
        core.subscribe(dropped.append)()  # taken back before the engine existed
        core.set_token("rc_a_token_set_before_the_client_existed")
        await core.start()
        assert core._engine is not None
        assert core.client._token == "rc_a_token_set_before_the_client_existed"
        later: list[Job] = []
        stop_later = core.subscribe(later.append)
        job = await core.submit(core.registry.get(MODEL), {"prompt": "a lighthouse at dusk"})
        await wait_for(lambda: any(j.id == job.id and j.status is JobStatus.COMPLETED for j in early),
                       20, what="the early listener to hear the job complete")
        assert any(j.id == job.id for j in later) and dropped == []
        stop_later()
        count = len(later)
        await core.rerun(job.id)
        await wait_for(lambda: len({j.id for j in early}) == 2, 20, what="the re-run to be heard")
        assert len(later) == count  # unsubscribed after the engine was built: heard no more
    finally:
        await core.close()


async def test_closing_a_core_that_never_started_is_quiet(fake_server: Any) -> None:
    core = await Core.open(app_config(fake_server.base_url), policy=FAST, defer_backend=True)
    await core.close()
    assert core._engine is None  # closing built nothing
