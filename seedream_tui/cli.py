"""Command line: the TUI by default, plus headless commands for scripts and SSH one-liners.

    seedream-tui [--demo] [--base-url URL] [--image-mode MODE]
    seedream-tui submit "prompt" [--set key=value ...] [--wait [--timeout SECONDS]] [--out DIR] [--json]
                 [--sweep KEY=v1,v2,…]… [--repeat N] [--sample N] [--budget USD] [--max-live N] [--dry-run]
    seedream-tui batch FILE       (the same options; FILE: prompts one per line, JSONL or CSV)
    seedream-tui status ID [--wait] | wait ID | cancel ID | rerun ID [--wait]   (ID: local id or any request id)
    seedream-tui rerun --batch ID [--failed] [--wait]
    seedream-tui download ID      (every wait takes --timeout SECONDS)
    seedream-tui history [--search TEXT] [--json]
    seedream-tui export ID... --to DIR | export --batch ID [--to DIR] [--sheet FILE.png]
    seedream-tui models [--search S] [--category C] [--json] | fetch-model ID
    seedream-tui spend [--by day|model] [--since YYYY-MM-DD] [--json]
    seedream-tui token            (store the API token, mode 0600)
    seedream-tui doctor [--json] [--offline] | completion bash|zsh|fish
    seedream-tui fake-server --port N

Textual is imported only when the TUI starts. Progress goes to stderr, results to stdout.

Exit codes (also in ``--help`` and the README): 0 ok, 1 other error, 2 invalid input, 3 network/server trouble,
4 auth or balance, 5 the job failed, was cancelled, expired or its outcome is unknown, 124 a wait reached its
``--timeout`` (as timeout(1); the job stays live in the history and is followed at the next start), 130
interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import getpass
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from seedream_tui import __version__
from seedream_tui.api.errors import ApiError, InvalidInputError
from seedream_tui.config import (
    BEARER_REMOVED,
    IMAGE_MODES,
    AppConfig,
    ConfigError,
    resolve_config,
    save_token,
    strip_bearer,
)
from seedream_tui.jobs.positions import shown_position
from seedream_tui.jobs.store_schema import HistoryError
from seedream_tui.logsetup import setup_logging, where_details_are
from seedream_tui.paths import Paths
from seedream_tui.safetext import encodes_utf8, json_for, visible

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_NETWORK, EXIT_AUTH, EXIT_JOB, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 5, 130
#: a wait (--wait, wait, download) reached its --timeout: the job is still live and kept (124, as timeout(1))
EXIT_TIMEOUT = 124

EXIT_CODES_HELP = (
    "exit codes: 0 ok, 1 other error, 2 invalid input or a refused request (cancel of a finished job), 3 network/server trouble, 4 auth or balance, 5 the job "
    "failed, was cancelled, expired, its outcome is unknown or its request id could not be saved (never submit "
    "again blindly on 5), 124 a wait reached its --timeout (the job is still live: follow it with "
    "'seedream-tui wait REQUEST_ID'), 130 interrupted."
)


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                        help="use the bundled fake server and a separate demo history (no token needed)")
    common.add_argument("--base-url", default=argparse.SUPPRESS, metavar="URL",
                        help="API base URL (default: $RUNCOMFY_BASE_URL or https://model-api.runcomfy.net)")
    parser = argparse.ArgumentParser(
        prog="seedream-tui", parents=[common],
        description="A terminal app for the RunComfy Model API (Seedream 5 lite text-to-image).",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"seedream-tui {__version__}")
    parser.add_argument("--image-mode", choices=IMAGE_MODES, default=None,
                        help="how to draw images (default: settings, or halfcell in tmux/SSH)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("submit", parents=[common], help="submit a job")
    p.add_argument("prompt", help="the prompt ('-' reads it from stdin)")
    p.add_argument("--model", default=None, help="model id or schema key (default: settings)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                   help="an option, e.g. --set resolution=2K (repeatable)")
    p.add_argument("--wait", action="store_true", help="wait until done and print the saved image paths")
    p.add_argument("--out", type=Path, default=None, help="with --wait: also copy the images into DIR")
    _add_timeout(p)
    p.add_argument("--json", action="store_true", help="print the job as JSON")
    from seedream_tui.cli_batch import add_batch_options
    from seedream_tui.cli_batch import add_parsers as add_batch_parsers

    add_batch_options(p)
    add_batch_parsers(sub, common)

    p = sub.add_parser("status", parents=[common],
                       help="ask RunComfy about a job (local id, or any request id) and show it")
    p.add_argument("id")
    p.add_argument("--wait", action="store_true", help="wait until done and print the saved image paths")
    p.add_argument("--out", type=Path, default=None, help="with --wait: also copy the images into DIR")
    _add_timeout(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("wait", parents=[common], help="wait for a job (local id, or any request id): status --wait")
    p.add_argument("id")
    p.add_argument("--out", type=Path, default=None, help="also copy the images into DIR")
    _add_timeout(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("cancel", parents=[common], help="cancel a queued job")
    p.add_argument("id")

    p = sub.add_parser("download", parents=[common],
                       help="download a finished job's files again (fresh links from RunComfy)")
    p.add_argument("id")
    _add_timeout(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("rerun", parents=[common], help="submit a past job's input again (or a batch's jobs)")
    p.add_argument("id", nargs="?", default=None)
    p.add_argument("--batch", type=int, default=None, metavar="ID", help="run this batch's jobs again, as a new batch")
    p.add_argument("--failed", action="store_true", help="with --batch: only its failed, cancelled or expired jobs")
    p.add_argument("--wait", action="store_true")
    _add_timeout(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("history", parents=[common], help="list past jobs, newest first")
    p.add_argument("--search", default=None, help="full-text search over prompts")
    p.add_argument("--status", default=None, help="only jobs with this status")
    p.add_argument("--batch", type=int, default=None, metavar="ID", help="only the jobs of this batch")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("export", parents=[common], help="copy jobs' images into a folder")
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--to", type=Path, default=None, metavar="DIR",
                   help="the folder (with --sheet: the sheet's folder unless given)")
    p.add_argument("--batch", type=int, default=None, metavar="ID", help="the images of this batch")
    p.add_argument("--sheet", type=Path, default=None, metavar="FILE.png",
                   help="with --batch: also draw its contact sheet, beside the images")

    p = sub.add_parser("view", parents=[common], help="open the viewer on one job (its images or its video)")
    p.add_argument("id", metavar="ID", help="the job's local id or request id")
    p.add_argument("--image-mode", choices=IMAGE_MODES, default=argparse.SUPPRESS,
                   help="how to draw images (default: settings, or halfcell in tmux/SSH)")

    from seedream_tui.cli_catalog import add_parsers  # models, fetch-model, spend

    add_parsers(sub, common)

    sub.add_parser("token", help="store the API token (read from stdin or asked for), mode 0600")
    p = sub.add_parser("doctor", parents=[common],
                       help="what to paste in a bug report: versions, terminal, paths, token source, history, API")
    p.add_argument("--json", action="store_true", help="print it as JSON")
    p.add_argument("--offline", action="store_true", help="do not try to reach the API host")
    p.add_argument("--image-mode", choices=IMAGE_MODES, default=argparse.SUPPRESS,
                   help="judge this image mode instead of the settings' one")
    p = sub.add_parser("completion", help="print the shell completion script (bash, zsh or fish)")
    p.add_argument("shell", choices=("bash", "zsh", "fish"))
    sub.add_parser("fake-server", add_help=False, help="run the fake RunComfy server (see fake-server --help)")
    return parser


def _add_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=_timeout_seconds, default=None, metavar="SECONDS",
                        help=f"stop waiting after SECONDS (exit {EXIT_TIMEOUT}); the job stays in the history and "
                             "is followed again at the next start (default: no limit)")


def _timeout_seconds(text: str) -> float:
    """``--timeout``: a positive, finite number of seconds (argparse turns the refusal into exit 2)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"expects a positive number of seconds, e.g. --timeout 600, not {text!r}.")
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    """The command line. Ctrl-C at any moment (even while arguments are read or modules load) ends it with a
    sentence and exit 130, never a traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return EXIT_INTERRUPTED


INTERRUPTED = "seedream-tui: interrupted; live jobs are kept and resume on the next start."


def _main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["fake-server"]:
        gc.enable()  # off while the modules loaded (seedream_tui.entry): a server runs for long
        from seedream_tui.fake.cli import main as fake_main

        return fake_main(args_list[1:])
    args = build_parser().parse_args(args_list)
    if args.command == "completion":  # nothing to log: it only prints the script
        from seedream_tui.completion import main as completion_main

        return completion_main(args.shell)
    demo = bool(getattr(args, "demo", False))
    # the log first: whatever happens next (even a refused base URL) can be found in it afterwards
    log_file = setup_logging(Paths.default(demo=demo).log_file, args.command or "tui")
    _replace_unencodable()
    try:
        if args.command == "token":
            return _store_token()
        if args.command == "doctor":  # before the configuration: a refused one is one of its findings
            from seedream_tui.doctor import main as doctor_main

            return doctor_main(args, log_file)
        config = resolve_config(demo=demo, base_url=getattr(args, "base_url", None))
        for warning in config.warnings:
            logging.getLogger(__name__).warning("%s", warning)
            print(f"seedream-tui: {visible(warning)}", file=sys.stderr)
        if args.command is None:
            from seedream_tui.tui.run import run_tui

            return run_tui(config, image_mode=args.image_mode)
        if args.command == "view":
            return _cmd_view(config, args)
        gc.enable()  # off while the modules loaded (seedream_tui.entry)
        code = _run_headless(args, config)
        sys.stdout.flush()  # here, not at exit: a reader that went away is handled below, not by Python's exit
        return code
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`seedream-tui history | head`): it had what it wanted, so not an error (exit 0,
        # like a finished listing); stdout goes to /dev/null so the flush at exit cannot complain either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except CliError as exc:
        return _refused(exc, exc.code)
    except ConfigError as exc:
        return _refused(exc, EXIT_INPUT)
    except ApiError as exc:
        return _refused(exc, exc.exit_code)
    except HistoryError as exc:  # an unusable data folder or history file: its sentence names the path
        return _refused(exc, getattr(exc, "exit_code", EXIT_ERROR))
    except Exception as exc:  # the last line of defence: a sentence, never a traceback
        logging.getLogger(__name__).exception("unexpected error")
        text = visible(exc).rstrip(". ") or type(exc).__name__
        print(f"seedream-tui: unexpected error: {text}. {where_details_are(log_file)}", file=sys.stderr)
        return EXIT_ERROR


def _refused(exc: Exception, code: int) -> int:
    """Say why the command ended (stderr and the log) and return its exit code."""
    logging.getLogger(__name__).warning("exit %d: %s", code, exc)
    print(f"seedream-tui: {visible(exc)}", file=sys.stderr)  # server texts in it: shown, never as escapes
    return code


def _replace_unencodable() -> None:
    """Text output replaces what the terminal's encoding cannot show (a Chinese prompt in an ISO-8859-1
    locale) instead of failing with a codec error; JSON output escapes it instead (see ``_json``)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and not encodes_utf8(getattr(stream, "encoding", None)):
            reconfigure(errors="replace")


