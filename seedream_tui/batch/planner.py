"""Making a batch's plan from what the user wrote: the prompt's variants × the swept options × repeats.

No Textual and no printing: the CLI (``submit``, ``batch``) and the TUI's plan dialog call the same functions.

- **Variants** (:mod:`seedream_tui.batch.variants`, the Dynamic Prompts syntax ``a {red|arctic} fox``): read
  only when the prompt has a ``{``. Each top-level ``{…}`` group is an axis of its own, keyed ``prompt{1}``,
  ``prompt{2}``, … (in the order written) whose values are the texts it makes, so a contact sheet can lay the
  jobs out by group; a job's ``variant`` holds each group's choice and ``"prompt"``, the whole text.
- **Sweeps** (``--sweep KEY=v1,v2`` / ``KEY=1..4`` / ``KEY=["a","b"]``): each value is converted with the
  schema (:func:`coerce_value`) and checked (:func:`validate_input`) before any job is made; an axis keyed by
  the option, the value in the variant under the same key.
- **Repeats** (``--repeat N``): the innermost axis, ``repeat`` = 1..N in the variant. When the model has a
  ``seed`` option that is not swept, the repeats get distinct seeds (the given seed + 0, 1, …, or a random
  base), kept in the variant as ``seed``: repeat *i* has the same seed in every combination, so a sweep's
  columns stay comparable.
- **Sampling** (``--sample N``): N of the combinations (variants × sweeps; each then repeated) picked at
  random with a seed (said in the notes, so the same pick can be made again); without it, all of them.
  Everything is counted before it is made: more than :data:`MAX_JOBS` jobs is refused with a sentence at
  once (10¹² combinations too), and a sample of 50 out of 10¹² is made without building the others.
- Every job is validated against its model's schema and priced (:func:`seedream_tui.catalog.pricing.quote`);
  the plan's quote is the sum ("up to" where the output count decides).

Prompt files (one plan over many rows, each row its own prompt, options and model) are
:mod:`seedream_tui.batch.prompt_files`; they build on :func:`plan_segments` here.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from seedream_tui.batch import MAX_JOBS as MAX_JOBS  # re-exported: more jobs than this are refused
from seedream_tui.batch.plan import Axis, BatchPlan, PlannedJob, numbered
from seedream_tui.catalog.pricing import quote
from seedream_tui.schema import FieldKind, ModelSpec, coerce_value, validate_input

if TYPE_CHECKING:
    from seedream_tui.batch.variants import Template

#: the most values one --sweep may list (a range 1..1000000 is refused before it is built)
MAX_SWEEP_VALUES = MAX_JOBS
#: the most --repeat may ask for
MAX_REPEAT = MAX_JOBS

_TEXT_KINDS = (FieldKind.TEXT, FieldKind.MEDIA)


class PlanError(ValueError):
    """What the user wrote cannot make a plan; ``str()`` is a sentence. ``column`` (from 1) points into the
    prompt for a variant syntax error; ``field`` names the option at fault; ``line`` the prompt file's line."""

    def __init__(
        self, message: str, *, column: int | None = None, field: str | None = None, line: int | None = None
    ) -> None:
        super().__init__(message)
        self.column = column
        self.field = field
        self.line = line


@dataclass(frozen=True)
class Sweep:
    """``--sweep KEY=v1,v2``: the option and its values (text as typed is converted with the schema by
    :func:`make_plan`; :func:`parse_sweep` reads the command-line form)."""

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
    #: the random seed of the sample (and of the repeats' seeds when no seed is given); None: a fresh one
    seed: int | None = None
    source: str = "submit"
    notes: tuple[str, ...] = field(default=())


def parse_sweep(text: str) -> Sweep:
    """``KEY=v1,v2,…``, ``KEY=1..4`` (whole numbers, both ends included) or ``KEY=["a, b", "c"]`` (JSON, for
    values with commas) as a Sweep of texts (converted later, with the model's schema)."""
    key, sep, rest = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise PlanError(f"--sweep expects KEY=v1,v2,… (e.g. --sweep resolution=2K,3K), got {text!r}.")
    rest = rest.strip()
    values: list[Any]
    if rest.startswith("["):
        try:
            loaded = json.loads(rest)
        except ValueError:
            raise PlanError(f"--sweep {key}: {rest!r} is not a JSON list.", field=key) from None
        if not isinstance(loaded, list):
            raise PlanError(f"--sweep {key}: {rest!r} is not a JSON list.", field=key)
        values = loaded
    elif ".." in rest and all(p.strip().lstrip("-").isdigit() for p in rest.split("..", 1)):
        first, last = (int(p) for p in rest.split("..", 1))
        if last < first:
            raise PlanError(f"--sweep {key}={rest}: the range goes down; write it as {last}..{first}.", field=key)
        if last - first + 1 > MAX_SWEEP_VALUES:
            raise PlanError(f"--sweep {key}={rest} has {last - first + 1:,} values, more than the {MAX_SWEEP_VALUES:,} "
                            "a sweep may have.", field=key)
        values = list(range(first, last + 1))
    else:
        values = [part.strip() for part in rest.split(",") if part.strip()]
    if not values:
        raise PlanError(f"--sweep {key} has no values: write them as {key}=v1,v2.", field=key)
    if len(values) > MAX_SWEEP_VALUES:
        raise PlanError(f"--sweep {key} has {len(values):,} values, more than the {MAX_SWEEP_VALUES:,} a sweep may "
                        "have.", field=key)
    return Sweep(key, tuple(values))


