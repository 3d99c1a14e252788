"""The main screen's parts: generated help, validation at the fields, wide-char schemas, prompt history, models."""

from __future__ import annotations

from pathlib import Path

from textual.notifications import Notify
from textual.widgets import DataTable, Input, Select
from tui_support import open_main, wait_for

from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.schema.spec import FieldKind
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.messages import LoadIntoEditor
from seedream_tui.tui.screens.help import HelpScreen, _own_bindings
from seedream_tui.tui.screens.main import MainScreen
from seedream_tui.tui.widgets.fields import BoolField, EnumField, NumberField
from seedream_tui.tui.widgets.options import OptionsPanel
from seedream_tui.tui.widgets.prompt_editor import PromptArea

FLUX = "blackforestlabs/flux-2/flash/text-to-image"
ZH_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "seed-original-zh.json"



async def test_help_lists_every_binding(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_main(app, pilot)
        app.screen.query_one("#jobs").focus()  # "?" must not be typed into the prompt
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        rows = [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        described = {b.tooltip or b.description for _, cls in app.help_groups() for b in _own_bindings(cls) if b.description}
        assert described <= {row[2] for row in rows}
        assert len(described) >= 12
        keys = " ".join(row[1] for row in rows)
        for key in ("^s", "f5", "f2", "^r", "f1", "^q", "^p", "^g"):
            assert key in keys.lower(), key
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_bindings_avoid_keys_that_tmux_or_xterm_swallow() -> None:
    bad = {"ctrl+enter", "ctrl+m", "ctrl+i", "ctrl+j", "ctrl+h"}
    for _, cls in SeedreamApp.help_groups():
        for binding in _own_bindings(cls):
            for key in binding.key.split(","):
                assert key not in bad and "ctrl+shift" not in key, (cls.__name__, key)
            assert binding.id, f"{cls.__name__}:{binding.key} has no id (it could not be remapped)"


async def test_keys_right_after_ctrl_g_go_where_it_moved_the_focus(config, core) -> None:
    """ctrl+g and the letters behind it in one burst (fast typing over SSH): no letter lands in the prompt
    (ctrl+g goes to the jobs from anywhere, never a toggle; issue 20 §6); i there goes back to the prompt."""
    from textual import events

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.set_focus(main.editor)
        await pilot.pause()
        for key, char in [("ctrl+g", None), ("j", "j"), ("k", "k"), ("f", "f")]:
            event = events.Key(key, char)
            event.set_sender(app)
            app._driver.send_message(event)  # as the terminal driver does: all queued before the first is handled
        await pilot.pause()
        await wait_for(lambda: main.table.has_focus, what="the jobs")
        await pilot.pause()
        assert main.editor.text == ""
        await pilot.press("i")
        assert main.editor.has_focus
        await pilot.press("ctrl+g")
        assert main.table.has_focus


async def test_empty_prompt_is_shown_at_the_editor_and_nothing_is_sent(config, core) -> None:
    notes: list[Notify] = []
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24), message_hook=lambda m: notes.append(m) if isinstance(m, Notify) else None) as pilot:
        main = await open_main(app, pilot)
        main.editor.clear()
        await pilot.press("f5")
        assert main.editor.has_class("-invalid")
        assert any("Not submitted" in (n.notification.title or "") for n in notes)
        assert await core.history.count_jobs() == 0