def _json(data: Any) -> str:
    """JSON that is valid whatever the locale: UTF-8, or ASCII with escapes when stdout is not UTF-8."""
    return json_for(data, sys.stdout)


#: the most read from stdin for ``token`` (a RunComfy token is a few dozen characters; /dev/zero never ends)
MAX_TOKEN_BYTES = 4096
#: the most read from stdin for ``submit -`` (a prompt is words, not megabytes; /dev/zero never ends)
MAX_PROMPT_BYTES = 256 * 1024


def _store_token() -> int:
    paths = Paths.default()
    if sys.stdin.isatty():
        token = getpass.getpass("RunComfy API token (input hidden): ")
    else:
        raw = sys.stdin.buffer.readline(MAX_TOKEN_BYTES + 1)  # a line, or as much as may be a token
        if len(raw) > MAX_TOKEN_BYTES:
            raise CliError(
                f"The input on stdin is longer than {MAX_TOKEN_BYTES} bytes with no line end: that is not a RunComfy "
                "token, so nothing was saved.", EXIT_INPUT,
            )
        try:
            token = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CliError("The input on stdin is not text: that is not a RunComfy token, so nothing was saved.",
                           EXIT_INPUT) from None
    token, had_bearer = strip_bearer(token)
    try:
        save_token(paths, token)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_INPUT) from None
    if had_bearer:
        print(f"seedream-tui: {BEARER_REMOVED}", file=sys.stderr)
    print(f"Token saved to {paths.token_file} (readable only by you).", file=sys.stderr)
    return EXIT_OK