def make_plan(spec: ModelSpec, request: PlanRequest) -> BatchPlan:
    """Every job of the batch, priced; PlanError (a sentence) when it cannot be made. Nothing is sent."""
    segment = Segment.make(spec, request.inputs, request.sweeps)
    prompt = str(request.inputs.get("prompt", ""))
    label = prompt if len(prompt) <= 60 else prompt[:59] + "…"
    return plan_segments([segment], request, label=label)


# ---------------------------------------------------------------- the parts of a plan
@dataclass(frozen=True)
class Segment:
    """One prompt (a command line's, or a prompt file's row) with its options and sweeps: its combinations
    are counted, and any one of them made from its number."""

    spec: ModelSpec
    inputs: dict[str, Any]
    template: Template | None
    sweeps: tuple[Sweep, ...]
    #: the prompt file's line (None for a command line's prompt)
    line: int | None = None

    @classmethod
    def make(
        cls, spec: ModelSpec, inputs: Mapping[str, Any], sweeps: Sequence[Sweep], *, line: int | None = None
    ) -> Segment:
        """Read the prompt's variants and convert the sweeps' values; PlanError at the first fault."""
        where = f"Line {line}: " if line is not None else ""
        prompt = inputs.get("prompt")
        template = None
        if isinstance(prompt, str) and "{" in prompt:
            from seedream_tui.batch.variants import VariantError, parse  # only when there may be variants

            try:
                template = parse(prompt)
            except VariantError as exc:
                raise PlanError(f"{where}{exc}", column=exc.column, field="prompt", line=line) from None
            if template.count == 0:
                raise PlanError(f"{where}The prompt's variants make no prompt at all.", field="prompt", line=line)
        converted = tuple(_convert_sweep(spec, dict(inputs), s, where, line) for s in sweeps)
        return cls(spec, dict(inputs), template, converted, line)

    @property
    def prompts(self) -> int:
        return self.template.count if self.template is not None else 1

    @property
    def count(self) -> int:
        """How many combinations (prompts × each sweep's values; repeats not counted)."""
        return self.prompts * math.prod(len(s.values) for s in self.sweeps)

    def decode(self, index: int) -> tuple[dict[str, Any], dict[str, Any], tuple[int, ...]]:
        """The ``index``-th combination: (its inputs, its variant, each axis's value index: the prompt's
        groups, then the sweeps). The last sweep varies fastest, the prompt slowest."""
        picks: list[int] = []
        for sweep in reversed(self.sweeps):
            index, inner = divmod(index, len(sweep.values))
            picks.append(inner)
        picks.reverse()
        inputs = dict(self.inputs)
        variant: dict[str, Any] = {}
        group_picks: tuple[int, ...] = ()
        if self.template is not None:
            text, chosen = self.template.nth(index)
            group_picks = self.template.indices(index)
            for n, choice in enumerate(chosen, 1):
                variant[f"prompt{{{n}}}"] = choice
            variant["prompt"] = text
            inputs["prompt"] = text
        elif self.line is not None:
            variant["prompt"] = inputs.get("prompt")
        for sweep, pick in zip(self.sweeps, picks, strict=True):
            inputs[sweep.key] = variant[sweep.key] = sweep.values[pick]
        return inputs, variant, (*group_picks, *picks)

    def breakdown(self) -> str:
        """``4 prompts × 3 values of seed``: what the count is made of."""
        parts = []
        if self.template is not None:
            parts.append(_plural(self.template.count, "prompt"))
        parts += [f"{_plural(len(s.values), 'value')} of {s.key}" for s in self.sweeps]
        return " × ".join(parts) or "1 prompt"


