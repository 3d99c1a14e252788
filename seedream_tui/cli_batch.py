"""Many jobs from the command line: ``submit`` with variants, sweeps, repeats, and ``batch FILE``.

    seedream-tui submit PROMPT [--sweep KEY=v1,v2,…]… [--repeat N] [--sample N] [--budget USD] [--max-live N]
                        [--dry-run] [--yes] [--wait] [--timeout S] [--json]
    seedream-tui batch FILE    (the same options; FILE: prompts one per line, JSONL or CSV)

The plan is made by :mod:`seedream_tui.batch.planner` (the TUI's plan dialog calls the same functions) before
anything is sent: ``--dry-run`` prints it (``--json``: ``BatchPlan.to_json()``) and sends nothing. A paid
batch of more than one job asks first on a terminal and is refused (exit 2, a sentence) elsewhere unless
``--yes`` is given; the demo never asks. ``--wait`` follows every job: ``--json`` prints one JSON line per
job as it finishes (flushed, for another program to follow); the exit status is 0 when all completed, 5 when
any did not, 124 when ``--timeout`` ran out first (the rest stay live and are followed at the next start).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seedream_tui.cli import (
    EXIT_INPUT,
    EXIT_JOB,
    EXIT_OK,
    EXIT_TIMEOUT,
    CliError,
    _add_timeout,
    _job_json,
    _json,
    _parse_sets,
)
from seedream_tui.safetext import encodes_utf8, json_text, visible

if TYPE_CHECKING:
    from seedream_tui.batch.plan import BatchPlan
    from seedream_tui.batch.planner import PlanError

#: while waiting for a batch, its rows are read again at least this often (events wake it sooner)
CHECK_EVERY = 2.0
#: how many of the plan's prompts the question before paying shows
SHOWN_IN_QUESTION = 5
#: how long a plan waits for a model's price from the catalog before saying "price unknown"
PRICE_FETCH_SECONDS = 15.0
log = logging.getLogger(__name__)


def add_batch_options(p: argparse.ArgumentParser) -> None:
    """The options ``submit`` and ``batch`` share (their names are the issue's: scripts rely on them)."""
    p.add_argument("--sweep", action="append", default=[], metavar="KEY=v1,v2,…", dest="sweeps",
                   help="submit once per value of an option (repeatable: the product of all sweeps); also "
                        "KEY=1..4 or KEY='[\"a, b\", \"c\"]'")
    p.add_argument("--repeat", type=_count, default=1, metavar="N",
                   help="N jobs of each input (distinct seeds when the model has a seed option)")
    p.add_argument("--sample", type=_count, default=None, metavar="N",
                   help="N of the combinations picked at random instead of all of them")
    p.add_argument("--sample-seed", type=int, default=None, metavar="SEED",
                   help="the random seed of --sample (the same seed picks the same jobs)")
    p.add_argument("--budget", type=_usd, default=None, metavar="USD",
                   help="refuse the batch (before any submit) if its price passes USD")
    p.add_argument("--max-live", type=_count, default=None, metavar="N",
                   help="at most N jobs live at RunComfy at once; the rest wait in the local queue")
    p.add_argument("--dry-run", action="store_true", help="print the plan (every job and its price); send nothing")
    p.add_argument("--yes", action="store_true",
                   help="submit a paid batch of several jobs without asking (needed when not on a terminal)")


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("batch", parents=[common],
                       help="submit every prompt of a file (one per line, JSONL or CSV) as one batch")
    p.add_argument("file", type=Path, metavar="FILE",
                   help="prompts: one per line (# comments), JSONL objects or CSV (prompt, model, option columns)")
    p.add_argument("--format", choices=("text", "jsonl", "csv"), default=None,
                   help="how to read FILE (default: from its name)")
    p.add_argument("--model", default=None, help="model for rows that name none (default: settings)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                   help="an option for every row (a row's own value wins; repeatable)")
    p.add_argument("--wait", action="store_true", help="wait for every job; print each as it finishes")
    p.add_argument("--out", type=Path, default=None, help="with --wait: also copy the images into DIR")
    _add_timeout(p)
    p.add_argument("--json", action="store_true", help="print each job as one JSON line (JSON Lines)")
    add_batch_options(p)


def wants_plan(args: argparse.Namespace, prompt: str) -> bool:
    """Whether a ``submit`` goes through the planner (a plain one, with none of the batch options and no
    variants in its prompt, is submitted as it always was)."""
    return bool(args.sweeps or args.repeat != 1 or args.sample is not None or args.budget is not None
                or args.max_live is not None or args.dry_run or "{" in prompt)


def plan_submit(core: Any, args: argparse.Namespace, spec: Any, inputs: dict[str, Any]) -> BatchPlan:
    """The plan of ``submit PROMPT`` with its batch options; CliError (exit 2, a sentence) if it cannot be made."""
    from seedream_tui.batch.planner import PlanError, PlanRequest, make_plan, parse_sweep

    try:
        request = PlanRequest(inputs, sweeps=[parse_sweep(text) for text in args.sweeps], repeat=args.repeat,
                              sample=args.sample, seed=args.sample_seed)
        return make_plan(spec, request)
    except PlanError as exc:
        raise CliError(_sentence(exc), EXIT_INPUT) from None


async def priced(core: Any, make: Callable[[], BatchPlan]) -> BatchPlan:
    """``make()``'s plan, with the prices of its models fetched first when they are not known yet (a fresh
    home's bundled schemas carry none until the catalog is read): the plan is made again with them. Only a
    read of the catalog (no submit); without a token or a network the plan says "price unknown"."""
    plan = make()
    if plan.quote.known or not core._can_ask():
        return plan
    fetched = False
    for model_id in sorted({job.model_id for job in plan.jobs if not job.quote.known}):
        try:
            await asyncio.wait_for(core.fetch_model(model_id), PRICE_FETCH_SECONDS)
            fetched = True
        except Exception as exc:  # noqa: BLE001 - the plan then says the price is unknown, and why
            log.info("no price for %s: %s", model_id, exc)
    return make() if fetched else plan


async def cmd_batch(core: Any, args: argparse.Namespace) -> int:
    """``batch FILE``: read the file, plan every row, then as ``submit``'s batch."""
    from seedream_tui.batch.planner import PlanError, PlanRequest, parse_sweep
    from seedream_tui.batch.prompt_files import plan_file, read_prompt_file

    model = args.model or core.config.settings.default_model
    try:
        spec = core.registry.get(model)
    except KeyError:
        known = ", ".join(dict.fromkeys(s.model_id for s in core.registry.list()))
        raise CliError(f"Unknown model {model!r}; known models: {known}.", EXIT_INPUT) from None
    try:
        rows = read_prompt_file(args.file, kind=args.format)
        sets = _parse_sets(spec, args.sets) if args.sets else {}
        request = PlanRequest(sets, sweeps=[parse_sweep(text) for text in args.sweeps], repeat=args.repeat,
                              sample=args.sample, seed=args.sample_seed, source=str(args.file))
        plan = await priced(core, lambda: plan_file(core.registry, rows, request, model=spec.model_id,
                                                    defaults=core.config.model_defaults))
    except PlanError as exc:
        raise CliError(_sentence(exc), EXIT_INPUT) from None
    return await run_plan(core, args, plan)


async def run_plan(core: Any, args: argparse.Namespace, plan: BatchPlan) -> int:
    """Print it (``--dry-run``), or ask, submit it as one batch and (``--wait``) follow every job."""
    from seedream_tui.api.errors import InvalidInputError

    if args.dry_run:
        _print_plan(plan, args.json)
        return EXIT_OK
    await _confirm(core, args, plan)
    await core.start()
    try:
        batch, jobs = await core.submit_batch(plan, budget_usd=args.budget, max_live=args.max_live)
    except InvalidInputError as exc:
        raise CliError(str(exc), EXIT_INPUT) from None
    follow = f"seedream-tui history --batch {batch.id}{' --demo' if core.demo else ''}"
    if args.wait:
        print(f"Batch {batch.id}: {len(jobs)} jobs, {_price(plan.quote)}.", file=sys.stderr)
    else:
        flush = getattr(core, "flush_queue", None)  # the local queue: send now what may go, before the end
        if flush is not None:
            await flush()
            jobs = [await core.history.get(job.id) or job for job in jobs]
        sent = sum(1 for j in jobs if j.request_id)
        held = f" ({sent} submitted, {len(jobs) - sent} waiting in the local queue)" if sent < len(jobs) else ""
        print(f"Batch {batch.id}: {len(jobs)} jobs{held}, {_price(plan.quote)}.", file=sys.stderr)
        for job in jobs:
            _print_finished(job, args.json)
        print(f"Follow it with: {follow}", file=sys.stderr)
        return EXIT_OK
    return await _wait_batch(core, args, batch.id, jobs, follow)


# ---------------------------------------------------------------- asking first
async def _confirm(core: Any, args: argparse.Namespace, plan: BatchPlan) -> None:
    """A paid batch of several jobs is asked about (a terminal) or refused without ``--yes`` (a script)."""
    if core.demo or args.yes or plan.count <= 1:
        return
    price = _price(plan.quote)
    if not _can_ask():
        raise CliError(f"This batch submits {plan.count} paid jobs ({price}): add --yes to submit it without being "
                       "asked, or see it first with --dry-run. Nothing was sent.", EXIT_INPUT)
    print(f"{plan.count} paid jobs, {price}:", file=sys.stderr)
    for job in plan.jobs[:SHOWN_IN_QUESTION]:
        print(f"  {_job_line(job)}", file=sys.stderr)
    if plan.count > SHOWN_IN_QUESTION:
        print(f"  … and {plan.count - SHOWN_IN_QUESTION} more (see them all with --dry-run)", file=sys.stderr)
    print(f"Submit these {plan.count} jobs? [y/N] ", end="", file=sys.stderr, flush=True)
    answer = await asyncio.to_thread(sys.stdin.readline)
    if answer.strip().lower() not in ("y", "yes"):
        raise CliError("Nothing was sent.", EXIT_INPUT)


def _can_ask() -> bool:
    """Whether someone can answer a question (stdin and stderr are a terminal)."""
    return sys.stdin.isatty() and sys.stderr.isatty()


# ---------------------------------------------------------------- printing
def _print_plan(plan: BatchPlan, as_json: bool) -> None:
    if as_json:
        print(_json(plan.to_json()))
        return
    models = dict.fromkeys(j.model_id for j in plan.jobs)
    print(f"{plan.count} job{'s' if plan.count != 1 else ''} of {', '.join(visible(m) for m in models)} (nothing "
          "sent: --dry-run):")
    width = len(str(plan.count))
    for job in plan.jobs:
        print(f"{job.place + 1:>{width}}  {_job_line(job)}")
    print(f"Total: {_price(plan.quote)}")
    for note in plan.notes:
        print(f"Note: {visible(note)}")


def _price(quote: Any) -> str:
    """``≈ $0.24`` / ``up to $0.48`` / ``price unknown: 8 of 8 have no known price``."""
    return quote.text if quote.known else f"price unknown: {quote.reason.rstrip('.')}"


def _job_line(job: Any) -> str:
    options = "  ".join(f"{k}={visible(_short(v))}" for k, v in job.inputs.items() if k != "prompt")
    price = job.quote.text if job.quote.known else "price unknown"
    prompt = visible(str(job.inputs.get("prompt", "")))
    return f"{prompt[:100]}{'…' if len(prompt) > 100 else ''}{'  ' + options if options else ''}  {price}"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json_text(value, indent=None)
    return text if len(text) <= 40 else text[:39] + "…"


def _print_finished(job: Any, as_json: bool, out: Path | None = None) -> None:
    """One job of a batch on stdout: a JSON line (flushed), its saved files, or its state."""
    if as_json:  # one line per job (JSON Lines): another program reads them as they come
        line = json_text(_job_json(job), ascii_only=not encodes_utf8(getattr(sys.stdout, "encoding", None)),
                         indent=None)
        print(line, flush=True)
        return
    paths = [o.path for o in job.outputs if o.path] if job.status.terminal else []
    if paths:
        for path in paths:
            print(visible((out / Path(path).name) if out is not None else path), flush=True)
    else:
        print(f"job {job.id} {job.status.label}: {visible(job.prompt_line)[:80]}", flush=True)


# ---------------------------------------------------------------- waiting
async def _wait_batch(core: Any, args: argparse.Namespace, batch_id: int, jobs: list[Any], follow: str) -> int:
    """Follow every job of the batch to its end, printing each as it finishes; the exit status. A job's end is
    heard from the engine (then read again from the history: its files are saved by then); the batch's rows
    are read whole only when nothing was heard for CHECK_EVERY seconds (another instance may settle jobs)."""
    waiting = {job.id for job in jobs}
    total = len(jobs)
    woken = asyncio.Event()
    heard: list[int] = []
    finished: list[Any] = []

    def on_change(job: Any) -> None:
        if job.id in waiting and job.status.terminal:
            heard.append(job.id)
            woken.set()

    async def report(job: Any) -> None:
        if job.id not in waiting or not job.status.terminal:
            return
        waiting.discard(job.id)
        finished.append(job)
        if args.out is not None and job.outputs:
            await core.export([job.id], args.out)
        _print_finished(job, args.json, args.out)
        print(f"[{time.strftime('%H:%M:%S')}] job {job.id} {job.status.label} ({len(finished)}/{total})"
              + (f": {visible(job.error)}" if job.error and job.status.value != "completed" else ""),
              file=sys.stderr)

    async def read_all() -> None:
        for job in await core.history.batch_jobs(batch_id):
            await report(job)

    async def read_heard() -> None:
        while heard:
            job = await core.history.get(heard.pop(0))
            if job is not None:
                await report(job)

    unsubscribe = core.subscribe(on_change)
    limit = asyncio.timeout(args.timeout)
    timed_out = False
    try:
        async with limit:
            await read_all()
            while waiting:
                woken.clear()
                await read_heard()
                if not waiting:
                    break
                try:
                    await asyncio.wait_for(woken.wait(), CHECK_EVERY)
                except TimeoutError:
                    await read_all()
    except TimeoutError:
        if not limit.expired():
            raise
        await read_all()  # settled at the last moment: not a time-out
        timed_out = bool(waiting)
    finally:
        unsubscribe()
    failed = [j for j in finished if j.status.value != "completed"]
    if timed_out:
        print(f"seedream-tui: stopped waiting after {args.timeout:g} s: {len(waiting)} of {total} jobs of batch "
              f"{batch_id} are still live. They stay in the history and are followed again at the next start; see "
              f"them with: {follow}", file=sys.stderr)
        return EXIT_TIMEOUT
    if failed:
        words = ", ".join(f"job {j.id} {j.status.label}" for j in failed[:5]) + (" …" if len(failed) > 5 else "")
        print(f"seedream-tui: {len(failed)} of {total} jobs of batch {batch_id} did not complete ({words}).",
              file=sys.stderr)
        return EXIT_JOB
    return EXIT_OK


# ---------------------------------------------------------------- arguments
def _sentence(exc: PlanError) -> str:
    return str(exc)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expects a whole number, 1 or more, not {text!r}.")
    return value


def _usd(text: str) -> float:
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expects an amount in US dollars, e.g. --budget 2.50, not {text!r}.")
    return value
