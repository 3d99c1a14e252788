"""Focus with no traps in the options panel: no invisible Tab stop, the whole help of the focused field,
the help cleared when the focus leaves the panel."""

from __future__ import annotations

from textual.containers import ScrollableContainer, VerticalScroll
from textual.widgets import Static
from tui_support import open_main

from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.widgets.options import OptionsPanel


async def test_tab_never_rests_on_an_invisible_stop_and_the_help_is_whole(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        panel = main.query_one(OptionsPanel)
        main.set_focus(main.editor)
        for _ in range(12):
            await pilot.press("tab")
            focused = main.focused
            assert focused is not None and type(focused) not in (ScrollableContainer, VerticalScroll), focused
            assert focused.region.height > 0  # visible: scrolled into view
        # the resolution field's help (the longest) is shown whole
        resolution = panel.field("resolution")
        main.set_focus(resolution.query("Select").first())
        await pilot.pause()
        help_line = panel.query_one("#field-help", Static)
        text = resolution.spec.help or ""
        lines = help_line.render_lines(help_line.region.reset_offset.shrink(help_line.styles.gutter))
        shown = "".join(s.text for line in lines for s in line).replace(" ", "")
        assert text.replace(" ", "")[-20:] in shown
        # the focus leaves the panel: the help goes back to its hint
        main.set_focus(main.table)
        await pilot.pause()
        await pilot.pause()
        assert "Focus a field to see its help." in str(help_line.render())


async def test_ctrl_l_clears_the_prompt_and_ctrl_z_brings_it_back(config, core) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a red fox\nin the snow")
        main.set_focus(main.editor)
        await pilot.press("ctrl+l")
        assert main.editor.text == ""
        await pilot.press("ctrl+z")
        assert main.editor.text == "a red fox\nin the snow"
