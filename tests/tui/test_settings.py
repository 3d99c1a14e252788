"""SettingsScreen and TokenScreen: refusing bad input with a sentence, saving good input, hiding the token."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from textual.widgets import Input, Select, Static, Switch

sys.path.insert(0, str(Path(__file__).parent))

from screens_support import ScreenHost, make_config, open_core, wait_for  # noqa: E402
from tui_support import drawn_settled

from seedream_tui.config import BEARER_REMOVED, load_settings  # noqa: E402
from seedream_tui.paths import Paths  # noqa: E402
from seedream_tui.tui.screens.settings import SettingsScreen, TokenScreen, validate_base_url  # noqa: E402

NEW_TOKEN = "rc_brand_new_secret_7f3a9c"


@pytest.fixture
def host(fake_server):  # type: ignore[no-untyped-def]
    def make() -> ScreenHost:
        config = make_config(fake_server.base_url)
        return ScreenHost(lambda: open_core(config), SettingsScreen)

    return make


async def ready(pilot, app: ScreenHost) -> SettingsScreen:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
    assert isinstance(app.screen, SettingsScreen)
    return app.screen


def read_settings_file(paths: Paths) -> str | None:
    return paths.settings_file.read_text() if paths.settings_file.exists() else None


def test_base_url_rules() -> None:
    assert validate_base_url("") == (None, None)
    assert validate_base_url("https://api.example.com/") == ("https://api.example.com", None)
    assert validate_base_url("http://127.0.0.1:8080") == ("http://127.0.0.1:8080", None)
    url, problem = validate_base_url("http://api.example.com")
    assert url is None and problem and "https" in problem
    assert validate_base_url("ftp://x")[1]


async def test_bad_base_url_is_refused_with_a_reason(host) -> None:  # type: ignore[no-untyped-def]
    app = host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        screen.query_one("#set-base-url", Input).value = "http://evil.example.com"
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(screen.query_one("#settings-error", Static).render())
        assert "only https is allowed" in error
        assert any("only https" in n.message for n in app._notifications)
        assert app.screen is screen  # still editing
        assert read_settings_file(app.core.paths) is None  # nothing written


async def test_good_settings_are_saved_and_theme_applies_live(host) -> None:  # type: ignore[no-untyped-def]
    app = host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        screen.query_one("#set-base-url", Input).value = "https://api.example.com/"
        screen.query_one("#set-image-mode", Select).value = "off"
        screen.query_one("#set-theme", Select).value = "nord"
        await pilot.pause()
        assert app.theme == "nord"  # live, before saving
        screen.query_one("#set-bell", Switch).value = False
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is not screen)
        saved, warnings = load_settings(app.core.paths)
        assert warnings == []
        assert (saved.base_url, saved.image_mode, saved.theme, saved.notify_bell) == (
            "https://api.example.com", "off", "nord", False)
        assert app.core.config.settings == saved
        assert any("base URL and image mode apply on the next start" in n.message for n in app._notifications)


async def test_escape_leaves_without_saving_and_restores_theme(host) -> None:  # type: ignore[no-untyped-def]
    app = host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        before = app.theme
        screen.query_one("#set-theme", Select).value = "nord"
        await pilot.pause()
        assert app.theme == "nord"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not screen)
        assert app.theme == before
        assert read_settings_file(app.core.paths) is None


async def test_token_screen_refuses_blanks_and_never_shows_the_token(host) -> None:  # type: ignore[no-untyped-def]
    app = host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        assert "rc_…cdef" in str(screen.query_one("#token-mask", Static).render())
        screen.query_one("#set-token").press()
        await wait_for(pilot, lambda: isinstance(app.screen, TokenScreen))
        token_screen = app.screen
        field = token_screen.query_one("#token-input", Input)
        assert field.password
        error = token_screen.query_one("#token-error", Static)
        for bad, sentence in (("   ", "empty"), ("ab cd", "spaces"), (" padded", "spaces")):
            field.value = bad
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is token_screen
            assert sentence in str(error.render())
        field.value = ""
        await pilot.press(*NEW_TOKEN)
        assert NEW_TOKEN not in app.export_screenshot()  # masked while typing
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen and app.core.config.token == NEW_TOKEN)
        token_file = app.core.paths.token_file
        assert token_file.read_text().strip() == NEW_TOKEN
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        shown = str(screen.query_one("#token-mask", Static).render())
        assert NEW_TOKEN not in shown and "rc_…3a9c" in shown
        assert NEW_TOKEN not in app.export_screenshot()


async def open_token_screen(pilot, app):  # type: ignore[no-untyped-def]
    """The settings screen, once the token screen is open over it."""
    screen = await ready(pilot, app)
    screen.query_one("#set-token").press()
    await wait_for(pilot, lambda: isinstance(app.screen, TokenScreen))
    return screen


async def test_token_screen_strips_a_pasted_bearer_prefix_and_says_so(host) -> None:  # type: ignore[no-untyped-def]
    app = host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_token_screen(pilot, app)
        app.screen.query_one("#token-input", Input).value = f"Bearer {NEW_TOKEN}"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen and app.core.config.token == NEW_TOKEN)
        assert app.core.paths.token_file.read_text().strip() == NEW_TOKEN
        assert any(BEARER_REMOVED == n.message for n in app._notifications)


async def test_token_screen_escape_changes_nothing(host) -> None:  # type: ignore[no-untyped-def]
    app = host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_token_screen(pilot, app)
        await pilot.press(*"rc_abc", "escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert app.core.config.token == "rc_test_0123456789abcdef"
        assert not app.core.paths.token_file.exists()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_settings_snapshot(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    config = make_config("http://127.0.0.1:1")
    app = ScreenHost(lambda: open_core(config), SettingsScreen)

    async def ready_(pilot) -> None:  # type: ignore[no-untyped-def]
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        for field in app.screen.query(Input):
            field.cursor_blink = False
        await drawn_settled(app.screen)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=ready_)
