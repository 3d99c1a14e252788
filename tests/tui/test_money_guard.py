"""Money is never a surprise (issue 20 §1): a paid submit above the threshold or repeating the last one asks
first; the submitted toast says the price; no token means nothing is created or sent; demo amounts say
they were not charged; the paid status line keeps the spend when narrow."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import submits
from tui_support import open_main, wait_for

from seedream_tui.api.errors import AuthError
from seedream_tui.catalog.guard import SubmitGuard, fingerprint
from seedream_tui.catalog.pricing import Quote
from seedream_tui.jobs.tally import SessionTally
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.confirm import ConfirmScreen
from seedream_tui.tui.widgets.status_bar import status_text


def test_the_guard_asks_above_the_threshold_for_unknown_prices_and_for_repeats() -> None:
    now = [100.0]
    guard = SubmitGuard(clock=lambda: now[0])
    cheap, dear, unknown = Quote(0.03), Quote(0.45, upper_bound=True), Quote(None, reason="no price listed")
    a, b = fingerprint("m", {"prompt": "a fox"}), fingerprint("m", {"prompt": "a wolf"})
    assert guard.question(cheap, a, demo=False, threshold=0.10) is None
    assert "up to $0.45" in (guard.question(dear, a, demo=False, threshold=0.10) or "")
    assert "unknown" in (guard.question(unknown, a, demo=False, threshold=0.10) or "")
    assert guard.question(dear, a, demo=True, threshold=0.10) is None  # the demo costs nothing
    guard.sent(a)
    now[0] += 2
    assert "2 s ago" in (guard.question(cheap, a, demo=False, threshold=0.10) or "")
    assert guard.question(cheap, b, demo=False, threshold=0.10) is None  # another input
    now[0] += 60
    assert guard.question(cheap, a, demo=False, threshold=0.10) is None  # long enough ago


def test_the_paid_line_keeps_the_spend_first_and_the_demo_says_not_charged(config: Any) -> None:
    tally = SessionTally()
    tally.spent[1] = 0.15
    paid = status_text(config, tally)
    paid.truncate(40)
    assert "session $0.150" in paid.plain  # the money survives a 40-column cut
    config.demo = True
    demo = status_text(config, tally).plain
    assert "not charged" in demo and "session" not in demo


async def test_a_repeated_paid_submit_asks_and_no_answers_sends_nothing(config: Any, core: Any, queue_server: Any) -> None:
    seen: list[str] = []
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        app.notify = lambda message, **kw: seen.append(str(message))  # type: ignore[method-assign]
        main.editor.load_text("a red fox")
        await pilot.press("ctrl+s")
        await wait_for(lambda: len(main.table.jobs) == 1, what="the first job")
        await wait_for(lambda: any("submitted: ≈ $0.03 (paid)" in t for t in seen), what="the priced toast")
        await pilot.press("ctrl+s")  # the same input again at once: a question, not a second paid job
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert "same prompt and options" in app.screen.message
        await pilot.press("n")
        await wait_for(lambda: app.screen is main, what="back on the main screen")
        await pilot.pause()
        assert len(main.table.jobs) == 1 and submits(queue_server) == 1


async def test_without_a_token_nothing_is_created_or_sent(config: Any, core: Any, queue_server: Any) -> None:
    core.config.token = None
    with pytest.raises(AuthError, match="--demo"):
        await core.submit(core.registry.default(), {"prompt": "no token"})
    assert await core.history.list_jobs() == [] and submits(queue_server) == 0


def test_demo_and_paid_keep_their_own_model_defaults(config: Any) -> None:
    config.settings.defaults["m"] = {"size": "4K"}
    assert config.model_defaults == {"m": {"size": "4K"}}
    config.demo = True
    assert config.model_defaults == {}  # saved in the demo, kept apart from the paid defaults
    config.model_defaults["m"] = {"size": "2K"}
    assert config.settings.defaults["m"] == {"size": "4K"}


async def test_the_demo_spend_screen_says_nothing_was_charged(config: Any, core: Any) -> None:
    from seedream_tui.tui.screens.spend import SpendScreen

    core.demo = True
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_main(app, pilot)
        await app.push_screen(SpendScreen(core))
        await pilot.pause()
        assert "nothing was charged" in str(app.screen.query_one("#spend-totals").border_title)
