"""One catalog entry per model, from ``GET /v1/models`` or (offline) from the schemas the app already has.

RunComfy's list entries carry ``model_id``, ``display_name``, ``categories``, ``base_price_usd``,
``price_unit`` [client]. Their ``kind`` is ``"model"`` for every hosted endpoint [client]: what a model
does (text-to-image, image-to-video, …) is in ``categories``, whose entries end in ``image``, ``video`` or
``audio`` for what it makes. So the entry's ``kind`` here is that task, read from the categories, else
from a ``kind`` that names one, else from the model id's last part (``…/text-to-image``, ``…/edit``)
[guess]; ``output`` is what it makes. ``--kind`` filters on that task here, never on the server's
``kind`` (which would match nothing but ``model``). Entries that are not objects or have no id are
skipped: one odd entry must not hide the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from seedream_tui.api.parse import model_entries
from seedream_tui.catalog.pricing import Price, format_usd, price_of

if TYPE_CHECKING:
    from seedream_tui.api.client import RunComfyClient
    from seedream_tui.schema import ModelRegistry

#: one page of the catalog; the browser asks for the next when the user scrolls to the end
PAGE_SIZE = 100
_KIND_WORDS = ("text-to-image", "image-to-image", "text-to-video", "image-to-video", "edit", "upscale")
#: what a model makes, by how its task (category) ends
_OUTPUT_WORDS = ("image", "video", "audio")
#: ``kind`` values that say nothing about the task (RunComfy's catalog says "model" for every endpoint)
_GENERIC_KINDS = frozenset({"model", "models", "endpoint", "hosted", "api", ""})
#: words a user may give ``--kind`` for a model that edits images
_EDIT_WORDS = frozenset({"edit", "image-edit", "image-to-image", "img2img"})


@dataclass(frozen=True)
class CatalogEntry:
    model_id: str
    display_name: str
    #: what the model does (``text-to-image``, ``image-to-video``, ``edit``), from its categories; "" unknown
    kind: str
    categories: tuple[str, ...]
    price: Price
    #: a schema for it is on disk (bundled or cached): it can be used offline
    local: bool = False
    #: what it makes: ``image``, ``video``, ``audio``, or "" when nothing says
    output: str = ""

    @property
    def edits(self) -> bool:
        """It takes an image and makes another (``edit``, ``image-to-image``, an ``…-edit`` category)."""
        words = {_norm(self.kind), *(_norm(c) for c in self.categories), kind_from_id(self.model_id)}
        return any(w in _EDIT_WORDS or w.endswith(("-edit", "-editing")) or w.startswith("edit-") for w in words)

    def is_kind(self, wanted: str) -> bool:
        """``--kind``: the task (``text-to-image``), one of its categories, what it makes (``video``), or
        ``edit`` / ``image-to-image`` for a model that edits images."""
        word = _norm(wanted)
        if not word:
            return True
        if word in (_norm(self.kind), self.output) or word in (_norm(c) for c in self.categories):
            return True
        return word in _EDIT_WORDS and self.edits

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
            "output": self.output,
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
    #: how many entries the server sent (the next page's offset moves by this, whatever the filter kept)
    fetched: int = 0
    #: the ids of every readable entry the server sent, before ``kind`` filtered them: a page whose ids
    #: were all seen before adds nothing (a server that ignores ``offset`` sends the first page again)
    ids: tuple[str, ...] = ()


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
    if isinstance(categories, str):
        categories = [categories]
    cats = tuple(c.strip() for c in categories if isinstance(c, str) and c.strip()) if isinstance(categories, list) else ()
    task = task_of(cats, raw.get("kind"), model_id)
    return CatalogEntry(
        model_id=model_id,
        display_name=" ".join(str(name).split()),
        kind=task,
        categories=cats,
        price=price_of(raw),
        local=local,
        output=output_of(task, cats),
    )


def _norm(word: str) -> str:
    """``Text to Image`` / ``text_to_image`` -> ``text-to-image``."""
    return "-".join(word.strip().lower().replace("_", " ").replace("-", " ").split())


def task_of(categories: tuple[str, ...], kind: Any, model_id: str) -> str:
    """What a model does: the first category naming a task (``…-to-…``, ``edit``, ``…-edit``), else a
    ``kind`` that is not just "model", else the model id's last part, else a category naming what it
    makes (``video``)."""
    words = [_norm(c) for c in categories]
    for word in words:
        if "-to-" in word or word in _KIND_WORDS or word.endswith(("-edit", "-upscale")):
            return word
    if isinstance(kind, str) and _norm(kind) not in _GENERIC_KINDS:
        return _norm(kind)
    from_id = kind_from_id(model_id)
    if from_id:
        return from_id
    return next((word for word in words if word.endswith(_OUTPUT_WORDS)), "")


def output_of(task: str, categories: tuple[str, ...]) -> str:
    """What a model makes, from how its task or categories end (``image``, ``video``, ``audio``)."""
    for word in (task, *(_norm(c) for c in categories)):
        ending = next((out for out in _OUTPUT_WORDS if word.endswith(out)), "")
        if ending:
            return ending
    head, _, tail = task.rpartition("-")
    if tail in ("edit", "editing", "upscale"):  # ``video-edit`` makes a video; a bare ``edit`` an image
        return head if head in _OUTPUT_WORDS else "image"
    return ""


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


def animate_model_candidates(model_id: str, known: Iterable[str] = (), catalog: Iterable[str] = ()) -> list[str]:
    """Image-to-video models for "animate this result", most likely first: the sibling ``…/image-to-video``,
    then those of the same owner among ``known`` (schemas on disk) and ``catalog`` (``bytedance/seedream-5/…``
    -> ``bytedance/seedance-1/lite/image-to-video``), then any other [guess: RunComfy names no family link]."""
    parts = model_id.strip("/").split("/")
    owner = parts[0] + "/"
    found = ["/".join([*parts[:-1], "image-to-video"])]
    pool = [m for m in [*known, *catalog] if kind_from_id(m) == "image-to-video"]
    found += sorted(m for m in pool if m.startswith(owner))
    found += sorted(m for m in pool if not m.startswith(owner))
    return list(dict.fromkeys(found))


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
    """One page of RunComfy's catalog; ``known`` (model ids with a schema on disk) marks entries as local.

    ``kind`` (a task: ``text-to-image``, ``edit``, ``video``) is applied here to what the server sent, not
    sent as the server's ``kind`` filter (RunComfy's entries are all of kind "model")."""
    body = await client.list_models(search=search or None, category=category or None, limit=limit, offset=offset)
    raw_entries = model_entries(body) or []
    every = [e for e in (entry_from(raw) for raw in raw_entries) if e is not None]
    entries = [e for e in every if e.is_kind(kind)]
    if known:
        entries = [e if e.model_id not in known else _local(e) for e in entries]
    total = body.get("total")
    count = total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else offset + len(every)
    return CatalogPage(entries, count, fetched=len(raw_entries), ids=tuple(e.model_id for e in every))


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
    return replace(entry, local=True)


def _matches(entry: CatalogEntry, search: str, category: str, kind: str) -> bool:
    """The same filters as the server's, for the offline list."""
    haystack = " ".join([entry.model_id, entry.display_name, entry.kind, *entry.categories]).lower()
    if search and not all(word in haystack for word in search.lower().split()):
        return False
    if category and category.lower() not in (c.lower() for c in entry.categories):
        return False
    return entry.is_kind(kind)
