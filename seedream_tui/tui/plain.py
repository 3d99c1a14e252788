"""The one way the TUI shows text that came from outside: as plain Rich ``Text``, never as markup.

A ``str`` given to ``Static``, ``Label``, a ``DataTable`` cell, a ``Select`` option, a border title or a
toast is parsed as Textual markup: ``[/opt/run.py:212]`` in a server's error raises ``MarkupError``,
``[NSFW]`` vanishes and ``[@click=app.quit]`` becomes a live link. Wrapping the value with :func:`plain`
(or :func:`plain_line` for one row) makes it literal text, with control characters shown visibly
(:mod:`seedream_tui.safetext`), so nothing from the server, the user, files or settings reaches the
terminal as an escape sequence.
"""

from __future__ import annotations

from rich.text import Text

from seedream_tui.safetext import visible


def plain(text: object, style: str = "") -> Text:
    """``text`` as literal, multi-line Text (newlines and tabs kept, every other control shown)."""
    return Text(visible(text, multiline=True), style=style)


def plain_line(text: object, style: str = "") -> Text:
    """``text`` as one literal line, cut with an ellipsis where it does not fit (cells, titles, rows)."""
    return Text(visible(text), style=style, no_wrap=True, overflow="ellipsis", end="")
