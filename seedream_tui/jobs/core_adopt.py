"""Following a RunComfy request made elsewhere (the dashboard, another tool): the one way an outside
request id becomes a job of this history (the CLI's ``status``/``wait``/``cancel``; the TUI's F7)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from seedream_tui.api.errors import ApiError, NotFoundError
from seedream_tui.jobs.model import Job
from seedream_tui.jobs.store import AsyncHistory
from seedream_tui.safetext import quoted

if TYPE_CHECKING:
    from seedream_tui.api.client import RunComfyClient
    from seedream_tui.jobs.engine import JobEngine

log = logging.getLogger("seedream_tui.jobs.service")

#: request ids as RunComfy makes them (spec: ``[A-Za-z0-9_-]{1,128}``)
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")
#: the model of a job adopted by its request id: RunComfy's answers do not say (no real id is empty)
ADOPTED_MODEL = ""


class AdoptDesk:
    """Mixed into ``Core``, whose parts it uses."""

    history: AsyncHistory

    if TYPE_CHECKING:  # Core's own

        @property
        def client(self) -> RunComfyClient: ...

        @property
        def engine(self) -> JobEngine: ...

        async def _ensure_backend(self) -> None: ...

    async def adopt(self, request_id: str, *, model_id: str = ADOPTED_MODEL) -> Job:
        """Take a RunComfy request made elsewhere (the dashboard, another tool) into the history and
        learn its state: the one way an outside request id becomes a job (the CLI's ``status``, ``wait``
        and ``cancel``; the TUI's "Attach a request id…").

        A request already in the history is simply returned. Otherwise RunComfy is asked once: a request
        it does not know raises NotFoundError (nothing is written); one it knows becomes a row holding no
        prompt or options (they are not in RunComfy's answers), followed from then on like any job, its
        files downloaded when it is done. ValueError (a sentence) for text that is not a request id.
        """
        rid = request_id.strip()
        if not REQUEST_ID_RE.fullmatch(rid):
            raise ValueError(
                f"{quoted(rid)} is not a RunComfy request id (letters, digits, '-' and '_', at most 128)."
            )
        existing = await self.history.get_by_request_id(rid)
        if existing is not None:
            return existing
        await self._ensure_backend()
        try:
            state = await self.client.result(rid, include_cost=True)
        except NotFoundError as exc:
            raise NotFoundError(
                f"RunComfy does not know the request {rid}: it is unknown, deleted or expired "
                "(or belongs to another base URL).", status_code=exc.status_code, error_code=exc.error_code,
            ) from None
        job, created = await self.engine.adopt_request(rid, model_id=model_id)
        if created:
            log.info("job %s: adopted request %s (%s)", job.id, rid, state.status.value)
            job = (await self.engine.check_once(job.id, state))[0] or job
            self.engine.follow(job)
        return job

    async def check(self, job_id: int) -> tuple[Job | None, ApiError | None]:
        """Ask RunComfy once about a live job and save what it learns (see JobEngine.check_once)."""
        await self._ensure_backend()
        return await self.engine.check_once(job_id)
