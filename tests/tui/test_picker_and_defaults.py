"""Issue 20 §6: the ctrl+f file picker opens on a folder that lists something (and can go up); F10 never saves
a reference image as a model default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from textual.app import App
from tui_support import open_main, wait_for

from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.widgets.file_pick import FilePickScreen, ImageTree
from seedream_tui.tui.widgets.media_field import start_folder

KONTEXT = "blackforestlabs/flux-kontext/pro/edit"


def test_the_picker_starts_where_there_is_something_to_pick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A home of dot-files only (root's, a container's) opened as a lone collapsed "root": the working folder
    with images is taken first; a typed path's folder beats both."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (home / ".bashrc").write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    assert start_folder([]) == work  # nothing anywhere: the working folder
    Image.new("RGB", (4, 4)).save(work / "cat.png")
    assert start_folder([]) == work
    (work / "cat.png").unlink()
    (home / "Pictures").mkdir()
    assert start_folder([]) == home  # the working folder is empty, the home has a folder
    pics = tmp_path / "pics"
    pics.mkdir()
    assert start_folder([str(pics / "a.png")]) == pics


async def test_the_picker_lists_its_folder_and_backspace_goes_up(tmp_path: Path) -> None:
    inner = tmp_path / "outer" / "inner"
    inner.mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(inner / "blue.png")

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(FilePickScreen(inner))

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: isinstance(app.screen, FilePickScreen), what="the picker")
        tree = app.screen.query_one(ImageTree)
        await wait_for(lambda: tree.root.is_expanded and [str(c.label) for c in tree.root.children] == ["blue.png"],
                       what="the folder listed")
        assert str(inner) in str(app.screen.query_one("#pick-box").border_title)
        await pilot.press("backspace")
        await wait_for(lambda: Path(tree.path) == inner.parent and "inner" in [str(c.label) for c in tree.root.children],
                       what="the folder above")
        assert str(inner.parent) in str(app.screen.query_one("#pick-box").border_title)


async def test_f10_does_not_save_a_reference_image_as_a_default(fake_server: Any, tmp_path: Path) -> None:
    from conftest import make_config

    from seedream_tui.config import load_settings

    picture = tmp_path / "ref.png"
    Image.new("RGB", (40, 30), (10, 20, 200)).save(picture)
    config = make_config(fake_server.base_url, theme="textual-dark", notify_bell=False)
    app = SeedreamApp(config)
    async with app.run_test(size=(120, 36)) as pilot:
        main = await open_main(app, pilot)
        assert app.core is not None
        await main.set_model(await app.core.fetch_model(KONTEXT))
        main.options.load({"image_url": str(picture)})
        await pilot.pause()
        assert main.options.values().get("image_url") == str(picture), main.options.values()
        main.set_focus(main.table)
        await pilot.press("f10")
        await wait_for(lambda: config.paths.settings_file.exists(), what="the settings file")
        saved, _ = load_settings(config.paths)
        defaults = saved.defaults.get(KONTEXT, {})
        assert "image_url" not in defaults, defaults
