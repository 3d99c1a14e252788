"""A hostile or broken server never kills a poller nor hangs a job; what is saved is what was promised.

Each case is one answer a real (or an imitation) RunComfy could give: nested JSON, an absurd queue
position, an output URL no HTTP client can use, a CDN that gzips or trickles, a "completed" with no
outputs yet, an answer trickling a byte at a time, the token echoed in an error. The engine must turn each
into a clear job state (waiting with a sentence, or a final error) and keep following the job.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from helpers import FAST, MODEL, TOKEN, is_file, open_core, wait_for, wait_status
from PIL import Image
from scripted_server import Sleeps, json_answer, make_client, raw_answer, scripted_server

from seedream_tui.api.errors import ApiTimeoutError, SubmitOutcomeUnknown
from seedream_tui.api.parse import parse_state
from seedream_tui.config import resolve_config
from seedream_tui.fake.server import FakeConfig, FakeServerThread
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.service import Core


async def submit(core: Core, prompt: str, **extra: Any) -> Job:
    return await core.submit(core.registry.default(), {"prompt": prompt, **extra})


def _png_bytes(size: tuple[int, int] = (32, 24)) -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buf, "PNG")
    return buf.getvalue()


# ------------------------------------------------------------------ answers the engine must survive


async def test_nested_json_keeps_the_job_waiting_and_followed(fake_server: Any) -> None:
    fake_server.set_config(min_duration=0.3, max_duration=0.3)
    core = await open_core(fake_server.base_url)
    try:
        fake_server.set_config(api_body_style="nested_json")
        job = await submit(core, "deep answers")

        async def waiting() -> Job | None:
            row = await core.history.get(job.id)
            return row if row and (row.error or "").startswith("Waiting: ") else None

        row = await wait_for(waiting, 10, what="the job to say it is waiting")
        assert not row.status.terminal and core.engine.is_following(job.id)
        fake_server.set_config(api_body_style="normal")
        done = await wait_status(core, job.id)
        assert done.status is JobStatus.COMPLETED and done.error is None
    finally:
        await core.close()


async def test_an_absurd_queue_position_is_never_shown_nor_stored(fake_server: Any) -> None:
    fake_server.set_config(workers=1, min_duration=0.6, max_duration=0.6)
    core = await open_core(fake_server.base_url)
    seen: list[int | None] = []
    core.subscribe(lambda job: seen.append(job.queue_position))
    try:
        await submit(core, "first, running")
        fake_server.set_config(api_body_style="huge_position")
        job = await submit(core, "second, queued behind it")
        await wait_for(lambda: fake_server.faults_injected["api_body_style"] >= 3, 10, what="several huge positions")
        fake_server.set_config(api_body_style="normal")
        done = await wait_status(core, job.id)
        assert done.status is JobStatus.COMPLETED
        assert all(p is None or 0 <= p <= 1_000_000 for p in seen), max(p or 0 for p in seen)
    finally:
        await core.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:99999/x.png",
        "https://cdn.example.com/" + "a" * 100_000 + ".png",
        "https://cdn.example.com/x\x07.png",
    ],
    ids=["port-99999", "100KB-long", "control-character"],
)
async def test_an_output_url_no_client_can_use_fails_the_job_with_a_sentence(url: str) -> None:
    async with scripted_server() as server:
        server.script(json_answer({"request_id": "r-bad-url"}),
                      json_answer({"request_id": "r-bad-url", "status": "completed", "output": {"image": url}}))
        core = await open_core(server.base_url)
        try:
            job = await core.engine.submit(MODEL, {"prompt": "a cat"})
            done = await wait_status(core, job.id)
        finally:
            await core.close()
    assert done.status is JobStatus.FAILED
    assert "not a usable URL" in (done.error or "") and len(done.error or "") < 400


async def test_completed_with_no_outputs_is_asked_once_more() -> None:
    async with scripted_server() as server:
        image_url = f"{server.base_url}/files/r-late/0.png"
        server.script(
            json_answer({"request_id": "r-late"}),
            json_answer({"request_id": "r-late", "status": "completed", "output": {}}),
            json_answer({"request_id": "r-late", "status": "completed", "output": {"image": image_url}}),
            raw_answer(_png_bytes(), headers={"Content-Type": "image/png"}),
        )
        core = await open_core(server.base_url)
        try:
            job = await core.engine.submit(MODEL, {"prompt": "outputs written late"})
            done = await wait_status(core, job.id)
        finally:
            await core.close()
    assert done.status is JobStatus.COMPLETED, done.error
    assert is_file(done.outputs[0].path)


async def test_a_gzipped_download_is_not_taken_for_a_cut_one(fake_server: Any) -> None:
    fake_server.set_config(cdn_gzip=True)
    core = await open_core(fake_server.base_url)
    try:
        done = await wait_status(core, (await submit(core, "compressed on the way")).id)
    finally:
        await core.close()
    assert done.status is JobStatus.COMPLETED, done.error
    with Image.open(done.outputs[0].path or "") as img:
        img.load()
        assert img.size == (done.outputs[0].width, done.outputs[0].height)


async def test_a_trickling_download_is_dropped_and_the_job_keeps_waiting(fake_server: Any) -> None:
    fake_server.set_config(cdn_rate=300.0)
    core = await open_core(fake_server.base_url)
    core.engine.downloader.min_rate, core.engine.downloader.rate_grace = 20_000, 0.3
    try:
        job = await submit(core, "a dying link")

        async def too_slow() -> Job | None:
            row = await core.history.get(job.id)
            return row if row and "too slowly" in (row.error or "") else None

        row = await wait_for(too_slow, 15, what="the slow download to be dropped")
        assert row.status is JobStatus.DOWNLOADING and core.engine.is_following(job.id)
        fake_server.set_config(cdn_rate=None)
        done = await wait_status(core, job.id)
        assert done.status is JobStatus.COMPLETED
    finally:
        await core.close()


async def _trickle(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    for byte in b'{"request_id": "r", "status": "in_queue"}':
        await response.write(bytes([byte]))
        await asyncio.sleep(0.1)  # the server's pace: one byte every 0.1 s
    return response


async def test_an_answer_trickling_in_meets_a_total_deadline() -> None:
    async with scripted_server() as server:
        server.script(_trickle)
        client = make_client(server.base_url, TOKEN, Sleeps(), attempts=1, total_timeout=0.5)
        async with client:
            with pytest.raises(ApiTimeoutError):
                await asyncio.wait_for(client.status("r"), 5)
            with pytest.raises(SubmitOutcomeUnknown):  # it may have been taken: never "not sent"
                await asyncio.wait_for(client.submit(MODEL, {"prompt": "p"}), 5)


def test_non_finite_costs_are_no_cost() -> None:
    for cost in ("inf", "NaN", -1, 1e400, "-inf"):
        state = parse_state({"status": "completed", "output": {"image": "https://x/y.png"}, "cost": cost}, "r")
        assert state.cost is None, cost
    assert parse_state({"status": "completed", "output": {}, "cost": "0.03"}, "r").cost == 0.03


async def test_nan_in_an_answer_is_read_as_missing() -> None:
    async with scripted_server() as server:
        server.script(raw_answer(b'{"request_id": "r", "status": "completed", "output": {"image": "https://x/y.png"},'
                                 b' "cost": NaN}', headers={"Content-Type": "application/json"}))
        async with make_client(server.base_url, TOKEN, Sleeps()) as client:
            state = await client.result("r", include_cost=True)
    assert state.cost is None and state.outputs == ("https://x/y.png",)


# ------------------------------------------------------------------ the token echoed back

SECRET = "rc_9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a"


def _leaks(text: str) -> list[str]:
    """Every 8-character piece of the secret found in ``text``."""
    return [SECRET[i : i + 8] for i in range(len(SECRET) - 7) if SECRET[i : i + 8] in text]


async def test_a_failed_jobs_error_never_keeps_the_token_even_when_cut(fake_server: Any) -> None:
    # the token straddles the 500th character, where long error texts are cut
    fake_server.set_config(fail_rate=1.0, fail_message="x" * 450 + f" bad credentials {SECRET} for this worker")
    config = resolve_config(base_url=fake_server.base_url, env={"RUNCOMFY_API_TOKEN": SECRET})
    core = await Core.open(config, policy=FAST)
    await core.start()
    try:
        done = await wait_status(core, (await submit(core, "echo")).id)
    finally:
        await core.close()
    assert done.status is JobStatus.FAILED
    assert _leaks(done.error or "") == [] and "bad credentials" in (done.error or "")


async def test_an_unknown_status_carrying_the_token_is_shown_without_it() -> None:
    async with scripted_server() as server:
        server.script(json_answer({"request_id": "r-odd"}), json_answer({"status": f"warming {SECRET}"}))
        config = resolve_config(base_url=server.base_url, env={"RUNCOMFY_API_TOKEN": SECRET})
        core = await Core.open(config, policy=FAST)
        await core.start()
        try:
            job = await core.engine.submit(MODEL, {"prompt": "p"})

            async def said() -> Job | None:
                row = await core.history.get(job.id)
                return row if row and "does not know" in (row.error or "") else None

            row = await wait_for(said, 10, what="the unknown status sentence")
        finally:
            await core.close()
    assert _leaks(row.error or "") == []


# ------------------------------------------------------------------ where a job is polled


async def test_each_job_is_polled_where_it_was_submitted(fake_server: Any) -> None:
    fake_server.set_config(min_duration=1.0, max_duration=1.0)
    core = await open_core(fake_server.base_url)
    job = await submit(core, "made on the first server")
    await core.close()  # quit while it runs
    other = FakeServerThread(FakeConfig(workers=1, image_scale=0.02)).start()
    try:
        core = await open_core(other.base_url)  # the user now points the app elsewhere
        try:
            done = await wait_status(core, job.id)
        finally:
            await core.close()
    finally:
        other.stop()
    assert done.status is JobStatus.COMPLETED, done.error
    assert not any(r["path"].startswith("/v1/requests/") for r in other.api_requests)


# ------------------------------------------------------------------ a resumed download heals itself


async def _quit_mid_download(fake_server: Any) -> Job:
    """Submit, let the first download use up the job's one-time link, and quit before it is saved."""
    core = await open_core(fake_server.base_url)
    used = asyncio.Event()

    async def consume_then_hang(url: str, **_: Any) -> Any:
        async with core.client.http.stream("GET", url) as response:
            await response.aread()
        used.set()
        await asyncio.Event().wait()  # the app quits during the download

    core.engine.downloader.fetch = consume_then_hang  # type: ignore[method-assign]
    try:
        job = await submit(core, "quit while downloading")
        await asyncio.wait_for(used.wait(), 10)
        row = await core.history.get(job.id)
        assert row is not None and row.status is JobStatus.DOWNLOADING
    finally:
        await core.close()
    return row


