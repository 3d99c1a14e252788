"""The batch rows under the options (issue 21): a Repeat count and a Sweep over one option's values.

Three rows styled as the fields above them: **Repeat** (1 … :data:`MAX_REPEAT`), **Sweep** (which option) and
**Values** (that option's values, comma-separated). What they make is a :class:`PlanRequest`'s ``repeat`` and
``sweeps``; the values are read as the schema's types and checked against the schema here, so a value the
schema refuses is a sentence (``PlanError`` naming the field) before anything is planned or sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.validation import Integer
from textual.widgets import Input, Label, Select, Static

from seedream_tui.batch import MAX_JOBS
from seedream_tui.safetext import quoted
from seedream_tui.schema import coerce_value, validate_input
from seedream_tui.schema.spec import FieldKind, FieldSpec, ModelSpec
from seedream_tui.tui.compat import MountGuardedSelect
from seedream_tui.tui.plain import plain_line

if TYPE_CHECKING:
    from seedream_tui.batch.planner import PlanError, Sweep

MAX_REPEAT = MAX_JOBS
#: the kinds whose values can be typed in a list: one value each, no commas of their own
SWEEPABLE = (FieldKind.ENUM, FieldKind.INTEGER, FieldKind.NUMBER, FieldKind.BOOLEAN, FieldKind.STRING)

HELP = {
    "batch-repeat": "Repeat: submit this many jobs of the same input (1 … {max}); with the Sweep, each combination "
                    "this many times. ctrl+s shows the whole batch and its price before anything is sent.",
    "batch-sweep-key": "Sweep: one submit over several values of this option (an X/Y grid with the prompt's "
                       "{{a|b}} variants). Type the values in the row under it.",
    "batch-sweep-values": "Values of the swept option, comma-separated (e.g. {example}); each is checked against "
                          "the model's schema.",
}


def sweepable(spec: ModelSpec, prompt_name: str | None) -> list[FieldSpec]:
    """The options a sweep can go over: single values (no images, no lists), more than one possible value."""
    return [
        f for f in spec.fields
        if f.name != prompt_name and f.kind in SWEEPABLE and not (f.kind is FieldKind.ENUM and len(f.choices or ()) < 2)
    ]  # fmt: skip


def example_values(field: FieldSpec) -> str:
    """A hint of what to type: the first choices, or a few numbers within the bounds."""
    if field.kind is FieldKind.ENUM:
        choices = [str(c) for c in field.choices or ()]
        return ", ".join(choices[:3]) + (", …" if len(choices) > 3 else "")
    if field.kind is FieldKind.BOOLEAN:
        return "true, false"
    if field.kind is FieldKind.INTEGER:
        low = int(field.minimum) if field.minimum is not None else 1
        return f"{low}, {low + 1}, {low + 2}"
    if field.kind is FieldKind.NUMBER:
        return "0.5, 1, 1.5"
    return "one, other"


def parse_sweep(spec: ModelSpec, key: str | None, text: str, base: dict[str, Any]) -> Sweep | None:
    """The sweep the rows describe (None when there is none); PlanError (a sentence, ``field=key``) when a value
    cannot be read as the option's type or the schema refuses it with the other options as they are."""
    from seedream_tui.batch.planner import (  # the planner when a sweep is read, not at start-up
        PlanError,
        Sweep,
    )

    parts = [part.strip() for part in text.split(",")]
    parts = [part for part in parts if part]
    if not key:
        if parts:
            raise PlanError("Choose the option to sweep in the Sweep row, or clear its values.", field="sweep")
        return None
    try:
        field = spec.field(key)
    except KeyError:
        raise PlanError(f"The model has no option {quoted(key)} to sweep.", field=key) from None
    title = field.title or field.name
    if not parts:
        raise PlanError(f"Type the values of {title} to sweep, comma-separated (e.g. {example_values(field)}).",
                        field=key)
    effective = {**spec.defaults(), **base}
    if not field.applies(effective) and field.depends_on is not None:
        wanted = " or ".join(str(v) for v in field.depends_on.values)
        raise PlanError(f"{title} applies only when {field.depends_on.field} is {wanted}: set that first, "
                        "or sweep another option.", field=key)
    values: list[Any] = []
    for part in parts:
        try:
            value = coerce_value(field, part)
        except ValueError as exc:
            raise PlanError(f"The sweep value {quoted(part)} is refused: {exc}", field=key) from None
        error = validate_input(spec, {**base, key: value}).errors.get(key)
        if error:
            raise PlanError(f"The sweep value {quoted(part)} is refused: {error}", field=key)
        if value not in values:
            values.append(value)
    return Sweep(key, tuple(values))