async def test_invalid_number_is_shown_at_its_field(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        await main.set_model(core.registry.get(FLUX))
        await pilot.pause()
        panel = main.query_one(OptionsPanel)
        guidance = panel.field("guidance_scale")
        assert isinstance(guidance, NumberField)
        guidance.query_one(Input).value = "25"
        await wait_for(lambda: guidance.has_class("-invalid"), what="the error at guidance_scale")
        assert "20" in guidance.error
        main.editor.load_text("a cat")
        main.action_submit()
        await pilot.pause()
        assert await core.history.count_jobs() == 0
        guidance.query_one(Input).value = "3.5"
        await wait_for(lambda: not guidance.has_class("-invalid"), what="the error cleared")


async def test_chinese_schema_panel_renders_aligned(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(100, 30)) as pilot:
        main = await open_main(app, pilot)
        from seedream_tui.schema import load_schema_file

        # the translated schema is a test fixture (not shipped): added beside the bundled ones
        zh = load_schema_file(ZH_FIXTURE)
        core.registry.add(zh, user=False)
        await main.set_model(zh)
        await pilot.pause()
        panel = main.query_one(OptionsPanel)
        labels = {f.spec.name: f.query_one(".field-label") for f in panel.fields}
        assert str(labels["resolution"].render()).startswith("分辨率")
        # every label ends where its control starts: wide characters take two cells, not one
        xs = {f.query_one(".field-control").region.x for f in panel.fields if isinstance(f, EnumField)}
        assert len(xs) == 1
        main.query_one("#field-resolution").query_one(Select).focus()
        await pilot.pause()
        assert "对于 2K 和 3K" in str(panel.query_one("#field-help").render())


async def test_prompt_history_recall_and_word_hint(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        editor = main.query_one(PromptArea)
        editor.set_history(["newest prompt", "older prompt"])
        editor.load_text("my draft")
        editor.focus()
        await pilot.press("ctrl+up")
        assert editor.text == "newest prompt"
        await pilot.press("f8")
        assert editor.text == "older prompt"
        await pilot.press("ctrl+down", "f9")
        assert editor.text == "my draft"
        editor.load_text("word " * 601)
        await pilot.pause()
        assert editor.has_class("-over-limit")
        assert "601/600" in str(editor.border_subtitle)


async def test_model_switch_and_load_into_editor(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        await app.switch_model(core.registry.get(FLUX).key)
        await pilot.pause()
        assert main.spec.model_id == FLUX
        kinds = {f.spec.name: type(f) for f in main.options.fields}
        assert kinds["seed"] is NumberField and kinds["image_size"] is EnumField
        assert "prompt" not in kinds
        job = Job(
            id=99, model_id="bytedance/seedream-5/lite/text-to-image",
            inputs={"prompt": "loaded prompt", "sequential_image_generation": "auto", "max_images": 3},
            status=JobStatus.COMPLETED, created_at=0.0, updated_at=0.0,
        )
        app.post_message(LoadIntoEditor(job))
        await wait_for(lambda: main.editor.text == "loaded prompt", what="the prompt loaded")
        await pilot.pause()
        assert main.spec.model_id == job.model_id
        assert main.options.field("max_images").value() == 3
        assert not main.options.field("max_images").disabled


def test_every_field_kind_has_a_widget() -> None:
    from seedream_tui.tui.widgets.fields import _BY_KIND

    assert set(_BY_KIND) == set(FieldKind)
    assert _BY_KIND[FieldKind.BOOLEAN] is BoolField


async def test_f10_saves_the_panel_as_this_models_defaults(config, core) -> None:
    from seedream_tui.config import load_settings

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.options.load({"resolution": "2K", "output_format": "jpeg"})
        main.options.query_one(Select).focus()  # not the editor: F10 is a screen key
        await pilot.press("f10")
        await wait_for(lambda: config.paths.settings_file.exists(), what="the settings file")
        saved, warnings = load_settings(config.paths)
        assert warnings == []
        spec = core.registry.default()
        defaults = saved.defaults[spec.model_id]
        assert defaults["resolution"] == "2K" and defaults["output_format"] == "jpeg"
        assert "prompt" not in defaults
        # a panel built afresh for this model (as at the next start) begins from the saved values
        await main.set_model(core.registry.get(FLUX))
        await main.set_model(spec)
        await pilot.pause()
        assert main.options.values()["resolution"] == "2K"


async def test_a_keymap_in_the_settings_remaps_a_binding_and_help_shows_it(config, core) -> None:
    config.settings.keymap = {"submit": "f6", "history": "f7"}
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(120, 30)) as pilot:
        main = await open_main(app, pilot)
        main.table.focus()
        await pilot.press("f7")
        from seedream_tui.tui.screens.history import HistoryScreen

        await wait_for(lambda: isinstance(app.screen, HistoryScreen), what="history by the remapped key")
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted, what="back")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[3]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert rows["submit"] == "f6" and rows["history"] == "f7"


def test_keymap_settings_are_read_and_bad_ones_refused(tmp_path) -> None:
    from seedream_tui.config import load_settings
    from seedream_tui.paths import Paths

    paths = Paths(tmp_path / "c", tmp_path / "d", tmp_path / "x", tmp_path / "l")
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text('[keymap]\nsubmit = "f6, ctrl+s"\n', "utf-8")
    settings, warnings = load_settings(paths)
    assert settings.keymap == {"submit": "f6,ctrl+s"} and warnings == []
    paths.settings_file.write_text("[keymap]\nsubmit = 5\n", "utf-8")
    settings, warnings = load_settings(paths)
    assert settings.keymap == {} and any("[keymap]" in w for w in warnings)
