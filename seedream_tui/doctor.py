"""``seedream-tui doctor``: what users paste in a bug report.

Versions (the app, Python, Textual and the libraries that draw and fetch), the terminal (TERM, colours, size,
the image mode the TUI would choose and why, tmux/SSH), the paths in use, where the API token comes from
(never the token: only whether one is set), the history's size and SQLite's ``quick_check``, the log file
and whether the API host answers. Plain text by default, ``--json`` for tools. Exit 0 when nothing is
wrong, 1 when something is: each such line is marked ``!`` and named at the end.

The terminal is judged by the TUI's own code (``tui.run.prepare_terminal``, ``tui.termprobe``), never by
heuristics of its own. Nothing is written: the history is opened read-only, the token file only read.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from seedream_tui import __version__
from seedream_tui.config import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    TOKEN_ENVS,
    AppConfig,
    ConfigError,
    load_settings,
    read_token_file,
    resolve_config,
)
from seedream_tui.paths import Paths
from seedream_tui.safetext import json_for, visible

#: the libraries a bug most often depends on, by distribution name
PACKAGES = ("textual", "textual-image", "httpx", "av", "Pillow", "aiohttp", "platformdirs", "shtab")
#: how long the API host has to answer
REACH_TIMEOUT = 5.0
#: how long the terminal has to answer the image query (the TUI's own wait)
PROBE_TIMEOUT = 0.5


@dataclass
class Report:
    data: dict[str, Any] = field(default_factory=dict)
    #: (label, text, problem?) in the order printed
    lines: list[tuple[str, str, bool]] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)

    def line(self, label: str, text: str) -> None:
        self.lines.append((label, text, False))

    def problem(self, label: str, text: str) -> None:
        self.lines.append((label, text, True))
        self.problems.append({"check": label, "message": text})


def main(args: argparse.Namespace, log_file: Path | None) -> int:
    report = diagnose(
        demo=bool(getattr(args, "demo", False)),
        base_url=getattr(args, "base_url", None),
        image_mode=getattr(args, "image_mode", None),
        offline=bool(getattr(args, "offline", False)),
        log_file=log_file,
    )
    if getattr(args, "json", False):
        print(json_for({"ok": not report.problems, "problems": report.problems, **report.data}, sys.stdout))
    else:
        print(render(report))
    return 1 if report.problems else 0


def render(report: Report) -> str:
    width = max(len(label) for label, _, _ in report.lines) + 2
    out = [f"{'!' if bad else ' '} {label.ljust(width)}{text}" for label, text, bad in report.lines]
    if report.problems:
        names = ", ".join(dict.fromkeys(p["check"] for p in report.problems))
        out.append(f"Something is wrong ({len(report.problems)}): {names} (the lines marked !).")
    else:
        out.append("Nothing is wrong.")
    return "\n".join(out)


def diagnose(
    *,
    demo: bool = False,
    base_url: str | None = None,
    image_mode: str | None = None,
    offline: bool = False,
    log_file: Path | None = None,
    env: dict[str, str] | None = None,
) -> Report:
    env = dict(os.environ) if env is None else env
    report = Report()
    _versions(report)
    paths = Paths.default(demo=demo)
    config = _config(report, paths, demo, base_url, env)
    _terminal(report, config, image_mode, env)
    _paths(report, paths, log_file)
    _token(report, config, paths, demo, env)
    _history(report, paths)
    _api(report, config, demo, offline, base_url, env)
    return report


# ---------------------------------------------------------------- versions
def _versions(report: Report) -> None:
    report.line("version", f"seedream-tui {__version__}")
    python = {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
    }
    report.data["version"] = __version__
    report.data["python"] = python
    report.line("python", f"{python['implementation']} {python['version']} ({visible(sys.executable)}) on "
                          f"{python['platform']}")
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    report.data["packages"] = found
    report.line("packages", ", ".join(f"{name} {version or 'not installed'}" for name, version in found.items()))
    missing = [name for name, version in found.items() if version is None]
    if missing:
        report.problem("packages", f"Not installed: {', '.join(missing)}; reinstall seedream-tui "
                                   "(pipx reinstall seedream-tui) to bring them back.")


# ---------------------------------------------------------------- configuration
def _config(report: Report, paths: Paths, demo: bool, base_url: str | None, env: dict[str, str]) -> AppConfig:
    """The run's configuration; a refused one (a bad base URL, a token with spaces) is a finding, and a
    stand-in (default URL, no token) lets the rest be checked."""
    try:
        config = resolve_config(demo=demo, base_url=base_url, env=env)
    except ConfigError as exc:
        report.problem("config", visible(exc))
        settings, warnings = load_settings(paths)
        config = AppConfig(paths, settings, "", None, demo=demo, token_source="unknown", warnings=warnings)
    for warning in config.warnings:  # a settings file read with defaults, a token pasted with "Bearer "
        report.problem("config", visible(warning))
    config.warnings = []  # the terminal's notes go here next
    return config


# ---------------------------------------------------------------- terminal
def _terminal_stream() -> Any:
    """The stream the TUI would draw on, for the size and the image query: stdout, or stderr when stdout is
    piped (``seedream-tui doctor | xclip``)."""
    for stream in (sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            if stream is not None and stream.isatty():
                return stream
    return None


def _terminal(report: Report, config: AppConfig, image_mode: str | None, env: dict[str, str]) -> None:
    from seedream_tui.tui import terminal
    from seedream_tui.tui.run import prepare_terminal

    stream = _terminal_stream()
    size = None
    if stream is not None:
        with contextlib.suppress(OSError, ValueError):
            columns, rows = os.get_terminal_size(stream.fileno())
            size = [columns, rows] if columns and rows else None
    tmux, ssh = bool(env.get("TMUX")), bool(env.get("SSH_CONNECTION") or env.get("SSH_TTY"))
    encoding = getattr(sys.__stdout__, "encoding", None)
    info: dict[str, Any] = {
        "term": env.get("TERM"), "colorterm": env.get("COLORTERM"), "term_program": env.get("TERM_PROGRAM"),
        "is_terminal": stream is not None, "size": size, "encoding": encoding, "tmux": tmux, "ssh": ssh,
    }
    shown = ", ".join(f"{name}={visible(env[name])}" for name in ("TERM", "COLORTERM", "TERM_PROGRAM")
                      if env.get(name)) or "TERM not set"
    where = f"{size[0]}x{size[1]}" if size else "size unknown (not a terminal)"
    seen = [name for name, on in (("tmux", tmux), ("SSH", ssh)) if on]
    report.line("terminal", f"{shown}; {where}; encoding {encoding or 'unknown'}; "
                            f"{' and '.join(seen) + ' seen' if seen else 'no tmux, no SSH'}")
    refused = terminal.refusal(env)
    if refused is not None:
        report.problem("terminal", refused)

    # as images.resolve_mode reads them: a forced mode (the flag's, else the settings') beats "auto"
    requested = next((m for m in (image_mode, config.settings.image_mode) if m and m != "auto"), "auto")
    mode, _ascii = prepare_terminal(config, image_mode, dict(env), encoding)  # the modes were checked on input
    notes = list(config.warnings)
    chosen, why = _image_mode(requested, mode, image_mode, tmux, ssh, stream)
    info["image_mode"] = {"requested": requested, "chosen": chosen, "why": why}
    info["notes"] = notes
    report.data["terminal"] = info
    report.line("image mode", f"{chosen}: {why}")
    for note in notes:
        report.line("note", visible(note))


def _image_mode(requested: str, mode: str, flag: str | None, tmux: bool, ssh: bool, stream: Any) -> tuple[str, str]:
    """(the mode the TUI would draw images with, why), as ``tui.images.configure`` would decide it."""
    if requested != "auto":
        source = "--image-mode" if flag and flag != "auto" else "the settings (image_mode)"
        if mode != requested:  # sixel/tgp inside tmux: refused, see the note
            return mode, f"{requested} asked for by {source}, which does not work inside tmux"
        return mode, f"asked for by {source}"
    if mode != "auto":
        return mode, f"auto; {' and '.join(n for n, on in (('tmux', tmux), ('SSH', ssh)) if on)} seen, where " \
                     "graphics protocols rarely get through"
    if stream is None:
        return "unicode", "auto; the output is not a terminal, so it was not asked what it can draw"
    from seedream_tui.tui import termprobe

    answers = termprobe.probe(graphics=True, timeout=PROBE_TIMEOUT, stdout=stream)
    chosen = answers.best_mode()
    if not answers.answered:
        return chosen, f"auto; the terminal did not answer within {PROBE_TIMEOUT:g} s"
    if answers.sixel:
        return chosen, "auto; the terminal says it draws sixel"
    if answers.kitty:
        return chosen, "auto; the terminal answered the kitty graphics query"
    return chosen, "auto; the terminal draws neither sixel nor kitty graphics"


# ---------------------------------------------------------------- paths and token
def _paths(report: Report, paths: Paths, log_file: Path | None) -> None:
    shown = {
        "config": paths.config_dir, "settings": paths.settings_file, "data": paths.profile_data_dir,
        "history": paths.history_db, "images": paths.images_dir, "cache": paths.cache_dir,
        "log": paths.log_file,
    }
    report.data["paths"] = {name: str(path) for name, path in shown.items()}
    report.data["demo"] = paths.demo
    settings = "" if paths.settings_file.is_file() else " (no settings file: defaults)"
    report.line("config", f"{visible(paths.config_dir)}{settings}")
    report.line("data", visible(paths.profile_data_dir) + (" (the demo profile)" if paths.demo else ""))
    report.line("cache", visible(paths.cache_dir))
    report.data["log_file"] = str(log_file) if log_file is not None else None
    if log_file is None:
        report.problem("log", f"No log file could be written to {visible(paths.log_file)} (its folder is not "
                              "writable): errors cannot be looked up afterwards.")
    else:
        from seedream_tui.tui.formatting import fmt_size  # the app's own way to say a size

        report.line("log", f"{visible(log_file)} ({fmt_size(_size(log_file))})")


def _token(report: Report, config: AppConfig, paths: Paths, demo: bool, env: dict[str, str]) -> None:
    source = config.token_source
    if source == "unknown":  # the configuration was refused: say where a token would come from
        name = next((n for n in TOKEN_ENVS if env.get(n, "").strip()), None)
        source = f"environment ({name})" if name else ("token file" if read_token_file(paths) else "none")
    is_set = source != "none"
    data: dict[str, Any] = {"source": source, "set": is_set}
    report.data["token"] = data
    if demo:
        report.line("token", "the demo's own (no token needed)")
        return
    if not is_set:
        report.problem("token", f"No API token: set {TOKEN_ENVS[0]}, run 'seedream-tui token', or try --demo.")
        return
    text = f"set, from the {source}"
    if source == "token file":
        text += f" {visible(paths.token_file)}"
        with contextlib.suppress(OSError):
            mode = paths.token_file.stat().st_mode & 0o777
            data["file_mode"] = oct(mode)
            if mode & 0o077:
                report.problem("token", f"The token file {visible(paths.token_file)} can be read by others (mode "
                                        f"{mode:o}): run chmod 600 on it.")
    report.line("token", text)


# ---------------------------------------------------------------- history
def _history(report: Report, paths: Paths) -> None:
    path = paths.history_db
    data: dict[str, Any] = {"path": str(path), "exists": path.is_file(), "jobs": None, "bytes": 0, "check": None}
    report.data["history"] = data
    if not path.exists():
        report.line("history", f"{visible(path)}: none yet (made by the first job)")
        return
    data["bytes"] = sum(_size(path.with_name(path.name + tail)) for tail in ("", "-wal"))
    try:
        jobs, check = _check_history(path)
    except Exception as exc:  # noqa: BLE001 - every failure is the finding, said as a sentence
        from seedream_tui.jobs.store_schema import HistoryError, unreadable

        sentence = str(exc) if isinstance(exc, HistoryError) else str(unreadable(path, exc))
        data["check"] = sentence
        report.problem("history", visible(sentence))
        return
    data["jobs"], data["check"] = jobs, check
    from seedream_tui.tui.formatting import fmt_size

    text = f"{visible(path)}: {jobs} job{'s' if jobs != 1 else ''}, {fmt_size(data['bytes'])}"
    if check == "ok":
        report.line("history", f"{text}, integrity ok")
    else:
        report.problem("history", f"{text}; SQLite's integrity check found damage ({visible(check)}). Move the "
                                  "file aside (the app then starts a new history) and keep it for a bug report.")


def _check_history(path: Path) -> tuple[int, str]:
    """(jobs, "ok" or what ``PRAGMA quick_check`` found), read-only."""
    from seedream_tui.jobs.store_readonly import _open as open_reading
    from seedream_tui.jobs.store_schema import SCHEMA_VERSION, HistoryError

    uri = path.resolve().as_uri()
    conn = open_reading(f"{uri}?mode=ro", path) or open_reading(f"{uri}?immutable=1", path)
    if conn is None:
        raise HistoryError(f"The job history at {path} cannot be read from its read-only folder.")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(f"The job history at {path} was made by a newer seedream-tui (schema version "
                               f"{version}, this one knows up to {SCHEMA_VERSION}). Upgrade seedream-tui to open it.")
        found = [line.strip() for row in conn.execute("PRAGMA quick_check(5)") for line in str(row[0]).splitlines()]
        found = [line for line in found if line and not line.startswith("***")]  # "*** in database main ***"
        if found == ["ok"]:
            check = "ok"
        else:
            check = found[0] if len(found) == 1 else f"{found[0]}; and more"
        jobs = int(conn.execute("SELECT count(*) FROM jobs").fetchone()[0])
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            raise HistoryError(f"The file at {path} is not a seedream-tui job history (it has no jobs table); it "
                               "was left untouched.") from exc
        raise
    finally:
        conn.close()
    return jobs, check


# ---------------------------------------------------------------- the API host
def _api(report: Report, config: AppConfig, demo: bool, offline: bool, base_url: str | None,
         env: dict[str, str]) -> None:
    url = config.base_url or (None if demo else (base_url or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL))
    data: dict[str, Any] = {"base_url": url, "reachable": None, "status": None, "ms": None, "error": None}
    report.data["api"] = data
    if demo:
        report.line("api", "the demo's bundled fake server (started when needed; not checked)")
        return
    if not config.base_url:
        report.line("api", f"{visible(url)}: not checked (the configuration was refused, see above)")
        return
    if offline:
        report.line("api", f"{visible(url)}: not checked (--offline)")
        return
    reached, status, error, ms = _reach(config.base_url)
    data.update(reachable=reached, status=status, error=error, ms=ms)
    if reached:
        report.line("api", f"{visible(url)}: reachable (HTTP {status} in {ms} ms)")
    else:
        report.problem("api", f"{visible(url)} cannot be reached: {visible(error)}. Check the network connection "
                              "and the base URL.")


def _reach(url: str) -> tuple[bool, int | None, str | None, int]:
    """(answered?, HTTP status, why not, milliseconds): any HTTP answer means the host is reachable. No token
    is sent."""
    import httpx

    from seedream_tui import tls
    from seedream_tui.api.http import USER_AGENT

    started = time.monotonic()
    try:
        with httpx.Client(verify=tls.context(), trust_env=False, timeout=REACH_TIMEOUT, follow_redirects=False,
                          headers={"User-Agent": USER_AGENT}) as client:
            status = client.get(url + "/").status_code
    except httpx.TimeoutException:
        error: str = f"no answer within {REACH_TIMEOUT:g} s"
        return False, None, error, round((time.monotonic() - started) * 1000)
    except (httpx.HTTPError, OSError) as exc:
        text = str(exc).strip() or type(exc).__name__
        return False, None, text.rstrip("."), round((time.monotonic() - started) * 1000)
    return True, status, None, round((time.monotonic() - started) * 1000)


# ---------------------------------------------------------------- helpers
def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
