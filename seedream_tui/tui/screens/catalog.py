"""The catalog browser (F4): RunComfy's models with kind and price; search as you type, filter by category.

Choosing a model fetches its schema and price, caches them in the config dir (the next start works
offline) and returns its registry key. Without a token or a network it lists the schemas on disk and
says why. Names and categories come from the server: every cell is a ``Text``, never markup.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Select, Static

from seedream_tui.api.errors import ApiError
from seedream_tui.catalog.browse import CatalogEntry, CatalogPage
from seedream_tui.schema import SchemaError
from seedream_tui.tui.compat import MountGuardedSelect, OneLayoutPerResize
from seedream_tui.tui.plain import plain, plain_line
from seedream_tui.tui.widgets.keyhints import KeyHints
from seedream_tui.tui.widgets.row_table import RowTable

if TYPE_CHECKING:
    from seedream_tui.jobs.service import Core

#: how long typing must pause before the catalog is asked again (one request per word, not per key)
SEARCH_PAUSE = 0.25
#: ask for the next page when the cursor is this close to the last loaded row
PREFETCH_ROWS = 10
ALL = "__all__"
ALL_LABEL = "Any category"
#: from this width the table also shows each model's id
WIDE_FROM = 140


class CatalogScreen(OneLayoutPerResize[str | None]):
    DEFAULT_CSS = """
    CatalogScreen { layout: vertical; }
    CatalogScreen #catalog-filters { height: 3; min-width: 30; }
    CatalogScreen #catalog-search { width: 1fr; min-width: 12; }
    CatalogScreen #catalog-category { width: 26; min-width: 14; }
    CatalogScreen #catalog-category SelectCurrent Static#label { text-wrap: nowrap; text-overflow: ellipsis; }
    CatalogScreen #catalog-table { height: 1fr; min-width: 30; }
    CatalogScreen #catalog-status { height: 1; color: $text-muted; padding: 0 1; }
    CatalogScreen #catalog-detail { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    CatalogScreen #catalog-status.-offline { color: $warning; }
    CatalogScreen.-narrow #catalog-category { width: 20; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="catalog-close", tooltip="Back without changing the model"),
        Binding("enter", "choose", "Use model", id="catalog-choose",
                tooltip="Fetch the model's schema and price, cache them, and use it"),
        Binding("ctrl+f", "focus_search", "Search", id="catalog-search", tooltip="Type to filter the catalog"),
        Binding("f5", "reload", "Reload", id="catalog-reload", tooltip="Ask RunComfy for the catalog again"),
    ]  # fmt: skip

    def __init__(self, core: Core, *, current: str | None = None) -> None:
        super().__init__(id="catalog")
        self.core = core
        self.current = current
        self.entries: dict[str, CatalogEntry] = {}
        self.total = 0
        self.offline = False
        self._filters = ("", ALL)
        self._loading_more = False
        self._with_ids = False

    def compose(self) -> ComposeResult:
        self.set_class(self.app.size.width < 100, "-narrow")
        with Horizontal(id="catalog-filters"):
            yield Input(placeholder="Search models…  ↓ list · enter picks", id="catalog-search")
            yield MountGuardedSelect([(ALL_LABEL, ALL)], value=ALL, allow_blank=False, id="catalog-category")
        yield RowTable(id="catalog-table")
        yield Static("", id="catalog-detail", markup=False)
        yield Static("Asking RunComfy for its models…", id="catalog-status", markup=False)
        yield KeyHints()

    def on_mount(self) -> None:
        self.title = "Models"
        table = self.table
        table.add_column("Model", key="name")
        table.add_column("Price", key="price")  # before the kind: visible in 60 columns too
        table.add_column("Kind", key="kind")
        table.add_column("", key="local", width=7)
        self._with_ids = self.app.size.width >= WIDE_FROM
        if self._with_ids:
            table.add_column("Model id", key="id")
        self.query_one("#catalog-search", Input).focus()
        self._search(pause=False)
        self._load_categories()

    def on_resize(self) -> None:
        self.set_class(self.size.width < 100, "-narrow")
        self.call_after_refresh(self._fit_names)

    def _fit_names(self) -> None:
        """The names as wide as the longest, or as the other columns leave (cut with "…"): at 40 columns the
        names pushed the prices off the right edge. Measured from the entries (the table measures its
        columns later, on idle)."""
        table = self.table
        if not self.is_attached or not self.entries or not table.scrollable_content_region.width:
            return
        entries = self.entries.values()
        others = [
            max([cell_len("Price"), *(cell_len(entry.price_text) for entry in entries)]),
            max([cell_len("Kind"), *(cell_len(entry.kind or "—") for entry in entries)]),
            7,
        ]
        if self._with_ids:
            others.append(max(cell_len(entry.model_id) for entry in entries))
        # the width with the scrollbar's gutter, less the gutter (2): the same whether or not the scrollbar is
        # shown yet when this runs (measured without it, then with it, the names were 2 cells narrower in one run
        # of two, leaving 2 blank cells at the right)
        room = table.content_region.width - sum(others) - 2 * table.cell_padding * (len(others) + 1) - 2
        width = max(12, min(room, max(cell_len(entry.display_name) for entry in entries)))
        table.set_column_width("name", width)

    @property
    def table(self) -> RowTable:
        return self.query_one("#catalog-table", RowTable)

    # --- loading --------------------------------------------------------------------------------------
    def _category(self) -> str:
        value = self.query_one("#catalog-category", Select).value
        return "" if value in (ALL, Select.NULL) else str(value)

    @on(Input.Changed, "#catalog-search")
    def _typed(self) -> None:
        self._search()

    @on(Select.Changed, "#catalog-category")
    def _category_changed(self) -> None:
        self._search(pause=False)

    @work(group="catalog-search", exclusive=True)
    async def _search(self, *, pause: bool = True) -> None:
        if pause:
            await asyncio.sleep(SEARCH_PAUSE)  # debounce: a newer keystroke cancels this worker first
        search = self.query_one("#catalog-search", Input).value.strip()
        category = self._category()
        self._set_status("Searching…" if search or category else "Asking RunComfy for its models…")
        page = await self.core.catalog(search=search, category=category)
        self._show(page, append=False)

    @work(group="catalog-more", exclusive=True)
    async def _load_more(self) -> None:
        if self.offline or self._loading_more or len(self.entries) >= self.total:
            return
        self._loading_more = True
        try:
            search = self.query_one("#catalog-search", Input).value.strip()
            page = await self.core.catalog(search=search, category=self._category(), offset=len(self.entries))
        finally:
            self._loading_more = False
        self._show(page, append=True)

    @work(group="catalog-categories", exclusive=True)
    async def _load_categories(self) -> None:
        names = await self.core.categories()
        select = self.query_one("#catalog-category", Select)
        with select.prevent(Select.Changed):
            select.set_options([(ALL_LABEL, ALL), *((plain_line(name), name) for name in names)])
            select.value = ALL

    def _show(self, page: CatalogPage, *, append: bool) -> None:
        table = self.table
        if not append:
            table.clear()
            self.entries = {}
        before = len(self.entries)
        for entry in page.entries:
            if entry.model_id in self.entries:
                continue
            self.entries[entry.model_id] = entry
            table.add_row(
                plain_line(entry.display_name),
                plain_line(entry.price_text, style="italic" if entry.price.base_usd is None else ""),
                plain_line(entry.kind or "—"),
                Text("on disk" if entry.local else ""),
                *([plain_line(entry.model_id, style="dim")] if self._with_ids else []),
                key=entry.model_id,
            )
        # a further page that adds nothing (a server that ignores ``offset``) is the end, whatever total it claims
        self.total = len(self.entries) if append and len(self.entries) == before else max(page.total, len(self.entries))
        self.offline = page.offline
        if not append and self.current in self.entries:
            table.move_cursor(row=table.get_row_index(self.current))
        shown = f"{len(self.entries)} of {self.total} models" if self.total > len(self.entries) else (
            f"{len(self.entries)} model{'s' if len(self.entries) != 1 else ''}")  # fmt: skip
        if not self.entries:
            shown = "No models match."
        self._set_status(f"{page.note} {shown}" if page.note else shown, offline=page.offline)
        self._fit_names()

    def _set_status(self, text: str, *, offline: bool = False) -> None:
        status = self.query_one("#catalog-status", Static)
        status.update(plain(text))
        status.set_class(offline, "-offline")

    @on(RowTable.RowHighlighted, "#catalog-table")
    def _highlighted(self, event: RowTable.RowHighlighted) -> None:
        entry = self.entries.get(event.row_key)
        if entry is not None:
            note = entry.price.note or ", ".join(entry.categories)
            detail = self.query_one("#catalog-detail", Static)
            detail.update(plain(entry.model_id + (f" · {note}" if note else "")))
        if event.cursor_row >= self.table.row_count - PREFETCH_ROWS:
            self._load_more()

    # --- actions ----------------------------------------------------------------------------------------
    def action_close(self) -> None:
        self.dismiss(None)

    def action_focus_search(self) -> None:
        self.query_one("#catalog-search", Input).focus()

    def action_reload(self) -> None:
        self._search(pause=False)
        self._load_categories()

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        if key == "down" and self.query_one("#catalog-search", Input).has_focus:
            self.table.focus()

    @on(RowTable.RowSelected, "#catalog-table")
    @on(Input.Submitted, "#catalog-search")
    def _selected(self) -> None:
        self.action_choose()

    def action_choose(self) -> None:
        table = self.table
        if table.row_count == 0:
            self.notify("No model is listed: change the search first.", severity="warning")
            return
        self._choose(table.row_key_at(table.cursor_row))

    @work(group="catalog-choose", exclusive=True)
    async def _choose(self, model_id: str) -> None:
        entry = self.entries.get(model_id)
        name = entry.display_name if entry else model_id
        self._set_status(f"Fetching the schema and price of {name}…")
        try:
            spec = await self.core.fetch_model(model_id)
        except (ApiError, SchemaError, OSError) as exc:
            reason = exc.reason if isinstance(exc, SchemaError) else getattr(exc, "strerror", None) or str(exc)
            if model_id in self.core.registry:
                self.notify(f"Could not refresh {name} ({reason}); using the copy on disk.", severity="warning",
                            markup=False)
                self.dismiss(self.core.registry.get(model_id).key)
                return
            self.notify(f"Could not fetch {name}: {reason}", title="Model not changed", severity="error", markup=False)
            self._set_status(f"{name} could not be fetched.", offline=True)
            return
        self.dismiss(spec.key)