class BatchRows(Vertical):
    """Repeat, Sweep, Values: the rows that make one submit several jobs."""

    class Changed(Message):
        """A batch row changed (the main screen shows how many jobs a submit would make)."""

    DEFAULT_CSS = """
    BatchRows { height: auto; border-top: dashed $primary-background-lighten-2; }
    """

    def __init__(self, spec: ModelSpec, prompt_name: str | None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spec = spec
        self._fields = {f.name: f for f in sweepable(spec, prompt_name)}

    def compose(self) -> ComposeResult:
        with Vertical(classes="field batch-field", id="batch-repeat-field"):
            with Horizontal(classes="field-row"):
                yield Label("Repeat", classes="field-label")
                yield Input(placeholder="1", type="integer", validators=[Integer(1, MAX_REPEAT)], compact=True,
                            id="batch-repeat", classes="field-control")
            yield Static("", classes="field-error")
        with Vertical(classes="field batch-field", id="batch-sweep-field"):
            with Horizontal(classes="field-row"):
                yield Label("Sweep", classes="field-label")
                # option titles come from schema files and the server: plain text, never markup
                options = [(plain_line(f.title or f.name), f.name) for f in self._fields.values()]
                yield MountGuardedSelect(options, prompt="none", allow_blank=True, compact=True,
                                         id="batch-sweep-key", classes="field-control")
            with Horizontal(classes="field-row"):
                yield Label("Values", classes="field-label")
                yield Input(placeholder="choose an option first", compact=True, id="batch-sweep-values",
                            classes="field-control")
            yield Static("", classes="field-error")

    def on_mount(self) -> None:
        # none when the field was removed while it mounted (its screen closed, the app quitting at start)
        for select in self.query(Select).results(Select):
            self.watch(select, "expanded", self._expanded, init=False)

    def _expanded(self, expanded: bool) -> None:
        panel = next((node for node in self.ancestors if hasattr(node, "bound_dropdown")), None)
        if expanded and panel is not None:
            panel.bound_dropdown(self.query_one(Select))

    def set_label_width(self, cells: int) -> None:
        for label in self.query(".field-label"):
            label.styles.width = cells

    # --- reading -------------------------------------------------------------------------------------------
    def _child(self, selector: str, kind: type[Any]) -> Any:
        """A row's control, or None while the rows are not composed yet (or being removed): the quote under
        the options is asked for on every change, also in the frame where a model switch rebuilds the panel."""
        try:
            return self.query_one(selector, kind)
        except NoMatches:
            return None

    @property
    def repeat_text(self) -> str:
        control = self._child("#batch-repeat", Input)
        return control.value.strip() if control is not None else ""

    @property
    def sweep_key(self) -> str | None:
        select = self._child("#batch-sweep-key", Select)
        return None if select is None or select.is_blank() else str(select.value)

    @property
    def sweep_text(self) -> str:
        control = self._child("#batch-sweep-values", Input)
        return control.value if control is not None else ""

    @property
    def used(self) -> bool:
        """Anything set that could make more than one job."""
        return self.repeat_text not in ("", "1") or self.sweep_key is not None or bool(self.sweep_text.strip())

    def count_hint(self) -> int:
        """How many jobs the rows would make (read loosely: a bad value counts as one; the submit says why)."""
        try:
            repeat = max(1, min(int(self.repeat_text or "1"), MAX_REPEAT))
        except ValueError:
            repeat = 1
        values = {part.strip() for part in self.sweep_text.split(",") if part.strip()} if self.sweep_key else set()
        return repeat * max(1, len(values))

    def repeat(self) -> int:
        """The repeat count; PlanError (a sentence) when it is not a whole number from 1 to MAX_REPEAT."""
        text = self.repeat_text
        if not text:
            return 1
        try:
            count = int(text)
        except ValueError:
            count = 0
        if not 1 <= count <= MAX_REPEAT:
            from seedream_tui.batch.planner import PlanError

            raise PlanError(f"Repeat takes a whole number from 1 to {MAX_REPEAT:,}, not {quoted(text)}.",
                            field="repeat")
        return count

    def sweeps(self, base: dict[str, Any]) -> tuple[Sweep, ...]:
        sweep = parse_sweep(self.spec, self.sweep_key, self.sweep_text, base)
        return (sweep,) if sweep is not None else ()

    # --- writing ---------------------------------------------------------------------------------------------
    def set_values(self, *, repeat: int | None = None, key: str | None = None, values: str | None = None) -> None:
        """Set the rows (tests, and a re-run of a batch)."""
        if repeat is not None:
            self.query_one("#batch-repeat", Input).value = str(repeat)
        if key is not None:
            self.query_one("#batch-sweep-key", Select).value = key
        if values is not None:
            self.query_one("#batch-sweep-values", Input).value = values

    def show_error(self, error: PlanError | None) -> None:
        """The sentence under the row at fault (the repeat count, or the sweep), or none."""
        where = None
        if error is not None:
            where = "batch-repeat-field" if error.field == "repeat" else "batch-sweep-field"
            if error.field not in ("repeat", "sweep", self.sweep_key):
                where = None  # a field of the panel (or the prompt): said there, not here
        for box in self.query(".batch-field"):
            message = str(error) if error is not None and box.id == where else ""
            box.set_class(bool(message), "-invalid")
            box.query_one(".field-error", Static).update(Text(message))
            if message:
                self.call_after_refresh(box.scroll_visible, animate=False)  # the sentence in view, under its row

    def help_for(self, widget_id: str | None) -> str | None:
        """The help line for a focused row (the panel shows it under the fields)."""
        text = HELP.get(widget_id or "")
        if text is None:
            return None
        key = self.sweep_key
        example = example_values(self._fields[key]) if key in self._fields else "2K, 3K"
        return text.format(max=f"{MAX_REPEAT:,}", example=example)

    @on(Select.Changed, "#batch-sweep-key")
    def _key_changed(self, event: Select.Changed) -> None:
        event.stop()  # not the main screen's model picker
        key = self.sweep_key
        values = self.query_one("#batch-sweep-values", Input)
        values.placeholder = example_values(self._fields[key]) if key in self._fields else "choose an option first"
        self.show_error(None)
        self.post_message(self.Changed())

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.show_error(None)
        self.post_message(self.Changed())
