"""``seedream-tui completion bash|zsh|fish``: the shell's completion script, made from the command line's own
argparse parser by shtab (so every subcommand and option added to ``cli.build_parser`` is completed with no
script to keep up to date by hand).

Install it once::

    bash: seedream-tui completion bash > ~/.local/share/bash-completion/completions/seedream-tui
    zsh:  seedream-tui completion zsh > "${fpath[1]}/_seedream-tui"    (or: eval "$(seedream-tui completion zsh)")
    fish: seedream-tui completion fish > ~/.config/fish/completions/seedream-tui.fish
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

SHELLS = ("bash", "zsh", "fish")
#: options whose value is a folder (the rest of the Path-valued arguments are files)
FOLDER_OPTIONS = frozenset({"--out", "--to"})


def script(shell: str, parser: argparse.ArgumentParser | None = None) -> str:
    """The completion script for ``shell`` (one of :data:`SHELLS`)."""
    import shtab

    if shell not in SHELLS:
        raise ValueError(f"Unknown shell {shell!r}: use one of {', '.join(SHELLS)}.")
    if parser is None:
        from seedream_tui.cli import build_parser

        parser = build_parser()
    _mark_paths(parser, shtab)
    return str(shtab.complete(parser, shell=shell))


def _mark_paths(parser: argparse.ArgumentParser, shtab: object) -> None:
    """Path-valued arguments complete file names (folders for ``--out``/``--to``), every parser reached."""
    seen: set[int] = set()
    todo = [parser]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend(action.choices.values())
            elif action.type is Path:
                folder = bool(FOLDER_OPTIONS.intersection(action.option_strings))
                action.complete = getattr(shtab, "DIRECTORY" if folder else "FILE")  # type: ignore[attr-defined]


def main(shell: str) -> int:
    try:
        sys.stdout.write(script(shell))
        sys.stdout.flush()
    except BrokenPipeError:  # `seedream-tui completion bash | head`: the reader had what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
