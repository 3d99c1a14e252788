"""Preview images, decoded off the event loop, from the cheapest good-enough source, and a few kept.

A 2304x1728 PNG takes ~100 ms to decode, and the preview shows it at about the pane's pixel size.
So: when images are drawn with character cells (halfcell/unicode: one or two pixels per cell), the
downloader's 512-px thumbnail holds all the detail the pane can show and decodes ~20x faster; it is
scaled to the size the full image would have had, so the layout does not change. Pixel protocols
(sixel, kitty) use the thumbnail too when it is at least as large as the pane (the downloader
makes it 1024 px), else the full image. The last few results are kept in a small LRU, so stepping back and
forth through jobs does not decode again, and browsing 1,000 jobs never holds more than a few images.
The LRU is bounded by count and by bytes (a viewer-sized image at 200x60 is ~5 MB, a preview ~1 MB).
Everything here runs in worker threads; the lock guards the cache only.

Memory that comes back: a full-size decode allocates tens of MB in the thread that runs it, and glibc keeps
what is freed in that thread's heap (one per thread) instead of handing it back, so after walking the viewer
the process stayed at ~470 MB. So: buffers of 2 MB and more are mapped on their own (glibc's
``M_MMAP_THRESHOLD``, fixed, where it would otherwise rise with every large free; one setting for the process,
``jobs.decoding.tune_allocator``) and go back to the system when freed; :func:`release` (the viewer calls it when it closes) drops the large cached images and
asks the C allocator to return free memory (``malloc_trim``); :func:`load_preview` does the same after every
few large decodes.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from seedream_tui.jobs.model import THUMB_SIZE

if TYPE_CHECKING:
    from PIL.Image import Image

#: decoded previews kept (each is about pane-sized: ~2 MB at 900x800 RGB) ...
CACHE_SIZE = 8
#: ... and at most this many bytes of them (a viewer-sized image at 200x60 cells is ~5 MB)
CACHE_BYTES = 24 * 1024 * 1024
#: an image at least this large counts as "large": :func:`release` drops it, and every ``TRIM_EVERY``-th
#: large decode hands free heap memory back to the system
LARGE_BYTES = 2 * 1024 * 1024
TRIM_EVERY = 4


_Key = tuple[str, tuple[int, int], bool]
_cache: OrderedDict[_Key, Image] = OrderedDict()
_lock = threading.Lock()
_large_decodes = 0


def image_bytes(image: Image) -> int:
    """The bytes of ``image``'s pixels (width x height x bands)."""
    width, height = image.size
    return width * height * len(image.getbands())


def cached_bytes() -> int:
    """The bytes of pixels held in the preview cache now."""
    with _lock:
        return sum(image_bytes(image) for image in _cache.values())


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
    from seedream_tui.jobs.decoding import tune_allocator  # Pillow with it: not on the first frame's path

    key = (path, box, coarse)
    tune_allocator()
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    image = None
    if Path(path).suffix.lower().lstrip(".") in _VIDEO_SUFFIXES:  # a video: its poster frame stands in for it
        if not thumb_path:
            raise ValueError("the video has no poster frame")
        with _poster_size(thumb_path) as poster_size:
            image = _from_thumb(thumb_path, fitted(poster_size, box))
    elif thumb_path and size and size[0] and size[1]:
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
    _count_large_decode(image)
    if not keep:
        return image
    with _lock:
        _cache[key] = image
        _cache.move_to_end(key)
        total = sum(image_bytes(kept) for kept in _cache.values())
        while len(_cache) > 1 and (len(_cache) > CACHE_SIZE or total > CACHE_BYTES):
            _, dropped = _cache.popitem(last=False)
            total -= image_bytes(dropped)
    return image


def _count_large_decode(image: Image) -> None:
    """Every ``TRIM_EVERY``-th large decode, hand the heap memory freed since back to the system."""
    global _large_decodes
    if image_bytes(image) < LARGE_BYTES:
        return
    with _lock:
        _large_decodes += 1
        due = _large_decodes % TRIM_EVERY == 0
    if due:
        from seedream_tui.jobs.decoding import trim_heap

        trim_heap()


def release() -> None:
    """Drop the large cached images (viewer-sized) and return free heap memory to the system.

    Called when the viewer closes: the previews of the main screen and the history are small and stay.
    """
    with _lock:
        for key in [k for k, image in _cache.items() if image_bytes(image) >= LARGE_BYTES]:
            del _cache[key]
    from seedream_tui.jobs.decoding import trim_heap

    trim_heap()


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


#: files whose picture is their poster frame (the first frame, saved as the thumbnail when downloaded)
_VIDEO_SUFFIXES = ("mp4", "mov", "webm", "mkv")


@contextlib.contextmanager
def _poster_size(thumb_path: str) -> Iterator[tuple[int, int]]:
    from PIL import Image as PILImage

    with PILImage.open(thumb_path) as img:
        yield img.size


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
