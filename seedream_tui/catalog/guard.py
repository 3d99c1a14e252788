"""Money is never a surprise: when a submit asks first (issue 20 §1). No Textual: the TUI and tests use it.

A paid submit asks before it is sent when its quote is above the user's threshold (``confirm_above_usd``
in settings), when its price is unknown, and when the same model and input were submitted a moment ago
(a double key press, a key that repeated). The demo costs nothing and never asks.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from seedream_tui.catalog.pricing import Quote, format_usd

#: the same input submitted again within this many seconds is asked about
REPEAT_WINDOW = 10.0


def fingerprint(model_id: str, inputs: dict[str, Any]) -> str:
    """A digest of what is sent: two submits with the same fingerprint make the same request."""
    text = json.dumps([model_id, inputs], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class SubmitGuard:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._recent: dict[str, float] = {}

    def question(self, quote: Quote, print_: str, *, demo: bool, threshold: float | None) -> str | None:
        """The sentence to ask before sending this submit, or None to send it at once."""
        if demo:
            return None
        asks: list[str] = []
        last = self._recent.get(print_)
        if last is not None and self._clock() - last < REPEAT_WINDOW:
            asks.append(f"You submitted the same prompt and options {self._clock() - last:.0f} s ago.")
        if quote.usd is None:
            asks.append(f"Its price is unknown ({quote.reason or 'the model lists none'}).")
        elif threshold is not None and quote.usd > threshold:
            asks.append(f"It costs {quote.text}, above your {format_usd(threshold)} confirmation threshold.")
        if not asks:
            return None
        return " ".join([*asks, f"Submit it ({quote.text}, paid)?"])

    def sent(self, print_: str) -> None:
        """Note a submit that went out (the next identical one within the window asks first)."""
        now = self._clock()
        self._recent = {k: t for k, t in self._recent.items() if now - t < REPEAT_WINDOW}
        self._recent[print_] = now
