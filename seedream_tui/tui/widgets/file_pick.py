"""Choosing local image files for an image input: path completion as you type, and a file picker (ctrl+f).

Completion suggests the rest of a file or folder name (accept it with →, as in any Textual Input);
in a comma-separated list it completes the last item. The picker lists folders and image files only.
The file system is read in a thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import DirectoryTree, Static

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"})
_PATH_STARTS = ("/", "~", "./", "../")


class PathSuggester(Suggester):
    """Completes a local path (the last comma-separated item); no suggestion for URLs and ``#job``."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)  # the file system changes

    async def get_suggestion(self, value: str) -> str | None:
        head, comma, last = value.rpartition(",")
        item = last.lstrip()
        if not item.startswith(_PATH_STARTS):
            return None
        completed = await asyncio.to_thread(complete_path, item)
        if completed is None or completed == item:
            return None
        return f"{head}{comma}{last[: len(last) - len(item)]}{completed}"


def complete_path(typed: str) -> str | None:
    """The first folder or image file whose name starts with what is typed after the last ``/``."""
    folder_text, _, prefix = typed.rpartition("/")
    folder = Path(os.path.expanduser(folder_text or "/"))
    try:
        names = sorted(entry.name for entry in os.scandir(folder) if not entry.name.startswith("."))
    except OSError:
        return None
    for name in names:
        if not name.startswith(prefix):
            continue
        path = folder / name
        if path.is_dir():
            return f"{folder_text}/{name}/"
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return f"{folder_text}/{name}"
    return None


class ImageTree(DirectoryTree):
    """Folders and image files (or the files of ``suffixes``), hidden ones left out."""

    suffixes: frozenset[str] = IMAGE_SUFFIXES

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [
            p for p in paths
            if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() in self.suffixes)
        ]  # fmt: skip


class FilePickScreen(ModalScreen[str | None]):
    """Pick one image file (or one file of ``suffixes``: a prompt file); dismisses with its path (or None)."""

    DEFAULT_CSS = """
    FilePickScreen { align: center middle; }
    FilePickScreen > #pick-box {
        width: 90%; max-width: 100; height: 90%; max-height: 30; min-width: 30; min-height: 8;
        border: thick $primary; background: $surface;
    }
    FilePickScreen #pick-tree { height: 1fr; }
    FilePickScreen #pick-hint { height: 1; color: $text-muted; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pick-cancel"),
        Binding("backspace", "up", "Parent folder", id="pick-up", tooltip="Show the folder above this one"),
    ]

    def __init__(self, start: Path, *, suffixes: frozenset[str] = IMAGE_SUFFIXES, what: str = "an image") -> None:
        super().__init__()
        self.start = start
        self.suffixes = suffixes
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-box"):
            tree = ImageTree(self.start, id="pick-tree")
            tree.suffixes = self.suffixes
            yield tree
            yield Static(f"enter opens a folder or picks {self.what} · backspace: the folder above · esc cancels",
                         id="pick-hint", markup=False)

    def on_mount(self) -> None:
        self._titled()
        tree = self.query_one(ImageTree)
        tree.root.expand()  # the folder's content at once, never a lone collapsed node
        tree.focus()

    def _titled(self) -> None:
        """The folder shown, in the border (the tree's root label is its last name only)."""
        from rich.text import Text

        from seedream_tui.safetext import visible

        # a folder name is outside text: never markup
        self.query_one("#pick-box").border_title = Text(f"Choose {self.what} · {visible(str(self.query_one(ImageTree).path))}")

    def action_up(self) -> None:
        tree = self.query_one(ImageTree)
        here = Path(tree.path)
        if here.parent == here:
            self.app.bell()
            return
        tree.path = here.parent
        self._titled()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(str(event.path))
