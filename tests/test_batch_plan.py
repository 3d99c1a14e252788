"""The batch planner (issue 21): variants in the prompt, sweeps checked against the schema, repeats with
distinct seeds, sampling, the job limit counted before anything is built, prices."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from seedream_tui.batch.planner import MAX_JOBS, PlanError, PlanRequest, Sweep, make_plan, parse_sweep
from seedream_tui.schema import ModelRegistry, ModelSpec, parse_schema

SEEDREAM = "bytedance/seedream-5/lite/text-to-image"
FLUX = "blackforestlabs/flux-2/flash/text-to-image"
MODELS = Path(__file__).resolve().parent.parent / "seedream_tui" / "schema" / "models"


def spec_of(model_id: str, **price: Any) -> ModelSpec:
    if not price:
        return ModelRegistry.bundled().get(model_id)
    data = json.loads((MODELS / (model_id.replace("/", "__") + ".json")).read_text())
    return parse_schema({**data, **price}, key=model_id)


def plan(prompt: str, *, model: str = SEEDREAM, **kw: Any) -> Any:
    inputs = kw.pop("inputs", {})
    return make_plan(spec_of(model), PlanRequest({"prompt": prompt, **inputs}, **kw))


def refused(prompt: str, **kw: Any) -> PlanError:
    with pytest.raises(PlanError) as caught:
        plan(prompt, **kw)
    return caught.value


# ---------------------------------------------------------------- variants
def test_every_combination_of_the_variants_with_an_axis_per_group() -> None:
    made = plan("a {red|arctic} fox in {snow|fog}")
    assert [j.inputs["prompt"] for j in made.jobs] == [
        "a red fox in snow", "a red fox in fog", "a arctic fox in snow", "a arctic fox in fog"]
    assert [(a.key, a.values) for a in made.axes] == [("prompt{1}", ("red", "arctic")), ("prompt{2}", ("snow", "fog"))]
    assert made.jobs[2].variant == {"prompt{1}": "arctic", "prompt{2}": "snow", "prompt": "a arctic fox in snow"}
    json.dumps([j.variant for j in made.jobs])  # kept as JSON in the history
    json.dumps(made.record())


def test_pick_several_nested_variants_custom_joiner_and_literal_braces() -> None:
    assert [j.inputs["prompt"] for j in plan("{2$$a|b|c}").jobs] == ["a, b", "a, c", "b, c"]
    assert [j.inputs["prompt"] for j in plan("{1-2$$ and $$x|y}").jobs] == ["x", "y", "x and y"]
    assert [j.inputs["prompt"] for j in plan("a {big {red|blue}|small} fox").jobs] == [
        "a big red fox", "a big blue fox", "a small fox"]
    assert [j.inputs["prompt"] for j in plan(r"a \{sign\} {a|b}").jobs] == ["a {sign} a", "a {sign} b"]
    one = plan(r"json \{x: 1\} \| \\")
    assert one.count == 1 and one.jobs[0].inputs["prompt"] == "json {x: 1} | \\"


@pytest.mark.parametrize(("prompt", "column", "words"), [
    ("a {red|blue fox", 3, "never closed"),
    ("a {red} fox}", 12, "closes no"),  # (a prompt with no "{" at all is plain text, "}" and all)
    ("a {} fox", 3, "no choices"),
    ("x {3$$a|b}", 3, "asks for 3"),
    ("{3-1$$a|b|c}", 1, "must not be larger"),
    ("{" * 25 + "a" + "}" * 25, 21, "nested"),
])
def test_a_variant_syntax_error_points_at_its_column(prompt: str, column: int, words: str) -> None:
    error = refused(prompt)
    assert error.column == column and f"column {column}" in str(error) and words in str(error)
    assert error.field == "prompt"


def test_an_empty_expansion_is_a_sentence() -> None:
    error = refused("{|}")
    assert "empty" in str(error) and "every job needs a prompt" in str(error)


def test_plain_prompts_never_import_the_variant_reader() -> None:
    code = ("import sys\nimport seedream_tui.cli\n"
            "from seedream_tui.batch.planner import make_plan, PlanRequest\n"
            "from seedream_tui.schema import ModelRegistry\n"
            "make_plan(ModelRegistry.bundled().default(), PlanRequest({'prompt': 'a fox'}, repeat=2))\n"
            "print('seedream_tui.batch.variants' in sys.modules, 'dynamicprompts' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr
    code = "import sys\nimport seedream_tui.cli\nprint('seedream_tui.batch.planner' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


# ---------------------------------------------------------------- sweeps
def test_sweep_values_are_converted_by_the_schema() -> None:
    made = plan("a fox", inputs={"sequential_image_generation": "auto"}, sweeps=[parse_sweep("max_images=1..4")])
    assert [j.inputs["max_images"] for j in made.jobs] == [1, 2, 3, 4]
    assert made.axes[0].key == "max_images" and made.axes[0].values == (1, 2, 3, 4)
    made = plan("a fox", model=FLUX, sweeps=[parse_sweep("guidance_scale=1.5, 3"), parse_sweep("seed=7,8")])
    assert [(j.inputs["guidance_scale"], j.inputs["seed"]) for j in made.jobs] == [(1.5, 7), (1.5, 8), (3.0, 7), (3.0, 8)]
    assert made.jobs[3].variant == {"guidance_scale": 3.0, "seed": 8}
    made = plan("a fox", sweeps=[parse_sweep('resolution=["2K", "2048x2048 (1:1)"]')])
    assert [j.inputs["resolution"] for j in made.jobs] == ["2K", "2048x2048 (1:1)"]


def test_a_sweep_value_the_schema_refuses_names_key_and_value() -> None:
    error = refused("a fox", sweeps=[parse_sweep("resolution=2K,9K")])
    assert error.field == "resolution" and "'9K'" in str(error) and "resolution" in str(error)
    error = refused("a fox", model=FLUX, sweeps=[parse_sweep("guidance_scale=1,99")])
    assert error.field == "guidance_scale" and "99" in str(error)
    error = refused("a fox", model=FLUX, sweeps=[parse_sweep("seed=1,lots")])
    assert error.field == "seed" and "'lots'" in str(error)


def test_an_unknown_sweep_key_lists_the_options() -> None:
    error = refused("a fox", sweeps=[parse_sweep("colour=red,blue")])
    assert error.field == "colour" and "resolution" in str(error) and "output_format" in str(error)


def test_a_sweep_that_changes_nothing_is_refused() -> None:
    error = refused("a fox", sweeps=[parse_sweep("max_images=1,2")])
    assert error.field == "max_images" and "sequential_image_generation" in str(error)


@pytest.mark.parametrize("text", ["resolution", "=2K", "seed=", "seed=[1", "seed=5..1", "seed=1..100000"])
def test_bad_sweep_text_is_a_sentence(text: str) -> None:
    with pytest.raises(PlanError) as caught:
        parse_sweep(text)
    assert str(caught.value).endswith(".")


# ---------------------------------------------------------------- repeats
def test_repeats_get_distinct_seeds_kept_in_the_variant() -> None:
    made = plan("a fox", model=FLUX, repeat=3, inputs={"seed": 40})
    assert [j.inputs["seed"] for j in made.jobs] == [40, 41, 42]
    assert [j.variant for j in made.jobs] == [{"repeat": 1, "seed": 40}, {"repeat": 2, "seed": 41},
                                              {"repeat": 3, "seed": 42}]
    drawn = plan("a fox", model=FLUX, repeat=4, seed=5)
    seeds = [j.inputs["seed"] for j in drawn.jobs]
    assert len(set(seeds)) == 4 and seeds == [j.variant["seed"] for j in drawn.jobs]
    assert seeds == [j.inputs["seed"] for j in plan("a fox", model=FLUX, repeat=4, seed=5).jobs]  # reproducible


def test_repeats_of_a_model_without_seed_are_the_same_input() -> None:
    made = plan("a {red|blue} fox", repeat=2)
    assert [j.inputs for j in made.jobs] == [{"prompt": "a red fox"}] * 2 + [{"prompt": "a blue fox"}] * 2
    assert made.axes[-1].key == "repeat" and made.jobs[1].variant["repeat"] == 2


# ---------------------------------------------------------------- size: counted first, sampled
def test_too_many_jobs_are_refused_before_they_are_built() -> None:
    many = "{" + "|".join(map(str, range(100))) + "} {" + "|".join(map(str, range(100))) + "}"
    error = refused(many)
    assert "10,000 jobs" in str(error) and "--sample" in str(error)
    huge = "{a|b} " * 60  # 2**60 prompts: counted, never built
    assert "--sample" in str(refused(huge))
    error = refused("a fox", model=FLUX, sweeps=[parse_sweep("seed=1..600")], repeat=2)
    assert f"{1200:,} jobs" in str(error) and f"{MAX_JOBS:,}" in str(error)


def test_a_sample_is_random_reproducible_and_says_so() -> None:
    many = "{" + "|".join(map(str, range(100))) + "} {" + "|".join(map(str, range(100))) + "}"
    first = plan(many, sample=50, seed=11)
    again = plan(many, sample=50, seed=11)
    prompts = [j.inputs["prompt"] for j in first.jobs]
    assert len(set(prompts)) == 50 and prompts == [j.inputs["prompt"] for j in again.jobs]
    assert prompts != [j.inputs["prompt"] for j in plan(many, sample=50, seed=12).jobs]
    assert any("50 of 10,000" in n and "seed 11" in n for n in first.notes)
    huge = plan("{a|b} " * 60, sample=5, seed=1)
    assert huge.count == 5 and any("1,152,921,504,606,846,976" in n for n in huge.notes)
    everything = plan("{a|b}", sample=10)
    assert everything.count == 2 and any("covers all" in n for n in everything.notes)
    assert "--sample" in str(refused(many, sample=MAX_JOBS + 1))


# ---------------------------------------------------------------- prices
def test_each_job_is_priced_and_the_plan_sums_them() -> None:
    spec = spec_of(SEEDREAM, base_price_usd=0.03, price_unit="output")
    made = make_plan(spec, PlanRequest({"prompt": "a {red|blue} fox"}, sweeps=[Sweep("output_format", ("png", "jpeg"))]))
    assert [j.price_usd for j in made.jobs] == [0.03] * 4
    assert made.total_usd == pytest.approx(0.12) and not made.quote.upper_bound
    capped = make_plan(spec, PlanRequest({"prompt": "a fox", "sequential_image_generation": "auto"},
                                         sweeps=[Sweep("max_images", ("1", "3"))]))
    assert [j.price_usd for j in capped.jobs] == pytest.approx([0.03, 0.09])
    assert capped.total_usd == pytest.approx(0.12) and capped.quote.upper_bound and "up to" in capped.quote.text
    assert capped.to_json() == {"jobs": [
        {"model": SEEDREAM, "inputs": {"prompt": "a fox", "sequential_image_generation": "auto", "max_images": 1},
         "price_usd": 0.03},
        {"model": SEEDREAM, "inputs": {"prompt": "a fox", "sequential_image_generation": "auto", "max_images": 3},
         "price_usd": pytest.approx(0.09)},
    ], "total_usd": pytest.approx(0.12)}
