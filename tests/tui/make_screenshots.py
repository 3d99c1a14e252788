"""Render every screen to screenshots/<screen>-WxH.svg (+ .png when rsvg-convert exists).

Run: ``.venv/bin/python tests/tui/make_screenshots.py`` (uses a temp home, the fake server and seeded jobs);
``make_screenshots.py sheet 80x24`` renders a sweep's contact sheet alone.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(HERE), str(ROOT)]


def shot_config(base_url: str, **settings: object) -> object:
    """The app as ``seedream-tui --demo`` shows it (``DEMO`` in the status line, demo amounts), on this script's
    own fake server (seeded with finished jobs) instead of one the app would start."""
    from seedream_tui.config import DEMO_TOKEN, AppConfig, Settings
    from seedream_tui.paths import Paths

    return AppConfig(Paths.default(demo=True), Settings(**settings), base_url, DEMO_TOKEN, demo=True,  # type: ignore[arg-type]
                     token_source="demo")


async def shoot(size: tuple[int, int], out_dir: Path) -> list[Path]:
    """Main, catalog, spend, edit form, viewer, help, history, gallery, compare, job detail, settings and token
    screens at ``size``: SVGs in ``out_dir``."""
    from test_main_snapshots import settle
    from tui_support import seed_finished_jobs, wait_for

    from seedream_tui.fake.server import FakeConfig, FakeServerThread
    from seedream_tui.jobs.store import HistoryStore
    from seedream_tui.paths import Paths
    from seedream_tui.tui.app import SeedreamApp
    from seedream_tui.tui.screens.catalog import CatalogScreen
    from seedream_tui.tui.screens.compare import CompareScreen
    from seedream_tui.tui.screens.detail import JobDetailScreen
    from seedream_tui.tui.screens.help import HelpScreen
    from seedream_tui.tui.screens.history import HistoryScreen
    from seedream_tui.tui.screens.settings import SettingsScreen, TokenScreen
    from seedream_tui.tui.screens.spend import SpendScreen
    from seedream_tui.tui.screens.viewer import ViewerScreen
    from seedream_tui.tui.widgets.row_table import RowTable

    tag = f"{size[0]}x{size[1]}"
    shots: list[Path] = []
    with tempfile.TemporaryDirectory() as home, FakeServerThread(FakeConfig(workers=1)) as server:
        os.environ["SEEDREAM_TUI_HOME"] = home
        ids = seed_finished_jobs(Paths.default(demo=True))
        store = HistoryStore(Paths.default(demo=True).history_db)
        try:  # the costs RunComfy would have reported (the fake's price: $0.03 per image)
            for job in store.list_jobs(limit=len(ids)):
                if job.outputs:
                    store.update_job(job.id, cost=0.03 * len(job.outputs))
        finally:
            store.close()
        app = SeedreamApp(shot_config(server.base_url, theme="textual-dark"))

        def save(name: str) -> None:
            app.save_screenshot(f"{name}-{tag}.svg", path=str(out_dir))
            shots.append(out_dir / f"{name}-{tag}.svg")

        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            save("main")
            await pilot.press("f4")
            await wait_for(lambda: isinstance(app.screen, CatalogScreen)
                           and app.screen.query_one(RowTable).row_count >= 12, what="catalog")
            app.screen.query_one("#catalog-search").cursor_blink = False
            await pilot.pause(0.5)
            save("catalog")
            await pilot.press("escape", "f6")
            await wait_for(lambda: isinstance(app.screen, SpendScreen)
                           and app.screen.query_one(RowTable).row_count > 0, what="spend")
            await pilot.pause(0.3)
            save("spend")
            await pilot.press("escape")
            main = app.main_screen
            await main.set_model(await app.core.fetch_model("bytedance/seedream-5/lite/edit"), {"image": ["#1", "#3"]})
            main.editor.load_text("the same scene, in winter")
            strip = main.options.field("image").query_one(".field-thumbs")
            await wait_for(lambda: len(strip.children) == 2, what="thumbnails")
            await pilot.pause(0.3)
            save("edit")
            await main.set_model(app.core.registry.get("bytedance/seedream-5/lite/text-to-image"))
            main = app.screen
            main.set_focus(main.table)
            await pilot.press("f")  # the newest job (three images) full screen
            await wait_for(lambda: isinstance(app.screen, ViewerScreen) and app.screen.shown_path is not None,
                           what="viewer")
            await pilot.pause(0.3)
            save("viewer")
            await pilot.press("escape", "question_mark")
            await wait_for(lambda: isinstance(app.screen, HelpScreen), what="help")
            await pilot.pause(0.3)
            save("help")
            await pilot.press("escape")
            await pilot.press("f2")
            await wait_for(lambda: isinstance(app.screen, HistoryScreen)
                           and app.screen.query_one(RowTable).row_count > 0, what="history")
            await pilot.pause(0.5)
            save("history")
            await pilot.press("g")
            history = app.screen
            await wait_for(lambda: history.gallery.has_focus and history.gallery.drawn(), what="gallery")
            await pilot.pause(0.5)
            save("gallery")
            await pilot.press("g")
            # mark the newest job, move to an older finished one, compare the two
            await pilot.press("space", "down", "v")
            await wait_for(lambda: isinstance(app.screen, CompareScreen), what="compare")
            await pilot.pause(0.5)
            save("compare")
            await pilot.press("escape", "escape")  # back to the history, then clear the mark
            await pilot.press("escape")
            app.call_later(app.action_open_job, max(ids))
            await wait_for(lambda: isinstance(app.screen, JobDetailScreen), what="detail")
            await pilot.pause(0.5)
            save("detail")
            await pilot.press("escape")
            await pilot.press("f3")
            await wait_for(lambda: isinstance(app.screen, SettingsScreen), what="settings")
            await pilot.pause(0.3)
            save("settings")
            app.call_later(app.push_screen, TokenScreen())
            await wait_for(lambda: isinstance(app.screen, TokenScreen), what="token")
            await pilot.pause(0.3)
            save("token")
    return shots


async def shoot_too_small(size: tuple[int, int], out_dir: Path) -> list[Path]:
    """The "make the window larger" screen (below 40x12)."""
    from tui_support import wait_for

    from seedream_tui.fake.server import FakeConfig, FakeServerThread
    from seedream_tui.tui.app import SeedreamApp
    from seedream_tui.tui.screens.too_small import TooSmallScreen

    name = f"too-small-{size[0]}x{size[1]}.svg"
    with tempfile.TemporaryDirectory() as home, FakeServerThread(FakeConfig(workers=1)) as server:
        os.environ["SEEDREAM_TUI_HOME"] = home
        app = SeedreamApp(shot_config(server.base_url, theme="textual-dark"))
        async with app.run_test(size=size) as pilot:
            await wait_for(lambda: app.main_screen is not None and isinstance(app.screen, TooSmallScreen),
                           what="the too-small screen")
            await pilot.pause(0.3)
            app.save_screenshot(name, path=str(out_dir))
    return [out_dir / name]


async def shoot_video(size: tuple[int, int], out_dir: Path) -> list[Path]:
    """A video job (issue 22): its poster and ``▶ 0:05`` badge on the main screen, then three frames of it
    playing in the viewer (``video-main``, ``video-playing-1..3``)."""
    from tui_support import drawn_settled, open_main, seed_finished_jobs, wait_for
    from video_support import seed_video_job

    from seedream_tui.fake.server import FakeConfig, FakeServerThread
    from seedream_tui.paths import Paths
    from seedream_tui.tui.app import SeedreamApp
    from seedream_tui.tui.screens.viewer import ViewerScreen

    tag = f"{size[0]}x{size[1]}"
    shots: list[Path] = []
    with tempfile.TemporaryDirectory() as home, FakeServerThread(FakeConfig(workers=1)) as server:
        os.environ["SEEDREAM_TUI_HOME"] = home
        seed_finished_jobs(Paths.default(demo=True))
        seed_video_job(Paths.default(demo=True), size=(320, 180), fps=12, prompt="a paper boat drifting on a moonlit pond")
        app = SeedreamApp(shot_config(server.base_url, theme="textual-dark"))

        def save(name: str) -> None:
            app.save_screenshot(f"{name}-{tag}.svg", path=str(out_dir))
            shots.append(out_dir / f"{name}-{tag}.svg")

        async with app.run_test(size=size) as pilot:
            main = await open_main(app, pilot)
            await wait_for(lambda: main.table.row_count == 6, what="the seeded jobs")
            main.query_one("PromptArea").cursor_blink = False
            main.set_focus(main.table)
            await drawn_settled(main)
            await wait_for(lambda: main.query_one("PreviewPane").shown_path is not None, what="the poster")
            await pilot.pause(0.3)
            save("video-main")
            await pilot.press("f")
            await wait_for(lambda: isinstance(app.screen, ViewerScreen) and app.screen.frame is not None,
                           what="the first frame")
            viewer = app.screen
            for number, at in enumerate((8, 26, 44), 1):
                await wait_for(lambda at=at: viewer.frame is not None and viewer.frame.index >= at,
                               what=f"frame {at}")
                save(f"video-playing-{number}")
            await pilot.press("escape")
    return shots


async def shoot_sheet(size: tuple[int, int], out_dir: Path) -> list[Path]:
    """A sweep's contact sheet (issue 21): one batch over image_size × seed, run by the fake server (the demo's
    backend), opened as a sheet; its PNG export is written beside the SVG too (``sheet-export.png``)."""
    from tui_support import wait_for

    from seedream_tui.batch.planner import PlanRequest, Sweep, make_plan
    from seedream_tui.fake.server import FakeConfig, FakeServerThread
    from seedream_tui.tui.app import SeedreamApp
    from seedream_tui.tui.screens.sheet import BatchSheetScreen

    name = f"sheet-{size[0]}x{size[1]}.svg"
    config = FakeConfig(workers=6, min_duration=0.2, max_duration=0.6, seed=21)
    with tempfile.TemporaryDirectory() as home, FakeServerThread(config) as server:
        os.environ["SEEDREAM_TUI_HOME"] = home
        app = SeedreamApp(shot_config(server.base_url, theme="textual-dark"))
        async with app.run_test(size=size) as pilot:
            await wait_for(lambda: app.core is not None and app.main_screen is not None, what="the app")
            core = app.core
            spec = core.registry.get("blackforestlabs/flux-2/flash/text-to-image")
            plan = make_plan(spec, PlanRequest(
                {"prompt": "a red fox in the snow, golden hour"},
                sweeps=[Sweep("image_size", ("square_hd", "portrait_4_3", "landscape_16_9")), Sweep("seed", (1, 2))],
            ))
            batch, jobs = await core.submit_batch(plan)

            async def all_done() -> bool:
                rows = await core.history.batch_jobs(batch.id)
                return all(job.status.terminal for job in rows)

            done = False
            for _ in range(600):
                done = await all_done()
                if done:
                    break
                await pilot.pause(0.05)
            app.push_screen(BatchSheetScreen(core, batch.id))
            await wait_for(lambda: isinstance(app.screen, BatchSheetScreen) and app.screen.drawn(), what="sheet",
                           limit=30)
            await pilot.pause(0.5)
            app.save_screenshot(name, path=str(out_dir))
            if size == (80, 24):
                await core.export_batch(batch.id, Path(home) / "export", sheet=out_dir / "sheet-export.png")
    return [out_dir / name]


#: 80x24 and 200x60 always; a split tmux pane (60x20, 40x12) shows the narrow layouts
SIZES = ((80, 24), (200, 60), (60, 20), (40, 12))


def main(argv: list[str]) -> int:
    """``make_screenshots.py [WxH ...]``: every size, or only those named; ``--video [WxH ...]``: only the video
    screenshots (80x24 and 200x60 unless sizes are named)."""
    from seedream_tui.tui import images

    images.configure("halfcell")
    out_dir = ROOT / "screenshots"
    out_dir.mkdir(exist_ok=True)
    video = "--video" in argv
    only_sheet = "sheet" in argv  # ``make_screenshots.py sheet [WxH ...]``: the contact sheet alone
    argv = [arg for arg in argv if arg not in ("--video", "sheet")]
    asked = [(int(arg.split("x")[0]), int(arg.split("x")[1])) for arg in argv]
    sizes = asked or list(SIZES)
    if video:
        shots = [svg for size in (asked or [(80, 24), (200, 60)]) for svg in asyncio.run(shoot_video(size, out_dir))]
    elif only_sheet:
        shots = [svg for size in (asked or [(80, 24)]) for svg in asyncio.run(shoot_sheet(size, out_dir))]
    else:
        shots = [svg for size in sizes for svg in asyncio.run(shoot(size, out_dir))]
        shots += [svg for size in (asked or [(80, 24), (200, 60)]) for svg in asyncio.run(shoot_video(size, out_dir))]
        shots += [svg for size in (asked or [(80, 24)]) for svg in asyncio.run(shoot_sheet(size, out_dir))]
    if not argv and not video and not only_sheet:
        shots += asyncio.run(shoot_too_small((30, 10), out_dir))
    for svg in shots:
        if shutil.which("rsvg-convert"):
            subprocess.run(["rsvg-convert", "-o", str(svg.with_suffix(".png")), str(svg)], check=True)
        print(svg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