# ---------------------------------------------------------------- headless
def _run_headless(args: argparse.Namespace, config: AppConfig) -> int:
    """``asyncio.run`` of the command, with its event loop made while Ctrl-C waits: an interrupt inside the
    loop's constructor would leave a half-made loop whose finaliser prints a traceback. The interrupt then
    arrives as soon as the loop is whole (KeyboardInterrupt: the caller's sentence)."""
    blocked = hasattr(signal, "pthread_sigmask")
    if blocked:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        loop = asyncio.new_event_loop()
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    with asyncio.Runner(loop_factory=lambda: loop) as runner:
        return runner.run(_headless(args, config))


async def _headless(args: argparse.Namespace, config: AppConfig) -> int:
    from seedream_tui.jobs.service import Core

    if args.command == "wait":
        args.command, args.wait = "status", True
    if getattr(args, "timeout", None) is not None and not getattr(args, "wait", True):  # download always waits
        raise CliError(f"--timeout limits a wait: add --wait (or use 'seedream-tui wait ID --timeout "
                       f"{args.timeout:g}').", EXIT_INPUT)
    needs_token = ("submit", "batch", "rerun", "cancel", "fetch-model", "download") + (("status",) if getattr(args, "wait", False) else ())
    dry_run = bool(getattr(args, "dry_run", False))  # a plan printed: nothing sent, no token needed
    if not config.demo and not config.token and args.command in needs_token and not dry_run:
        raise CliError(
            "No API token: set RUNCOMFY_API_TOKEN, run 'seedream-tui token', or try --demo.", EXIT_AUTH
        )
    # commands that only read work in a read-only home; those that never call RunComfy leave the demo server be
    reading = args.command in _READ_ONLY_COMMANDS
    core = await Core.open(config, allow_read_only=reading, defer_backend=args.command in ("history", "export") or dry_run)
    for error in core.registry.errors:  # a broken schema file is skipped, never silently
        print(f"seedream-tui: schema skipped: {visible(error)}", file=sys.stderr)
    try:
        handler = _COMMANDS.get(args.command)
        if handler is None:
            from seedream_tui.cli_catalog import COMMANDS

            handler = COMMANDS[args.command]
        return await handler(core, args)
    finally:
        await core.close()


