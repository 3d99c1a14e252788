"""Settings and the API token.

Settings are saved to settings.toml with ``save_settings``; the theme applies at once,
the base URL and image mode on the next start (the client and textual-image are set
up before the app runs). The token is never displayed: only its mask, and a separate
modal to replace it (saved with mode 0600 by the core).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, Switch

from seedream_tui.config import (
    BEARER_REMOVED,
    DEFAULT_BASE_URL,
    IMAGE_MODES,
    ConfigError,
    Settings,
    check_base_url,
    check_token,
    mask_token,
    save_settings,
    strip_bearer,
)
from seedream_tui.tui.compat import MountGuardedSelect, OneLayoutPerResize
from seedream_tui.tui.formatting import error_sentence
from seedream_tui.tui.plain import plain, plain_line
from seedream_tui.tui.screens.confirm import fit_dialog
from seedream_tui.tui.widgets.keyhints import KeyHints

TOKEN_HELP = (
    "Get an API token from your account settings on runcomfy.com (or set RUNCOMFY_API_TOKEN instead). "
    "It is saved in the token file with mode 0600, readable only by you, and is never shown again. "
    "No token yet? Try the app for free on its built-in demo server: quit (ctrl+q) and run seedream-tui --demo"
)


def image_mode_hint() -> str:
    from seedream_tui.tui import images

    auto = images.chosen_by_auto()
    now = f"auto chose {auto} this time. " if auto else ""
    return f"{now}halfcell is safest in tmux and SSH; applies on next start."


def validate_base_url(text: str) -> tuple[str | None, str | None]:
    """(URL to save or None for the default, refusal sentence or None)."""
    if not text.strip():
        return None, None
    try:
        return check_base_url(text), None
    except ConfigError as exc:
        return None, str(exc)


class TokenScreen(ModalScreen[str | None]):
    """Ask for a new API token; the caller passes it to ``core.set_token``."""

    DEFAULT_CSS = """
    TokenScreen { align: center middle; }
    TokenScreen > #token-box {
        width: 76; max-width: 95%; height: auto; max-height: 100%; overflow-y: auto;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    TokenScreen.-short > #token-box { padding: 0 1; }
    TokenScreen #token-help { margin-bottom: 1; color: $text-muted; }
    TokenScreen #token-error { color: $error; height: auto; }
    TokenScreen #token-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    TokenScreen Button { margin-left: 2; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="token-box"):
            yield Label("New RunComfy API token", id="token-title")
            yield Static(TOKEN_HELP, id="token-help", markup=False)
            yield Input(password=True, placeholder="paste the token here", id="token-input")
            yield Static("", id="token-error")
            with Horizontal(id="token-buttons"):
                yield Button("Cancel", id="token-cancel")
                yield Button("Save token", id="token-save", variant="primary")

    def on_mount(self) -> None:
        fit_dialog(self)
        self.query_one("#token-box").border_title = "API token"
        self.query_one("#token-input", Input).focus()

    def on_resize(self) -> None:
        fit_dialog(self)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#token-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#token-input")
    @on(Button.Pressed, "#token-save")
    def _save(self) -> None:
        raw, had_bearer = strip_bearer(self.query_one("#token-input", Input).value)
        try:
            token = check_token(raw)
            if token != raw:
                raise ConfigError("The API token must not contain spaces or control characters.")
        except ConfigError as exc:
            self.query_one("#token-error", Static).update(plain(str(exc)))
            return
        if had_bearer:
            self.app.notify(BEARER_REMOVED, severity="warning", markup=False)
        self.dismiss(token)


