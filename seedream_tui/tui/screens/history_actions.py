"""What the history screen does to jobs: mark, compare, view, load, re-run, export, delete, copy.

A mixin of :class:`~seedream_tui.tui.screens.history.HistoryScreen`, apart so the screen itself is only
the view over :class:`~seedream_tui.jobs.view.HistoryView`. Each action works on the view's targets:
the marked jobs, or else the one under the cursor (table or gallery alike).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding

from seedream_tui.catalog.pricing import quote_job, total_sentence
from seedream_tui.jobs.exporting import default_export_dir
from seedream_tui.jobs.model import Job, OutputFile
from seedream_tui.tui.formatting import clipboard_sentence, error_sentence
from seedream_tui.tui.messages import JobsDeleted
from seedream_tui.tui.screens.confirm import ConfirmScreen, PromptScreen

if TYPE_CHECKING:
    from seedream_tui.jobs.view import HistoryView

#: side by side, each column still shows its image at 80 columns
MAX_COMPARED = 4


class HistoryActions:
    """Mixed into the history screen (which provides ``view``, ``core`` and the row/tile updates)."""

    ACTION_BINDINGS = [
        Binding("f", "view", "View", tooltip="View the job's images full screen (←/→ walk the list)", id="history-view"),
        Binding("l", "load", "Load", tooltip="Load the job into the editor", id="history-load"),
        Binding("r", "rerun", "Re-run", tooltip="Submit the job's input again (each marked job's)", id="history-rerun"),
        Binding("E", "edit_result", "Edit result", show=False, id="history-edit",
                tooltip="Open an edit model of the same family with the job's result as its input"),
        Binding("A", "animate_result", "Animate result", show=False, id="history-animate",
                tooltip="Open an image-to-video model with the job's result as its input"),
        Binding("e", "export", "Export", tooltip="Copy the job's images to a folder", id="history-export"),
        Binding("d", "delete", "Delete", tooltip="Delete the job and its files (asks first)", id="history-delete"),
        Binding("delete", "delete", "Delete", show=False, id="history-delete-key"),
        Binding("c", "copy_path", "Copy path", tooltip="Copy the image path (OSC 52)", id="history-copy-path"),
        # not in the footer (at 80 columns it would push keys off its two lines): in the help, like every key
        Binding("u", "copy_url", "Copy URL", show=False, tooltip="Copy the image URL (OSC 52)", id="history-copy-url"),
        Binding(
            "space", "toggle_mark", "Mark",
            tooltip="Mark the job; export, delete, copy and compare act on every marked job", id="history-mark",
        ),
        Binding("v", "compare", "Compare", tooltip="Compare the marked jobs side by side", id="history-compare"),
        # batches (issue 21): in the help, not the footer (full at 80 columns)
        Binding("b", "open_batch", "Batch sheet", show=False, id="history-batch-sheet",
                tooltip="Open the job's batch as a contact sheet (re-run it, or its failed jobs, from there)"),
        Binding("B", "filter_batch", "Show batch", show=False, id="history-batch-filter",
                tooltip="Show only the jobs of the job's batch (fills batch:N into the search)"),
    ]

    view: HistoryView
    core: Any
    #: the folder of the last export this session (the prompt offers it again)
    last_export_dir: Path | None = None

    if TYPE_CHECKING:  # provided by the screen (and by Textual's Screen)
        app: Any

        def move_cursor_to(self, job_id: int) -> None: ...
        def _remove_rows(self, job_ids: list[int]) -> None: ...
        def _mark_changed(self, job_id: int) -> None: ...
        def _show_count(self) -> None: ...
        def _update_empty(self) -> None: ...
        def _show_selected(self) -> None: ...
        def _count(self, generation: int) -> Any: ...
        def action_back(self) -> None: ...
        def _apply_search(self) -> None: ...

    def _require_job(self) -> Job | None:
        job = self.view.current
        if job is None:
            self.app.notify("Select a job first.", severity="warning")
        return job

    def _targets(self) -> list[Job]:
        targets = self.view.targets()
        if not targets:
            self._require_job()
        return targets

    # ---------------------------------------------------------------- marks, compare, view
    def action_toggle_mark(self) -> None:
        """Mark or unmark the job under the cursor, then step on (Space, Space, Space marks a run)."""
        job = self._require_job()
        if job is None:
            return
        self.view.toggle_mark(job)
        self._mark_changed(job.id)
        following = self.view.cursor + 1
        if following < len(self.view.jobs):
            self.move_cursor_to(self.view.jobs[following].id)
        else:
            self.move_cursor_to(job.id)  # the last one: stay, but draw the mark

    def clear_marks(self) -> None:
        for job_id in self.view.clear_marks():
            self._mark_changed(job_id)
        self._show_count()
        current = self.view.current
        if current is not None:
            self.move_cursor_to(current.id)

    def action_compare(self) -> None:
        """The marked jobs side by side; one marked job is compared with the one under the cursor."""
        jobs, sentence = self.view.compared(MAX_COMPARED)
        if sentence:
            self.app.notify(sentence, severity="warning")
        if not jobs:
            return
        from seedream_tui.tui.screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(jobs))

    def action_view(self) -> None:
        """The job under the cursor full screen; the viewer walks the jobs loaded here, in their order."""
        job = self._require_job()
        if job is None:
            return
        from seedream_tui.tui.screens.viewer import ViewerScreen

        index = self.view.index_of(job.id) or 0
        self.app.push_screen(ViewerScreen(list(self.view.jobs), index, moved=lambda shown: self.move_cursor_to(shown.id)))

    def action_load(self) -> None:
        job = self._require_job()
        if job is None:
            return
        from seedream_tui.tui.messages import LoadIntoEditor

        self.app.post_message(LoadIntoEditor(job))
        self.action_back()

    def action_edit_result(self) -> None:
        job = self._require_job()
        if job is None:
            return
        if not job.outputs:
            self.app.notify(f"Job #{job.id} has no result to edit.", severity="warning")
            return
        from seedream_tui.tui.messages import EditResult

        self.app.post_message(EditResult(job))

    def action_animate_result(self) -> None:
        job = self._require_job()
        if job is None:
            return
        from seedream_tui.tui.formatting import is_image

        if not any(is_image(o) and o.path for o in job.outputs):
            self.app.notify(f"Job #{job.id} has no image to animate.", severity="warning")
            return
        from seedream_tui.tui.messages import AnimateResult

        self.app.post_message(AnimateResult(job))

    # ---------------------------------------------------------------- batches
    def _require_batch(self) -> int | None:
        job = self._require_job()
        if job is None:
            return None
        if job.batch_id is None:
            self.app.notify(f"Job #{job.id} is not part of a batch.", severity="warning")
        return job.batch_id

    def action_open_batch(self) -> None:
        batch_id = self._require_batch()
        if batch_id is not None:
            from seedream_tui.tui.screens.sheet import BatchSheetScreen

            self.app.push_screen(BatchSheetScreen(self.core, batch_id))

    def action_filter_batch(self) -> None:
        """``batch:N`` in the search box, applied at once (the other words typed there stay)."""
        batch_id = self._require_batch()
        if batch_id is None:
            return
        from textual.widgets import Input

        from seedream_tui.jobs.store_query import split_batch

        box = self.query_one("#history-search", Input)  # type: ignore[attr-defined]
        rest, _ = split_batch(box.value)
        box.value = f"{rest} batch:{batch_id}".strip() if rest else f"batch:{batch_id}"
        self._apply_search()

    # ---------------------------------------------------------------- re-run
    def action_rerun(self) -> None:
        """Submit the job's input again; with jobs marked, each of them. Paid: always after one question with the
        price (one key never spends money); the demo asks only for several jobs, its prices marked as not charged."""
        jobs = self._targets()
        if not jobs:
            return
        ids = [job.id for job in jobs]
        cost = total_sentence(quote_job(self.core.registry, job.model_id, job.inputs) for job in jobs)
        if self.core.demo:
            if len(ids) == 1:  # free: no question for one job
                self._rerun(ids)
                return
            question = (f"Submit the {len(ids)} marked jobs again? Each one is a new generation "
                        f"(demo prices, not charged: {cost}).")
        else:
            what = f"job #{ids[0]}" if len(ids) == 1 else f"the {len(ids)} marked jobs"
            question = f"Submit {what} again? Each one is a new generation, paid as such: {cost}."

        def done(yes: bool | None) -> None:
            if yes:
                self._rerun(ids)

        self.app.push_screen(ConfirmScreen(question, yes_label="Re-run"), done)

    @work(group="history-action", exit_on_error=False)
    async def _rerun(self, job_ids: list[int]) -> None:
        made: list[tuple[int, int]] = []
        for job_id in job_ids:
            try:
                new = await self.core.rerun(job_id)
            except Exception as exc:  # noqa: BLE001 - say so, and submit nothing more after a refusal
                self.app.notify(error_sentence(f"re-run job #{job_id}", exc), severity="error")
                break
            made.append((job_id, new.id))
        if len(made) == 1:
            self.app.notify(f"Job #{made[0][0]} submitted again as job #{made[0][1]}.")
        elif made:
            self.app.notify(f"Submitted {len(made)} jobs again: #{made[0][1]} to #{made[-1][1]}.")

    # ---------------------------------------------------------------- export
    def action_export(self) -> None:
        jobs = self._targets()
        if not jobs:
            return
        with_files = [job for job in jobs if any(f.path for f in job.outputs)]
        if not with_files:
            sentence = (
                f"Job #{jobs[0].id} has no downloaded image to export."
                if len(jobs) == 1
                else "None of the marked jobs has a downloaded image to export."
            )
            self.app.notify(sentence, severity="warning")
            return
        default = self.last_export_dir or default_export_dir()
        what = f"job #{jobs[0].id}" if len(jobs) == 1 else f"the {len(jobs)} marked jobs"
        message = f"Export the images of {what} to this folder (created if missing):"
        ids = [job.id for job in with_files]

        def done(folder: str | None) -> None:
            if folder:
                self._export(ids, Path(folder).expanduser())

        self.app.push_screen(PromptScreen(message, str(default), ok_label="Export"), done)

    @work(group="history-action", exit_on_error=False)
    async def _export(self, job_ids: list[int], dest: Path) -> None:
        try:
            written = await self.core.export(job_ids, dest)
        except Exception as exc:  # noqa: BLE001
            self.app.notify(error_sentence(f"export to {dest}", exc), severity="error")
            return
        self.last_export_dir = dest  # remembered while the app runs (it keeps one history screen): the next export offers it
        noun = "file" if len(written) == 1 else "files"
        question = f"Exported {len(written)} {noun} to {dest}. Copy the folder's path?"

        def copy(yes: bool | None) -> None:
            if yes:
                self.app.copy_to_clipboard(str(dest))
                self.app.notify(clipboard_sentence("the folder's path"))

        self.app.push_screen(ConfirmScreen(question, yes_label="Copy path", no_label="Done"), copy)

    # ---------------------------------------------------------------- delete
    def action_delete(self) -> None:
        jobs = self._targets()
        if not jobs:
            return
        files = sum(1 for job in jobs for f in job.outputs if f.path)
        if len(jobs) == 1:
            extra = f" and its {files} image file{'s' if files != 1 else ''}" if files else ""
            question = f"Delete job #{jobs[0].id}{extra}? This cannot be undone."
        else:
            extra = f" and their {files} image file{'s' if files != 1 else ''}" if files else ""
            question = f"Delete the {len(jobs)} marked jobs{extra}? This cannot be undone."
        ids = [job.id for job in jobs]

        def done(yes: bool | None) -> None:
            if yes:
                self._delete(ids)

        self.app.push_screen(ConfirmScreen(question, yes_label="Delete"), done)

    @work(group="history-action", exit_on_error=False)
    async def _delete(self, job_ids: list[int]) -> None:
        deleted: list[int] = []
        try:
            for job_id in job_ids:
                await self.core.delete(job_id)
                deleted.append(job_id)
                self._remove_rows([job_id])
        except Exception as exc:  # noqa: BLE001
            self.app.notify(error_sentence("delete this job" if len(job_ids) == 1 else "delete those jobs", exc),
                        severity="error")
        if deleted:
            self.app.post_message(JobsDeleted(tuple(deleted)))  # every other view drops them too
            names = f"job #{deleted[0]}" if len(deleted) == 1 else f"{len(deleted)} jobs"
            self.app.notify(f"Deleted {names}.")
        self._count(self.view.generation)
        self._show_count()
        self._update_empty()
        self._show_selected()

    # ---------------------------------------------------------------- clipboard
    def _copy(self, what: str, pick: Callable[[OutputFile], str | None], missing: str) -> None:
        """Copy one value per output file of the target jobs to the clipboard (OSC 52), or say there is none."""
        jobs = self._targets()
        if not jobs:
            return
        values = [value for job in jobs for f in job.outputs if (value := pick(f))]
        if not values:
            which = f"Job #{jobs[0].id} has" if len(jobs) == 1 else "The marked jobs have"
            self.app.notify(f"{which} {missing}", severity="warning")
            return
        self.app.copy_to_clipboard("\n".join(values))
        self.app.notify(clipboard_sentence(f"the {what}" if len(values) == 1 else f"{len(values)} {what}s"))

    def action_copy_path(self) -> None:
        self._copy("path", lambda f: f.path, "no downloaded image yet.")

    def action_copy_url(self) -> None:
        self._copy("URL", lambda f: f.url, "no image URL yet.")
