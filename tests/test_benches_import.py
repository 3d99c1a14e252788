"""Every benchmark script imports (``make bench`` runs them all, and a bench that cannot start measures nothing):
a helper moved or renamed in one bench broke another's import once (``bench_batch_typing`` ← ``bench_typing``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_every_bench_script_imports() -> None:
    names = sorted(path.stem for path in BENCH.glob("bench_*.py"))
    assert len(names) > 20
    code = f"import importlib\nfor name in {names!r}:\n    importlib.import_module(name)\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=BENCH, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
