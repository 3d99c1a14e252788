"""Prompt files in the TUI (issue 21): the one place the TUI turns a file into a plan.

:func:`plan_prompt_file` is an adapter: the file formats belong to ``seedream_tui.batch.prompt_files`` (plain
text, one prompt a line with ``#`` comments; JSONL; CSV with a prompt column and option columns, a ``model``
column allowed): ``read_prompt_file(path)`` then ``plan_file(registry, rows, request, model=…)``. Where that
module is missing (this branch was cut before it), a small reader of the same formats stands in
(:func:`stand_in_plan`), so the TUI's flow (pick, plan, show, submit) works and is tested either way. No
Textual here: it runs in a worker thread.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from seedream_tui.batch.plan import BatchPlan, PlannedJob, numbered
from seedream_tui.batch.planner import MAX_JOBS, PlanError, PlanRequest, make_plan
from seedream_tui.safetext import quoted, visible
from seedream_tui.schema import ModelRegistry, ModelSpec, coerce_value, validate_input

#: the suffixes the file picker lists for a prompt file
PROMPT_FILE_SUFFIXES = frozenset({".txt", ".jsonl", ".csv"})
#: bigger files are refused with a sentence before they are read
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_LINE_CHARS = 20_000


def plan_prompt_file(
    registry: ModelRegistry, spec: ModelSpec, path: str | Path, request: PlanRequest
) -> BatchPlan:
    """The plan of a prompt file: each row's prompt (and options, and model; else ``spec``'s) over ``request``'s
    inputs, each made ``request.repeat`` times and over its sweeps. PlanError (a sentence naming the line) when
    it cannot be."""
    try:
        prompt_files: Any = importlib.import_module("seedream_tui.batch.prompt_files")
    except ImportError:
        return stand_in_plan(registry, spec, path, request)
    rows = prompt_files.read_prompt_file(path)
    plan: BatchPlan = prompt_files.plan_file(registry, rows, request, model=spec.model_id)
    return plan


def stand_in_plan(
    registry: ModelRegistry, spec: ModelSpec, path: str | Path, request: PlanRequest
) -> BatchPlan:
    """:func:`plan_prompt_file` without ``batch/prompt_files.py``: the same formats, fewer checks."""
    path = Path(path)
    jobs: list[PlannedJob] = []
    for line, (row_spec, inputs) in _rows(registry, spec, path, request.inputs):
        row = make_plan(row_spec, replace(request, inputs=inputs, source=str(path)))
        jobs.extend(replace(job, variant={"row": line, **job.variant}) for job in row.jobs)
        if len(jobs) > MAX_JOBS:
            raise PlanError(f"{path.name} makes more than {MAX_JOBS:,} jobs: split it, or repeat fewer times.")
    if not jobs:
        raise PlanError(f"{path.name} has no prompt in it (blank lines and # comments are skipped).")
    lines = sorted({job.variant["row"] for job in jobs})
    return BatchPlan(numbered(jobs), source=str(path), label=path.name,
                     notes=(f"{len(lines):,} prompts from {path.name}.", *request.notes))


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PlanError(f"{path.name} is {size / 1e6:,.0f} MB: a prompt file may be up to "
                            f"{MAX_FILE_BYTES // 2**20} MB.")
        data = path.read_bytes()
    except OSError as exc:
        raise PlanError(f"Could not read {quoted(str(path))}: {exc.strerror or exc}.") from None
    if b"\x00" in data:
        raise PlanError(f"{path.name} is not a text file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PlanError(f"{path.name} is not UTF-8 text.") from None


def _rows(
    registry: ModelRegistry, spec: ModelSpec, path: Path, base: dict[str, Any]
) -> list[tuple[int, tuple[ModelSpec, dict[str, Any]]]]:
    """(line number, (model, inputs)) per prompt of the file."""
    text = _read_text(path)
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise PlanError(f"Line {number} of {path.name} is {len(line):,} characters long "
                            f"(at most {MAX_LINE_CHARS:,}).")
    suffix = path.suffix.lower()
    records: list[tuple[int, dict[str, Any]]] = []
    if suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise PlanError(f"Line {number} of {path.name} is not JSON.") from None
            if isinstance(record, str):
                record = {"prompt": record}
            if not isinstance(record, dict):
                raise PlanError(f"Line {number} of {path.name} is not an object with a prompt.")
            records.append((number, record))
    elif suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        for record in reader:
            values = {k.strip(): v for k, v in record.items() if isinstance(k, str) and v not in (None, "")}
            if values:
                records.append((reader.line_num, values))
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                records.append((number, {"prompt": line.strip()}))
    out: list[tuple[int, tuple[ModelSpec, dict[str, Any]]]] = []
    for number, record in records:
        row_spec = spec
        model = record.pop("model", None)
        if model:
            try:
                row_spec = registry.get(str(model))
            except KeyError:
                raise PlanError(f"Line {number} of {path.name}: there is no model {quoted(str(model))}.") from None
        names = {f.name for f in row_spec.fields}
        unknown = [k for k in record if k not in names]
        if unknown:
            raise PlanError(f"Line {number} of {path.name}: {row_spec.title or row_spec.model_id} has no option "
                            f"{quoted(visible(unknown[0]))}.", field=unknown[0])
        inputs = {k: v for k, v in base.items() if k in names} if row_spec is not spec else dict(base)
        inputs.update(_typed(row_spec, number, path, record))
        errors = validate_input(row_spec, inputs).errors  # the whole job, as it will be sent: never half a batch
        if errors:
            name, sentence = next(iter(errors.items()))
            raise PlanError(f"Line {number} of {path.name}: {sentence}", field=name)
        out.append((number, (row_spec, inputs)))
    return out


def _typed(spec: ModelSpec, number: int, path: Path, record: dict[str, Any]) -> dict[str, Any]:
    """A row's values as the schema's types, each checked; PlanError naming the line and the option."""
    values: dict[str, Any] = {}
    for name, raw in record.items():
        field = spec.field(name)
        try:
            values[name] = coerce_value(field, raw) if isinstance(raw, str) else raw
        except ValueError as exc:
            raise PlanError(f"Line {number} of {path.name}: {exc}", field=name) from None
    return values
