"""Issue 20 §5: memory that comes back. The decoded previews are bounded by count and by bytes, and leaving the
full-screen viewer drops its large images (figures: ``bench/bench_memory.py viewer-halfcell viewer-sixel``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tui_support import open_main, seed_finished_jobs, wait_for

from seedream_tui.tui import thumbs
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.viewer import ViewerScreen


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    thumbs.forget()
    yield
    thumbs.forget()


def _pictures(folder: Path, count: int, size: tuple[int, int]) -> list[str]:
    paths = []
    for i in range(count):
        path = folder / f"p{i}.png"
        Image.new("RGB", size, (i * 20 % 256, 80, 160)).save(path, compress_level=0)
        paths.append(str(path))
    return paths


def test_the_preview_cache_is_bounded_by_bytes_as_well_as_count(tmp_path: Path) -> None:
    """Viewer-sized decodes at 200x60 (~1600x1200, ~5.8 MB each): eight of them held 46 MB after the viewer."""
    box = (2000, 1180)
    for path in _pictures(tmp_path, 12, (1600, 1200)):
        thumbs.load_preview(path, box)
        assert len(thumbs._cache) <= thumbs.CACHE_SIZE
        assert thumbs.cached_bytes() <= thumbs.CACHE_BYTES
    assert thumbs.cached_bytes() > 0  # the last ones are still there to step back to


def test_release_drops_the_large_images_and_keeps_the_small_previews(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    small = _pictures(tmp_path / "s", 3, (200, 150))
    large = _pictures(tmp_path, 2, (1600, 1200))
    for path in small:
        thumbs.load_preview(path, (400, 300))
    for path in large:
        thumbs.load_preview(path, (2000, 1180))
    thumbs.release()
    kept = {key[0] for key in thumbs._cache}
    assert kept == set(small)
    assert all(thumbs.image_bytes(image) < thumbs.LARGE_BYTES for image in thumbs._cache.values())


async def test_leaving_the_viewer_releases_its_images(config: Any, core: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    released: list[bool] = []
    original = thumbs.release
    monkeypatch.setattr(thumbs, "release", lambda: (released.append(True), original())[1])
    seed_finished_jobs(config.paths)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await open_main(app, pilot)
        await wait_for(lambda: main.table.row_count >= 5, what="the jobs")
        main.set_focus(main.table)
        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, ViewerScreen), what="the viewer")
        assert not released
        await pilot.press("escape")
        await wait_for(lambda: app.screen is main, what="the main screen")
        await wait_for(lambda: bool(released), what="the viewer's images released")
