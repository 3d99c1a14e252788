"""Reading hostile schema files: the reader is linear, so none of them can stall a start.

Before issue 9 a 200,000-value enum or 200,000 spaces in a description took 3-5 minutes per file (deaf to
Ctrl-C). Now such files are refused by their caps at once, and the slowest file under every cap (4 MB,
150 descriptions of 19,000 blanks after a number, the run the old word-limit pattern split every way) is
read in well under a second.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._common import figure  # noqa: E402
from seedream_tui.schema.reader import load_schema_file  # noqa: E402
from seedream_tui.schema.spec import SchemaError  # noqa: E402


def _schema(props: dict[str, object]) -> str:
    return json.dumps({"model_id": "acme/bench", "input_schema": {"type": "object", "properties": props}})


CASES = {
    "enum_200k": _schema({"prompt": {"type": "string"},
                          "size": {"type": "string", "enum": [f"{i}x{i}" for i in range(200_000)]}}),
    "description_200k_spaces": _schema({"prompt": {"type": "string", "description": "1" + " " * 200_000 + "x"}}),
    "under_caps_worst": _schema({f"f{i}": {"type": "string", "description": "1" + " " * 19_000 + "x"}
                                 for i in range(150)}),
    "required_200k_names": json.dumps({"model_id": "acme/bench", "input_schema": {
        "type": "object", "properties": {f"f{i}": {"type": "string"} for i in range(500)},
        "required": [f"r{i}" for i in range(200_000)]}}),
    "enum_1000_choices": _schema({"prompt": {"type": "string"},
                                  "size": {"type": "string", "enum": [f"{i}x{i}" for i in range(1000)]}}),
}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, text in CASES.items():
            path = Path(folder) / f"{name}.json"
            path.write_text(text, encoding="utf-8")
            best = float("inf")
            outcome = "read"
            for _ in range(3):
                start = time.perf_counter()
                try:
                    load_schema_file(path)
                except SchemaError:
                    outcome = "refused"
                best = min(best, time.perf_counter() - start)
            figure(f"schema_{name}_ms ({len(text) // 1024} KB, {outcome})", best * 1000, "< 1000 ms")


if __name__ == "__main__":
    main()
