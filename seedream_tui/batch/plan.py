"""A batch's plan: every job it will submit, priced, with the values that made each one.

A plan is made before anything is sent (``--dry-run`` prints it; the TUI shows it before paying) and is
kept with the batch (``batches.plan``: its axes and source, not its jobs, which are rows of their own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from seedream_tui.catalog.pricing import Quote, total


@dataclass(frozen=True)
class Axis:
    """One dimension of a batch: the prompt's variants, a swept option (``resolution``: 1K, 2K) or ``repeat``."""

    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class PlannedJob:
    model_id: str
    inputs: dict[str, Any]
    quote: Quote = field(default_factory=lambda: Quote(None, reason="not priced"))
    #: the values that made it: ``{"prompt": "a red fox", "resolution": "2K", "repeat": 1}`` (axis key -> value)
    variant: dict[str, Any] = field(default_factory=dict)
    #: its place in the plan, from 0
    place: int = 0

    @property
    def price_usd(self) -> float | None:
        return self.quote.usd


@dataclass(frozen=True)
class BatchPlan:
    jobs: tuple[PlannedJob, ...]
    #: the dimensions the jobs were made over, in order (a contact sheet's rows and columns)
    axes: tuple[Axis, ...] = ()
    #: where it came from: ``"submit"``, or the prompt file's path
    source: str = "submit"
    #: a short name for tables ("a {red|arctic} fox …", "prompts.txt")
    label: str = ""
    #: sentences about how it was made ("50 sampled of 10,000 combinations")
    notes: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.jobs)

    @property
    def quote(self) -> Quote:
        """The sum of the jobs' quotes ("up to" when any depends on the output count; unknown if any is)."""
        return total(job.quote for job in self.jobs)

    @property
    def total_usd(self) -> float | None:
        return self.quote.usd

    def to_json(self) -> dict[str, Any]:
        """What ``--dry-run --json`` prints: ``{"jobs": [{"model", "inputs", "price_usd"}, …], "total_usd"}``."""
        return {
            "jobs": [{"model": j.model_id, "inputs": j.inputs, "price_usd": j.price_usd} for j in self.jobs],
            "total_usd": self.total_usd,
        }

    def record(self) -> dict[str, Any]:
        """What the batch row keeps of its plan (``batches.plan``)."""
        return {
            "source": self.source,
            "label": self.label,
            "axes": [{"key": a.key, "values": list(a.values)} for a in self.axes],
            "count": self.count,
            "total_usd": self.total_usd,
            "up_to": self.quote.upper_bound,
            "notes": list(self.notes),
        }


def axis_title(key: str) -> str:
    """How an axis is named to the user: a prompt's ``{…}`` group ``prompt{2}`` is "variant 2"; an option by its
    key (``resolution``), ``repeat`` as it is."""
    if key.startswith("prompt{") and key.endswith("}") and key[7:-1].isdigit():
        return f"variant {key[7:-1]}"
    return key


def axes_of(record: dict[str, Any]) -> list[Axis]:
    """The axes a batch row's plan keeps (see :meth:`BatchPlan.record`)."""
    out: list[Axis] = []
    for item in record.get("axes", []) if isinstance(record.get("axes"), list) else []:
        if isinstance(item, dict) and isinstance(item.get("key"), str) and isinstance(item.get("values"), list):
            out.append(Axis(item["key"], tuple(item["values"])))
    return out


def numbered(jobs: Sequence[PlannedJob]) -> tuple[PlannedJob, ...]:
    """The jobs with their ``place`` set in order."""
    from dataclasses import replace

    return tuple(replace(job, place=i) for i, job in enumerate(jobs))
