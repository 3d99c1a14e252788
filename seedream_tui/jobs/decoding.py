"""Opening and decoding images with bounded memory, shared by downloads, image inputs and the TUI's previews.

- **Pixels are checked before decoding**: :func:`open_image` reads the header only and refuses an image of
  more than :data:`MAX_PIXELS` pixels (a 109 KB PNG can claim 30000x30000: 3.6 GB once decoded) with
  :class:`TooManyPixels`, a sentence; Pillow's own ``DecompressionBombWarning``/``Error`` never reach the
  user as a raw warning or an "unexpected error". A JPEG is first set to decode at a reduced scale
  (``draft``) where the caller wants a smaller picture, and is checked at that scale.
- **One large decode at a time** per process (:data:`DECODES`): a 64-megapixel image takes 256 MB decoded.
- **Freed decodes go back to the system**: glibc's malloc raises its mmap threshold to the size of the
  largest block freed, after which Pillow's 16 MB image blocks come from per-thread arenas that keep them:
  six 64-megapixel decodes one after the other, each in a worker thread, left 1.2 GB resident and peaked at
  1.7 GB. A fixed threshold (:func:`tune_allocator`) keeps large blocks mapped
  on their own, so each is returned when the image is freed: the same six peaked at 280 MB. It is set
  the first time :func:`open_image` runs.

No Textual here.
"""

from __future__ import annotations

import ctypes
import re
import sys
import threading
import warnings
from typing import IO, Any

from PIL import Image

#: the most pixels an image may have to be decoded: 64 megapixels (8000x8000), above Seedream's largest output
#: tier (4704x2016) and most cameras; decoded, it is 256 MB. Pillow's own default limit is 89 megapixels.
MAX_PIXELS = 64_000_000
#: a JPEG decodes at 1/2, 1/4 or 1/8 scale (``draft``), so a larger one may be used when a smaller picture is
#: wanted: its header may claim up to this many pixels as long as the reduced decode stays under MAX_PIXELS
MAX_JPEG_HEADER_PIXELS = 178_000_000
#: every full decode holds this (a thumbnail of a large image is made while the decode is held)
DECODES = threading.BoundedSemaphore(1)
#: blocks of at least this size are mapped on their own and unmapped when freed (decodes here and the TUI's
#: previews alike: one setting for the process)
MMAP_THRESHOLD = 2 * 1024 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


class TooManyPixels(ValueError):
    """An image whose header claims more pixels than may be decoded; ``str()`` is a sentence's core."""

    def __init__(self, width: int | None, height: int | None, limit: int = MAX_PIXELS, *, pixels: int = 0) -> None:
        self.width, self.height, self.limit = width, height, limit
        if width and height:
            size = f"{width}x{height} pixels"
        else:
            size = f"{pixels / 1e6:,.0f} megapixels" if pixels else "far too many pixels"
        super().__init__(f"has {size}, more than the {limit / 1e6:.0f} megapixels this app decodes")


def open_image(source: str | IO[bytes] | Any, *, draft_box: tuple[int, int] | None = None) -> Image.Image:
    """``Image.open`` (the header only), refusing too many pixels with :class:`TooManyPixels` before
    anything is decoded (and sets the process up so that decodes give their memory back). With ``draft_box``, a JPEG is set to decode at the smallest scale that still covers
    the box, and its pixel count is checked at that scale. Raises what ``Image.open`` raises otherwise
    (``UnidentifiedImageError``/``OSError``); the caller closes the image."""
    tune_allocator()
    with warnings.catch_warnings():
        # Pillow warns above 89 megapixels (a raw warning on stderr) and raises above twice that: our own
        # limit below is the one that applies, with a sentence
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(source)
        except Image.DecompressionBombError as exc:  # its size is only in the message: "(N pixels)"
            claimed = re.search(r"\((\d+) pixels\)", str(exc))
            raise TooManyPixels(None, None, pixels=int(claimed.group(1)) if claimed else 0) from None
    try:
        width, height = image.size
        header_limit = MAX_JPEG_HEADER_PIXELS if image.format == "JPEG" and draft_box else MAX_PIXELS
        if width * height > header_limit:
            raise TooManyPixels(width, height)
        if draft_box is not None and image.format == "JPEG":
            image.draft(image.mode if image.mode in ("RGB", "L") else "RGB", draft_box)
        decoded_w, decoded_h = image.size
        if decoded_w * decoded_h > MAX_PIXELS:
            raise TooManyPixels(width, height)
    except BaseException:
        image.close()
        raise
    return image


def header_size(source: str | IO[bytes] | Any) -> tuple[int, int] | None:
    """Width and height from an image's header (nothing decoded, no warning printed whatever it claims), or
    None when it is not an image Pillow knows. Safe for any size claim, including decompression bombs."""
    from PIL import UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(source) as image:
                return image.size
        except Image.DecompressionBombError:
            return None  # its size is past twice Pillow's limit; no caller can use it anyway
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            return None


_libc: Any = None


def _glibc() -> Any:
    """The C library the interpreter runs on when it is glibc (``mallopt`` and ``malloc_trim``), else False.
    On first use the mmap threshold is fixed (see the module's docstring)."""
    global _libc
    if _libc is None:
        _libc = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(None)
                libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                _libc = libc if hasattr(libc, "malloc_trim") else False
            except (OSError, AttributeError, TypeError):
                _libc = False
    return _libc


def tune_allocator() -> None:
    """Settle the allocator for image decoding (before the first large one): idempotent, a no-op off glibc."""
    _glibc()


def trim_heap() -> bool:
    """Ask the C allocator to hand freed memory back (glibc's ``malloc_trim``); False where there is none."""
    libc = _glibc()
    if not libc:
        return False
    libc.malloc_trim(0)
    return True
