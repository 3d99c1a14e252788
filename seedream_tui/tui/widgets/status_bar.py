"""The main screen's status line: where jobs go (and whether they cost money), the token's source, live counts.

``DEMO · free`` or ``paid`` with the API host, so it is never ambiguous whether ``ctrl+s`` spends money; the
session's spend comes right after (demo amounts say they were not charged), the first thing kept when narrow;
``token: env|file|none``; ``3 queued · 2 running · 14 done today``; and the session's spend once the
server has reported costs. The app feeds it (see ``SeedreamApp._tally_changed``); it only draws.
"""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from rich.text import Text
from textual.widgets import Static

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


class StatusBar(Static):
    """One line above the key hints on the main screen."""

    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; padding: 0 1; background: $boost; color: $text; }
    """

    def show(self, config: AppConfig, tally: SessionTally) -> None:
        # one line whatever it says: no layout pass (it would redraw every scrollbar on the screen)
        self.update(status_text(config, tally), layout=False)

    def plain(self) -> str:
        """The line as text (tests)."""
        return str(self.render())
