"""A fake RunComfy Model API (API origin + storage CDN origin) on loopback: the test double and the demo backend.

Import from :mod:`seedream_tui.fake.server` (``FakeConfig``, ``FakeServer``, ``FakeServerThread``); this package
itself imports nothing so that ``seedream_tui.fake.cli`` stays cheap to load.
"""
