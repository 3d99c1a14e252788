"""A fake RunComfy Model API on loopback: an API origin plus a second origin that plays the storage CDN.

It is the test double of the protocol client and the backend of ``--demo``. :class:`FakeServer` runs on the
current asyncio loop; :class:`FakeServerThread` runs the same server on its own loop in a daemon thread, so it
works next to any other loop (Textual's, pytest's) and from synchronous code.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from seedream_tui.fake import edits, videos
from seedream_tui.fake.api import MAX_REQUEST_BYTES, ApiRoutes
from seedream_tui.fake.catalog import FakeModel, Validator, load_models
from seedream_tui.fake.cdn import CdnRoutes
from seedream_tui.fake.faults import FakeConfig, FaultDice
from seedream_tui.fake.images import output_format, render_image, requested_size, scaled_size
from seedream_tui.fake.persist import FILES_DIR, Saver, StateFile, dump_record, parse_record
from seedream_tui.fake.queue import FakeJob, JobBoard

log = logging.getLogger(__name__)

__all__ = ["FakeConfig", "FakeServer", "FakeServerThread", "FAULT_KINDS"]

#: every key of ``faults_injected`` (all present from the start, at 0)
FAULT_KINDS = (
    "latency",
    "latency_spike",
    "bad_token",
    "rate_429",
    "error_5xx",
    "drop",
    "fail",
    "truncate",
    "expired",
    "errors_in_200",
    "status_style",
    "output_url_style",
    "api_body_style",
)

T = TypeVar("T")


class FakeServer:
    """The fake API and CDN on the running loop; ``start()`` binds both ports (0 = the OS picks)."""

    def __init__(
        self,
        config: FakeConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cdn_port: int = 0,
    ) -> None:
        self.config = config if config is not None else FakeConfig()
        self.host, self.port, self.cdn_port = host, port, cdn_port
        self.base_url = ""
        self.cdn_url = ""
        #: the most recent API and CDN requests (method, path, headers), at most ``config.request_log_limit`` each
        self.api_requests: deque[dict[str, Any]] = deque(maxlen=self.config.request_log_limit)
        self.cdn_requests: deque[dict[str, Any]] = deque(maxlen=self.config.request_log_limit)
        #: files already served once (``one_time_links``)
        self.served_once: set[tuple[Path, str]] = set()
        self.signatures = 0
        self.faults_injected: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)
        self.models: dict[str, FakeModel] = load_models()
        self.validator = Validator(self.models)
        self.dice = FaultDice(self.config.seed)
        self.board = JobBoard(
            lambda: self.config, self.dice, self._produce, self.count_fault, on_change=self._changed
        )
        self.files_dir: Path | None = None
        #: sentences about a saved record that could not be (fully) loaded at start
        self.state_warnings: list[str] = []
        #: set while stopping, so long answers (``output_url_style="huge"``) end at once
        self.closing = False
        #: handler tasks of open ``huge`` CDN streams
        self.open_streams: set[asyncio.Task[Any]] = set()
        self._saver: Saver | None = None
        self._runners: list[web.AppRunner] = []

    # ----- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind both ports; with ``state_dir``, take back the saved jobs (outputs under the new CDN URL)."""
        self.closing = False
        self.state_warnings = []
        state_dir = _state_path(self.config)
        if state_dir is not None:
            self.files_dir = state_dir / FILES_DIR
            await asyncio.to_thread(self.files_dir.mkdir, parents=True, exist_ok=True)
        else:
            self.files_dir = Path(tempfile.mkdtemp(prefix="seedream-fake-"))
        try:
            # RunComfy takes bodies up to 64 MiB (data URIs); aiohttp's own default would refuse 1 MiB
            api_app = web.Application(client_max_size=MAX_REQUEST_BYTES)
            ApiRoutes(self).add_to(api_app)
            cdn_app = web.Application()
            CdnRoutes(self).add_to(cdn_app)
            api_port = await self._serve(api_app, self.port)
            cdn_port = await self._serve(cdn_app, self.cdn_port)
        except BaseException:
            await self.stop()
            raise
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.base_url = f"http://{host}:{api_port}"
        self.cdn_url = f"http://{host}:{cdn_port}"
        if state_dir is not None:
            await self._restore(StateFile(state_dir))

    async def _restore(self, state_file: StateFile) -> None:
        """Load the saved record; an unreadable one is set aside with a warning and the server starts empty."""
        assert self.files_dir is not None
        try:
            raw = await asyncio.to_thread(state_file.read)
            loaded = parse_record(raw, self.files_dir, self.cdn_url) if raw is not None else None
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            aside = await asyncio.to_thread(state_file.set_aside)
            kept = f"; it was kept as {aside}" if aside else ""
            self.state_warnings.append(
                f"The fake server's saved jobs in {state_file.path} could not be read ({reason}){kept}. "
                "It starts with no jobs."
            )
            loaded = None
        if loaded is not None:
            self.state_warnings.extend(loaded.warnings)
            self.board.restore(loaded.finished, loaded.unfinished)
        for warning in self.state_warnings:
            log.warning("%s", warning)
        self._saver = Saver(state_file, lambda: dump_record(self.board.jobs, self.board.waiting_ids()))

    async def _serve(self, app: web.Application, port: int) -> int:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, self.host, port)
        await site.start()
        return int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; a persistent server saves its record first (running jobs restart next time)."""
        self.closing = True
        saver, self._saver = self._saver, None
        if saver is not None:
            await saver.flush()  # before board.close(): that cancels the running jobs
        await self.board.close()
        for task in list(self.open_streams):
            task.cancel()
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self.files_dir is not None:
            if self.config.state_dir is None:
                await asyncio.to_thread(shutil.rmtree, self.files_dir, True)
            self.files_dir = None

    async def __aenter__(self) -> FakeServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ----- state -----------------------------------------------------------------------------------------

    def count_fault(self, kind: str) -> None:
        self.faults_injected[kind] = self.faults_injected.get(kind, 0) + 1

    def _changed(self) -> None:
        if self._saver is not None:
            self._saver.changed()

    def set_config(self, **changes: Any) -> None:
        """Change knobs in place (checked first: a bad value changes nothing and raises ``ValueError``)."""
        checked = self.config.updated(changes)
        if checked.state_dir != self.config.state_dir:
            raise ValueError("state_dir can only be chosen before the server starts.")
        for name in changes:
            setattr(self.config, name, getattr(checked, name))
        if "seed" in changes and checked.seed is not None:
            self.dice.rng.seed(checked.seed)
        if self.api_requests.maxlen != checked.request_log_limit:
            self.api_requests = deque(self.api_requests, maxlen=checked.request_log_limit)
            self.cdn_requests = deque(self.cdn_requests, maxlen=checked.request_log_limit)
        if self._runners:
            self.board.pump()  # more workers may start waiting jobs now

    def expire(self, request_id: str) -> bool:
        """From now on this request answers 404 error_code 404001; False when the id is unknown."""
        job = self.board.jobs.get(request_id)
        if job is None:
            return False
        job.expired = True
        self._changed()
        return True

    def jobs_snapshot(self) -> dict[str, dict[str, Any]]:
        """The server's own record: request_id -> status, model_id, input, outputs, error, queue_position,
        ISO ``created_at``/``started_at``/``finished_at`` and unix-float ``created_ts``/``started_ts``/``finished_ts``
        (None until reached)."""
        return self.board.snapshot()

    # ----- output ----------------------------------------------------------------------------------------

    async def _produce_video(self, job: FakeJob, values: dict[str, Any]) -> None:
        """A video model's output: a real, playable H.264 MP4 (PyAV, in a thread) served as ``video``: the
        ``duration`` asked for (within the schema's limits), the resolution/aspect asked for scaled down as
        the demo's images are (``image_scale`` x ``video_scale``), a camera move over a still made from the
        prompt, or over the input image (image-to-video)."""
        assert self.files_dir is not None
        path = self.files_dir / job.request_id / "0.mp4"
        prompt = str(values.get("prompt") or "")
        model = self.models.get(job.model_id)
        sources = edits.input_images(model.input_schema, values) if model is not None else []
        files_dir, cdn_url = self.files_dir, self.cdn_url
        elsewhere = [ref for _name, ref in sources if edits.is_elsewhere(ref, cdn_url)]
        readable = [ref for _name, ref in sources if not edits.is_elsewhere(ref, cdn_url)]
        if elsewhere:
            job.note = edits.stand_in_note(elsewhere, derived=bool(readable))
        scale = self.config.image_scale * self.config.video_scale
        fps = self.config.video_fps

        def write() -> None:
            source = edits.load_source(readable[0], files_dir, cdn_url) if readable else None
            size = videos.even_size(videos.requested_video_size(values, source), scale)
            videos.render_video(path, key=job.request_id, size=size, seconds=videos.requested_seconds(values),
                                fps=fps, prompt=prompt, source=source)

        await asyncio.to_thread(write)
        job.files = [path]
        job.media = "video"
        job.outputs = [f"{self.cdn_url}/files/{job.request_id}/{path.name}"]

    async def _produce(self, job: FakeJob) -> None:
        """Draw the job's images into the temp dir (in a thread) and give them CDN URLs."""
        assert self.files_dir is not None, "the server is not running"
        values = job.effective_input
        size = scaled_size(requested_size(values), self.config.image_scale)
        fmt = output_format(values)
        multi = values.get("sequential_image_generation") == "auto"
        count = 1
        if multi:
            digest = int.from_bytes(hashlib.sha256(job.request_id.encode()).digest()[:4], "big")
            max_images = values.get("max_images")
            limit = max_images if isinstance(max_images, int) and max_images > 0 else 15
            count = max(1, min(limit, 2 + digest % 3))
        prompt = str(values.get("prompt") or "")
        folder = self.files_dir / job.request_id
        paths = [folder / f"{index}.{fmt}" for index in range(count)]
        model = self.models.get(job.model_id)
        if model is not None and model.media == "video":
            await self._produce_video(job, values)
            return
        sources = edits.input_images(model.input_schema, values) if model is not None else []
        files_dir, cdn_url = self.files_dir, self.cdn_url
        explicit_size = any(values.get(k) for k in ("resolution", "size", "image_size", "width"))
        # URLs elsewhere than its own CDN: this offline server cannot fetch them (RunComfy would)
        elsewhere = [ref for _name, ref in sources if edits.is_elsewhere(ref, cdn_url)]
        readable = [ref for _name, ref in sources if not edits.is_elsewhere(ref, cdn_url)]
        if elsewhere:
            job.note = edits.stand_in_note(elsewhere, derived=bool(readable))

        def draw_all() -> None:
            source = edits.load_source(readable[0], files_dir, cdn_url) if readable else None
            for index, path in enumerate(paths):
                label = f"{index + 1}/{count}" if count > 1 else ""
                if source is not None:  # an edit: the output visibly comes from its input
                    edits.render_derived(source, path, key=f"{job.request_id}/{index}",
                                         size=size if explicit_size else None, fmt=fmt, prompt=prompt)  # fmt: skip
                    continue
                if elsewhere:  # nothing it could read: a picture that says what it is
                    label = " ".join(filter(None, [edits.STAND_IN_LABEL, label]))
                render_image(
                    path, key=f"{job.request_id}/{index}", size=size, fmt=fmt, prompt=prompt, label=label
                )

        await asyncio.to_thread(draw_all)
        job.files = paths
        job.outputs = [f"{self.cdn_url}/files/{job.request_id}/{path.name}" for path in paths]
        job.multi = multi


def _state_path(config: FakeConfig) -> Path | None:
    """``state_dir`` as a path (``~`` expanded), or None for a server that forgets everything on stop."""
    return Path(os.path.expanduser(config.state_dir)) if config.state_dir else None


class FakeServerThread:
    """A :class:`FakeServer` on its own event loop in a daemon thread; every accessor is thread-safe."""

    def __init__(self, config: FakeConfig | None = None, **server_kwargs: Any) -> None:
        self.server = FakeServer(config, **server_kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def cdn_url(self) -> str:
        return self.server.cdn_url

    @property
    def config(self) -> FakeConfig:
        return self.server.config

    def start(self) -> FakeServerThread:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._main, name="fake-runcomfy", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("The fake server did not start within 30 seconds.")
        if self._error is not None:
            self._thread.join(timeout=5)
            self._thread = None
            raise self._error
        return self

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            try:
                loop.run_until_complete(self.server.start())
            except BaseException as exc:
                self._error = exc
                return
            finally:
                self._ready.set()
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self) -> None:
        """Stop the server, remove its files and end the thread; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.server.stop(), loop).result(timeout=30)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
            self._thread = None

    def __enter__(self) -> FakeServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the server's loop (where all state changes happen) and return its result."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive() or threading.get_ident() == thread.ident:
            return fn()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(timeout=30)

    def set_config(self, **changes: Any) -> None:
        self._call(lambda: self.server.set_config(**changes))

    def expire(self, request_id: str) -> bool:
        return self._call(lambda: self.server.expire(request_id))

    def jobs_snapshot(self) -> dict[str, dict[str, Any]]:
        return self._call(self.server.jobs_snapshot)

    @property
    def cdn_requests(self) -> list[dict[str, Any]]:
        return self._call(lambda: copy.deepcopy(list(self.server.cdn_requests)))

    @property
    def api_requests(self) -> list[dict[str, Any]]:
        return self._call(lambda: copy.deepcopy(list(self.server.api_requests)))

    @property
    def faults_injected(self) -> dict[str, int]:
        return self._call(lambda: dict(self.server.faults_injected))

    @property
    def state_warnings(self) -> list[str]:
        """Sentences about a saved record that could not be (fully) loaded at start."""
        return self._call(lambda: list(self.server.state_warnings))

    @property
    def open_stream_count(self) -> int:
        """How many ``output_url_style="huge"`` CDN answers are still streaming."""
        return self._call(lambda: len(self.server.open_streams))
