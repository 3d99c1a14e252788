"""Budgets a batch must keep: the one given with it (``--budget USD``) and the per-batch cap in settings
(``batch_budget_usd``), checked against the batch's quote before anything is written or sent; the daily cap
(``daily_budget_usd``) is kept by the local queue instead (local_queue.py: jobs past it wait, pending).

The quote of a batch is the sum of its jobs' quotes, "up to" where a price depends on the output count, so
the check never lets through a batch that may cost more. A batch whose price is not known (a model without
a catalog price) is refused while a budget applies: an unknown price cannot be kept within a budget.
Demo amounts are checked the same way (nothing is charged there, but the budget behaves as it will).
"""

from __future__ import annotations

import math

from seedream_tui.api.errors import InvalidInputError, RefusedError
from seedream_tui.catalog.pricing import Quote, format_usd

#: sums of cents in floating point: a batch that exactly meets its budget passes
_EPSILON = 1e-9


class BudgetRefusedError(RefusedError):
    """A batch refused by a budget before anything was written or sent (exit 2); ``str()`` names the budget."""


def check_budget_value(usd: float | None, what: str = "The budget") -> None:
    """A budget is a number of dollars, 0 or more (InvalidInputError otherwise)."""
    if usd is None:
        return
    if isinstance(usd, bool) or not isinstance(usd, int | float) or not math.isfinite(usd) or usd < 0:
        raise InvalidInputError(f"{what} must be a number of dollars, 0 or more (not {usd!r}); nothing was sent.")


def check_batch_budget(quote: Quote, *, call_budget: float | None, batch_budget: float | None) -> None:
    """Refuse (BudgetRefusedError) a batch whose quote passes the budget given with it or the per-batch cap."""
    check_budget_value(call_budget)
    caps: list[tuple[float, str]] = []
    if call_budget is not None:
        caps.append((float(call_budget), f"the budget of {format_usd(call_budget)} given for it (--budget)"))
    if batch_budget is not None:
        caps.append((float(batch_budget),
                     f"the batch budget of {format_usd(batch_budget)} (settings: batch_budget_usd)"))
    for usd, named in caps:
        if quote.usd is None:
            why = quote.reason.rstrip(".") or "no price is known for its model"
            raise BudgetRefusedError(
                f"The batch's price is not known ({why}), so it cannot be kept within {named}: nothing was sent."
            )
        if quote.usd > usd + _EPSILON:
            costs = f"{'up to ' if quote.upper_bound else ''}{format_usd(quote.usd)}"
            raise BudgetRefusedError(f"The batch costs {costs}, over {named}: nothing was sent.")
