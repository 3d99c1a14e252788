"""Text from outside (the server, the user, files, settings) made safe to show in a terminal.

A request id, an error message or a prompt may hold escape sequences (``ESC ] … BEL`` retitles the window
or writes the clipboard, ``ESC [ 2 J`` clears the screen), a carriage return that overwrites the line, a
newline that breaks a one-row-per-job listing, or bidi overrides that reorder what is shown. None of them
may reach the terminal as such. Every control character is shown *visibly*, as a short escape the user can
read (``\\x1b``, ``\\n``, ``\\u202e``), so nothing is silently lost either.

One small module, free of Textual and Rich, used by the headless CLI (every line it prints from outside)
and by the TUI's one plain-text path (``seedream_tui.tui.plain``).
"""

from __future__ import annotations

import json
import re
from typing import Any

#: C0 controls, DEL and C1 controls (0x9b is an 8-bit CSI), line/paragraph separators, bidi embeddings,
#: overrides and isolates, and the zero-width marks that can hide or reorder text
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
#: what ``json.dumps`` leaves raw (it escapes C0 itself; the newlines of its indentation must stay)
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _show(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object, *, multiline: bool = False) -> str:
    """``text`` with every control character replaced by a visible escape.

    ``multiline=True`` keeps newlines and tabs (a prompt or an error shown in a box of its own); the
    default puts everything on one line (a table cell, a listing row, a toast title).
    """
    value = text if isinstance(text, str) else str(text)
    if multiline:
        value = value.replace("\r\n", "\n")
        return _CONTROL.sub(lambda m: m.group() if m.group() in "\n\t" else _show(m.group()), value)
    return _CONTROL.sub(lambda m: _show(m.group()), value)


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def json_text(data: Any, *, ascii_only: bool = False, indent: int | None = 2) -> str:
    """JSON that is safe on any terminal and valid whatever the locale.

    ``json.dumps`` escapes C0 controls but not C1 (``\\x9b`` is a CSI on some terminals), bidi overrides or
    U+2028; they are escaped here too (still valid JSON, same value when parsed). ``ascii_only`` escapes
    every non-ASCII character, for a terminal whose encoding is not UTF-8.
    """
    text = json.dumps(data, ensure_ascii=ascii_only, indent=indent)
    if ascii_only:
        return text
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_for(data: Any, stream: Any) -> str:
    """:func:`json_text` for printing to ``stream``: ASCII-escaped unless the stream's encoding is UTF-8."""
    return json_text(data, ascii_only=not encodes_utf8(getattr(stream, "encoding", None)))


def encodes_utf8(encoding: str | None) -> bool:
    """Whether a stream ``encoding`` can hold any text (UTF-8 in one of its spellings)."""
    return (encoding or "").lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")
