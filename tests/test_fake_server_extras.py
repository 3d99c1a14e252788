"""The fake server's later additions: unix timestamps in the record, a persistent record (``state_dir``),
and the knobs that send hostile outputs and broken status/result bodies."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from helpers import wait_until
from PIL import Image

from seedream_tui.fake.badoutput import GIGANTIC_SIZE, HUGE_LENGTH, REDIRECT_HTTP_TARGET
from seedream_tui.fake.cli import build_parser, config_from_args
from seedream_tui.fake.faults import API_BODY_STYLES, OUTPUT_URL_STYLES
from seedream_tui.fake.server import FakeConfig, FakeServer, FakeServerThread

MODEL = "bytedance/seedream-5/lite/text-to-image"
AUTH = {"Authorization": "Bearer test-token"}
T = TypeVar("T")


wait_for = wait_until


async def await_for(probe: Callable[[], Awaitable[T | None]], what: str = "it") -> T:
    """Await ``probe`` until it returns something truthy, or fail after 10 seconds."""
    try:
        async with asyncio.timeout(10):
            while True:
                value = await probe()
                if value:
                    return value
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


@pytest.fixture
def client(fake_server: FakeServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake_server.base_url, headers=AUTH, timeout=10) as c:
        yield c


def submit(client: httpx.Client, prompt: str = "a red fox") -> str:
    response = client.post(f"/v1/models/{MODEL}", json={"prompt": prompt})
    assert response.status_code == 200, response.text
    return str(response.json()["request_id"])


def finished(client: httpx.Client, request_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        body = client.get(f"/v1/requests/{request_id}/result").json()
        return body if body["status"] in ("completed", "failed", "cancelled") else None

    return wait_for(probe, what=f"{request_id} to finish")


# ----- timestamps ---------------------------------------------------------------------------------------


def test_record_has_unix_timestamps(client: httpx.Client, fake_server: FakeServerThread) -> None:
    before = time.time()
    done = submit(client)
    result = finished(client, done)
    after = time.time()
    record = fake_server.jobs_snapshot()[done]
    assert before <= record["created_ts"] <= record["started_ts"] <= record["finished_ts"] <= after
    assert time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record["finished_ts"])) == result["finished_at"]

    fake_server.set_config(workers=1, min_duration=60, max_duration=60)
    running, waiting = submit(client), submit(client)
    snapshot = fake_server.jobs_snapshot()
    assert snapshot[running]["started_ts"] is not None and snapshot[running]["finished_ts"] is None
    assert snapshot[waiting]["started_ts"] is None and snapshot[waiting]["finished_ts"] is None
    client.post(f"/v1/requests/{waiting}/cancel")
    cancelled = fake_server.jobs_snapshot()[waiting]
    assert cancelled["started_ts"] is None and cancelled["finished_ts"] >= cancelled["created_ts"]


# ----- persistence --------------------------------------------------------------------------------------


def quick(state_dir: Path, **knobs: Any) -> FakeConfig:
    values: dict[str, Any] = {"workers": 1, "min_duration": 0.01, "max_duration": 0.02, "image_scale": 0.02}
    values.update(knobs)
    return FakeConfig(state_dir=str(state_dir), seed=7, **values)


async def status_of(http: httpx.AsyncClient, server: FakeServer, request_id: str) -> dict[str, Any]:
    response = await http.get(f"{server.base_url}/v1/requests/{request_id}/result")
    return dict(response.json())


async def test_jobs_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    async with httpx.AsyncClient(headers=AUTH, timeout=10) as http:
        first = FakeServer(quick(state))
        await first.start()
        try:
            sub = await http.post(f"{first.base_url}/v1/models/{MODEL}", json={"prompt": "kept"})
            done = sub.json()["request_id"]

            async def completed() -> dict[str, Any] | None:
                body = await status_of(http, first, done)
                return body if body["status"] == "completed" else None

            old_url = (await await_for(completed, what="the first job"))["output"]["image"]
            image = (await http.get(old_url)).content
            first.set_config(min_duration=60, max_duration=60)
            live = []
            for prompt in ("running", "queued 1", "queued 2"):
                response = await http.post(f"{first.base_url}/v1/models/{MODEL}", json={"prompt": prompt})
                live.append(response.json()["request_id"])
            assert [first.jobs_snapshot()[rid]["status"] for rid in live] == [
                "in_progress",
                "in_queue",
                "in_queue",
            ]
            before = first.jobs_snapshot()
        finally:
            await first.stop()
        saved = json.loads((state / "jobs.json").read_text())
        assert {job["request_id"] for job in saved["jobs"]} == {done, *live}
        assert not list(state.glob(".*.tmp"))  # atomic writes leave no temp file behind

        # the restored running job must still be running when it is looked at below, even on a loaded
        # machine: it gets a 2 s run (its duration is drawn when it starts), the later ones short runs
        second = FakeServer(quick(state, min_duration=2.0, max_duration=2.0), cdn_port=0)
        await second.start()
        try:
            assert second.state_warnings == []
            body = await status_of(http, second, done)
            new_url = body["output"]["image"]
            assert new_url.startswith(second.cdn_url + "/files/") and new_url.endswith("/0.png")
            assert (await http.get(new_url)).content == image  # the same file, served by the new CDN
            after = second.jobs_snapshot()
            assert after[done]["finished_ts"] == before[done]["finished_ts"]
            assert after[live[1]]["created_ts"] == before[live[1]]["created_ts"]
            # the job that was running restarts first, then the waiting line in its order
            assert after[live[0]]["status"] == "in_progress" and after[live[2]]["queue_position"] == 2
            second.set_config(min_duration=0.01, max_duration=0.02, workers=3)
            for rid in live:

                async def done_now(rid: str = rid) -> bool:
                    return (await status_of(http, second, rid))["status"] == "completed"

                await await_for(done_now, what=f"restored job {rid}")
            fresh = await http.post(f"{second.base_url}/v1/models/{MODEL}", json={"prompt": "new"})
            assert fresh.json()["request_id"] not in before  # same seed, but no id is reused
        finally:
            await second.stop()
    assert (state / "files" / done / "0.png").is_file()  # a persistent server keeps its files


async def test_changes_are_saved_without_a_stop(tmp_path: Path) -> None:
    state = tmp_path / "state"
    async with FakeServer(quick(state)) as server, httpx.AsyncClient(headers=AUTH, timeout=10) as http:
        response = await http.post(f"{server.base_url}/v1/models/{MODEL}", json={"prompt": "saved"})
        rid = response.json()["request_id"]

        async def saved_as_completed() -> bool:
            path = state / "jobs.json"
            if not path.exists():
                return False
            jobs = {job["request_id"]: job for job in json.loads(path.read_text())["jobs"]}
            return rid in jobs and jobs[rid]["status"] == "completed" and jobs[rid]["files"] == ["0.png"]

        await await_for(saved_as_completed, what="the debounced save")


@pytest.mark.parametrize("damage", ["not json", "wrong shape", "a folder"])
async def test_unreadable_record_starts_empty(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    record = state / "jobs.json"
    if damage == "not json":
        record.write_bytes(b'{"format": 1, "jobs": [\xff')
    elif damage == "wrong shape":
        record.write_text('{"format": 99, "jobs": "none"}')
    else:
        record.mkdir()
    with caplog.at_level(logging.WARNING, logger="seedream_tui.fake.server"):
        async with FakeServer(quick(state)) as server, httpx.AsyncClient(headers=AUTH) as http:
            assert server.jobs_snapshot() == {}
            assert len(server.state_warnings) == 1 and "starts with no jobs" in server.state_warnings[0]
            ok = await http.post(f"{server.base_url}/v1/models/{MODEL}", json={"prompt": "after"})
            assert ok.status_code == 200
    assert "could not be read" in caplog.text and "Traceback" not in caplog.text
    assert (state / "jobs.json.corrupt").exists()  # kept for a human, not overwritten
    assert len(json.loads(record.read_text())["jobs"]) == 1  # and a fresh record replaced it


async def test_bad_entries_are_skipped_one_by_one(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    good = {
        "request_id": "good-1",
        "model_id": MODEL,
        "input": {"prompt": "x"},
        "effective_input": {"prompt": "x"},
        "status": "in_queue",
        "created_ts": time.time(),
    }
    evil = dict(good, request_id="../../etc", status="completed", files=["0.png"])
    odd = dict(good, request_id="odd", status="completed", files=["../secret.png"])
    (state / "jobs.json").write_text(json.dumps({"format": 1, "jobs": [good, evil, odd, "junk"]}))
    async with FakeServer(quick(state, min_duration=60, max_duration=60)) as server:
        assert list(server.jobs_snapshot()) == ["good-1"]
        assert server.jobs_snapshot()["good-1"]["status"] == "in_progress"
        assert len(server.state_warnings) == 3


def test_state_dir_is_fixed_once_running(fake_server: FakeServerThread, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="before the server starts"):
        fake_server.set_config(state_dir=str(tmp_path))
    assert FakeConfig(state_dir=tmp_path).state_dir == str(tmp_path)  # type: ignore[arg-type]


# ----- hostile outputs ----------------------------------------------------------------------------------


@pytest.fixture
def output_url(client: httpx.Client) -> str:
    """The CDN URL of one finished job's image (made while every knob is off)."""
    return str(finished(client, submit(client))["output"]["image"])


