"""Issue 20 §6: a terminal out of UTF-8 mode under a UTF-8 locale (xterm ``+u8``: ISO-8859-1) drew mojibake
borders with no word. The start-up's one round trip also asks where the cursor is before and after a two-byte
UTF-8 character: one column further is UTF-8, two is Latin-1, and then the app draws ASCII borders and says so
in one sentence.

The probe test runs a real child on a pseudo-terminal and plays the terminal on the other side, as a UTF-8 or a
Latin-1 xterm answers the cursor position report (``ESC [ 6 n``).
"""

from __future__ import annotations

import io
import os
import pty
import select
import sys
import time
from typing import Any

import pytest

from seedream_tui.tui import run as run_module
from seedream_tui.tui import terminal
from seedream_tui.tui.termprobe import CPR_QUERY, DA1_QUERY, TerminalInfo, parse_replies, utf8_from_positions

ESC = "\x1b"
DA1 = f"{ESC}[?62;22c"


# --------------------------------------------------------------------------- the parser and the decision
@pytest.mark.parametrize(
    ("replies", "utf8", "cursor"),
    [
        (f"{ESC}[5;1R{ESC}[5;2R{DA1}", True, (5, 1)),  # é took one column: UTF-8
        (f"{ESC}[5;1R{ESC}[5;3R{DA1}", False, (5, 1)),  # "Ã©": two columns, Latin-1 (xterm +u8)
        (f"{ESC}[12;40R{ESC}[12;42R{ESC}[6;18;9t{DA1}", False, (12, 40)),  # among the other replies
        (f"{ESC}[5;80R{ESC}[6;2R{DA1}", None, (5, 80)),  # wrapped at the right edge: no verdict
        (f"{ESC}[5;1R{DA1}", None, (5, 1)),  # one answer only
        (DA1, None, None),  # a terminal that does not report the cursor
        ("", None, None),  # silence
    ],
)
def test_the_cursor_reports_say_whether_the_terminal_is_in_utf8_mode(replies: str, utf8: bool | None,
                                                                    cursor: tuple[int, int] | None) -> None:
    assert utf8_from_positions(replies) == (utf8, cursor)
    info = parse_replies(replies)
    assert (info.utf8, info.cursor) == (utf8, cursor)


def test_the_cursor_report_is_not_taken_for_a_cell_size_or_device_attributes() -> None:
    info = parse_replies(f"{ESC}[6;18;9t{ESC}[?63;4c")
    assert info.utf8 is None and info.cell_px == (9, 18) and info.sixel


def test_only_a_latin1_answer_calls_for_ascii_borders_and_one_sentence() -> None:
    sentence = terminal.probed_ascii(False, ascii_already=False)
    assert sentence == terminal.NOT_UTF8_MODE and len(sentence) <= 77 and sentence.count(". ") == 0
    assert terminal.probed_ascii(True, ascii_already=False) is None
    assert terminal.probed_ascii(None, ascii_already=False) is None  # silent: the locale's word stands
    assert terminal.probed_ascii(False, ascii_already=True) is None  # the locale already said (one sentence)


# --------------------------------------------------------------------------- run_tui with a fake answer
@pytest.mark.parametrize(("utf8", "ascii_only"), [(False, True), (True, False), (None, False)])
def test_run_tui_draws_ascii_borders_when_the_terminal_answers_latin1(config: Any, monkeypatch: pytest.MonkeyPatch,
                                                                     utf8: bool | None, ascii_only: bool) -> None:
    from textual import _border

    from seedream_tui.tui import images
    from seedream_tui.tui.app import SeedreamApp

    asked: list[tuple[str, bool]] = []
    seen: dict[str, Any] = {}

    def fake_ask(mode: str, *, utf8: bool) -> TerminalInfo:
        asked.append((mode, utf8))
        return TerminalInfo(answered=True, utf8=answer)

    def fake_run(app: Any) -> int:
        seen["ascii"] = _border.BORDER_CHARS["round"] == _border.BORDER_CHARS["ascii"]
        seen["warnings"] = list(app.config.warnings)
        seen["encoding"] = out.encoding
        return 0

    answer = utf8
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # where Textual would draw (reconfigured for Latin-1)
    monkeypatch.setattr(sys, "__stderr__", out)
    undos: list[Any] = []
    real_ascii = terminal.use_ascii_borders

    def ascii_undone_after() -> Any:  # every glyph table it swaps (borders, bars, scroll bars) put back after
        undos.append(real_ascii())
        return undos[-1]

    monkeypatch.setattr(terminal, "use_ascii_borders", ascii_undone_after)
    monkeypatch.setattr(run_module, "ask_terminal", fake_ask)
    monkeypatch.setattr(SeedreamApp, "run", fake_run)
    try:
        code = run_module.run_tui(config, image_mode="halfcell", env={"TERM": "xterm-256color", "LANG": "C.UTF-8"})
    finally:
        for undo in undos:  # the scroll bars' glyphs too: left as spaces, later snapshots lost their thumbs' ends
            undo()
        images.configure("halfcell")
    from textual.scrollbar import ScrollBarRender

    assert ScrollBarRender.VERTICAL_BARS[0] != " " and _border.BORDER_CHARS["round"] != _border.BORDER_CHARS["ascii"]
    assert code == 0
    assert asked == [("halfcell", True)]  # the UTF-8 locale decides nothing: the terminal is asked
    assert seen["ascii"] is ascii_only
    assert (terminal.NOT_UTF8_MODE in seen["warnings"]) is ascii_only
    assert seen["encoding"] == ("latin-1" if ascii_only else "utf-8")  # "é" in a prompt shows as é, not "Ã©"


