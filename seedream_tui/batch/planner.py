"""Making a batch's plan from what the user wrote: the prompt's variants × the swept options × repeats.

(First version, the contract others build on: sweeps and repeats, no variant syntax yet, no sampling.)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from seedream_tui.batch.plan import Axis, BatchPlan, PlannedJob, numbered
from seedream_tui.catalog.pricing import quote
from seedream_tui.schema import ModelSpec

#: more expanded jobs than this are refused (or must be sampled): a sentence, never a frozen UI
MAX_JOBS = 1000


class PlanError(ValueError):
    """What the user wrote cannot make a plan; ``str()`` is a sentence. ``column`` (from 1) points into the
    prompt for a variant syntax error; ``field`` names the option at fault."""

    def __init__(self, message: str, *, column: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.column = column
        self.field = field


@dataclass(frozen=True)
class Sweep:
    """``--sweep KEY=v1,v2``: the option and its values (already converted to the schema's types)."""

    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class PlanRequest:
    """Everything a plan is made from."""

    inputs: dict[str, Any]
    sweeps: Sequence[Sweep] = ()
    repeat: int = 1
    #: pick this many of the combinations at random instead of all of them
    sample: int | None = None
    seed: int | None = None
    source: str = "submit"
    notes: tuple[str, ...] = field(default=())


def make_plan(spec: ModelSpec, request: PlanRequest) -> BatchPlan:
    """Every job of the batch, priced; PlanError (a sentence) when it cannot be made."""
    if request.repeat < 1:
        raise PlanError("--repeat must be 1 or more.")
    axes = [Axis(s.key, tuple(s.values)) for s in request.sweeps]
    if request.repeat > 1:
        axes.append(Axis("repeat", tuple(range(1, request.repeat + 1))))
    jobs: list[PlannedJob] = []
    for combo in itertools.product(*(a.values for a in axes)):
        inputs = dict(request.inputs)
        variant: dict[str, Any] = {}
        for axis, value in zip(axes, combo, strict=True):
            variant[axis.key] = value
            if axis.key != "repeat":
                inputs[axis.key] = value
        jobs.append(PlannedJob(spec.model_id, inputs, quote(spec, inputs), variant=variant))
        if len(jobs) > MAX_JOBS:
            raise PlanError(f"That makes more than {MAX_JOBS:,} jobs: use --sample N to pick some of them.")
    prompt = str(request.inputs.get("prompt", ""))
    return BatchPlan(numbered(jobs), axes=tuple(axes), source=request.source,
                     label=prompt[:60], notes=request.notes)
