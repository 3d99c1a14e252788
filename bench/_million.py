"""The 1,000,000-job history of ``bench_million.py``, built once and kept in the system temp dir.

Building it takes about 90 s (``fill_history``); every later run copies nothing and reuses it
(its name carries the schema version, so a migration builds a new one). Each benchmark that changes
it works on a copy (``fresh_home``), so the cached one stays as built.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from _tui_common import seed_history

N_JOBS = 1_000_000


def cached_history() -> Path:
    """The path of the cached 1M-job history (built now if missing)."""
    from seedream_tui.jobs.store_schema import SCHEMA_VERSION

    folder = Path(tempfile.gettempdir()) / "seedream-bench-cache"
    path = folder / f"history-{N_JOBS}-v{SCHEMA_VERSION}.sqlite3"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        for leftover in folder.glob(partial.name + "*"):
            leftover.unlink()
        t0 = time.perf_counter()
        seed_history(partial, N_JOBS)
        partial.rename(path)
        print(f"# built the {N_JOBS:,}-job history in {time.perf_counter() - t0:.0f} s: {path}", flush=True)
    return path


def fresh_home(prefix: str = "seedream-bench-1m-") -> str:
    """A new temp home whose demo history is a copy of the cached 1M-job one."""
    home = tempfile.mkdtemp(prefix=prefix)
    target = Path(home) / "data" / "demo" / "history.sqlite3"
    target.parent.mkdir(parents=True)
    shutil.copyfile(cached_history(), target)
    return home
