"""The polling engine and the Core service over real loopback HTTP against the fake server.

Each test drives the core as the TUI does (submit, cancel, rerun, export, delete) and checks the history
against the fake server's own record (``jobs_snapshot()``), never against the engine's view of itself.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    MODEL,
    is_file,
    leftovers,
    open_core,
    read,
    result_requests,
    submits,
    wait_all_terminal,
    wait_for,
    wait_status,
)
from PIL import Image

from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.poll_policy import PollPolicy
from seedream_tui.jobs.service import Core


async def submit(core: Core, prompt: str, **extra: Any) -> Job:
    return await core.submit(core.registry.default(), {"prompt": prompt, **extra})


async def test_a_job_completes_with_its_image_and_cost(fake_server: Any) -> None:
    core = await open_core(fake_server.base_url)
    seen: list[Job] = []
    core.subscribe(seen.append)
    try:
        job = await submit(core, "a red fox")
        assert job.status is JobStatus.QUEUED and job.request_id
        done = await wait_status(core, job.id)
        assert done.status is JobStatus.COMPLETED, done.error
        assert done.error is None and done.cost == pytest.approx(0.03)
        assert done.submitted_at and done.finished_at and done.finished_at >= done.submitted_at
        [out] = done.outputs
        assert is_file(out.path) and out.format == "png"
        # listeners saw the job go through its states, ending with the completed row
        assert [j.status for j in seen][0] is JobStatus.SUBMITTING
        await wait_for(lambda: seen[-1].status is JobStatus.COMPLETED, 5, what="the completion event")
        assert fake_server.jobs_snapshot()[done.request_id]["status"] == "completed"
    finally:
        await core.close()


async def test_200_jobs_at_once_match_the_servers_record(fake_server: Any) -> None:
    fake_server.set_config(workers=40, min_duration=0.05, max_duration=0.3)
    policy = PollPolicy(first=0.1, running=0.25, queued_near=0.25, queued_far=0.5, unknown=0.25,
                        backoff_base=0.1, backoff_cap=0.5, lease=5.0)
    core = await open_core(fake_server.base_url, policy=policy, max_in_flight=16)
    try:
        spec = core.registry.default()
        jobs = await asyncio.gather(*(core.submit(spec, {"prompt": f"crowd {i}"}) for i in range(200)))
        assert len({j.request_id for j in jobs}) == 200
        done = await wait_all_terminal(core, [j.id for j in jobs], within=40)

        server = fake_server.jobs_snapshot()
        assert len(server) == 200 and submits(fake_server) == 200
        assert await core.history.count_jobs() == 200
        for job in done:
            record = server[job.request_id]
            assert job.status is JobStatus.COMPLETED, job.error
            assert record["status"] == "completed"
            assert record["input"] == job.inputs
            assert [o.url for o in job.outputs] == record["outputs"]
            with Image.open(job.outputs[0].path or "") as img:
                img.load()
                assert img.size == (job.outputs[0].width, job.outputs[0].height)
    finally:
        await core.close()


async def test_cancel_a_queued_job(fake_server: Any) -> None:
    fake_server.set_config(workers=1, min_duration=3.0, max_duration=3.0)
    core = await open_core(fake_server.base_url)
    try:
        blocker = await submit(core, "holds the only worker")
        waiting = await submit(core, "waits in line")
        await wait_status(core, waiting.id, {JobStatus.QUEUED})
        assert fake_server.jobs_snapshot()[waiting.request_id]["status"] == "in_queue"

        assert await core.cancel(waiting.id) == "Cancelled."
        job = await core.history.get(waiting.id)
        assert job is not None and job.status is JobStatus.CANCELLED and job.finished_at
        assert fake_server.jobs_snapshot()[waiting.request_id]["status"] == "cancelled"
        await wait_for(lambda: core.engine.live_count == 1, 5, what="polling of the cancelled job to stop")
        assert (await core.history.get(blocker.id)).status in (JobStatus.QUEUED, JobStatus.RUNNING)  # type: ignore[union-attr]
        assert "already cancelled" in await core.cancel(waiting.id)
    finally:
        await core.close()


async def test_cancel_a_running_job_says_it_cannot(fake_server: Any) -> None:
    fake_server.set_config(workers=1, min_duration=3.0, max_duration=3.0)
    core = await open_core(fake_server.base_url)
    try:
        job = await submit(core, "already on the GPU")
        await wait_for(lambda: fake_server.jobs_snapshot()[job.request_id]["status"] == "in_progress", 5,
                       what="the job to start")
        message = await core.cancel(job.id)  # whether or not the engine has noticed it runs yet
        assert "cannot cancel a running job" in message
        after = await core.history.get(job.id)
        assert after is not None and after.status is JobStatus.RUNNING
        assert fake_server.jobs_snapshot()[job.request_id]["status"] == "in_progress"
    finally:
        await core.close()


@pytest.mark.parametrize("fault", [{"error_5xx_rate": 1.0}, {"drop_rate": 1.0}], ids=["5xx", "dropped"])
async def test_network_trouble_pauses_jobs_then_they_complete(fake_server: Any, fault: dict[str, float]) -> None:
    fake_server.set_config(workers=3, min_duration=0.3, max_duration=0.6)
    core = await open_core(fake_server.base_url)
    try:
        jobs = [await submit(core, f"patient {i}") for i in range(3)]
        fake_server.set_config(**fault)
        polls = len(fake_server.api_requests)

        async def all_waiting() -> bool:
            rows = [await core.history.get(j.id) for j in jobs]
            return all(r is not None and (r.error or "").startswith("Waiting: ") for r in rows)

        await wait_for(all_waiting, 10, what="every job to show the trouble")
        await wait_for(lambda: len(fake_server.api_requests) >= polls + 9, 10, what="polls during the outage")
        for j in jobs:
            row = await core.history.get(j.id)
            assert row is not None and not row.status.terminal, row  # live, not failed
        assert core.engine.live_count == 3

        fake_server.set_config(error_5xx_rate=0.0, drop_rate=0.0)
        done = await wait_all_terminal(core, [j.id for j in jobs], within=15)
        assert all(d.status is JobStatus.COMPLETED and d.error is None for d in done), done
    finally:
        await core.close()


async def test_expired_request_becomes_expired(fake_server: Any) -> None:
    fake_server.set_config(min_duration=5.0, max_duration=5.0)
    core = await open_core(fake_server.base_url)
    try:
        job = await submit(core, "forgotten by the server")
        assert fake_server.expire(job.request_id)
        done = await wait_status(core, job.id, within=5)
        assert done.status is JobStatus.EXPIRED
        assert done.error and "no longer knows" in done.error
        # the follower ends on its own once the row is final (its task is dropped a moment after the write)
        await wait_for(lambda: core.engine.live_count == 0, what="the follower to end")
    finally:
        await core.close()


async def test_failed_job_keeps_the_servers_error(fake_server: Any) -> None:
    fake_server.set_config(fail_rate=1.0)
    core = await open_core(fake_server.base_url)
    try:
        job = await submit(core, "doomed")
        done = await wait_status(core, job.id)
        assert done.status is JobStatus.FAILED
        error = fake_server.jobs_snapshot()[job.request_id]["error"]
        said = error["message"] if isinstance(error, dict) else error
        assert said and done.error and said in done.error
        assert done.outputs == ()
    finally:
        await core.close()


async def test_rerun_export_delete(fake_server: Any, tmp_path: Path) -> None:
    core = await open_core(fake_server.base_url)
    try:
        first = await wait_status(core, (await submit(core, "twice", resolution="2048x2048 (1:1)")).id)
        again = await core.rerun(first.id)
        assert again.id != first.id and again.request_id != first.request_id
        assert again.inputs == first.inputs
        second = await wait_status(core, again.id)
        assert second.status is JobStatus.COMPLETED
        assert fake_server.jobs_snapshot()[second.request_id]["input"] == first.inputs

        dest = tmp_path / "export"
        copied = await core.export([first.id, second.id], dest)
        # <id>-<prompt-slug>-<n>.png: sorted by job, recognisable by prompt
        assert sorted(p.name for p in copied) == [f"{first.id}-twice-1.png", f"{second.id}-twice-1.png"]
        for job in (first, second):
            assert read(dest / f"{job.id}-twice-1.png") == read(job.outputs[0].path)

        files = [Path(p) for o in first.outputs for p in (o.path, o.thumb_path) if p]
        assert len(files) == 2 and all(is_file(f) for f in files)
        await core.delete(first.id)
        assert await core.history.get(first.id) is None
        assert not any(is_file(f) for f in files)
        assert (await core.history.get(second.id)) is not None and is_file(second.outputs[0].path)
        with pytest.raises(LookupError):
            await core.rerun(first.id)
        with pytest.raises(LookupError):
            await core.export([first.id], dest)
    finally:
        await core.close()


async def test_delete_a_live_job_stops_its_polling(fake_server: Any) -> None:
    fake_server.set_config(min_duration=3.0, max_duration=3.0)
    core = await open_core(fake_server.base_url)
    try:
        job = await submit(core, "never mind")
        await wait_for(lambda: result_requests(fake_server, job.request_id or "") >= 1, 5, what="a poll")
        await core.delete(job.id)
        assert core.engine.live_count == 0
        assert await core.history.get(job.id) is None
        assert leftovers(core.paths.images_dir) == []
    finally:
        await core.close()


async def test_two_engines_on_one_history_poll_each_job_once(fake_server: Any) -> None:
    fake_server.set_config(workers=4, min_duration=0.8, max_duration=1.0)
    first = await open_core(fake_server.base_url)
    second: Core | None = None
    try:
        jobs = [await submit(first, f"shared {i}") for i in range(4)]
        second = await open_core(fake_server.base_url)  # resumes the same live jobs
        assert second.engine.live_count == 4
        assert first.engine.owner != second.engine.owner
        seen_by_second: list[Job] = []
        second.subscribe(seen_by_second.append)

        done = await wait_all_terminal(first, [j.id for j in jobs], within=15)
        assert all(d.status is JobStatus.COMPLETED for d in done)
        assert second.engine.poll_requests == 0  # the lease kept the second away
        polls = sum(result_requests(fake_server, j.request_id or "") for j in jobs)
        assert polls == first.engine.poll_requests
        # the second instance still learns the outcome, from the history
        await wait_for(lambda: {j.id for j in seen_by_second if j.status is JobStatus.COMPLETED} ==
                       {j.id for j in jobs}, 5, what="the second app to see every completion")
        await wait_for(lambda: second is not None and second.engine.live_count == 0, 5, what="second to settle")
    finally:
        await first.close()
        if second is not None:
            await second.close()


async def test_second_engine_takes_over_when_the_first_quits(fake_server: Any) -> None:
    fake_server.set_config(workers=2, min_duration=1.0, max_duration=1.0)
    first = await open_core(fake_server.base_url)
    second: Core | None = None
    try:
        jobs = [await submit(first, f"handed over {i}") for i in range(2)]
        second = await open_core(fake_server.base_url)
        await first.close()  # releases its leases
        done = await wait_all_terminal(second, [j.id for j in jobs], within=10)
        assert all(d.status is JobStatus.COMPLETED for d in done)
        assert second.engine.poll_requests > 0
        assert submits(fake_server) == 2
    finally:
        await first.close()
        if second is not None:
            await second.close()


async def test_an_instance_follows_jobs_another_instance_submits_later(fake_server: Any) -> None:
    """Two apps open on one history: jobs B submits after A started show up, and finish, in A too."""
    fake_server.set_config(workers=2, min_duration=0.5, max_duration=0.6)
    first = await open_core(fake_server.base_url)
    second = await open_core(fake_server.base_url)
    try:
        seen_by_first: list[Job] = []
        first.subscribe(seen_by_first.append)
        job = await submit(second, "made by the second app")
        await wait_all_terminal(second, [job.id], within=10)
        await wait_for(lambda: any(j.id == job.id and j.status is JobStatus.COMPLETED for j in seen_by_first),
                       10, what="the first app to learn of the second app's job")
        assert first.engine.poll_requests == 0  # it only followed, through the history
    finally:
        await first.close()
        await second.close()


async def test_start_while_a_submit_saves_its_request_id_leaves_that_job_alone(fake_server: Any) -> None:
    """The TUI starts the engine a frame after the main screen shows, so a fast user can submit first.

    start() reads the live rows; one whose submit was answered but whose request id is not saved yet is
    still SUBMITTING there. Its follower would settle it as UNKNOWN ("check the dashboard"): it must not
    get one. The window is held open here by pausing the save of the request id."""
    core = await open_core(fake_server.base_url, start=False)
    history = core.history
    real_record = history.record_request_id
    at_save, release = asyncio.Event(), asyncio.Event()

    async def paused_record(job_id: int, request_id: str, owner: str, **kw: Any) -> Job:
        at_save.set()
        await release.wait()
        return await real_record(job_id, request_id, owner, **kw)

    history.record_request_id = paused_record  # type: ignore[method-assign]
    seen: list[JobStatus] = []
    core.subscribe(lambda job: seen.append(job.status))
    try:
        pending = asyncio.create_task(submit(core, "submitted before the engine started"))
        await asyncio.wait_for(at_save.wait(), 10)
        resumed = await core.start()
        # it did read the in-between row (queued already when the request id reached the journal first)
        assert [j.status for j in resumed] in ([JobStatus.SUBMITTING], [JobStatus.QUEUED])
        assert not core.engine.is_following(resumed[0].id)  # ... and left it to its submit
        release.set()
        job = await pending
        done = await wait_status(core, job.id)
        assert done.status is JobStatus.COMPLETED, done.error
        assert JobStatus.UNKNOWN not in seen
        assert submits(fake_server) == 1 and len(fake_server.jobs_snapshot()) == 1
    finally:
        release.set()
        await core.close()


async def test_a_gateway_error_on_submit_is_unknown_never_failed_nor_resent(fake_server: Any) -> None:
    """The job was created behind a 502/504: "failed" would invite a second (paid) submit."""
    fake_server.set_config(gateway_after_submit_rate=1.0)
    core = await open_core(fake_server.base_url)
    try:
        from seedream_tui.api.errors import SubmitOutcomeUnknown

        with pytest.raises(SubmitOutcomeUnknown, match="gateway answered HTTP 50[24]"):
            await submit(core, "behind a gateway")
        [row] = await core.history.list_jobs()
        assert row.status is JobStatus.UNKNOWN and "Check the RunComfy dashboard" in (row.error or "")
        assert submits(fake_server) == 1 and len(fake_server.jobs_snapshot()) == 1
    finally:
        await core.close()


async def test_submit_refused_by_the_server_is_recorded_as_failed(fake_server: Any) -> None:
    core = await open_core(fake_server.base_url)
    try:
        from seedream_tui.api.errors import ApiError

        with pytest.raises(ApiError) as caught:
            await core.engine.submit(MODEL, {"prompt": ""})  # skips local validation on purpose
        [row] = await core.history.list_jobs()
        assert row.status is JobStatus.FAILED and row.request_id is None
        assert row.error and str(caught.value) in row.error
        assert core.engine.live_count == 0
    finally:
        await core.close()


async def test_lost_submit_answer_is_unknown_and_not_retried(fake_server: Any) -> None:
    from seedream_tui.api.errors import SubmitOutcomeUnknown

    fake_server.set_config(drop_rate=1.0)  # the connection closes before the submit is answered
    core = await open_core(fake_server.base_url)
    try:
        with pytest.raises(SubmitOutcomeUnknown):
            await submit(core, "did it arrive?")
        [row] = await core.history.list_jobs()
        assert row.status is JobStatus.UNKNOWN and row.request_id is None
        assert row.error and "dashboard" in row.error
        assert submits(fake_server) == 1
        assert core.engine.live_count == 0
    finally:
        await core.close()
