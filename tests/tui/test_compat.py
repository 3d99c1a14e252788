"""One test per function of ``seedream_tui/tui/compat.py``: what each relies on in Textual (checked: 8.2.8) and
textual-image (0.12.0). After upgrading either, these fail first, naming the function to revisit; the screens
that use them only fail later and less clearly.

Each test runs a bare Textual app (not the seedream app), so it tests Textual's behaviour, not ours. The versions
are not pinned (pyproject allows textual 8.x): these tests, not a version check, say whether a release broke one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual import work
from textual.app import App, ComposeResult
from textual.geometry import Size
from textual.screen import ModalScreen, Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from seedream_tui.tui import compat
from tests.tui.tui_support import screen_text, wait_for


# --- workers ------------------------------------------------------------------------------------------------
class _Failing(Static):
    @work(group="boom")  # exit_on_error=True, Textual's default: without the manager, the app would end
    async def boom(self) -> None:
        raise RuntimeError("boom")


class _WorkersApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        compat.route_worker_failures(self)
        self.failed: list[Worker[Any]] = []

    def compose(self) -> ComposeResult:
        yield _Failing("x")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.failed.append(event.worker)


async def test_route_worker_failures_keeps_the_app_and_tells_it() -> None:
    app = _WorkersApp()
    async with app.run_test() as pilot:
        assert type(app.workers).__module__ == compat.__name__  # Textual's workers are the app's _workers
        app.query_one(_Failing).boom()
        await wait_for(lambda: app.failed, what="the widget's failed worker reported to the app")
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert [w.group for w in app.failed] == ["boom"] and not app.workers._workers  # and it was removed


# --- the terminal -------------------------------------------------------------------------------------------
async def test_write_to_terminal_goes_through_the_driver() -> None:
    app = App[None]()
    assert compat.write_to_terminal(app, "\x1b]9;x\x07") is False  # not running: no driver
    async with app.run_test():
        written: list[str] = []
        driver: Any = app._driver
        driver.write, driver.flush = written.append, lambda: written.append("<flush>")
        assert compat.write_to_terminal(app, "\x1b]9;hello\x07", flush=True) is True
        assert written == ["\x1b]9;hello\x07", "<flush>"]


class _Boxed(App[None]):
    CSS = "Static { border: round red; width: 12; height: 3; } #b { border: tall red; }"

    def compose(self) -> ComposeResult:
        yield Static("a")
        yield Static("b", id="b")


async def test_draw_every_border_as_ascii_and_undo() -> None:
    undo = compat.draw_every_border_as_ascii()
    try:
        app = _Boxed()
        async with app.run_test(size=(20, 8)):
            text = screen_text(app)
        assert "+----------+" in text and "|" in text
        assert not set("╭╮╰╯│─▊▎▔▁") & set(text)
    finally:
        undo()
    app = _Boxed()
    async with app.run_test(size=(20, 8)):
        assert "╭" in screen_text(app)


# --- textual-image ------------------------------------------------------------------------------------------
@pytest.fixture
def _no_cell_size() -> Iterator[None]:
    from textual_image import _terminal

    saved = getattr(_terminal.get_cell_size, "_result", None)
    if saved is not None:
        del _terminal.get_cell_size._result  # type: ignore[attr-defined]
    yield
    if saved is not None:
        _terminal.get_cell_size._result = saved  # type: ignore[attr-defined]
    elif hasattr(_terminal.get_cell_size, "_result"):
        del _terminal.get_cell_size._result  # type: ignore[attr-defined]


@pytest.mark.usefixtures("_no_cell_size")
def test_image_cell_size_is_the_one_set_and_textual_image_draws_with_it() -> None:
    from textual_image.renderable import halfcell, sixel, tgp, unicode

    compat.set_image_cell_size(7, 15)
    assert compat.image_cell_size() == (7, 15)
    compat.set_image_cell_size(9, 18)  # one already known is kept
    assert compat.image_cell_size() == (7, 15)
    for renderer in (halfcell, sixel, tgp, unicode):  # each reads the function we filled
        assert (renderer.get_cell_size().width, renderer.get_cell_size().height) == (7, 15)


# --- the message line ---------------------------------------------------------------------------------------
class _MyToast(compat.Toast):
    pass


async def test_use_toast_class_makes_the_rack_build_ours() -> None:
    from textual.widgets import _toast

    before = _toast.Toast
    compat.use_toast_class(_MyToast)
    try:
        app = App[None]()
        async with app.run_test(notifications=True) as pilot:
            app.notify("hello")
            await wait_for(lambda: app.screen.query(_MyToast), what="our toast")
            await pilot.pause()
            assert "hello" in screen_text(app)
    finally:
        compat.use_toast_class(before)


class _Two(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("one", id="one")
        yield Static("two", id="two")


async def test_is_leaving_while_being_removed() -> None:
    app = _Two()
    async with app.run_test():
        one, two = app.query_one("#one"), app.query_one("#two")
        assert not compat.is_leaving(one) and not compat.is_leaving(two)
        two.display = False  # hidden is not leaving (what DOMNode.display cannot tell apart)
        assert not compat.is_leaving(two)
        removal = one.remove()
        assert one in app.screen.children and compat.is_leaving(one)
        await removal
        assert one not in app.screen.children


# --- screens laid out while not shown -----------------------------------------------------------------------
class _Probe(Widget):
    """Records the width of every line it is asked to draw."""

    DEFAULT_CSS = "_Probe { height: 3; }"

    def __init__(self) -> None:
        super().__init__()
        self.widths: list[int] = []

    def render_line(self, y: int) -> Strip:
        self.widths.append(self.size.width)
        return super().render_line(y)


class _Hidden(Screen[None]):
    def compose(self) -> ComposeResult:
        yield _Probe()


async def test_mount_screen_ahead_composes_without_showing() -> None:
    app = App[None]()
    async with app.run_test():
        screen = _Hidden()
        app.install_screen(screen, "hidden")
        compat.mount_screen_ahead(app, screen)
        await wait_for(lambda: screen.is_mounted and screen.query(_Probe), what="the screen mounted ahead")
        assert app.screen is not screen and screen not in app.screen_stack


async def test_shown_under_top_agrees_with_textual() -> None:
    class Clear(ModalScreen[None]):  # a dialog: its background lets the screen under it show
        pass

    class Opaque(Screen[None]):
        pass

    app = App[None]()
    async with app.run_test() as pilot:

        def agree() -> None:
            for screen in app.screen_stack:
                assert compat.shown_under_top(app, screen) == (screen in app._background_screens)

        base = app.screen
        await app.push_screen(Clear())
        await pilot.pause()
        agree()
        assert compat.shown_under_top(app, base)
        await app.push_screen(Opaque())
        await app.push_screen(Clear())
        await pilot.pause()
        agree()
        assert not compat.shown_under_top(app, base)
        assert not compat.shown_under_top(app, app.screen)  # the top is not under itself


async def test_a_hidden_screen_laid_out_and_rendered_for_a_new_size() -> None:
    app = App[None]()
    async with app.run_test(size=(60, 20)) as pilot:
        screen = _Hidden()
        app.install_screen(screen, "hidden")
        await app.push_screen("hidden")
        await pilot.pause()
        app.pop_screen()
        await pilot.pause()
        probe = screen.query_one(_Probe)
        assert probe.outer_size == Size(60, 3)  # what the last layout gave it (``size`` is worked out when read)
        await pilot.resize_terminal(90, 30)
        await wait_for(lambda: app.screen.outer_size == Size(90, 30), what="the top screen resized")
        assert probe.outer_size == Size(60, 3) and screen.outer_size == Size(60, 20)  # only the top is laid out

        compat.lay_out_hidden_screen(screen, app.size)
        assert screen.outer_size == Size(90, 30) and probe.outer_size == Size(90, 3)
        probe.widths.clear()
        compat.render_unshown(screen)
        assert probe.widths and set(probe.widths) == {90}
        assert app.screen is not screen


async def test_a_hidden_screen_laid_out_again_when_a_widget_asks() -> None:
    app = App[None]()
    async with app.run_test(size=(60, 20)) as pilot:
        screen = _Hidden()  # never shown: Textual leaves its layout alone (it lays out only the screen on top)
        app.install_screen(screen, "hidden")
        compat.mount_screen_ahead(app, screen)
        await wait_for(lambda: screen.is_mounted and all(p.is_mounted for p in screen.query(_Probe)), what="mounted")
        probe = screen.query_one(_Probe)
        compat.lay_out_hidden_screen(screen, app.size)
        assert probe.outer_size == Size(60, 3)
        # what mounting and that layout asked for, served until nothing is asked: then nothing is laid out
        await wait_for(lambda: not compat.lay_out_if_asked(screen, app.size), what="no layout asked any more")
        assert probe.outer_size == Size(60, 3)

        probe.styles.height = 5  # asks for a layout
        await pilot.pause()
        assert probe.outer_size == Size(60, 3)
        await wait_for(lambda: probe._layout_required or screen._layout_required, what="the request")
        assert compat.lay_out_if_asked(screen, app.size)  # laid out: True (its Resize handlers may ask again)
        assert probe.outer_size == Size(60, 5)
        await wait_for(lambda: not compat.lay_out_if_asked(screen, app.size), what="settled again")
        assert probe.outer_size == Size(60, 5)


class _Lines(compat.SteadyScrollView):
    def render_line(self, y: int) -> Strip:
        return Strip.blank(self.size.width)


class _Scrolled(App[None]):
    CSS = "_Lines { height: 1fr; } #below { height: 1; }"

    def compose(self) -> ComposeResult:
        yield _Lines()
        yield Static("below", id="below")

    def on_mount(self) -> None:
        self.query_one(_Lines).virtual_size = Size(40, 200)  # a scroll bar shown


async def test_a_steady_scroll_view_keeps_its_scroll_bar_through_layouts_at_the_same_size() -> None:
    """A layout pass at unchanged sizes repaints no scroll bar (Textual's own method repaints it every time);
    a real change of size still reaches the scroll bar."""
    app = _Scrolled()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(_Lines)
        bar = view.vertical_scrollbar
        assert view.show_vertical_scrollbar and bar.window_size == 19
        refreshes: list[object] = []
        original = bar.refresh

        def counting(*args: Any, **kwargs: Any) -> Any:
            refreshes.append(args)
            return original(*args, **kwargs)

        bar.refresh = counting  # type: ignore[method-assign]
        for _ in range(4):
            app.screen.refresh(layout=True)
            await pilot.pause()
        assert refreshes == []
        app.query_one("#below").styles.height = 5
        await pilot.pause()
        await pilot.pause()
        assert view.size.height == 15 and bar.window_size == 15 and refreshes


# --- screens ------------------------------------------------------------------------------------------------
class _Plain(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("one", classes="part")
        yield Static("two", classes="part")


class _Once(compat.OneLayoutPerResize[None]):
    def compose(self) -> ComposeResult:
        yield Static("one", classes="part")
        yield Static("two", classes="part")

    def on_resize(self) -> None:  # a handler that restyles for the size, as the main screen's does
        self.set_class(self.app.size.width < 70, "-narrow")


class _ScreensApp(App[None]):
    CSS = "_Once.-narrow .part { height: 2; }"

    def __init__(self, screen: Screen[None]) -> None:
        super().__init__()
        self.first = screen


async def _layouts_per_resize(screen: Screen[None]) -> tuple[int, list[int]]:
    """How many times the screen on top is laid out for one resize of the terminal; the parts' heights."""
    app = _ScreensApp(screen)
    async with app.run_test(size=(80, 20)) as pilot:
        await app.push_screen(screen)
        await pilot.pause()
        layouts: list[object] = []
        screen.screen_layout_refresh_signal.subscribe(screen, layouts.append)
        await pilot.resize_terminal(60, 20)
        await wait_for(lambda: screen.size == Size(60, 20), what="the new size")
        for _ in range(5):
            await pilot.pause()
        return len(layouts), [part.size.height for part in screen.query(".part")]


async def test_one_layout_per_resize_lays_the_screen_out_once() -> None:
    """Textual lays a screen on top out for a resize, then again for the Resize that layout posts to the screen
    itself (if a release stops doing that, ``OneLayoutPerResize`` can go); ours is laid out once, and what a
    resize handler changed (a class: taller parts) is laid out by the screen's timer as any change is."""
    plain, _ = await _layouts_per_resize(_Plain())
    once, heights = await _layouts_per_resize(_Once())
    assert plain >= 2
    assert once == plain - 1
    assert heights == [2, 2]


# --- image widgets ------------------------------------------------------------------------------------------
def _counting_image_class(base: type[Widget]) -> tuple[type[Widget], list[Size]]:
    renders: list[Size] = []

    class Counting(base, Renderable=base._Renderable):  # type: ignore[valid-type,misc,call-arg,attr-defined]
        def render(self) -> Any:
            renders.append(self.size)
            return super().render()

    return Counting, renders


class _PictureApp(App[None]):
    CSS = "#pic { width: 1fr; height: 1fr; } #pic.-small { width: 20; height: 6; }"

    def __init__(self, image_class: type[Widget]) -> None:
        super().__init__()
        self.image_class = image_class

    def compose(self) -> ComposeResult:
        yield self.image_class(id="pic")


async def _renders_per_new_size(image_class: type[Widget]) -> tuple[list[Size], Size]:
    """What the widget is drawn at after a layout gives it a new size, and its virtual size then."""
    from PIL import Image as PILImage

    counting, renders = _counting_image_class(image_class)
    app = _PictureApp(counting)
    async with app.run_test(size=(80, 24)) as pilot:
        picture = app.query_one("#pic")
        picture.image = PILImage.new("RGB", (64, 48), (200, 40, 40))  # type: ignore[attr-defined]
        await wait_for(lambda: bool(renders), what="the first picture")
        for _ in range(3):
            await pilot.pause()
        renders.clear()
        picture.add_class("-small")  # a layout that gives the widget a new size
        await wait_for(lambda: picture.size == Size(20, 6), what="the new size")
        for _ in range(5):
            await pilot.pause()
        return renders, picture.virtual_size


async def test_a_steady_image_takes_its_new_size_from_the_layout_and_is_drawn_at_it() -> None:
    """The steady subclass (textual-image's subclass hook, ``Renderable``, still taken) gets its new size and
    virtual size from the layout, without the refresh of ``virtual_size``, and is drawn at it once. That the
    refresh drew the picture twice is shown in the app (``test_finish_quiet``): a bare app draws both in one
    frame."""
    from textual_image.widget import HalfcellImage

    steady_class = compat.steady_image_class(HalfcellImage)
    assert issubclass(steady_class, HalfcellImage) and steady_class.__name__ == "SteadyHalfcellImage"
    renders, virtual = await _renders_per_new_size(steady_class)
    assert renders == [Size(20, 6)]
    assert virtual == Size(20, 6)



async def test_a_steady_sixel_image_draws_in_a_steady_part_that_takes_its_new_size() -> None:
    """Sixel draws in a child it composes for each picture (``_ImageSixelImpl``, from ``image`` and
    ``_sixel_options``): the steady class composes a steady one, which follows the layout's sizes."""
    from PIL import Image as PILImage
    from textual_image.widget import SixelImage

    app = _PictureApp(compat.steady_image_class(SixelImage))
    async with app.run_test(size=(80, 24)):
        picture = app.query_one("#pic")
        picture.image = PILImage.new("RGB", (64, 48), (200, 40, 40))  # type: ignore[attr-defined]
        await wait_for(lambda: bool(picture.children), what="the sixel part")
        part = picture.children[0]
        assert type(part).__name__ == "SteadySixelPart" and "_ImageSixelImpl" in [c.__name__ for c in type(part).__mro__]
        picture.add_class("-small")  # (the part is composed anew for each picture: read it again each time)
        await wait_for(lambda: picture.children and picture.children[0].size == Size(20, 6), what="its new size")
        assert picture.children[0].virtual_size == Size(20, 6)

# --- select -------------------------------------------------------------------------------------------------
class _Holders(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(id="top")


async def _select_cut_while_mounting(select_class: type, *, how: str) -> str:
    """Mount a Select and, in the same moment, remove what holds it or quit the app: what the app ended with."""
    from textual.containers import Vertical

    app = _Holders()
    try:
        async with app.run_test() as pilot:
            holder = Vertical()
            await app.screen.mount(holder)
            holder.mount(select_class([("a", 1), ("b", 2)], value=1, allow_blank=False))
            if how == "remove":
                await holder.remove()
                await pilot.pause()
            else:
                app.exit()
    except Exception as exc:  # noqa: BLE001 - what the app ended with is the result
        return f"{type(exc).__name__}: {exc}"
    return "ok"


@pytest.mark.parametrize("how", ["remove", "quit"])
async def test_a_guarded_select_removed_while_it_mounts_ends_nothing(how: str) -> None:
    """Textual's Select ends the app with NoMatches when it is removed (or the app quits) while it mounts (if a
    release fixes that, ``MountGuardedSelect`` can go); ours lets it go and still fills a Select that stays."""
    from textual.widgets import Select

    assert "NoMatches" in await _select_cut_while_mounting(Select, how=how)
    assert await _select_cut_while_mounting(compat.MountGuardedSelect, how=how) == "ok"


async def test_a_guarded_select_that_stays_shows_its_value_and_list() -> None:
    app = _Holders()
    async with app.run_test() as pilot:
        select = compat.MountGuardedSelect([("a", 1), ("b", 2)], value=2, allow_blank=False)
        await app.screen.mount(select)
        await pilot.pause()
        assert "b" in screen_text(app)
        select.value = 1
        await pilot.pause()
        assert select.value == 1 and "a" in screen_text(app)
