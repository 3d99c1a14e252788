"""Render the main screen to screenshots/main-WxH.svg (+ .png when rsvg-convert exists).

Run: ``.venv/bin/python tests/tui/make_screenshots.py`` (uses a temp home, the fake server and seeded jobs).
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


async def shoot(size: tuple[int, int], out_dir: Path) -> Path:
    from conftest import make_config
    from test_main_snapshots import settle
    from tui_support import seed_finished_jobs

    from seedream_tui.fake.server import FakeConfig, FakeServerThread
    from seedream_tui.paths import Paths
    from seedream_tui.tui.app import SeedreamApp

    with tempfile.TemporaryDirectory() as home, FakeServerThread(FakeConfig(workers=1)) as server:
        os.environ["SEEDREAM_TUI_HOME"] = home
        seed_finished_jobs(Paths.default())
        app = SeedreamApp(make_config(server.base_url, theme="textual-dark"))
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            name = f"main-{size[0]}x{size[1]}.svg"
            app.save_screenshot(name, path=str(out_dir))
    return out_dir / name


def main() -> int:
    from seedream_tui.tui import images

    images.configure("halfcell")
    out_dir = ROOT / "screenshots"
    out_dir.mkdir(exist_ok=True)
    for size in ((80, 24), (200, 60)):
        svg = asyncio.run(shoot(size, out_dir))
        if shutil.which("rsvg-convert"):
            subprocess.run(["rsvg-convert", "-o", str(svg.with_suffix(".png")), str(svg)], check=True)
        print(svg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
