"""Prompt files: many prompts (each with its own options and model) as one batch. Pure: no printing.

    read_prompt_file(path) -> list[PromptRow]           (PromptFileError, a sentence with the line, if bad)
    plan_file(registry, rows, request) -> BatchPlan     (PlanError as make_plan; each job its row's model)

Formats, by the file's name (``.jsonl``/``.ndjson``, ``.csv``; anything else is plain text, unless its first
line that is not blank is a JSON object: then JSONL):

- **plain text**: one prompt per line; blank lines and lines starting with ``#`` are skipped (write ``\\#`` to
  start a prompt with ``#``).
- **JSONL**: one JSON object per line: ``"prompt"`` (text), an optional ``"model"`` (id or schema key), and any
  of the model's options (``{"prompt": "a fox", "resolution": "2K"}``); blank and ``#`` lines skipped.
- **CSV**: a header row naming the columns: ``prompt``, an optional ``model``, and options; an empty cell
  leaves that option unset for the row.

Each row's prompt may hold variants (``a {red|blue} fox``) and every row is combined with the request's
sweeps and repeats. Refused with a sentence, before anything is planned or sent: a file over
:data:`MAX_FILE_BYTES` (its size is read first), a line over :data:`MAX_LINE_BYTES`, bytes that are not
UTF-8 text (or hold NUL), bad JSON, a row with no prompt, an unknown option or model, an empty file.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seedream_tui.batch.plan import BatchPlan
from seedream_tui.batch.planner import MAX_JOBS, PlanError, PlanRequest, Segment, plan_segments

#: the largest prompt file read (a file of prompts is kilobytes; 20 MB is thousands of long prompts)
MAX_FILE_BYTES = 20 * 1024 * 1024
#: the longest line (a prompt is words, not megabytes; as ``submit -`` reads at most)
MAX_LINE_BYTES = 256 * 1024
#: the most prompts a file may hold (a batch is at most MAX_JOBS jobs; more rows can only be sampled)
MAX_ROWS = 10_000
#: the formats a file may be read as
FORMATS = ("text", "jsonl", "csv")


class PromptFileError(PlanError):
    """A prompt file that cannot be read: ``str()`` is a sentence naming the file (and the line, if one)."""


@dataclass(frozen=True)
class PromptRow:
    """One prompt of a file: its line (from 1), its text, its options as written and its model (or None)."""

    line: int
    prompt: str
    options: dict[str, Any] = field(default_factory=dict)
    model: str | None = None


def detect_format(path: str | Path, text: str | None = None) -> str:
    """``text``, ``jsonl`` or ``csv``: from the name, or (text files) from a first line that is a JSON object."""
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if text is not None and suffix != ".txt":
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("{") and line.endswith("}"):
                try:
                    return "jsonl" if isinstance(json.loads(line), dict) else "text"
                except ValueError:
                    return "text"
            return "text"
    return "text"


def read_prompt_file(path: str | Path, *, kind: str | None = None) -> list[PromptRow]:
    """The rows of a prompt file; PromptFileError (a sentence) when it cannot be used. The size is checked
    before a byte is read, so a 2 GB file is refused at once."""
    name = str(path)
    try:
        size = os.stat(path).st_size
        if Path(path).is_dir():
            raise PromptFileError(f"{name} is a folder, not a prompt file.")
        if size > MAX_FILE_BYTES:
            raise PromptFileError(f"{name} is {_size(size)}, more than the {_size(MAX_FILE_BYTES)} a prompt file may "
                                  "be: nothing was read or sent.")
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except PromptFileError:
        raise
    except FileNotFoundError:
        raise PromptFileError(f"There is no file {name}.") from None
    except OSError as exc:
        raise PromptFileError(f"{name} could not be read: {exc.strerror or exc}.") from None
    if len(data) > MAX_FILE_BYTES:  # it grew while read (or stat lied: a pipe, /dev/zero)
        raise PromptFileError(f"{name} is more than the {_size(MAX_FILE_BYTES)} a prompt file may be: nothing was "
                              "read or sent.")
    return parse_prompt_bytes(data, name=name, kind=kind)


def parse_prompt_bytes(data: bytes, *, name: str = "the prompt file", kind: str | None = None) -> list[PromptRow]:
    """The rows of a prompt file's bytes (what :func:`read_prompt_file` read)."""
    text = _decode(data, name)
    kind = kind or detect_format(name, text)
    if kind not in FORMATS:
        raise PromptFileError(f"Unknown prompt file format {kind!r}; use one of {', '.join(FORMATS)}.")
    rows = {"text": _text_rows, "jsonl": _jsonl_rows, "csv": _csv_rows}[kind](text, name)
    if len(rows) > MAX_ROWS:
        raise PromptFileError(f"{name} has more than the {MAX_ROWS:,} prompts a prompt file may have: split it.")
    if not rows:
        raise PromptFileError(f"{name} has no prompts (only blank lines or # comments)." if text.strip()
                              else f"{name} is empty: it has no prompts.")
    return rows


