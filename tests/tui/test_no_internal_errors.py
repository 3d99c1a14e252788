"""Issue 20 §2: no internal error ever reaches the screen.

* The gallery's tiles are drawn on while a resize mounts new ones (not composed yet) and removes others (a
  thumbnail decoded for a tile that is gone): "NoMatches … '.tile-caption' on Tile()" reached the screen, or
  ended the app when the drawing came from a message handler. A tile holds its parts; the gallery its tiles.
* Every worker group has a sentence: a failure never says "Could not finish _adopt_request".
* The history shown again after the window shrank is laid out for the new size from its first frame.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import io
from pathlib import Path
from typing import Any

import pytest
from textual import events, work
from textual.geometry import Size
from textual.message import Message
from textual.notifications import Notify
from tui_support import open_main, wait_for

import seedream_tui.tui as tui_package
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.tui.failures import ACTIONS
from seedream_tui.tui.messages import JobChanged
from seedream_tui.tui.screens.history import HistoryScreen
from seedream_tui.tui.widgets.gallery import Tile, first_output

SIZES = [(80, 24), (60, 20), (40, 12)]
BURST = [(200, 60), (60, 20), (120, 40), (40, 12), (80, 24), (160, 50), (60, 20), (100, 30)]


def _notices(seen: list[Message]) -> list[str]:
    return [m.notification.message for m in seen if isinstance(m, Notify)]


async def _burst(app: Any, end: tuple[int, int]) -> None:
    """Resizes as a window manager sends them while a window is dragged: faster than the app redraws."""
    for width, height in [*BURST, *BURST[::-1], end]:
        size = Size(width, height)
        app._driver._size = size  # what the headless driver reports as the terminal's size
        app.post_message(events.Resize(size, size))
        await asyncio.sleep(0.015)


# ---------------------------------------------------------------------------------------------- the gallery
async def test_a_tile_can_be_drawn_on_before_it_is_composed_and_after_it_is_removed() -> None:
    """A tile just mounted by a resize has no children yet, one just removed has lost them: drawing a job on
    either must not look for them."""
    from textual.app import App

    job = Job(7, "m", {"prompt": "a fox"}, JobStatus.COMPLETED, 1.0, 1.0)
    async with App().run_test(size=(40, 12)) as pilot:
        fresh, gone = Tile(), Tile()
        await pilot.app.screen.mount(gone)
        await gone.remove()
        for tile in (fresh, gone):
            assert tile.show(job, marked=True, cursor=True) is False  # no image: its word, not an error
            tile._word("unreadable image")
            tile.set_picture("/x.png", None)
            assert tile.job == job and tile.shown_path == "/x.png"


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_gallery_after_a_burst_of_resizes_shows_no_error(queue_server, size: tuple[int, int]) -> None:
    from test_gallery import open_gallery, seeded_app

    seen: list[Message] = []
    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(200, 60), message_hook=seen.append) as pilot:
        screen, gallery = await open_gallery(app, pilot)
        jobs = list(screen.view.jobs)
        removed = list(gallery.query(Tile))[-1]  # 7x4 tiles at 200x60: the last one goes at any smaller size
        churning = True

        async def churn() -> None:
            """Jobs changing meanwhile (polls, downloads): each redraws the gallery from a message handler."""
            n = 0
            while churning:
                job = jobs[n % len(jobs)]
                screen.post_message(JobChanged(dataclasses.replace(job, updated_at=job.updated_at + n)))
                n += 1
                await asyncio.sleep(0.003)

        task = asyncio.create_task(churn())
        try:
            await _burst(app, size)
            # the window shrank with the gallery open, then again while another screen was shown
            await pilot.press("escape")
            await _burst(app, size)
            await pilot.press("f2")
            await wait_for(lambda: app.screen is screen and screen.in_gallery, what="the history again")
        finally:
            churning = False
            await task
        await wait_for(lambda: gallery.size.area and gallery.page == len(gallery.query(Tile)),
                       what="the tiles of the last size")
        await wait_for(gallery.drawn, what="the thumbnails")
        # a thumbnail decoded for a tile the resize removed arrives late: it is dropped, not drawn on nothing
        output = next(first_output(j) for j in jobs if first_output(j) is not None)
        assert not removed.is_attached
        gallery._pictures_ready([(removed, output, None)])
        await pilot.pause(0.3)
        assert app.is_running
        errors = [t for t in _notices(seen) if "Could not" in t or "NoMatches" in t or "Tile" in t]
        assert errors == []
        assert app.size == Size(*size)


# ---------------------------------------------------------------------------------------------- the workers
def _worker_groups() -> list[tuple[str, int, str | None]]:
    """(file, line, group) of every ``@work(...)`` and ``run_worker(...)`` in seedream_tui/tui."""
    found: list[tuple[str, int, str | None]] = []
    root = Path(tui_package.__file__).parent
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            calls: list[ast.expr] = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                calls = [d for d in node.decorator_list
                         if (d.func if isinstance(d, ast.Call) else d).__dict__.get("id") == "work"
                         or getattr(d.func if isinstance(d, ast.Call) else d, "attr", None) == "work"]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "run_worker":
                calls = [node]
            for call in calls:
                group = None
                for keyword in call.keywords if isinstance(call, ast.Call) else []:
                    if keyword.arg == "group" and isinstance(keyword.value, ast.Constant):
                        group = keyword.value.value
                found.append((str(path.relative_to(root)), call.lineno, group))
    return found


def test_every_worker_group_has_a_sentence() -> None:
    groups = _worker_groups()
    assert len(groups) >= 30  # the walk finds them (31 groups in 34 places when written)
    missing = [f"{file}:{line} group={group!r}" for file, line, group in groups if group not in ACTIONS]
    assert missing == [], "every @work/run_worker needs a group with a sentence in failures.ACTIONS"
    for sentence in ACTIONS.values():
        assert sentence == sentence.strip() and sentence[0].islower() and not sentence.endswith(".")
        assert "_" not in sentence  # words, not a function's name


async def test_a_failing_worker_of_no_known_group_never_names_a_function(config, core) -> None:
    from seedream_tui.tui.app import SeedreamApp

    seen: list[Message] = []
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        main = await open_main(app, pilot)

        @work(group="not-a-known-group")
        async def _adopt_request(_self: Any) -> None:
            raise RuntimeError("bug")

        _adopt_request(main)
        await wait_for(lambda: any("Could not" in t for t in _notices(seen)), what="the failure's sentence")
        sentence = next(t for t in _notices(seen) if "Could not" in t)
        assert sentence == "Could not finish a background task: RuntimeError: bug. Details are in the log file."


# ---------------------------------------------------------------------------------------------- the history
def _frame_text(screen: Any) -> str:
    from rich.console import Console

    width, height = screen.app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, color_system="truecolor",
                      record=True, legacy_windows=False, safe_box=False)
    console.print(screen._compositor.render_update(full=True))
    return console.export_text(styles=False)


@pytest.mark.parametrize("size", [(60, 20), (40, 12)], ids=["60x20", "40x12"])
async def test_the_history_after_a_resize_never_draws_its_old_layout(queue_server, size: tuple[int, int]) -> None:
    from test_gallery import seeded_app

    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(200, 60)) as pilot:
        await open_main(app, pilot)
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen) and app.screen.view.jobs, what="the history")
        screen = app.screen
        assert " created " in _frame_text(screen) and not screen.has_class("-narrow")  # the 200-column layout
        await pilot.press("escape")
        await pilot.resize_terminal(*size)
        frames: list[tuple[set[str], list[str], str]] = []
        display = app._display

        def spy(shown: Any, renderable: Any) -> None:
            if shown is screen and renderable is not None:
                columns = list(screen.table.columns)
                frames.append((set(screen.classes), columns, _frame_text(screen)))
            display(shown, renderable)

        app._display = spy  # type: ignore[method-assign]
        await pilot.press("f2")
        await wait_for(lambda: frames, what="the history's first frame")
        classes, columns, text = frames[0]
        assert {"-narrow", "-cramped", "-tight"} <= classes, classes
        assert "created" not in columns and "model" not in columns, columns
        header = next(line for line in text.splitlines() if " status " in line and " prompt" in line)
        assert "created" not in header and "model" not in header, text  # the prompt column has the room
        assert "Search prompts" in text


async def test_the_closed_history_is_laid_out_for_a_new_size_before_it_is_shown_again(queue_server) -> None:
    """F2 after a burst of resizes took ~1.2 s (a reopen ~70 ms): the history screen, kept closed, still had the
    layout and the gallery of the size it was closed at, so F2 restyled it, drew the old size's 7x5 tiles at
    80x24, then swapped them for 3x2 and decoded every thumbnail again at the new tile size. Once the resizes
    are over it is laid out for the new size while closed; F2 then draws the right tiles at once and decodes
    nothing."""
    from test_gallery import open_gallery, seeded_app

    from seedream_tui.tui.widgets import gallery as gallery_module

    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(200, 60)) as pilot:
        screen, gallery = await open_gallery(app, pilot)
        assert len(gallery.tiles) == 35  # 7x5 at 200x60
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.main_screen, what="the main screen")
        await _burst(app, (80, 24))
        await wait_for(lambda: app.screen.size == (80, 24), what="the main screen at 80x24")

        def fitted() -> bool:
            return (screen.has_class("-cramped") and 0 < gallery.size.width <= 80 and len(gallery.tiles) == 6
                    and len(gallery.query(Tile)) == 6)  # 3x2

        await wait_for(fitted, limit=5, what="the closed history laid out for 80x24")
        assert app.screen is app.main_screen
        # the settle's layouts and decodes over: a look at the tiles before it ends can find the old size's layout
        await wait_for(lambda: screen.settled and gallery.drawn(),
                       what="the thumbnails of the new tile size, decoded while closed")
        decoded: list[Any] = []
        tile_image = gallery_module.tile_image

        def counting(output: Any, box: tuple[int, int]) -> Any:
            decoded.append(box)
            return tile_image(output, box)

        first_frame: list[int] = []
        display = app._display

        def spy(shown: Any, renderable: Any) -> None:
            if shown is screen and renderable is not None and not first_frame:
                first_frame.append(len(gallery.query(Tile)))
            display(shown, renderable)

        gallery_module.tile_image = counting  # type: ignore[assignment]
        app._display = spy  # type: ignore[method-assign]
        before = [(t.shown_box, tuple(t.size)) for t in gallery.tiles], tuple(gallery.size)
        try:
            await pilot.press("f2")
            await wait_for(lambda: first_frame and app.screen is screen, what="the history's first frame")
            await wait_for(gallery.drawn, what="the thumbnails")
            await pilot.pause()
        finally:
            gallery_module.tile_image = tile_image  # type: ignore[assignment]
        assert first_frame == [gallery.page]
        assert (gallery.columns, gallery.rows) == gallery_module.grid_shape(*gallery.size)
        after = [(t.shown_box, tuple(t.size)) for t in gallery.tiles], tuple(gallery.size)
        assert decoded == [], ("tiles (box, size) and the gallery's size before F2 and after", before, after)


async def test_a_settle_of_the_closed_history_after_the_app_closed_does_nothing(queue_server) -> None:
    """The closed history's settle timer can fire while the app shuts down (no screen on the stack): it must not
    raise ScreenStackError (seen in a run: the app's last callbacks raised it out of ``run_test``)."""
    from test_gallery import open_gallery, seeded_app

    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen, _gallery = await open_gallery(app, pilot)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.main_screen, what="the main screen")
        stack = app._screen_stacks[app._current_mode]
        app._screen_stacks[app._current_mode] = []  # what the app's stack is while it closes
        try:
            screen.fit_to_terminal()
            screen._settle_closed(0)
        finally:
            app._screen_stacks[app._current_mode] = stack


