"""The options panel: one field widget per schema field (except the prompt, which is the editor).

Generated from a :class:`ModelSpec`, so a new model needs a schema file, not code. The panel keeps
dependent fields disabled while their condition is unmet, shows the focused field's help text, and
shows validation sentences at the fields.

The main screen's first panel is built *after* its first frame (``deferred``): its fields are most of that
screen's widgets, and the user cannot tell the 50 ms. Until then the panel answers from the field objects it
already holds (their values are the initial ones), so nothing that reads or sets values has to wait.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Select, Static

from seedream_tui.schema.spec import FieldKind, FieldSpec, ModelSpec
from seedream_tui.schema.validate import validate_input
from seedream_tui.tui.plain import plain, plain_line
from seedream_tui.tui.widgets.batch_rows import BatchRows
from seedream_tui.tui.widgets.fields import FieldWidget, bound_overlay, field_widget_for, label_cells


def prompt_field(spec: ModelSpec) -> FieldSpec | None:
    """The field the prompt editor edits: ``prompt`` if there is one, else the first long-text field."""
    for f in spec.fields:
        if f.name == "prompt":
            return f
    return next((f for f in spec.fields if f.kind is FieldKind.TEXT), None)


def initial_values(spec: ModelSpec, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Schema defaults overridden by the user's saved defaults for this model (unknown names ignored)."""
    values = spec.defaults()
    names = {f.name for f in spec.fields}
    values.update({k: v for k, v in (overrides or {}).items() if k in names})
    return values


