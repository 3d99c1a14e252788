"""The console script: as little as possible runs before Ctrl-C is handled.

Importing the command line itself takes a while (argparse, asyncio, the schema reader); a Ctrl-C during that
import would otherwise end in a traceback. ``seedream_tui.cli.main`` handles it from then on.
"""

from __future__ import annotations

import gc
import sys


def run() -> int:
    # No cyclic garbage collection while modules load and the TUI draws its first frame: the collector
    # would walk every object imported so far, again and again (~10-20 ms of the start-up), and find
    # nothing to free. Commands turn it back on once their imports are done (cli._main); the TUI freezes what
    # was imported (seedream_tui.tui.run) and turns it on after its first frame (SeedreamApp).
    gc.disable()
    try:
        from seedream_tui.cli import main
    except KeyboardInterrupt:
        print("seedream-tui: interrupted.", file=sys.stderr)
        return 130
    return main()