def plan_segments(
    segments: Sequence[Segment], request: PlanRequest, *, label: str = "", rows_axis: bool = False
) -> BatchPlan:
    """The plan over every segment's combinations (all of them, or a sample), each repeated, priced and
    validated. ``rows_axis``: the first axis is the prompt file's line (``row``)."""
    repeat = request.repeat
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise PlanError("--repeat must be a whole number, 1 or more.", field="repeat")
    if repeat > MAX_REPEAT:
        raise PlanError(f"--repeat {repeat:,} is more than the {MAX_JOBS:,} jobs a batch may have.", field="repeat")
    counts = [s.count for s in segments]
    total = sum(counts)
    notes = list(request.notes)
    seed = request.seed if request.seed is not None else random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    sample = request.sample
    if sample is not None:
        if isinstance(sample, bool) or not isinstance(sample, int) or sample < 1:
            raise PlanError("--sample must be a whole number, 1 or more.", field="sample")
        if sample * repeat > MAX_JOBS:
            raise PlanError(f"--sample {sample:,}{_times(repeat)} makes {sample * repeat:,} jobs, more than the "
                            f"{MAX_JOBS:,} a batch may have.", field="sample")
    if sample is not None and sample < total:
        chosen = sorted(_sample_indices(rng, total, sample))
        notes.append(f"{sample:,} of {total:,} combinations picked at random (seed {seed}: --sample-seed {seed} "
                     "picks the same ones).")
    else:
        if total * repeat > MAX_JOBS:
            made_of = segments[0].breakdown() if len(segments) == 1 else f"{len(segments):,} prompts with their variants"
            raise PlanError(
                f"That makes {total * repeat:,} jobs ({made_of}{_times(repeat)}), more than the {MAX_JOBS:,} a batch "
                "may have: use --sample N to pick N of them at random, or fewer variants or values.", field="sample"
            )
        if sample is not None:
            notes.append(f"--sample {sample:,} covers all {total:,} combinations: every one is planned.")
        chosen = list(range(total))
    seeds = _repeat_seeds(segments, request, rng, notes) if repeat > 1 else None
    jobs: list[PlannedJob] = []
    used: list[set[int]] = []  # per axis (groups, then sweeps): the value indices the jobs use
    lines_used: dict[int, None] = {}
    starts = _starts(counts)
    seg_no = 0
    for index in chosen:
        while index >= starts[seg_no] + counts[seg_no]:
            seg_no += 1
        segment = segments[seg_no]
        inputs, variant, picks = segment.decode(index - starts[seg_no])
        if segment.line is not None:
            lines_used[segment.line] = None
            if rows_axis:
                variant = {"row": segment.line, **variant}
        _note_used(used, picks)
        for r in range(1, repeat + 1):
            job_inputs, job_variant = inputs, dict(variant)
            if repeat > 1:
                job_variant["repeat"] = r
                if seeds is not None:
                    job_inputs = {**inputs, "seed": seeds[r - 1]}
                    job_variant["seed"] = seeds[r - 1]
            _check_job(segment, job_inputs, job_variant)
            jobs.append(PlannedJob(segment.spec.model_id, job_inputs, quote(segment.spec, job_inputs),
                                   variant=job_variant))
    axes = _axes(segments, used, list(lines_used), rows_axis, repeat)
    return BatchPlan(numbered(jobs), axes=tuple(axes), source=request.source, label=label, notes=tuple(notes))


# ---------------------------------------------------------------- helpers
def _convert_sweep(spec: ModelSpec, inputs: dict[str, Any], sweep: Sweep, where: str, line: int | None) -> Sweep:
    """The sweep's values in the schema's types, each accepted by the schema; PlanError naming key and value."""
    try:
        fld = spec.field(sweep.key)
    except KeyError:
        names = ", ".join(f.name for f in spec.fields)
        raise PlanError(f"{where}Unknown option {sweep.key!r} to sweep for {spec.model_id}; options are: {names}.",
                        field=sweep.key, line=line) from None
    if not sweep.values:
        raise PlanError(f"{where}--sweep {sweep.key} has no values.", field=sweep.key, line=line)
    values: list[Any] = []
    for raw in sweep.values:
        value = raw
        if isinstance(raw, str) and fld.kind not in _TEXT_KINDS:
            try:
                value = coerce_value(fld, raw)
            except ValueError as exc:
                raise PlanError(f"{where}The sweep value {raw!r} for {sweep.key} is refused: {exc}",
                                field=sweep.key, line=line) from None
            if value is None:
                raise PlanError(f"{where}The sweep value {raw!r} for {sweep.key} is empty.", field=sweep.key, line=line)
        elif not isinstance(raw, str | int | float | bool | list | dict) or isinstance(raw, float) and not math.isfinite(raw):
            raise PlanError(f"{where}The sweep value {raw!r} for {sweep.key} is not a value.", field=sweep.key, line=line)
        error = validate_input(spec, {**inputs, sweep.key: value}).errors.get(sweep.key)
        if error:
            raise PlanError(f"{where}The sweep value {_shown(raw)} for {sweep.key} is refused: {error}",
                            field=sweep.key, line=line)
        if value not in values:  # the same value twice would pay twice for one picture
            values.append(value)
    return Sweep(sweep.key, tuple(values))


