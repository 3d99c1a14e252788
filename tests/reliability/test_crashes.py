"""SIGKILL at 20 seeded moments: mid-submit, mid-poll, mid-download, mid-write. Nothing is lost or sent twice.

Each round starts a real app process (``crash_child.py``) on the same ``SEEDREAM_TUI_HOME``; it submits a few
jobs and polls them against the fake server, which runs in this test process and so outlives every kill. The
test aims the kill with the child's own narration and the server's request log, then:

1. checks the history file with ``PRAGMA integrity_check`` before anything else touches it;
2. restarts the core on the same home (as the next app launch would) and lets it settle;
3. audits the whole history against the server's record: every job terminal and agreeing with the server,
   a submit cut between send and answer UNKNOWN ("check the RunComfy dashboard") and never sent again,
   every completed job's images on disk and decodable, no ``.part``/``.tmp`` file left.

The kill moments come from one seeded RNG, so a failure replays. Run with ``-s`` for the figures.
"""

from __future__ import annotations

import asyncio
import collections
import random
from pathlib import Path
from typing import Any

from helpers import open_core, submits, wait_all_terminal, wait_for
from rel_support import TEMP_SUFFIXES, Child, HoldingProxy, Stopwatch, audit

from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.jobs.submitter import UNKNOWN_SUBMIT
from seedream_tui.paths import Paths

CHILD = Path(__file__).with_name("crash_child.py")
PHASES = ("submit", "poll", "download", "write")
KILLS = 20
JOBS_PER_CHILD = 3
SEED = 5150


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(TEMP_SUFFIXES)] if root.exists() else []


def result_polls(fake: Any) -> int:
    return sum(1 for r in fake.api_requests if r["method"] == "GET" and r["path"].split("?")[0].endswith("/result"))


async def aim(phase: str, child: Child, fake: Any, rng: random.Random, images: Path, proxy: HoldingProxy) -> None:
    """Wait for the chosen phase to be under way in the child, then SIGKILL it at a seeded moment inside it."""
    if phase == "submit":
        nth = rng.randint(1, JOBS_PER_CHILD)  # which of its submits to cut
        before = submits(fake)
        await child.until(lambda: submits(fake) >= before + nth, f"submit {nth} to reach the server")
        if proxy.hold:  # the job exists on the server once its answer is held: cut inside the hold
            await child.until(lambda: proxy.held_answers >= nth, "the server to make the job")
            delay = rng.uniform(0.0, proxy.hold * 0.6)
        else:  # the server sits on the request before reading it: cut inside that wait
            delay = rng.uniform(0.0, 0.3)
    elif phase == "poll":
        await child.until(lambda: child.said("ALL-SUBMITTED"), "the child's submits")
        fake.set_config(latency=0.2)  # each poll answer now takes 0.2 s: kill while one is in flight
        before = result_polls(fake)
        await child.until(lambda: result_polls(fake) > before, "a poll in flight")
        delay = rng.uniform(0.0, 0.2)
    elif phase == "download":
        await child.until(lambda: any(line[:1] == ["STATUS"] and line[-1] == "downloading" for line in child.lines),
                          "a download to start")
        delay = rng.uniform(0.0, 0.35)  # a body trickles in over ~0.3 s
    else:  # write: a half-received image is on disk right now
        await child.until(lambda: temp_files(images), "a .part file")
        delay = 0.0
    if delay:
        await asyncio.sleep(delay)  # the seeded kill moment inside the phase, not a synchronisation
    child.kill_now()


