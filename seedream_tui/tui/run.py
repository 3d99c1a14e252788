"""Start the TUI: judge the terminal, settle the image mode (before textual-image is imported), run the app,
return an exit code.

Startup problems become one sentence on stderr and exit code 1 (2 for a terminal that cannot show the app);
the user never sees a traceback.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Mapping, MutableMapping

from seedream_tui import logsetup
from seedream_tui.config import AppConfig
from seedream_tui.safetext import encodes_utf8
from seedream_tui.tui import terminal
from seedream_tui.tui.termprobe import TerminalInfo

log = logging.getLogger(__name__)
EXIT_TERMINAL = 2
#: the wait for a silent terminal when only its UTF-8 mode is asked (a cell image mode was forced: before, no
#: question at all); a terminal that answers ends the wait at once (its reply to ``ESC [ c``)
UTF8_ONLY_TIMEOUT = 0.25


def prepare_terminal(
    config: AppConfig, image_mode: str | None, env: MutableMapping[str, str], encoding: str | None
) -> tuple[str, bool]:
    """Settle what the terminal needs before Textual is imported: (image mode to use, ASCII borders?).

    Warnings for the user go to ``config.warnings`` (the app shows each once, as a toast) and to the log.
    """
    system, colour_note = terminal.colours(env)
    if system is not None:
        env["TEXTUAL_COLOR_SYSTEM"] = system  # read once, when Textual is imported: so before the next line
    from seedream_tui.tui import images

    mode = images.resolve_mode(image_mode, config.settings.image_mode, env)
    refused = terminal.graphics_in_tmux(mode, env)
    if refused is not None:
        mode = "halfcell"
    for note in (colour_note, refused):
        if note:
            config.warnings.append(note)
            log.warning("%s", note)
    ascii_only = terminal.needs_ascii(encoding, env)
    if ascii_only:
        note = terminal.ascii_sentence(encoding, env)
        config.warnings.append(note)  # mojibake with no word was worse than plain borders (issue 20 §6)
        log.info("terminal encoding %s (locale %s) is not UTF-8: ASCII borders", encoding, terminal.locale_charset(env))
    return mode, ascii_only


def ask_terminal(mode: str, *, utf8: bool) -> TerminalInfo | None:
    """The terminal's answers, in one round trip: what images it draws (mode ``auto``), its cell size (``sixel``,
    ``tgp``), and whether it is in UTF-8 mode (``utf8``: not when the locale already said it is not). None when
    nothing is to be asked (``images.configure`` then takes the free ioctl cell size). Not a terminal: no
    question, no answer (``TerminalInfo()``)."""
    from seedream_tui.tui import termprobe

    if mode in ("auto", "sixel", "tgp"):
        return termprobe.probe(graphics=mode == "auto", utf8=utf8)
    if utf8:
        return termprobe.probe(graphics=False, utf8=True, timeout=UTF8_ONLY_TIMEOUT)
    return None


def run_tui(config: AppConfig, *, image_mode: str | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run the app with ``config``. ``image_mode`` (the ``--image-mode`` flag) beats the setting beats auto."""
    environ: MutableMapping[str, str] = os.environ if env is None else dict(env)
    problem = terminal.refusal(environ)
    if problem is not None:
        print(f"seedream-tui: {problem}", file=sys.stderr)
        return EXIT_TERMINAL
    # the TLS context (certifi's CA bundle, ~20 ms of CPU) is built on a thread right after the first frame
    # (SeedreamApp._open_core): before it, even on the second core, it competed with the first frame for a
    # busy machine's CPU, and nothing before that frame talks to the network (issue 23)
    out = sys.__stderr__  # where Textual draws
    try:
        mode, ascii_only = prepare_terminal(config, image_mode, environ, getattr(out, "encoding", None))
        from seedream_tui.tui import images

        requested = image_mode or config.settings.image_mode or "auto"
        answers = ask_terminal(mode, utf8=not ascii_only)
        note = terminal.probed_ascii(answers.utf8 if answers is not None else None, ascii_only)
        if note is not None:  # a Latin-1 terminal under a UTF-8 locale (xterm +u8): mojibake borders before
            ascii_only = True
            config.warnings.append(note)
            log.info("the terminal moved two columns for one UTF-8 character: not in UTF-8 mode, ASCII borders")
        used = images.configure(mode, terminal=answers, requested=requested)
        log.info("image mode: %s requested, %s used", requested, used)
        if ascii_only:
            terminal.use_ascii_borders()
            if out is not None and hasattr(out, "reconfigure"):
                # what is left (arrows, blocks) shows as "?", not "\u2500"; in the terminal's own charset
                # when the locale names one Python could not use (é stays é in ISO-8859-1)
                charset = terminal.locale_charset(environ)
                if note is not None:
                    charset = "latin-1"  # what a terminal out of UTF-8 mode shows (xterm +u8: ISO-8859-1)
                try:
                    if charset is not None and not encodes_utf8(charset):
                        import codecs

                        codecs.lookup(charset)
                        out.reconfigure(encoding=charset, errors="replace")
                    else:
                        out.reconfigure(errors="replace")
                except (LookupError, ValueError, OSError):
                    out.reconfigure(errors="replace")
        from seedream_tui.tui.app import SeedreamApp

        app = SeedreamApp(config)
    except Exception as exc:  # import or terminal trouble: a sentence, not a traceback
        print(f"seedream-tui could not start: {exc}", file=sys.stderr)
        return 1
    # everything imported so far lives as long as the process: out of the collector's sight, a full
    # collection (one fell inside the first frame, ~20-35 ms; others land on a keystroke) walks only the
    # app's own objects
    gc.freeze()
    logsetup.quiet_while(True)  # a log file that cannot be written is said once, after the app has closed
    try:
        result = app.run()  # the app turns the collector on after its first frame
    except Exception as exc:
        print(f"seedream-tui stopped because of an error: {exc}", file=sys.stderr)
        return 1
    finally:
        gc.enable()
        logsetup.quiet_while(False)
    if app.quit_note:
        print(app.quit_note, file=sys.stderr)
    if app.startup_error:
        print(f"seedream-tui: {app.startup_error}", file=sys.stderr)
        return 1
    if app.return_code not in (None, 0):
        return int(app.return_code or 1)
    return int(result or 0)
