"""Issue 10 §1: text from outside (server errors, prompts, schema help, settings) is never parsed as markup,
and its control characters are shown, never sent to the terminal.

The texts come from the fake server's failed jobs (``failure_messages``) and from a history holding them; every
view that shows a job (main table and preview, toasts, detail, history, compare) is opened on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import DataTable
from tui_support import open_main, screen_text, wait_for

from seedream_tui import DEFAULT_MODEL_ID
from seedream_tui.config import AppConfig, Settings
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.paths import Paths
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.widgets.row_table import RowTable

MARKUP_ERRORS = (
    "CUDA out of memory [/opt/worker/run.py:212]",
    "refused by [/policy] filter [NSFW] [@click=app.quit]quit[/]",
)
#: a prompt with markup, an OSC title change, a CSI clear-screen, a newline and a bidi override
HOSTILE_PROMPT = "a fox [b]bold?[/b] \x1b]0;pwned\x07 \x1b[2J\nline two \u202eevil"


@pytest.fixture
def markup_server() -> Iterator[Any]:
    """A fake server whose every job fails with a text that looks like markup."""
    from seedream_tui.fake.server import FakeConfig, FakeServerThread

    config = FakeConfig(
        workers=2, min_duration=0.05, max_duration=0.1, image_scale=0.02, seed=3, fail_rate=1.0,
        fail_message=MARKUP_ERRORS[0],
    )
    with FakeServerThread(config) as server:
        yield server


def _config(base_url: str) -> AppConfig:
    paths = Paths.default()
    settings = Settings(image_mode="halfcell", theme="textual-dark")
    return AppConfig(paths, settings, base_url, "rc_test_0123456789abcdef", token_source="test")


def _seed_failed(paths: Paths) -> list[int]:
    """Two failed jobs with markup-like errors, a hostile prompt and a model id with brackets."""
    paths.profile_data_dir.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(paths.history_db)
    ids = []
    try:
        for i, error in enumerate(MARKUP_ERRORS):
            job = store.create_job(DEFAULT_MODEL_ID, {"prompt": HOSTILE_PROMPT, "resolution": "[red]2K"},
                                   base_url="http://127.0.0.1:9", now=1768467600.0 + 60 * i)
            store.update_job(job.id, status=JobStatus.FAILED, request_id=f"req-[b]{i}\x1b]52;c;AAAA\x07",
                             submitted_at=job.created_at + 1, finished_at=job.created_at + 5, error=error)
            ids.append(job.id)
    finally:
        store.close()
    return ids


def _assert_literal(text: str) -> None:
    """The screen shows the outside text as written, and no raw escape reached it."""
    assert "\x1b" not in text and "\u202e" not in text
    assert "MarkupError" not in text


async def test_markup_errors_and_escapes_in_every_view(markup_server: Any) -> None:
    config = _config(markup_server.base_url)
    ids = _seed_failed(config.paths)
    app = SeedreamApp(config)
    async with app.run_test(size=(140, 40)) as pilot:
        main = await open_main(app, pilot)
        # the newest job (a markup error) is in the preview at start: shown as written
        await wait_for(lambda: "[/policy] filter [NSFW]" in screen_text(app), what="the error in the preview")
        text = screen_text(app)
        _assert_literal(text)
        assert "[@click=app.quit]quit[/]" in text
        assert "\\x1b]0;pwned" in text  # the escape shown visibly in the prompt column
        # the job detail: error, request id and inputs as written
        await app.run_action(f"open_job({ids[0]})")
        await wait_for(lambda: MARKUP_ERRORS[0] in screen_text(app), what="the detail's error")
        text = screen_text(app)
        _assert_literal(text)
        assert "req-[b]0\\x1b]52;c;AAAA\\x07" in text and "[red]2K" in text
        await pilot.press("escape")
        await wait_for(lambda: app.screen is main, what="back on the main screen")
        # the history, its preview, then both jobs compared
        await pilot.press("f2")
        await wait_for(lambda: app.screen.query(RowTable) and app.screen.query_one(RowTable).row_count == 2,
                       what="the history rows")
        await wait_for(lambda: "[/policy] filter" in screen_text(app), what="the history preview's error")
        _assert_literal(screen_text(app))
        await pilot.press("space", "space", "v")
        await wait_for(lambda: type(app.screen).__name__ == "CompareScreen", what="the compare screen")
        await wait_for(lambda: "[red]2K" in screen_text(app), what="the compared inputs")
        text = screen_text(app)
        _assert_literal(text)
        assert "[b]bold?[/b]" in text
        assert app.is_running


async def test_live_failure_toast_is_literal(markup_server: Any) -> None:
    """A job failing on the server with a markup-like error: the toast says it as written, the app lives."""
    config = _config(markup_server.base_url)
    app = SeedreamApp(config)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a red fox [@click=app.quit]x[/]")
        main.action_submit()
        await wait_for(lambda: any(MARKUP_ERRORS[0] in str(n.message) for n in app._notifications), limit=15,
                       what="the failure toast")
        await wait_for(lambda: "CUDA out of memory" in screen_text(app), what="the toast on screen")
        assert "run.py:212]" in screen_text(app)
        _assert_literal(screen_text(app))
        assert app.is_running


async def test_help_screen_shows_keymap_literally(markup_server: Any) -> None:
    app = SeedreamApp(_config(markup_server.base_url))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_main(app, pilot)
        await pilot.press("f1")
        await wait_for(lambda: "Remap one" in screen_text(app), what="the help screen")
        assert "settings.toml: [keymap] id =" in screen_text(app)
        table = app.screen.query_one(DataTable)
        assert "Id (for [keymap])" in [column.label.plain for column in table.columns.values()]


HOSTILE_SCHEMA = {
    "model_id": "someone/odd/model",
    "title": "Odd [/beta] model",
    "input_schema": {
        "type": "object",
        "required": ["prompt"],
        "properties": {
            "prompt": {"title": "Prompt", "type": "string"},
            "steps": {"title": "Steps [/n]", "type": "integer", "default": 4,
                      "description": "How many [b]steps[/b] [@click=app.quit]quit[/] \x1b[2J"},
        },
    },
}


async def test_schema_titles_and_option_help_are_literal(markup_server: Any) -> None:
    """A schema file (fetched from the server, or written by hand) with markup in its titles and help."""
    import json

    from seedream_tui.tui.widgets.options import OptionsPanel

    config = _config(markup_server.base_url)
    config.paths.user_models_dir.mkdir(parents=True, exist_ok=True)
    (config.paths.user_models_dir / "odd.json").write_text(json.dumps(HOSTILE_SCHEMA), encoding="utf-8")
    app = SeedreamApp(config)
    async with app.run_test(size=(120, 36)) as pilot:
        main = await open_main(app, pilot)
        await app.switch_model("odd")
        panel = main.query_one(OptionsPanel)
        await wait_for(lambda: panel.spec.key == "odd" and panel.is_mounted, what="the odd model's options")
        await wait_for(lambda: bool(panel.query("#field-steps Input")), what="the steps field")
        panel.query_one("#field-steps Input").focus()
        await wait_for(lambda: "quit[/]" in screen_text(app), what="the field's help")
        text = screen_text(app)
        _assert_literal(text)
        assert "Steps [/n]" in text and "How many [b]steps[/b]" in text and "[@click=app.quit]quit[/]" in text
        assert "\\x1b[2J" in text
        assert "Odd [/beta] model" in text  # the model picker
        await pilot.press("ctrl+p")
        await pilot.press(*"odd")
        await wait_for(lambda: "Switch model: Odd [/beta] model" in screen_text(app), what="the palette hit")
        assert app.is_running


async def test_a_stored_prompt_with_escapes_loads_into_the_editor_visibly(markup_server: Any) -> None:
    """History, ``l``: the editor draws its text as is, so the escapes are loaded as visible text."""
    from seedream_tui.tui.screens.history import HistoryScreen

    config = _config(markup_server.base_url)
    _seed_failed(config.paths)
    app = SeedreamApp(config)
    async with app.run_test(size=(100, 30)) as pilot:
        main = await open_main(app, pilot)
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen), what="the history")
        await wait_for(lambda: app.screen.query_one(RowTable).row_count == 2, what="the history rows")
        await pilot.press("l")
        await wait_for(lambda: app.screen is main and "pwned" in main.editor.text, what="the prompt loaded")
        assert "\x1b" not in main.editor.text and "\\x1b]0;pwned\\x07" in main.editor.text
        assert "\nline two" in main.editor.text  # a newline stays a newline
        await pilot.pause()
        _assert_literal(screen_text(app))
