"""The batch before paying (issue 21): how many jobs, each expanded prompt with its values and price, the total.

Shown for every plan of more than one job: in paid mode it is the confirmation (nothing is sent before Submit),
in the demo it is the plan's preview (its money labelled demo, as on the status line and the spend screen).
The jobs are the lines of one :class:`OptionList`: a plan of 1,000 jobs is 1,000 lines of one widget, drawn as
they scroll into view, never 1,000 widgets; the first 100 are there in the first frame, the rest are added in
chunks right after it. Prompts and values come from the user and from files: literal text
(``Content``), never markup.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from seedream_tui.batch.plan import BatchPlan, PlannedJob, axis_title
from seedream_tui.catalog.pricing import total_sentence
from seedream_tui.safetext import visible
from seedream_tui.tui.screens.confirm import fit_dialog

#: a prompt longer than this is cut in the list (the whole text is sent; the list is for reading)
PROMPT_CELLS = 400
#: the list's first lines, in the dialog's first frame; the rest follow in chunks after it (each line is wrapped
#: to the width to know its height: 1,000 at once held the first frame back by a third of a second)
FIRST_LINES = 100
CHUNK_LINES = 300


def varied(job: PlannedJob) -> str:
    """The values that made this job, other than the prompt itself: ``resolution 2K · repeat 2``."""
    parts = [f"{axis_title(key)} {value}" for key, value in job.variant.items() if key != "prompt"]
    return " · ".join(visible(part) for part in parts)


def job_line(job: PlannedJob, prompt_key: str = "prompt") -> Content:
    """One job of the list: its number and prompt, then under it its values and price (dim); literal text."""
    prompt = visible(str(job.inputs.get(prompt_key, "")))
    if len(prompt) > PROMPT_CELLS:
        prompt = prompt[: PROMPT_CELLS - 1] + "…"
    values = varied(job)
    tail = " · ".join(part for part in (values, job.quote.text) if part)
    return Content.assemble((f"{job.place + 1}. ", "bold"), Content(prompt or "(no prompt)"), "\n", (tail, "dim"))


def summary(plan: BatchPlan, *, demo: bool) -> Content:
    """``3 jobs · ≈ $0.09 in all (paid)``, the demo's saying it charges nothing, then the plan's notes."""
    money = total_sentence(job.quote for job in plan.jobs)
    label = "demo prices, not charged" if demo else "paid"
    lines = [Content.assemble((f"{plan.count:,} jobs", "bold"), f" · {money} ({label})")]
    if plan.quote.upper_bound:
        lines.append(Content.styled("“up to”: the model charges per image made, and the count is a maximum.", "dim"))
    for note in plan.notes:
        lines.append(Content.styled(visible(note), "dim"))
    return Content("\n").join(lines)


class PlanScreen(ModalScreen[bool]):
    """A batch's plan: Submit (y) sends it, Cancel (n, escape) sends nothing."""

    DEFAULT_CSS = """
    PlanScreen { align: center middle; }
    PlanScreen > #plan-box {
        width: 90%; max-width: 120; min-width: 30; height: 90%; max-height: 40;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    PlanScreen.-demo > #plan-box { border: thick $primary; }
    PlanScreen.-short > #plan-box { width: 100%; height: 100%; max-height: 100%; border: round $warning; padding: 0; }
    PlanScreen.-short.-demo > #plan-box { border: round $primary; }
    PlanScreen #plan-summary { width: 100%; height: auto; max-height: 5; }
    PlanScreen #plan-jobs { height: 1fr; min-height: 2; border: none; padding: 0; scrollbar-gutter: stable; }
    PlanScreen #plan-buttons { width: 100%; height: auto; align-horizontal: right; margin-top: 1; }
    PlanScreen.-short #plan-buttons { margin-top: 0; }
    PlanScreen Button { margin-left: 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Submit the batch", id="plan-submit"),
        Binding("n,escape", "answer(False)", "Cancel: send nothing", id="plan-cancel"),
    ]

    def __init__(self, plan: BatchPlan, *, demo: bool, prompt_key: str = "prompt") -> None:
        super().__init__()
        self.plan = plan
        self.demo = demo
        self.prompt_key = prompt_key

    def compose(self) -> ComposeResult:
        with Vertical(id="plan-box") as box:
            what = "Batch preview (demo)" if self.demo else "Submit this batch?"
            box.border_title = Content(f"{what} · {self.plan.count:,} jobs")
            if self.plan.source != "submit":  # a prompt file: its path
                box.border_subtitle = Content(visible(self.plan.source))
            yield Static(summary(self.plan, demo=self.demo), id="plan-summary", markup=False)
            # one widget for every job: lines drawn as they show, a 1,000-job plan opens at once
            yield OptionList(*self._options(0, FIRST_LINES), id="plan-jobs")
            with Horizontal(id="plan-buttons"):
                yield Button("Cancel (n)", id="plan-no", compact=True)
                yield Button("Submit (y)", id="plan-yes", variant="warning" if not self.demo else "primary",
                             compact=True)

    def on_mount(self) -> None:
        self.set_class(self.demo, "-demo")
        self._fit()
        # the list has the focus: arrows and page keys scroll the prompts; a stray enter sends nothing
        self.query_one(OptionList).focus()
        if self.plan.count > FIRST_LINES:
            self.call_after_refresh(self._fill, FIRST_LINES)

    def _options(self, start: int, stop: int) -> list[Option]:
        return [Option(job_line(job, self.prompt_key)) for job in self.plan.jobs[start:stop]]

    def _fill(self, start: int) -> None:
        """Add the next chunk of jobs to the list, then the next after the frame that shows it."""
        if not self.is_attached:
            return
        stop = start + CHUNK_LINES
        self.lines.add_options(self._options(start, stop))
        if stop < self.plan.count:
            self.call_after_refresh(self._fill, stop)

    @property
    def filled(self) -> bool:
        """Every job is in the list."""
        return self.lines.option_count == self.plan.count

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Compact under 20 rows; the buttons are one line at every size (the rows go to the jobs)."""
        fit_dialog(self)
        for button in self.query(Button):
            button.compact = True

    @property
    def lines(self) -> OptionList:
        return self.query_one("#plan-jobs", OptionList)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    @on(Button.Pressed, "#plan-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#plan-no")
    def _no(self) -> None:
        self.dismiss(False)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # enter on a job reads it; it never submits

