"""Helpers of the main-screen tests (TUI-A): await a condition with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


async def wait_for(condition: Callable[[], object], *, limit: float = 30.0, what: str = "condition") -> None:
    """Await ``condition()`` becoming true, checking often; fail with ``what`` after ``limit`` seconds.

    The default is generous: it only bounds how long a broken test takes to fail (a passing one returns as soon
    as the condition holds), and on a loaded machine a snapshot at a small size once took more than 10 s to settle.
    """
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


#: 2026-01-15 09:00:00 UTC; every seeded job starts a minute after the previous one
SEED_TIME = 1768467600.0
SEED_PROMPTS = [
    "A lighthouse on a basalt cliff at dusk, long exposure, teal and orange",
    "一只在雪山日出时分奔跑的赤狐, cinematic, 35mm",
    "Isometric pixel-art bakery with warm window light, tiny people",
    "A vibrant close-up editorial portrait, sculptural hat, Vogue cover aesthetic",
    "Botanical illustration of a fern, ink and watercolour on cream paper",
]


def gradient(path: Path, size: tuple[int, int], hue: int) -> None:
    """A deterministic, pleasant test picture (so previews and snapshots show something real)."""
    from PIL import Image, ImageDraw

    width, height = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    for y in range(height):
        t = y / max(1, height - 1)
        draw.line([(0, y), (width, y)], fill=((hue + int(120 * t)) % 256, int(60 + 140 * t), int(200 - 120 * t)))
    draw.ellipse([width * 0.3, height * 0.25, width * 0.7, height * 0.75], fill=(250, 220, 120))
    img.save(path)


def seed_finished_jobs(paths: Any) -> list[int]:
    """Write finished jobs (fixed times, real images) into the history: a stable picture for snapshots."""
    from seedream_tui.jobs.model import JobStatus, OutputFile
    from seedream_tui.jobs.store import HistoryStore

    paths.profile_data_dir.mkdir(parents=True, exist_ok=True)
    paths.images_dir.mkdir(parents=True, exist_ok=True)
    model = "bytedance/seedream-5/lite/text-to-image"
    plan = [
        (JobStatus.COMPLETED, "2304x1728 (4:3)", 1, None),
        (JobStatus.FAILED, "2K", 0, "The model could not generate an image for this prompt."),
        (JobStatus.COMPLETED, "2848x1600 (16:9)", 1, None),
        (JobStatus.CANCELLED, "2048x2048 (1:1)", 0, None),
        (JobStatus.COMPLETED, "2304x1728 (4:3)", 3, None),
    ]
    store = HistoryStore(paths.history_db)
    ids = []
    try:
        for i, (status, resolution, n_images, error) in enumerate(plan):
            created = SEED_TIME + 60 * i
            inputs = {"prompt": SEED_PROMPTS[i], "resolution": resolution}
            job = store.create_job(model, inputs, base_url="http://127.0.0.1:9", now=created)
            outputs = []
            for k in range(n_images):
                target = paths.images_dir / f"job-{job.id}-{k}.png"
                gradient(target, (160, 120), 40 * i + 70 * k)
                outputs.append(OutputFile(k, f"https://cdn.example/{job.id}/{k}.png", str(target), 160, 120, "png"))
            if outputs:
                store.set_outputs(job.id, outputs)
            store.update_job(
                job.id, status=status, request_id=f"req-{job.id}", submitted_at=created + 1,
                started_at=created + 3, finished_at=created + 9 + 4 * i, updated_at=created + 10 + 4 * i, error=error,
            )
            ids.append(job.id)
    finally:
        store.close()
    return ids


async def open_main(app: Any, pilot: Any) -> Any:
    """Wait for the app's main screen to be up (the core opens in a worker first); return it."""
    from seedream_tui.tui.screens.main import MainScreen

    await wait_for(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted, what="the main screen")
    # the options panel's fields are mounted after the screen's first frame
    await wait_for(lambda: app.screen.options.built, what="the options panel's fields")
    # so is the model picker (and, while the window is wide, the hidden tabs of a narrow one)
    await wait_for(lambda: bool(app.screen.query("#model-select") and app.screen.query("#results-tabs")),
                   what="the model picker")
    # the price of a bundled model is fetched at start: a paid submit before it arrives asks first (its price
    # is unknown), so tests that submit at once wait for that fetch to end, as a person's first prompt does
    await wait_for(lambda: not [w for w in app.workers if w.group == "refresh-models" and not w.is_finished],
                   what="the model's price fetched")
    await pilot.pause()
    assert isinstance(app.screen, MainScreen)
    return app.screen


async def drawn_settled(screen: Any) -> None:
    """Wait for what a screen finishes on idle, so a snapshot cannot catch it half done: every DataTable's
    column widths (measured when the message queue empties), the key hints line and the status line."""
    from textual.widgets import DataTable

    from seedream_tui.tui.widgets.keyhints import KeyHints

    def tables_done() -> bool:
        return all(
            not (t._updated_cells or t._new_rows or t._require_update_dimensions) for t in screen.query(DataTable)
        )

    await wait_for(tables_done, what="the tables' column widths")
    from seedream_tui.tui.widgets.options import OptionsPanel

    await wait_for(lambda: all(p.built for p in screen.query(OptionsPanel)), what="the options panel's fields")
    await wait_for(lambda: all(h.hints() for h in screen.query(KeyHints)), what="the key hints")
    from seedream_tui.tui.widgets.status_bar import StatusBar

    # the status line draws a change at most every StatusBar.EVERY s: the latest one drawn
    await wait_for(lambda: not any(b.pending for b in screen.query(StatusBar)), what="the status line")


def screen_text(app: Any) -> str:
    """Every character on the app's screen, as a terminal would show it (what ``export_screenshot`` draws)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=False)
