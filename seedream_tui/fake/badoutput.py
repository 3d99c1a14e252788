"""Bad answers for the client's defences: hostile output URLs/CDN files and broken status/result bodies.

``FakeConfig.output_url_style`` (the downloader must refuse every one of these):

- ``normal``: nothing wrong.
- ``ftp``: result output URLs use the ``ftp://`` scheme (same host, port and path).
- ``file``: every result output URL is ``file:///etc/passwd``.
- ``redirect_http``: the CDN answers ``302`` to ``http://example.invalid/x.png`` (plain http, not loopback).
- ``redirect_loop``: the CDN answers ``302`` to the very URL that was asked for, every time.
- ``not_image``: ``200`` with an HTML page (a captive-portal sign-in) labelled ``image/png``.
- ``bomb``: a PNG of a few KB whose header says 100000x100000: Pillow's ``Image.open`` raises
  ``DecompressionBombError`` (10^10 pixels, far over twice ``Image.MAX_IMAGE_PIXELS``).
- ``huge``: ``200`` with ``Content-Length: 2147483648``, then zeros at about 3 MB/s until the client hangs up
  (nothing is held in memory; the stream also ends when the server stops).
- ``empty``: ``200`` with ``Content-Length: 0``, labelled with the file's image type.
- ``wrong_type``: a valid 64x48 **GIF** served as ``image/gif`` under the ``.png``/``.jpeg`` URL. GIF rather than
  BMP because Pillow opens it happily: a client that only asks "does Pillow decode it?" accepts it, so the
  test proves the client checks the format against what it expects (PNG/JPEG/WEBP).

``FakeConfig.api_body_style`` (every status and result answer for a known request, while on; gate faults and
error answers are unchanged):

- ``html``: ``200`` with an HTML page. ``empty``: ``200``, ``application/json``, no bytes.
- ``truncated_json``: the real JSON cut in the middle (Content-Length matches what is sent).
- ``wrong_types``: ``status`` is a number, ``queue_position`` a string, ``output`` a number (all three always
  present). ``unknown_status``: ``status`` is ``"warming_up"``.
- ``gigantic``: the real JSON plus a ``padding`` string field, about 10 MB in all (valid JSON).
- ``nested_json``: ``status`` is a list nested 100,000 deep (valid JSON; Python's parser gives RecursionError).
- ``huge_position``: ``queue_position`` is 10**30 (too big for SQLite's integers).
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import struct
import zlib
from typing import TYPE_CHECKING, Any

from aiohttp import web
from PIL import Image

if TYPE_CHECKING:
    from seedream_tui.fake.server import FakeServer

#: where ``redirect_http`` sends the client
REDIRECT_HTTP_TARGET = "http://example.invalid/x.png"
FILE_URL = "file:///etc/passwd"
BOMB_SIDE = 100_000
HUGE_LENGTH = 2_147_483_648
HUGE_CHUNK = 64 * 1024
HUGE_INTERVAL = 0.02  # seconds between chunks: about 3 MB/s
GIGANTIC_SIZE = 10 * 1024 * 1024
WARMING_UP = "warming_up"
NESTING = 100_000
HUGE_POSITION = 10**30

_NOT_IMAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in to the network</title></head>"
    b"<body><h1>Welcome!</h1><p>Please accept the terms to continue.</p>"
    b'<form method="post"><button>Accept</button></form></body></html>\n'
)
_HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    "<body><h1>Checking your browser before accessing the API.</h1></body></html>"
)
_STATUS_NUMBERS = {"in_queue": 0, "in_progress": 1, "completed": 2, "failed": 3, "cancelled": 4}

# ----- output URLs and the CDN ------------------------------------------------------------------------


def output_urls(urls: list[str], style: str) -> list[str]:
    """The output URLs as a result answer shows them under ``output_url_style``."""
    if style == "ftp":
        return ["ftp://" + url.split("://", 1)[-1] for url in urls]
    if style == "file":
        return [FILE_URL for _ in urls]
    return list(urls)


def rewrites_urls(style: str) -> bool:
    return style in ("ftp", "file")


async def bad_file_answer(server: FakeServer, request: web.Request, style: str) -> web.StreamResponse:
    """The CDN's answer for a real output file under a CDN-side ``output_url_style``."""
    if style == "redirect_http":
        return web.Response(status=302, headers={"Location": REDIRECT_HTTP_TARGET})
    if style == "redirect_loop":
        return web.Response(status=302, headers={"Location": str(request.url)})
    if style == "not_image":
        return web.Response(body=_NOT_IMAGE, content_type="image/png")
    if style == "bomb":
        return web.Response(body=bomb_png(), content_type="image/png")
    if style == "empty":
        return web.Response(body=b"", content_type=_image_type(request))
    if style == "wrong_type":
        return web.Response(body=small_gif(), content_type="image/gif")
    if style == "huge":
        return await _huge(server, request)
    raise ValueError(f"output_url_style {style!r} has no CDN answer")  # pragma: no cover - checked config