class SettingsScreen(OneLayoutPerResize[None]):
    """Edit settings.toml; escape leaves without saving (and puts the previous theme back)."""

    DEFAULT_CSS = """
    SettingsScreen { align-horizontal: center; overflow-y: auto; }
    SettingsScreen #settings-form { width: 100%; max-width: 100; height: auto; padding: 0 1; }
    SettingsScreen .row { height: auto; }
    SettingsScreen .row > Label { width: 16; padding-top: 1; text-style: bold; }
    SettingsScreen .row > Input, SettingsScreen .row > Select { width: 1fr; }
    SettingsScreen .hint { color: $text-muted; padding-left: 16; height: auto; }
    SettingsScreen #settings-error { color: $error; padding-left: 16; height: auto; display: none; }
    SettingsScreen #settings-error.-shown { display: block; }
    SettingsScreen #token-mask { width: 1fr; padding: 1 1 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    /* a split tmux pane (under 60 columns): narrower labels, so the fields keep their room */
    SettingsScreen.-compact .row > Label { width: 10; }
    SettingsScreen.-compact .hint, SettingsScreen.-compact #settings-error { padding-left: 10; height: auto; }
    SettingsScreen #settings-buttons { height: 3; align-horizontal: right; }
    SettingsScreen #settings-buttons Button { margin-left: 2; }
    """

    BINDINGS = [
        Binding("escape", "close", "Back", id="settings-back"),
        Binding("ctrl+s", "save", "Save", id="settings-save"),
    ]

    def __init__(self, core: Any) -> None:
        super().__init__()
        self.core = core
        self.settings: Settings = core.config.settings
        self._theme_before: str | None = None

    def compose(self) -> ComposeResult:
        s = self.settings
        themes = sorted(self.app.available_themes)
        if s.theme not in themes:
            themes.append(s.theme)
        models: dict[str, str] = {}
        for spec in self.core.registry.list():
            models.setdefault(spec.model_id, spec.title or spec.model_id)
        if s.default_model not in models:
            models[s.default_model] = s.default_model
        with Vertical(id="settings-form"):
            with Horizontal(classes="row"):
                yield Label("Base URL")
                yield Input(s.base_url or "", placeholder=f"default: {DEFAULT_BASE_URL}", id="set-base-url")
            yield Static("", id="settings-error")
            yield Static("https only (http for localhost only); applies on next start.", classes="hint")
            with Horizontal(classes="row"):
                yield Label("API token")
                yield Static(plain(self._token_line()), id="token-mask")
                yield Button("Change token", id="set-token")
            with Horizontal(classes="row"):
                yield Label("Image mode")
                yield MountGuardedSelect([(m, m) for m in IMAGE_MODES], value=s.image_mode, allow_blank=False, id="set-image-mode")
            yield Static(plain(image_mode_hint()), classes="hint")
            with Horizontal(classes="row"):
                yield Label("Theme")
                yield MountGuardedSelect([(t, t) for t in themes], value=s.theme, allow_blank=False, id="set-theme")
            with Horizontal(classes="row"):
                yield Label("Bell when done")
                yield Switch(value=s.notify_bell, id="set-bell")
            with Horizontal(classes="row"):
                yield Label("Default model")
                yield MountGuardedSelect(
                    [(plain_line(title), mid) for mid, title in models.items()],
                    value=s.default_model,
                    allow_blank=False,
                    id="set-model",
                )
            with Horizontal(id="settings-buttons"):
                yield Button("Cancel (esc)", id="settings-cancel")
                yield Button("Save (ctrl+s)", id="settings-save", variant="primary")
        yield KeyHints()

    def on_resize(self) -> None:
        self.set_class(self.size.width < 60, "-compact")

    def on_mount(self) -> None:
        self.title = "Settings"
        self._theme_before = self.app.theme
        self.query_one("#set-base-url", Input).focus()

    def _token_line(self) -> str:
        config = self.core.config
        source = getattr(config, "token_source", "")
        return f"{mask_token(config.token)}  ({source})" if source else mask_token(config.token)

    # ---------------------------------------------------------------- live bits
    @on(Select.Changed, "#set-theme")
    def _theme_changed(self, event: Select.Changed) -> None:
        if not event.select.is_blank() and str(event.value) in self.app.available_themes:
            self.app.theme = str(event.value)

    @on(Input.Changed, "#set-base-url")
    def _url_changed(self, event: Input.Changed) -> None:
        _url, problem = validate_base_url(event.value)
        self._show_error(problem)

    def _show_error(self, problem: str | None) -> None:
        error = self.query_one("#settings-error", Static)
        error.update(plain(problem or ""))
        error.set_class(bool(problem), "-shown")

    @on(Button.Pressed, "#set-token")
    def _change_token(self) -> None:
        def done(token: str | None) -> None:
            if token:
                self._store_token(token)

        self.app.push_screen(TokenScreen(), done)

    @work(group="settings-token", exit_on_error=False)
    async def _store_token(self, token: str) -> None:
        try:
            # On the loop, not a thread: the core may update its HTTP client's headers (a tiny file write).
            self.core.set_token(token)
        except Exception as exc:  # noqa: BLE001
            self.notify(error_sentence("save the token", exc), severity="error")
            return
        self.query_one("#token-mask", Static).update(plain(self._token_line()))
        self.notify("Token saved (mode 0600). It is used from now on.")

    # ---------------------------------------------------------------- save / leave
    def collect(self) -> tuple[Settings | None, str | None]:
        """The settings as edited, or the sentence that refuses them."""
        url, problem = validate_base_url(self.query_one("#set-base-url", Input).value)
        if problem:
            return None, problem
        values: dict[str, Any] = {"base_url": url, "notify_bell": self.query_one("#set-bell", Switch).value}
        for key, widget_id in (("image_mode", "#set-image-mode"), ("theme", "#set-theme"), ("default_model", "#set-model")):
            select = self.query_one(widget_id, Select)
            if not select.is_blank():
                values[key] = str(select.value)
        return replace(self.settings, **values), None

    @on(Button.Pressed, "#settings-save")
    def _save_pressed(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        settings, problem = self.collect()
        if settings is None:
            self._show_error(problem)
            self.notify(problem or "These settings cannot be saved.", severity="error")
            return
        self._save(settings)

    @work(exclusive=True, group="settings-save", exit_on_error=False)
    async def _save(self, settings: Settings) -> None:
        try:
            await asyncio.to_thread(save_settings, self.core.paths, settings)
        except Exception as exc:  # noqa: BLE001
            self.notify(error_sentence("save the settings", exc), severity="error")
            return
        restart = []
        if settings.base_url != self.settings.base_url:
            restart.append("base URL")
        if settings.image_mode != self.settings.image_mode:
            restart.append("image mode")
        self.core.config.settings = settings
        self.settings = settings
        self._theme_before = settings.theme
        note = f" The {' and '.join(restart)} appl{'y' if len(restart) > 1 else 'ies'} on the next start." if restart else ""
        self.notify(f"Settings saved.{note}")
        self._leave()

    @on(Button.Pressed, "#settings-cancel")
    def action_close(self) -> None:
        if self._theme_before and self.app.theme != self._theme_before:
            self.app.theme = self._theme_before
        self._leave()

    def _leave(self) -> None:
        if self.app.screen is self and len(self.app.screen_stack) > 1:
            self.app.pop_screen()
