"""Image mode: tmux/SSH prefer half cells, the flag beats the setting, and the one-round-trip terminal probe.

The probe tests run a real child process on a pseudo-terminal and play the terminal on the other side
(answering or ignoring its queries, as xterm, kitty, a sixel terminal or a silent one would).
"""

from __future__ import annotations

import os
import pty
import select
import struct
import sys
import time
from dataclasses import dataclass

import pytest

from seedream_tui.tui import images
from seedream_tui.tui.termprobe import CELL_QUERY, DA1_QUERY, KITTY_ID, TerminalInfo, parse_replies

ESC = "\x1b"


# --------------------------------------------------------------------------- resolve_mode
@pytest.mark.parametrize(
    ("flag", "setting", "env", "expected"),
    [
        (None, None, {}, "auto"),
        (None, "auto", {"TMUX": "/tmp/tmux-0/default,1,0"}, "halfcell"),
        (None, None, {"SSH_CONNECTION": "10.0.0.1 5 10.0.0.2 22"}, "halfcell"),
        (None, None, {"SSH_TTY": "/dev/pts/3"}, "halfcell"),
        (None, "sixel", {"TMUX": "x"}, "sixel"),  # a setting forces a mode even in tmux
        ("tgp", "sixel", {}, "tgp"),  # the flag beats the setting
        ("auto", "unicode", {}, "unicode"),  # "--image-mode auto" defers to the setting
        ("off", None, {"TMUX": "x"}, "off"),
    ],
)
def test_resolve_mode(flag: str | None, setting: str | None, env: dict[str, str], expected: str) -> None:
    assert images.resolve_mode(flag, setting, env) == expected


def test_unknown_mode_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="Unknown image mode 'holo'.*halfcell"):
        images.resolve_mode("holo", None, {})


# --------------------------------------------------------------------------- parse_replies
def test_parse_xterm_with_sixel_and_cell_size() -> None:
    info = parse_replies(f"{ESC}[6;18;9t{ESC}[?63;1;2;4;6;9;15;22c")
    assert info == TerminalInfo(sixel=True, kitty=False, cell_px=(9, 18), answered=True)
    assert info.best_mode() == "sixel"


def test_parse_kitty() -> None:
    info = parse_replies(f"{ESC}_Gi={KITTY_ID};OK{ESC}\\{ESC}[?62;c")
    assert (info.kitty, info.sixel, info.best_mode()) == (True, False, "tgp")


def test_parse_kitty_error_or_other_id_is_not_support() -> None:
    assert not parse_replies(f"{ESC}_Gi={KITTY_ID};ENOTSUPPORTED:no{ESC}\\{ESC}[?62c").kitty
    assert not parse_replies(f"{ESC}_Gi=7;OK{ESC}\\{ESC}[?62c").kitty


def test_parse_plain_vt220_and_silence() -> None:
    assert parse_replies(f"{ESC}[?62;22c").best_mode() == "halfcell"
    silent = parse_replies("")
    assert (silent.answered, silent.best_mode()) == (False, "halfcell")
    # "4" must be a whole attribute: 42 is not sixel
    assert not parse_replies(f"{ESC}[?62;42c").sixel


# --------------------------------------------------------------------------- a real pty
@dataclass
class FakeTerminal:
    """What the played terminal answers. ``None`` for a query it ignores."""

    da1: str | None = f"{ESC}[?62;22c"
    kitty: str | None = None
    cell: str | None = None
    pixels: tuple[int, int] = (0, 0)  # what TIOCGWINSZ reports; (0, 0) like tmux


def run_on_pty(code: str, terminal: FakeTerminal, *, timeout: float = 20.0) -> tuple[str, list[str]]:
    """Run ``python -c code`` on a pty playing ``terminal``; return (its output, the queries it sent)."""
    rows, cols = 24, 80
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            import fcntl
            import termios

            winsize = struct.pack("HHHH", rows, cols, terminal.pixels[0], terminal.pixels[1])
            fcntl.ioctl(0, termios.TIOCSWINSZ, winsize)
            os.execv(sys.executable, [sys.executable, "-c", code])
        finally:
            os._exit(127)
    out = b""
    queries: list[str] = []
    answered = 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            text = out.decode("latin-1")
            # answer, in order, every query not answered yet (a terminal answers each once)
            found = sorted(
                (text.find(q, 0), q)
                for q in (f"{ESC}_Gi={KITTY_ID}", CELL_QUERY, DA1_QUERY)
                if q in text
            )
            for _, query in found[answered:]:
                queries.append(query)
                reply = {DA1_QUERY: terminal.da1, CELL_QUERY: terminal.cell}.get(query, terminal.kitty)
                if reply:
                    os.write(fd, reply.encode())
            answered = len(found)
    finally:
        os.close(fd)
        os.waitpid(pid, 0)
    return out.decode("latin-1"), queries


