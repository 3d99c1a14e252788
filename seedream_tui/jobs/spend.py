"""The spend ledger: sums of the costs RunComfy reported per job (``/result?include_cost=true``).

No Textual here: ``seedream-tui spend``, the TUI's spend view and the status bar call these. Only jobs
with a reported cost count; a job whose cost never came is not guessed at (the totals say how many
jobs they cover). Days are local calendar days, weeks start on Monday.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

SPEND_GROUPS = ("day", "model")

CostRow = tuple[str, float, float]  # (model_id, created_at, cost)

#: shown instead of an amount that could not be added up (costs whose sum passes the float range)
OUT_OF_RANGE = "out of range"
OUT_OF_RANGE_SENTENCE = (
    "Some totals are too large to add up (the reported costs pass 1.8e308 dollars); they are shown as "
    f"\"{OUT_OF_RANGE}\". The costs RunComfy reported for some jobs are wrong."
)


def in_range(amount: float) -> bool:
    """A sum that could be added up (not infinite, not NaN)."""
    return math.isfinite(amount)


def usd_text(amount: float) -> str:
    """:func:`format_usd`, or :data:`OUT_OF_RANGE` for a sum past the float range (never ``$inf.00``)."""
    from seedream_tui.catalog.pricing import format_usd

    return format_usd(amount) if in_range(amount) else OUT_OF_RANGE


@dataclass(frozen=True)
class SpendGroup:
    key: str
    jobs: int
    usd: float


@dataclass(frozen=True)
class SpendSummary:
    today: SpendGroup
    week: SpendGroup
    all_time: SpendGroup
    by_model: list[SpendGroup]


def group_spend(rows: Iterable[CostRow], *, by: str = "day") -> list[SpendGroup]:
    """Sums per local day (oldest first) or per model (largest first)."""
    sums: dict[str, list[float]] = {}
    for model_id, created_at, cost in rows:
        key = model_id if by == "model" else datetime.fromtimestamp(created_at).strftime("%Y-%m-%d")
        entry = sums.setdefault(key, [0, 0.0])
        entry[0] += 1
        entry[1] += cost
    groups = [SpendGroup(key, int(n), usd) for key, (n, usd) in sums.items()]
    if by == "model":
        return sorted(groups, key=lambda g: (-g.usd, g.key))
    return sorted(groups, key=lambda g: g.key)


def summarize(rows: Iterable[CostRow], *, now: float | None = None) -> SpendSummary:
    """Today, this week (since Monday), all time, and all time by model."""
    listed = list(rows)
    moment = datetime.fromtimestamp(time.time() if now is None else now)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    monday = midnight - timedelta(days=midnight.weekday())

    def since(label: str, start: float | None) -> SpendGroup:
        chosen = [cost for _, created, cost in listed if start is None or created >= start]
        return SpendGroup(label, len(chosen), sum(chosen))

    return SpendSummary(
        today=since("today", midnight.timestamp()),
        week=since("this week", monday.timestamp()),
        all_time=since("all time", None),
        by_model=group_spend(listed, by="model"),
    )
