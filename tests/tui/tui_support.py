"""Helpers of the main-screen tests (TUI-A): await a condition with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_for(condition: Callable[[], object], *, timeout: float = 10.0, what: str = "condition") -> None:
    """Await ``condition()`` becoming true, checking often; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
