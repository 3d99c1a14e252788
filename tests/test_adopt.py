"""``Core.adopt``: the one way a RunComfy request id made elsewhere becomes a job of this history.

The CLI's ``status``/``wait``/``cancel`` use it (tests/reliability/test_cli_truth.py); the TUI's "Attach a
request id…" is meant to. Here: a started core follows an adopted job to its end at once, two instances
adopting one request make one row, and nothing is written for an unknown id or for text that is not one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import MODEL, TOKEN, is_file, open_core, result_requests, wait_status

from seedream_tui.api.errors import NotFoundError
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.service import ADOPTED_MODEL


def submit_elsewhere(fake: Any, prompt: str) -> str:
    answer = httpx.post(f"{fake.base_url}/v1/models/{MODEL}", json={"prompt": prompt},
                        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["request_id"])


async def test_a_started_core_follows_an_adopted_request_to_its_end(isolated_home: Path, fake_server: Any) -> None:
    fake_server.set_config(min_duration=1.0, max_duration=1.0)  # still running when adopted
    rid = submit_elsewhere(fake_server, "made on the dashboard")
    core = await open_core(fake_server.base_url)
    try:
        job = await core.adopt(rid)
        assert job.request_id == rid and job.model_id == ADOPTED_MODEL and not job.status.terminal
        assert core.engine.is_following(job.id)  # at once, not at the next scan for new rows
        done = await wait_status(core, job.id, within=30)
        assert done.status is JobStatus.COMPLETED and is_file(done.outputs[0].path)
        assert (await core.adopt(f" {rid} ")).id == job.id  # the same row, whatever the spaces around it
        with pytest.raises(LookupError, match="attached by its request id"):
            await core.rerun(job.id)
    finally:
        await core.close()


async def test_two_instances_adopting_one_request_make_one_row(isolated_home: Path, fake_server: Any) -> None:
    rid = submit_elsewhere(fake_server, "wanted twice")
    first, second = await open_core(fake_server.base_url), await open_core(fake_server.base_url)
    try:
        a, b = await asyncio.gather(first.adopt(rid), second.adopt(rid))
        assert a.id == b.id
        assert [j.request_id for j in await first.history.list_jobs()].count(rid) == 1
    finally:
        await first.close()
        await second.close()


async def test_nothing_is_written_for_an_unknown_or_malformed_id(isolated_home: Path, fake_server: Any) -> None:
    core = await open_core(fake_server.base_url, start=False)
    try:
        with pytest.raises(NotFoundError, match="does not know the request no-such-id"):
            await core.adopt("no-such-id")
        assert result_requests(fake_server, "no-such-id") == 1  # asked once, not retried as if it were lost
        for bad in ("", "a/b", "x" * 129, "id with spaces", "../../etc"):
            with pytest.raises(ValueError, match="is not a RunComfy request id"):
                await core.adopt(bad)
        assert await core.history.list_jobs() == []
    finally:
        await core.close()
