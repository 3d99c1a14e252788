"""One small widget class per schema field kind (the harlequin ``options.py`` idea).

Each :class:`FieldWidget` is a row: a label, the control for its kind, and an error line under it. It knows how
to read its value (typed when it can be, the raw text when it cannot, so the validator can say what is wrong) and
how to set one. Adding a model is a new schema file: the kind decides the widget, never the field name.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Region
from textual.message import Message
from textual.validation import Integer, Number
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Select, Static, Switch, TextArea

from seedream_tui.schema.spec import FieldKind, FieldSpec
from seedream_tui.tui.compat import MountGuardedSelect
from seedream_tui.tui.plain import plain, plain_line

#: the label column: as wide as the longest label needs, up to a share of the panel's width or what leaves the
#: controls their room, whichever is more (it was 15 cells at every width: "Sequential im…" even at 200 columns)
LABEL_SHARE = 0.45
CONTROL_LEAST = 20
LABEL_LEAST = 8
LABEL_DEFAULT = 15


def label_cells(titles: list[str], width: int) -> int:
    """The label column's width for a panel ``width`` cells wide whose labels are ``titles``."""
    longest = max((cell_len(title) for title in titles), default=0) + 1  # and the padding after it
    if width <= 0:
        return min(longest, LABEL_DEFAULT)
    return max(LABEL_LEAST, min(longest, max(int(width * LABEL_SHARE), width - CONTROL_LEAST)))


def bound_overlay(select: Select[Any], bounds: Region, *, left: int = 0) -> None:
    """Keep an expanded Select's list inside ``bounds`` (its panel): as tall as the room under the Select,
    scrolling within it, and ``left`` cells wider to the left, over the label column (else its values stood
    beside other fields' labels). Textual's overlay spilled over the panel's border, the tabs and the jobs."""
    room = bounds.bottom - select.region.bottom
    for overlay in select.query(OptionList):  # the dropdown (Textual's SelectOverlay, an OptionList)
        overlay.styles.max_height = max(3, min(12, room))
        overlay.styles.width = select.region.width + left if left else "1fr"
        overlay.styles.offset = (-left, 0)


class FieldWidget(Vertical):
    """Base of the field widgets: label + control + error line. Subclasses build the control and map values."""

    class ValueChanged(Message):
        """The user changed this field's value (the panel re-checks dependencies and validation)."""

        def __init__(self, field: FieldWidget) -> None:
            super().__init__()
            self.field = field

        @property
        def control(self) -> FieldWidget:
            return self.field

    KINDS: ClassVar[tuple[FieldKind, ...]] = ()

    def __init__(self, spec: FieldSpec, value: Any = None) -> None:
        super().__init__(id=f"field-{spec.name}", classes="field")
        self.spec = spec
        self._initial = value
        self._error = ""
        #: the label column's width (the panel sets it for its width: see :func:`label_cells`)
        self.label_width = LABEL_DEFAULT

    @property
    def title(self) -> str:
        return self.spec.title + (" *" if self.spec.required else "")

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-row"):
            label = Label(plain_line(self.title), classes="field-label")
            label.styles.width = self.label_width
            yield label
            yield self.make_control()
        yield Static(plain(self._error), classes="field-error")

    def set_label_width(self, cells: int) -> None:
        """Put the label column at ``cells`` (the thumbnails under a media field start there too)."""
        self.label_width = cells
        for label in self.query(".field-label"):
            label.styles.width = cells
        for strip in self.query(".field-thumbs"):
            strip.styles.padding = (0, 0, 0, cells)

    def on_mount(self) -> None:
        self.tooltip = plain(self.spec.help) if self.spec.help else None
        if self._initial is not None:
            self.set_value(self._initial)

    # --- to override -------------------------------------------------------------------------------
    def make_control(self) -> Widget:
        raise NotImplementedError

    def get_value(self) -> Any:
        """The value to send, or None when the field is empty."""
        raise NotImplementedError

    def _set(self, value: Any) -> None:
        raise NotImplementedError

    # --- shared ------------------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return bool(self.query(".field-control"))

    def value(self) -> Any:
        """``get_value()``, or the initial value while the control is not composed yet."""
        return self.get_value() if self.ready else self._initial

    def set_value(self, value: Any) -> None:
        """Set the value (the control's change event follows; re-checking the panel is idempotent)."""
        if not self.ready:
            self._initial = value
            return
        self._set(value)

    def _changed(self) -> None:
        self.post_message(self.ValueChanged(self))

    def show_error(self, message: str | None) -> None:
        """Show (or clear, with None) the sentence saying what is wrong with this field."""
        self._error = message or ""
        for error in self.query(".field-error").results(Static):
            error.update(plain(self._error))
        self.set_class(bool(message), "-invalid")

    @property
    def error(self) -> str:
        """The sentence shown (or to be shown, before the field is composed) under the field."""
        return self._error


