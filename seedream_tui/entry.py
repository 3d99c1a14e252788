"""The console script: as little as possible runs before Ctrl-C is handled.

Importing the command line itself takes a while (argparse, asyncio, the schema reader); a Ctrl-C during that
import would otherwise end in a traceback. ``seedream_tui.cli.main`` handles it from then on.
"""

from __future__ import annotations

import sys


def run() -> int:
    try:
        from seedream_tui.cli import main
    except KeyboardInterrupt:
        print("seedream-tui: interrupted.", file=sys.stderr)
        return 130
    return main()
