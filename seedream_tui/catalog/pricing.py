"""Price before you pay: a model's catalog price times what its ``price_unit`` counts in the options.

No Textual here: the main screen's hint, the re-run question, the status bar and the CLI all call
:func:`quote`. A price the model does not give (or a unit we cannot count) is *unknown*, never zero:
a zero would tell the user a paid call is free.

Units seen in RunComfy's catalog: ``output`` (per image produced) and ``second`` (video) [client].
Per image, the quote counts the most images the options allow (``max_images`` while a sequence is
on: "up to"); per second, the requested duration.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from seedream_tui.schema.spec import ModelSpec

#: unit words as a catalog may spell them -> what we count
UNITS = {
    "output": "output", "outputs": "output", "image": "output", "images": "output", "per_image": "output",
    "per_output": "output", "second": "second", "seconds": "second", "sec": "second", "s": "second",
    "per_second": "second",
}  # fmt: skip
#: option names that say how many images one request makes (exactly)
COUNT_FIELDS = ("num_images", "num_outputs", "number_of_images", "image_count", "n", "batch_size")
#: option names that cap how many images a request may make (the quote is then "up to")
CAP_FIELDS = ("max_images",)
DURATION_FIELDS = ("duration", "duration_seconds", "seconds", "video_length")


@dataclass(frozen=True)
class Price:
    """A model's catalog price: ``base_usd`` per ``unit`` (both None when the catalog gives none)."""

    base_usd: float | None
    unit: str | None
    note: str | None = None

    @property
    def known(self) -> bool:
        return self.base_usd is not None and self.unit in ("output", "second")


def price_of(detail: Mapping[str, Any]) -> Price:
    """Read ``base_price_usd``, ``price_unit`` and ``pricing_note`` (a model detail or a cached schema file)."""
    raw = detail.get("base_price_usd")
    base = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None
    if base is not None and (not math.isfinite(base) or base < 0):
        base = None
    unit_raw = detail.get("price_unit")
    unit = None
    if isinstance(unit_raw, str) and unit_raw.strip():
        word = unit_raw.strip().lower().replace(" ", "_").replace("-", "_")
        unit = UNITS.get(word, word)
    note = detail.get("pricing_note")
    return Price(base, unit, note.strip() if isinstance(note, str) and note.strip() else None)


@dataclass(frozen=True)
class Quote:
    """What a submit will cost: ``usd`` (None when unknown), "up to" when the count is a cap."""

    usd: float | None
    upper_bound: bool = False
    #: how it was counted ("3 images × $0.03") or why it is unknown
    reason: str = ""

    @property
    def known(self) -> bool:
        return self.usd is not None

    @property
    def text(self) -> str:
        if self.usd is None:
            return "price unknown"
        return f"{'up to' if self.upper_bound else '≈'} {format_usd(self.usd)}"


def format_usd(amount: float) -> str:
    """``$0.03``, ``$0.035``, ``$1.80``: two decimals unless the amount needs more (up to four)."""
    if amount != 0 and abs(amount) < 0.0001:
        return "<$0.0001"
    text = f"{amount:.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def quote(spec: ModelSpec, values: Mapping[str, Any]) -> Quote:
    """The price of submitting ``values`` to ``spec``'s model."""
    price = price_of(spec.raw)
    if price.base_usd is None:
        return Quote(None, reason=f"{spec.model_id} has no price in the catalog.")
    effective = {**spec.defaults(), **{k: v for k, v in values.items() if v is not None}}
    fields = {f.name: f for f in spec.fields}
    if price.unit == "output":
        for name in CAP_FIELDS:
            cap = fields.get(name)
            if cap is not None and cap.applies(effective) and _count(effective.get(name)) is not None:
                n = _count(effective.get(name)) or 0
                return Quote(price.base_usd * n, upper_bound=n > 1, reason=_counted(n, "image", price.base_usd))
        n = next((_count(effective.get(name)) for name in COUNT_FIELDS if name in fields), None) or 1
        return Quote(price.base_usd * n, reason=_counted(n, "image", price.base_usd))
    if price.unit == "second":
        seconds = next((_number(effective.get(name)) for name in DURATION_FIELDS if name in fields), None)
        if seconds is None:
            return Quote(None, reason="Priced per second, but the options give no duration.")
        return Quote(price.base_usd * seconds, reason=_counted(seconds, "second", price.base_usd))
    unit = price.unit or "an unnamed unit"
    return Quote(None, reason=f"Priced {format_usd(price.base_usd)} per {unit}, which cannot be counted before"
                 f" the run.{' ' + price.note if price.note else ''}")  # fmt: skip


def quote_job(registry: Any, model_id: str, inputs: Mapping[str, Any]) -> Quote:
    """The quote of submitting ``inputs`` again (a re-run), from the schema the registry has for the model."""
    try:
        spec = registry.get(model_id)
    except KeyError:
        return Quote(None, reason=f"There is no schema for {model_id}.")
    return quote(spec, inputs)


def total_sentence(quotes: Iterable[Quote]) -> str:
    """``≈ $0.09 in all`` / ``up to $0.48 in all`` / ``the total is unknown: …`` for a question before paying."""
    summed = total(quotes)
    return f"{summed.text} in all" if summed.known else f"the total is unknown: {summed.reason.rstrip('.')}"


def total(quotes: Iterable[Quote]) -> Quote:
    """The sum of several quotes; unknown when any part is (the known part is said in ``reason``)."""
    parts = list(quotes)
    known = [q.usd for q in parts if q.usd is not None]
    unknown = len(parts) - len(known)
    if unknown:
        so_far = f"{format_usd(sum(known))} for the other {len(known)}" if known else "no price for any"
        return Quote(None, reason=f"{unknown} of {len(parts)} have no known price ({so_far}).")
    return Quote(sum(known), upper_bound=any(q.upper_bound for q in parts), reason=f"{len(parts)} jobs")


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().rstrip("s"))
        except ValueError:
            return None
    return None


def _counted(n: float, what: str, each: float) -> str:
    shown = f"{n:g}"
    return f"{shown} {what}{'' if n == 1 else 's'} × {format_usd(each)}"
