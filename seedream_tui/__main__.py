from seedream_tui.cli import main

raise SystemExit(main())
