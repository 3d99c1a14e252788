"""Past run times, which the poller predicts a running job's end from (see ``PollPolicy.interval``).

Read from the history once per model and kept, instead of once for every job that starts running: with
40 jobs running that was ~9 reads a second of the model's last 100 completed jobs (each row's inputs
parsed from JSON on the history's thread, then keyed on the event loop's), for the same answer each time
(issue 13 §4). The engine adds its own completions as they happen; the kept list is read again every
``ttl`` seconds, which brings in what other app instances finished.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from typing import Any

from seedream_tui.jobs.model import Job
from seedream_tui.jobs.store import AsyncHistory, HistoryError

#: inputs that change what is made but not how long it takes
_FREE_TEXT = frozenset({"prompt", "negative_prompt", "seed"})


def options_key(inputs: dict[str, Any]) -> str:
    """A short digest of the options that may change how long a job takes (not its free text). An image sent
    inline (a ``data:`` URI, in rows written before images were stored as references) counts by its length
    only: the key never holds, nor hashes, megabytes of base64 (issue 18 §5: 30 jobs x 2 MiB kept 60 MiB
    here and stalled the event loop 535 ms)."""
    options = sorted((k, _option_text(v)) for k, v in inputs.items() if k not in _FREE_TEXT)
    return hashlib.sha256(repr(options).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _option_text(value: Any) -> str:
    if isinstance(value, str) and value.startswith("data:"):
        return f"data: URI of {len(value)} characters"
    if isinstance(value, list):
        return repr([_option_text(v) for v in value])
    return repr(value)


def alike_runs(kept: list[tuple[str, float]], key: str, min_samples: int = 1) -> tuple[float, ...]:
    """Of past (options key, seconds), newest first: the latest 20 run times with this key, shortest first;
    () when fewer than ``min_samples``. Jobs with other options never stand in (see ``RunTimes.expected``)."""
    alike = [seconds for k, seconds in kept if k == key][:20]
    return tuple(sorted(alike)) if len(alike) >= max(1, min_samples) else ()


class RunTimes:
    def __init__(
        self, history: AsyncHistory, *, min_samples: int, ttl: float = 30.0, keep: int = 100,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.history = history
        self.min_samples = min_samples
        self.ttl = ttl
        self.keep = keep
        self._clock = clock
        #: model id -> (when read, [(options key, seconds)] newest first)
        self._kept: dict[str, tuple[float, list[tuple[str, float]]]] = {}
        #: the read in progress per model
        self._reading: dict[str, asyncio.Future[tuple[float, list[tuple[str, float]]]]] = {}
        #: history reads so far (a test reads it)
        self.reads = 0
        #: model id -> done at the next completion (see ``news``)
        self._news: dict[str, asyncio.Future[None]] = {}
        #: (model id, options key) -> jobs followed while they run
        self._running: dict[tuple[str, str], int] = {}

    async def expected(self, job: Job) -> tuple[float, ...]:
        """The run times of the latest (up to 20) completed jobs of the same model with the same options,
        shortest first; () when fewer than ``min_samples`` share its options. Jobs with other options never
        stand in: their run times say little of this one's (a first 1K job after twenty 4K jobs would be
        asked first long after it ended), so such a job is polled as one with no past at all."""
        kept = self._kept.get(job.model_id)
        if kept is None or self._clock() - kept[0] > self.ttl:
            reading = self._reading.get(job.model_id)
            if reading is None:  # jobs that start running together share one read
                reading = self._reading[job.model_id] = asyncio.ensure_future(self._read(job.model_id))
                reading.add_done_callback(self._read_done)
            try:
                kept = await asyncio.shield(reading)  # a poller cancelled meanwhile leaves the read to the others
            except HistoryError:
                return ()
        return alike_runs(kept[1], options_key(job.inputs), self.min_samples)

    def news(self, model_id: str) -> asyncio.Future[None]:
        """Done when the next job of this model is seen completed: a poller waiting on a job like it plans
        again (the first of a batch to finish teaches the others when theirs may end)."""
        future = self._news.get(model_id)
        if future is None or future.done():
            future = self._news[model_id] = asyncio.get_running_loop().create_future()
        return future

    def started(self, job: Job) -> None:
        """A followed job runs (until :meth:`stopped`): the others like it are not alone."""
        key = (job.model_id, options_key(job.inputs))
        self._running[key] = self._running.get(key, 0) + 1

    def stopped(self, job: Job) -> None:
        key = (job.model_id, options_key(job.inputs))
        left = self._running.get(key, 0) - 1
        if left > 0:
            self._running[key] = left
        else:
            self._running.pop(key, None)

    def alone(self, job: Job) -> bool:
        """No other followed job of the same model and options runs now (nothing to learn its run time from)."""
        return self._running.get((job.model_id, options_key(job.inputs)), 0) <= 1

    async def _read(self, model_id: str) -> tuple[float, list[tuple[str, float]]]:
        past = await self.history.run_times(model_id, self.keep)
        self.reads += 1
        kept = self._kept[model_id] = (self._clock(), [(options_key(i), s) for i, s in past])
        return kept

    def _read_done(self, reading: asyncio.Future[tuple[float, list[tuple[str, float]]]]) -> None:
        for model_id, task in list(self._reading.items()):
            if task is reading:
                del self._reading[model_id]
        if not reading.cancelled():
            reading.exception()  # seen here too: every waiter may have gone

    def completed(self, job: Job) -> None:
        """A job this engine saw completed (its ``finished_at`` is when RunComfy finished it, not when its
        files were saved): its run time counts from now on, and pollers of the same model are told."""
        kept = self._kept.get(job.model_id)
        # not read yet: a read once its files are saved finds it in the history
        if kept is not None and job.started_at is not None and job.finished_at is not None:
            seconds = job.finished_at - job.started_at
            if seconds > 0:
                kept[1].insert(0, (options_key(job.inputs), seconds))
                del kept[1][self.keep:]
        news = self._news.pop(job.model_id, None)
        if news is not None and not news.done():
            news.set_result(None)
