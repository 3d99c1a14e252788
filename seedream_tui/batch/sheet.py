"""A batch's contact sheet: its jobs laid out by the values that made them, like an X/Y plot.

The layout (:func:`layout`) is pure data, shared by the TUI's sheet screen and the PNG export (:func:`render`):

* the batch's **swept axes** are the axes of its plan with two values or more (an axis of one value made no
  difference, so it is not a dimension of the sheet);
* the **first** swept axis is the **columns**, the **second** the **rows**; the cells are labelled with the
  values (the axis names head the label column and row);
* **further axes** (a third sweep, ``repeat``) make **stacked groups**: one grid per combination of their
  values, one under the other, each titled with those values (``seed = 3 · repeat = 2``), in plan order. Stacked,
  not paged, so one PNG holds the whole batch and the screen scrolls through it;
* **one axis** only: its values are the columns, wrapped every :data:`WRAP` values into further groups (a
  40-prompt batch is five rows of eight, each row with its own column labels, not one strip 40 images wide);
* **no axes** (a batch without a plan, or of one job): the jobs in plan order, :data:`WRAP` to a row;
* a place the plan has but no job fills is a **missing** cell; a job without an image (failed, cancelled,
  still running) is a cell with its status word instead of a picture; a job whose values match no place (a
  plan edited by hand) goes to a last group, ``other``.

A job is placed by its ``variant`` (axis key -> value); values are compared by their JSON text, so ``2`` and
``2.0``, or a tuple and a list, are the same place.

The PNG (:func:`render`) holds each image downscaled into its cell as it is read (a JPEG decoded at a reduced
scale, the cached thumbnail preferred to the full image), never all the full-size images at once; its text
chunks hold the batch's plan (``seedream-tui:batch``, JSON: ``{"batch": id, "plan": …, "jobs": [ids by cell]}``).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seedream_tui.batch.plan import Axis, axes_of, axis_title
from seedream_tui.jobs.model import Batch, Job, JobStatus

if TYPE_CHECKING:
    from PIL.Image import Image

#: one axis (or none): this many cells to a row, then a new group
WRAP = 8
#: the PNG's cells are at most this many pixels on a side
CELL_PX = 256
#: the PNG text chunk that holds the batch's plan and its job ids
META_KEY = "seedream-tui:batch"


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def value_label(value: Any) -> str:
    """How a swept value is written on the sheet: text as it is, numbers and the rest as JSON."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _key(value)


@dataclass(frozen=True)
class Group:
    """One grid of the sheet: ``cells[row][col]`` is a job or None (missing)."""

    title: str
    col_labels: tuple[str, ...]
    row_labels: tuple[str, ...]
    cells: tuple[tuple[Job | None, ...], ...]

    @property
    def shape(self) -> tuple[int, int]:
        """(columns, rows)."""
        return len(self.col_labels), len(self.row_labels)


@dataclass(frozen=True)
class Sheet:
    col_key: str = ""
    row_key: str = ""
    groups: tuple[Group, ...] = ()
    #: axes that made the groups (a third sweep, repeat), for the caption
    group_keys: tuple[str, ...] = field(default=())

    def jobs(self) -> list[Job | None]:
        """Every cell, group by group, row by row (None: missing)."""
        return [job for g in self.groups for row in g.cells for job in row]

    @property
    def columns(self) -> int:
        return max((g.shape[0] for g in self.groups), default=0)


def swept(axes: Sequence[Axis]) -> list[Axis]:
    """The axes that vary (two values or more)."""
    return [a for a in axes if len(a.values) > 1]


def layout(axes: Sequence[Axis], jobs: Sequence[Job], *, wrap: int = WRAP) -> Sheet:
    """The sheet of ``jobs`` (the batch's, any order) over the plan's ``axes`` (see the module's text)."""
    dims = swept(axes)
    jobs = sorted(jobs, key=lambda j: (j.batch_place if j.batch_place is not None else 1 << 30, j.id))
    if not dims:
        return _wrapped(jobs, wrap)
    index = [{_key(v): i for i, v in reversed(list(enumerate(a.values)))} for a in dims]
    placed: dict[tuple[int, ...], Job] = {}
    other: list[Job] = []
    for job in jobs:
        variant = job.variant or {}
        spot: list[int] = []
        for axis, where in zip(dims, index, strict=True):
            at = where.get(_key(variant.get(axis.key))) if axis.key in variant else None
            if at is None:
                break
            spot.append(at)
        coords = tuple(spot)
        if len(coords) != len(dims) or coords in placed:
            other.append(job)
        else:
            placed[coords] = job
    if len(dims) == 1:
        axis = dims[0]
        groups = []
        for start in range(0, len(axis.values), max(1, wrap)):
            span = range(start, min(len(axis.values), start + max(1, wrap)))
            groups.append(Group("", tuple(value_label(axis.values[i]) for i in span), ("",),
                                (tuple(placed.get((i,)) for i in span),)))
        sheet = Sheet(col_key=axis_title(axis.key), groups=tuple(groups))
    else:
        cols, rows, rest = dims[0], dims[1], dims[2:]
        groups = []
        for combo in itertools.product(*(range(len(a.values)) for a in rest)):
            title = " · ".join(f"{axis_title(a.key)} = {value_label(a.values[i])}"
                               for a, i in zip(rest, combo, strict=True))
            cells = tuple(
                tuple(placed.get((c, r, *combo)) for c in range(len(cols.values))) for r in range(len(rows.values))
            )
            groups.append(Group(title, tuple(value_label(v) for v in cols.values),
                                tuple(value_label(v) for v in rows.values), cells))
        sheet = Sheet(axis_title(cols.key), axis_title(rows.key), tuple(groups), tuple(axis_title(a.key) for a in rest))
    if other:
        extra = _wrapped(other, wrap, title="other")
        sheet = Sheet(sheet.col_key, sheet.row_key, sheet.groups + extra.groups, sheet.group_keys)
    return sheet


