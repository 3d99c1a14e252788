"""Command palette (ctrl+p): the app's actions and one "Switch model" command per loaded schema."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from seedream_tui.safetext import visible

if TYPE_CHECKING:
    from seedream_tui.tui.app import SeedreamApp


class SeedreamCommands(Provider):
    """Every command is also reachable by a key (see F1); the palette is for finding them by name."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = cast("SeedreamApp", self.app)
        run = app.run_action
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Submit the prompt", "Validate the options and queue a job (ctrl+s / F5)", partial(run, "submit_prompt")),
            ("Open a prompt file…", "A text, JSONL or CSV file of prompts as one batch, shown before it is sent "
             "(ctrl+f)", partial(run, "screen.open_prompt_file")),
            ("Open history", "Browse, search and reuse past jobs (F2 / ctrl+r)", partial(run, "history")),
            ("Open settings", "Image mode, theme, notifications, defaults, token (F3)", partial(run, "settings")),
            ("Browse models", "RunComfy's catalog: search, category, price (F4)", partial(run, "screen.switch_model")),
            ("Spend", "What your jobs cost: today, this week, by model (F6)", partial(run, "spend")),
            ("Attach a request id…", "Follow a RunComfy request made elsewhere, by its id (F7)",
             partial(run, "attach_request")),
            ("Toggle theme", "Switch between dark and light (ctrl+t)", partial(run, "toggle_theme")),
            ("Save options as defaults", "The panel's values become this model's defaults (F10)",
             partial(run, "screen.save_defaults")),
            ("Help: keys", "Every key binding (F1 / ?)", partial(run, "help")),
        ]
        core = app.core
        if core is not None:
            for spec in core.registry.list():
                # schema titles come from files and the server; the palette reads its texts as markup
                commands.append(
                    (
                        f"Switch model: {escape(visible(spec.title or spec.model_id))}",
                        escape(visible(f"{spec.model_id} ({spec.key})")),
                        partial(app.switch_model, spec.key),
                    )
                )
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