@pytest.mark.parametrize("style", ["ftp", "file"])
def test_output_urls_with_a_bad_scheme(
    client: httpx.Client, fake_server: FakeServerThread, output_url: str, style: str
) -> None:
    rid = output_url.split("/")[-2]
    fake_server.set_config(output_url_style=style)
    shown = client.get(f"/v1/requests/{rid}/result").json()["output"]["image"]
    expected = "file:///etc/passwd" if style == "file" else output_url.replace("http://", "ftp://", 1)
    assert shown == expected
    assert fake_server.jobs_snapshot()[rid]["outputs"] == [output_url]  # the record stays true
    assert fake_server.faults_injected["output_url_style"] == 1


def test_redirects_away_and_in_a_loop(fake_server: FakeServerThread, output_url: str) -> None:
    fake_server.set_config(output_url_style="redirect_http")
    away = httpx.get(output_url, timeout=5)
    assert away.status_code == 302 and away.headers["location"] == REDIRECT_HTTP_TARGET
    fake_server.set_config(output_url_style="redirect_loop")
    loop = httpx.get(output_url, timeout=5)
    assert loop.status_code == 302 and loop.headers["location"] == output_url
    with pytest.raises(httpx.TooManyRedirects):
        httpx.get(output_url, timeout=5, follow_redirects=True)
    assert fake_server.faults_injected["output_url_style"] >= 3