def _wrapped(jobs: Sequence[Job], wrap: int, *, title: str = "") -> Sheet:
    """Jobs in order, ``wrap`` to a row, labelled by their job ids."""
    wrap = max(1, wrap)
    groups = []
    for start in range(0, len(jobs), wrap):
        chunk = tuple(jobs[start:start + wrap])
        groups.append(Group(title if start == 0 else "", tuple(f"#{j.id}" for j in chunk), ("",), (chunk,)))
    return Sheet(groups=tuple(groups))


def batch_sheet(batch: Batch, jobs: Sequence[Job], *, wrap: int = WRAP) -> Sheet:
    return layout(axes_of(batch.plan), jobs, wrap=wrap)


def progress_text(done: int, total: int, failed: int, cost: float) -> str:
    """``12/40 done · 3 failed · $0.36``: a batch's progress (failed: ended without a result; cost: what the
    server reported)."""
    parts = [f"{done}/{total} done"]
    if failed:
        parts.append(f"{failed} failed")
    if cost:
        parts.append(f"${cost:.2f}")
    return " · ".join(parts)


def progress_of(jobs: Sequence[Job]) -> str:
    """:func:`progress_text` counted from ``jobs``."""
    done = sum(1 for j in jobs if j.status is JobStatus.COMPLETED)
    failed = sum(1 for j in jobs if j.status.terminal and j.status is not JobStatus.COMPLETED)
    return progress_text(done, len(jobs), failed, sum(j.cost or 0.0 for j in jobs))


def cell_word(job: Job | None) -> str:
    """What an empty cell says: ``missing`` (no job there), the job's status (``failed``), ``no image``."""
    if job is None:
        return "missing"
    if job.status is JobStatus.COMPLETED:
        return "no image"
    return job.status.label.split(" ")[0]


def first_image(job: Job | None) -> tuple[str, str | None, tuple[int | None, int | None]] | None:
    """(path, thumbnail path, size) of the job's first downloaded image, or None."""
    if job is None:
        return None
    for output in job.outputs:
        if output.path and output.format not in _NOT_IMAGES:
            return output.path, output.thumb_path, (output.width, output.height)
    return None


_NOT_IMAGES = ("mp4", "mov", "webm", "m4a", "mp3", "wav", "ogg", "flac")


# ---------------------------------------------------------------------------------------------- the PNG
_BG = (255, 255, 255)
_EMPTY = (232, 232, 232)
_INK = (20, 20, 20)
_MUTED = (150, 40, 40)
_PAD = 6


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # an old Pillow or one without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _fit(draw: Any, text: str, font: Any, width: int) -> str:
    """``text`` cut with "…" to ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if draw.textlength(text[:mid] + "…", font=font) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…" if lo else ""


def _load_cell(job: Job | None, box: tuple[int, int]) -> Image | None:
    """The job's first image shrunk into ``box`` as it is read (thumbnail preferred, JPEG drafted)."""
    found = first_image(job)
    if found is None:
        return None
    from seedream_tui.jobs.decoding import open_image

    path, thumb, _size = found
    for source in ([thumb] if thumb and Path(thumb).is_file() else []) + [path]:
        try:
            with open_image(source, draft_box=box) as img:
                img.thumbnail(box)  # decodes at the draft scale, shrinks in place
                return img.convert("RGB")
        except (OSError, ValueError):
            continue
    return None