PROBE = (
    "from seedream_tui.tui import images\n"
    "import sys\n"
    "mode = images.configure({mode!r})\n"
    "assert 'textual_image.widget' not in sys.modules  # imported with the first image widget, not before\n"
    "cls = images.image_widget_class()  # as the app imports it: no terminal query of its own\n"
    "from textual_image import widget as w\n"
    "from textual_image._terminal import get_cell_size\n"
    "names = {{w.SixelImage: 'SixelImage', w.TGPImage: 'TGPImage', w.HalfcellImage: 'HalfcellImage',\n"
    "          w.UnicodeImage: 'UnicodeImage'}}\n"
    "base = next(c for c in cls.__mro__ if c in names)  # the app draws with a subclass (compat.steady_image_class)\n"
    "print('RESULT', mode, names[base], tuple(get_cell_size()), flush=True)\n"
)


def result_of(output: str) -> list[str]:
    """[mode, widget class, cell size] printed by PROBE (after whatever queries the child wrote)."""
    line = output[output.index("RESULT ") :].splitlines()[0]
    return line.split(" ", 3)[1:]


def test_auto_picks_sixel_in_one_round_trip_with_the_reported_cell_size() -> None:
    terminal = FakeTerminal(da1=f"{ESC}[?63;1;4;22c", cell=f"{ESC}[6;18;9t")
    output, queries = run_on_pty(PROBE.format(mode="auto"), terminal)
    assert result_of(output) == ["sixel", "SixelImage", "(9, 18)"]
    # kitty, cell size and DA1 went out together, and nothing else was asked (no second DA1 of textual-image)
    assert queries == [f"{ESC}_Gi={KITTY_ID}", CELL_QUERY, DA1_QUERY]


def test_auto_picks_kitty_graphics_when_the_terminal_says_ok() -> None:
    terminal = FakeTerminal(kitty=f"{ESC}_Gi={KITTY_ID};OK{ESC}\\", pixels=(800, 480))
    output, queries = run_on_pty(PROBE.format(mode="auto"), terminal)
    # pixels from the ioctl: 800/80 x 480/24, and then no cell-size query at all
    assert result_of(output) == ["tgp", "TGPImage", "(10, 20)"]
    assert CELL_QUERY not in queries


def test_auto_in_a_plain_terminal_uses_half_cells() -> None:
    output, _ = run_on_pty(PROBE.format(mode="auto"), FakeTerminal(cell=f"{ESC}[6;16;8t"))
    assert result_of(output) == ["halfcell", "HalfcellImage", "(8, 16)"]


def test_a_silent_terminal_costs_the_timeout_once_and_falls_back() -> None:
    output, queries = run_on_pty(PROBE.format(mode="auto"), FakeTerminal(da1=None))
    assert result_of(output) == ["halfcell", "HalfcellImage", "(10, 20)"]
    assert queries.count(DA1_QUERY) == 1


def test_forced_sixel_still_learns_the_cell_size_but_asks_nothing_else() -> None:
    output, queries = run_on_pty(PROBE.format(mode="sixel"), FakeTerminal(cell=f"{ESC}[6;20;11t"))
    assert result_of(output) == ["sixel", "SixelImage", "(11, 20)"]
    assert f"{ESC}_Gi={KITTY_ID}" not in queries


def test_forced_halfcell_sends_no_query_at_all() -> None:
    output, queries = run_on_pty(PROBE.format(mode="halfcell"), FakeTerminal())
    assert result_of(output)[:2] == ["halfcell", "HalfcellImage"]
    assert queries == []
    assert f"{ESC}[c" not in output and f"{ESC}_G" not in output


def test_replies_are_not_echoed_on_screen() -> None:
    output, _ = run_on_pty(PROBE.format(mode="auto"), FakeTerminal(da1=f"{ESC}[?62;4c"))
    # in a cooked tty the reply would come back as "^[[?62;4c" echoed into the output
    assert "62;4c" not in output