def test_html_labelled_as_png(fake_server: FakeServerThread, output_url: str) -> None:
    fake_server.set_config(output_url_style="not_image")
    response = httpx.get(output_url, timeout=5)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"<!DOCTYPE html>")
    with pytest.raises(Image.UnidentifiedImageError):
        Image.open(io.BytesIO(response.content))


def test_decompression_bomb(fake_server: FakeServerThread, output_url: str) -> None:
    fake_server.set_config(output_url_style="bomb")
    response = httpx.get(output_url, timeout=5)
    assert response.headers["content-type"] == "image/png" and len(response.content) < 16_000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(response.content))


def test_empty_and_wrong_type(fake_server: FakeServerThread, output_url: str) -> None:
    fake_server.set_config(output_url_style="empty")
    empty = httpx.get(output_url, timeout=5)
    assert (empty.status_code, empty.content, empty.headers["content-length"]) == (200, b"", "0")
    fake_server.set_config(output_url_style="wrong_type")
    gif = httpx.get(output_url, timeout=5)
    assert gif.status_code == 200 and gif.headers["content-type"] == "image/gif"
    assert Image.open(io.BytesIO(gif.content)).format == "GIF"  # decodable, but not what was asked for
    fake_server.set_config(output_url_style="normal")
    assert Image.open(io.BytesIO(httpx.get(output_url, timeout=5).content)).format == "PNG"


def test_huge_stops_when_the_client_hangs_up(fake_server: FakeServerThread, output_url: str) -> None:
    fake_server.set_config(output_url_style="huge")
    received = 0
    with httpx.stream("GET", output_url, timeout=5) as response:
        assert response.headers["content-length"] == str(HUGE_LENGTH)
        for chunk in response.iter_raw():
            assert not chunk.strip(b"\0")
            received += len(chunk)
            if received >= 200_000:
                break
        assert fake_server.open_stream_count == 1
    wait_for(lambda: fake_server.open_stream_count == 0, what="the server to stop streaming")


