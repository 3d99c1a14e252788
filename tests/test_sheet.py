"""A batch's contact sheet: the layout by swept values, the PNG (labels drawn in, plan and ids in its metadata)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image

from seedream_tui.batch.plan import Axis
from seedream_tui.batch.sheet import META_KEY, cell_word, layout, render, write_sheet
from seedream_tui.jobs.model import Batch, Job, JobStatus, OutputFile

RES = Axis("resolution", ("1K", "2K", "4K"))
SEED = Axis("seed", (1, 2))


def job(job_id: int, place: int, variant: dict[str, Any], *, status: JobStatus = JobStatus.COMPLETED,
        path: str | None = None) -> Job:
    outputs = (OutputFile(0, "https://x/y.png", path=path, format="png"),) if path else ()
    return Job(id=job_id, model_id="m", inputs={"prompt": "a fox"}, status=status, created_at=0.0, updated_at=0.0,
               batch_id=1, batch_place=place, variant=variant, outputs=outputs)


def grid(axes: list[Axis]) -> list[Job]:
    import itertools

    out = []
    for place, combo in enumerate(itertools.product(*(a.values for a in axes))):
        out.append(job(100 + place, place, {a.key: v for a, v in zip(axes, combo, strict=True)}))
    return out


def test_two_axes_make_labelled_columns_and_rows() -> None:
    jobs = grid([RES, SEED])
    sheet = layout([RES, SEED], list(reversed(jobs)))  # any order in: placed by the variant
    assert (sheet.col_key, sheet.row_key) == ("resolution", "seed")
    [group] = sheet.groups
    assert group.col_labels == ("1K", "2K", "4K") and group.row_labels == ("1", "2")
    cell = {(r, c): j.variant for r, row in enumerate(group.cells) for c, j in enumerate(row) if j}
    assert cell[(0, 2)] == {"resolution": "4K", "seed": 1}
    assert cell[(1, 0)] == {"resolution": "1K", "seed": 2}


def test_one_axis_is_the_columns_and_wraps() -> None:
    many = Axis("prompt", tuple(f"p{i}" for i in range(10)))
    sheet = layout([many], grid([many]), wrap=4)
    assert sheet.col_key == "prompt" and sheet.row_key == ""
    assert [g.col_labels for g in sheet.groups] == [("p0", "p1", "p2", "p3"), ("p4", "p5", "p6", "p7"), ("p8", "p9")]
    assert [j.variant["prompt"] for j in sheet.jobs() if j] == [f"p{i}" for i in range(10)]


def test_a_third_axis_stacks_titled_groups_and_one_value_axes_are_not_dimensions() -> None:
    rep = Axis("repeat", (1, 2))
    fixed = Axis("model", ("only",))
    jobs = grid([RES, SEED, rep])
    sheet = layout([fixed, RES, SEED, rep], jobs)
    assert (sheet.col_key, sheet.row_key, sheet.group_keys) == ("resolution", "seed", ("repeat",))
    assert [g.title for g in sheet.groups] == ["repeat = 1", "repeat = 2"]
    second = sheet.groups[1].cells
    assert second[1][1] is not None and second[1][1].variant == {"resolution": "2K", "seed": 2, "repeat": 2}


def test_missing_and_failed_cells() -> None:
    jobs = grid([RES, SEED])
    jobs = [j for j in jobs if j.variant != {"resolution": "2K", "seed": 2}]
    jobs[0] = jobs[0].evolve(status=JobStatus.FAILED)
    stray = job(999, 9, {"resolution": "8K", "seed": 1})
    sheet = layout([RES, SEED], [*jobs, stray])
    main = sheet.groups[0].cells
    assert main[1][1] is None and cell_word(main[1][1]) == "missing"
    assert main[0][0] is not None and cell_word(main[0][0]) == "failed"
    assert sheet.groups[-1].title == "other" and sheet.groups[-1].cells[0][0] == stray


def test_no_axes_lays_the_jobs_out_in_plan_order() -> None:
    jobs = [job(7 + i, i, {}) for i in range(3)]
    sheet = layout([], jobs)
    assert [j.id for j in sheet.jobs() if j] == [7, 8, 9]


def _picture(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (600, 400)) -> str:
    Image.new("RGB", size, colour).save(path)
    return str(path)


def _rgb(image: Any) -> list[tuple[int, int, int]]:
    data = image.tobytes()
    return [(data[i], data[i + 1], data[i + 2]) for i in range(0, len(data), 3)]


def test_the_png_has_its_cells_labels_and_plan(tmp_path: Path) -> None:
    red = _picture(tmp_path / "red.png", (255, 0, 0))
    blue = _picture(tmp_path / "blue.jpg", (0, 0, 255), (1600, 1200))
    jobs = grid([RES, SEED])
    jobs[0] = jobs[0].evolve(outputs=(OutputFile(0, "u", path=red, format="png"),))
    jobs[1] = jobs[1].evolve(outputs=(OutputFile(0, "u", path=blue, format="jpeg"),))
    jobs[2] = jobs[2].evolve(status=JobStatus.FAILED)
    plan = {"axes": [{"key": "resolution", "values": list(RES.values)}, {"key": "seed", "values": [1, 2]}],
            "label": "a fox"}
    batch = Batch(id=7, created_at=0.0, label="a fox", plan=plan)
    out = write_sheet(batch, jobs, tmp_path / "sheet" / "s.png", cell=64)
    with Image.open(out) as img:
        img.load()
        text = img.text  # type: ignore[attr-defined]
        pixels = img.convert("RGB")
    meta = json.loads(text[META_KEY])
    assert meta["batch"] == 7 and meta["plan"] == plan
    assert sorted(i for i in meta["jobs"] if i) == sorted(j.id for j in jobs)
    # 3 columns of 64 px and the label column; 2 rows, a heading and a label line
    assert 3 * 64 < pixels.width < 3 * 64 + 120 and 2 * 64 < pixels.height < 2 * 64 + 100
    colours = set(_rgb(pixels))
    assert (255, 0, 0) in colours and any(b > 200 and r < 40 for r, _g, b in colours)  # both pictures, shrunk
    # the labels are drawn: dark pixels above the first row of cells (the column labels) and left of it (rows)
    sheet = layout([RES, SEED], jobs)
    reference = render(sheet, cell=64)
    assert reference.size == pixels.size
    top_band = pixels.crop((0, 0, pixels.width, 30))
    assert any(sum(p) < 200 for p in _rgb(top_band))
    left_band = pixels.crop((0, 40, 30, pixels.height))
    assert any(sum(p) < 200 for p in _rgb(left_band))


def test_no_finished_image_is_refused_with_a_sentence(tmp_path: Path) -> None:
    import pytest

    batch = Batch(id=3, created_at=0.0)
    with pytest.raises(ValueError, match="no finished images"):
        write_sheet(batch, [job(1, 0, {}, status=JobStatus.FAILED)], tmp_path / "s.png")
    assert not (tmp_path / "s.png").exists()


def test_an_unreadable_image_is_a_labelled_cell_not_an_error(tmp_path: Path) -> None:
    good = _picture(tmp_path / "good.png", (0, 200, 0))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    jobs = [job(1, 0, {"seed": 1}, path=good), job(2, 1, {"seed": 2}, path=str(broken))]
    batch = Batch(id=4, created_at=0.0, plan={"axes": [{"key": "seed", "values": [1, 2]}]})
    out = write_sheet(batch, jobs, tmp_path / "s.png", cell=48)
    with Image.open(out) as img:
        assert json.loads(img.text[META_KEY])["jobs"] == [1, 2]  # type: ignore[attr-defined]


def test_a_prompt_variant_group_is_named_as_a_variant_not_by_its_key() -> None:
    """``a {red|blue} fox``: the axis the planner keys ``prompt{1}`` is "variant 1" on the sheet and in the plan."""
    from seedream_tui.batch.plan import PlannedJob, axis_title
    from seedream_tui.tui.screens.plan import varied

    assert axis_title("prompt{1}") == "variant 1" and axis_title("resolution") == "resolution"
    assert varied(PlannedJob("m", {"prompt": "a red fox"}, variant={"prompt": "a red fox", "prompt{1}": "red"})) == (
        "variant 1 red")