class EnumField(FieldWidget):
    KINDS = (FieldKind.ENUM,)

    def make_control(self) -> Widget:
        choices = self.spec.choices or ()
        allow_blank = not (self.spec.required or self.spec.has_default)
        return MountGuardedSelect(
            [(str(c), c) for c in choices],
            allow_blank=allow_blank,
            value=choices[0] if choices and not allow_blank else Select.NULL,
            compact=True,
            classes="field-control",
        )

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._changed()

    def on_mount(self) -> None:  # (the base class's on_mount runs too: Textual calls each class's handler)
        # none when the field was removed while it mounted (its screen closed, the app quitting at start)
        for select in self.query(Select).results(Select):
            self.watch(select, "expanded", self._expanded, init=False)

    def _expanded(self, expanded: bool) -> None:
        """The dropdown opens inside the options panel (the panel that holds this field decides the room)."""
        panel = next((node for node in self.ancestors if hasattr(node, "bound_dropdown")), None)
        if expanded and panel is not None:
            panel.bound_dropdown(self.query_one(Select))

    def get_value(self) -> Any:
        select = self.query_one(Select)
        return None if select.is_blank() else select.value

    def _set(self, value: Any) -> None:
        select = self.query_one(Select)
        choices = self.spec.choices or ()
        match = next((c for c in choices if c == value or str(c) == str(value)), None)
        if match is not None:
            select.value = match
        elif value is None and not (self.spec.required or self.spec.has_default):
            select.clear()


class TextInputField(FieldWidget):
    """One-line text: strings and media URLs."""

    KINDS: ClassVar[tuple[FieldKind, ...]] = (FieldKind.STRING, FieldKind.MEDIA)

    def make_control(self) -> Widget:
        # an image input takes a URL, a local file (sent inline) or a result from history (#12)
        placeholders = {FieldKind.MEDIA: "URL, file or #job", FieldKind.MEDIA_LIST: "URLs, files or #jobs, comma separated"}
        placeholder = placeholders.get(self.spec.kind, "")
        return Input(placeholder=placeholder, compact=True, classes="field-control")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._changed()

    def get_value(self) -> Any:
        text = self.query_one(Input).value.strip()
        return text or None

    def _set(self, value: Any) -> None:
        self.query_one(Input).value = "" if value is None else str(value)


class NumberField(TextInputField):
    """Integers and numbers: an Input that only takes digits, with the schema's bounds as validators."""

    KINDS = (FieldKind.INTEGER, FieldKind.NUMBER)

    def make_control(self) -> Widget:
        integer = self.spec.kind is FieldKind.INTEGER
        low, high = self.spec.minimum, self.spec.maximum
        validator = Integer(low, high) if integer else Number(low, high)
        bounds = f"{'' if low is None else _num(low)}…{'' if high is None else _num(high)}"
        return Input(
            type="integer" if integer else "number",
            validators=[validator],
            placeholder=bounds if bounds != "…" else "",
            compact=True,
            classes="field-control",
        )

    def get_value(self) -> Any:
        text = self.query_one(Input).value.strip()
        if not text:
            return None
        try:
            return int(text) if self.spec.kind is FieldKind.INTEGER else float(text)
        except ValueError:
            return text  # the validator says what is wrong with it


class BoolField(FieldWidget):
    KINDS = (FieldKind.BOOLEAN,)

    def make_control(self) -> Widget:
        return Switch(classes="field-control")

    def on_switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self._changed()

    def get_value(self) -> Any:
        return self.query_one(Switch).value

    def _set(self, value: Any) -> None:
        self.query_one(Switch).value = bool(value)


class LongTextField(FieldWidget):
    """Long text other than the prompt (negative prompts and the like)."""

    KINDS = (FieldKind.TEXT,)

    def make_control(self) -> Widget:
        return TextArea(soft_wrap=True, compact=True, classes="field-control field-textarea")

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._changed()

    def get_value(self) -> Any:
        text = self.query_one(TextArea).text.strip()
        return text or None

    def _set(self, value: Any) -> None:
        self.query_one(TextArea).text = "" if value is None else str(value)


class ListField(TextInputField):
    """Arrays (media lists and others), written comma separated."""

    KINDS: ClassVar[tuple[FieldKind, ...]] = (FieldKind.MEDIA_LIST, FieldKind.LIST)

    def get_value(self) -> Any:
        text = self.query_one(Input).value.strip()
        if not text:
            return None
        return [part.strip() for part in text.split(",") if part.strip()]

    def _set(self, value: Any) -> None:
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        super()._set(value)


class JsonField(TextInputField):
    """Objects: raw JSON (rare; the validator reports what is wrong)."""

    KINDS = (FieldKind.OBJECT,)

    def get_value(self) -> Any:
        text = self.query_one(Input).value.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text

    def _set(self, value: Any) -> None:
        super()._set(value if isinstance(value, str) or value is None else json.dumps(value))


_BY_KIND: dict[FieldKind, type[FieldWidget]] = {
    kind: cls
    for cls in (EnumField, TextInputField, NumberField, BoolField, LongTextField, ListField, JsonField)
    for kind in cls.KINDS
}


def field_widget_for(spec: FieldSpec, value: Any = None) -> FieldWidget:
    """The widget for a field spec, chosen by its kind."""
    if spec.kind in (FieldKind.MEDIA, FieldKind.MEDIA_LIST):  # image inputs: with thumbnails (own module)
        from seedream_tui.tui.widgets.media_field import media_field_for

        return media_field_for(spec, value)
    return _BY_KIND[spec.kind](spec, value)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
