"""The main screen: write a prompt, set options, submit, watch the queue, look at results.

Layout: prompt editor and options on top; the job table and preview below. Below 120 columns the
preview becomes a tab next to the job table (``p`` or a click on the tab switches), so 80x24 works.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Select, Static, Tab, Tabs

from seedream_tui.api.errors import ApiError, InvalidInputError
from seedream_tui.catalog.guard import SubmitGuard, fingerprint
from seedream_tui.catalog.pricing import Quote, quote
from seedream_tui.config import save_settings
from seedream_tui.jobs.media_inputs import editable_inputs
from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.store import HistoryError
from seedream_tui.safetext import visible
from seedream_tui.schema.spec import FieldKind, ModelSpec
from seedream_tui.tui.compat import MountGuardedSelect, OneLayoutPerResize
from seedream_tui.tui.messages import JobChanged, JobsDeleted
from seedream_tui.tui.plain import plain_line
from seedream_tui.tui.widgets.batch_rows import BatchRows
from seedream_tui.tui.widgets.fields import FieldWidget, bound_overlay
from seedream_tui.tui.widgets.job_table import JobTable
from seedream_tui.tui.widgets.keyhints import KeyHints
from seedream_tui.tui.widgets.options import OptionsPanel, prompt_field
from seedream_tui.tui.widgets.preview import PreviewPane
from seedream_tui.tui.widgets.prompt_editor import PromptArea
from seedream_tui.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from seedream_tui.batch.plan import BatchPlan
    from seedream_tui.batch.planner import PlanError, PlanRequest
    from seedream_tui.jobs.service import Core

NARROW_BELOW = 120
#: the footer's hints kept when one line cannot hold them all, most wanted first ("*": the focused widget's own
#: keys, as the job table's); what does not fit is in help (``?``), which the line always offers
FOOTER_KEEP = ("submit", "toggle-options", "focus-jobs", "history", "*", "quit", "switch-model", "toggle-preview",
               "settings")
WIDE_FROM = 160
#: below this width the prompt has the whole row and the options take its place on ctrl+n (beside it, a
#: 38-column options pane squeezed the prompt editor to 3-10 columns)
COMPACT_BELOW = 61
#: below this height the prompt row gives its rows to the job table
SHORT_BELOW = 20
#: the job table starts with the newest jobs only (a history may hold 100,000); older pages load on demand
INITIAL_JOBS = 100
PAGE_JOBS = 100
#: pending jobs (the local queue) shown at start beside the newest page, at most
INITIAL_PENDING = 5000
#: load the next older page when the cursor is this many rows from the bottom
PREFETCH_ROWS = 20


class InitialJobs(NamedTuple):
    """What the main screen lists in its first frame, read before it is built (see ``SeedreamApp``)."""

    jobs: list[Job]
    prompts: list[str]
    #: live jobs older than the newest page: shown from the start too, or each would arrive alone with its
    #: first poll (a row added, the table sorted and redrawn whole, once per job)
    older_live: list[Job]


async def read_initial(core: Core) -> InitialJobs:
    """The newest page of jobs, the recent prompts and every live job and pending one (up to
    :data:`INITIAL_PENDING`), as the main screen first shows them."""
    jobs = await core.history.list_jobs(limit=INITIAL_JOBS)
    oldest = min((job.id for job in jobs), default=0)
    # pending rows too: the local queue sends a batch oldest first, and a job the table lacks is added (a row
    # and a sort, every cached line drawn anew) as it is sent: 1,000 of those while typing is a stalled editor
    pending = await core.history.list_jobs(limit=INITIAL_PENDING, statuses=[JobStatus.PENDING])
    older_live = [job for job in [*await core.history.live_jobs(), *reversed(pending)] if job.id < oldest]
    return InitialJobs(jobs, await core.history.recent_prompts(), older_live)


def has_variants(prompt: str) -> bool:
    """The prompt may hold variants (``{red|blue}``) or braces the planner must judge (an unclosed one)."""
    return "{" in prompt or "}" in prompt


def model_choices(specs: list[ModelSpec]) -> list[tuple[str, str]]:
    """(label, key) per spec; a title shared by several schemas gets the key to tell them apart."""
    titles = [s.title or s.model_id for s in specs]
    return [
        (title if titles.count(title) == 1 else f"{title} · {spec.key}", spec.key)
        for title, spec in zip(titles, specs, strict=True)
    ]


class MainScreen(OneLayoutPerResize[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f5", "submit", "Submit", id="submit", tooltip="Validate and submit the prompt"),
        # an image field's own ctrl+f (pick an image) comes first while it has the focus
        Binding("ctrl+f", "open_prompt_file", "Prompt file", id="open-prompt-file", show=False,
                tooltip="Open a prompt file (text, JSONL, CSV) as a batch: its plan is shown before anything is sent"),
        Binding("f4", "switch_model", "Model", id="switch-model",
                tooltip="Browse RunComfy's models (search, category, price) and choose one"),
        Binding("f10", "save_defaults", "Save defaults", id="save-defaults", show=False,
                tooltip="Save the current options as this model's defaults"),
        # priority (run as the key arrives): the keys typed right after it already go to the new place
        # always to the jobs (never a toggle: from the options it would land in the prompt and type the next
        # key there); back to the prompt with i or Tab
        Binding("ctrl+g", "focus_jobs", "Jobs", id="focus-jobs", priority=True,
                tooltip="Go to the job table"),
        Binding("ctrl+o", "toggle_preview", "Preview", id="toggle-preview",
                tooltip="Show the preview tab (narrow) or view the images full screen"),
        # not F6/F7 (the editor selects with them)
        # in the footer only while the window is narrow (see check_action): wider, the options are always shown
        Binding("ctrl+n", "toggle_options", "Options", id="toggle-options",
                tooltip="Narrow window: show the options in place of the prompt, and back"),
    ]

    def __init__(self, core: Core, *, initial: InitialJobs | None = None) -> None:
        super().__init__(id="main")
        self.core = core
        self._initial = initial
        #: asks before a paid submit that costs more than the user's threshold, or repeats the last one
        self.guard = SubmitGuard()
        settings = core.config.settings
        try:
            self.spec = core.registry.get(settings.default_model)
        except KeyError:
            self.spec = core.registry.default()
        self._older_exhausted = False
        self._loading_older = False
        #: the oldest job id of the pages read so far: the next page starts below it. Not the smallest id in
        #: the table: an old job that resumes polling joins the table and would make paging skip everything
        #: between it and the pages read
        self._oldest_paged: int | None = None

    # --- layout --------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # size classes before the first style pass: setting them at the first resize restyles everything twice
        self._size_classes(*self.app.size)
        field = prompt_field(self.spec)
        overrides = self._overrides(self.spec)
        with Horizontal(id="compose"):
            prompt = overrides.get(field.name) if field else None
            default = field.default if field and field.has_default else ""
            # start empty: the schema's sample prompt is a hint, not text to delete first
            hint = f"Describe the image… e.g. {default}" if default else "Describe the image…"
            yield PromptArea(
                str(prompt or ""),
                soft_max_words=field.soft_max_words if field else None,
                placeholder=hint,
                id="prompt",
            )
            with Vertical(id="options-pane"):
                # the model picker (a Select: four widgets, an option per model) and the panel's fields, most of
                # this screen's widgets, are mounted right after the first frame (issue 23: start-up); until then
                # a line with the model's name holds the picker's place (the fields below never move)
                yield Static(self._model_title(), id="model-select-slot")
                yield OptionsPanel(self.spec, overrides, id="options", deferred=True)
        # shown (narrow): the tabs are in the first frame. Hidden while wide: mounted after it, into a holder of
        # their own, so the screen's children keep their places (a widget mounted into the screen itself changes
        # every sibling's paint order, which repaints every cell of the terminal: ~40 KB at 200x60)
        with Vertical(id="results-tabs-holder"):
            if self.has_class("-narrow"):
                yield self._results_tabs()
        with Horizontal(id="results"):
            # the border is the box's, not the table's: Textual writes a repainted region from the left edge of
            # the widget it is in, so a tick of the table's Time cells does not send the border each time
            with Vertical(id="jobs-box") as box:
                box.border_title = "Jobs"
                yield JobTable(id="jobs")
            yield PreviewPane(id="preview")
        yield StatusBar()  # in the flow, under the results (two docked lines would overlap)
        # one line: a second is a job row fewer at 80x24; what does not fit is in help (?), which it offers
        yield KeyHints(lines=1, keep=FOOTER_KEEP)

    def on_mount(self) -> None:
        self.title = "Prompt & jobs"  # the heading at the start of the key hints (every screen has one)
        app: Any = self.app
        if hasattr(app, "tally"):
            self.query_one(StatusBar).show(self.core.config, app.tally)
        self.query_one("#options-pane").border_title = "Options"
        self.call_after_refresh(self._mount_after_first_frame)
        self.show_quote()
        self.query_one(PromptArea).focus()
        self.set_interval(2.0, self.refresh_queue_line, name="queue-line")  # other instances pause/fill it too
        self.refresh_queue_line()
        if self._initial is not None:
            self._show_initial(*self._initial)
            self._initial = None
        else:
            self._load_history()

    def _results_tabs(self) -> Tabs:
        return Tabs(Tab("Jobs", id="tab-jobs"), Tab("Preview", id="tab-preview"), id="results-tabs")

    async def _mount_after_first_frame(self) -> None:
        """What the first frame does without (see ``compose``): the model picker, and the narrow window's tabs
        while the window is wide. The user cannot tell: the options panel's fields come in the same moment."""
        if not self.is_attached:  # gone before its first frame
            return
        pane = self.query_one("#options-pane")
        model_select = MountGuardedSelect(self._model_options(), value=self.spec.key, allow_blank=False, compact=True,
                              id="model-select")

        def expanded(opened: bool) -> None:  # the model list opens inside the options pane, not over the jobs
            if opened:
                bound_overlay(model_select, pane.content_region)

        slot = self.query_one("#model-select-slot", Static)
        slot.display = False  # the picker takes its line in the same layout pass
        await pane.mount(model_select, before=slot)
        await slot.remove()
        self.watch(model_select, "expanded", expanded, init=False)
        if not self.query("#results-tabs"):
            await self.query_one("#results-tabs-holder").mount(self._results_tabs())

    def _size_classes(self, width: int, height: int) -> bool:
        """Set the layout classes for the size; True when they changed."""
        classes = ("-narrow", "-wide", "-compact", "-short")
        before = [self.has_class(c) for c in classes]
        # one restyle of the screen for all its classes, not one per class (each restyles every widget)
        wanted = {
            "-narrow": width < NARROW_BELOW, "-wide": width >= WIDE_FROM,
            "-compact": width < COMPACT_BELOW, "-short": height < SHORT_BELOW,
        }
        if not (wanted["-compact"] or wanted["-short"]):
            wanted["-show-options"] = False  # large enough: prompt and options side by side again
        self.update_classes(wanted)
        changed = before != [self.has_class(c) for c in classes]
        if changed and self.is_mounted:
            self.refresh_bindings()  # ctrl+n (Options) is offered only while narrow or short
        return changed

    @property
    def options_folded(self) -> bool:
        """Narrow or short: the options are not beside the prompt but in its place, on ctrl+n."""
        return self.has_class("-compact") or self.has_class("-short")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_options":
            return self.options_folded
        return True

    def on_resize(self) -> None:
        if self._size_classes(*self.size):
            # the class change resizes the editor after it drew its first wrap: redraw once the layout
            # settles, or the first lines show text wrapped for the old width (seen in tmux at 200x60)
            self.call_after_refresh(self.query_one(PromptArea).refresh)

    def _model_title(self) -> Text:
        """The current model's name as the picker shows it (schema titles are outside text: plain)."""
        return next((label for label, key in self._model_options() if key == self.spec.key), plain_line(self.spec.key))

    def _model_options(self) -> list[tuple[Text, str]]:
        """The model picker's options; titles come from schema files and the server: plain text."""
        return [(plain_line(label), key) for label, key in model_choices(self.core.registry.list())]

    def _overrides(self, spec: ModelSpec) -> dict[str, Any]:
        defaults = self.core.config.model_defaults
        saved = dict(defaults.get(spec.key) or defaults.get(spec.model_id) or {})
        # an image input saved by an older F10 is not a default: the field starts empty
        media = {f.name for f in spec.fields if f.kind in (FieldKind.MEDIA, FieldKind.MEDIA_LIST)}
        return {name: value for name, value in saved.items() if name not in media}

    @property
    def table(self) -> JobTable:
        return self.query_one(JobTable)

    @property
    def preview(self) -> PreviewPane:
        return self.query_one(PreviewPane)

    @property
    def editor(self) -> PromptArea:
        return self.query_one(PromptArea)

    @property
    def options(self) -> OptionsPanel:
        return self.query_one(OptionsPanel)

    @work(group="main-load", exclusive=True)
    async def _load_history(self) -> None:
        try:
            initial = await read_initial(self.core)
        except Exception as exc:  # HistoryError and friends: a sentence, not a crash
            self.notify(f"Could not read the job history: {exc}", severity="error")
            return
        self._show_initial(*initial)

    def _show_initial(self, jobs: list[Job], prompts: list[str], older_live: list[Job]) -> None:
        self._older_exhausted = len(jobs) < INITIAL_JOBS
        self._oldest_paged = min((job.id for job in jobs), default=None)  # paging goes on below the page
        self.table.set_jobs([*jobs, *older_live])
        self.editor.set_history(prompts)
        if jobs:
            self.table.move_cursor(row=0)
            self.preview.show_job(self.table.jobs.get(self.table.selected_job_id or -1))

    # --- jobs ----------------------------------------------------------------------------------------------
    def on_job_changed(self, message: JobChanged) -> None:
        job = message.job
        self.table.upsert(job)
        if self.preview.job is not None and self.preview.job.id == job.id:
            self.preview.show_job(job)

    def on_jobs_deleted(self, message: JobsDeleted) -> None:
        for job_id in message.job_ids:
            self.table.remove_job(job_id)
        if self.preview.job is not None and self.preview.job.id in message.job_ids:
            self.preview.show_job(self.table.jobs.get(self.table.selected_job_id or -1))

    @on(JobTable.Highlighted)
    def _highlighted(self, message: JobTable.Highlighted) -> None:
        shown = self.preview.job
        if shown is None or shown.id != message.job_id:  # the same job (a row added above it): it is on screen
            self.preview.show_job(self.table.jobs.get(message.job_id) if message.job_id is not None else None)
        if self.table.cursor_row >= self.table.row_count - PREFETCH_ROWS:
            self._load_older()

    @work(group="main-older")
    async def _load_older(self) -> None:
        """Append the next page of older jobs (keyset paging on the id): the table never holds the whole history."""
        if self._older_exhausted or self._loading_older or self._oldest_paged is None:
            return
        self._loading_older = True
        try:
            jobs = await self.core.history.list_jobs(limit=PAGE_JOBS, before_id=self._oldest_paged)
        except Exception as exc:  # HistoryError and friends: a sentence, not a crash
            self.notify(f"Could not read the job history: {exc}", severity="error")
            return
        finally:
            self._loading_older = False
        self._older_exhausted = len(jobs) < PAGE_JOBS
        if jobs:
            self._oldest_paged = min(self._oldest_paged or jobs[0].id, *(job.id for job in jobs))
            self.table.set_jobs(jobs)

    @on(JobTable.Open)
    def _open(self, message: JobTable.Open) -> None:
        self.run_worker(self.run_action(f"app.open_job({message.job_id})"), group="open-job")

    @on(JobTable.OpenBatch)
    def _open_batch(self, message: JobTable.OpenBatch) -> None:
        from seedream_tui.tui.screens.sheet import BatchSheetScreen

        self.app.push_screen(BatchSheetScreen(self.core, message.batch_id))

    @on(JobTable.Cancel)
    def _cancel(self, message: JobTable.Cancel) -> None:
        self._cancel_job(message.job_id)

    @work(group="cancel")
    async def _cancel_job(self, job_id: int) -> None:
        try:
            sentence = await self.core.cancel(job_id)
        except ApiError as exc:
            self.notify(str(exc), title=f"Job #{job_id}", severity="error")
            return
        self.notify(sentence, title=f"Job #{job_id}")

    # --- the local queue (batches) ---------------------------------------------------------------------------
    def _selected(self) -> Job | None:
        job_id = self.table.selected_job_id
        return self.table.jobs.get(job_id) if job_id is not None else None

    @work(group="queue", exclusive=True, exit_on_error=False)
    async def refresh_queue_line(self) -> None:
        """Read the local queue's state (paused, pending, held) into the status line when it changed."""
        app: Any = self.app
        if not hasattr(app, "tally"):
            return
        try:
            text = (await self.core.queue_counts()).text
        except Exception:  # noqa: BLE001 - a busy history: the next refresh says it
            return
        if text != app.tally.queue:
            app.tally.queue = text
            self.query_one(StatusBar).show(self.core.config, app.tally)

    async def _queue_said(self, call: Any, title: str) -> None:
        try:
            sentence = await call
        except (ApiError, HistoryError) as exc:
            self.notify(str(exc), title=title, severity="error")
            return
        self.notify(sentence, title=title)
        self.refresh_queue_line()

    @work(group="queue-action", exit_on_error=False)
    async def action_toggle_queue(self) -> None:
        paused = await self.core.queue_paused()
        await self._queue_said(self.core.resume_queue() if paused else self.core.pause_queue(), "Local queue")

    @work(group="queue-action", exit_on_error=False)
    async def action_move_up(self, to_front: bool = False) -> None:
        job = self._selected()
        if job is None:
            self.app.bell()
            return
        await self._queue_said(self.core.move_up(job.id, to_front=to_front), f"Job #{job.id}")

    def action_cancel_batch(self) -> None:
        batch_id = self.table.selected_batch_id  # a job of a batch, or a folded batch's row
        if batch_id is None:
            self.notify("The selected job is not part of a batch; c cancels it alone.", title="Cancel batch")
            return
        from seedream_tui.tui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._queue_said(self.core.cancel_batch(batch_id), f"Batch {batch_id}"),
                                group="queue-action", exit_on_error=False)

        self.app.push_screen(ConfirmScreen(f"Cancel every job of batch {batch_id} that has not started?",
                                           yes_label="Cancel batch"), answered)

    def action_cancel_waiting(self) -> None:
        from seedream_tui.tui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._queue_said(self.core.cancel_waiting(), "Cancel waiting"),
                                group="queue-action", exit_on_error=False)

        self.app.push_screen(ConfirmScreen("Cancel every job waiting (pending here, or queued at RunComfy)? "
                                           "Running jobs go on.", yes_label="Cancel waiting"), answered)

    # --- submit --------------------------------------------------------------------------------------------
    def current_inputs(self) -> dict[str, Any]:
        values = self.options.values()
        field = prompt_field(self.spec)
        if field is not None:
            values[field.name] = self.editor.text
        return values

    def action_submit(self) -> None:
        # the planner and the dialog when a prompt is submitted, not at start-up (issue 23)
        from seedream_tui.batch.planner import PlanError, make_plan
        from seedream_tui.tui.screens.confirm import ConfirmScreen

        errors = self.options.check(self.editor.text)
        if self._show_prompt_error(errors):
            return
        spec, inputs = self.spec, self.current_inputs()
        quote = self.quote()
        if self.options.batch_rows.used or has_variants(self.editor.text):
            # variants, a repeat count or a sweep: a plan first; several jobs are shown before anything is sent
            request = None
            try:
                request = self.plan_request(inputs)
                plan = make_plan(spec, request)
            except PlanError as exc:
                if request is not None and exc.field == "sample" and request.sample is None:
                    self._offer_sample(spec, request, exc)  # too many combinations: a random pick of them
                else:
                    self._show_plan_error(exc)
                return
            self.options.batch_rows.show_error(None)
            if plan.count > 1:
                self.confirm_plan(plan)
                return
            inputs, quote = dict(plan.jobs[0].inputs), plan.jobs[0].quote  # one job: the single submit
        question = self.guard.question(quote, fingerprint(spec.model_id, inputs), demo=self.core.demo,
                                       threshold=self.core.config.settings.confirm_above_usd)
        if question is None:
            self._submit(spec, inputs, quote)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._submit(spec, inputs, quote)

        self.app.push_screen(ConfirmScreen(question, yes_label="Submit"), answered)

    # --- batches (issue 21) ------------------------------------------------------------------------------
    def plan_request(self, inputs: dict[str, Any], source: str = "submit") -> PlanRequest:
        """The plan the prompt and the batch rows describe (PlanError when a row cannot be read)."""
        from seedream_tui.batch.planner import PlanRequest

        batch = self.options.batch_rows
        return PlanRequest(inputs=inputs, sweeps=batch.sweeps(inputs), repeat=batch.repeat(), source=source)

    def _offer_sample(self, spec: ModelSpec, request: PlanRequest, error: PlanError) -> None:
        """More jobs than a batch may have (the planner counts before it builds, so this is at once): the
        sentence, and an offer to plan as many as may go, picked at random (the CLI's ``--sample``)."""
        from dataclasses import replace

        from seedream_tui.batch.planner import MAX_JOBS, PlanError, make_plan
        from seedream_tui.tui.screens.confirm import ConfirmScreen

        count = max(1, MAX_JOBS // max(1, request.repeat))
        why = str(error).partition(": use --sample")[0].rstrip(".")
        self.notify(f"{why}.", title="Not submitted", severity="warning")

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                plan = make_plan(spec, replace(request, sample=count))
            except PlanError as exc:
                self._show_plan_error(exc)
                return
            self.confirm_plan(plan)

        self.app.push_screen(ConfirmScreen(f"{why}. Plan {count:,} of them picked at random (nothing is sent "
                                           "before the plan is shown)?", yes_label=f"Pick {count:,}"), answered)

    def _show_plan_error(self, error: PlanError) -> None:
        """A plan that cannot be made: its sentence in the message line (with the column of a syntax error),
        at the row or field at fault too; nothing is sent."""
        sentence = str(error)
        if error.column is not None and "column" not in sentence:
            sentence = f"{sentence.rstrip('.')} (column {error.column})."
        self.options.batch_rows.show_error(error)
        if error.field is not None and error.field in {f.name for f in self.spec.fields}:
            if error.field != self.options.batch_rows.sweep_key:
                self.options.show_errors({error.field: sentence})
        if error.column is not None:
            self.editor.set_class(True, "-invalid")
            self.editor.border_subtitle = plain_line(f"column {error.column}", style="bold")
        self.notify(sentence, title="Not submitted", severity="error")

    def confirm_plan(self, plan: BatchPlan) -> None:
        """Show the whole batch; Submit sends it, Cancel sends nothing."""
        from seedream_tui.tui.screens.plan import PlanScreen

        field = prompt_field(self.spec)
        typed = self.editor.text if plan.source == "submit" else None  # the prompt to keep in the editor's history

        def answered(yes: bool | None) -> None:
            if yes:
                self._submit_batch(plan, typed)

        self.app.push_screen(PlanScreen(plan, demo=self.core.demo, prompt_key=field.name if field else "prompt"),
                             answered)

    @work(group="submit-batch")
    async def _submit_batch(self, plan: BatchPlan, typed: str | None = None) -> None:
        try:
            batch, jobs = await self.core.submit_batch(plan)
        except InvalidInputError as exc:
            errors = {f.field or "": f.message for f in getattr(exc, "fields", None) or []}
            first = next(iter(errors.values()), str(exc))
            self.notify(f"The batch was not submitted: {first}", title="Not submitted", severity="error")
            return
        except ApiError as exc:
            # (one submit after another: the jobs sent before the refusal are in the table and their batch)
            self.notify(f"The batch stopped: {exc}", title="Batch", severity="error")
            return
        money = plan.quote.text + (" (demo prices, not charged)" if self.core.demo else " (paid)")
        self.notify(f"Batch #{batch.id}: {len(jobs):,} jobs submitted, {money}.", title="Submitted")
        if typed:
            self.editor.remember(typed)
        self.editor.remove_class("-invalid")
        self.table.set_jobs(jobs)  # one sort, not one per job (1,000 sorts of a growing table froze the UI)
        if jobs and jobs[-1].id >= max(self.table.jobs):
            self.table.select_job(jobs[-1].id)
            self.preview.show_job(jobs[-1])

    def action_open_prompt_file(self) -> None:
        """ctrl+f: pick a prompt file (text, JSONL, CSV); its plan is shown like a submit's."""
        from pathlib import Path

        from seedream_tui.tui.batch_files import PROMPT_FILE_SUFFIXES
        from seedream_tui.tui.widgets.file_pick import FilePickScreen

        def picked(path: str | None) -> None:
            if path:
                self.plan_file(path)

        self.app.push_screen(FilePickScreen(Path.cwd(), suffixes=PROMPT_FILE_SUFFIXES, what="a prompt file"), picked)

    @work(group="prompt-file")
    async def plan_file(self, path: str) -> None:
        """Read a prompt file in a thread and show its plan (the panel's options and batch rows apply to each row)."""
        from seedream_tui.batch.planner import PlanError
        from seedream_tui.tui.batch_files import plan_prompt_file

        inputs = self.options.values()
        try:
            request = self.plan_request(inputs, source=path)
            plan = await asyncio.to_thread(plan_prompt_file, self.core.registry, self.spec, path, request)
        except PlanError as exc:
            self._show_plan_error(exc)
            return
        self.confirm_plan(plan)

    def _show_prompt_error(self, errors: dict[str, str]) -> bool:
        """Show errors; True when there are any (the panel already shows its own)."""
        field = prompt_field(self.spec)
        prompt_error = errors.get(field.name) if field else None
        self.editor.set_class(bool(prompt_error), "-invalid")
        if prompt_error:
            self.editor.border_subtitle = plain_line(prompt_error, style="bold")
        if not errors:
            return False
        first = next(iter(errors.values()))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        self.notify(f"{first}{more}", title="Not submitted", severity="error")
        return True

    @work(group="submit")
    async def _submit(self, spec: ModelSpec, inputs: dict[str, Any], quote: Quote) -> None:
        print_ = fingerprint(spec.model_id, inputs)
        self.guard.sent(print_)  # before the answer: a second key press meanwhile asks too
        try:
            job = await self.core.submit(spec, inputs)
        except InvalidInputError as exc:
            errors = {f.field or "": f.message for f in getattr(exc, "fields", None) or []}
            self.options.show_errors(errors)
            self._show_prompt_error(errors or {"": str(exc)})
            return
        except ApiError as exc:
            self.notify(str(exc), title="Not submitted", severity="error")
            return
        if not self.core.demo:
            self.notify(f"Job #{job.id} submitted: {quote.text} (paid).", title="Submitted")
        self.editor.remember(job.prompt)
        self.editor.remove_class("-invalid")
        self.table.upsert(job)
        if job.id >= max(self.table.jobs):
            # several submits in flight answer in any order: the cursor goes to the newest, not the last answered
            self.table.select_job(job.id)
            self.preview.show_job(job)

    # --- defaults -----------------------------------------------------------------------------------------
    async def action_save_defaults(self) -> None:
        """Keep the panel's values as this model's defaults (settings.toml), so every start begins there."""
        values = {k: v for k, v in self.options.values().items() if v is not None}
        field = prompt_field(self.spec)
        if field is not None:
            values.pop(field.name, None)  # a default prompt would be a surprise: the editor starts empty
        # nor a reference image: a path, a URL or #12 is this job's input, not a setting of the model
        for spec_field in self.spec.fields:
            if spec_field.kind in (FieldKind.MEDIA, FieldKind.MEDIA_LIST):
                values.pop(spec_field.name, None)
        settings = self.core.config.settings
        defaults = self.core.config.model_defaults
        defaults[self.spec.model_id] = values
        if self.spec.key != self.spec.model_id:
            defaults.pop(self.spec.key, None)  # an older per-file entry would shadow this one
        try:
            await asyncio.to_thread(save_settings, self.core.paths, settings)
        except OSError as exc:
            self.notify(f"Could not save the defaults: {exc.strerror or exc}.", severity="error")
            return
        where = " (demo only: paid runs keep their own defaults)" if self.core.demo else ""
        self.notify(f"Saved these options as the defaults for {self.spec.title or self.spec.model_id}{where}.")

    # --- price ----------------------------------------------------------------------------------------------
    def quote(self) -> Quote:
        """What submitting the current options would cost (see ``seedream_tui.catalog.pricing``)."""
        return quote(self.spec, self.options.values())

    def show_quote(self) -> None:
        """The quote under the options (``≈ $0.03``, ``up to $0.45``, ``price unknown``), and how many jobs the
        batch rows make (``≈ $0.03 a job · 4 jobs``)."""
        text = self.quote().text
        count = self.options.batch_rows.count_hint()
        if count > 1:
            text = f"{text} a job · {count:,} jobs"
        self.query_one("#options-pane").border_subtitle = Text(text)

    @on(FieldWidget.ValueChanged)
    @on(BatchRows.Changed)
    def _option_changed(self) -> None:
        self.call_after_refresh(self.show_quote)  # after the panel's own update of the values

    # --- models ---------------------------------------------------------------------------------------------
    def action_switch_model(self) -> None:
        from seedream_tui.tui.screens.catalog import CatalogScreen

        self.app.push_screen(CatalogScreen(self.core, current=self.spec.model_id), self._model_chosen)

    async def _model_chosen(self, key: str | None) -> None:
        if key is not None and key in self.core.registry:
            await self.set_model(self.core.registry.get(key))

    @on(Select.Changed, "#model-select")
    async def _model_selected(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL or event.value == self.spec.key:
            return
        await self.set_model(self.core.registry.get(str(event.value)))

    async def set_model(self, spec: ModelSpec, values: dict[str, Any] | None = None) -> None:
        """Rebuild the options panel for ``spec`` (the prompt text stays)."""
        self.spec = spec
        select = next(iter(self.query("#model-select").results(Select)), None)  # None: not mounted yet
        if select is not None and select.value != spec.key:
            with select.prevent(Select.Changed):
                select.set_options(self._model_options())  # the catalog may have added one
                select.value = spec.key
        overrides = {**self._overrides(spec), **(values or {})}
        await self.options.remove()
        await self.query_one("#options-pane").mount(OptionsPanel(spec, overrides, id="options"))
        field = prompt_field(spec)
        self.editor.soft_max_words = field.soft_max_words if field else None
        self.editor.post_message(PromptArea.Changed(self.editor))
        self.call_after_refresh(self.show_quote)

    async def adopt_refreshed(self, spec: ModelSpec) -> None:
        """A newer copy of the current model's schema arrived (with its price): use it, keeping the options."""
        if spec.model_id != self.spec.model_id:
            return
        same_fields = [(f.name, f.kind, f.choices) for f in spec.fields] == [
            (f.name, f.kind, f.choices) for f in self.spec.fields
        ]
        if same_fields:
            self.spec = spec
            self.options.spec = spec
            self.show_quote()
        else:
            await self.set_model(spec, self.options.values())

    async def load_job(self, job: Job) -> None:
        """Put a job's model, prompt and options into the editor (from history or the detail screen)."""
        try:
            spec = self.core.registry.get(job.model_id)
        except KeyError:
            self.notify(f"There is no schema for the model {job.model_id}; its job cannot be loaded.", severity="error")
            return
        # an editor draws its text as it is: an escape sequence in a stored input (the server's, or an older
        # version's) would reach the terminal. Shown as "\x1b" instead; the validator refuses it on submit.
        # a local image is stored as a reference: its path goes back into the field
        values = {
            k: visible(v, multiline=True) if isinstance(v, str) else v for k, v in editable_inputs(job.inputs).items()
        }
        field = prompt_field(spec)
        prompt = values.pop(field.name, "") if field else ""
        await self.set_model(spec, values)
        self.remove_class("-show-options")
        self.editor.load_text(str(prompt))
        self.editor.focus()

    # --- view -----------------------------------------------------------------------------------------------
    def action_focus_jobs(self) -> None:
        """ctrl+g: the job table, from anywhere on the screen (a key that goes to the jobs goes to the jobs)."""
        # at once (not Widget.focus(), which is queued), so the keys typed right after go to the new place
        self.remove_class("-show-options")
        if self.has_class("-narrow") and self.has_class("-show-preview"):
            # the table is behind the Preview tab: show it first, never focus what cannot be seen
            self.set_class(False, "-show-preview")
            for tabs in self.query("#results-tabs").results(Tabs):
                tabs.active = "tab-jobs"
        self.set_focus(self.table)

    def action_focus_prompt(self) -> None:
        """i in the job table: back to the prompt."""
        self.remove_class("-show-options")
        self.set_focus(self.editor)

    def action_toggle_options(self) -> None:
        """Narrow: the options in place of the prompt, and back."""
        if self.has_class("-show-options"):
            self.remove_class("-show-options")
            self.set_focus(self.editor)
            return
        self.add_class("-show-options")
        self.set_focus(next(iter(self.query("#model-select")), None) or self.options)

    def action_toggle_preview(self) -> None:
        if self.has_class("-narrow"):
            for tabs in self.query("#results-tabs").results(Tabs):
                tabs.active = "tab-jobs" if tabs.active == "tab-preview" else "tab-preview"
        else:
            self.action_view_job()

    def action_view_job(self, image: int = 0) -> None:
        """The selected job's images full screen; ←/→ there walk the job table's rows."""
        from seedream_tui.tui.screens.viewer import ViewerScreen

        job_id = self.table.selected_job_id
        if job_id is None:
            self.app.bell()
            return
        ordered = [self.table.jobs[i] for i in sorted(self.table.jobs, reverse=True)]
        index = next(i for i, job in enumerate(ordered) if job.id == job_id)
        self.app.push_screen(ViewerScreen(ordered, index, image=image, moved=lambda job: self.table.select_job(job.id)))

    @on(PreviewPane.View)
    def _view_previewed(self, message: PreviewPane.View) -> None:
        self.table.select_job(message.job_id)
        self.action_view_job(message.image)

    @on(Tabs.TabActivated, "#results-tabs")
    def _tab(self, event: Tabs.TabActivated) -> None:
        preview = event.tab.id == "tab-preview"
        self.set_class(preview, "-show-preview")
        # the focus follows to the pane now showing: it never stays on the one the tab just hid
        if preview and self.table.has_focus:
            self.set_focus(self.preview)
        elif not preview and self.preview.has_focus:
            self.set_focus(self.table)
