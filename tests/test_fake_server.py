"""The fake RunComfy server over real HTTP on loopback: endpoints, queue, images, every fault knob, controls, CLI."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from helpers import wait_until
from PIL import Image

import seedream_tui
from seedream_tui.fake.catalog import Validator, load_models
from seedream_tui.fake.cli import build_parser, config_from_args, main
from seedream_tui.fake.queue import FakeJob
from seedream_tui.fake.server import FakeConfig, FakeServer, FakeServerThread

MODEL = "bytedance/seedream-5/lite/text-to-image"
TOKEN = "test-token"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
T = TypeVar("T")


wait_for = wait_until


@pytest.fixture
def client(fake_server: FakeServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=fake_server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ) as c:
        yield c


def submit(client: httpx.Client, **values: Any) -> dict[str, Any]:
    values.setdefault("prompt", "a red fox in the snow")
    response = client.post(f"/v1/models/{MODEL}", json=values)
    assert response.status_code == 200, response.text
    return response.json()


def finished(client: httpx.Client, request_id: str, query: str = "") -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        body = client.get(f"/v1/requests/{request_id}/result{query}").json()
        return (
            body if body["status"] in ("completed", "failed", "cancelled", "succeeded", "canceled") else None
        )

    return wait_for(probe, what=f"request {request_id} to finish")


def download(url: str, **kwargs: Any) -> httpx.Response:
    response = httpx.get(url, timeout=10, **kwargs)
    assert response.status_code == 200
    return response


# ----- the happy path ---------------------------------------------------------------------------------


def test_submit_status_result_and_image(client: httpx.Client, fake_server: FakeServerThread) -> None:
    sub = submit(client, prompt="a lighthouse at dusk", resolution="2304x1728 (4:3)")
    rid = sub["request_id"]
    for key in ("status", "result", "cancel"):
        assert sub[f"{key}_url"] == f"{fake_server.base_url}/v1/requests/{rid}/{key}"

    status = client.get(sub["status_url"]).json()
    assert status["request_id"] == rid
    assert status["status"] in ("in_queue", "in_progress", "completed")
    assert status["result_url"] == sub["result_url"]

    result = finished(client, rid, "?include_cost=true")
    assert result["status"] == "completed"
    assert ISO_Z.match(result["created_at"]) and ISO_Z.match(result["finished_at"])
    assert result["cost"] == pytest.approx(0.03)
    url = result["output"]["image"]
    assert url.startswith(fake_server.cdn_url + "/files/") and fake_server.cdn_url != fake_server.base_url

    image_response = download(url)
    assert image_response.headers["content-type"] == "image/png"
    assert int(image_response.headers["content-length"]) == len(image_response.content)
    image = Image.open(io.BytesIO(image_response.content))
    assert (image.format, image.size) == ("PNG", (46, 35))  # 2304x1728 at image_scale 0.02

    record = fake_server.jobs_snapshot()[rid]
    assert record["status"] == "completed" and record["outputs"] == [url]
    assert record["model_id"] == MODEL and record["input"]["prompt"] == "a lighthouse at dusk"


def test_result_without_cost_and_status_after_completion(client: httpx.Client) -> None:
    rid = submit(client)["request_id"]
    assert "cost" not in finished(client, rid)
    status = client.get(f"/v1/requests/{rid}/status").json()
    assert status["status"] == "completed" and "queue_position" not in status


def test_jpeg_and_model_chosen_tier(client: httpx.Client) -> None:
    rid = submit(client, resolution="2K", output_format="jpeg")["request_id"]
    url = finished(client, rid)["output"]["image"]
    assert url.endswith(".jpeg")
    response = download(url)
    assert response.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("JPEG", (41, 41))  # 2048x2048 * 0.02


def test_images_differ_per_request(client: httpx.Client) -> None:
    first = finished(client, submit(client)["request_id"])["output"]["image"]
    second = finished(client, submit(client)["request_id"])["output"]["image"]
    assert download(first).content != download(second).content


def test_sequential_generation_gives_a_list(client: httpx.Client) -> None:
    result = finished(
        client, submit(client, sequential_image_generation="auto")["request_id"], "?include_cost=true"
    )
    urls = result["output"]["images"]
    assert "image" not in result["output"] and 2 <= len(urls) <= 4
    assert result["cost"] == pytest.approx(0.03 * len(urls))
    assert len(set(urls)) == len(urls)
    for url in urls:
        assert Image.open(io.BytesIO(download(url).content)).size == (46, 35)

    capped = finished(client, submit(client, sequential_image_generation="auto", max_images=1)["request_id"])
    assert len(capped["output"]["images"]) == 1


def test_model_detail(client: httpx.Client) -> None:
    body = client.get(f"/v1/models/{MODEL}").json()
    assert body["model_id"] == MODEL and body["title"].startswith("Seedream")
    assert "prompt" in body["input_schema"]["properties"]
    assert "images" in body["output_schema"]["properties"]
    assert client.get(f"/v1/models/{MODEL}", headers={"Authorization": ""}).status_code == 401


# ----- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "test-token"])
def test_missing_or_malformed_token(fake_server: FakeServerThread, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = httpx.post(f"{fake_server.base_url}/v1/models/{MODEL}", json={"prompt": "x"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error_code"] == 400004 and response.json()["error_message"]
    assert fake_server.jobs_snapshot() == {}


def test_token_list_and_request_log(client: httpx.Client, fake_server: FakeServerThread) -> None:
    fake_server.set_config(tokens=["only-this"])
    assert client.post(f"/v1/models/{MODEL}", json={"prompt": "x"}).status_code == 401
    ok = client.post(
        f"/v1/models/{MODEL}", json={"prompt": "x"}, headers={"Authorization": "Bearer only-this"}
    )
    assert ok.status_code == 200
    log = fake_server.api_requests
    assert [entry["headers"]["authorization"] for entry in log] == [f"Bearer {TOKEN}", "Bearer only-this"]
    assert log[0]["method"] == "POST" and log[0]["path"] == f"/v1/models/{MODEL}"


def test_unknown_model(client: httpx.Client) -> None:
    for response in (
        client.post("/v1/models/acme/nope", json={"prompt": "x"}),
        client.get("/v1/models/acme/nope"),
    ):
        assert response.status_code == 400 and response.json()["error_code"] == 400001


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b""])
def test_body_must_be_a_json_object(client: httpx.Client, body: bytes) -> None:
    response = client.post(f"/v1/models/{MODEL}", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error_message"]


def test_invalid_input_is_422_with_detail(client: httpx.Client, fake_server: FakeServerThread) -> None:
    response = client.post(f"/v1/models/{MODEL}", json={"prompt": "x", "resolution": "640x480"})
    assert response.status_code == 422
    body = response.json()
    assert body["error_message"]
    assert [item["loc"] for item in body["detail"]] == [["body", "resolution"]]
    assert body["detail"][0]["type"] == "value_error" and body["detail"][0]["msg"]
    assert client.post(f"/v1/models/{MODEL}", json={}).status_code == 422  # prompt is required
    assert fake_server.jobs_snapshot() == {}


@pytest.mark.parametrize("call", ["GET status", "GET result", "POST cancel"])
def test_unknown_request_id(client: httpx.Client, call: str) -> None:
    method, action = call.split()
    response = client.request(method, f"/v1/requests/no-such-id/{action}")
    assert response.status_code == 404 and response.json()["error_code"] == 404001


# ----- queue and cancel -------------------------------------------------------------------------------


def test_queue_positions_and_cancel_both_ways(client: httpx.Client, fake_server: FakeServerThread) -> None:
    fake_server.set_config(workers=1, min_duration=60, max_duration=60)
    running, second, third = (submit(client)["request_id"] for _ in range(3))

    def state(rid: str) -> dict[str, Any]:
        return client.get(f"/v1/requests/{rid}/status").json()

    assert state(running)["status"] == "in_progress" and "queue_position" not in state(running)
    assert (state(second)["status"], state(second)["queue_position"]) == ("in_queue", 1)
    assert (state(third)["status"], state(third)["queue_position"]) == ("in_queue", 2)
    assert (
        client.get(f"/v1/requests/{third}/result").json()["queue_position"] == 2
    )  # result = status before the end

    cancelled = client.post(f"/v1/requests/{second}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json() == {"request_id": second, "status": "cancelled", "outcome": "cancelled"}
    assert state(second)["status"] == "cancelled"
    assert state(third)["queue_position"] == 1  # moved up

    refused = client.post(f"/v1/requests/{running}/cancel")
    assert refused.status_code == 200
    assert refused.json() == {"request_id": running, "status": "in_progress", "outcome": "not_cancellable"}
    again = client.post(f"/v1/requests/{second}/cancel").json()
    assert (again["status"], again["outcome"]) == ("cancelled", "not_cancellable")

    result = client.get(f"/v1/requests/{second}/result").json()
    assert result["status"] == "cancelled" and "output" not in result
    snapshot = fake_server.jobs_snapshot()
    assert snapshot[second]["status"] == "cancelled" and snapshot[third]["queue_position"] == 1

    fake_server.set_config(workers=2)  # a freed slot takes the next waiting job at once
    assert state(third)["status"] == "in_progress"


async def test_a_thousand_queued_jobs_stay_cheap() -> None:
    """Queued jobs own no task: only the running ones do, and positions are answered quickly."""
    async with FakeServer(
        FakeConfig(workers=2, min_duration=60, max_duration=60, image_scale=0.02)
    ) as server:
        before = len(asyncio.all_tasks())
        for index in range(1000):
            server.board.add(FakeJob(f"job-{index}", MODEL, {"prompt": "x"}, {"prompt": "x"}))
        assert len(asyncio.all_tasks()) - before == 2
        async with httpx.AsyncClient(headers={"Authorization": "Bearer t"}) as client:
            started = time.monotonic()
            body = (await client.get(f"{server.base_url}/v1/requests/job-999/status")).json()
            assert time.monotonic() - started < 1.0
        assert body["queue_position"] == 998
        snapshot = server.jobs_snapshot()
        assert sum(job["status"] == "in_queue" for job in snapshot.values()) == 998
        files_dir = server.files_dir
        assert files_dir is not None and files_dir.is_dir()
    assert not files_dir.exists()  # stop() removes the generated files


# ----- the CDN ----------------------------------------------------------------------------------------


def test_cdn_logs_headers_and_refuses_unknown_files(
    client: httpx.Client, fake_server: FakeServerThread
) -> None:
    url = finished(client, submit(client)["request_id"])["output"]["image"]
    download(url, headers={"X-Probe": "1"})
    log = fake_server.cdn_requests
    assert len(log) == 1 and log[0]["path"] == url.removeprefix(fake_server.cdn_url)
    assert log[0]["headers"]["x-probe"] == "1" and "authorization" not in log[0]["headers"]
    assert client.get("/_fake/cdn-log").json() == log
    assert httpx.get(f"{fake_server.cdn_url}/files/nope/0.png").status_code == 404
    assert httpx.get(url.replace("/0.png", "/7.png")).status_code == 404


# ----- faults at rate 1.0 -----------------------------------------------------------------------------


def test_latency_and_spikes(client: httpx.Client, fake_server: FakeServerThread) -> None:
    fake_server.set_config(latency=0.2)
    started = time.monotonic()
    assert client.get(f"/v1/models/{MODEL}").status_code == 200
    assert time.monotonic() - started >= 0.2
    fake_server.set_config(latency=0.0, latency_spike_rate=1.0, latency_spike=0.2)
    started = time.monotonic()
    assert client.get(f"/v1/models/{MODEL}").status_code == 200
    assert time.monotonic() - started >= 0.2
    faults = fake_server.faults_injected
    assert faults["latency"] == 1 and faults["latency_spike"] == 1


def test_server_errors_come_in_several_bodies(client: httpx.Client, fake_server: FakeServerThread) -> None:
    fake_server.set_config(error_5xx_rate=1.0)
    responses = [client.post(f"/v1/models/{MODEL}", json={"prompt": "x"}) for _ in range(20)]
    assert {r.status_code for r in responses} <= {500, 502, 503}
    kinds = {r.headers.get("content-type", "").split(";")[0] or "empty" for r in responses}
    assert {"text/html", "application/json"} <= kinds
    assert any(not r.content for r in responses)
    assert fake_server.faults_injected["error_5xx"] == 20
    assert fake_server.jobs_snapshot() == {}


def test_rate_limit_with_retry_after(client: httpx.Client, fake_server: FakeServerThread) -> None:
    fake_server.set_config(rate_429=1.0, retry_after=2)
    response = client.get(f"/v1/models/{MODEL}")
    assert response.status_code == 429 and response.headers["retry-after"] == "2"
    assert fake_server.faults_injected["rate_429"] == 1


def test_dropped_connections(client: httpx.Client, fake_server: FakeServerThread) -> None:
    rid = submit(client)["request_id"]
    fake_server.set_config(drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"/v1/requests/{rid}/status")
    for _ in range(20):
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(f"/v1/models/{MODEL}", json={"prompt": "dropped"})
    jobs = fake_server.jobs_snapshot()
    created = [job for job in jobs.values() if job["input"]["prompt"] == "dropped"]
    assert 0 < len(created) < 20  # sometimes the job exists, sometimes not
    assert all(job["answer_dropped"] for job in created) and not jobs[rid]["answer_dropped"]
    assert fake_server.faults_injected["drop"] == 21


def test_gateway_error_after_the_job_was_created(client: httpx.Client, fake_server: FakeServerThread) -> None:
    fake_server.set_config(gateway_after_submit_rate=1.0, seed=7)
    codes = [client.post(f"/v1/models/{MODEL}", json={"prompt": f"behind a gateway {i}"}).status_code
             for i in range(12)]
    assert set(codes) == {502, 504}
    jobs = fake_server.jobs_snapshot()
    assert len(jobs) == 12 and all(job["answer_dropped"] for job in jobs.values())  # each one was taken
    assert fake_server.faults_injected["gateway_after_submit"] == 12
    # only submits: the other calls are answered normally
    rid = next(iter(jobs))
    assert client.get(f"/v1/requests/{rid}/status").status_code == 200


def test_failed_jobs(client: httpx.Client, fake_server: FakeServerThread) -> None:
    fake_server.set_config(fail_rate=1.0)
    request_ids = [submit(client)["request_id"] for _ in range(10)]
    results = [finished(client, rid) for rid in request_ids]
    for result in results:
        assert result["status"] == "failed" and "output" not in result
        error = result["error"]
        assert (isinstance(error, str) and error) or (isinstance(error, dict) and error["message"])
    assert {type(result["error"]) for result in results} == {str, dict}
    assert fake_server.faults_injected["fail"] == 10


def test_truncated_download(client: httpx.Client, fake_server: FakeServerThread) -> None:
    url = finished(client, submit(client)["request_id"])["output"]["image"]
    fake_server.set_config(truncate_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete|complete message body"):
        httpx.get(url, timeout=10)
    assert fake_server.faults_injected["truncate"] == 1
    fake_server.set_config(truncate_rate=0.0)
    Image.open(io.BytesIO(download(url).content)).verify()


def test_expiry_by_age_and_by_force(client: httpx.Client, fake_server: FakeServerThread) -> None:
    first, second = submit(client)["request_id"], submit(client)["request_id"]
    assert client.post(f"/_fake/expire/{first}").json() == {"request_id": first, "expired": True}
    assert client.get(f"/v1/requests/{first}/result").json()["error_code"] == 404001
    assert client.get(f"/v1/requests/{second}/status").status_code == 200
    assert client.post("/_fake/expire/unknown").status_code == 404
    fake_server.set_config(expire_after=0.0)
    for action, method in (("status", "GET"), ("result", "GET"), ("cancel", "POST")):
        response = client.request(method, f"/v1/requests/{second}/{action}")
        assert response.status_code == 404 and response.json()["error_code"] == 404001
    assert fake_server.faults_injected["expired"] == 4


def test_bad_token_refuses_everything(client: httpx.Client, fake_server: FakeServerThread) -> None:
    rid = submit(client)["request_id"]
    fake_server.set_config(bad_token=True)
    for response in (client.get(f"/v1/requests/{rid}/status"), client.post(f"/v1/models/{MODEL}", json={})):
        assert response.status_code == 401 and response.json()["error_code"] == 400004
    assert fake_server.faults_injected["bad_token"] == 2


def test_status_synonyms(client: httpx.Client, fake_server: FakeServerThread) -> None:
    fake_server.set_config(status_style="synonyms", workers=1, min_duration=60, max_duration=60)
    running, waiting = submit(client)["request_id"], submit(client)["request_id"]
    assert client.get(f"/v1/requests/{running}/status").json()["status"] == "starting"
    waiting_state = client.get(f"/v1/requests/{waiting}/status").json()
    assert (waiting_state["status"], waiting_state["queue_position"]) == ("pending", 1)
    assert client.post(f"/v1/requests/{waiting}/cancel").json()["status"] == "canceled"
    fake_server.set_config(min_duration=0.01, max_duration=0.01, workers=4)
    fresh = submit(client)["request_id"]
    assert finished(client, fresh)["status"] == "succeeded"
    assert fake_server.jobs_snapshot()[fresh]["status"] == "completed"  # the record stays canonical
    assert fake_server.faults_injected["status_style"] >= 4


def test_errors_in_200(client: httpx.Client, fake_server: FakeServerThread) -> None:
    fake_server.set_config(errors_in_200=True)
    response = client.get("/v1/requests/no-such-id/status")
    assert response.status_code == 200 and response.json()["error_code"] == 404001
    unauthorised = client.get(f"/v1/models/{MODEL}", headers={"Authorization": ""})
    assert unauthorised.status_code == 200 and unauthorised.json()["error_code"] == 400004
    assert fake_server.faults_injected["errors_in_200"] == 2


# ----- control endpoints and knobs --------------------------------------------------------------------


def test_control_endpoints_need_no_auth_and_ignore_faults(fake_server: FakeServerThread) -> None:
    fake_server.set_config(bad_token=True, drop_rate=1.0, error_5xx_rate=1.0, tokens=["secret-token"])
    with httpx.Client(base_url=fake_server.base_url, timeout=10) as control:
        config = control.get("/_fake/config").json()
        assert config["bad_token"] is True and config["workers"] == 4
        assert config["tokens"] == 1 and "secret-token" not in control.get("/_fake/config").text

        changed = control.post("/_fake/config", json={"drop_rate": 0, "bad_token": False, "latency": 0.01})
        assert changed.status_code == 200 and changed.json()["drop_rate"] == 0.0
        assert fake_server.config.latency == 0.01 and fake_server.config.bad_token is False

        for bad in ({"fail_rate": 2}, {"nonsense": 1}, {"workers": "many"}, [1]):
            refused = control.post("/_fake/config", json=bad)
            assert refused.status_code == 400 and refused.json()["error_message"].endswith(".")
        assert fake_server.config.fail_rate == 0.0

        assert control.get("/_fake/jobs").json() == {}
        assert control.get("/_fake/cdn-log").json() == []
        assert control.get("/_fake/faults").json()["drop"] == 0


def test_fallback_validator_without_the_schema_layer() -> None:
    """The fake keeps refusing obvious mistakes even when ``seedream_tui.schema`` is unusable."""
    models = load_models()
    validator = Validator(models)
    validator._validate = None
    assert validator.errors(MODEL, {"prompt": "x"}) == {}
    errors = validator.errors(MODEL, {"resolution": "640x480", "max_images": "3"})
    assert set(errors) == {"prompt", "resolution", "max_images"}
    flux = validator.errors(
        "blackforestlabs/flux-2/flash/text-to-image", {"prompt": "x", "guidance_scale": 30}
    )
    assert flux == {"guidance_scale": "guidance_scale must be at most 20."}


def test_config_checks_its_knobs() -> None:
    with pytest.raises(ValueError, match="probability"):
        FakeConfig(fail_rate=1.5)
    with pytest.raises(ValueError, match="max_duration"):
        FakeConfig(min_duration=5, max_duration=1)
    with pytest.raises(ValueError, match="status_style"):
        FakeConfig().updated({"status_style": "loud"})
    assert FakeConfig().updated({"tokens": ["a", "b"], "latency": 1}).tokens == {"a", "b"}


async def test_thread_server_works_inside_a_running_loop(fake_server: FakeServerThread) -> None:
    async with httpx.AsyncClient(
        base_url=fake_server.base_url, headers={"Authorization": "Bearer t"}
    ) as client:
        response = await client.post(f"/v1/models/{MODEL}", json={"prompt": "async"})
        assert response.status_code == 200
    assert fake_server.jobs_snapshot()[response.json()["request_id"]]["input"] == {"prompt": "async"}


def test_thread_server_stop_is_idempotent() -> None:
    server = FakeServerThread(FakeConfig(image_scale=0.02)).start()
    url = server.base_url
    server.stop()
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_fake/config", timeout=2)


# ----- CLI --------------------------------------------------------------------------------------------


def test_cli_parses_every_knob() -> None:
    args = build_parser().parse_args(
        "--port 0 --cdn-port 0 --workers 3 --min-duration 0.1 --max-duration 0.2 --image-scale 0.5 --seed 7 "
        "--token a --token b --latency 0.1 --latency-spike-rate 0.2 --latency-spike 0.3 --error-5xx-rate 0.4 "
        "--rate-429 0.5 --retry-after 2 --drop-rate 0.6 --fail-rate 0.7 --truncate-rate 0.8 --expire-after 9 "
        "--bad-token --status-style synonyms --errors-in-200".split()
    )
    config = config_from_args(args)
    assert (args.port, args.cdn_port, config.workers, config.seed, config.tokens) == (0, 0, 3, 7, {"a", "b"})
    assert (config.min_duration, config.max_duration, config.image_scale) == (0.1, 0.2, 0.5)
    assert (config.latency, config.latency_spike_rate, config.latency_spike) == (0.1, 0.2, 0.3)
    assert (config.error_5xx_rate, config.rate_429, config.retry_after) == (0.4, 0.5, 2.0)
    assert (config.drop_rate, config.fail_rate, config.truncate_rate, config.expire_after) == (
        0.6,
        0.7,
        0.8,
        9.0,
    )
    assert config.bad_token and config.errors_in_200 and config.status_style == "synonyms"


def test_cli_refuses_impossible_knobs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fake-server", "--fail-rate", "3"])
    assert exit_info.value.code == 2
    assert "fail_rate is a probability" in capsys.readouterr().err


def test_cli_reports_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["--port", str(busy.getsockname()[1])]) == 1
    err = capsys.readouterr().err
    assert err.startswith("The fake server could not start:") and "Traceback" not in err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_cli_runs_until_ctrl_c() -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(seedream_tui.__file__).resolve().parent.parent))
    process = subprocess.Popen(
        [sys.executable, "-m", "seedream_tui.fake.cli", "--port", "0", "--token", "cli-secret"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        api_url = lines[0].split()[-1]
        assert lines[0].startswith("Fake RunComfy API: http://127.0.0.1:")
        assert lines[1].startswith("Fake storage CDN:  http://127.0.0.1:")
        assert "cli-secret" not in "".join(lines) and lines[2].startswith("Token:")
        assert httpx.get(f"{api_url}/_fake/config", timeout=5).json()["tokens"] == 1
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "Traceback" not in err and "stopped" in out