async def check_after_restart(fake: Any, paths: Paths, prompts: list[str], sent_before: int) -> dict[str, Any]:
    """Open the core as the next launch would, let it settle, and audit everything; returns the figures."""
    core = await open_core(fake.base_url)
    try:
        rows = await core.history.list_jobs(limit=10_000)
        rows = await wait_all_terminal(core, [r.id for r in rows], within=20)
        await wait_for(lambda: core.engine.live_count == 0, 5, what="the engine to let every job go")
        assert await core.history.integrity_check() == "ok"
    finally:
        await core.close()
    server = fake.jobs_snapshot()
    result = audit(rows, server, paths.images_dir, prompts=prompts)
    assert result.problems == []
    cut = [r for r in rows if r.status is JobStatus.UNKNOWN]
    assert all(r.error == UNKNOWN_SUBMIT for r in cut)
    with_id = sum(1 for r in rows if r.request_id is not None)
    orphans = len(server) - with_id  # made on the server, answer never recorded: an UNKNOWN row each (audited)
    assert 0 <= orphans <= len(cut)
    # the restart sent no submit at all, and each row was sent at most once; a POST cut while the fake
    # server still held it unread made no job, hence "<=" on the left
    assert submits(fake) == sent_before, "the restarted core sent a submit again"
    assert len(server) <= submits(fake) <= with_id + len(cut)
    return {"result": result, "server_jobs": len(server), "submits_sent": submits(fake),
            "rows_with_request_id": with_id, "unknown_rows": len(cut), "unknown_on_server": orphans}


async def test_twenty_kills_lose_nothing_and_never_resubmit(fake_server: Any, tmp_path: Path) -> None:
    fake_server.set_config(workers=4, min_duration=0.2, max_duration=0.4, image_scale=0.1)
    rng = random.Random(SEED)
    schedule = list(PHASES) * (KILLS // len(PHASES))
    rng.shuffle(schedule)
    paths = Paths.default()
    clock = Stopwatch()
    kills: collections.Counter[str] = collections.Counter()
    at_kill: collections.Counter[str] = collections.Counter()  # what each kill left behind
    prompts: list[str] = []
    figures: dict[str, Any] = {}
    proxy = await HoldingProxy(fake_server.base_url).start()  # the children talk to the API through it
    try:
        for round_no, phase in enumerate(schedule):
            prefix = f"crash r{round_no} {phase}"
            label = phase
            if phase == "submit" and kills["submit_answer_lost"] <= kills["submit_held_by_server"]:
                proxy.hold, proxy.held_answers, label = 0.5, 0, "submit_answer_lost"
            elif phase == "submit":
                fake_server.set_config(latency=0.25)
                label = "submit_held_by_server"
            child = await Child.start(CHILD, [proxy.base_url, prefix, str(JOBS_PER_CHILD)], tmp_path / f"child{round_no}.err")
            try:
                await aim(phase, child, fake_server, rng, paths.images_dir, proxy)
            finally:
                child.kill_now()
                await child.reap()
                fake_server.set_config(latency=0.0)
                proxy.hold = 0.0
            kills[label] += 1
            answered = sum(1 for line in child.lines if line[:1] in (["SUBMITTED"], ["REFUSED"]))
            prompts.extend(f"{prefix} {i}" for i in range(answered))  # the app told its user these were sent

            # the file the dead app was writing is sound, before any other process touches it
            store = await asyncio.to_thread(HistoryStore, paths.history_db)
            try:
                assert await asyncio.to_thread(store.integrity_check) == "ok", f"round {round_no} ({label})"
                left = await asyncio.to_thread(store.live_jobs)
            finally:
                await asyncio.to_thread(store.close)
            at_kill.update(job.status.value for job in left)
            at_kill["part_files"] += len(temp_files(paths.images_dir))
            try:
                figures = await check_after_restart(fake_server, paths, prompts, submits(fake_server))
            except AssertionError as exc:
                raise AssertionError(f"round {round_no} ({label}): {exc}") from exc
    finally:
        await proxy.stop()

    result = figures.pop("result")
    extra = " ".join(f"{k}={v}" for k, v in figures.items())
    print(
        f"\nRELIABILITY crashes: kills={sum(kills.values())} by_phase={dict(sorted(kills.items()))} "
        f"live_at_kill={dict(sorted(at_kill.items()))} {result.summary()} {extra} "
        f"lost={result.lost} wall={clock.seconds:.1f}s"
    )
    assert sum(kills.values()) == KILLS
    assert at_kill["submitting"] > 0, "no kill landed between a submit and its answer"
    assert figures["unknown_on_server"] > 0, "no kill landed after the server made a job but before its answer"
    assert at_kill["downloading"] > 0 and at_kill["part_files"] > 0, "no kill landed mid-download"