async def test_a_resize_while_the_app_has_no_screen_does_nothing(queue_server) -> None:
    """A resize can come while the app closes (its screen stack empty): guarding the size must not raise
    ScreenStackError (seen once in a full run, out of an app test's teardown)."""
    from test_gallery import seeded_app

    app = seeded_app(queue_server.base_url)
    async with app.run_test(size=(80, 24)):
        stack = app._screen_stacks[app._current_mode]
        app._screen_stacks[app._current_mode] = []
        try:
            app.guard_size(30, 10)
        finally:
            app._screen_stacks[app._current_mode] = stack


async def test_a_history_built_ahead_but_not_composed_yet_waits_for_its_mount_to_be_fitted(config, core) -> None:
    """The closed history is fitted to the terminal once a burst of resizes is over; a burst at start-up could end
    while the screen built ahead was attached but not composed yet (a CI run at 40x12: "NoMatches
    '#history-table'" from ``_apply_size``). Then nothing is done: it takes the terminal's size when it mounts."""
    from seedream_tui.tui import compat
    from seedream_tui.tui.app import SeedreamApp

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(60, 20)) as pilot:  # narrower than TIGHT_BELOW: the history's table is rebuilt
        await open_main(app, pilot)
        screen = HistoryScreen(core)
        compat.mount_screen_ahead(app, screen)  # attached, its compose still to come
        assert screen.is_attached and not screen.query("#history-table")
        screen.fit_to_terminal()  # the fit timer firing in that moment
        await wait_for(lambda: bool(screen.query("#history-table")), what="the history composed")
        await wait_for(lambda: screen.has_class("-tight") and screen.has_class("-cramped"), what="fitted on mount")
        assert not [n for n in app._notifications if n.severity == "error"]
