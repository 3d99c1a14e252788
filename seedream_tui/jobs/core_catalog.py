"""The catalog side of ``Core``: RunComfy's model list, categories and model details, with the schemas on
disk when RunComfy cannot be asked (no token, no network)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from seedream_tui.api.errors import ApiError
from seedream_tui.schema import ModelRegistry, ModelSpec

if TYPE_CHECKING:
    from seedream_tui.api.client import RunComfyClient
    from seedream_tui.catalog.browse import CatalogPage
    from seedream_tui.paths import Paths


class CatalogDesk:
    """Mixed into ``Core``, whose parts it uses."""

    registry: ModelRegistry
    paths: Paths

    if TYPE_CHECKING:  # Core's own

        @property
        def client(self) -> RunComfyClient: ...

        def _can_ask(self) -> bool: ...

        async def _ensure_backend(self) -> None: ...

    async def catalog(
        self, *, search: str = "", category: str = "", kind: str = "", offset: int = 0, limit: int | None = None
    ) -> CatalogPage:
        """A page of RunComfy's catalog; without a token or a reachable API, the schemas on disk (``offline``,
        with the reason in ``note``). ``limit``: a page of ``browse.PAGE_SIZE`` models by default."""
        # the catalog's modules (and the API's answer parsers) when the catalog is first asked, not at every start
        from seedream_tui.catalog.browse import PAGE_SIZE, local_catalog, search_catalog

        limit = PAGE_SIZE if limit is None else limit
        local = {"search": search, "category": category, "kind": kind}
        if not self._can_ask():
            return _offline(local_catalog(self.registry, **local), "No API token: only the models on disk are listed.")
        try:
            await self._ensure_backend()
            known = {spec.model_id for spec in self.registry.list()}
            return await search_catalog(self.client, **local, offset=offset, limit=limit, known=known)
        except ApiError as exc:
            return _offline(local_catalog(self.registry, **local), f"{exc} Only the models on disk are listed.")

    async def categories(self) -> list[str]:
        """The catalog's categories; those of the schemas on disk when RunComfy cannot be asked."""
        if self._can_ask():
            try:
                await self._ensure_backend()
                return await self.client.model_categories()
            except ApiError:
                pass
        from seedream_tui.catalog.browse import local_categories

        return local_categories(self.registry)

    async def fetch_model(self, model_id: str) -> ModelSpec:
        """Fetch a model's schema and price, cache it in the config dir and register it (replacing an older one)."""
        from seedream_tui.catalog.cache import fetch_model

        await self._ensure_backend()
        cached = await fetch_model(self.client, self.paths.user_models_dir, model_id)
        self.registry.add(cached.spec, user=True)
        return cached.spec

    async def refresh_cached_models(self) -> list[str]:
        """Fetch again the cached schemas older than a day (a background chore: failures are only logged)."""
        if not self._can_ask():
            return []
        from seedream_tui.catalog.cache import refresh_stale

        await self._ensure_backend()
        return await refresh_stale(self.client, self.paths.user_models_dir, self.registry)


def _offline(page: CatalogPage, note: str) -> CatalogPage:
    from seedream_tui.catalog.browse import CatalogPage

    return CatalogPage(page.entries, page.total, offline=True, note=note)