def plan_file(
    registry: Any, rows: list[PromptRow], request: PlanRequest, *, model: str | None = None,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> BatchPlan:
    """One plan over every row (its variants × the request's sweeps × repeats): each row's model is its own
    ``model``, else ``model``, else the registry's default; its options are the model's ``defaults`` (from
    settings), then ``request.inputs`` (``--set``), then the row's own. PlanError (with ``line``) if any row
    cannot be planned."""
    repeat = request.repeat if isinstance(request.repeat, int) and request.repeat > 0 else 1
    if request.sample is None and len(rows) * repeat > MAX_JOBS:  # each row is a job at least: refused at once
        raise PlanError(f"That makes at least {len(rows) * repeat:,} jobs ({len(rows):,} prompts"
                        f"{f' × {repeat} repeats' if repeat > 1 else ''}), more than the {MAX_JOBS:,} a batch may "
                        "have: use --sample N to pick N of them at random.", field="sample")
    segments = []
    specs: dict[str | None, Any] = {}
    for row in rows:
        chosen = row.model or model
        try:
            spec = specs.get(chosen)
            if spec is None:
                spec = specs[chosen] = registry.get(chosen) if chosen else registry.default()
        except KeyError:
            known = ", ".join(dict.fromkeys(s.model_id for s in registry.list()))
            raise PlanError(f"Line {row.line}: unknown model {chosen!r}; known models: {known}.", field="model",
                            line=row.line) from None
        options = _options(spec, row.options, row.line)
        inputs = {**(defaults or {}).get(spec.model_id, {}), **_given(spec, request.inputs, row.line), **options,
                  "prompt": row.prompt}
        segments.append(Segment.make(spec, inputs, request.sweeps, line=row.line))
    label = Path(request.source).name if request.source not in ("", "submit") else f"{len(rows)} prompts"
    return plan_segments(segments, request, label=label, rows_axis=len(rows) > 1)


# ---------------------------------------------------------------- reading
def _decode(data: bytes, name: str) -> str:
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise PromptFileError(f"{name} is not a text file (it holds a NUL byte on line {line}): give a file of "
                              "prompts, one per line, or JSONL or CSV.", line=line)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PromptFileError(f"{name} is not UTF-8 text (an invalid byte on line {line}): save it as UTF-8.",
                              line=line) from None
    lines = text.split("\n")
    if len(text) > MAX_LINE_BYTES // 4 and max(map(len, lines)) > MAX_LINE_BYTES // 4:  # the longest line first
        for number, raw in enumerate(lines, 1):
            if len(raw) > MAX_LINE_BYTES // 4 and len(raw.encode("utf-8")) > MAX_LINE_BYTES:
                raise PromptFileError(f"Line {number} of {name} is {_size(len(raw.encode('utf-8')))}, more than the "
                                      f"{_size(MAX_LINE_BYTES)} a line may be: a prompt is words, not a file.",
                                      line=number)
    if len(lines) > MAX_ROWS and next(itertools.islice((x for x in lines if x.strip()), MAX_ROWS, None), None):
        raise PromptFileError(f"{name} has more than the {MAX_ROWS:,} prompts a prompt file may have: split it.")
    return text


def _text_rows(text: str, name: str) -> list[PromptRow]:
    rows = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("\\#"):
            line = line[1:]
        rows.append(PromptRow(number, line))
    return rows


def _jsonl_rows(text: str, name: str) -> list[PromptRow]:
    rows = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            why = getattr(exc, "msg", str(exc))
            raise PromptFileError(f"Line {number} of {name} is not valid JSON ({why}): each line must be an object "
                                  'like {"prompt": "a fox"}.', line=number) from None
        if not isinstance(item, dict):
            raise PromptFileError(f"Line {number} of {name} is not a JSON object: each line must be an object like "
                                  '{"prompt": "a fox"}.', line=number)
        rows.append(_row(number, dict(item), name))
    return rows


def _csv_rows(text: str, name: str) -> list[PromptRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            return []
        columns = [cell.strip() for cell in header]
        header_line = reader.line_num
        if "prompt" not in [c.lower() for c in columns]:
            raise PromptFileError(f"Line {header_line} of {name}: the CSV header has no 'prompt' column (it has: "
                                  f"{', '.join(repr(c) for c in columns)}).", line=header_line)
        seen: set[str] = set()
        for c in columns:
            key = c.lower() if c.lower() in ("prompt", "model") else c
            if not c:
                raise PromptFileError(f"Line {header_line} of {name}: a column of the CSV header has no name.",
                                      line=header_line)
            if key in seen:
                raise PromptFileError(f"Line {header_line} of {name}: the column {c!r} is named twice.",
                                      line=header_line)
            seen.add(key)
        rows = []
        start = reader.line_num + 1
        for cells in reader:
            number, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(columns):
                raise PromptFileError(f"Line {number} of {name} has {len(cells)} cells, the header {len(columns)}: "
                                      "quote a cell that holds a comma.", line=number)
            item = {}
            for column, cell in zip(columns, cells, strict=True):
                key = column.lower() if column.lower() in ("prompt", "model") else column
                if cell.strip() or key == "prompt":
                    item[key] = cell
            rows.append(_row(number, item, name))
        return rows
    except csv.Error as exc:
        raise PromptFileError(f"Line {reader.line_num} of {name} is not valid CSV ({exc}).",
                              line=reader.line_num) from None


def _row(number: int, item: dict[str, Any], name: str) -> PromptRow:
    prompt = item.pop("prompt", None)
    if not isinstance(prompt, str) or not prompt.strip():
        what = "no prompt" if prompt is None or isinstance(prompt, str) else f"a prompt that is not text ({prompt!r})"
        raise PromptFileError(f"Line {number} of {name} has {what}.", field="prompt", line=number)
    model = item.pop("model", None)
    if model is not None and not (isinstance(model, str) and model.strip()):
        raise PromptFileError(f"Line {number} of {name}: \"model\" must be a model id, not {model!r}.",
                              field="model", line=number)
    return PromptRow(number, prompt.strip(), item, model.strip() if model else None)


# ---------------------------------------------------------------- options
def _options(spec: Any, options: Mapping[str, Any], line: int) -> dict[str, Any]:
    """A row's options in the schema's types; PlanError naming the line and the option."""
    from seedream_tui.schema import FieldKind, coerce_value

    out: dict[str, Any] = {}
    for key, value in options.items():
        try:
            fld = spec.field(key)
        except KeyError:
            names = ", ".join(f.name for f in spec.fields)
            raise PlanError(f"Line {line}: unknown option {key!r} for {spec.model_id}; options are: {names}.",
                            field=key, line=line) from None
        if isinstance(value, str) and fld.kind not in (FieldKind.TEXT, FieldKind.MEDIA):
            try:
                value = coerce_value(fld, value)
            except ValueError as exc:
                raise PlanError(f"Line {line}: the value {value!r} for {key} is refused: {exc}", field=key,
                                line=line) from None
        out[key] = value
    return out


def _given(spec: Any, inputs: Mapping[str, Any], line: int) -> dict[str, Any]:
    """``--set`` options for every row: refused (naming the row) where the row's model has no such option."""
    names = {f.name for f in spec.fields}
    for key in inputs:
        if key not in names:
            raise PlanError(f"Line {line}: {spec.model_id} has no option {key!r} (given with --set); options are: "
                            f"{', '.join(sorted(names))}.", field=key, line=line)
    return {k: v for k, v in inputs.items() if k != "prompt"}


def _size(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"
