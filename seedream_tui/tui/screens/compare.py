"""Two to four jobs side by side: their images, and their inputs with the differences picked out.

Opened from the history: mark jobs with Space, then ``v`` (one marked job is compared with the job under
the cursor). A user tuning a prompt wants to see what changed between two renders, so the input rows
whose values are not the same in every job come first and stand out; the rows that agree follow,
dimmed, so nothing is hidden. Jobs still running update in place.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from seedream_tui.jobs.media_inputs import shorten_data_uris
from seedream_tui.jobs.model import Job
from seedream_tui.safetext import visible
from seedream_tui.tui import images
from seedream_tui.tui.compat import OneLayoutPerResize
from seedream_tui.tui.formatting import fmt_duration, fmt_short_time, job_badge, short_model, status_text
from seedream_tui.tui.widgets.job_preview import JobPreview
from seedream_tui.tui.widgets.keyhints import KeyHints

#: shown for an input a job did not send (the model's default applied)
NOT_SET = "(default)"


def _value_text(value: Any) -> str:
    value = shorten_data_uris(value)  # an image input sent inline is megabytes of base64
    if value is None:
        return "null"
    if isinstance(value, str):
        return visible(value, multiline=True)
    return visible(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _image_sizes(job: Job) -> str:
    sizes = [f"{f.width}×{f.height}" for f in job.outputs if f.width and f.height]
    if not sizes:
        return "no image" if job.status.terminal else "not yet"
    if len(sizes) == 1:
        return sizes[0]
    return f"{len(sizes)} of {sizes[0]}" if len(set(sizes)) == 1 else ", ".join(sizes)


#: facts about each job and its result, below its inputs: (label, how to read it off a job, whether a
#: difference is worth pointing out: a different model is, a different creation time never helps)
RESULT_FACTS: list[tuple[str, Callable[[Job], str], bool]] = [
    ("model", lambda job: visible(short_model(job.model_id)), True),
    ("status", lambda job: job.status.label, True),
    ("images", _image_sizes, True),
    ("took", lambda job: fmt_duration(job.submitted_at or job.created_at, job.finished_at) or "—", False),
    ("created", lambda job: fmt_short_time(job.created_at), False),
]


def input_rows(jobs: list[Job]) -> list[tuple[str, list[str], bool]]:
    """(input name, each job's value as text, whether they differ): the differing rows first, the prompt
    first among equals, then by name. An input one job did not send shows as "—"."""
    keys = sorted({key for job in jobs for key in job.inputs}, key=lambda k: (k != "prompt", k))
    rows = []
    for key in keys:
        values = [_value_text(job.inputs[key]) if key in job.inputs else NOT_SET for job in jobs]
        rows.append((key, values, len(set(values)) > 1))
    return sorted(rows, key=lambda row: not row[2])  # stable: keeps the prompt-then-name order in each group


def _summary(job: Job) -> Text:
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(f"#{job.id} ", style="bold")
    out.append_text(status_text(job.status))
    out.append(f"  {fmt_short_time(job.created_at)}", style="dim")
    if badge := job_badge(job):
        out.append(f"  {badge}", style="bold")
    return out


class CompareScreen(OneLayoutPerResize[None]):
    """Read-only: Esc goes back to the history, where the marks and the cursor are as they were."""

    DEFAULT_CSS = """
    CompareScreen #compare-title { height: 1; padding: 0 1; background: $boost; }
    CompareScreen #compare-images { height: 1fr; min-height: 6; }
    CompareScreen #compare-images JobPreview { width: 1fr; border-left: vkey $primary-darken-2; }
    CompareScreen #compare-images JobPreview.-first { border-left: none; }
    CompareScreen #compare-images JobPreview #preview-info { margin-bottom: 0; }
    CompareScreen #compare-table-box { height: auto; max-height: 50%; border-top: hkey $primary-darken-2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="compare-back"),
        Binding("f", "view", "View", id="compare-view", tooltip="View the compared images full screen (←/→ step)"),
    ]

    def __init__(self, jobs: list[Job]) -> None:
        super().__init__()
        self.jobs = list(jobs)

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="compare-title")
        with Horizontal(id="compare-images"):
            for i, job in enumerate(self.jobs):
                preview = JobPreview(id=f"compare-{job.id}", summary=_summary)
                if i == 0:
                    preview.add_class("-first")
                yield preview
        with VerticalScroll(id="compare-table-box"):
            yield Static(self.table(), id="compare-table")
        yield KeyHints()

    def on_screen_suspend(self) -> None:
        images.wipe_graphics(self.app)  # no sixel fragment stays on the screen below

    def on_mount(self) -> None:
        self.title = "Compare"
        for job in self.jobs:
            self.query_one(f"#compare-{job.id}", JobPreview).show(job)
        self.query_one("#compare-table-box").focus()

    def _title(self) -> Text:
        ids = ", ".join(f"#{job.id}" for job in self.jobs)
        differing = sum(1 for _key, _values, differs in input_rows(self.jobs) if differs)
        title = Text(f"Comparing jobs {ids}: ", style="bold")
        if differing:
            phrase = "1 input differs" if differing == 1 else f"{differing} inputs differ"
            title.append(phrase, style="bold yellow")
        else:
            title.append("the same input", style="bold green")
        return title

    def table(self) -> Table:
        """The inputs (differences first and highlighted) and the results, one column per job."""
        table = Table(expand=True, box=None, pad_edge=False, show_edge=False, padding=(0, 1))
        table.add_column("", style="dim", no_wrap=True)
        for job in self.jobs:
            table.add_column(f"#{job.id}", ratio=1, overflow="fold", header_style="bold")

        def row(label: str, values: list[str], differs: bool, style: str = "dim") -> None:
            if differs:
                table.add_row(Text(f"≠ {label}", style="bold yellow"), *(Text(v, style="bold") for v in values))
            else:
                table.add_row(Text(f"  {label}"), *(Text(v, style=style) for v in values))

        for key, values, differs in input_rows(self.jobs):
            row(visible(key), values, differs)
        table.add_row("", *("" for _ in self.jobs))
        for label, read, point_out in RESULT_FACTS:
            values = [read(job) for job in self.jobs]
            row(label, values, point_out and len(set(values)) > 1, style="")
        return table

    def on_job_changed(self, message: Any) -> None:
        """A compared job still running: follow it (the app forwards every change to open screens)."""
        job = getattr(message, "job", None)
        if not isinstance(job, Job):
            return
        for i, shown in enumerate(self.jobs):
            if shown.id == job.id and shown != job:
                self.jobs[i] = job
                self.query_one(f"#compare-{job.id}", JobPreview).show(job)
                self.query_one("#compare-table", Static).update(self.table())
                self.query_one("#compare-title", Static).update(self._title())

    def action_view(self) -> None:
        from seedream_tui.tui.screens.viewer import ViewerScreen

        self.app.push_screen(ViewerScreen(self.jobs, 0))

    def action_close(self) -> None:
        self.dismiss(None)
