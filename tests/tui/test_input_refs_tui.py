"""Issue 18 §5 in the TUI: a past edit whose local image is stored as a reference loads back as its path."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tui_support import open_main, wait_for  # noqa: E402

from seedream_tui.fake.server import FakeServerThread  # noqa: E402
from seedream_tui.tui.app import SeedreamApp  # noqa: E402

KONTEXT = "blackforestlabs/flux-kontext/pro/edit"


async def test_a_stored_image_reference_loads_into_the_field_as_its_path(fake_server: FakeServerThread,
                                                                          tmp_path: Path) -> None:
    from conftest import make_config
    from PIL import Image

    from seedream_tui.jobs.media_inputs import image_field, is_file_ref

    picture = tmp_path / "cat.png"
    Image.new("RGB", (120, 90), (40, 160, 90)).save(picture)
    app = SeedreamApp(make_config(fake_server.base_url, theme="textual-dark", notify_bell=False))
    async with app.run_test(size=(120, 36)) as pilot:
        main = await open_main(app, pilot)
        core = app.core
        assert core is not None
        spec = await core.fetch_model(KONTEXT)
        name = image_field(spec).name
        job = await core.submit(spec, {"prompt": "at night", name: str(picture)})
        assert is_file_ref(job.inputs[name])  # stored as a reference, not as the data: URI sent
        await main.load_job(job)
        field = main.options.field(name)
        await wait_for(lambda: field.value() == str(picture), what="the path in the image field")
        assert main.editor.text == "at night"