def render(sheet: Sheet, *, cell: int = CELL_PX, title: str = "") -> Image:
    """The sheet as one image: labels drawn in, each picture downscaled into its cell."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    size = max(10, cell // 16)
    font, small = _font(size + 2), _font(size)
    probe = ImageDraw.Draw(PILImage.new("RGB", (1, 1)))
    line = int(size * 1.6) + 2
    label_w = 0
    if sheet.row_key or any(any(g.row_labels) for g in sheet.groups):
        widest = max((probe.textlength(t, font=small) for g in sheet.groups for t in g.row_labels), default=0)
        widest = max(widest, probe.textlength(sheet.row_key, font=font))
        label_w = min(int(widest) + 2 * _PAD, cell)
    cols = max(1, sheet.columns)
    width = label_w + cols * (cell + _PAD) + _PAD
    heights = []
    for g in sheet.groups:
        heights.append((line if g.title else 0) + line + len(g.row_labels) * (cell + _PAD) + _PAD)
    head = line + _PAD if title or sheet.col_key else 0
    height = head + sum(heights) + _PAD
    sheet_image = PILImage.new("RGB", (width, max(height, 2 * _PAD + 1)), _BG)
    draw = ImageDraw.Draw(sheet_image)
    if head:
        heading = " · ".join(t for t in (title, _axes_caption(sheet)) if t)
        draw.text((_PAD, _PAD), _fit(draw, heading, font, width - 2 * _PAD), fill=_INK, font=font)
    y = head
    box = (cell, cell)
    for g in sheet.groups:
        if g.title:
            draw.text((_PAD, y + 2), _fit(draw, g.title, font, width - 2 * _PAD), fill=_INK, font=font)
            y += line
        if label_w and sheet.row_key:
            draw.text((_PAD, y + 2), _fit(draw, sheet.row_key, font, label_w - _PAD), fill=_INK, font=font)
        for c, text in enumerate(g.col_labels):
            x = label_w + _PAD + c * (cell + _PAD)
            shown = _fit(draw, text, small, cell)
            draw.text((x + (cell - draw.textlength(shown, font=small)) / 2, y + 2), shown, fill=_INK, font=small)
        y += line
        for r, row in enumerate(g.cells):
            top = y + r * (cell + _PAD)
            if label_w and g.row_labels[r]:
                draw.text((_PAD, top + cell // 2 - size // 2), _fit(draw, g.row_labels[r], small, label_w - _PAD),
                          fill=_INK, font=small)
            for c, job in enumerate(row):
                x = label_w + _PAD + c * (cell + _PAD)
                picture = _load_cell(job, box)
                if picture is None:
                    draw.rectangle((x, top, x + cell - 1, top + cell - 1), fill=_EMPTY)
                    word = cell_word(job) if job is None or first_image(job) is None else "unreadable"
                    shown = _fit(draw, word, font, cell - 2 * _PAD)
                    draw.text((x + (cell - draw.textlength(shown, font=font)) / 2, top + cell // 2 - size),
                              shown, fill=_MUTED, font=font)
                    if job is not None:
                        draw.text((x + _PAD, top + _PAD), f"#{job.id}", fill=_MUTED, font=small)
                else:
                    px, py = picture.size
                    sheet_image.paste(picture, (x + (cell - px) // 2, top + (cell - py) // 2))
                    picture.close()
        y += len(g.row_labels) * (cell + _PAD) + _PAD
    return sheet_image


def _axes_caption(sheet: Sheet) -> str:
    parts = []
    if sheet.col_key:
        parts.append(f"columns: {sheet.col_key}")
    if sheet.row_key:
        parts.append(f"rows: {sheet.row_key}")
    if sheet.group_keys:
        parts.append("groups: " + ", ".join(sheet.group_keys))
    return " · ".join(parts)


def metadata(batch: Batch, sheet: Sheet) -> dict[str, Any]:
    """What the PNG's text chunk holds: the batch id, its plan and its jobs' ids cell by cell (null: missing)."""
    return {"batch": batch.id, "label": batch.label, "plan": batch.plan,
            "jobs": [job.id if job is not None else None for job in sheet.jobs()]}


def write_sheet(batch: Batch, jobs: Sequence[Job], dest: Path, *, cell: int = CELL_PX) -> Path:
    """Lay out, draw and save the batch's sheet as a PNG at ``dest`` (written whole or not at all).

    ValueError (a sentence) when the batch has no finished image; OSError when the file cannot be written."""
    if not any(first_image(j) for j in jobs):
        raise ValueError(f"Batch {batch.id} has no finished images yet, so there is no contact sheet to draw.")
    from PIL.PngImagePlugin import PngInfo

    sheet = batch_sheet(batch, jobs)
    label = batch.label or str(batch.plan.get("label") or "")
    image = render(sheet, cell=cell, title=f"batch {batch.id}" + (f": {' '.join(label.split())}" if label else ""))
    info = PngInfo()
    info.add_itxt(META_KEY, json.dumps(metadata(batch, sheet), ensure_ascii=False, sort_keys=True, default=str))
    if label:
        info.add_itxt("Title", label)
    dest = dest.expanduser()
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        image.save(partial, format="PNG", pnginfo=info)
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)
        image.close()
    return dest