def _job_json(job: Any) -> dict[str, Any]:
    data = asdict(job)
    data["status"] = str(job.status)
    data["batch"] = job.batch_id
    return data


def _print_job(job: Any, as_json: bool) -> None:
    if as_json:
        print(_json(_job_json(job)))
        return
    # everything from outside (server, user) on one visible line: no escape reaches the terminal
    print(f"job {job.id}  {job.status.label}  request {visible(job.request_id or '-')}")
    print(f"  model   {visible(job.model_id or '(not known: attached by its request id)')}")
    print(f"  prompt  {visible(job.prompt[:200])}")
    if shown_position(job.queue_position) is not None:
        print(f"  queue   position {shown_position(job.queue_position)}")
    if job.error:
        print(f"  error   {visible(job.error)}")
    if job.hold:  # a pending job the local queue holds back (the daily budget)
        print(f"  held    {visible(job.hold)}")
    if job.note:
        print(f"  note    {visible(job.note)}")
    if job.cost is not None:
        print(f"  cost    {job.cost}")
    for out in job.outputs:
        size = f"{out.width}x{out.height}" if out.width else ""
        print(f"  image   {visible(out.path or out.url)}  {size}")


async def _find(core: Any, ident: str, *, adopt: bool = False) -> Any:
    """The job with local id or request id ``ident``. With ``adopt``, a request id that is not in the history
    (made on the dashboard or by another tool) is taken into it (Core.adopt asks RunComfy about it once)."""
    job = None
    if ident.isdigit():
        job = await core.history.get(int(ident))
    if job is None:
        job = await core.history.get_by_request_id(ident)
    if job is None and adopt and not ident.isdigit() and not core.history.read_only:
        if not core.config.token:
            raise CliError(f"No job {ident!r} in the history, and no API token to ask RunComfy about it.", EXIT_AUTH)
        try:
            job = await core.adopt(ident)
        except ValueError as exc:
            raise CliError(str(exc), EXIT_INPUT) from None
        print(f"Request {visible(job.request_id)} is now job {job.id} in the history.", file=sys.stderr)
    if job is None:
        raise CliError(f"No job {ident!r} in the {'demo ' if core.demo else ''}history.", EXIT_INPUT)
    return job


def _parse_sets(spec: Any, sets: list[str]) -> dict[str, Any]:
    from seedream_tui.schema import coerce_value

    values: dict[str, Any] = {}
    for item in sets:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(f"--set expects KEY=VALUE, got {item!r}.", EXIT_INPUT)
        try:
            field = spec.field(key)
        except KeyError:
            names = ", ".join(f.name for f in spec.fields)
            raise CliError(f"Unknown option {key!r} for {spec.model_id}; options are: {names}.", EXIT_INPUT) from None
        try:
            values[key] = coerce_value(field, text)
        except ValueError as exc:
            raise CliError(f"--set {key}: {exc}", EXIT_INPUT) from None
    return values