def test_a_latin1_locale_is_not_asked_again(config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The locale already says ISO-8859-1: no UTF-8 question (and one sentence, the locale's)."""
    calls: list[dict[str, Any]] = []

    from seedream_tui.tui import termprobe

    monkeypatch.setattr(termprobe, "probe", lambda **kw: calls.append(kw) or TerminalInfo())
    assert run_module.ask_terminal("halfcell", utf8=False) is None and calls == []
    run_module.ask_terminal("auto", utf8=False)
    assert calls == [{"graphics": True, "utf8": False}]


# --------------------------------------------------------------------------- a real pty
PROBE = (
    "from seedream_tui.tui.run import ask_terminal\n"
    "info = ask_terminal({mode!r}, utf8=True)\n"
    "print('RESULT', info.utf8, info.cursor, flush=True)\n"
)


def play(mode: str, *, latin1: bool, answer_cpr: bool = True, timeout: float = 20.0) -> tuple[str, list[str]]:
    """Run ``ask_terminal(mode, utf8=True)`` on a pty whose other side plays a UTF-8 or a Latin-1 terminal
    (the cursor at row 5, column 1, moving a column a character it shows); return (output, queries answered)."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.execv(sys.executable, [sys.executable, "-c", PROBE.format(mode=mode)])
        finally:
            os._exit(127)
    out = b""
    answered: list[str] = []
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
            while True:
                text = out.decode("latin-1")
                # the next query not answered yet, in the order written (a terminal answers each once, in order)
                positions = [(text.find(q, _nth(text, q, answered.count(q))), q) for q in (CPR_QUERY, DA1_QUERY)]
                pending = sorted((at, q) for at, q in positions if at >= 0)
                if not pending:
                    break
                at, query = pending[0]
                if query == CPR_QUERY:
                    if answered.count(CPR_QUERY) == 0:
                        column = 1
                    else:  # what was written since the first report, as this terminal shows it
                        first = _nth(text, CPR_QUERY, 0) + len(CPR_QUERY)
                        shown = out[first:at] if latin1 else out[first:at].decode("utf-8", "replace")
                        column = 1 + len(shown)
                    if answer_cpr:
                        os.write(fd, f"{ESC}[5;{column}R".encode())
                else:
                    os.write(fd, DA1.encode())
                answered.append(query)
    finally:
        os.close(fd)
        os.waitpid(pid, 0)
    return out.decode("latin-1"), answered


def _nth(text: str, query: str, n: int) -> int:
    """Where the ``n``-th (0-based) ``query`` starts in ``text``, or -1 (then the one after it: -1 too)."""
    at = -1
    for _ in range(n + 1):
        at = text.find(query, at + 1)
        if at < 0:
            return -1
    return at


def _result(output: str) -> str:
    return output[output.index("RESULT ") :].splitlines()[0]


@pytest.mark.parametrize("mode", ["auto", "halfcell"])
def test_a_latin1_terminal_is_found_in_the_start_ups_round_trip_and_the_character_erased(mode: str) -> None:
    output, answered = play(mode, latin1=True)
    assert _result(output) == "RESULT False (5, 1)"
    assert answered == [CPR_QUERY, CPR_QUERY, DA1_QUERY]  # one exchange, ended by the DA1 reply
    assert output.index(f"{ESC}[5;1H{ESC}[K") < output.index("RESULT")  # back where it was, "Ã©" erased
    assert "5;3R" not in output  # the answers are not echoed on the screen


def test_a_utf8_terminal_is_left_as_it_is() -> None:
    output, _ = play("halfcell", latin1=False)
    assert _result(output) == "RESULT True (5, 1)"


def test_a_terminal_that_does_not_report_the_cursor_gives_no_verdict() -> None:
    output, answered = play("halfcell", latin1=True, answer_cpr=False)
    assert _result(output) == "RESULT None None"
    assert answered[-1] == DA1_QUERY
    assert f"\r{ESC}[K" in output  # the character's line erased all the same
