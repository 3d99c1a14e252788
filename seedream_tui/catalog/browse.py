"""One catalog entry per model, from ``GET /v1/models`` or (offline) from the schemas the app already has.

RunComfy's list entries carry ``model_id``, ``display_name``, ``categories``, ``base_price_usd``,
``price_unit`` [client]; ``kind`` is a filter of the list call, so an entry may not say it: then it is
read from the model id's last part (``…/text-to-image``, ``…/edit``) [guess]. Entries that are not
objects or have no id are skipped: one odd entry must not hide the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from seedream_tui.catalog.pricing import Price, format_usd, price_of

if TYPE_CHECKING:
    from seedream_tui.api.client import RunComfyClient
    from seedream_tui.schema import ModelRegistry

#: one page of the catalog; the browser asks for the next when the user scrolls to the end
PAGE_SIZE = 100
_KIND_WORDS = ("text-to-image", "image-to-image", "text-to-video", "image-to-video", "edit", "upscale")


@dataclass(frozen=True)
class CatalogEntry:
    model_id: str
    display_name: str
    kind: str
    categories: tuple[str, ...]
    price: Price
    #: a schema for it is on disk (bundled or cached): it can be used offline
    local: bool = False

    @property
    def price_text(self) -> str:
        """``$0.03/image``, ``$0.036/s``, ``$0.01/megapixel``, or ``price unknown``."""
        if self.price.base_usd is None:
            return "price unknown"
        unit = {"output": "image", "second": "s"}.get(self.price.unit or "", self.price.unit or "call")
        return f"{format_usd(self.price.base_usd)}/{unit}"

    def as_json(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "display_name": self.display_name,
            "kind": self.kind,
            "categories": list(self.categories),
            "base_price_usd": self.price.base_usd,
            "price_unit": self.price.unit,
            "pricing_note": self.price.note,
            "cached": self.local,
        }


@dataclass(frozen=True)
class CatalogPage:
    entries: list[CatalogEntry]
    total: int
    #: True when the list came from the schemas on disk because RunComfy could not be asked
    offline: bool = False
    #: why it is offline, as a sentence
    note: str = ""


def entry_from(raw: Any, *, local: bool = False) -> CatalogEntry | None:
    """A list entry or model detail as a :class:`CatalogEntry`; None when it has no usable id."""
    if not isinstance(raw, dict):
        return None
    model_id = raw.get("model_id", raw.get("id"))
    if not isinstance(model_id, str) or not model_id.strip():
        return None
    model_id = model_id.strip()
    name = next((raw[k] for k in ("display_name", "title", "name") if isinstance(raw.get(k), str) and raw[k]), model_id)
    categories = raw.get("categories")
    cats = tuple(c for c in categories if isinstance(c, str)) if isinstance(categories, list) else ()
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind in ("", "model"):  # RunComfy's kind is "model": the task is a category
        kind = next((c for c in cats if "-to-" in c), "") or kind_from_id(model_id)
    return CatalogEntry(
        model_id=model_id,
        display_name=" ".join(str(name).split()),
        kind=kind,
        categories=cats,
        price=price_of(raw),
        local=local,
    )


def kind_from_id(model_id: str) -> str:
    last = model_id.rsplit("/", 1)[-1].lower()
    return next((word for word in _KIND_WORDS if word in last), "")


def edit_model_candidates(model_id: str) -> list[str]:
    """Edit models of the same family, most likely first: the model itself when it edits, else its sibling
    ``…/edit`` (``bytedance/seedream-5/lite/text-to-image`` -> ``bytedance/seedream-5/lite/edit``) [guess]."""
    parts = model_id.strip("/").split("/")
    if kind_from_id(model_id) in ("edit", "image-to-image"):
        return [model_id]
    return ["/".join([*parts[:-1], "edit"]), "/".join([*parts[:-1], "image-to-image"])]


async def search_catalog(
    client: RunComfyClient,
    *,
    search: str = "",
    category: str = "",
    kind: str = "",
    offset: int = 0,
    limit: int = PAGE_SIZE,
    known: set[str] | None = None,
) -> CatalogPage:
    """One page of RunComfy's catalog; ``known`` (model ids with a schema on disk) marks entries as local."""
    body = await client.list_models(search=search or None, category=category or None, kind=kind or None,
                                    limit=limit, offset=offset)  # fmt: skip
    entries = [e for e in (entry_from(raw) for raw in body.get("models", [])) if e is not None]
    if known:
        entries = [e if e.model_id not in known else _local(e) for e in entries]
    total = body.get("total")
    count = total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else offset + len(entries)
    return CatalogPage(entries, count)


def local_catalog(registry: ModelRegistry, *, search: str = "", category: str = "", kind: str = "") -> CatalogPage:
    """The catalog as far as the schemas on disk tell it (offline, or no token yet)."""
    entries: dict[str, CatalogEntry] = {}
    for spec in registry.list():
        if spec.model_id in entries:
            continue
        entry = entry_from({"display_name": spec.title, **spec.raw, "model_id": spec.model_id}, local=True)
        if entry is not None and _matches(entry, search, category, kind):
            entries[spec.model_id] = entry
    found = sorted(entries.values(), key=lambda e: e.display_name.lower())
    return CatalogPage(found, len(found), offline=True)


def local_categories(registry: ModelRegistry) -> list[str]:
    cats = {c for spec in registry.list() for c in (spec.raw.get("categories") or []) if isinstance(c, str)}
    return sorted(cats)


def _local(entry: CatalogEntry) -> CatalogEntry:
    return CatalogEntry(entry.model_id, entry.display_name, entry.kind, entry.categories, entry.price, local=True)


def _matches(entry: CatalogEntry, search: str, category: str, kind: str) -> bool:
    """The same filters as the server's, for the offline list."""
    haystack = " ".join([entry.model_id, entry.display_name, entry.kind, *entry.categories]).lower()
    if search and not all(word in haystack for word in search.lower().split()):
        return False
    if category and category.lower() not in (c.lower() for c in entry.categories):
        return False
    return not kind or entry.kind.lower() == kind.lower()