#: the trouble sentence the engine keeps on a live job's row while it cannot ask RunComfy (or understand it)
_WAITING = "Waiting: "
#: while a waited-for job's row carries trouble, the wait says so again after this many seconds of it, the
#: gaps doubling up to the cap: 10, 30, 70, 150, 310 s, then every 300 s
TROUBLE_FIRST, TROUBLE_CAP = 10.0, 300.0
#: tests only: a shorter first gap (the cap scales with it); the real defaults above otherwise
TROUBLE_ENV = "SEEDREAM_TUI_TROUBLE_EVERY"


def trouble_gaps(first: float = TROUBLE_FIRST, cap: float = TROUBLE_CAP) -> Iterator[float]:
    """The gaps between the lines that say a waited-for job is still in trouble: growing, then capped."""
    gap = first
    while True:
        yield gap
        gap = min(gap * 2, cap)


def _trouble_schedule() -> tuple[float, float]:
    """(first gap, cap): the real ones, or a test's shorter first gap from ``TROUBLE_ENV``."""
    try:
        first = float(os.environ.get(TROUBLE_ENV, ""))
    except ValueError:
        return TROUBLE_FIRST, TROUBLE_CAP
    if not (math.isfinite(first) and first > 0):
        return TROUBLE_FIRST, TROUBLE_CAP
    return first, first * TROUBLE_CAP / TROUBLE_FIRST


class _TroubleWatch:
    """The trouble sentence on a waited-for job's row, and since when (monotonic) it has been there."""

    def __init__(self, job: Any) -> None:
        self.text: str | None = None
        self.since: float | None = None
        self.began = asyncio.Event()
        self.see(job)

    def see(self, job: Any) -> None:
        error = job.error or ""
        text = error[len(_WAITING):] if error.startswith(_WAITING) and not job.status.terminal else None
        if text is not None and self.text is None:
            self.since = time.monotonic()
            self.began.set()
        elif text is None:
            self.since = None
        self.text = text


async def _say_trouble_again(job_id: int, watch: _TroubleWatch) -> None:
    """Say again, at growing intervals, that the job is still in trouble (a server that stopped answering):
    not once per poll, and not never."""
    first, cap = _trouble_schedule()
    while True:
        if watch.since is None:
            watch.began.clear()
            await watch.began.wait()
            continue
        since = due = watch.since
        for gap in trouble_gaps(first, cap):
            due += gap
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if watch.since != since:  # the trouble ended (or ended and began again: counted afresh)
                break
            spent = time.monotonic() - since
            print(f"[{time.strftime('%H:%M:%S')}] job {job_id}: no usable answer from RunComfy for "
                  f"{spent:.{0 if spent >= 10 else 1}f} s: {visible(watch.text or '')} Still trying.", file=sys.stderr)


async def _wait(core: Any, job: Any, give_up_after: float | None = None) -> tuple[Any, bool]:
    """Follow a job until it is terminal, with progress lines on stderr, or until ``give_up_after`` seconds have
    passed: (the job, whether the time ran out). The outcome is read from the history, so a job another
    instance settles ends the wait too; a job the time ran out on is left live, for the next start."""
    last = [""]
    watch = _TroubleWatch(job)

    def on_change(changed: Any) -> None:
        if changed.id != job.id:
            return
        watch.see(changed)
        position = shown_position(changed.queue_position)
        line = changed.status.label + (f" (position {position})" if position else "")
        if changed.error and changed.error.startswith(_WAITING):
            line += f" — {visible(changed.error)}"
        if line != last[0]:
            last[0] = line
            print(f"[{time.strftime('%H:%M:%S')}] job {changed.id}: {line}", file=sys.stderr)

    unsubscribe = core.subscribe(on_change)
    reminder = asyncio.create_task(_say_trouble_again(job.id, watch))
    limit = asyncio.timeout(give_up_after)
    try:
        async with limit:
            return await core.engine.wait_for(job.id) or job, False
    except TimeoutError:
        if not limit.expired():
            raise
        job = await core.history.get(job.id) or job
        return job, not job.status.terminal  # settled at the last moment: not a time-out
    finally:
        unsubscribe()
        reminder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reminder


def _timed_out(core: Any, job: Any, seconds: float) -> str:
    """What a wait that ran out of time says: the job, its request id and how to follow it later."""
    import shlex

    position = shown_position(job.queue_position)
    state = job.status.label + (f" (position {position})" if position else "")
    ident = job.request_id if job.request_id and visible(job.request_id) == job.request_id else str(job.id)
    request = f" (request {visible(job.request_id)})" if job.request_id else ""
    demo = " --demo" if core.demo else ""
    return (f"stopped waiting after {seconds:g} s: job {job.id}{request} is still {state}. It stays in the "
            f"history and is followed again at the next start; follow it with: "
            f"seedream-tui wait {shlex.quote(ident)}{demo}")


