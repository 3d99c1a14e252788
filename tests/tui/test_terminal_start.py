"""Issue 10 §3 at the app's start-up: what ``run_tui`` settles from TERM, TMUX and the output encoding, and
what the app then shows (ASCII borders, the image mode auto chose, a bad URL typed in Settings)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Input, Static
from tui_support import open_main, screen_text, wait_for

from seedream_tui.tui import images
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.run import EXIT_TERMINAL, prepare_terminal, run_tui
from seedream_tui.tui.screens.settings import SettingsScreen
from seedream_tui.tui.widgets.preview import PreviewPane

BOX = set("─│╭╮╰╯┌┐└┘━┃╸╺▁▂▃▄▅▆▇")


def test_term_dumb_is_refused_before_anything_is_drawn(config: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_tui(config, env={"TERM": "dumb"}) == EXIT_TERMINAL
    err = capsys.readouterr().err
    assert "TERM=dumb" in err and "headless commands" in err


@pytest.mark.parametrize(
    ("env", "system", "said"),
    [
        ({"TERM": "xterm"}, "256", "TERM=xterm-256color"),
        ({"TERM": "screen"}, "256", "TERM=screen-256color"),
        ({"TERM": "linux"}, None, "16 colours"),
        ({"TERM": "xterm-256color"}, None, None),
        ({"TERM": "xterm", "COLORTERM": "truecolor"}, None, None),
    ],
)
def test_sixteen_colour_terminals_are_told_once_with_the_fix(config: Any, env: dict[str, str], system: Any,
                                                             said: Any) -> None:
    env = dict(env)
    prepare_terminal(config, "halfcell", env, "utf-8")
    assert env.get("TEXTUAL_COLOR_SYSTEM") == system
    notes = [w for w in config.warnings if "colour" in w]
    assert len(notes) == (1 if said else 0)
    if said:
        assert said in notes[0]
        assert len(notes[0]) <= 77  # one line on the screen at 80 columns (issue 20 §3)


@pytest.mark.parametrize("mode", ["sixel", "tgp"])
def test_forced_graphics_in_tmux_are_refused_with_a_sentence(config: Any, mode: str) -> None:
    used, _ascii = prepare_terminal(config, mode, {"TERM": "tmux-256color", "TMUX": "/tmp/tmux-0/default,1,0"},
                                    "utf-8")
    assert used == "halfcell"
    assert any("does not pass through tmux" in w for w in config.warnings)
    used, _ascii = prepare_terminal(config, mode, {"TERM": "xterm-256color"}, "utf-8")
    assert used == mode  # outside tmux it is the user's choice


def test_encoding_decides_ascii(config: Any) -> None:
    assert prepare_terminal(config, "halfcell", {}, "ISO-8859-1")[1] is True


@pytest.mark.parametrize(
    ("env", "ascii_only"),
    [
        ({"LANG": "en_US.ISO-8859-1"}, True),
        ({"LC_ALL": "de_DE.ISO8859-15@euro", "LANG": "de_DE.UTF-8"}, True),
        ({"LC_CTYPE": "en_US.UTF-8", "LANG": "en_US.ISO-8859-1"}, False),
        ({"LANG": "en_US.UTF-8"}, False),
        ({"LANG": "C"}, False),
        ({}, False),
    ],
)
def test_a_latin1_locale_gets_ascii_borders_and_one_sentence(config: Any, env: dict[str, str], ascii_only: bool) -> None:
    """Issue 20 §6: xterm +u8 in an ISO-8859-1 locale Python could not load (so its stream says UTF-8) drew
    box characters as mojibake with no word. The locale names the charset: ASCII borders, and it is said."""
    assert prepare_terminal(config, "halfcell", {"TERM": "xterm-256color", **env}, "utf-8")[1] is ascii_only
    notes = [w for w in config.warnings if "not UTF-8" in w]
    assert len(notes) == (1 if ascii_only else 0)
    if ascii_only:
        assert "ISO" in notes[0] and "ASCII" in notes[0] and "LANG=en_US.UTF-8" in notes[0]
    assert prepare_terminal(config, "halfcell", {}, "utf-8")[1] is False


@pytest.fixture
def ascii_borders() -> Iterator[None]:
    from seedream_tui.tui.terminal import use_ascii_borders

    undo = use_ascii_borders()
    yield
    undo()


async def test_non_utf8_terminal_gets_ascii_borders(config: Any, core: Any, ascii_borders: None) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_main(app, pilot)
        await pilot.pause()
        text = screen_text(app)
        assert not BOX & set(text), sorted(BOX & set(text))
        assert "+-" in text and "|" in text


@pytest.fixture
def auto_chose_halfcell() -> Iterator[None]:
    images.configure("halfcell", requested="auto")
    yield
    images.configure("halfcell")


async def test_the_mode_auto_chose_is_shown(config: Any, core: Any, auto_chose_halfcell: None) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(140, 40)) as pilot:
        main = await open_main(app, pilot)
        assert "halfcell" in str(main.query_one(PreviewPane).border_title)
        await pilot.press("f3")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), what="the settings")
        assert "auto chose halfcell" in screen_text(app)


async def test_typing_an_ipv6_url_start_in_settings_is_a_sentence(config: Any, core: Any) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_main(app, pilot)
        await pilot.press("f3")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), what="the settings")
        field = app.screen.query_one("#set-base-url", Input)
        field.focus()
        field.value = ""
        await pilot.press(*"http://[")
        error = app.screen.query_one("#settings-error", Static)
        await wait_for(lambda: "not a valid" in str(error.render()), what="the sentence")
        assert "http://[" in str(error.render())
        await pilot.press("ctrl+s")  # refused, not saved, not a crash
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, SettingsScreen)
