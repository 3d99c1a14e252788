"""Image inputs in the options panel: the text (URL, file path or ``#job``) and a small thumbnail per image.

The thumbnails are decoded and shrunk once, in a thread, a moment after typing pauses; a URL is not
fetched from the form (it would be a network call per keystroke), it shows as a "URL" chip instead. What is
sent is decided at submit (``seedream_tui.jobs.media_inputs``); this only shows what was chosen.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import os
import stat
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Input, Static

from seedream_tui.jobs.media_inputs import JOB_REF, MAX_FILE_BYTES
from seedream_tui.schema.spec import FieldKind, FieldSpec
from seedream_tui.tui.images import image_widget_class
from seedream_tui.tui.widgets.fields import FieldWidget, ListField, TextInputField
from seedream_tui.tui.widgets.file_pick import FilePickScreen, PathSuggester

#: at most this many thumbnails per field (more images are counted, not drawn)
MAX_THUMBS = 4
#: thumbnail size in pixels (about 10x4 cells in halfcell mode)
THUMB_BOX = (80, 64)
#: wait this long after the last keystroke before decoding
PAUSE = 0.3


class _Thumbnails(FieldWidget):
    """The thumbnail strip, path completion and the file picker, shared by the single and the list field (it
    comes first in their bases, so ``super()`` here reaches their text or list field)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+f", "pick_file", "Pick a file", id="field-pick-file",
                tooltip="Choose a local image for this input (sent inline as a data: URI)"),
    ]  # fmt: skip

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Horizontal(classes="field-thumbs")

    def make_control(self) -> Widget:
        control = super().make_control()
        if isinstance(control, Input):
            control.suggester = PathSuggester()
        return control

    def _changed(self) -> None:
        super()._changed()
        self.refresh_thumbs()

    def action_pick_file(self) -> None:
        def picked(path: str | None) -> None:
            if path is None:
                return
            if isinstance(self, MediaListField):
                self.set_value([*self.items(), path])
            else:
                self.set_value(path)

        self.app.push_screen(FilePickScreen(start_folder(self.items())), picked)

    def items(self) -> list[str]:
        value = self.get_value()
        values = value if isinstance(value, list) else [value]
        return [v for v in values if isinstance(v, str) and v.strip()]

    @work(group="field-thumbs", exclusive=True, exit_on_error=False)
    async def refresh_thumbs(self) -> None:
        await asyncio.sleep(PAUSE)  # debounce: a newer keystroke cancels this worker first
        items = self.items()
        paths = [await _local_path(self, item) for item in items[:MAX_THUMBS]]
        shown = await asyncio.to_thread(_thumbnails, items[:MAX_THUMBS], paths)
        await self._show(shown, len(items))

    async def _show(self, shown: list[Any], total: int) -> None:
        strip = self.query_one(".field-thumbs", Horizontal)
        await strip.remove_children()
        widget_class = image_widget_class()
        chips: list[Any] = []
        for item in shown:
            if isinstance(item, str) or widget_class is None:
                chips.append(Static(Text(item if isinstance(item, str) else "image"), classes="field-thumb-chip"))
            else:
                chips.append(widget_class(item, classes="field-thumb"))
        if total > len(shown):
            chips.append(Static(Text(f"+{total - len(shown)}"), classes="field-thumb-chip"))
        await strip.mount_all(chips)
        strip.set_class(bool(chips), "-has-thumbs")


def start_folder(items: list[str]) -> Path:
    """Where the picker opens: the folder of the last path typed, else the home folder."""
    for item in reversed(items):
        if item.startswith(("/", "~", ".")):
            folder = Path(item).expanduser()
            folder = folder if folder.is_dir() else folder.parent
            if folder.is_dir():
                return folder
    return Path.home()


async def _local_path(field: FieldWidget, item: str) -> str | None:
    """The file behind ``#12``/``#12.2`` (from the history), or a path as typed; None for URLs and data URIs."""
    item = item.strip()
    match = JOB_REF.match(item)
    if match:
        core = getattr(field.app, "core", None)
        job = await core.history.get(int(match.group(1))) if core is not None else None
        index = int(match.group(2) or 1) - 1
        out = next((o for o in job.outputs if o.index == index), None) if job is not None else None
        return out.path if out is not None else None
    if item.lower().startswith(("http://", "https://", "data:")):
        return None
    return item  # expanded in the thread


def _thumbnails(items: list[str], paths: list[str | None]) -> list[Any]:
    """A PIL thumbnail per item, or a short word saying why there is none (runs in a thread). Only a regular
    file is read (a FIFO would block this thread for ever, ``/dev/zero`` never ends), within the input size
    limit, and its pixel count is checked before it is decoded (the field's sentence comes at submit)."""
    from PIL import UnidentifiedImageError

    from seedream_tui.jobs.decoding import TooManyPixels

    out: list[Any] = []
    for item, path in zip(items, paths, strict=True):
        try:
            if item.startswith("data:"):
                out.append(_thumbnail(io.BytesIO(base64.b64decode(item.partition(",")[2]))))
            elif path is None:
                out.append("URL" if item.lower().startswith("http") else "not found")
            else:
                out.append(_file_thumbnail(Path(path).expanduser()))
        except FileNotFoundError:
            out.append("no such file")
        except TooManyPixels:
            out.append("too many pixels")
        except (UnidentifiedImageError, OSError, ValueError, binascii.Error):
            out.append("not an image")
    return out


def _file_thumbnail(path: Path) -> Any:
    """The thumbnail of a local file, or a word: opened without blocking, checked before a byte is read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            return "a folder"
        if not stat.S_ISREG(info.st_mode):
            return "not a file"
        if info.st_size > MAX_FILE_BYTES:
            return "too big"
        with os.fdopen(os.dup(fd), "rb") as fh:
            return _thumbnail(fh)
    finally:
        os.close(fd)


def _thumbnail(source: Any) -> Any:
    from seedream_tui.jobs.decoding import DECODES, open_image

    with open_image(source, draft_box=THUMB_BOX) as image, DECODES:
        image.load()
        image.thumbnail(THUMB_BOX)  # in place: the full frame is freed here
        return image.convert("RGB")


class MediaField(_Thumbnails, TextInputField):
    """One image: a URL, a file path or ``#job``, with its thumbnail."""

    KINDS: ClassVar[tuple[FieldKind, ...]] = (FieldKind.MEDIA,)


class MediaListField(_Thumbnails, ListField):
    """Several images, comma separated, with a thumbnail each."""

    KINDS: ClassVar[tuple[FieldKind, ...]] = (FieldKind.MEDIA_LIST,)


def media_field_for(spec: FieldSpec, value: Any = None) -> FieldWidget:
    return MediaListField(spec, value) if spec.kind is FieldKind.MEDIA_LIST else MediaField(spec, value)
