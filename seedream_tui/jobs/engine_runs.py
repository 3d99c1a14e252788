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

    async def expected(self, job: Job) -> tuple[float, float] | tuple[()]:
        """(shortest, longest) run time of recent completed jobs of the same model with the same options
        (or of the same model, when too few share them); () without enough history."""
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
        key = options_key(job.inputs)
        alike = [seconds for k, seconds in kept[1] if k == key]
        sample = alike if len(alike) >= self.min_samples else [seconds for _k, seconds in kept[1]]
        sample = sorted(sample[:20])
        if len(sample) < self.min_samples:
            return ()
        return sample[0], sample[-1]

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
        """A job this engine saw through to the end: its run time counts from now on."""
        kept = self._kept.get(job.model_id)
        if kept is None or job.started_at is None or job.finished_at is None:
            return  # not read yet: the first read will find it in the history
        seconds = job.finished_at - job.started_at
        if seconds > 0:
            kept[1].insert(0, (options_key(job.inputs), seconds))
            del kept[1][self.keep:]
