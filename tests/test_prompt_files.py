"""Prompt files (issue 21): plain text, JSONL, CSV; each bad input a sentence with its line; every row
combined with the sweeps and repeats; a row's own model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from seedream_tui.batch.planner import PlanError, PlanRequest, parse_sweep
from seedream_tui.batch.prompt_files import (
    MAX_FILE_BYTES,
    PromptFileError,
    PromptRow,
    plan_file,
    read_prompt_file,
)
from seedream_tui.schema import ModelRegistry

SEEDREAM = "bytedance/seedream-5/lite/text-to-image"
FLUX = "blackforestlabs/flux-2/flash/text-to-image"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def planned(rows: list[PromptRow], **kw: object) -> object:
    return plan_file(ModelRegistry.bundled(), rows, PlanRequest({}, **kw))  # type: ignore[arg-type]


def test_plain_text_one_prompt_a_line_with_comments(tmp_path: Path) -> None:
    path = write(tmp_path, "prompts.txt", "# my prompts\n\na red fox\n  # indented comment\n\\#1 hit\r\na {cat|dog}\n")
    rows = read_prompt_file(path)
    assert rows == [PromptRow(3, "a red fox"), PromptRow(5, "#1 hit"), PromptRow(6, "a {cat|dog}")]
    plan = plan_file(ModelRegistry.bundled(), rows, PlanRequest({}, source=str(path)))
    assert [j.inputs["prompt"] for j in plan.jobs] == ["a red fox", "#1 hit", "a cat", "a dog"]
    assert plan.axes[0].key == "row" and plan.axes[0].values == (3, 5, 6)
    assert plan.jobs[3].variant == {"row": 6, "prompt{1}": "dog", "prompt": "a dog"}
    assert plan.label == "prompts.txt" and plan.source == str(path)


def test_jsonl_rows_with_options_and_their_own_model(tmp_path: Path) -> None:
    path = write(tmp_path, "p.jsonl", '{"prompt": "a fox", "resolution": "2K"}\n\n'
                 f'{{"prompt": "a dog", "model": "{FLUX}", "seed": 5, "guidance_scale": "3"}}\n')
    rows = read_prompt_file(path)
    plan = planned(rows)
    assert [(j.model_id, j.inputs) for j in plan.jobs] == [  # type: ignore[attr-defined]
        (SEEDREAM, {"resolution": "2K", "prompt": "a fox"}),
        (FLUX, {"seed": 5, "guidance_scale": 3.0, "prompt": "a dog"}),
    ]


def test_csv_columns_per_row_model_and_empty_cells(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", f'prompt,model,output_format\n"a fox, red",,jpeg\na dog,{FLUX},\n')
    plan = planned(read_prompt_file(path))
    assert [(j.model_id, j.inputs) for j in plan.jobs] == [  # type: ignore[attr-defined]
        (SEEDREAM, {"output_format": "jpeg", "prompt": "a fox, red"}),
        (FLUX, {"prompt": "a dog"}),
    ]


def test_rows_times_variants_sweeps_and_repeats(tmp_path: Path) -> None:
    rows = read_prompt_file(write(tmp_path, "p.txt", "a {red|blue} fox\na cat\n"))
    plan = planned(rows, sweeps=[parse_sweep("output_format=png,jpeg")], repeat=2)
    assert plan.count == (2 + 1) * 2 * 2  # type: ignore[attr-defined]
    assert [j.variant for j in plan.jobs][-1] == {  # type: ignore[attr-defined]
        "row": 2, "prompt": "a cat", "output_format": "jpeg", "repeat": 2}
    assert [a.key for a in plan.axes] == ["row", "output_format", "repeat"]  # type: ignore[attr-defined]


def test_sampling_over_all_rows(tmp_path: Path) -> None:
    text = "".join(f"prompt {i} {{a|b|c|d}}\n" for i in range(400))  # 1,600 combinations
    rows = read_prompt_file(write(tmp_path, "p.txt", text))
    with pytest.raises(PlanError) as caught:
        planned(rows)
    assert "1,600 jobs" in str(caught.value) and "--sample" in str(caught.value)
    plan = planned(rows, sample=20, seed=3)
    assert plan.count == 20 and len({j.inputs["prompt"] for j in plan.jobs}) == 20  # type: ignore[attr-defined]


# ---------------------------------------------------------------- bad input: a sentence each
def sentence(path: Path) -> PromptFileError:
    with pytest.raises(PromptFileError) as caught:
        read_prompt_file(path)
    text = str(caught.value)
    assert text.endswith(".") and "Traceback" not in text
    return caught.value


def test_a_2_gb_file_is_refused_by_its_size_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse: no 2 GB written
    error = sentence(path)
    assert "2 GB" in str(error) and f"{MAX_FILE_BYTES // 1024**2} MB" in str(error)


def test_a_line_of_1_mb_is_refused(tmp_path: Path) -> None:
    error = sentence(write(tmp_path, "p.txt", "ok\n" + "x" * (1024 * 1024) + "\n"))
    assert error.line == 2 and "Line 2" in str(error) and "1 MB" in str(error)


def test_a_file_that_is_not_text(tmp_path: Path) -> None:
    error = sentence(write(tmp_path, "p.txt", b"a fox\n\x89PNG\r\n\x1a\n\x00\x00"))
    assert "not a text file" in str(error) and error.line == 4  # the NUL after the PNG signature's line ends
    error = sentence(write(tmp_path, "q.txt", b"a fox\nna\xefve \xff\n"))
    assert "not UTF-8" in str(error) and "line 2" in str(error)


def test_an_empty_file_and_one_of_comments(tmp_path: Path) -> None:
    assert "empty" in str(sentence(write(tmp_path, "p.txt", "")))
    assert "no prompts" in str(sentence(write(tmp_path, "q.txt", "# only a comment\n\n")))


def test_bad_jsonl_names_the_line(tmp_path: Path) -> None:
    error = sentence(write(tmp_path, "p.jsonl", '{"prompt": "a"}\n{"prompt": "b",\n'))
    assert "Line 2" in str(error) and "not valid JSON" in str(error) and error.line == 2
    assert "not a JSON object" in str(sentence(write(tmp_path, "q.jsonl", '["a fox"]\n')))
    assert "no prompt" in str(sentence(write(tmp_path, "r.jsonl", '{"resolution": "2K"}\n')))
    assert "not text" in str(sentence(write(tmp_path, "s.jsonl", '{"prompt": 7}\n')))


def test_an_unknown_option_in_a_csv_row_or_jsonl_key(tmp_path: Path) -> None:
    rows = read_prompt_file(write(tmp_path, "p.csv", "prompt,colour\na fox,red\n"))
    with pytest.raises(PlanError) as caught:
        planned(rows)
    assert caught.value.field == "colour" and "Line 2" in str(caught.value) and "resolution" in str(caught.value)
    rows = read_prompt_file(write(tmp_path, "p.jsonl", '{"prompt": "a"}\n{"prompt": "b", "size": 3}\n'))
    with pytest.raises(PlanError) as caught:
        planned(rows)
    assert caught.value.line == 2 and "'size'" in str(caught.value)


def test_a_bad_value_unknown_model_and_variant_error_name_the_line(tmp_path: Path) -> None:
    cases = {
        "prompt,resolution\na,2K\nb,9K\n": ("Line 3", "9K"),
        'prompt,model\na,nobody/none\n': ("Line 2", "unknown model 'nobody/none'"),
        "fine\nbroken {variant\n": ("Line 2", "column 8"),
    }
    for n, (content, (where, words)) in enumerate(cases.items()):
        name = f"f{n}.csv" if content.startswith("prompt,") else f"f{n}.txt"
        rows = read_prompt_file(write(tmp_path, name, content))
        with pytest.raises(PlanError) as caught:
            planned(rows)
        assert where in str(caught.value) and words in str(caught.value), str(caught.value)


def test_csv_header_faults(tmp_path: Path) -> None:
    assert "no 'prompt' column" in str(sentence(write(tmp_path, "a.csv", "text,seed\nx,1\n")))
    error = sentence(write(tmp_path, "b.csv", "prompt,seed\nx,1,2\n"))
    assert "Line 2" in str(error) and "3 cells" in str(error)


def test_a_missing_file_and_a_folder(tmp_path: Path) -> None:
    assert "There is no file" in str(sentence(tmp_path / "nothing.txt"))
    os.mkdir(tmp_path / "dir")
    assert "folder" in str(sentence(tmp_path / "dir"))


def test_a_file_of_more_prompts_than_a_batch_is_refused_before_planning(tmp_path: Path) -> None:
    rows = read_prompt_file(write(tmp_path, "p.txt", "".join(f"prompt {i}\n" for i in range(5000))))
    with pytest.raises(PlanError) as caught:
        planned(rows)
    assert "at least 5,000 jobs" in str(caught.value) and "--sample" in str(caught.value)
    assert planned(rows, sample=10, seed=1).count == 10  # type: ignore[attr-defined]
    many = write(tmp_path, "q.txt", "x\n" * 10_001)
    assert "more than the 10,000 prompts" in str(sentence(many))