async def test_a_download_whose_link_is_spent_asks_for_fresh_links(fake_server: Any) -> None:
    fake_server.set_config(one_time_links=True)
    stuck = await _quit_mid_download(fake_server)
    core = await open_core(fake_server.base_url)
    try:
        done = await wait_status(core, stuck.id)
    finally:
        await core.close()
    assert done.status is JobStatus.COMPLETED, done.error
    assert is_file(done.outputs[0].path) and done.outputs[0].url != stuck.outputs[0].url


async def test_when_no_fresh_link_can_be_had_the_job_ends_and_can_be_downloaded_again(fake_server: Any) -> None:
    fake_server.set_config(one_time_links=True)
    stuck = await _quit_mid_download(fake_server)
    fake_server.set_config(expire_after=0.0)  # RunComfy no longer has the request
    core = await open_core(fake_server.base_url)
    try:
        failed = await wait_status(core, stuck.id)
        assert failed.status is JobStatus.FAILED and "download again" in (failed.error or "")
        assert "no longer has this request" in await core.download_again(stuck.id)
        fake_server.set_config(expire_after=None)
        assert (await core.download_again(stuck.id)).startswith("Downloading")
        done = await wait_status(core, stuck.id, {JobStatus.COMPLETED})
        assert is_file(done.outputs[0].path) and done.error is None
    finally:
        await core.close()


# ------------------------------------------------------------------ one demo server per demo home


async def test_demo_instances_share_one_server_and_outlive_the_one_that_started_it(tmp_path: Path) -> None:
    fake = FakeConfig(workers=2, min_duration=1.0, max_duration=1.0, image_scale=0.02,
                      state_dir=str(tmp_path / "demo-server"))
    policy = dataclasses.replace(FAST, lease=0.6)
    first = await Core.open(resolve_config(demo=True), policy=policy, fake_config=fake)
    await first.start()
    second = await Core.open(resolve_config(demo=True), policy=policy, fake_config=fake)
    try:
        await second.start()
        assert second.config.base_url == first.config.base_url  # found, not started again
        job = await submit(second, "made through the second instance")
        await first.close()  # the instance running the server quits while the job runs
        done = await wait_status(second, job.id, within=20)
        assert done.status is JobStatus.COMPLETED, done.error
    finally:
        await first.close()
        await second.close()
