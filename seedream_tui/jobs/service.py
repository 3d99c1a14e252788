"""``Core``: the job core wired together, driven by both the TUI and the CLI.

It owns the one shared ``httpx.AsyncClient``, the history, the protocol client, the
downloader and the polling engine, and in demo mode the fake server (in a thread).

The TUI opens it with ``defer_backend``: the history and the schemas at once (the first frame shows them),
the network side (httpx, the client, the downloader, the engine) at ``start()``, after that frame, so its
imports and the CA bundle never delay it. Anything that needs the network before then builds it first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from seedream_tui.api.errors import AuthError, FieldError, InvalidInputError
from seedream_tui.config import RUNCOMFY_HOSTS, AppConfig, check_token, save_token
from seedream_tui.jobs.core_adopt import ADOPTED_MODEL, AdoptDesk
from seedream_tui.jobs.core_batches import BatchDesk
from seedream_tui.jobs.core_catalog import CatalogDesk
from seedream_tui.jobs.core_files import FileDesk
from seedream_tui.jobs.core_queue import QueueDesk
from seedream_tui.jobs.demo_backend import DemoBackend
from seedream_tui.jobs.media_inputs import (
    JOB_REF,
    MediaInputError,
    ResolvedInputs,
    resolve_media,
    resolve_stored_refs,
)
from seedream_tui.jobs.model import Batch, Job
from seedream_tui.jobs.store import AsyncHistory
from seedream_tui.schema import FieldKind, ModelRegistry, ModelSpec, validate_input

if TYPE_CHECKING:  # imported when the network side is built (see _build_network)
    import httpx

    from seedream_tui.api.client import RunComfyClient
    from seedream_tui.batch.plan import BatchPlan
    from seedream_tui.jobs.engine import JobEngine
    from seedream_tui.jobs.poll_policy import PollPolicy

log = logging.getLogger(__name__)



#: requests the demo's fake server remembers (nobody reads its log in a demo; a bound keeps it from growing)
DEMO_REQUEST_LOG = 200


def demo_fake_config(paths: Any) -> Any:
    """Settings of the fake server behind ``--demo``: a visible queue, real-size images, and
    its record kept in the demo data dir so jobs left live at quit finish on the next start."""
    from seedream_tui.fake.faults import FakeConfig  # not fake.server: that imports aiohttp

    return FakeConfig(
        workers=2, min_duration=2.0, max_duration=6.0, image_scale=1.0,
        state_dir=str(paths.profile_data_dir / "fake-server"),
        request_log_limit=DEMO_REQUEST_LOG,
    )


class _Listener:
    """A subscriber of :meth:`Core.subscribe`, and how to take it off the engine once it is on it."""

    def __init__(self, callback: Callable[[Job], None]) -> None:
        self.callback = callback
        self.detach: Callable[[], None] = lambda: None


class Core(AdoptDesk, BatchDesk, CatalogDesk, FileDesk, QueueDesk):
    def __init__(
        self,
        config: AppConfig,
        *,
        registry: ModelRegistry,
        history: AsyncHistory,
        policy: PollPolicy | None = None,
        max_in_flight: int = 8,
    ) -> None:
        self.config = config
        self.paths = config.paths
        self.demo = config.demo
        self.registry = registry
        self.history = history
        self._client: RunComfyClient | None = None
        self._engine: JobEngine | None = None
        self._engine_args = (policy, max_in_flight)
        #: listeners subscribed before the engine was built: handed to it when it is
        self._listeners: list[_Listener] = []
        self._network_lock = asyncio.Lock()
        self._demo: DemoBackend | None = None  # the demo server of this demo home, once found or started
        self._watchdog: asyncio.Task[None] | None = None
        #: demo server settings not started yet (``defer_backend``): started by the first call that needs it
        self._pending_fake: Any = None
        self._backend_lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(
        cls,
        config: AppConfig,
        *,
        policy: PollPolicy | None = None,
        max_in_flight: int = 8,
        fake_config: Any = None,
        defer_backend: bool = False,
        allow_read_only: bool = False,
    ) -> Core:
        """Open everything. In demo mode with no base URL, start the bundled fake server first.

        ``defer_backend`` (the TUI): open the history now and start the demo server only when
        ``start()`` or a job action needs it, so the first frame does not wait for aiohttp.
        ``allow_read_only`` (commands that only read): a history in a read-only folder is opened for
        reading (``history.read_only``) instead of refused.
        """
        core = await cls._open_parts(config, policy, max_in_flight, allow_read_only, network=not defer_backend)
        if config.demo and not config.base_url:
            core._pending_fake = fake_config or demo_fake_config(config.paths)
            if not defer_backend:
                try:
                    await core._ensure_backend()
                except BaseException:
                    await core.close()
                    raise
        return core

    @classmethod
    async def _open_parts(
        cls,
        config: AppConfig,
        policy: PollPolicy | None,
        max_in_flight: int,
        allow_read_only: bool = False,
        *,
        network: bool = True,
    ) -> Core:
        if network:
            from seedream_tui.api.http import make_http_client
        # independent; the http client loads the CA bundle (~40 ms): none of it on the event loop
        parts = [
            asyncio.to_thread(ModelRegistry, config.paths.user_models_dir),
            AsyncHistory.open(config.paths.history_db, allow_read_only=allow_read_only),
        ]
        if network:
            parts.append(asyncio.to_thread(make_http_client))
        results = await asyncio.gather(*parts, return_exceptions=True)
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if failure is not None:  # close what did open, then report the first problem
            for part in results[1:]:
                if isinstance(part, AsyncHistory):
                    await part.close()
                elif not isinstance(part, BaseException):
                    await cast("httpx.AsyncClient", part).aclose()
            raise failure
        registry, history = cast(tuple[ModelRegistry, AsyncHistory], tuple(results[:2]))
        core = cls(config, registry=registry, history=history, policy=policy, max_in_flight=max_in_flight)
        if network:
            core._build_network(cast("httpx.AsyncClient", results[2]))
        return core

    # ------------------------------------------------------------------ the network side
    def _build_network(self, http: httpx.AsyncClient) -> None:
        from seedream_tui.api.client import RunComfyClient
        from seedream_tui.jobs.downloads import Downloader
        from seedream_tui.jobs.engine import JobEngine

        config = self.config
        client = RunComfyClient(config.base_url, config.token, http=http)
        downloader = Downloader(http, config.paths.images_dir, config.paths.thumbs_dir,
                                trusted_hosts=(*RUNCOMFY_HOSTS, *config.settings.trusted_hosts))
        policy, max_in_flight = self._engine_args
        # every job of a demo home belongs to its demo server, whatever port that had when the job was made
        engine = JobEngine(client, history=self.history, downloader=downloader, policy=policy,
                           max_in_flight=max_in_flight, pin_base_url=config.demo)
        for handle in self._listeners:
            handle.detach = engine.subscribe(handle.callback)
        self._wire_queue(engine)
        self._client, self._engine = client, engine

    async def _ensure_network(self) -> None:
        """Build the network side now if it is not yet (the CA bundle off the event loop)."""
        if self._engine is not None:
            return
        async with self._network_lock:
            if self._engine is None:
                from seedream_tui.api.http import make_http_client

                self._build_network(await asyncio.to_thread(make_http_client))

    def _network_now(self) -> None:
        if self._engine is None:  # a caller that cannot wait: built here, on the loop (rare: before start)
            from seedream_tui.api.http import make_http_client

            self._build_network(make_http_client())

    @property
    def client(self) -> RunComfyClient:
        self._network_now()
        assert self._client is not None
        return self._client

    @property
    def engine(self) -> JobEngine:
        self._network_now()
        assert self._engine is not None
        return self._engine

    # ------------------------------------------------------------------ jobs
    async def _ensure_backend(self) -> None:
        """Find (or start) the demo home's server once, and point the client at it."""
        await self._ensure_network()
        if self._pending_fake is None:
            return
        async with self._backend_lock:
            if self._pending_fake is None:
                return
            demo = DemoBackend(self._pending_fake)
            self._use_backend(await demo.ensure())
            self._demo = demo
            self._pending_fake = None
            if demo.folder is not None:
                self._watchdog = asyncio.create_task(self._watch_backend(demo), name="demo-backend-watchdog")

    def _use_backend(self, base_url: str) -> None:
        self.config.base_url = base_url
        if self._client is not None:  # else it is made with config.base_url
            self._client.set_base_url(base_url)

    async def _watch_backend(self, demo: DemoBackend, every: float = 2.0) -> None:
        """While another instance runs the demo server, take over as soon as it is gone."""
        while True:
            await asyncio.sleep(every)
            try:
                moved = await demo.revive()
            except Exception:  # noqa: BLE001 - try again at the next tick; the pollers wait meanwhile
                logging.getLogger(__name__).warning("the demo server could not be restarted", exc_info=True)
                continue
            if moved:
                self._use_backend(moved)

    async def start(self) -> list[Job]:
        """Resume polling every non-terminal job in history."""
        await self._ensure_backend()
        return await self.engine.start()

    def subscribe(self, callback: Callable[[Job], None]) -> Callable[[], None]:
        """Hear of every job change (also when subscribed before the engine is built)."""
        handle = _Listener(callback)
        self._listeners.append(handle)
        if self._engine is not None:
            handle.detach = self._engine.subscribe(callback)

        def unsubscribe() -> None:
            if handle in self._listeners:
                self._listeners.remove(handle)
                handle.detach()

        return unsubscribe

    def validate(self, spec: ModelSpec, inputs: dict[str, Any]) -> dict[str, Any]:
        """The cleaned input, or InvalidInputError naming every bad field."""
        result = validate_input(spec, inputs)
        if not result.ok:
            fields = [FieldError(name or None, message) for name, message in result.errors.items()]
            listed = "; ".join(f"{f.message}" for f in fields)
            raise InvalidInputError(f"The input is not valid: {listed}", fields=fields)
        return result.cleaned

    async def resolve_media(
        self, spec: ModelSpec, inputs: dict[str, Any], *, rerun_of: int | None = None
    ) -> ResolvedInputs:
        """Image inputs given as file paths, ``#job`` results or stored file references turned into what is sent
        (``data:`` URIs or URLs); raises InvalidInputError naming the field when one cannot be sent (saying
        which job cannot be run again, for a re-run)."""
        wanted = {int(m.group(1)) for m in map(JOB_REF.match, _media_texts(spec, inputs)) if m}
        jobs = {job_id: await self.history.get(job_id) for job_id in wanted}

        def lookup(job_id: int, index: int) -> tuple[str | None, str | None] | None:
            job = jobs.get(job_id)
            out = next((o for o in job.outputs if o.index == index), None) if job else None
            return (out.path, out.url) if out is not None else None

        try:
            return await asyncio.to_thread(resolve_media, spec, inputs, lookup)
        except MediaInputError as exc:
            why = f"Job {rerun_of} cannot be run again: {exc}" if rerun_of is not None else str(exc)
            raise InvalidInputError(why, fields=[FieldError(exc.field, str(exc))]) from None

    async def submit(
        self, spec: ModelSpec, inputs: dict[str, Any], *, parents: Sequence[int] = (), rerun_of: int | None = None
    ) -> Job:
        """Validate and submit; image inputs given as paths or ``#job`` are resolved first, and the jobs whose
        results they are become the new job's parents (its edit chain).

        The history keeps each local image as a reference (path, digest, size) and ``#job`` as typed, never
        the ``data:`` URI sent (issue 18 §5): that exists only while the submit is sent."""
        self._require_token()
        resolved = await self.resolve_media(spec, inputs, rerun_of=rerun_of)
        cleaned = self.validate(spec, resolved.values)
        await self._ensure_backend()
        lineage = list(dict.fromkeys([*resolved.parents, *parents]))
        stored = resolved.for_history(cleaned)
        job = await self.engine.submit(spec.model_id, stored, sent=cleaned if stored != cleaned else None)
        if lineage:
            await self.history.set_parents(job.id, lineage)
        return job

    async def submit_batch(
        self, plan: BatchPlan, *, budget_usd: float | None = None, max_live: int | None = None
    ) -> tuple[Batch, list[Job]]:
        """Write the batch and all its jobs as pending rows (each knowing its batch, place and variant) in one
        transaction and return at once; the local queue sends them in order as slots free (at most
        ``max_live``, else settings ``max_live_jobs``, live at once). A batch whose quote passes ``budget_usd``
        or settings ``batch_budget_usd`` is refused first (BudgetRefusedError, exit 2); an invalid job refuses
        the whole batch (InvalidInputError). Nothing is written when anything is refused. See core_queue."""
        return await self._queue_batch(plan, budget_usd=budget_usd, max_live=max_live)

    async def cancel(self, job_id: int) -> str:
        await self._ensure_backend()
        return await self.engine.cancel(job_id)

    async def download_again(self, job_id: int) -> str:
        """Fetch fresh output links from RunComfy and download the job's files again (a sentence)."""
        await self._ensure_backend()
        return await self.engine.download_again(job_id)

    async def rerun(self, job_id: int) -> Job:
        self._require_token()
        job = await self.history.get(job_id)
        if job is None:
            raise LookupError("That job is no longer in the history.")
        if job.model_id == ADOPTED_MODEL:
            raise LookupError(
                f"Job {job.id} was attached by its request id: its model, prompt and options are not known, "
                "so it cannot be run again."
            )
        parents = await self.history.parents(job_id)  # a re-run of an edit keeps its place in the chain
        try:
            spec = self.registry.get(job.model_id)
        except KeyError:
            try:  # no schema: the stored file references are still resolved, by their shape
                resolved = await asyncio.to_thread(resolve_stored_refs, dict(job.inputs))
            except MediaInputError as exc:
                raise InvalidInputError(f"Job {job.id} cannot be run again: {exc}",
                                        fields=[FieldError(exc.field or None, str(exc))]) from None
            await self._ensure_backend()
            new = await self.engine.submit(job.model_id, dict(job.inputs),
                                           sent=resolved.values if resolved.stored else None)
            if parents:
                await self.history.set_parents(new.id, parents)
            return new
        # the same inputs: local images are read again from their stored references (checked to be the same
        # files), and rows from before references were stored hold the data: URIs that were sent
        return await self.submit(spec, dict(job.inputs), parents=parents, rerun_of=job.id)

    # ------------------------------------------------------------------ token
    def _require_token(self) -> None:
        """Nothing is created or sent without a token (outside the demo, which needs none)."""
        if not self._can_ask():
            raise AuthError("No API token: nothing was submitted. Save one in Settings (F3) or set "
                            "RUNCOMFY_API_TOKEN; or try the app for free with: seedream-tui --demo")

    def _can_ask(self) -> bool:
        return self.demo or bool(self.config.token)

    def set_token(self, token: str) -> None:
        """Save and use a new token (a pasted ``Bearer `` prefix removed: see config.strip_bearer)."""
        token = check_token(token)
        save_token(self.paths, token)
        self.config.token = token
        self.config.token_source = "token file"
        if self._client is not None:  # else it is made with config.token
            self._client.set_token(self.config.token)

    async def close(self) -> None:
        """Stop polling (live jobs stay in history for the next start) and release everything."""
        if self._closed:
            return
        self._closed = True
        if self._engine is not None:
            await self._engine.stop()
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.http.aclose()
        await self.history.close()
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self._demo is not None:
            await self._demo.stop()


def _media_texts(spec: ModelSpec, inputs: dict[str, Any]) -> list[str]:
    """Every text given to a media field (single or list), stripped."""
    texts: list[str] = []
    for field in spec.fields:
        value = inputs.get(field.name)
        if field.kind in (FieldKind.MEDIA, FieldKind.MEDIA_LIST):
            texts.extend(v.strip() for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))
    return texts
