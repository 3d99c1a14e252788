"""Planning a batch (issue 21): a 1,000-job plan (variants × sweeps) is made, validated and priced in well
under a second; 10,000 expanded prompts (and 2**60) are refused at once, or sampled without being built;
a 1,000-row prompt file is read and planned as fast.

    python bench/bench_plan.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._common import figure  # noqa: E402
from seedream_tui.batch.planner import PlanError, PlanRequest, make_plan, parse_sweep  # noqa: E402
from seedream_tui.batch.prompt_files import plan_file, read_prompt_file  # noqa: E402
from seedream_tui.schema import ModelRegistry  # noqa: E402


def best_ms(run: Callable[[], Any], rounds: int = 5) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        try:
            result = run()
        except PlanError as exc:
            result = exc
        best = min(best, time.perf_counter() - start)
    return best * 1000, result


def main() -> None:
    registry = ModelRegistry.bundled()
    spec = registry.default()
    colours = "|".join(f"colour{i}" for i in range(25))
    # 25 × 4 prompts × 2 resolutions × 5 image counts = 1,000 jobs
    thousand = PlanRequest(
        {"prompt": f"a {{{colours}}} fox in {{snow|fog|rain|sun}}", "sequential_image_generation": "auto"},
        sweeps=[parse_sweep("resolution=2K,3K"), parse_sweep("max_images=1..5")],
    )
    ms, plan = best_ms(lambda: make_plan(spec, thousand))
    figure("plan_1000_jobs_ms", ms, "< 1000")
    assert plan.count == 1000, plan

    many = "{" + "|".join(map(str, range(100))) + "} {" + "|".join(map(str, range(100))) + "}"
    ms, refused = best_ms(lambda: make_plan(spec, PlanRequest({"prompt": many})))
    figure("refuse_10000_prompts_ms", ms, "< 100")
    assert isinstance(refused, PlanError), refused
    ms, sampled = best_ms(lambda: make_plan(spec, PlanRequest({"prompt": many}, sample=1000, seed=1)))
    figure("sample_1000_of_10000_prompts_ms", ms, "< 1000")
    assert sampled.count == 1000
    huge = "{a|b} " * 60
    ms, refused = best_ms(lambda: make_plan(spec, PlanRequest({"prompt": huge})))
    figure("refuse_2e60_prompts_ms", ms, "< 100")
    ms, sampled = best_ms(lambda: make_plan(spec, PlanRequest({"prompt": huge}, sample=100, seed=1)))
    figure("sample_100_of_2e60_prompts_ms", ms, "< 1000")

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "prompts.txt")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("# a thousand prompts\n" + "".join(f"prompt number {i}, a fox in the snow\n" for i in range(1000)))
        ms, plan = best_ms(lambda: plan_file(registry, read_prompt_file(path), PlanRequest({}, source=path)))
        figure("prompt_file_1000_rows_ms", ms, "< 1000")
        assert plan.count == 1000
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("".join(f"prompt number {i}, a {{red|blue}} fox\n" for i in range(10_000)))
        ms, plan = best_ms(lambda: plan_file(registry, read_prompt_file(path),
                                             PlanRequest({}, source=path, sample=1000, seed=1)), rounds=3)
        figure("prompt_file_10000_rows_sample_1000_ms", ms, "< 1000")
        assert plan.count == 1000
        with open(path, "w", encoding="utf-8") as handle:  # 20 MB of one-letter lines: more rows than allowed
            handle.write("x\n" * (10 * 1024 * 1024 - 1))
        ms, refused = best_ms(lambda: read_prompt_file(path), rounds=1)
        figure("refuse_20mb_file_of_10m_lines_ms", ms, "< 2000")
        assert isinstance(refused, PlanError), refused


if __name__ == "__main__":
    main()