async def _finish(core: Any, job: Any, args: argparse.Namespace) -> int:
    timed_out = False
    if getattr(args, "wait", False):
        job, timed_out = await _wait(core, job, getattr(args, "timeout", None))
        out = getattr(args, "out", None)
        if out is not None and job.outputs and not timed_out:
            await core.export([job.id], out)
    if getattr(args, "json", False):
        _print_job(job, True)
    elif job.status.terminal and any(o.path for o in job.outputs):
        for o in job.outputs:
            if o.path:  # an output that was never saved has nothing to print
                print(visible((args.out / Path(o.path).name) if getattr(args, "out", None) else o.path))
    else:
        print(f"job {job.id} {job.status.label}: request {visible(job.request_id or 'unknown')}")
        if not getattr(args, "wait", False):
            print(f"Follow it with: seedream-tui status {job.id}{' --demo' if core.demo else ''}", file=sys.stderr)
    if timed_out:
        print(f"seedream-tui: {_timed_out(core, job, getattr(args, 'timeout', None) or 0)}", file=sys.stderr)
        return EXIT_TIMEOUT
    if job.status.terminal and job.status.value != "completed":
        print(f"seedream-tui: job {job.id} {job.status.label}: {visible(job.error or '')}".rstrip(": "), file=sys.stderr)
        return EXIT_JOB
    return EXIT_OK


