"""The one module that names private parts of Textual and textual-image (issue 23).

Textual may change anything whose name starts with ``_`` in any release. Everything else in the package uses
public APIs only (``tests/test_compat_scan.py`` fails otherwise); what no public API does is here, each use
behind one function that says what it is for and why no public API does it. Every function was checked
against **Textual 8.2.8** and **textual-image 0.12.0**; ``tests/tui/test_compat.py`` has a test per function
that fails first (before any screen does) if a release changes what it relies on.

When upgrading Textual: run ``pytest tests/tui/test_compat.py``; a failure names the function to revisit.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.css.query import NoMatches
from textual.screen import Screen, ScreenResultType
from textual.scroll_view import ScrollView
from textual.widget import Widget
from textual.widgets import Select
from textual.widgets._select import SelectCurrent  # the part that shows the value (see MountGuardedSelect)
from textual.widgets._toast import Toast  # the base of the message line's toasts (see use_toast_class)
from textual.worker import Worker, WorkerState
from textual.worker_manager import WorkerManager

if TYPE_CHECKING:
    from textual import events
    from textual.app import App
    from textual.dom import DOMNode
    from textual.geometry import Size

#: what a Select holds (Textual's own type variable is in a private module)
SelectValue = TypeVar("SelectValue", bound=Hashable)

TEXTUAL_CHECKED = "8.2.8"
TEXTUAL_IMAGE_CHECKED = "0.12.0"

__all__ = [
    "TEXTUAL_CHECKED",
    "TEXTUAL_IMAGE_CHECKED",
    "MountGuardedSelect",
    "OneLayoutPerResize",
    "SteadyScrollView",
    "Toast",
    "draw_every_border_as_ascii",
    "image_cell_size",
    "is_leaving",
    "lay_out_hidden_screen",
    "lay_out_if_asked",
    "mount_screen_ahead",
    "render_unshown",
    "route_worker_failures",
    "set_image_cell_size",
    "shown_under_top",
    "steady_image_class",
    "use_toast_class",
    "write_to_terminal",
]


# --- workers ------------------------------------------------------------------------------------------------
class _ReportingWorkers(WorkerManager):
    """The app's worker manager: no worker can end the app; failures reach the app's one handler."""

    def __init__(self, app: App[Any]) -> None:
        super().__init__(app)
        self._owner = app

    def add_worker(self, worker: Worker[Any], start: bool = True, exclusive: bool = True) -> None:
        worker.exit_on_error = False  # nothing but the user quits the app
        super().add_worker(worker, start=start, exclusive=exclusive)

    def _remove_worker(self, worker: Worker[Any]) -> None:
        super()._remove_worker(worker)
        if worker.state is WorkerState.ERROR and worker.node is not self._owner:
            # the app's own workers already post their state to it
            self._owner.post_message(Worker.StateChanged(worker, worker.state))


def route_worker_failures(app: App[Any]) -> None:
    """Every worker of every screen and widget (``run_worker``, ``@work``) runs with ``exit_on_error=False``, and
    one that fails posts ``Worker.StateChanged`` (state ERROR) to the app too, whose one handler logs the
    traceback and shows a sentence (``failures.py``). Call in the app's ``__init__``.

    Why private: Textual posts ``Worker.StateChanged`` only to the worker's own node (``bubble=False``) and ends
    the app on a failure unless each call passes ``exit_on_error=False``; the worker manager is the one place
    every worker passes, and the app has no setter for it (``App.workers`` reads ``App._workers``). Relies on
    ``App._workers`` and ``WorkerManager._remove_worker`` (called when a worker's task is done).
    """
    app._workers = _ReportingWorkers(app)


# --- the terminal -------------------------------------------------------------------------------------------
def write_to_terminal(app: App[Any], text: str, *, flush: bool = False) -> bool:
    """Write ``text`` (an escape sequence: OSC 9, erase display) to the terminal, in order with Textual's frames;
    False when the app has no driver (not started, or closed).

    Why private: Textual writes the bell (``App.bell``) and OSC 52 (``App.copy_to_clipboard``) itself but has no
    public way to write another sequence; writing to ``sys.__stdout__`` would race with its writer thread, which
    owns the terminal while the app runs. Relies on ``App._driver`` and ``Driver.write`` / ``Driver.flush``.
    """
    driver = app._driver
    if driver is None:
        return False
    driver.write(text)
    if flush:
        driver.flush()
    return True


def draw_every_border_as_ascii() -> Callable[[], None]:
    """Every border style but the box-free ones draws with ``+ - |`` (a terminal that cannot encode the
    box-drawing characters); returns the undo.

    Why private: borders are CSS (``border: round``, ``tall``…) set by Textual's own widgets as well as ours,
    and there is no setting for the characters they are drawn with: ``textual._border`` holds the tables
    (``BORDER_CHARS``, ``BORDER_LOCATIONS``) and the cache of drawn boxes (``get_box``).
    """
    from textual import _border

    saved_chars, saved_locations = dict(_border.BORDER_CHARS), dict(_border.BORDER_LOCATIONS)
    ascii_chars, ascii_locations = _border.BORDER_CHARS["ascii"], _border.BORDER_LOCATIONS["ascii"]
    for name in list(_border.BORDER_CHARS):
        if name not in ("", "ascii", "none", "hidden", "blank"):
            _border.BORDER_CHARS[name] = ascii_chars
            _border.BORDER_LOCATIONS[name] = ascii_locations
    _border.get_box.cache_clear()

    def undo() -> None:
        _border.BORDER_CHARS.update(saved_chars)
        _border.BORDER_LOCATIONS.update(saved_locations)
        _border.get_box.cache_clear()

    return undo


# --- textual-image ------------------------------------------------------------------------------------------
def set_image_cell_size(width: int, height: int) -> None:
    """Tell textual-image the terminal's cell size in pixels (our start-up probe measured it), so that it does
    not ask the terminal again (a blocking round trip, or a wrong 10x20 guess in tmux and over SSH).

    Why private: textual-image measures the cell size itself on first use and caches it on its function
    ``textual_image._terminal.get_cell_size`` (attribute ``_result``); it has no setting for it (the
    ``TEXTUAL_CELL_WIDTH`` / ``_HEIGHT`` environment is read only after its own queries fail). A size already
    cached is kept.
    """
    from textual_image import _terminal

    if not hasattr(_terminal.get_cell_size, "_result"):
        _terminal.get_cell_size._result = _terminal.CellSize(width, height)  # type: ignore[attr-defined]


def image_cell_size() -> tuple[int, int]:
    """The cell size in pixels that textual-image draws with (what :func:`set_image_cell_size` set, or what it
    measured), so that our thumbnails are decoded at the size it will draw them.

    Why private: textual-image exports no function for it (``textual_image._terminal.get_cell_size``).
    """
    from textual_image._terminal import get_cell_size

    size = get_cell_size()
    return (size.width, size.height)


# --- the message line (toasts) ------------------------------------------------------------------------------
def use_toast_class(toast_class: type[Toast]) -> None:
    """Every screen's toast rack builds its toasts with ``toast_class`` (a subclass of :class:`Toast`, built as
    ``toast_class(notification)``).

    Why private: ``App.notify`` is public and so is the styling of toasts (CSS ``Toast``, ``ToastRack``), but
    not what a toast draws: ``ToastRack.show`` builds ``Toast(notification)`` from the module
    ``textual.widgets._toast``, looked up there at each call, and no public API chooses the class. The base to
    subclass is this module's ``Toast`` (the same private class, named here so that nothing else imports it).
    """
    from textual.widgets import _toast

    _toast.Toast = toast_class  # type: ignore[misc]


def is_leaving(node: DOMNode) -> bool:
    """True while ``node`` is being removed (``remove()`` called, not done): it is still among its parent's
    children until then.

    Why private: ``DOMNode.display`` reads False then, but also whenever the node is hidden by its styles,
    which the message line does to every message but the newest; ``MessagePump._closing`` and
    ``DOMNode._pruning`` are the flags Textual sets.
    """
    return bool(node._closing or node._pruning)


# --- screens laid out while not shown -----------------------------------------------------------------------
def mount_screen_ahead(app: App[Any], screen: Screen[Any]) -> None:
    """Mount an installed screen (compose, styles, children) while another one is shown, as ``push_screen``
    does first, so that its first showing costs what a reopen costs.

    Why private: the public ways to mount a screen (``push_screen``, ``switch_screen``) also show it.
    Relies on ``App._get_screen``.
    """
    app._get_screen(screen)


def shown_under_top(app: App[Any], screen: Screen[Any]) -> bool:
    """True if ``screen`` shows under the screen on top (a dialog with a see-through background): Textual then
    lays it out and draws it with the top screen, on resize too.

    Public APIs only (``App.screen_stack``, ``styles.background``), mirroring Textual's private rule
    (``App._background_screens``): the screens under the top one, down to the first with an opaque
    background. The test compares the two.
    """
    stack = app.screen_stack
    for below in reversed(stack[:-1]):
        if below is screen:
            return True
        if below.styles.background.a == 1:
            return False
    return False


def lay_out_hidden_screen(screen: Screen[Any], size: Size) -> None:
    """Lay out a screen that is not on top (closed and kept, or covered) for ``size``: every widget gets its
    region and a Resize, as when it is shown.

    Why private: Textual lays out only the screen on top (and those showing under it); ``refresh(layout=True)``
    on a hidden screen waits until it is shown. Relies on ``Screen._refresh_layout``.
    """
    screen._refresh_layout(size)


def lay_out_if_asked(screen: Screen[Any], size: Size) -> bool:
    """Lay a hidden screen out again for ``size`` if one of its widgets asked for a layout since the last one
    (``refresh(layout=True)``); True if it did, or if one is still asked for after it: a layout sends Resize
    events, whose handlers (run after this returns) may ask for another.

    Why private: as :func:`lay_out_hidden_screen`; the request is ``Screen._layout_required``, which Textual
    reads only for the screen on top.
    """
    laid_out = screen._layout_required
    if laid_out:
        screen._layout_required = False
        screen._refresh_layout(size)
    return laid_out or bool(screen._layout_required)


def render_unshown(screen: Screen[Any]) -> None:
    """Render every visible widget of a hidden screen into its line caches, writing nothing to the terminal:
    the next time the screen is shown, its frame is drawn from them.

    Why private: rendering is the compositor's (``Screen._compositor.render_update``), which Textual runs only
    for the screen on top.
    """
    screen._compositor.render_update(full=True)


# --- scroll views -----------------------------------------------------------------------------------------
class SteadyScrollView(ScrollView):
    """A ScrollView that a layout pass at unchanged sizes leaves alone (the job and history tables' base).

    Textual's ``ScrollView._size_updated`` compares the container size the layout passes with its own, which
    is that size less its scroll bar: with a scroll bar shown they never match, so every layout pass of the
    screen (a toast shown or gone, a row added elsewhere, a status line resized) updates the scroll bars
    and repaints them: ~2 KB at 200x60 each time, 24 KB in 13 s with 500 live jobs, 31 KB of the start-up
    wave (issue 23). Here a call with the same sizes as the last one (and the same virtual size) is skipped;
    any change goes to Textual's own method. No public API hooks a widget's layout-time size update.
    """

    _steady_sizes: tuple[Size, Size, Size, Size] | None = None

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        sizes = (size, virtual_size, container_size, self.virtual_size)
        if sizes == self._steady_sizes:
            return False
        self._steady_sizes = sizes
        return super()._size_updated(size, virtual_size, container_size, layout)


# --- screens ------------------------------------------------------------------------------------------------
class OneLayoutPerResize(Screen[ScreenResultType]):
    """A screen laid out once when the terminal is resized, not twice (the base of the app's full screens).

    Textual's ``Screen._on_resize`` lays the whole screen out (and renders it whole) for the new size; that
    layout pass then posts a Resize to every widget whose region changed, the screen itself included, and
    the screen's own Resize runs ``Screen._on_resize`` again: a second full layout at the size it was just
    laid out for (25-40 ms at 120x40, and a second whole frame when a screen is first shown). Here a Resize
    that finds the screen on top already laid out for that size (the terminal's) goes no further: anything
    asked for since (a class changed by a handler, a widget that resized itself) is a pending layout that
    the screen's update timer runs, as it runs every other. A screen that is not on top, or not laid out
    for the size, is handled by Textual as always. Not for modal screens: when one is shown, its own Resize is
    what lays out the screens seen under it. No public API hooks the screen's resize handling.
    """

    async def _on_resize(self, event: events.Resize) -> None:
        if self.is_current and event.size == self.app.size and self._compositor.size == event.size:
            event.stop()
            event.prevent_default()  # Screen._on_resize, next in the MRO, is not called


# --- image widgets ------------------------------------------------------------------------------------------
def steady_image_class(image_class: type[Widget]) -> type[Widget]:
    """A subclass of one of textual-image's widget classes whose picture is drawn once per layout that resizes it.

    When a layout pass gives a widget a new size, Textual marks it dirty (it is drawn in that pass's frame) and
    sets its ``virtual_size`` reactive, whose change asks for one more layout and a repaint of the widget: the
    picture is sent to the terminal a second time, a few milliseconds later (~125 KB for a preview at 200x60 in
    truecolor halfcell, every time the previewed job finishes; each gallery tile each time the grid changes). An
    image widget has no children and scrolls nothing: its virtual size is its size, and the second layout and
    repaint change nothing. Here its size is updated as Textual does for a scroll-only layout
    (``Widget._size_updated(..., layout=False)``: the reactive set without its refresh). No public API sets a
    widget's layout-time size.
    """
    renderable = image_class._Renderable  # type: ignore[attr-defined]  # textual-image's subclass hook needs it

    class SteadyImage(_SizedByLayout, image_class, Renderable=renderable):  # type: ignore[valid-type,misc,call-arg]
        pass

    sixel_part = _sixel_part_class(image_class)
    if sixel_part is not None:  # sixel draws in a child it composes anew for each picture: that child too

        class SteadySixelPart(_SizedByLayout, sixel_part):  # type: ignore[valid-type,misc]
            pass

        def compose(self: Any) -> Any:
            yield SteadySixelPart(self.image, self._sixel_options)

        SteadyImage.compose = compose

    SteadyImage.__name__ = SteadyImage.__qualname__ = f"Steady{image_class.__name__}"
    return SteadyImage


class _SizedByLayout:
    """What :func:`steady_image_class` changes in a widget: its layout-time size set without the refresh of
    ``virtual_size`` (``Widget._size_updated(..., layout=False)``)."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        return bool(super()._size_updated(size, virtual_size, container_size, layout=False))  # type: ignore[misc]


def _sixel_part_class(image_class: type[Widget]) -> type[Widget] | None:
    """textual-image's sixel widget draws in a child of its own (``_ImageSixelImpl``), composed from
    ``image`` and ``_sixel_options``; None for the other modes (they draw themselves)."""
    from textual_image.widget import sixel

    if not issubclass(image_class, sixel.Image):
        return None
    return sixel._ImageSixelImpl


# --- select -------------------------------------------------------------------------------------------------
class MountGuardedSelect(Select[SelectValue]):
    """A Select that can be removed while it mounts (every Select of the app).

    Textual's ``Select._on_mount`` fills its list and shows its value by querying its children; when the Select
    is removed (its screen closed, the app quitting) while it mounts, the removal has taken them and the query
    raises NoMatches, which ends the app with a traceback: quitting in the first tenth of a second after start,
    while the options panel's fields mount, did (about 1 run in 8 here). Here that handler runs as Textual's
    does, and a NoMatches is let go only while the Select is being removed, the app is closing, or the Select
    or the part showing its value has no children (composed while its parent was going: none mounted); any
    other still ends the app. The same for a value set while it mounts (``_watch_value``: a field's initial
    value). Relies on ``Select._on_mount``, ``Select._watch_value``, ``SelectCurrent`` and ``Widget._on_mount``
    (the handlers after this one, called here) and on ``is_leaving``; no public API runs a widget's mount.
    """

    def _on_mount(self, event: events.Mount) -> None:
        event.prevent_default()  # the handlers after this one in the MRO are called here, guarded
        try:
            Select._on_mount(self, event)
        except NoMatches:
            if not self._cut_short():
                raise
            return
        Widget._on_mount(self, event)

    def _watch_value(self, value: Any) -> None:
        try:
            super()._watch_value(value)
        except NoMatches:  # a value set while it mounts (a field's initial value): the same race
            if not self._cut_short():
                raise

    def _cut_short(self) -> bool:
        """Being removed, the app closing, or composed while its parent was going (a part without its own)."""
        parts = [self, *self.query(SelectCurrent)]
        return not self.app.is_running or is_leaving(self) or any(not part.children for part in parts)
