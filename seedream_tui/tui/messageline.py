"""Toasts as a message line: at the bottom of the screen, over the key hints, never over what is being edited.

Textual stacks toasts 60 columns wide with a blank line around each, and three of them hid the options panel
at 80x24 and the prompt being typed at 60x20 and 40x12. Here, as in the bottom line of lazygit, htop or vim,
a message takes the screen's last line (the key hints; a sentence too long for one line also takes the line
above it, the status line), and only one shows at a time: the newest, ending in "(+2 more)" while older ones
are still live, which come back as the newer go (or are clicked away).

The placement is CSS (``app.tcss``: the rack docked at the bottom, every holder but the last hidden); what this
module adds is the line's text: the title before the message instead of above it, and the count of the others.
:func:`install` makes Textual's toast rack build :class:`LineToast` instead of its ``Toast`` (a subclass: a
query for ``Toast`` still finds them).
"""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widget import Widget

from seedream_tui.tui import compat

_installed = False


def _live(node: Widget) -> bool:
    """Not on its way out: a holder being removed is still a child until its removal is done."""
    return node.is_attached and not compat.is_leaving(node)


class LineToast(compat.Toast):
    """One message on one line (two when it must), with the number of other live messages on the newest."""

    def __init__(self, notification: Any) -> None:
        super().__init__(notification)
        self._note = notification
        self._rack: Widget | None = None

    def on_mount(self) -> None:
        holder = self.parent
        self._rack = holder.parent if isinstance(holder, Widget) and isinstance(holder.parent, Widget) else None
        self._show_newest()

    def on_unmount(self) -> None:
        self._show_newest()

    def _show_newest(self) -> None:
        """Only the newest live message shows; the newest says how many others there are.

        Set on each holder, not left to a ``:last-child`` rule: Textual does not restyle the new last child when
        the last one is removed (the message before would stay hidden).
        """
        rack = self._rack
        if rack is None or not rack.is_attached:
            return
        holders = [h for h in rack.children if _live(h)]
        for holder in holders:
            holder.display = holder is holders[-1]
        for toast in rack.query(LineToast):
            toast.refresh(layout=True)

    def others(self) -> int:
        """How many other messages are still live (0 unless this is the newest)."""
        rack = self._rack
        holder = self.parent
        if rack is None or not isinstance(holder, Widget):
            return 0
        holders = [h for h in rack.children if _live(h)]
        if not holders or holders[-1] is not holder:
            return 0
        return len(holders) - 1

    def render(self) -> Content:
        notification = self._note
        message = Content.from_markup(notification.message) if notification.markup else Content(notification.message)
        parts: list[Any] = []
        if notification.title:
            parts += [(notification.title, self.get_visual_style("toast--title")), ": "]
        parts.append(message)
        more = self.others()
        if more:
            parts.append((f"  (+{more} more)", "dim"))
        return Content.assemble(*parts)


def install() -> None:
    """Make the toast racks of every screen build :class:`LineToast` (idempotent)."""
    global _installed
    if not _installed:
        compat.use_toast_class(LineToast)
        _installed = True
