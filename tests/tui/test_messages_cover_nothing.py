"""Issue 20 §3: nothing covers the work.

Toasts stacked in the top right hid the options panel at 80x24 (Resolution, Max images, Output format for
~5 s), the prompt being typed at 60x20 and 40x12, and the "make the window larger" text; the 16-colour TERM
warning took 7 lines over the prompt. Messages now take the bottom line (over the key hints; a long sentence
the line above too), one at a time, the newest saying how many others are live; none over the too-small text.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.geometry import Region
from textual.message import Message
from textual.notifications import Notify
from textual.widgets._toast import Toast
from tui_support import open_main, screen_text, wait_for

from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.run import prepare_terminal
from seedream_tui.tui.screens.too_small import TooSmallScreen

SIZES = [(80, 24), (60, 20), (40, 12)]
LONG = ("Could not submit the job: The history is busy (another seedream-tui is writing to it). Details are in "
        "the log file.")


def drawn_toasts(app: Any) -> list[Toast]:
    return [t for t in app.screen.query(Toast) if t.region.area]


def work_regions(main: Any) -> dict[str, Region]:
    """What the user edits or reads on the main screen: the prompt, the options, the job table's rows."""
    regions = {}
    for name, widget in (("prompt", main.editor), ("options", main.query_one("#options-pane"))):
        if widget.display and widget.region.area:
            regions[name] = widget.region
    regions["job rows"] = main.table.content_region
    return regions


async def assert_nothing_covered(app: Any, main: Any) -> Toast:
    await wait_for(lambda: drawn_toasts(app), what="a toast on screen")
    toasts = drawn_toasts(app)
    assert len(toasts) == 1, [str(t.render()) for t in toasts]  # one line of messages, not a stack
    toast = toasts[0]
    for name, region in work_regions(main).items():
        assert not toast.region.overlaps(region), (name, region, toast.region)
    assert toast.region.bottom == app.size.height  # the bottom of the screen: the status area
    return toast


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_toasts_never_cover_the_prompt_the_options_or_the_jobs(config, core, size: tuple[int, int]) -> None:
    seen: list[Message] = []
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=size, message_hook=seen.append, notifications=True) as pilot:
        main = await open_main(app, pilot)
        await pilot.press(*"a red fox")  # typing in the prompt
        app.notify(LONG, severity="error", timeout=30)
        app.notify("Token saved.", timeout=30)
        app.notify("Job #3 is done: 1 image.", timeout=30)
        toast = await assert_nothing_covered(app, main)
        # one per event, collapsed: the newest shows, saying how many others are live
        assert [m.notification.message for m in seen if isinstance(m, Notify)][-3:] == [
            LONG, "Token saved.", "Job #3 is done: 1 image."]
        await wait_for(lambda: "(+2 more)" in str(toast.render()), what="the count of the others")
        await wait_for(lambda: "Job #3 is done: 1 image.  (+2 more)" in screen_text(app), what="the line drawn")
        assert main.editor.text == "a red fox"
        if main.has_class("-compact"):  # the options in the prompt's place (ctrl+n): not covered either
            await pilot.press("ctrl+n")
            await wait_for(lambda: main.query_one("#options-pane").region.area, what="the options")
            await assert_nothing_covered(app, main)
        # the newest clicked away, the one before comes back, and the line says one fewer
        await pilot.click(toast)
        await wait_for(lambda: any("Token saved." in str(t.render()) for t in drawn_toasts(app)),
                       what="the previous message")
        await wait_for(lambda: "(+1 more)" in str(drawn_toasts(app)[0].render()), what="one other")


async def test_a_long_error_keeps_off_the_job_rows_at_40x12(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(40, 12), notifications=True) as pilot:
        main = await open_main(app, pilot)
        app.notify(LONG, severity="error", timeout=30)
        toast = await assert_nothing_covered(app, main)
        assert toast.region.height <= 3


async def test_no_toast_over_the_make_the_window_larger_text(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_main(app, pilot)
        await pilot.resize_terminal(30, 10)
        await wait_for(lambda: isinstance(app.screen, TooSmallScreen), what="the too-small screen")
        app.notify("Job #3 is done: 1 image.", timeout=30)
        await wait_for(lambda: app.screen.query(Toast), what="the toast made")
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "Job #3" not in text
        assert "Make the window" in text and "Ctrl+Q quits" in text and "resume next" in text
        # large enough again: the message is still there to read
        await pilot.resize_terminal(80, 24)
        await wait_for(lambda: "Job #3 is done: 1 image." in screen_text(app), what="the message after")


async def test_the_16_colour_warning_is_one_line_in_the_status_area(config, core) -> None:
    prepare_terminal(config, "halfcell", {"TERM": "xterm"}, "utf-8")
    assert config.warnings
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        main = await open_main(app, pilot)
        toast = await assert_nothing_covered(app, main)
        assert "TERM=xterm" in str(toast.render()) and "TERM=xterm-256color" in str(toast.render())
        assert toast.region.height == 1 and toast.region.y == 23
