"""Preview images, decoded off the event loop, from the cheapest good-enough source, and a few kept.

A 2304x1728 PNG takes ~100 ms to decode, and the preview shows it at about the pane's pixel size.
So: when images are drawn with character cells (halfcell/unicode: one or two pixels per cell), the
downloader's 512-px thumbnail holds all the detail the pane can show and decodes ~20x faster; it is
scaled to the size the full image would have had, so the layout does not change. Pixel protocols
(sixel, kitty) use the thumbnail too when it is at least as large as the pane (the downloader
makes it 1024 px), else the full image. The last few results are kept in a small LRU, so stepping back and
forth through jobs does not decode again, and browsing 1,000 jobs never holds more than a few images.
Everything here runs in worker threads; the lock guards the cache only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from seedream_tui.jobs.model import THUMB_SIZE

if TYPE_CHECKING:
    from PIL.Image import Image

#: decoded previews kept (each is about pane-sized: ~2 MB at 900x800 RGB)
CACHE_SIZE = 8


_Key = tuple[str, tuple[int, int], bool]
_cache: OrderedDict[_Key, Image] = OrderedDict()
_lock = threading.Lock()


def fitted(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """``size`` scaled down (never up) to fit ``box``, aspect kept, as ``Image.thumbnail`` would."""
    w, h = size
    scale = min(box[0] / w, box[1] / h, 1.0)
    return max(1, round(w * scale)), max(1, round(h * scale))


def load_preview(
    path: str,
    box: tuple[int, int],
    *,
    thumb_path: str | None = None,
    size: tuple[int | None, int | None] | None = None,
    coarse: bool = False,
    keep: bool = True,
) -> Image:
    """The image at ``path`` shrunk to fit ``box`` pixels (runs in a thread; OSError/ValueError if unreadable).

    With ``coarse`` and a thumbnail plus the original ``size`` known, the thumbnail is used instead.
    ``keep=False``: not kept in this module's few-entry cache (the gallery keeps its own many small ones).
    """
    key = (path, box, coarse)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    image = None
    if thumb_path and size and size[0] and size[1]:
        target = fitted((size[0], size[1]), box)
        thumb = fitted((size[0], size[1]), THUMB_SIZE)
        # cells show less than the thumbnail holds; pixel protocols need it to be at least the target size
        if coarse or (thumb[0] >= target[0] and thumb[1] >= target[1]):
            try:
                image = _from_thumb(thumb_path, target)
            except (OSError, ValueError):
                image = None  # a missing or broken thumbnail: decode the full image instead
    if image is None:
        image = _decode(path, box)
    if not keep:
        return image
    with _lock:
        _cache[key] = image
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return image


def forget(path: str | None = None) -> None:
    """Drop cached previews (of one file, or all): after a delete, or in tests."""
    with _lock:
        for key in [k for k in _cache if path is None or k[0] == path]:
            del _cache[key]


#: a decode of more pixels than this waits for any other large decode of the process (downloads included)
LARGE_DECODE = 16_000_000


def _decode(path: str, box: tuple[int, int]) -> Image:
    """The full image shrunk to ``box``: pixels checked before decoding (``TooManyPixels``, a ValueError),
    JPEGs decoded at a reduced scale, the full frame shrunk in place (never copied), one large decode at a
    time."""
    import contextlib

    from seedream_tui.jobs.decoding import DECODES, open_image

    with open_image(path, draft_box=box) as img:  # JPEG: decode at a reduced scale; no-op for PNG
        large = img.size[0] * img.size[1] > LARGE_DECODE
        with DECODES if large else contextlib.nullcontext():
            img.load()
            picture = img.convert("RGB") if img.mode not in ("RGB", "RGBA") else img
            picture.thumbnail(box)  # in place: the full frame is freed here
            return picture.copy() if picture is img else picture  # the file closes with ``img``


def _from_thumb(thumb_path: str, target: tuple[int, int]) -> Image:
    from PIL import Image as PILImage

    if not Path(thumb_path).is_file():
        raise FileNotFoundError(thumb_path)
    with PILImage.open(thumb_path) as img:
        img.load()
        small = img.convert("RGB") if img.mode not in ("RGB", "RGBA") else img
        if small.size == target:
            return small.copy()
        # reducing_gap: shrink by whole factors first (cheap), then filter: ~5x faster from 1024 px to a tile
        return small.resize(target, PILImage.Resampling.BILINEAR, reducing_gap=2.0)
