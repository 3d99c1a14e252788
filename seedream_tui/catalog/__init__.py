"""RunComfy's model catalog as the app uses it: browse (``GET /v1/models``), fetch and cache a model's
schema for offline starts, and price a submit before it is paid for. No Textual here: the TUI's catalog
browser, the CLI's ``models``/``fetch-model`` and the status bar share these functions.
"""
