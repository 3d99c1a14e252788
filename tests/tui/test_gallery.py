"""The history's gallery as a user drives it: the same jobs, search, marks and cursor as the table; enter views."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from screens_support import ScreenHost, make_config, open_core, seed_history
from textual.widgets import Static
from tui_support import drawn_settled, seed_finished_jobs, wait_for

from seedream_tui.paths import Paths
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.history import HistoryScreen
from seedream_tui.tui.screens.viewer import ViewerScreen
from seedream_tui.tui.widgets.gallery import Gallery, Tile, grid_shape
from seedream_tui.tui.widgets.row_table import RowTable


def seeded_app(base_url: str) -> SeedreamApp:
    from conftest import make_config as main_config

    seed_finished_jobs(Paths.default())  # ids 1..5; #5, #3 and #1 have images
    return SeedreamApp(main_config(base_url, theme="textual-dark", notify_bell=False))


async def open_gallery(app: Any, pilot: Any) -> tuple[HistoryScreen, Gallery]:
    from tui_support import open_main

    await open_main(app, pilot)
    await pilot.press("f2")
    await wait_for(lambda: isinstance(app.screen, HistoryScreen) and app.screen.view.jobs, what="the history")
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    await pilot.press("g")
    gallery = screen.gallery
    await wait_for(lambda: gallery.display and gallery.has_focus and gallery.jobs, what="the gallery")
    await wait_for(gallery.drawn, what="the thumbnails")
    return screen, gallery


def captions(gallery: Gallery) -> list[str]:
    return [str(t.query_one(".tile-caption", Static).render()) for t in gallery.query(Tile) if t.job is not None]


def test_grid_shape_is_at_least_two_by_two() -> None:
    assert grid_shape(10, 4) == (2, 2)
    assert grid_shape(80, 16) == (3, 2)
    assert grid_shape(200, 50) == (7, 4)


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (200, 60)])
async def test_gallery_shows_thumbnails_at_every_size(queue_server, size) -> None:
    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=size) as pilot:
        screen, gallery = await open_gallery(app, pilot)
        columns, rows = gallery.columns, gallery.rows
        assert columns >= 2 and rows >= 2
        assert len(gallery.query(Tile)) == columns * rows
        assert not screen.table.display or not screen.table.region.height  # the table is hidden
        shown = [5, 4, 3, 2, 1][: columns * rows]
        # every seeded job on a tile (a job the history heard of after its first page comes a moment later)
        await wait_for(lambda: [t.job.id for t in gallery.query(Tile) if t.job] == shown, what=f"tiles {shown}")
        tiles = [t for t in gallery.query(Tile) if t.job is not None]
        with_images = [t for t in tiles if t.shown_path]
        assert {t.job.id for t in with_images if t.job} == {5, 3, 1} & set(shown)
        await wait_for(lambda: all(t.query_one(".tile-image").region.width for t in with_images), what="laid out")
        for tile in with_images:  # a drawn picture inside its tile
            picture = tile.query_one(".tile-image")
            assert picture.region.width > 0 and tile.region.contains_region(picture.region)
        assert captions(gallery)[0].startswith("#5 done")


async def test_gallery_cursor_marks_search_and_viewer_share_the_table_model(queue_server) -> None:
    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, gallery = await open_gallery(app, pilot)
        await pilot.press("right")
        assert screen.view.current is not None and screen.view.current.id == 4
        await pilot.press("space")  # marks #4 and steps on to #3
        await wait_for(lambda: "1 marked" in str(screen.query_one("#history-count", Static).render()), what="mark")
        assert list(screen.marked) == [4] and gallery.cursor == 2
        assert any(c.startswith("● #4") for c in captions(gallery))
        # enter: the viewer, walking the same list; leaving puts the gallery's cursor where it ended
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ViewerScreen), what="the viewer")
        viewer = app.screen
        assert viewer.job is not None and viewer.job.id == 3
        await pilot.press("n")
        await wait_for(lambda: viewer.job is not None and viewer.job.id == 2, what="the next job")
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, what="the history")
        assert gallery.cursor == 3 and screen.view.current is not None and screen.view.current.id == 2
        # the table shows the same job under its cursor
        await pilot.press("g")
        table = screen.query_one(RowTable)
        await wait_for(lambda: table.has_focus, what="the table")
        assert str(table.get_row_at(table.cursor_row)[1]) == "2"
        # search applies to the gallery too
        await pilot.press("g", "slash", *"lighthouse", "enter")
        await wait_for(lambda: [j.id for j in gallery.jobs] == [1], what="the search in the gallery")
        assert gallery.has_focus and captions(gallery) == [c for c in captions(gallery) if c.startswith("#1")]


async def test_paging_through_thousands_reuses_the_same_tiles(fake_server) -> None:
    paths = Paths.default()
    seed_history(paths, 2500)
    config = make_config(fake_server.base_url, paths)
    app = ScreenHost(lambda: open_core(config), HistoryScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: isinstance(app.screen, HistoryScreen) and app.screen.view.jobs, what="the history")
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await pilot.press("g")
        gallery = screen.gallery
        await wait_for(lambda: gallery.has_focus, what="the gallery")
        tiles = list(gallery.query(Tile))
        while gallery.cursor < 400:
            before = gallery.cursor
            await pilot.press("pagedown")
            await wait_for(lambda before=before: gallery.cursor > before, what="a page down")
        assert len(screen.view.jobs) > 400  # pages were loaded on the way
        assert list(gallery.query(Tile)) == tiles  # the same tiles, showing other jobs
        first = tiles[0].job
        assert first is not None and first.id == 2500 - gallery.first
        await pilot.press("home")
        await wait_for(lambda: gallery.cursor == 0 and tiles[0].job is not None and tiles[0].job.id == 2500, what="top")


async def settle_gallery(pilot: Any) -> None:
    app = pilot.app
    screen, gallery = await open_gallery(app, pilot)
    await drawn_settled(screen)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_gallery_snapshot(snap_compare, queue_server, size) -> None:
    assert snap_compare(seeded_app(queue_server.base_url), terminal_size=size, run_before=settle_gallery)


async def test_a_click_moves_the_cursor_and_a_double_click_views(queue_server) -> None:
    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, gallery = await open_gallery(app, pilot)
        third = list(gallery.query(Tile))[2]
        await pilot.click(third)
        assert gallery.cursor == 2 and screen.view.current is not None and screen.view.current.id == 3
        await pilot.click(third, times=2)
        await wait_for(lambda: isinstance(app.screen, ViewerScreen), what="the viewer")
        assert app.screen.job is not None and app.screen.job.id == 3


async def test_a_resize_that_keeps_the_tiles_box_decodes_and_redraws_nothing(queue_server) -> None:
    """A resize of the gallery (the screen shown again, a row of the terminal given to another widget) redrew
    every tile and handed each its picture again, and so did the same jobs read again; only a tile whose image
    or pixel box changed needs a new picture (CI saw the history shown again fetch its thumbnails anew)."""
    from seedream_tui.tui.widgets import gallery as gallery_module

    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, gallery = await open_gallery(app, pilot)
        with_images = [t for t in gallery.tiles if t.shown_path]
        assert with_images and all(t.shown_box for t in with_images)
        decoded: list[tuple[int, int]] = []
        tile_image = gallery_module.tile_image

        def counting(output: Any, box: tuple[int, int]) -> Any:
            decoded.append(box)
            return tile_image(output, box)

        gallery_module.tile_image = counting  # type: ignore[assignment]
        try:
            gallery.redraw(True)  # what a resize ends in
            await pilot.pause()
            assert gallery.drawn() and decoded == []
            # the jobs read again (the history reopened, a job's row updated): the same images stay
            again = [dataclasses.replace(job, updated_at=job.updated_at + 1) for job in gallery.jobs]
            gallery.show_jobs(again, gallery.cursor, gallery.marked)
            await pilot.pause()
            assert gallery.drawn() and decoded == []
            assert [t.job for t in gallery.tiles if t.job] == again[: len([t for t in gallery.tiles if t.job])]
            with_images[0].shown_box = (1, 1)  # as if decoded for another size
            gallery.redraw(True)
            await wait_for(gallery.drawn, what="the tile decoded for its box")
            await wait_for(lambda: decoded, what="the decode")
            assert decoded == [with_images[1].shown_box]
            assert with_images[0].shown_box == with_images[1].shown_box
        finally:
            gallery_module.tile_image = tile_image  # type: ignore[assignment]


async def test_a_burst_of_job_changes_redraws_the_gallery_once(queue_server) -> None:
    """With jobs finishing, each change redrew every tile (and each tile's caption asked for a layout pass):
    a burst of changes is drawn once, and a tile whose caption reads the same is not updated."""
    from seedream_tui.tui.messages import JobChanged

    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(200, 60)) as pilot:
        screen, gallery = await open_gallery(app, pilot)
        redraws: list[int] = []
        show_jobs = gallery.show_jobs

        def counting(jobs: Any, cursor: int, marked: Any) -> None:
            redraws.append(len(jobs))
            show_jobs(jobs, cursor, marked)

        captions_set: list[Any] = []
        for tile in gallery.tiles:
            update = tile._caption.update

            def spy(content: Any = "", *, _update: Any = update) -> None:
                captions_set.append(content)
                _update(content)

            tile._caption.update = spy  # type: ignore[method-assign]
        gallery.show_jobs = counting  # type: ignore[method-assign]
        jobs = list(screen.view.jobs)
        for n in range(20):  # the same jobs, read again: nothing a tile shows changes
            job = jobs[n % len(jobs)]
            screen.post_message(JobChanged(dataclasses.replace(job, updated_at=job.updated_at + n + 1)))
        await wait_for(lambda: redraws, what="the gallery brought up to date")
        for _ in range(5):
            await pilot.pause()
        assert len(redraws) <= 2, redraws  # once (twice if the burst straddled a frame), not 20 times
        assert captions_set == []  # every caption reads as before
        assert gallery.drawn()


async def test_a_tile_resized_after_the_gallerys_redraw_gets_its_picture_for_its_new_size(queue_server) -> None:
    """After a burst of resizes the tiles can change size in a later layout pass than the gallery's own: their
    pictures stayed decoded for the old size (seen under load: the thumbnails never drawn for the last size)."""
    from textual import events

    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        _screen, gallery = await open_gallery(app, pilot)
        tile = next(t for t in gallery.tiles if t.shown_path)
        box = tile.shown_box
        tile.shown_box = (1, 1)  # decoded for the size it had before its last layout pass
        assert not gallery.drawn()
        tile.post_message(events.Resize(tile.size, tile.size))
        await wait_for(gallery.drawn, what="its picture decoded for its size now")
        assert tile.shown_box == box
