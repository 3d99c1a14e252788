"""Issue 23: a toast leaving repaints only what it covered.

What the terminal is sent when a message goes is read from the frames Textual hands its driver, rendered to the
bytes a terminal would get: every cell written must lie under the toast that left (the key hints it hid), not
the options panel's border or anything else on the screen.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from rich.cells import cell_len
from textual.widgets._toast import Toast
from tui_support import open_main, wait_for

from seedream_tui.tui.app import SeedreamApp

#: a cursor move (CSI row ; column H) or any other control sequence, which writes no cell
_SEQUENCE = re.compile(r"\x1b\[(?:(\d+);(\d+)H|[0-9;?]*[A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def written_cells(sent: str) -> set[tuple[int, int]]:
    """The (x, y) cells a terminal writes for ``sent``: text after each cursor move, by cell width."""
    cells: set[tuple[int, int]] = set()
    x = y = 0

    def write(text: str) -> None:
        nonlocal x
        for char in text.replace("\r", "").replace("\n", ""):
            width = cell_len(char)
            cells.update((x + dx, y) for dx in range(width))
            x += width

    position = 0
    for match in _SEQUENCE.finditer(sent):
        write(sent[position:match.start()])
        if match.group(1):
            y, x = int(match.group(1)) - 1, int(match.group(2)) - 1
        position = match.end()
    write(sent[position:])
    return cells


def test_written_cells_follow_the_cursor_moves() -> None:
    assert written_cells("\x1b[3;5Hab\x1b[1mc\x1b[0m\x1b[10;1H界") == {(4, 2), (5, 2), (6, 2), (0, 9), (1, 9)}


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_a_toast_leaving_repaints_only_what_it_covered(queue_server, size: tuple[int, int]) -> None:
    from conftest import make_config

    app = SeedreamApp(make_config(queue_server.base_url, theme="textual-dark", notify_bell=False))
    sent: list[str] = []
    async with app.run_test(size=size, notifications=True) as pilot:
        main = await open_main(app, pilot)
        main.editor.cursor_blink = False  # its blinking would write its cell meanwhile
        display = app._display

        def keep(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                sent.append(renderable.render_segments(app.console))

        app._display = keep  # type: ignore[method-assign]
        app.notify("A message that comes and goes.", timeout=60)
        await wait_for(lambda: [t for t in app.screen.query(Toast) if t.region.area], what="the toast drawn")
        toast = next(t for t in app.screen.query(Toast) if t.region.area)
        covered = toast.region
        await wait_for(lambda: any("comes and goes" in frame for frame in sent), what="the toast on the terminal")

        async def quiet() -> bool:
            """Nothing more sent for a few frames (the toast's arrival and whatever start-up left are over)."""
            sent.clear()
            for _ in range(5):
                await pilot.pause()
            return not sent

        for _ in range(50):
            if await quiet():
                break
        else:
            raise AssertionError(f"the screen never stopped drawing: {sent[-1][:200]!r}")

        app.clear_notifications()
        await wait_for(lambda: not [t for t in app.screen.query(Toast) if t.region.area], what="the toast gone")
        await wait_for(lambda: sent, what="what it covered drawn again")
        for _ in range(5):
            await pilot.pause()
        cells = written_cells("".join(sent))
        assert cells, sent
        outside = {cell for cell in cells if not covered.contains(*cell)}
        assert not outside, (covered, sorted(outside)[:20], len(outside))
        # and all it covered is drawn again (the key hints it hid), not left as the toast's leftovers
        assert {(x, y) for y in range(covered.y, covered.bottom) for x in range(covered.x, covered.right)} <= cells
