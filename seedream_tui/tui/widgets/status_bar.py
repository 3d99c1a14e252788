"""The main screen's status line: where jobs go (and whether they cost money), the token's source, live counts.

``DEMO · free`` or ``paid`` with the API host, so it is never ambiguous whether ``ctrl+s`` spends money; the
session's spend comes right after (demo amounts say they were not charged), the first thing kept when narrow;
``token: env|file|none``; ``3 queued · 2 running · 14 done today``; and the session's spend once the
server has reported costs. The app feeds it (see ``SeedreamApp._tally_changed``); it only draws.

While jobs end several times a second the counts and the spend change with each, and redrawing the line each
time was most of what the app wrote to the terminal (20 lines of ~410 bytes a second with 40 jobs of 3-6 s
running, issue 23). So the line is drawn at most every ``EVERY`` seconds (the first change at once, the last
always: a state that lasts ``EVERY`` s is always seen), not at all when its text and styles are unchanged, and
then only the cells that changed are sent (the refreshed region starts at the first changed cell).
"""

from __future__ import annotations

import math
import time
from typing import Any
from urllib.parse import urlsplit

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget

from seedream_tui.config import AppConfig
from seedream_tui.jobs.spend import OUT_OF_RANGE
from seedream_tui.jobs.tally import SessionTally


def token_word(source: str) -> str:
    """``environment (RUNCOMFY_API_TOKEN)`` -> ``env``; ``token file`` -> ``file``; else the source as is."""
    if source.startswith("environment"):
        return "env"
    if source == "token file":
        return "file"
    return source or "none"


def status_text(config: AppConfig, tally: SessionTally) -> Text:
    """The line, in the order a user looks for things; the end is cut with "…" when it does not fit."""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    spend = tally.spend
    # a job costs cents: three decimals until it adds up to dollars
    amount = None if spend is None else (f"${spend:.3f}" if spend < 10 else f"${spend:.2f}")
    if spend is not None and not math.isfinite(spend):  # costs whose sum passes the float range: never "$inf"
        amount = OUT_OF_RANGE
    if config.demo:
        line.append(" DEMO ", style="bold reverse green")
        line.append(" free", style="green")
        if amount is not None:  # what it would have cost: labelled so it is never taken for a charge
            line.append(f" · demo prices {amount}, not charged", style="green")
    else:
        host = urlsplit(config.base_url).hostname or config.base_url or "no API address"
        line.append(" PAID ", style="bold reverse yellow")
        if amount is not None:  # the one money figure on screen: first, so a narrow line keeps it
            line.append(f" session {amount}", style="bold yellow")
        line.append(f"  {host}", style="bold")
    if not config.demo:  # the demo sends no real token: the room goes to the counts and the spend
        token = token_word(config.token_source)
        line.append("  token: ", style="dim")
        line.append(token, style="bold red" if token == "none" else "")
    line.append("  ")
    line.append(tally.counts_line())
    return line


class StatusBar(Widget):
    """One line above the key hints on the main screen."""

    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; padding: 0 1; background: $boost; color: $text; }
    """
    #: at most one redraw in this many seconds while the counts change (see the module's text)
    EVERY = 0.5

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._line = Text(no_wrap=True, overflow="ellipsis", end="")
        self._source: tuple[AppConfig, SessionTally] | None = None
        self._timer: Any = None
        self._drawn_at = -math.inf

    def show(self, config: AppConfig, tally: SessionTally) -> None:
        """Draw the line for ``config`` and ``tally`` now, or at the end of the current ``EVERY`` s."""
        self._source = (config, tally)
        if self._timer is not None:
            return  # a draw is due: it reads the tally as it is then
        wait = self._drawn_at + self.EVERY - time.monotonic()
        if wait <= 0 or not self.is_mounted:
            self._draw()
        else:
            self._timer = self.set_timer(wait, self._draw, name="status-line")

    def _draw(self) -> None:
        self._timer = None
        if self._source is None:
            return
        line = status_text(*self._source)
        old, self._line = self._line, line
        if not self.is_mounted:
            self.refresh()
            return
        changed = changed_cells(old, line)
        if changed is not None:
            self._drawn_at = time.monotonic()
            # one line whatever it says: no layout pass (it would redraw every scrollbar on the screen)
            self.refresh(Region(changed[0], 0, changed[1] - changed[0], 1))

    @property
    def pending(self) -> bool:
        """A newer line waits for the end of the current ``EVERY`` s (tests await it before a snapshot)."""
        return self._timer is not None

    def render(self) -> Text:
        return self._line

    def plain(self) -> str:
        """The line as text (tests)."""
        return self._line.plain


def _cell_styles(text: Text) -> list[tuple[str, str]]:
    """Each character of ``text`` with its style (as a string), in order."""
    styles = [str(text.style)] * len(text.plain)
    for span in text.spans:
        for i in range(span.start, min(span.end, len(styles))):
            styles[i] = f"{styles[i]} {span.style}"
    return list(zip(text.plain, styles, strict=True))


def changed_cells(old: Text, new: Text) -> tuple[int, int] | None:
    """The cells ``[start, end)`` of the line that differ between ``old`` and ``new`` (None when none do)."""
    a, b = _cell_styles(old), _cell_styles(new)
    if a == b:
        return None
    first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    last_a, last_b = len(a), len(b)
    if last_a == last_b:  # the same length: what differs ends at the last differing character
        while last_a > first and a[last_a - 1] == b[last_b - 1]:
            last_a -= 1
            last_b -= 1
    start = cell_len(new.plain[:first])
    end = max(cell_len(old.plain[:last_a]), cell_len(new.plain[:last_b]))
    return start, max(end, start + 1)
