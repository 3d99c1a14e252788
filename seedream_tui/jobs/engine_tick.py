"""One wake-up per tick for all the jobs a poller waits on (issue 13 §4).

Each live job's poller sleeps between its polls. Slept separately, 500 jobs with jittered intervals wake
the event loop about once per poll: with 40 jobs running that was ~1,000 wake-ups a second, each an
``epoll_wait`` return, a timer, and the process put to sleep and woken again by the kernel, which cost
more CPU than the polls' own work. A :class:`Ticker` rounds each wake-up up to the next multiple of
``tick`` seconds of the loop's clock and keeps one timer per such instant: the pollers due in one tick
are released together, in one pass of the loop, and send their requests together.

Rounding up only lengthens a wait (by less than one tick), so every rate limit of the poll policy holds;
a finished job is noticed at most one tick later.
"""

from __future__ import annotations

import asyncio
import math


class Ticker:
    def __init__(self, tick: float, group: int = 4) -> None:
        self.tick = tick
        self.group = group
        self._due: dict[int, list[asyncio.Future[None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        #: timers set so far: one per tick that had a sleeper (read by a test and the benchmark)
        self.timers = 0

    async def sleep(self, delay: float) -> None:
        """Sleep at least ``delay`` seconds, until the first tick at or after that."""
        if delay <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (an engine reused by a test): its timers are gone
            self._loop, self._due = loop, {}
        slot = math.ceil((loop.time() + delay) / self.tick)
        waiters = self._due.get(slot)
        if waiters is None:
            waiters = self._due[slot] = []
            loop.call_at(slot * self.tick, self._release, slot)
            self.timers += 1
        future: asyncio.Future[None] = loop.create_future()
        waiters.append(future)
        await future  # a cancelled sleeper's future is skipped when its tick comes

    def _release(self, slot: int) -> None:
        self._release_some(self._due.pop(slot, [])[::-1])  # popped from the end: first come, first woken

    def _release_some(self, waiters: list[asyncio.Future[None]]) -> None:
        """Wake ``group`` sleepers now and the rest on the loop's next pass: their requests still go out
        together, while no single pass of the loop runs dozens of them (a stall the UI would feel)."""
        woken = 0
        while waiters and woken < self.group:
            future = waiters.pop()
            if not future.done():
                future.set_result(None)
                woken += 1
        if waiters:
            asyncio.get_running_loop().call_soon(self._release_some, waiters)