class OptionsPanel(Vertical):
    """The fields of one model. ``values()`` reads them; ``show_errors()`` puts sentences at the fields."""

    def __init__(
        self, spec: ModelSpec, overrides: dict[str, Any] | None = None, *, id: str | None = None, deferred: bool = False
    ) -> None:
        super().__init__(id=id)
        self.spec = spec
        self._initial = initial_values(spec, overrides)
        prompt = prompt_field(spec)
        self._prompt_name = prompt.name if prompt else None
        self._changed: set[FieldWidget] = set()
        self._recheck_pending = False
        #: the field widgets, made now (cheap) and mounted in compose, or after the first frame when deferred
        self._fields = [
            field_widget_for(f, self._initial.get(f.name)) for f in spec.fields if f.name != self._prompt_name
        ]
        #: Repeat and Sweep under the fields (issue 21): not fields of the model, not in ``values()``
        self.batch_rows = BatchRows(spec, self._prompt_name, id="batch-rows")
        self._deferred = deferred
        #: True once the fields are mounted (at once, or after the first frame when deferred)
        self.built = not deferred

    def compose(self) -> ComposeResult:
        # not a Tab stop of its own: Tab goes from field to field, never to an invisible scroll container
        with VerticalScroll(id="fields", can_focus=False):
            if not self._deferred:
                yield from self._fields
                yield self.batch_rows
        yield Static("", id="field-help")

    def on_mount(self) -> None:
        self._show_help(None)
        if self._deferred:
            self.call_after_refresh(self._mount_fields)  # after the frame that shows the screen
        else:
            self.refresh_dependencies()
            self.call_after_refresh(self._fit_labels)

    async def _mount_fields(self) -> None:
        scroll = next(iter(self.query("#fields").results(VerticalScroll)), None)
        if not self.is_attached or scroll is None:  # gone (or going) before its first frame: the model switched
            return
        await scroll.mount_all([*self._fields, self.batch_rows])
        self.built = True
        self.refresh_dependencies()
        self._fit_labels()

    def on_resize(self) -> None:
        self._fit_labels()

    def _fit_labels(self) -> None:
        """The label column as a share of the panel's width (see ``fields.label_cells``)."""
        fields = self.query("#fields").results(VerticalScroll)
        scroll = next(fields, None)
        if scroll is None:  # resized before its children are composed, or while it is being removed
            return
        width = scroll.scrollable_content_region.width or self.size.width
        cells = label_cells([widget.title for widget in self._fields] + ["Repeat"], width)
        if self.batch_rows.is_mounted:
            self.batch_rows.set_label_width(cells)
        for widget in self._fields:
            if widget.label_width != cells or not widget.is_mounted:
                widget.set_label_width(cells)

    def bound_dropdown(self, select: Select[Any]) -> None:
        """An option's dropdown opens inside the panel: the field goes to the top of the list first, so the
        list has the most room under it."""
        field = next((node for node in select.ancestors if isinstance(node, FieldWidget)), None)
        for fields in self.query("#fields").results(VerticalScroll):
            if field is not None:
                fields.scroll_to_widget(field, top=True, animate=False, immediate=True)
        left = field.label_width if field is not None else 0
        bound_overlay(select, self.content_region, left=left)
        self.call_after_refresh(
            lambda: bound_overlay(select, self.content_region, left=left) if select.is_attached else None
        )

    # --- reading and writing -------------------------------------------------------------------------
    @property
    def fields(self) -> list[FieldWidget]:
        """Every field widget, mounted or (before a deferred panel is built) not yet."""
        return list(self._fields)

    def field(self, name: str) -> FieldWidget:
        for widget in self._fields:
            if widget.spec.name == name:
                return widget
        raise NoMatches(f"No field {name!r} in the options of {self.spec.key}")

    def values(self) -> dict[str, Any]:
        """The set values of the panel's fields (empty fields left out)."""
        out: dict[str, Any] = {}
        for widget in self.fields:
            value = widget.value()
            if value is not None:
                out[widget.spec.name] = value
        return out

    def load(self, values: dict[str, Any]) -> None:
        """Set fields from a job's inputs; fields the inputs do not name go back to their defaults."""
        for widget in self.fields:
            name = widget.spec.name
            widget.set_value(values.get(name, self._initial.get(name)))
        self.call_after_refresh(self.refresh_dependencies)

    def show_errors(self, errors: dict[str, str]) -> None:
        for widget in self.fields:
            widget.show_error(errors.get(widget.spec.name))

    # --- dependencies, live validation, help ------------------------------------------------------------
    def refresh_dependencies(self, extra: dict[str, Any] | None = None) -> None:
        """Disable fields whose ``depends_on`` is unmet, judged on the values over the schema defaults."""
        effective = {**self.spec.defaults(), **self.values(), **(extra or {})}
        for widget in self.fields:
            widget.disabled = not widget.spec.applies(effective)

    def check(self, prompt: str | None = None) -> dict[str, str]:
        """Validate and show the panel's errors; return every error (the prompt's too) by field name."""
        values = self.values()
        if self._prompt_name is not None and prompt is not None:
            values[self._prompt_name] = prompt
        result = validate_input(self.spec, values)
        self.show_errors(result.errors)
        return dict(result.errors)

    @on(FieldWidget.ValueChanged)
    def _value_changed(self, event: FieldWidget.ValueChanged) -> None:
        # coalesced: building the panel changes every field at once, and one check after them is enough
        self._changed.add(event.field)
        if not self._recheck_pending:
            self._recheck_pending = True
            self.call_after_refresh(self._recheck)

    def _recheck(self) -> None:
        self._recheck_pending = False
        changed, self._changed = self._changed, set()
        self.refresh_dependencies()
        # Live check of the panel's own fields only: an empty prompt is not worth a red line while typing.
        result = validate_input(self.spec, self.values())
        for widget in changed:
            if widget.is_attached:
                widget.show_error(result.errors.get(widget.spec.name))

    @on(events.DescendantFocus)
    def _focus_moved(self, event: events.DescendantFocus) -> None:
        node = event.widget
        while node is not None and not isinstance(node, FieldWidget):
            node = node.parent  # type: ignore[assignment]
        self._show_help(node.spec if isinstance(node, FieldWidget) else None)
        batch_help = self.batch_rows.help_for(event.widget.id) if self.batch_rows in event.widget.ancestors else None
        if batch_help is not None:
            self.query_one("#field-help", Static).update(plain(batch_help))
        # the help may have grown under the fields: keep the focused one in view
        self.call_after_refresh(event.widget.scroll_visible, animate=False)

    @on(events.DescendantBlur)
    def _focus_left(self) -> None:
        # once the focus has gone elsewhere (not to another field), the panel stops explaining a field
        self.call_after_refresh(self._clear_help_unless_focused)

    def _clear_help_unless_focused(self) -> None:
        if self.is_attached and not self.has_focus_within:
            self._show_help(None)

    def _show_help(self, spec: FieldSpec | None) -> None:
        help_line = self.query_one("#field-help", Static)
        if spec is None:
            help_line.update(Text("Focus a field to see its help.", style="dim"))
            return
        text = spec.help or "No help for this field."
        if spec.depends_on is not None and not spec.applies({**self.spec.defaults(), **self.values()}):
            values = " or ".join(str(v) for v in spec.depends_on.values)
            text += f" (Disabled until {spec.depends_on.field} is {values}.)"
        line = plain_line(spec.title, style="bold")
        line.append(": ").append_text(plain(text))
        help_line.update(line)
