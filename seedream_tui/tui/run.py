"""Start the TUI: settle the image mode (before textual-image is imported), run the app, return an exit code.

Startup problems become one sentence on stderr and exit code 1; the user never sees a traceback.
"""

from __future__ import annotations

import sys

from seedream_tui.config import AppConfig


def run_tui(config: AppConfig, *, image_mode: str | None = None) -> int:
    """Run the app with ``config``. ``image_mode`` (the ``--image-mode`` flag) beats the setting beats auto."""
    from seedream_tui import tls

    tls.warm_up()  # on the second core while Textual is imported: the HTTP client is then ready at once
    try:
        from seedream_tui.tui import images

        mode = images.resolve_mode(image_mode, config.settings.image_mode)
        images.configure(mode)
        from seedream_tui.tui.app import SeedreamApp

        app = SeedreamApp(config)
    except Exception as exc:  # import or terminal trouble: a sentence, not a traceback
        print(f"seedream-tui could not start: {exc}", file=sys.stderr)
        return 1
    try:
        result = app.run()
    except Exception as exc:
        print(f"seedream-tui stopped because of an error: {exc}", file=sys.stderr)
        return 1
    if app.startup_error:
        print(f"seedream-tui: {app.startup_error}", file=sys.stderr)
        return 1
    if app.return_code not in (None, 0):
        return int(app.return_code or 1)
    return int(result or 0)
