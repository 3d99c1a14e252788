"""One demo server per demo home, found by every instance.

``--demo`` runs the bundled fake RunComfy server. Several instances share a demo home (the TUI and a CLI
``--demo submit`` beside it), and a job made through one must be answered by the same server when another
polls it, or it would come back "expired". So the first instance starts the server and writes where it
listens into ``server.json`` beside the server's saved state; the others find it there. When the instance
running it quits, the server saves its jobs (``state_dir``) and the next instance that finds it gone starts
a new one (on the same port when it is free), which takes the saved jobs back. A lock file serialises
"find or start", so two instances starting at once do not start two servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from seedream_tui.proc import pid_alive

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

RECORD = "server.json"


class DemoBackend:
    def __init__(self, fake_config: Any) -> None:
        self.fake_config = fake_config
        state_dir = getattr(fake_config, "state_dir", None)
        self.folder = Path(state_dir) if state_dir else None
        self.base_url: str | None = None
        self._own: Any = None  # our FakeServerThread, when this instance runs the server

    @property
    def owner(self) -> bool:
        return self._own is not None

    async def ensure(self) -> str:
        """The demo server's base URL: the running one of this demo home, or one started now."""
        if self.folder is None:  # no shared state: a private server
            if self._own is None:
                self._own = await asyncio.to_thread(_start, self.fake_config, 0)
            self.base_url = self._own.base_url
            return self.base_url
        return await asyncio.to_thread(self._find_or_start_locked)

    def _find_or_start_locked(self) -> str:
        assert self.folder is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / "server.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            record = self._read()
            if self._own is not None:
                self.base_url = self._own.base_url
            elif record and _alive(record):
                self.base_url = str(record["base_url"])
            else:
                port = _port(record.get("base_url")) if record else 0
                self._own = _start(self.fake_config, port)
                self.base_url = self._own.base_url
                self._write({"pid": os.getpid(), "base_url": self.base_url})
            return self.base_url
        finally:
            os.close(fd)

    async def revive(self) -> str | None:
        """When the server this instance uses (another's) is gone, find or start the next one; returns
        the new base URL when it changed."""
        if self._own is not None or self.base_url is None:
            return None
        record = await asyncio.to_thread(self._read)
        if record and record.get("base_url") == self.base_url and await asyncio.to_thread(_alive, record):
            return None
        before = self.base_url
        after = await self.ensure()
        return after if after != before else None

    async def stop(self) -> None:
        own, self._own = self._own, None
        if own is None:
            return
        await asyncio.to_thread(own.stop)
        if self.folder is not None:
            with contextlib.suppress(OSError):
                record = self._read()
                if record and record.get("pid") == os.getpid():
                    (self.folder / RECORD).unlink()

    def _read(self) -> dict[str, Any]:
        assert self.folder is not None
        try:
            data = json.loads((self.folder / RECORD).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        assert self.folder is not None
        from seedream_tui.fsutil import atomic_write

        atomic_write(self.folder / RECORD, json.dumps(data).encode("utf-8"), mode=0o600)


def _start(config: Any, port: int) -> Any:
    module = importlib.import_module("seedream_tui.fake.server")
    try:
        return module.FakeServerThread(config, port=port).start()
    except OSError:  # the old port is taken by something else now
        if not port:
            raise
        return module.FakeServerThread(config).start()


def _port(url: Any) -> int:
    try:
        return urlsplit(str(url)).port or 0
    except ValueError:
        return 0


def _alive(record: dict[str, Any]) -> bool:
    """The recorded server's process exists and its port answers."""
    pid, url = record.get("pid"), record.get("base_url")
    if not isinstance(pid, int) or not isinstance(url, str) or not pid_alive(pid):
        return False
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=1.0):
            return True
    except OSError:
        return False
