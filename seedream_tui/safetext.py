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
import math
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


def quoted(text: str, limit: int = 60) -> str:
    """Outside text quoted for a sentence (``repr``: no control character reaches the screen), cut at ``limit``."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def json_text(data: Any, *, ascii_only: bool = False, indent: int | None = 2) -> str:
    """JSON that is safe on any terminal and valid whatever the locale.

    ``json.dumps`` escapes C0 controls but not C1 (``\\x9b`` is a CSI on some terminals), bidi overrides or
    U+2028; they are escaped here too (still valid JSON, same value when parsed). ``ascii_only`` escapes
    every non-ASCII character, for a terminal whose encoding is not UTF-8.
    """
    try:
        text = json.dumps(data, ensure_ascii=ascii_only, indent=indent, allow_nan=False)
    except ValueError:  # an infinite or NaN number: strict JSON has neither, so it becomes null
        text = json.dumps(_finite(data), ensure_ascii=ascii_only, indent=indent, allow_nan=False)
    if ascii_only:
        return text
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _finite(data: Any) -> Any:
    """``data`` with every infinite or NaN float replaced by None."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(value) for value in data]
    return data


def json_for(data: Any, stream: Any) -> str:
    """:func:`json_text` for printing to ``stream``: ASCII-escaped unless the stream's encoding is UTF-8."""
    return json_text(data, ascii_only=not encodes_utf8(getattr(stream, "encoding", None)))


def encodes_utf8(encoding: str | None) -> bool:
    """Whether a stream ``encoding`` can hold any text (UTF-8 in one of its spellings)."""
    return (encoding or "").lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")


#: the shortest piece of a secret that is hidden on its own (a server echoing "the first 20 characters of
#: your token"): any run of this many characters of the secret, anywhere in a text
SECRET_RUN = 8
_GRAM = 4  # what is looked up at every (SECRET_RUN - _GRAM + 1)-th position: any run contains one there


def hide_secret(text: str, secret: str | None, mark: str) -> str:
    """``text`` with every run of at least :data:`SECRET_RUN` consecutive characters of ``secret`` (the whole
    secret included) replaced by ``mark``. A secret shorter than that is hidden only whole.

    A text holding no piece of 8 (every real answer) costs one substring search per piece. One that does is
    scanned once: only every 5th position's 4 characters are looked up (a run of 8 always holds a sampled
    one), and a hit is grown both ways against the secret, character by character.
    """
    if not secret or len(secret) < 4 or not text:
        return text
    if len(secret) < SECRET_RUN:
        return text.replace(secret, mark) if secret in text else text
    if secret in text:  # whole copies first, at C speed
        text = text.replace(secret, mark)
    if not any(secret[i : i + SECRET_RUN] in text for i in range(len(secret) - SECRET_RUN + 1)):
        return text  # no piece of 8 anywhere (every real answer): ~20 substring searches, no Python loop
    at: dict[str, list[int]] = {}
    for i in range(len(secret) - _GRAM + 1):
        at.setdefault(secret[i : i + _GRAM], []).append(i)
    step, n, size = SECRET_RUN - _GRAM + 1, len(text), len(secret)
    out: list[str] = []
    last, p = 0, 0
    while p + _GRAM <= n:
        offsets = at.get(text[p : p + _GRAM])
        if offsets:
            best: tuple[int, int] | None = None
            for o in offsets:  # the secret's piece o..o+4 sits at p: how far does the likeness reach?
                left = _reach(text, p, secret, o, 0, min(o, p - last), backwards=True)
                right = _reach(text, p, secret, o, _GRAM, min(size - o, n - p), backwards=False)
                if left + right >= SECRET_RUN and (best is None or (p - left, -(p + right)) < (best[0], -best[1])):
                    best = (p - left, p + right)
            if best is not None:
                out += (text[last : best[0]], mark)
                last = best[1]
                p = -(-last // step) * step  # the first sampled position at or after the run's end
                continue
        p += step
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _reach(text: str, p: int, secret: str, o: int, low: int, high: int, *, backwards: bool) -> int:
    """How far ``text`` at ``p`` stays like ``secret`` at ``o`` (backwards: before them; else from them on): the
    largest ``k`` in ``low..high`` whose ``k`` characters agree, ``low`` known to. A binary search of slice
    comparisons (C speed), not a loop per character."""
    while low < high:
        mid = (low + high + 1) // 2
        if (text[p - mid : p] == secret[o - mid : o]) if backwards else (text[p : p + mid] == secret[o : o + mid]):
            low = mid
        else:
            high = mid - 1
    return low
