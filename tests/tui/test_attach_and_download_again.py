"""Attach a request id made elsewhere (F7 / palette) and download a job's files again (d in its detail)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from textual.widgets import Input

sys.path.insert(0, str(Path(__file__).parent))
from conftest import make_config  # noqa: E402
from screens_support import ScreenHost, open_core  # noqa: E402
from screens_support import make_config as screen_config  # noqa: E402
from tui_support import open_main, wait_for  # noqa: E402

from seedream_tui.paths import Paths  # noqa: E402
from seedream_tui.tui.app import SeedreamApp  # noqa: E402
from seedream_tui.tui.screens.confirm import PromptScreen  # noqa: E402
from seedream_tui.tui.screens.detail import JobDetailScreen  # noqa: E402


async def until(probe: Callable[[], Awaitable[bool]], what: str, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not await probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _made_elsewhere(fake: Any) -> str:
    """A request made on the server by another tool: the app never saw its submit."""
    answer = httpx.post(f"{fake.base_url}/v1/models/bytedance/seedream-5/lite/text-to-image",
                        json={"prompt": "made on the dashboard"}, headers={"Authorization": "Bearer t"})
    return str(answer.json()["request_id"])


def _toasts(app: SeedreamApp) -> str:
    return " ".join(str(n.message) for n in app._notifications)


async def test_f7_attaches_a_request_id_and_the_job_is_followed(fake_server: Any) -> None:
    request_id = _made_elsewhere(fake_server)
    app = SeedreamApp(make_config(fake_server.base_url, notify_bell=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_main(app, pilot)
        await pilot.press("f7")
        await wait_for(lambda: isinstance(app.screen, PromptScreen), what="the request id prompt")
        app.screen.query_one(Input).value = f"  {request_id} "
        await pilot.press("enter")
        core = app.core
        assert core is not None

        async def done() -> bool:
            job = await core.history.get_by_request_id(request_id)
            return job is not None and job.status.value == "completed" and bool(job.outputs[0].path)

        await wait_for(lambda: f"Request {request_id} is job" in _toasts(app), what="the toast")
        await until(done, "the attached job to be followed to the end")


async def test_a_bad_request_id_is_a_sentence(fake_server: Any) -> None:
    app = SeedreamApp(make_config(fake_server.base_url, notify_bell=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_main(app, pilot)
        await pilot.press("f7")
        await wait_for(lambda: isinstance(app.screen, PromptScreen), what="the request id prompt")
        app.screen.query_one(Input).value = "not an id; rm -rf"
        await pilot.press("enter")
        await wait_for(lambda: "is not a RunComfy request id" in _toasts(app), what="the refusal")
        assert app.is_running


async def test_d_in_the_detail_downloads_the_files_again(fake_server: Any) -> None:
    config = screen_config(fake_server.base_url, Paths.default())
    holder: dict[str, Any] = {}

    async def opened() -> Any:
        core = await open_core(config)
        job = await core.submit(core.registry.default(), {"prompt": "saved twice"})
        holder["job"] = await core.engine.wait_for(job.id)
        await asyncio.to_thread(Path(holder["job"].outputs[0].path).unlink)  # the user deleted the file
        return core

    app = ScreenHost(opened, lambda core: JobDetailScreen(core, holder["job"].id))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: isinstance(app.screen, JobDetailScreen) and app.screen.job is not None,
                       what="the detail screen")
        screen = app.screen
        assert isinstance(screen, JobDetailScreen)
        await pilot.press("d")

        async def saved_again() -> bool:
            job = await screen.core.history.get(holder["job"].id)
            path = job.outputs[0].path if job is not None else None
            return bool(path) and job.status.value == "completed" and await asyncio.to_thread(Path(path).exists)

        await until(saved_again, "the files to be saved again")


async def test_a_video_result_is_described_in_the_preview_and_the_viewer(fake_server: Any) -> None:
    """A video shows its poster frame and a ``▶ 0:05`` badge in the preview, and plays in the viewer (issue
    22; before it, a card said what and where it was); never "could not open"."""
    from textual.widgets import Static

    from seedream_tui.tui.screens.viewer import ViewerScreen

    app = SeedreamApp(make_config(fake_server.base_url, notify_bell=False, image_mode="halfcell"))
    async with app.run_test(size=(120, 36)) as pilot:
        await open_main(app, pilot)
        core = app.core
        assert core is not None
        job = await core.engine.submit("bytedance/seedance-1/lite/text-to-video", {"prompt": "waves at dusk"})
        done = await core.engine.wait_for(job.id)
        assert done is not None and done.outputs[0].format == "mp4" and done.outputs[0].kind == "video"
        pane = app.screen.query_one("#preview")
        await wait_for(lambda: "▶ 0:05" in str(pane.border_title) and pane.shown_path is not None,
                       what="the preview's poster and badge")
        assert "Could not open" not in str(app.screen.query_one("#preview-status", Static).render())
        pane.focus()
        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, ViewerScreen), what="the viewer")
        viewer = app.screen
        await wait_for(lambda: viewer.frame is not None, what="the video playing in the viewer")
