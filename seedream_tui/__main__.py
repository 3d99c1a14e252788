from seedream_tui.entry import run

raise SystemExit(run())
