"""The main screen's first frame draws less (issue 13 §6): the options panel's fields come right after it.

They are most of the screen's widgets (each Select is three, each field a row of four); the user cannot tell
the moment. Until they are mounted the panel answers from the field objects it holds, so a value read, set or
checked in between is never lost.
"""

from __future__ import annotations

from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.main import MainScreen
from seedream_tui.tui.widgets.fields import FieldWidget
from tests.tui.tui_support import open_main, wait_for


async def test_the_fields_are_mounted_after_the_first_frame_and_answer_before(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_main(app, pilot)
        await app.pop_screen()  # a second main screen, watched from its start
        screen = MainScreen(core)
        await app.push_screen(screen)
        panel = screen.options
        # mounted and composed, but no field yet: the frame that shows the screen does not wait for them
        assert not panel.built and list(screen.query(FieldWidget)) == []
        names = [f.spec.name for f in panel.fields]
        assert names and "prompt" not in names
        before = panel.values()
        assert before == {k: v for k, v in panel._initial.items() if k in names and v is not None}
        # loaded in between (a re-run's options): kept for when the fields arrive
        fmt = panel.field("output_format")
        other = next(c for c in fmt.spec.choices or () if c != before.get("output_format"))
        panel.load({**before, "output_format": other})
        assert panel.values()["output_format"] == other
        await wait_for(lambda: panel.built, what="the fields")
        assert all(f.is_mounted for f in panel.fields)
        await pilot.pause()
        assert [f.spec.name for f in screen.query(FieldWidget)] == names
        assert panel.values() == {**before, "output_format": other}
        assert fmt.ready and fmt.get_value() == other  # in the control itself, not only remembered


async def test_the_collector_is_back_on_once_the_first_frame_is_drawn(config) -> None:
    """The console script starts with garbage collection off (seedream_tui.entry); the app must turn it on,
    or every cycle it makes for the rest of the session would be kept."""
    import gc

    gc.disable()
    try:
        app = SeedreamApp(config)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_main(app, pilot)
            await wait_for(gc.isenabled, what="the collector to be turned on")
    finally:
        gc.enable()


def test_a_command_turns_the_collector_back_on(tmp_path) -> None:
    """Every command of the console script turns collection back on after its imports."""
    import subprocess
    import sys

    code = (
        "import gc, sys\n"
        "from seedream_tui import entry\n"
        "import seedream_tui.cli as cli\n"
        "seen = []\n"
        "real = cli._run_headless\n"
        "def spy(args, config):\n"
        "    seen.append(gc.isenabled())\n"
        "    return real(args, config)\n"
        "cli._run_headless = spy\n"
        "sys.argv = ['seedream-tui', 'history']\n"
        "code = entry.run()\n"
        "print('ENABLED', seen, code)\n"
    )
    env = {"SEEDREAM_TUI_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "ENABLED [True] 0" in out.stdout, out.stdout + out.stderr


async def test_what_start_up_built_is_frozen_out_of_the_collectors_sight(config) -> None:
    import gc

    before = gc.get_freeze_count()
    app = SeedreamApp(config)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await open_main(app, pilot)
            await wait_for(lambda: gc.get_freeze_count() > before, what="the start-up's objects frozen")
            # the main screen is among them: a full collection no longer walks it
            assert not any(obj is app.screen for obj in gc.get_objects())
    finally:
        gc.unfreeze()


async def test_the_model_picker_and_the_hidden_tabs_come_after_the_first_frame(config, core) -> None:
    """Issue 23 (start-up): the model picker (a Select is four widgets and an option per model) and, while the
    window is wide, the narrow window's Jobs/Preview tabs (hidden) are mounted right after the first frame, in
    their places; a model set before then is the one the picker shows."""
    from textual.widgets import Select, Tabs

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(160, 40)) as pilot:
        await open_main(app, pilot)
        await app.pop_screen()
        screen = MainScreen(core)
        await app.push_screen(screen)
        assert not screen.query("#model-select") and not screen.query(Tabs)
        other = next(spec for spec in core.registry.list() if spec.key != screen.spec.key)
        await screen.set_model(other)  # before the picker exists (a job loaded at once): not lost
        await wait_for(lambda: bool(screen.query("#model-select") and screen.query(Tabs)), what="the picker")
        await pilot.pause()
        assert screen.query_one("#model-select", Select).value == other.key
        pane = screen.query_one("#options-pane")
        assert [child.id for child in pane.children] == ["model-select", "options"]
        # the tabs came into their holder: the screen's own children never changed (no repaint of every cell)
        assert [child.id for child in screen.children][:3] == ["compose", "results-tabs-holder", "results"]
        assert [child.id for child in screen.query_one("#results-tabs-holder").children] == ["results-tabs"]
        assert not screen.query_one(Tabs).display  # wide: hidden, as before


async def test_a_narrow_window_has_its_tabs_in_the_first_frame(config, core) -> None:
    from textual.widgets import Tabs

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_main(app, pilot)
        await app.pop_screen()
        screen = MainScreen(core)
        await app.push_screen(screen)
        assert screen.query_one(Tabs).display  # narrow: shown from the first frame, never a line that jumps in
        assert not screen.query("#model-select")
        await wait_for(lambda: bool(screen.query("#model-select")), what="the picker")
        assert len(screen.query(Tabs)) == 1


def test_run_tui_starts_no_tls_work_before_the_app(monkeypatch, config) -> None:
    """Issue 23: certifi's CA bundle (~20 ms of CPU on a thread) was loaded while Textual was imported; on a
    busy machine that thread took the first frame's CPU. Nothing before that frame needs it."""
    from seedream_tui import tls
    from seedream_tui.tui import images, run

    calls: list[str] = []
    monkeypatch.setattr(tls, "warm_up", lambda: calls.append("tls warm-up"))
    monkeypatch.setattr(SeedreamApp, "run", lambda self: calls.append("app runs") or 0)
    monkeypatch.setattr(images, "configure", lambda mode, **_: mode)  # the session's halfcell stays for others
    assert run.run_tui(config, image_mode="halfcell", env={"TERM": "xterm-256color", "LANG": "C.UTF-8"}) == 0
    assert calls == ["app runs"]


async def test_the_tls_context_is_warmed_once_the_main_screen_is_up(monkeypatch, config, core) -> None:
    from seedream_tui import tls

    app = SeedreamApp(config, core=core)
    seen: list[bool] = []
    monkeypatch.setattr(tls, "warm_up", lambda: seen.append(isinstance(app.screen, MainScreen) and app.screen.is_mounted))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_main(app, pilot)
        await wait_for(lambda: bool(seen), what="the TLS warm-up")
        assert seen == [True]
