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
        # set and shown in between: kept for when the fields arrive
        first = panel.fields[0]
        panel.show_errors({first.spec.name: "Not like that."})
        await wait_for(lambda: panel.built and all(f.is_mounted for f in panel.fields), what="the fields")
        await pilot.pause()
        assert [f.spec.name for f in screen.query(FieldWidget)] == names
        assert panel.values() == before
        assert first.error == "Not like that." and first.has_class("-invalid")
        assert "Not like that." in str(first.query_one(".field-error").render())
