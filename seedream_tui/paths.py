"""Every path the app writes, from platformdirs.

``SEEDREAM_TUI_HOME`` moves all of them under one root (tests, portable set-ups).
The demo profile keeps its own history and images so the fake server's jobs never
mix with real, paid ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "seedream-tui"
HOME_ENV = "SEEDREAM_TUI_HOME"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path
    demo: bool = False

    @classmethod
    def default(cls, *, demo: bool = False) -> Paths:
        root = os.environ.get(HOME_ENV)
        if root:
            base = Path(root).expanduser()
            paths = cls(base / "config", base / "data", base / "cache", base / "log")
        else:
            paths = cls(
                Path(platformdirs.user_config_dir(APP_NAME)),
                Path(platformdirs.user_data_dir(APP_NAME)),
                Path(platformdirs.user_cache_dir(APP_NAME)),
                Path(platformdirs.user_log_dir(APP_NAME)),
            )
        return paths.for_profile(demo=demo)

    def for_profile(self, *, demo: bool) -> Paths:
        return Paths(self.config_dir, self.data_dir, self.cache_dir, self.log_dir, demo=demo)

    @property
    def profile_data_dir(self) -> Path:
        """History and images: separate for the demo profile."""
        return self.data_dir / "demo" if self.demo else self.data_dir

    @property
    def history_db(self) -> Path:
        return self.profile_data_dir / "history.sqlite3"

    @property
    def images_dir(self) -> Path:
        return self.profile_data_dir / "images"

    @property
    def thumbs_dir(self) -> Path:
        return self.cache_dir / ("demo-thumbs" if self.demo else "thumbs")

    @property
    def token_file(self) -> Path:
        return self.config_dir / "token"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def user_models_dir(self) -> Path:
        """Schema files: the user's own and those cached from the catalog. The demo profile keeps its own,
        so the fake server's schemas and prices never stand in for RunComfy's real ones."""
        return self.config_dir / ("demo-models" if self.demo else "models")

    @property
    def log_file(self) -> Path:
        return self.log_dir / "seedream-tui.log"
