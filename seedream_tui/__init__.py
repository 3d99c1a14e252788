"""seedream-tui: a terminal app for the RunComfy Model API.

Layers (only ``tui`` imports Textual):
  api     the RunComfy protocol client (httpx)
  schema  the RunComfy schema dialect -> field specs, validation
  jobs    history store, polling engine, downloads
  fake    a fake RunComfy server (aiohttp) for tests and ``--demo``
  tui     the Textual app
"""

__version__ = "0.1.0"

DEFAULT_MODEL_ID = "bytedance/seedream-5/lite/text-to-image"