def _image_type(request: web.Request) -> str:
    name = request.match_info.get("name", "")
    return "image/jpeg" if name.endswith((".jpeg", ".jpg")) else "image/png"


@functools.cache
def bomb_png() -> bytes:
    """A valid-looking greyscale PNG, 100000x100000, whose IDAT holds only the first rows (a few KB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", BOMB_SIDE, BOMB_SIDE, 8, 0, 0, 0, 0)  # 8-bit grey, no interlace
    rows = zlib.compress(b"\x00" * ((BOMB_SIDE + 1) * 40), 9)  # 40 rows of zeros (filter byte + pixels)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


@functools.cache
def small_gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 90)).save(buffer, format="GIF")
    return buffer.getvalue()


async def _huge(server: FakeServer, request: web.Request) -> web.StreamResponse:
    """Promise 2 GiB and trickle zeros until the client closes (or the server stops); never builds a body."""
    response = web.StreamResponse(headers={"Content-Type": "image/png"})
    response.content_length = HUGE_LENGTH
    await response.prepare(request)
    chunk = bytes(HUGE_CHUNK)
    task = asyncio.current_task()
    assert task is not None
    server.open_streams.add(task)
    sent = 0
    try:
        while sent < HUGE_LENGTH and not server.closing:
            transport = request.transport
            if transport is None or transport.is_closing():
                break
            await response.write(chunk)  # waits while the client's window is full: no buffering here
            sent += len(chunk)
            await asyncio.sleep(HUGE_INTERVAL)  # the trickle rate, not synchronisation
    except ConnectionError:  # the client hung up mid-write
        pass
    finally:
        server.open_streams.discard(task)
    if request.transport is not None:
        request.transport.close()  # the promised length was never met: end the connection, not the body
    return response


# ----- status/result bodies ---------------------------------------------------------------------------


def api_body_answer(body: dict[str, Any], style: str) -> web.Response:
    """A status/result answer whose body is broken the ``api_body_style`` way."""
    if style == "html":
        return web.Response(text=_HTML_PAGE, content_type="text/html")
    if style == "empty":
        return web.Response(body=b"", content_type="application/json")
    if style == "truncated_json":
        raw = json.dumps(body).encode()
        return web.Response(body=raw[: max(1, len(raw) // 2)], content_type="application/json")
    if style == "wrong_types":
        broken = dict(body)
        broken["status"] = _STATUS_NUMBERS.get(str(body.get("status")), 9)
        broken["queue_position"] = str(body.get("queue_position") or 1)
        broken["output"] = 12345
        return web.json_response(broken)
    if style == "unknown_status":
        return web.json_response({**body, "status": WARMING_UP})
    if style == "gigantic":
        return web.Response(body=_gigantic(json.dumps(body).encode()), content_type="application/json")
    if style == "nested_json":  # valid JSON nested far deeper than any parser's recursion limit
        return web.Response(body=b'{"status": ' + b"[" * NESTING + b"]" * NESTING + b"}",
                            content_type="application/json")
    if style == "huge_position":
        return web.json_response({**body, "queue_position": HUGE_POSITION})
    return web.json_response(body)


def _gigantic(raw: bytes) -> bytes:
    """``raw`` (a JSON object) with a ``padding`` field that brings it to about :data:`GIGANTIC_SIZE` bytes."""
    head = raw[:-1] + (b', "padding": "' if len(raw) > 2 else b'{"padding": "')
    return head + b"x" * max(0, GIGANTIC_SIZE - len(head) - 2) + b'"}'
