"""Fetch a model's detail (``GET /v1/models/{id}``) and keep it as a schema file in the config dir.

The file is the detail as RunComfy sent it (schema, price, categories) plus an ``x-seedream-tui`` note of
when and from where it was fetched; the registry loads it at the next start, so the model works offline
and its quote is known. Only files with that note are refreshed (when older than a day): a schema the
user wrote by hand is never overwritten behind their back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seedream_tui.fsutil import atomic_write
from seedream_tui.safetext import quoted
from seedream_tui.schema import ModelSpec, SchemaError, reader

if TYPE_CHECKING:
    from seedream_tui.api.client import RunComfyClient
    from seedream_tui.schema import ModelRegistry

log = logging.getLogger(__name__)

#: the key of our own note inside a cached file
NOTE_KEY = "x-seedream-tui"
#: a cached schema older than this is fetched again in the background
MAX_AGE = 24 * 60 * 60.0


@dataclass(frozen=True)
class CachedModel:
    spec: ModelSpec
    path: Path


def file_name(model_id: str) -> str:
    return model_id.replace("/", "__") + ".json"


async def fetch_model(client: RunComfyClient, folder: Path, model_id: str, *, now: float | None = None) -> CachedModel:
    """Fetch, check and save one model's schema; raises ApiError, SchemaError or OSError (with sentences)."""
    model_id = model_id.strip().strip("/")
    detail = await client.model_detail(model_id)
    named = _named_id(detail)
    if named is not None and named != model_id:
        # stored as it says, it would stand in for that other model (a user file wins over a bundled one)
        raise SchemaError(f"the detail RunComfy sent describes another model ({quoted(named, 80)}), so it was not "
                          "saved.")
    detail["model_id"] = model_id  # the file is the model that was asked for, whatever else it holds
    key = file_name(model_id)[: -len(".json")]
    target = folder / file_name(model_id)
    detail[NOTE_KEY] = {"fetched_at": time.time() if now is None else now, "base_url": client.base_url}
    limit = reader.MAX_FILE_BYTES
    try:
        data = json.dumps(detail, ensure_ascii=False, indent=2, allow_nan=False).encode("utf-8")
        if len(data) > limit:  # the indentation alone may push a big answer over the limit
            data = json.dumps(detail, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except ValueError:  # 1e999 reads as infinity, which JSON cannot hold: the file would never load
        raise SchemaError("it holds a number too large for JSON, so it was not saved.") from None
    if len(data) > limit:
        raise SchemaError(f"it is {_mib(len(data))}, more than a schema may be ({_mib(limit)}), so it was not saved.")
    # read back exactly as the registry will read the file at every start: what it would refuse is not saved
    spec = reader.schema_from_bytes(data, source=str(target), key=key)
    await asyncio.to_thread(atomic_write, target, data)
    return CachedModel(spec, target)


def _named_id(detail: dict[str, Any]) -> str | None:
    """The model id a detail says it describes (``model_id``, else an ``id`` that looks like one), or None."""
    for key in ("model_id", "id"):
        value = detail.get(key)
        if value is None:
            continue
        if isinstance(value, str) and value.strip().strip("/"):
            if key == "id" and "/" not in value:
                return None  # an internal id ("42", "m_123"), not a model id
            return value.strip().strip("/")
        if key == "model_id":
            return str(value)  # not an id at all: never the one asked for
    return None


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB" if size >= 100 * 1024 else f"{size:,} bytes"


def stale_models(folder: Path, *, now: float | None = None, max_age: float = MAX_AGE) -> list[str]:
    """Model ids of cached files (ours, not hand-written) fetched more than ``max_age`` seconds ago."""
    now = time.time() if now is None else now
    found: list[str] = []
    try:
        files = sorted(folder.glob("*.json"))
    except OSError:
        return []
    for path in files:
        note, model_id = _note(path)
        fetched = note.get("fetched_at") if note else None
        if model_id and isinstance(fetched, int | float) and now - fetched > max_age:
            found.append(model_id)
    return found


def _note(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    if not isinstance(data, dict) or not isinstance(data.get(NOTE_KEY), dict):
        return None, None
    model_id = data.get("model_id")
    return data[NOTE_KEY], model_id if isinstance(model_id, str) else None


async def refresh_stale(
    client: RunComfyClient, folder: Path, registry: ModelRegistry, *, now: float | None = None
) -> list[str]:
    """Fetch every stale cached schema again and put it in ``registry``; returns the refreshed ids.

    A failure keeps the old file (it still works) and is logged, not shown: nothing the user asked for failed.
    """
    refreshed: list[str] = []
    for model_id in await asyncio.to_thread(stale_models, folder, now=now):
        try:
            cached = await fetch_model(client, folder, model_id, now=now)
        except (SchemaError, OSError, Exception) as exc:  # noqa: BLE001 - a background refresh never bothers the user
            log.info("could not refresh the cached schema of %s: %s", model_id, exc)
            continue
        registry.add(cached.spec, user=True)
        refreshed.append(model_id)
    return refreshed