def _read_stdin_prompt() -> str:
    """The prompt piped in, as UTF-8, at most MAX_PROMPT_BYTES (no more is read: ``/dev/zero`` ends with a
    sentence, not a MemoryError); bytes that are not UTF-8 are refused with a sentence."""
    data = sys.stdin.buffer.read(MAX_PROMPT_BYTES + 1)
    if len(data) > MAX_PROMPT_BYTES:
        raise CliError(
            f"The prompt on stdin is longer than {MAX_PROMPT_BYTES // 1024} KiB, far more than a prompt; nothing was "
            "submitted. Check what is piped in.", EXIT_INPUT,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CliError(
            f"The prompt on stdin is not UTF-8 text (invalid byte at position {exc.start}).", EXIT_INPUT
        ) from None


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def _cmd_submit(core: Any, args: argparse.Namespace) -> int:
    from seedream_tui.schema import validate_input

    prompt = _read_stdin_prompt() if args.prompt == "-" else args.prompt
    if not _is_text(prompt):  # undecodable bytes on the command line arrive as lone surrogates
        raise CliError("The prompt is not UTF-8 text: check the terminal's encoding.", EXIT_INPUT)
    model = args.model or core.config.settings.default_model
    try:
        spec = core.registry.get(model)
    except KeyError:
        known = ", ".join(dict.fromkeys(s.model_id for s in core.registry.list()))
        raise CliError(f"Unknown model {model!r}; known models: {known}.", EXIT_INPUT) from None
    from_settings = core.config.model_defaults.get(spec.model_id, {})
    inputs = {**from_settings, **_parse_sets(spec, args.sets), "prompt": prompt}
    from seedream_tui.cli_batch import plan_submit, priced, run_plan, wants_plan

    if wants_plan(args, prompt):  # variants, sweeps, repeats…: a plan; one job of it goes on as a plain submit
        plan = await priced(core, lambda: plan_submit(core, args, core.registry.get(spec.model_id), inputs))
        if plan.count > 1 or args.dry_run or args.budget is not None or args.max_live is not None:
            return await run_plan(core, args, plan)
        inputs = dict(plan.jobs[0].inputs)
    for warning in validate_input(spec, inputs).warnings.values():  # soft advice: said, then submitted
        print(f"seedream-tui: warning: {visible(warning)}", file=sys.stderr)
    try:
        await core.start()
        job = await core.submit(spec, inputs)
    except InvalidInputError as exc:
        given = {item.partition("=")[0].strip() for item in args.sets}
        blamed = sorted({f.field for f in exc.fields if f.field and f.field in from_settings and f.field not in given})
        where = f" ({', '.join(blamed)} comes from [defaults] in {core.paths.settings_file}.)" if blamed else ""
        raise CliError(f"{exc}{where}", EXIT_INPUT) from None
    print(f"Submitted job {job.id} (request {visible(job.request_id or 'unknown')}).", file=sys.stderr)
    return await _finish(core, job, args)


async def _cmd_status(core: Any, args: argparse.Namespace) -> int:
    """Ask RunComfy once and save what it says (the row printed is the truth, not a stale copy); with
    ``--wait`` (or ``wait ID``) follow the job to its end and download its files, as ``submit --wait``."""
    job = await _find(core, args.id, adopt=True)
    if core.history.read_only:
        if args.wait:
            raise CliError(f"The history folder {core.paths.history_db.parent} is read-only: job {job.id} cannot be "
                           "followed there (its progress and files could not be saved).")
        print(f"seedream-tui: the history folder {core.paths.history_db.parent} is read-only: this is the job as "
              "last saved, not asked again.", file=sys.stderr)
        _print_job(job, args.json)
        return EXIT_OK
    if args.wait:
        await core.start()
        return await _finish(core, job, args)
    trouble = None
    if not job.status.terminal and job.request_id:
        if core.config.token:
            job, trouble = await core.check(job.id)
        else:
            print("seedream-tui: no API token, so RunComfy was not asked: this is the job as last saved.",
                  file=sys.stderr)
    _print_job(job, args.json)
    if trouble is not None:
        print(f"seedream-tui: RunComfy could not be asked about job {job.id}: {visible(trouble)}", file=sys.stderr)
        return int(trouble.exit_code)
    return EXIT_OK


async def _cmd_cancel(core: Any, args: argparse.Namespace) -> int:
    job = await _find(core, args.id, adopt=True)
    message = await core.cancel(job.id)
    print(visible(message))
    if message == "Cancelled.":
        return EXIT_OK
    if message.startswith("Could not cancel"):
        return EXIT_NETWORK
    if "marked expired" in message:
        return EXIT_JOB  # the job itself is over: expired
    return EXIT_INPUT  # refused (already finished, running, not yet submitted): 5 is for jobs that failed


async def _cmd_download(core: Any, args: argparse.Namespace) -> int:
    job = await _find(core, args.id)
    await core.start()  # the engine follows jobs: the one downloaded again among them
    message = await core.download_again(job.id)
    print(visible(message), file=sys.stderr)
    if not message.startswith("Downloading"):
        return EXIT_JOB
    args.wait, args.out = True, None
    return await _finish(core, job, args)


async def _cmd_rerun(core: Any, args: argparse.Namespace) -> int:
    if (args.batch is None) == (args.id is None):
        raise CliError("Name one job (ID) or one batch (--batch ID) to run again.", EXIT_INPUT)
    if args.failed and args.batch is None:
        raise CliError("--failed picks a batch's failed jobs: add --batch ID.", EXIT_INPUT)
    if args.batch is not None:
        return await _rerun_batch(core, args)
    job = await _find(core, args.id)
    await core.start()
    try:
        new = await core.rerun(job.id)
    except (InvalidInputError, LookupError) as exc:
        raise CliError(str(exc), EXIT_INPUT) from None
    print(f"Submitted job {new.id} (request {visible(new.request_id)}), a re-run of job {job.id}.", file=sys.stderr)
    args.out = None
    return await _finish(core, new, args)


async def _rerun_batch(core: Any, args: argparse.Namespace) -> int:
    """``rerun --batch ID [--failed]``: a new batch of the old one's jobs; with --wait, each followed in turn
    (``--timeout`` bounds the whole wait) and the worst outcome is the exit status."""
    await core.start()
    try:
        batch, jobs = await core.rerun_batch(args.batch, only_failed=args.failed)
    except (InvalidInputError, LookupError) as exc:
        raise CliError(str(exc), EXIT_INPUT) from None
    what = "failed jobs" if args.failed else "jobs"
    print(f"Submitted batch {batch.id} ({len(jobs)} jobs), a re-run of batch {args.batch}'s {what}.", file=sys.stderr)
    args.out = None
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    worst = EXIT_OK
    for job in jobs:
        if deadline is not None:
            args.timeout = max(0.001, deadline - time.monotonic())
        code = await _finish(core, job, args)
        if code == EXIT_TIMEOUT or worst != EXIT_TIMEOUT and code != EXIT_OK:
            worst = code
    return worst


async def _cmd_history(core: Any, args: argparse.Namespace) -> int:
    from seedream_tui.jobs.model import JobStatus

    statuses = None
    if args.status:
        try:
            statuses = [JobStatus.from_word(args.status)]  # "done" (the TUI's word) or "completed"
        except ValueError:
            raise CliError(f"Unknown status {args.status!r}; use one of {JobStatus.words()}.", EXIT_INPUT) from None
    if args.batch is not None and await core.history.get_batch(args.batch) is None:
        raise CliError(f"There is no batch {args.batch} in the history.", EXIT_INPUT)
    jobs = await core.history.list_jobs(limit=max(1, args.limit), search=args.search, statuses=statuses,
                                        batch_id=args.batch)
    if args.json:
        print(_json([_job_json(j) for j in jobs]))
        return EXIT_OK
    if not jobs:
        print("No jobs match." if args.search or args.status or args.batch is not None else "No jobs yet.",
              file=sys.stderr)
    for job in jobs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
        prompt = visible(job.prompt_line)
        print(f"{job.id:>6}  {when}  {job.status.value:<11} {_files_word(job.outputs)}  {prompt[:70]}")
    return EXIT_OK


async def _cmd_batch(core: Any, args: argparse.Namespace) -> int:
    from seedream_tui.cli_batch import cmd_batch

    return await cmd_batch(core, args)


async def _cmd_export(core: Any, args: argparse.Namespace) -> int:
    if args.batch is None and (args.sheet is not None or not args.ids):
        raise CliError("Name the jobs to export (IDs), or a batch with --batch ID (a --sheet needs a batch).",
                       EXIT_INPUT)
    if args.batch is not None and args.ids:
        raise CliError("Export either jobs (IDs) or a batch (--batch ID), not both.", EXIT_INPUT)
    if args.to is None and args.sheet is None:
        raise CliError("Say where to: --to DIR.", EXIT_INPUT)
    try:
        if args.batch is not None:
            sheet = args.sheet
            if sheet is not None and args.to is not None and sheet.parent == Path():
                sheet = args.to / sheet  # a bare name goes beside the images
            dest = args.to if args.to is not None or sheet is None else sheet.expanduser().parent
            try:
                written = await core.export_batch(args.batch, dest, sheet=sheet)
            except LookupError as exc:
                raise CliError(str(exc), EXIT_INPUT) from None
        else:
            ids = [(await _find(core, ident)).id for ident in args.ids]
            written = await core.export(ids, args.to)
    except LookupError as exc:
        raise CliError(f"Export failed: {exc}") from None
    except OSError as exc:  # "[Errno 17] File exists: '…'" becomes "File exists (…)" with the folder named
        reason = f"{exc.strerror} ({exc.filename})" if exc.strerror and exc.filename else exc.strerror or str(exc)
        where = args.to if args.to is not None else args.sheet.parent
        raise CliError(f"Export failed: the images could not be copied to {where}: {reason.rstrip('.')}.") from None
    for path in written:
        print(path)
    return EXIT_OK


def _cmd_view(config: Any, args: argparse.Namespace) -> int:
    """``view ID``: the viewer on one job, until the user leaves it (the history is only read)."""
    from seedream_tui.jobs.store import HistoryStore

    store = HistoryStore(config.paths.history_db)
    try:
        ident = str(args.id).lstrip("#")
        job = store.get(int(ident)) if ident.isdigit() else None
        if job is None:
            job = store.get_by_request_id(ident)
    finally:
        store.close()
    if job is None:
        raise CliError(f"No job {args.id!r} in the {'demo ' if config.demo else ''}history.", EXIT_INPUT)
    if not any(o.path and os.path.exists(o.path) for o in job.outputs):
        raise CliError(f"Job #{job.id} has no downloaded file to view ({job.status.label}).", EXIT_INPUT)
    from seedream_tui.tui.view_app import run_view

    return run_view(config, job, image_mode=getattr(args, "image_mode", None))


#: commands that only read the history: they work in a read-only home
_READ_ONLY_COMMANDS = frozenset({"history", "export", "status", "spend", "models"})

def _files_word(outputs: Any) -> str:
    """``2 img`` for images, ``1 video``/``2 videos``, ``1 sound``; ``2 files`` for a mix or other files."""
    from seedream_tui.jobs.model import AV_FORMATS

    def kind(output: Any) -> str:
        if output.kind in ("video", "audio", "file"):
            return str(output.kind)
        if output.format in AV_FORMATS:
            return "video" if output.format in ("mp4", "mov", "webm") else "audio"
        return "image"

    kinds = {kind(o) for o in outputs}
    count = len(outputs)
    if kinds <= {"image"}:
        return f"{count} img"
    word = {"video": "video", "audio": "sound"}.get(kinds.pop(), "file") if len(kinds) == 1 else "file"
    return f"{count} {word}{'s' if count != 1 else ''}"


_COMMANDS = {
    "submit": _cmd_submit,
    "status": _cmd_status,
    "cancel": _cmd_cancel,
    "rerun": _cmd_rerun,
    "download": _cmd_download,
    "history": _cmd_history,
    "batch": _cmd_batch,
    "export": _cmd_export,
}