async def test_huge_stream_does_not_hold_up_stop() -> None:
    server = FakeServer(FakeConfig(min_duration=0.01, max_duration=0.02, image_scale=0.02))
    await server.start()
    async with httpx.AsyncClient(headers=AUTH, timeout=10) as http:
        rid = (await http.post(f"{server.base_url}/v1/models/{MODEL}", json={"prompt": "x"})).json()[
            "request_id"
        ]

        async def url() -> str | None:
            body = (await http.get(f"{server.base_url}/v1/requests/{rid}/result")).json()
            return body["output"]["image"] if body["status"] == "completed" else None

        image_url = await await_for(url)
        server.set_config(output_url_style="huge")
        async with httpx.AsyncClient(timeout=10) as cdn, cdn.stream("GET", image_url) as response:
            await anext(response.aiter_raw())
            started = time.monotonic()
            await asyncio.wait_for(server.stop(), timeout=5)
            assert time.monotonic() - started < 3 and not server.open_streams


# ----- broken status/result bodies ----------------------------------------------------------------------


@pytest.mark.parametrize("style", [s for s in API_BODY_STYLES if s != "normal"])
def test_broken_api_bodies(client: httpx.Client, fake_server: FakeServerThread, style: str) -> None:
    done = submit(client)
    finished(client, done)
    fake_server.set_config(workers=1, min_duration=60, max_duration=60)
    submit(client)
    waiting = submit(client)  # in_queue: its answers carry a queue_position
    fake_server.set_config(api_body_style=style)
    answers = [
        client.get(f"/v1/requests/{rid}/{what}") for rid in (done, waiting) for what in ("status", "result")
    ]
    assert all(a.status_code == 200 for a in answers)
    assert fake_server.faults_injected["api_body_style"] == 4
    if style == "html":
        assert all(a.headers["content-type"].startswith("text/html") for a in answers)
        assert all(a.text.startswith("<!DOCTYPE html>") for a in answers)
    elif style == "empty":
        assert all(a.content == b"" for a in answers)
    elif style == "truncated_json":
        for answer in answers:
            with pytest.raises(json.JSONDecodeError):
                json.loads(answer.content)
            assert answer.text.startswith('{"request_id": "')
    elif style == "wrong_types":
        bodies = [a.json() for a in answers]
        assert all(isinstance(b["status"], int) and isinstance(b["queue_position"], str) for b in bodies)
        assert all(isinstance(b["output"], int) for b in bodies)
    elif style == "unknown_status":
        assert {a.json()["status"] for a in answers} == {"warming_up"}
        assert answers[3].json()["queue_position"] == 1
    elif style == "nested_json":
        for answer in answers:
            with pytest.raises(RecursionError):
                json.loads(answer.content)
    elif style == "huge_position":
        assert {a.json()["queue_position"] for a in answers} == {10**30}
    else:
        assert style == "gigantic"
        for answer in answers:
            assert len(answer.content) >= GIGANTIC_SIZE - 100
            body = answer.json()
            assert body["request_id"] in (done, waiting) and len(body["padding"]) > 1_000_000
    fake_server.set_config(api_body_style="normal")
    assert client.get(f"/v1/requests/{done}/result").json()["status"] == "completed"
    assert fake_server.jobs_snapshot()[done]["status"] == "completed"


# ----- the knobs ----------------------------------------------------------------------------------------


def test_new_knobs_are_checked_and_settable(fake_server: FakeServerThread) -> None:
    with pytest.raises(ValueError, match="output_url_style must be one of"):
        FakeConfig(output_url_style="gopher")
    with pytest.raises(ValueError, match="api_body_style must be a string"):
        FakeConfig().updated({"api_body_style": 3})
    with httpx.Client(base_url=fake_server.base_url, timeout=5) as control:
        changed = control.post("/_fake/config", json={"output_url_style": "bomb", "api_body_style": "html"})
        assert changed.status_code == 200
        assert (changed.json()["output_url_style"], changed.json()["api_body_style"]) == ("bomb", "html")
        refused = control.post("/_fake/config", json={"output_url_style": "sideways"})
        assert refused.status_code == 400 and fake_server.config.output_url_style == "bomb"
    assert set(OUTPUT_URL_STYLES) >= {"normal", "ftp", "file", "huge", "wrong_type"}


def test_cli_flags_for_the_new_knobs(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["--state-dir", str(tmp_path), "--output-url-style", "redirect_loop", "--api-body-style", "gigantic"]
    )
    config = config_from_args(args)
    assert (config.state_dir, config.output_url_style, config.api_body_style) == (
        str(tmp_path),
        "redirect_loop",
        "gigantic",
    )
    defaults = config_from_args(build_parser().parse_args([]))
    assert (defaults.state_dir, defaults.output_url_style, defaults.api_body_style) == (
        None,
        "normal",
        "normal",
    )
