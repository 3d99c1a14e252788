"""The catalog and money commands of the command line: ``models``, ``fetch-model`` and ``spend``.

    seedream-tui models [--search S] [--category C] [--kind K] [--json]
    seedream-tui fetch-model MODEL_ID
    seedream-tui spend [--by day|model] [--since YYYY-MM-DD] [--json]

They call the same functions as the TUI (``seedream_tui.catalog``, ``seedream_tui.jobs.spend``).
Imported by ``cli`` when one of them runs.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from seedream_tui.catalog.browse import CatalogEntry
from seedream_tui.cli import EXIT_INPUT, EXIT_OK, CliError
from seedream_tui.jobs.spend import OUT_OF_RANGE_SENTENCE, SPEND_GROUPS, group_spend, in_range, usd_text
from seedream_tui.safetext import json_for, visible


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("models", parents=[common], help="list RunComfy's model catalog (name, kind, price)")
    p.add_argument("--search", default="", help="words to look for in the id, name or categories")
    p.add_argument("--category", default="", help="only models in this category")
    p.add_argument("--kind", default="", help="only models of this kind (text-to-image, edit, image-to-video, video, …)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("fetch-model", parents=[common],
                       help="download a model's input schema and price into your models/ folder")
    p.add_argument("model_id", help="e.g. blackforestlabs/flux-2/flash/text-to-image")

    p = sub.add_parser("spend", parents=[common], help="what your jobs cost (from RunComfy's reported costs)")
    p.add_argument("--by", choices=SPEND_GROUPS, default="day", help="group by day (default) or model")
    p.add_argument("--since", default=None, metavar="YYYY-MM-DD", help="only jobs made on or after this day")
    p.add_argument("--json", action="store_true")  # fmt: skip


#: the most catalog pages ``models`` asks for (100 models each): RunComfy's catalog is a few hundred models,
#: and a server that claims a trillion must not keep the command asking for ever
MAX_PAGES = 50


async def cmd_models(core: Any, args: argparse.Namespace) -> int:
    """The whole catalog (every page) or, without a token or a network, the schemas on disk.

    It stops at the last page, at a page that adds no model it has not seen (a server that ignores
    ``offset`` sends the first page again), or after ``MAX_PAGES`` pages, and says which."""
    filters = {"search": args.search, "category": args.category, "kind": args.kind}
    entries: dict[str, CatalogEntry] = {}
    seen: set[str] = set()
    offset = 0
    stopped = ""
    for number in range(1, MAX_PAGES + 1):
        page = await core.catalog(**filters, offset=offset)
        if page.offline:
            entries = {e.model_id: e for e in page.entries}
            break
        fresh = [i for i in page.ids if i not in seen]
        seen.update(page.ids)
        for entry in page.entries:
            entries.setdefault(entry.model_id, entry)
        offset += page.fetched
        if not page.fetched or offset >= page.total:
            break
        if page.ids and not fresh:
            stopped = (f"Page {number} of RunComfy's catalog held only models already listed (the server seems "
                       f"to ignore the page offset; it claims {page.total:,} models): the list stops there.")
            break
    else:
        stopped = (f"The catalog claims {page.total:,} models; only the first {offset:,} ({MAX_PAGES} pages) "
                   "were asked for. Narrow it with --search, --category or --kind.")
    if page.note:
        print(f"seedream-tui: {visible(page.note)}", file=sys.stderr)
    if stopped:
        print(f"seedream-tui: {stopped}", file=sys.stderr)
    listed = list(entries.values())
    if args.json:
        # a catalog cut short says how many it really listed, not the total it claimed
        body = {"models": [e.as_json() for e in listed], "total": len(seen) if stopped else page.total,
                "offline": page.offline}
        print(json_for(body, sys.stdout))
        return EXIT_OK
    if not listed:
        if seen and args.kind:
            print(f"No models of kind '{visible(args.kind)}' among the {len(seen):,} listed.", file=sys.stderr)
        elif page.total and not seen and not page.offline:
            print(f"RunComfy says it has {page.total:,} models but sent none this app could read.", file=sys.stderr)
        else:
            print("No models match.", file=sys.stderr)
    for entry in listed:
        mark = "*" if entry.local else " "
        # names, kinds and ids come from the server: shown visibly, never as escape sequences
        name, kind = visible(entry.display_name)[:40], visible(entry.kind or "?")[:15]
        print(f"{mark} {name:<40} {kind:<15} {visible(entry.price_text):<16} {visible(entry.model_id)}")
    if any(e.local for e in listed):
        print("(* = its schema is on disk: usable offline)", file=sys.stderr)
    return EXIT_OK


async def cmd_fetch_model(core: Any, args: argparse.Namespace) -> int:
    """Save ``GET /v1/models/{id}`` as a schema file: a new model is a file, not new code."""
    from seedream_tui.schema import SchemaError

    model_id = args.model_id.strip().strip("/")
    try:
        spec = await core.fetch_model(model_id)
    except SchemaError as exc:
        raise CliError(f"RunComfy's schema for {model_id} cannot be used: {exc.reason}") from None
    except OSError as exc:
        raise CliError(f"Could not write the schema of {model_id}: {exc.strerror or exc}.") from None
    print(f"Saved {visible(spec.title or model_id)} ({len(spec.fields)} options) to {spec.source}.")
    return EXIT_OK


async def cmd_spend(core: Any, args: argparse.Namespace) -> int:
    since = None
    if args.since:
        try:
            since = datetime.strptime(args.since, "%Y-%m-%d").timestamp()
        except ValueError:
            raise CliError(f"--since expects a day as YYYY-MM-DD, not {args.since!r}.", EXIT_INPUT) from None
    rows = await core.history.cost_rows(since=since)
    video_jobs, video_seconds = await core.history.video_seconds(since=since)
    groups = group_spend(rows, by=args.by)
    grand = sum(g.usd for g in groups)
    overflow = not in_range(grand) or not all(in_range(g.usd) for g in groups)
    if overflow:  # a sentence, and no "Infinity" (not JSON) nor "$inf.00"
        print(f"seedream-tui: {OUT_OF_RANGE_SENTENCE}", file=sys.stderr)
    if args.json:
        body = {"by": args.by, "since": args.since, "total_usd": _json_usd(grand),
                "jobs": sum(g.jobs for g in groups),
                "groups": [{"key": g.key, "jobs": g.jobs, "usd": _json_usd(g.usd)} for g in groups],
                "video_seconds": round(video_seconds, 3), "video_jobs": video_jobs}  # fmt: skip
        if overflow:
            body["note"] = OUT_OF_RANGE_SENTENCE
        print(json_for(body, sys.stdout))
        return EXIT_OK
    if not groups:
        print("No costs recorded yet" + (f" since {args.since}." if args.since else "."), file=sys.stderr)
        return EXIT_OK
    for group in groups:
        print(f"{visible(group.key):<48} {_jobs(group.jobs)}  {usd_text(group.usd):>12}")
    print(f"{'total':<48} {_jobs(sum(g.jobs for g in groups))}  {usd_text(grand):>12}")
    if video_jobs:  # per-second models: the seconds of video those dollars bought
        print(f"{'video made':<48} {_jobs(video_jobs)}  {video_seconds:>10.1f} s")
    return EXIT_OK


def _json_usd(amount: float) -> float | None:
    """A dollar amount for JSON: null when it is out of range (strict JSON has no Infinity or NaN)."""
    return round(amount, 6) if in_range(amount) else None


def _jobs(n: int) -> str:
    return f"{n:>5} job{'s' if n != 1 else ' '}"


COMMANDS = {"models": cmd_models, "fetch-model": cmd_fetch_model, "spend": cmd_spend}
