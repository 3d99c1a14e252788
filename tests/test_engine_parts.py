"""The engine's parts, each on its own (issue 18 §1): the lease keeper is the one place that records
claims, so an attached request is polled at once under the real 30 s lease; a follower's polling state can
be read from outside."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from helpers import FAST, open_core, wait_for, wait_status
from test_adopt import submit_elsewhere

from seedream_tui.jobs.leases import LeaseKeeper
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import AsyncHistory

#: RunComfy-like polling, with the lease as long as the app's own (30 s: the heartbeat every 10 s)
REAL_LEASE = dataclasses.replace(FAST, lease=30.0)


async def test_an_attached_request_is_polled_at_once_with_the_real_lease(isolated_home: Path, fake_server: Any) -> None:
    """Before the keeper, an adopted row was claimed but not recorded as held: its follower spun on the
    history until the next heartbeat (10 s with a 30 s lease): a finished request took 9.5 s and ~37,000
    history reads. Now the lease is recorded where it is taken."""
    fake_server.set_config(min_duration=0.3, max_duration=0.3)
    rid = submit_elsewhere(fake_server, "attached by id")
    core = await open_core(fake_server.base_url, policy=REAL_LEASE)
    reads = 0
    real_get = core.history.get

    async def counting_get(job_id: int) -> Any:
        nonlocal reads
        reads += 1
        return await real_get(job_id)

    core.history.get = counting_get  # type: ignore[method-assign]
    try:
        job = await core.adopt(rid)
        assert core.engine.leases.holds(job.id)  # recorded with the claim, not at the next heartbeat
        # well within one heartbeat (10 s): the old code could only get there at the heartbeat
        done = await wait_status(core, job.id, within=8)
        assert done.status is JobStatus.COMPLETED
        assert reads < 200, f"{reads} history reads for one attached job (it spun on the history)"
    finally:
        await core.close()


async def test_a_claim_taken_while_a_heartbeat_is_in_flight_is_kept(isolated_home: Path) -> None:
    history = await AsyncHistory.open(isolated_home / "h.sqlite3")
    try:
        keeper = LeaseKeeper(history, "me:1:a", lease=30.0)
        first = await keeper.create_job("m", {"prompt": "a"}, base_url=None)
        real_heartbeat = history.heartbeat
        second_id: list[int] = []

        async def heartbeat_then_claim(owner: str) -> list[int]:
            held = await real_heartbeat(owner)  # the history answers before the second row exists
            second_id.append((await keeper.create_job("m", {"prompt": "b"}, base_url=None)).id)
            return held

        history.heartbeat = heartbeat_then_claim  # type: ignore[method-assign]
        await keeper.beat_once()
        assert keeper.owned == {first.id, second_id[0]}
        # another owner's live job is not ours until claimed, and then it is
        other = await history.create_job("m", {"prompt": "c"}, owner=None)
        assert not keeper.holds(other.id)
        assert await keeper.claim(other.id) and keeper.holds(other.id)
        assert not await LeaseKeeper(history, "you:2:b", lease=30.0).claim(other.id)
    finally:
        await history.close()


async def test_a_followers_state_is_inspectable(isolated_home: Path, fake_server: Any) -> None:
    fake_server.set_config(min_duration=5.0, max_duration=5.0)
    core = await open_core(fake_server.base_url)
    try:
        job = await core.engine.submit("bytedance/seedream-5/lite/text-to-image", {"prompt": "watched"})
        follower = core.engine.followers[job.id]
        await wait_status(core, job.id, [JobStatus.RUNNING])

        async def polled() -> bool:
            return follower.state.polls >= 2 and follower.state.polling


        await wait_for(polled, within=10, what="two polls")
        assert follower.state.failures == 0 and follower.state.unexpected == 0
        assert core.engine.poll_requests >= follower.state.polls
    finally:
        await core.close()
