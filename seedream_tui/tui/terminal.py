"""What the terminal can do, judged from the environment before Textual is imported.

Pure functions of the environment and the output encoding (no Textual import: ``run_tui`` calls them first,
and some answers, the colour system, must be settled before Textual reads its settings):

* ``TERM=dumb`` cannot show a full-screen app: refuse with a sentence pointing at the headless commands.
* ``TERM=xterm``/``screen``/``tmux`` without ``256color`` or ``COLORTERM`` announce 16 colours, and Textual
  believes them: half-cell image previews become flat blocks. The emulators behind those names (xterm,
  PuTTY, tmux, GNU screen, VTE…) show 256 colours, so that is what the app uses; the Linux console really
  has 16. Either way the user is told once, in one line (``TERM=xterm-256color`` and the like fix it).
* A terminal whose encoding is not UTF-8 (an ISO-8859-1 locale) cannot show box-drawing characters: the
  app draws ASCII borders instead, and says so once. The locale variables count too: when the named locale
  is not installed, Python falls back to UTF-8 (PEP 538), yet the terminal still shows ISO-8859-1.
  A terminal set to Latin-1 under a UTF-8 locale (xterm ``+u8``) is found by asking it (:mod:`termprobe`,
  ``utf8=True``, in the start-up's one round trip): the same ASCII borders, and one sentence.
* Sixel and kitty graphics (tgp) do not pass through tmux: a forced one is refused with a sentence and the
  safe half-cell mode is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from seedream_tui.safetext import encodes_utf8

HEADLESS_HINT = (
    "use the headless commands instead: seedream-tui submit \"a prompt\" --wait, seedream-tui history, "
    "seedream-tui status ID (seedream-tui --help lists them all)"
)
#: TERM names of emulators that announce 16 colours but show 256
_CAN_DO_256 = ("xterm", "screen", "tmux", "rxvt", "putty", "vte", "gnome", "konsole", "st")


def refusal(env: Mapping[str, str]) -> str | None:
    """Why the full-screen app cannot run in this terminal, or None."""
    term = env.get("TERM", "").strip().lower()
    if term == "dumb":
        return f"This terminal (TERM=dumb) cannot show the full-screen app; {HEADLESS_HINT}."
    return None


def colours(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(colour system to tell Textual, or None to let it detect; the sentence to say once, or None)."""
    if env.get("TEXTUAL_COLOR_SYSTEM") or env.get("COLORTERM", "").strip().lower() in ("truecolor", "24bit"):
        return None, None
    term = env.get("TERM", "").strip().lower()
    if not term or "256" in term or "direct" in term or "truecolor" in term or "kitty" in term:
        return None, None
    base = term.split("-")[0]
    # one line on the screen (the message line, 77 cells at 80 columns); the log says the same
    if base in _CAN_DO_256:
        return "256", f"TERM={term} says 16 colours; using 256. Set TERM={base}-256color to fix."
    return None, f"TERM={term} shows only 16 colours: image previews are coarse."


def locale_charset(env: Mapping[str, str]) -> str | None:
    """The charset the locale names (``LC_ALL`` beats ``LC_CTYPE`` beats ``LANG``): ``ISO-8859-1`` for
    ``en_US.ISO-8859-1``; None when it names none (``C``, ``POSIX``, ``en_US``)."""
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = env.get(name, "").strip()
        if value:
            return value.partition(".")[2].partition("@")[0] or None
    return None


def needs_ascii(encoding: str | None, env: Mapping[str, str] | None = None) -> bool:
    """True when the output encoding, or the charset the locale names, cannot hold box-drawing characters."""
    charset = locale_charset(env) if env is not None else None
    return not encodes_utf8(encoding) or (charset is not None and not encodes_utf8(charset))


def ascii_sentence(encoding: str | None, env: Mapping[str, str]) -> str:
    """What the user is told once when the app draws ASCII borders."""
    charset = locale_charset(env)
    shown = charset if charset is not None and not encodes_utf8(charset) else (encoding or "unknown")
    return (
        f"This terminal's encoding is {shown}, not UTF-8: borders are drawn with ASCII. For the full look use a "
        "UTF-8 locale (LANG=en_US.UTF-8) in a terminal in UTF-8 mode."
    )


#: one line on the screen (the message line, 77 cells at 80 columns)
NOT_UTF8_MODE = "The terminal is not in UTF-8 mode (xterm +u8?): borders are drawn in ASCII."


def probed_ascii(utf8: bool | None, ascii_already: bool) -> str | None:
    """The sentence when the terminal's answer (``TerminalInfo.utf8``) calls for ASCII borders the locale did
    not already call for; None otherwise (UTF-8, or no answer: a silent terminal keeps the locale's word)."""
    if ascii_already or utf8 is not False:
        return None
    return NOT_UTF8_MODE


def graphics_in_tmux(mode: str, env: Mapping[str, str]) -> str | None:
    """The sentence refusing a forced sixel/tgp mode inside tmux, or None when the mode can be used."""
    if mode in ("sixel", "tgp") and env.get("TMUX"):
        name = "sixel" if mode == "sixel" else "kitty graphics (tgp)"
        return (
            f"Image mode {mode}: {name} does not pass through tmux (blank previews, stray characters); "
            "using halfcell. Run seedream-tui outside tmux to use it."
        )
    return None


def use_ascii_borders() -> Callable[[], None]:
    """Draw borders with ``+ - |`` and bars with ``-`` (a terminal that cannot encode box-drawing characters).

    Textual has no setting for it: its tables of border characters (``compat.draw_every_border_as_ascii``), the
    tab underline's and the scroll bars' glyphs are replaced before the app runs. Called by ``run_tui`` for a
    non-UTF-8 terminal; returns the undo (for tests).
    """
    from textual.renderables.bar import Bar
    from textual.scrollbar import ScrollBarRender

    from seedream_tui.tui import compat

    saved_bar = (Bar.HALF_BAR_LEFT, Bar.BAR, Bar.HALF_BAR_RIGHT)
    saved_scroll = (ScrollBarRender.VERTICAL_BARS, ScrollBarRender.HORIZONTAL_BARS)
    undo_borders = compat.draw_every_border_as_ascii()
    Bar.HALF_BAR_LEFT, Bar.BAR, Bar.HALF_BAR_RIGHT = "-", "-", "-"
    ScrollBarRender.VERTICAL_BARS = ScrollBarRender.HORIZONTAL_BARS = [" "] * 8  # the thumb is its colour

    def undo() -> None:
        undo_borders()
        Bar.HALF_BAR_LEFT, Bar.BAR, Bar.HALF_BAR_RIGHT = saved_bar
        ScrollBarRender.VERTICAL_BARS, ScrollBarRender.HORIZONTAL_BARS = saved_scroll

    return undo
