"""``seedream-tui view ID``: the viewer on one job straight from the shell (images and videos).

A small app of its own: the history is only read (no polling, no API token needed), the viewer is its one
screen, and leaving it (Esc or q) ends the app.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

from textual.app import App

from seedream_tui.config import AppConfig
from seedream_tui.jobs.model import Job
from seedream_tui.tui import terminal


class ViewApp(App[None]):
    """The viewer alone, on ``job``."""

    CSS_PATH = "app.tcss"

    def __init__(self, config: AppConfig, job: Job) -> None:
        super().__init__()
        self.config = config
        self.job = job

    def on_mount(self) -> None:
        from seedream_tui.tui.screens.viewer import ViewerScreen

        self.theme = self.config.settings.theme if self.config.settings.theme in self.available_themes else (
            "textual-dark")
        self.push_screen(ViewerScreen([self.job]), lambda _result: self.exit())

    def on_edit_result(self, message: Any) -> None:
        self.notify("Editing a result needs the app: run seedream-tui and open the job there.", severity="warning")


def run_view(config: AppConfig, job: Job, *, image_mode: str | None = None,
             env: Mapping[str, str] | None = None) -> int:
    """Show ``job`` in the viewer until the user leaves it; an exit code."""
    environ: MutableMapping[str, str] = os.environ if env is None else dict(env)
    problem = terminal.refusal(environ)
    if problem is not None:
        print(f"seedream-tui: {problem}", file=sys.stderr)
        return 1
    from seedream_tui.tui import images
    from seedream_tui.tui.run import prepare_terminal

    out = sys.__stderr__
    mode, ascii_only = prepare_terminal(config, image_mode, environ, getattr(out, "encoding", None))
    images.configure(mode, requested=image_mode or config.settings.image_mode or "auto")
    if ascii_only:
        terminal.use_ascii_borders()
    ViewApp(config, job).run()
    return 0
