"""Prompt files in the TUI (issue 21): the one place the TUI turns a file into a plan.

The file formats belong to :mod:`seedream_tui.batch.prompt_files` (plain text, one prompt a line with ``#``
comments; JSONL; CSV with a prompt column and option columns, a ``model`` column allowed). No Textual here:
it runs in a worker thread.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from seedream_tui.batch.plan import BatchPlan
from seedream_tui.batch.planner import PlanRequest
from seedream_tui.batch.prompt_files import plan_file, read_prompt_file
from seedream_tui.schema import ModelRegistry, ModelSpec

#: the suffixes the file picker lists for a prompt file
PROMPT_FILE_SUFFIXES = frozenset({".txt", ".jsonl", ".csv"})


def plan_prompt_file(
    registry: ModelRegistry, spec: ModelSpec, path: str | Path, request: PlanRequest
) -> BatchPlan:
    """The plan of a prompt file: each row's prompt (and options, and model; else ``spec``'s) over ``request``'s
    inputs, repeats and sweeps. PlanError (a sentence naming the line) when it cannot be."""
    if request.source in ("", "submit"):  # the batch is named and sourced by its file
        request = replace(request, source=str(path))
    return plan_file(registry, read_prompt_file(path), request, model=spec.model_id)
