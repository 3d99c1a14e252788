"""Many processes on one history, one of them suspended and several with wrong clocks: nothing lost or hung.

Six real processes (``swarm_child.py``) share a history and a fake server; each submits four jobs and waits
for them. Two run with their wall clock minutes off (the lease must not trust any process's clock), and one
is stopped with SIGSTOP right after its submits until another instance has taken its jobs over, then let go
(it must not write over what the others settled from its stale copy). Every process must end on its own
with all its jobs completed, and every row must match the server's record. Run with ``-s`` for the figures.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from helpers import submits, wait_for
from rel_support import Child, Stopwatch, audit
from test_two_instances import pollers, settled_history

from seedream_tui.jobs.model import JobStatus
from seedream_tui.paths import Paths

SWARM = Path(__file__).with_name("swarm_child.py")
NAMES = "ABCDEF"
SKEWS = {"A": 0.0, "B": 120.0, "C": -90.0, "D": 0.0, "E": 300.0, "F": 0.0}
PER_CHILD = 4
LEASE = 1.0


async def test_six_processes_one_suspended_two_clocks_off_lose_nothing(fake_server: Any, tmp_path: Path) -> None:
    fake_server.set_config(workers=3, min_duration=0.4, max_duration=1.2)
    clock = Stopwatch()
    children: dict[str, Child] = {}
    try:
        for name in NAMES:
            children[name] = await Child.start(
                SWARM, [fake_server.base_url, name, str(PER_CHILD), str(LEASE), str(SKEWS[name])],
                tmp_path / f"{name}.err",
            )
        stopped = children["A"]
        await stopped.until(lambda: stopped.said("ALL-SUBMITTED"), "A's submits")
        a_requests = {rid for rid, job in fake_server.jobs_snapshot().items() if job["input"]["prompt"][:2] == "A "}
        stopped.proc.send_signal(signal.SIGSTOP)

        def taken_over() -> bool:  # another process polled one of A's jobs since A froze
            return any(set(seq) - {"A"} for rid, seq in pollers(fake_server).items() if rid in a_requests)

        await wait_for(taken_over, 30, what="another instance to take over a job of the suspended one")
        stopped.proc.send_signal(signal.SIGCONT)

        async def all_exited() -> bool:
            return all(child.proc.returncode is not None for child in children.values())

        await wait_for(all_exited, 60, what="every process to end by itself (none hung)", interval=0.1)
    finally:
        for child in children.values():
            if child.proc.returncode is None:
                child.proc.send_signal(signal.SIGCONT)
                child.kill_now()
            await asyncio.wait_for(child.proc.wait(), 10)
    for name, child in children.items():
        await child._reader
        assert child.proc.returncode == 0, f"{name}: {child.stderr.read_text()[-2000:]}"
        done = next(line for line in child.lines if line[:1] == ["DONE"])
        assert done[1:] == ["completed"] * PER_CHILD, (name, done)

    rows = await settled_history(len(NAMES) * PER_CHILD, within=10)
    result = audit(rows, fake_server.jobs_snapshot(), Paths.default().images_dir,
                   prompts=[f"{n} {i}" for n in NAMES for i in range(PER_CHILD)])
    seen = pollers(fake_server)
    print(
        f"\nRELIABILITY swarm: processes={len(NAMES)} jobs={len(rows)} {result.summary()} "
        f"polled_by_several={sum(1 for s in seen.values() if len(set(s)) > 1)} lost={result.lost} "
        f"wall={clock.seconds:.1f}s"
    )
    assert result.problems == []
    assert all(r.status is JobStatus.COMPLETED for r in rows)
    for rid, sequence in seen.items():  # a job passes from one instance to the next, never back and forth
        runs = [name for i, name in enumerate(sequence) if i == 0 or sequence[i - 1] != name]
        assert len(runs) == len(set(runs)), (rid, runs)
    assert submits(fake_server) == len(NAMES) * PER_CHILD == len(fake_server.jobs_snapshot())
