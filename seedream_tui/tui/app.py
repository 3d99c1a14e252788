"""The Textual application: opens the job core, routes job changes to screens, and owns app-wide keys.

Flow: the core calls back on the event loop at every job change -> the app posts itself one
``JobChanged`` (coalesced per job) -> it notifies when a job ends and forwards the change to every open
screen, whose widgets update in place. Nothing slow runs on the event loop: the core is async and every
call into it is a named worker group.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Callable
from typing import Any, ClassVar

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from seedream_tui import tls
from seedream_tui.catalog.pricing import price_of
from seedream_tui.config import AppConfig, save_settings
from seedream_tui.jobs.media_inputs import image_field, reference_to
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.service import Core
from seedream_tui.jobs.tally import SessionTally, finished_sentence
from seedream_tui.safetext import visible
from seedream_tui.tui import compat, images, messageline
from seedream_tui.tui.commands import SeedreamCommands
from seedream_tui.tui.failures import report_failure
from seedream_tui.tui.messages import (
    Alerted,
    AnimateResult,
    EditResult,
    JobChanged,
    JobsDeleted,
    LoadIntoEditor,
)
from seedream_tui.tui.screens.main import InitialJobs, MainScreen, read_initial
from seedream_tui.tui.screens.too_small import TooSmallScreen, too_small
from seedream_tui.tui.widgets.job_table import JobTable
from seedream_tui.tui.widgets.preview import PreviewPane
from seedream_tui.tui.widgets.prompt_editor import PromptArea
from seedream_tui.tui.widgets.row_table import RowTable
from seedream_tui.tui.widgets.status_bar import StatusBar

_ALERT_STATUSES = (JobStatus.COMPLETED, JobStatus.FAILED)
log = logging.getLogger(__name__)
#: jobs ending within this many seconds of the first are announced in one toast ("5 jobs finished")
BURST_SECONDS = 0.6
#: while a batch's jobs end (a few a second for minutes), their toast comes at most this often: a toast each
#: 0.6 s is a layout pass of the whole screen each time (the editor stalls), and a bell each time if it rings
BATCH_BURST_SECONDS = 5.0
#: and whatever jobs they are, one toast and one OSC 9 this often at most: with 40 single jobs of 3-6 s running,
#: one ends every ~0.1 s and a toast each 0.6 s was 11 toasts and 11 bells in 15 s (issue 23); a job ending
#: this long after the last toast is announced after BURST_SECONDS as before
ANNOUNCE_EVERY = 5.0
#: the closed history screen is laid out for a new window size this long after the last resize of a burst
FIT_CLOSED_AFTER = 0.5


def osc9(text: str, *, tmux: bool) -> str:
    """A desktop-notification escape (OSC 9); wrapped for tmux passthrough when inside tmux."""
    clean = "".join(ch for ch in text if ch.isprintable())[:200]
    sequence = f"\x1b]9;{clean}\x07"
    if tmux:
        return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


def finish_sentence(job: Job) -> tuple[str, str]:
    """(sentence, severity) announcing a job that just ended."""
    if job.status is JobStatus.COMPLETED:
        n = len(job.outputs)
        return f"Job #{job.id} is done: {n} image{'s' if n != 1 else ''}.", "information"
    if job.status is JobStatus.FAILED:
        return f"Job #{job.id} failed: {job.error or 'the server gave no reason.'}", "error"
    if job.status is JobStatus.CANCELLED:
        return f"Job #{job.id} was cancelled.", "information"
    if job.status is JobStatus.EXPIRED:
        return f"Job #{job.id} expired: the server no longer knows it.", "warning"
    return f"Job #{job.id}: {job.status.label}.", "warning"


#: the status line counts the day's completed jobs up to this many ("1,000+ done today" past it)
DONE_TODAY_CAP = 1000


class SeedreamApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "seedream-tui"
    COMMANDS = App.COMMANDS | {SeedreamCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True, tooltip="Quit (live jobs resume next time)"),
        Binding("f1,question_mark", "help", "Help", id="help", tooltip="Show every key binding"),
        Binding("f2,ctrl+r", "history", "History", id="history", tooltip="Browse and reuse past jobs"),
        Binding("f3", "settings", "Settings", id="settings", tooltip="Settings and API token"),
        Binding("f6", "spend", "Spend", id="spend", show=False, priority=True,  # over TextArea's select-line
                tooltip="What your jobs cost: today, this week, by model and by day"),
        Binding("f7", "attach_request", "Attach", id="attach-request", show=False, priority=True,
                tooltip="Follow a RunComfy request made elsewhere (dashboard, another tool) by its id"),
        Binding("ctrl+t", "toggle_theme", "Theme", id="toggle-theme", show=False, tooltip="Toggle dark/light theme"),
        # lazygit's keys; a text field with the focus takes the letters first, so they are typed there
        Binding("j", "list_cursor(1)", "Down", id="list-down", show=False, tooltip="Down a row in a list"),
        Binding("k", "list_cursor(-1)", "Up", id="list-up", show=False, tooltip="Up a row in a list"),
        Binding("q", "leave_screen", "Back", id="leave-screen", show=False,
                tooltip="Leave this screen (as Esc; not in a text field)"),
    ]

    def __init__(self, config: AppConfig, *, core: Core | None = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        messageline.install()  # toasts on the bottom line, one at a time, never over the prompt or the options
        # every worker of every screen and widget goes through it: none can end the app (see failures.py)
        compat.route_worker_failures(self)
        self.config = config
        self.core: Core | None = core
        self.clock = clock
        #: every job's latest status this session, what is live, what was spent (status bar, quit, toasts)
        self.tally = SessionTally()
        self._finished: list[Job] = []  # ended jobs waiting for their (one, coalesced) toast
        self._burst_timer: Any = None
        self._announced_at = -ANNOUNCE_EVERY  # time.monotonic() of the last finished-jobs toast
        self._status_bar: StatusBar | None = None  # found once: a DOM query per job change costs ms with 1,000
        #: printed by run_tui after the terminal is restored (live jobs that resume at the next start)
        self.quit_note: str | None = None
        self._started_at = clock()
        self._unsubscribe: Callable[[], None] | None = None
        self.main_screen: MainScreen | None = None
        #: the newest page of jobs read at start: the history screen shows it at once, then checks it (issue 13)
        self._history_seed: list[Job] | None = None
        #: why the app could not start (printed by run_tui after the terminal is restored)
        self.startup_error: str | None = None
        self._fit_timer: Any = None

    def compose(self) -> ComposeResult:
        # a still line, no spinner: an animation would compete for the CPU with the start-up it waits for
        yield Static("Starting seedream-tui…", id="splash-text")

    # --- window size ------------------------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self.guard_size(event.size.width, event.size.height)  # runs before App._on_resize stores the size
        # the history screen kept closed is laid out for the new size once, when a burst of resizes is over
        if self._fit_timer is not None:
            self._fit_timer.stop()
        self._fit_timer = self.set_timer(FIT_CLOSED_AFTER, self._fit_closed_screens, name="fit-closed")

    def _fit_closed_screens(self) -> None:
        self._fit_timer = None
        if self.screen_stack and self.screen_stack[-1].outer_size != self.size:  # not laid out for it yet: resizing
            self._fit_timer = self.set_timer(FIT_CLOSED_AFTER, self._fit_closed_screens, name="fit-closed")
            return
        if self.is_screen_installed("history") and not too_small(self.size.width, self.size.height):
            fit = getattr(self.get_screen("history"), "fit_to_terminal", None)
            if fit is not None:
                fit()

    def guard_size(self, width: int | None = None, height: int | None = None) -> None:
        """Below the usable size, cover everything with :class:`TooSmallScreen`; take it away once larger."""
        if not self.screen_stack:
            return  # starting or closing: no screen to cover (a resize then would raise ScreenStackError)
        small = too_small(width or self.size.width, height or self.size.height)
        on_top = isinstance(self.screen, TooSmallScreen)
        if small and not on_top:
            self.push_screen(TooSmallScreen())
        elif not small and on_top:
            self.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action != "quit" and isinstance(self.screen, TooSmallScreen):
            return False  # nothing opens over the "make the window larger" screen
        if action == "history" and type(self.screen).__name__ == "HistoryScreen":
            return False  # already there: not in the history screen's footer, which needs the room
        return True

    def on_mount(self) -> None:
        self.guard_size()
        if self.config.settings.keymap:
            self.set_keymap(self.config.settings.keymap)
        theme = self.config.settings.theme
        if theme in self.available_themes:
            self.theme = theme
        else:
            self.notify(f"The theme {theme!r} is unknown; using {self.theme}.", severity="warning")
        for warning in self.config.warnings:
            self.notify(warning, severity="warning", timeout=8)
        self._open_core()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast of the app (widgets' ``notify`` lands here): always plain text, never markup.

        Toast sentences carry outside text (a server's error, a path, a prompt): ``[/opt/run.py:212]`` must
        not raise ``MarkupError``, ``[@click=…]`` must not become a link, an escape must not reach the terminal.
        """
        super().notify(
            visible(message, multiline=True), title=visible(title), severity=severity, timeout=timeout, markup=False
        )

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's failure is handled: a sentence for the user, the traceback to the log."""
        if event.state is WorkerState.ERROR:
            self.notify(report_failure(event.worker), severity="error", timeout=12)

    # --- core lifecycle ---------------------------------------------------------------------------------
    @work(group="core-open", exclusive=True)
    async def _open_core(self) -> None:
        try:
            # the history first: the main screen shows it while the (demo) backend starts
            core = self.core or await Core.open(self.config, defer_backend=True)
            self.core = core
            self._unsubscribe = core.subscribe(self._job_callback)
        except Exception as exc:  # a sentence on stderr (run_tui prints it) and exit code 1
            self.startup_error = f"Could not start the job core: {exc}"
            self.exit(1, return_code=1)
            return
        for error in core.registry.errors:
            self.notify(str(error), title="Schema skipped", severity="warning", timeout=10)
        # read the newest jobs before the main screen is built, so its first frame already lists them
        # (one layout pass instead of an empty table and a second pass a moment later)
        try:
            initial: InitialJobs | None = await read_initial(core)
        except Exception:  # noqa: BLE001 - the screen reads again and reports the problem as a sentence
            initial = None
        self.main_screen = MainScreen(core, initial=initial)
        self._history_seed = initial.jobs if initial is not None else None  # the history's first page too
        await self.push_screen(self.main_screen)
        if not self.config.demo and not self.config.token:
            self._ask_token()
        self.guard_size()
        # start the backend (the demo server imports aiohttp on a thread) and the pollers only after that
        # frame is on screen: until then they would compete with it for the interpreter
        painted = asyncio.Event()
        self.call_after_refresh(painted.set)
        await painted.wait()
        gc.enable()  # off since the start (seedream_tui.entry): nothing before the first frame needed it
        # the CA bundle on a thread while the history screen is built ahead: ready by the time the HTTP client is
        # made (core.start, also off the loop), not a cost of the first frame
        tls.warm_up()
        images.warm_up()  # the image widget's module: not needed for the first frame, soon for the preview
        await self._build_history_ahead()
        try:
            for job in await core.start():  # the resumed live jobs (one history read, not two)
                self.tally.statuses.setdefault(job.id, job.status)
        except Exception as exc:
            self.notify(f"Could not resume polling: {exc}", severity="error", timeout=15)
        # what start-up built (screens, widgets, the engine, caches) lives as long as the app: out of the
        # collector's sight too, like the imports (run_tui). A full collection then walks what came since:
        # 3-30 ms instead of 40-90 ms, each landing on whatever key or search is under way
        gc.freeze()
        self._count_done_today()
        self._refresh_models()

    @work(group="refresh-models", exclusive=True, exit_on_error=False)
    async def _refresh_models(self) -> None:
        """Fetch again the catalog schemas cached more than a day ago, and the current model's when its price is
        not known yet (a bundled schema has none), so the quote is there before the first submit. Quietly: the
        copy on disk still works, and a failure is only logged."""
        core, screen = self.core, self.main_screen
        if core is None:
            return
        await core.refresh_cached_models()
        if screen is None or price_of(screen.spec.raw).base_usd is not None or not (core.demo or core.config.token):
            return
        try:
            spec = await core.fetch_model(screen.spec.model_id)
        except Exception as exc:  # noqa: BLE001 - the quote stays "price unknown"; nothing the user asked failed
            log.info("could not fetch the price of %s: %s", screen.spec.model_id, exc)
            return
        await screen.adopt_refreshed(spec)

    def _ask_token(self) -> None:
        try:
            from seedream_tui.tui.screens.settings import TokenScreen
        except ImportError:
            self.notify("No API token: set RUNCOMFY_API_TOKEN or save one in Settings (F3).", severity="warning")
            return
        self.push_screen(TokenScreen(), self._token_entered)

    def _token_entered(self, token: str | None) -> None:
        if not token or self.core is None:
            self.notify(
                "No API token yet: you can browse history; submitting needs a token (Settings, F3).",
                severity="warning",
            )
            return
        try:
            self.core.set_token(token)
        except Exception as exc:
            self.notify(f"The token was not saved: {exc}", severity="error")
            return
        self.notify("Token saved.")

    async def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.core is not None:
            await self.core.close()

    # --- job changes ------------------------------------------------------------------------------------
    def _job_callback(self, job: Job) -> None:
        """Called by the core on the event loop: turn it into a (coalescing) message."""
        self.post_message(JobChanged(job))

    def on_job_changed(self, message: JobChanged) -> None:
        job = message.job
        self._announce(job)
        self._tally_changed(count_done=job.status is JobStatus.COMPLETED)
        for screen in self.screen_stack:
            if screen is not self.screen_stack[0]:
                screen.post_message(JobChanged(job))

    def on_jobs_deleted(self, message: JobsDeleted) -> None:
        for job_id in message.job_ids:
            self.tally.forget(job_id)
        self._tally_changed(count_done=True)
        for screen in self.screen_stack[1:]:
            screen.post_message(JobsDeleted(message.job_ids))

    def _announce(self, job: Job) -> None:
        previous = self.tally.see(job)
        if not job.status.terminal or previous == job.status:
            return
        if previous is None and job.created_at < self._started_at:
            return  # an old job we never saw live
        if previous is not None and previous.terminal:
            return
        if job.status is JobStatus.CANCELLED:
            return  # the cancel action itself says so: one event, one toast
        # a burst (a batch finishing together) becomes one toast, not a wall of them over the job table
        self._finished.append(job)
        if self._burst_timer is None:
            delay = BURST_SECONDS if job.batch_id is None else BATCH_BURST_SECONDS
            delay = max(delay, self._announced_at + ANNOUNCE_EVERY - time.monotonic())
            self._burst_timer = self.set_timer(delay, self._announce_finished, name="finished-burst")

    def _announce_finished(self) -> None:
        jobs, self._finished, self._burst_timer = self._finished, [], None
        if not jobs:
            return
        self._announced_at = time.monotonic()
        sentence, severity = finish_sentence(jobs[0]) if len(jobs) == 1 else finished_sentence(jobs)
        self.notify(sentence, severity=severity)  # type: ignore[arg-type]
        if self.config.settings.notify_bell and any(job.status in _ALERT_STATUSES for job in jobs):
            self.alert(sentence)

    # --- status line ------------------------------------------------------------------------------------
    def _tally_changed(self, *, count_done: bool = False) -> None:
        if count_done:
            self._count_done_today()
        if self.main_screen is not None and self.main_screen.is_mounted:
            # a query, not query_one: at quit the screen's children go first while jobs still report; done
            # once and kept (a query walks the whole screen: ms per job change while a batch runs)
            bar = self._status_bar
            if bar is None or not bar.is_attached:
                bar = self._status_bar = next(iter(self.main_screen.query(StatusBar)), None)
            if bar is not None and bar.is_attached:
                bar.show(self.config, self.tally)

    @work(group="count-done-today", exclusive=True, exit_on_error=False)
    async def _count_done_today(self) -> None:
        if self.core is None:
            return
        midnight = time.mktime(time.localtime(self.clock())[:3] + (0, 0, 0, 0, 0, -1))
        try:
            # counted to 1,000 at most ("1,000+"): a full count walks every completed job of a busy history
            # (0.2-0.6 s at a million), and the history screen's reads wait behind it in the store's thread
            self.tally.done_today, self.tally.done_today_more = await self.core.history.count_matches(
                DONE_TODAY_CAP, statuses=[JobStatus.COMPLETED], since=midnight
            )
        except Exception:  # noqa: BLE001 - the line then leaves the count out; the history says why elsewhere
            self.tally.done_today = None
        self._tally_changed()

    async def action_quit(self) -> None:
        """Quit; live jobs stay in the history and resume at the next start (run_tui prints that line)."""
        self.quit_note = self.tally.resume_sentence()
        self.exit()

    def alert(self, text: str) -> None:
        """Terminal bell plus an OSC 9 desktop notification (tmux-wrapped when in tmux)."""
        self.post_message(Alerted(text))  # told like any event (headless, nothing is written)
        if self.is_headless:
            return
        self.bell()
        compat.write_to_terminal(self, osc9(text, tmux=bool(os.environ.get("TMUX"))))

    # --- screens ----------------------------------------------------------------------------------------
    def _push_once(self, screen_type: type[Screen[Any]], factory: Callable[[], Screen[Any]]) -> None:
        if isinstance(self.screen, screen_type):
            return
        self.push_screen(factory(), self._screen_result)

    def _screen_result(self, result: object) -> None:
        if isinstance(result, LoadIntoEditor):
            self.post_message(LoadIntoEditor(result.job))
        elif isinstance(result, EditResult):
            self.edit_result(result.job)
        elif isinstance(result, AnimateResult):
            self.animate_result(result.job)

    @on(AnimateResult)
    def _animate_result_asked(self, message: AnimateResult) -> None:
        self.animate_result(message.job)

    @work(group="edit-result", exclusive=True, exit_on_error=False)
    async def animate_result(self, job: Job) -> None:
        """Open an image-to-video model of the job's family (issue 22) with the job's result as its input image
        and the job's prompt ready to change; the new job's parent is this one (``#12 → #31``)."""
        core, main = self.core, self.main_screen
        if core is None or main is None:
            return
        from seedream_tui.catalog.browse import animate_model_candidates

        known = [spec.model_id for spec in core.registry.list()]
        candidates = animate_model_candidates(job.model_id, known)
        spec = await self._first_model(candidates)
        if spec is None:  # none on disk: ask the catalog for image-to-video models
            page = await core.catalog(kind="image-to-video")
            found = [entry.model_id for entry in page.entries]
            spec = await self._first_model(animate_model_candidates(job.model_id, (), found)[1:])
        field = image_field(spec) if spec is not None else None
        if spec is None or field is None:
            self.notify(f"No image-to-video model for {job.model_id} is known: choose one with F4 and give it "
                        f"#{job.id} as its image.", severity="warning", markup=False)  # fmt: skip
            return
        await self._open_with_result(main, spec, field, job, "Animating", "describe the motion")

    async def _first_model(self, model_ids: list[str]) -> Any:
        """The schema of the first of ``model_ids`` on disk or fetched from the catalog; None when none is."""
        core = self.core
        if core is None:
            return None
        for model_id in model_ids:
            if model_id in core.registry:
                return core.registry.get(model_id)
            try:
                return await core.fetch_model(model_id)
            except Exception:  # noqa: BLE001 - try the next candidate; none at all is said by the caller
                continue
        return None

    @on(EditResult)
    def _edit_result_asked(self, message: EditResult) -> None:
        self.edit_result(message.job)

    @work(group="edit-result", exclusive=True, exit_on_error=False)
    async def edit_result(self, job: Job) -> None:
        """Open an edit model of the job's family (fetched from the catalog if need be) with the job's result as
        its input image and the job's prompt ready to change; the new job's parent is this one."""
        core, main = self.core, self.main_screen
        if core is None or main is None:
            return
        from seedream_tui.catalog.browse import edit_model_candidates

        spec = await self._first_model(edit_model_candidates(job.model_id))
        field = image_field(spec) if spec is not None else None
        if spec is None or field is None:
            self.notify(f"No edit model of the family of {job.model_id} is known: choose one with F4 and give it "
                        f"#{job.id} as its image.", severity="warning", markup=False)  # fmt: skip
            return
        await self._open_with_result(main, spec, field, job, "Editing", "change the prompt")

    async def _open_with_result(self, main: Any, spec: Any, field: Any, job: Job, doing: str, then: str) -> None:
        """The main screen on ``spec`` with the job's result as its image input (its parent), the job's prompt
        ready to change at its end, and a sentence saying so."""
        while self.screen is not main and len(self.screen_stack) > 2:
            await self.pop_screen()
        await main.set_model(spec, {field.name: reference_to(field, job.id)})
        main.editor.load_text(job.prompt)
        main.editor.move_cursor(main.editor.document.end)  # ready to add to the prompt
        main.editor.focus()
        self.notify(f"{doing} the result of job #{job.id} with {spec.title or spec.model_id}: {then} and submit.",
                    markup=False)

    async def _build_history_ahead(self) -> None:
        """The history screen built (not shown) and its first page read now, ahead of the engine's start-up
        reads and the day's count: the first F2 then opens it as fast as a reopen (issue 13)."""
        from seedream_tui.tui.screens.history import HistoryScreen

        if self.core is not None and not self.is_screen_installed("history"):
            screen = HistoryScreen(self.core, first_page=self._history_seed)
            self.install_screen(screen, name="history")
            await screen.build_ahead()

    async def action_history(self) -> None:
        if self.core is None:
            return
        from seedream_tui.tui.screens.history import HistoryScreen

        if isinstance(self.screen, HistoryScreen):
            return
        # one history screen for the session: reopening it shows the last view at once and refreshes it,
        # instead of building and styling a new screen each time
        if not self.is_screen_installed("history"):
            self.install_screen(HistoryScreen(self.core, first_page=self._history_seed), name="history")
        else:
            screen = self.get_screen("history")
            if isinstance(screen, HistoryScreen):
                screen.reopen()
        self.push_screen("history")

    async def action_settings(self) -> None:
        if self.core is None:
            return
        from seedream_tui.tui.screens.settings import SettingsScreen

        core = self.core
        self._push_once(SettingsScreen, lambda: SettingsScreen(core))

    async def action_spend(self) -> None:
        if self.core is None:
            return
        from seedream_tui.tui.screens.spend import SpendScreen

        core = self.core
        self._push_once(SpendScreen, lambda: SpendScreen(core))

    def action_attach_request(self) -> None:
        if self.core is None:
            return
        from seedream_tui.tui.screens.confirm import PromptScreen

        self.push_screen(
            PromptScreen("The RunComfy request id to follow (from the dashboard, or another tool):", ok_label="Attach"),
            self._attach_answer,
        )

    def _attach_answer(self, text: str | None) -> None:
        if text:
            self._adopt_request(text)

    @work(group="attach-request")
    async def _adopt_request(self, request_id: str) -> None:
        """Adopt the request into the history (Core.adopt, as the CLI's status/wait/cancel do); the job
        then shows in the table and is followed and downloaded like any other."""
        from seedream_tui.api.errors import ApiError

        assert self.core is not None
        try:
            job = await self.core.adopt(request_id)
        except (ValueError, ApiError) as exc:
            self.notify(str(exc), severity="error")
            return
        self.core.engine.announce(job)
        self.notify(f"Request {job.request_id} is job {job.id} ({job.status.label}).")

    async def action_open_job(self, job_id: int) -> None:
        if self.core is None:
            return
        from seedream_tui.tui.screens.detail import JobDetailScreen

        self.push_screen(JobDetailScreen(self.core, job_id), self._screen_result)

    def action_list_cursor(self, delta: int) -> None:
        """j/k: down/up in the focused list (job and history tables, catalog, gallery, file picker)."""
        focused = self.focused
        if focused is None:
            return
        action = getattr(focused, "action_cursor_down" if delta > 0 else "action_cursor_up", None)
        if action is None:
            action = getattr(focused, "action_move_rows", None)  # the gallery: a row of tiles
            if action is not None:
                action(delta)
            return
        action()

    async def action_leave_screen(self) -> None:
        """q: what Esc does on this screen (back, close); nothing on the main screen (ctrl+q quits)."""
        screen = self.screen
        if len(self.screen_stack) < 2 or isinstance(screen, MainScreen):
            return
        escape = screen.active_bindings.get("escape")  # what Esc does here (the screen's, or the focused widget's)
        if escape is not None:
            await self.run_action(escape.binding.action, escape.node)
            return
        screen.dismiss(None)

    def action_help(self) -> None:
        from seedream_tui.tui.screens.help import HelpScreen, binding_rows  # on the first ``?``, not at start

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(binding_rows(self, self.help_groups())))

    @staticmethod
    def help_groups() -> list[tuple[str, type[DOMNode]]]:
        from seedream_tui.tui.screens.catalog import CatalogScreen
        from seedream_tui.tui.screens.compare import CompareScreen
        from seedream_tui.tui.screens.detail import JobDetailScreen
        from seedream_tui.tui.screens.history import HistoryScreen
        from seedream_tui.tui.screens.plan import PlanScreen
        from seedream_tui.tui.screens.settings import SettingsScreen
        from seedream_tui.tui.screens.sheet import BatchSheetScreen
        from seedream_tui.tui.screens.viewer import ViewerScreen
        from seedream_tui.tui.widgets.media_field import MediaField

        return [
            ("Everywhere", SeedreamApp),
            ("Main screen", MainScreen),
            ("Prompt editor", PromptArea),
            ("Jobs table", JobTable),
            ("Job lists (jobs, history)", RowTable),
            ("Preview", PreviewPane),
            ("History", HistoryScreen),
            ("Compare", CompareScreen),
            ("Batch sheet", BatchSheetScreen),
            ("Viewer", ViewerScreen),
            ("Job details", JobDetailScreen),
            ("Settings", SettingsScreen),
            ("Models (catalog)", CatalogScreen),
            ("Image inputs (options)", MediaField),
            ("Batch plan", PlanScreen),
        ]

    async def action_submit_prompt(self) -> None:
        if self.main_screen is not None:
            if self.screen is not self.main_screen:
                self.notify("Go back to the main screen to submit (Esc).", severity="warning")
                return
            self.main_screen.action_submit()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"
        self.config.settings.theme = self.theme
        self._save_settings()

    @work(group="save-settings", exclusive=True)
    async def _save_settings(self) -> None:
        try:
            await asyncio.to_thread(save_settings, self.config.paths, self.config.settings)
        except OSError as exc:
            self.notify(f"Could not save the settings: {exc.strerror or exc}.", severity="error")

    async def switch_model(self, key: str) -> None:
        if self.core is None or self.main_screen is None:
            return
        await self.main_screen.set_model(self.core.registry.get(key))

    @on(LoadIntoEditor)
    async def _load_into_editor(self, message: LoadIntoEditor) -> None:
        if self.main_screen is None:
            return
        for _ in range(len(self.screen_stack)):
            if self.screen is self.main_screen or len(self.screen_stack) <= 2:
                break
            await self.pop_screen()
        await self.main_screen.load_job(message.job)
