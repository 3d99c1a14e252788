"""Two app processes on one history at once: no corruption, no job polled twice, a crash is taken over.

Each instance is a real process (``instance_child.py``) with its own API token, so the fake server's request
log tells which instance sent every poll. The polling lease in the history (``try_claim``) is what must keep
them apart; a dead instance's jobs must pass to the live one (lease expiry, or at once at start when the
owner's pid is gone: ``owner_is_dead``). Run with ``-s`` for the ``RELIABILITY two-instances`` figures.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

from helpers import submits, wait_for
from rel_support import Child, Stopwatch, audit

from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import AsyncHistory
from seedream_tui.paths import Paths

INSTANCE = Path(__file__).with_name("instance_child.py")


async def start(fake: Any, name: str, count: int, lease: float, tmp: Path) -> Child:
    return await Child.start(INSTANCE, [fake.base_url, name, str(count), str(lease)], tmp / f"{name}.err")


def pollers(fake: Any) -> dict[str, list[str]]:
    """Request id -> the instance (token) of each /result poll, in the order the server got them."""
    seen: dict[str, list[str]] = collections.defaultdict(list)
    for r in fake.api_requests:
        parts = r["path"].split("?")[0].split("/")
        if r["method"] == "GET" and parts[-1] == "result":
            seen[parts[-2]].append(r["headers"]["authorization"].removeprefix("Bearer token-"))
    return seen


def switches(sequence: list[str]) -> int:
    return sum(1 for a, b in zip(sequence, sequence[1:], strict=False) if a != b)


def cdn_downloads(fake: Any) -> collections.Counter[str]:
    return collections.Counter(r["path"] for r in fake.cdn_requests if r["method"] == "GET")


async def settled_history(count: int, within: float) -> list[Any]:
    """Wait (reading the shared file as a third process would) until ``count`` rows are all finished."""
    history = await AsyncHistory.open(Paths.default().history_db)
    try:
        async def probe() -> list[Any] | None:
            rows = await history.list_jobs(limit=10_000)
            return rows if len(rows) == count and all(r.status.terminal for r in rows) else None

        rows: list[Any] = await wait_for(probe, within, what=f"{count} jobs to finish", interval=0.05)
        assert await history.integrity_check() == "ok"
        return rows
    finally:
        await history.close()


def last_settled(child: Child) -> int:
    return int([line for line in child.lines if line[:1] == ["SETTLED"]][-1][1])


async def test_two_processes_submit_and_poll_one_history(fake_server: Any, tmp_path: Path) -> None:
    fake_server.set_config(workers=8, min_duration=0.6, max_duration=1.0)
    clock = Stopwatch()
    a = await start(fake_server, "A", 20, 2.0, tmp_path)
    b: Child | None = None
    try:
        await a.until(lambda: submits(fake_server) >= 5, "A's first submits")
        b = await start(fake_server, "B", 20, 2.0, tmp_path)  # resumes A's live jobs, then submits its own
        rows = await settled_history(40, within=30)
        await a.until(lambda: a.said("SETTLED"), "A to settle")
        await b.until(lambda: b is not None and b.said("SETTLED"), "B to settle")
        polls_a, polls_b = last_settled(a), last_settled(b)
        resumed_by_b = int(next(line for line in b.lines if line[:1] == ["READY"])[1])
    finally:
        for instance in (a, b):
            if instance is not None:
                instance.kill_now()
                await instance.reap()

    paths = Paths.default()
    result = audit(rows, fake_server.jobs_snapshot(), paths.images_dir,
                   prompts=[f"{n} {i}" for n in "AB" for i in range(20)])
    seen = pollers(fake_server)
    shared = sum(1 for s in seen.values() if len(set(s)) > 1)
    downloads = cdn_downloads(fake_server)
    print(
        f"\nRELIABILITY two-instances: {result.summary()} resumed_by_B={resumed_by_b} "
        f"polls_A={polls_a} polls_B={polls_b} polls_at_server={sum(len(s) for s in seen.values())} "
        f"jobs_polled_by_both={shared} max_downloads_per_file={max(downloads.values())} "
        f"lost={result.lost} wall={clock.seconds:.1f}s"
    )
    assert result.problems == []
    assert all(r.status is JobStatus.COMPLETED for r in rows)
    assert submits(fake_server) == 40 == len(fake_server.jobs_snapshot())
    assert resumed_by_b >= 1, "B started after A had finished everything: the lease was never contested"
    assert shared == 0, {rid: s for rid, s in seen.items() if len(set(s)) > 1}
    assert polls_a + polls_b == sum(len(s) for s in seen.values())  # every poll is one engine's, none extra
    assert set(downloads.values()) == {1}, "a file was downloaded by both instances"


async def test_a_killed_instance_is_taken_over_when_its_lease_runs_out(fake_server: Any, tmp_path: Path) -> None:
    # jobs long enough that B (a new process: ~1-3 s to import and open on a busy machine) starts while they run
    fake_server.set_config(workers=8, min_duration=5.0, max_duration=6.0)
    a = await start(fake_server, "A", 8, 1.0, tmp_path)
    b: Child | None = None
    try:
        await a.until(lambda: a.said("ALL-SUBMITTED"), "A's submits")
        b = await start(fake_server, "B", 0, 1.0, tmp_path)
        await b.until(lambda: b is not None and b.said("READY", "8"), "B to resume A's 8 jobs")
        await a.until(lambda: len(pollers(fake_server)) == 8, "A to poll every job")
        a.kill_now()
        await a.reap()
        assert all(set(s) == {"A"} for s in pollers(fake_server).values())  # B kept off while A lived
        rows = await settled_history(8, within=15)
    finally:
        for child in (a, b):
            if child is not None and not child.killed:
                child.kill_now()
                await child.reap()

    result = audit(rows, fake_server.jobs_snapshot(), Paths.default().images_dir)
    seen = pollers(fake_server)
    print(
        f"\nRELIABILITY takeover-by-lease: {result.summary()} "
        f"taken_over={sum(1 for s in seen.values() if 'B' in s)} lost={result.lost}"
    )
    assert result.problems == []
    assert all(r.status is JobStatus.COMPLETED for r in rows)
    for rid, sequence in seen.items():  # A, then B: never interleaved, so never both at once
        assert sequence[0] == "A" and switches(sequence) <= 1, (rid, sequence)
    assert submits(fake_server) == 8


async def test_an_instance_started_after_a_crash_frees_the_dead_pids_leases(
    fake_server: Any, tmp_path: Path
) -> None:
    """With a 30 s lease, waiting for expiry would take 30 s: the next start sees the owner's pid is gone."""
    fake_server.set_config(workers=8, min_duration=0.8, max_duration=1.0)
    a = await start(fake_server, "A", 6, 30.0, tmp_path)
    try:
        await a.until(lambda: a.said("ALL-SUBMITTED"), "A's submits")
    finally:
        a.kill_now()
        await a.reap()
    clock = Stopwatch()
    c = await start(fake_server, "C", 0, 30.0, tmp_path)
    try:
        await c.until(lambda: c.said("READY", "6"), "C to resume A's 6 jobs")
        rows = await settled_history(6, within=10)  # far sooner than the 30 s lease
    finally:
        c.kill_now()
        await c.reap()
    took = clock.seconds
    result = audit(rows, fake_server.jobs_snapshot(), Paths.default().images_dir)
    print(f"\nRELIABILITY takeover-at-start: {result.summary()} settled_in={took:.1f}s "
          f"lease=30s lost={result.lost}")
    assert result.problems == []
    assert all(r.status is JobStatus.COMPLETED for r in rows)
    assert took < 10
    assert submits(fake_server) == 6