def _check_job(segment: Segment, inputs: dict[str, Any], variant: dict[str, Any]) -> None:
    """Refuse a job the schema refuses, a swept option the job's other options make ignored, an empty prompt."""
    where = f"Line {segment.line}: " if segment.line is not None else ""
    prompt = inputs.get("prompt")
    if segment.template is not None and isinstance(prompt, str) and not prompt.strip():
        raise PlanError(f"{where}One combination of the prompt's variants is empty (every job needs a prompt): "
                        f"give each {{…}} a choice that is not empty.", field="prompt", line=segment.line)
    result = validate_input(segment.spec, inputs)
    if result.errors:
        key, why = next(iter(result.errors.items()))
        swept = {s.key for s in segment.sweeps}
        what = f" (with {', '.join(f'{k}={_shown(variant[k])}' for k in swept if k in variant)})" if swept else ""
        raise PlanError(f"{where}{why.rstrip('.')}{what}.", field=key or None, line=segment.line)
    for sweep in segment.sweeps:
        if sweep.key not in result.cleaned:
            fld = segment.spec.field(sweep.key)
            cond = fld.depends_on
            hint = (f": it applies only when {cond.field} is {' or '.join(map(str, cond.values))}" if cond else "")
            raise PlanError(f"{where}Sweeping {sweep.key} changes nothing{hint}; set that too (--set or another "
                            "--sweep).", field=sweep.key, line=segment.line)


def _repeat_seeds(segments: Sequence[Segment], request: PlanRequest, rng: random.Random,
                  notes: list[str]) -> list[int] | None:
    """Distinct seeds for the repeats when every segment's model has a ``seed`` option not swept."""
    repeat = request.repeat
    fields = []
    for segment in segments:
        try:
            fld = segment.spec.field("seed")
        except KeyError:
            return None
        if fld.json_type not in ("integer", "number") or any(s.key == "seed" for s in segment.sweeps):
            return None
        fields.append(fld)
    low = max(int(f.minimum) if f.minimum is not None else 0 for f in fields)
    high = min(int(f.maximum) if f.maximum is not None else 2**31 - 1 for f in fields)
    if high - low + 1 < repeat:
        return None
    given = segments[0].inputs.get("seed")
    if isinstance(given, str) and given.strip().lstrip("-").isdigit():
        given = int(given)
    if isinstance(given, int) and not isinstance(given, bool):
        base = min(max(given, low), high - repeat + 1)
    else:
        base = rng.randrange(low, high - repeat + 2)
    notes.append(f"The {repeat} repeats use seeds {base}…{base + repeat - 1}.")
    return [base + i for i in range(repeat)]


def _axes(segments: Sequence[Segment], used: list[set[int]], lines: list[int], rows_axis: bool,
          repeat: int) -> list[Axis]:
    axes: list[Axis] = []
    if rows_axis:
        axes.append(Axis("row", tuple(lines)))
    if len(segments) == 1:
        segment = segments[0]
        groups = segment.template.groups if segment.template is not None else ()
        for n, group in enumerate(groups, 1):
            picked = sorted(used[n - 1]) if n - 1 < len(used) else []
            axes.append(Axis(f"prompt{{{n}}}", tuple(group.nth(i) for i in picked)))
        for k, sweep in enumerate(segment.sweeps, len(groups)):
            picked = sorted(used[k]) if k < len(used) else []
            axes.append(Axis(sweep.key, tuple(sweep.values[i] for i in picked)))
    else:  # rows of a file: each row's sweeps are the same keys; the values, as given (converted per row)
        for sweep in segments[0].sweeps if segments else ():
            axes.append(Axis(sweep.key, tuple(sweep.values)))
    if repeat > 1:
        axes.append(Axis("repeat", tuple(range(1, repeat + 1))))
    return axes


def _note_used(used: list[set[int]], picks: tuple[int, ...]) -> None:
    while len(used) < len(picks):
        used.append(set())
    for axis, pick in enumerate(picks):
        used[axis].add(pick)


def _starts(counts: Sequence[int]) -> list[int]:
    out, at = [], 0
    for c in counts:
        out.append(at)
        at += c
    return out


def _sample_indices(rng: random.Random, total: int, k: int) -> list[int]:
    if total <= 2**62:
        return rng.sample(range(total), k)
    picked: set[int] = set()
    while len(picked) < k:
        picked.add(rng.randrange(total))
    return list(picked)


def _times(repeat: int) -> str:
    return f" × {repeat} repeats" if repeat > 1 else ""


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else json.dumps(value, default=str)
