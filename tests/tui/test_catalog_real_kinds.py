"""The catalog screen against a real-shaped catalog (issue 19): every entry's ``kind`` is "model", so the
Kind column shows what the model does, read from its ``categories``; a server that ignores ``offset`` and
claims a trillion models does not make the screen ask for ever."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from textual.widgets import Static

from seedream_tui.tui.widgets.row_table import RowTable

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from routed_server import Call, routed_server  # noqa: E402
from screens_support import ScreenHost, open_core  # noqa: E402
from screens_support import make_config as screen_config  # noqa: E402
from screens_support import wait_for as wait_pilot  # noqa: E402

from seedream_tui.tui.screens.catalog import CatalogScreen  # noqa: E402


def _entry(model_id: str, name: str, category: str) -> dict[str, Any]:
    return {"model_id": model_id, "display_name": name, "kind": "model", "categories": [category],
            "base_price_usd": 0.03, "price_unit": "output"}  # fmt: skip


CATALOG = [_entry(f"acme/m{i}/{task}", f"Model {i}", task)
           for i, task in enumerate(["text-to-image", "image-to-image", "image-to-video"] * 10)]  # fmt: skip


def _kinds(screen: CatalogScreen) -> dict[str, str]:
    table = screen.query_one("#catalog-table", RowTable)
    return {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[2]) for i in range(table.row_count)}


async def test_the_kind_column_shows_the_task_from_the_categories_and_a_repeating_catalog_ends() -> None:
    def same_page(call: Call) -> tuple[int, Any]:
        return 200, {"models": CATALOG, "total": 10**12}  # ignores offset, claims a trillion

    routes = {"GET /v1/models": same_page, "GET /v1/models/categories": lambda call: (200, {"categories": []})}
    with routed_server(routes) as server:
        app = ScreenHost(lambda: open_core(screen_config(server.base_url)), lambda core: CatalogScreen(core))
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_pilot(pilot, lambda: isinstance(app.screen, CatalogScreen) and len(_kinds(app.screen)) == 30)
            screen = app.screen
            assert isinstance(screen, CatalogScreen)
            kinds = _kinds(screen)
            assert kinds["Model 0"] == "text-to-image" and kinds["Model 1"] == "image-to-image"
            assert kinds["Model 2"] == "image-to-video" and "model" not in kinds.values()
            table = screen.query_one("#catalog-table", RowTable)
            table.focus()
            table.move_cursor(row=29)  # near the end: the screen asks for the next page, which repeats
            await wait_pilot(pilot, lambda: len(server.calls("GET", "/v1/models")) >= 2)
            await wait_pilot(pilot, lambda: screen.total == 30)
            assert str(screen.query_one("#catalog-status", Static).render()) == "30 models"
            asked = len(server.calls("GET", "/v1/models"))
            await pilot.press("up", "down", "down")  # moving at the end asks no more
            await pilot.pause()
            assert len(server.calls("GET", "/v1/models")) == asked
