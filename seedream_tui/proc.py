"""Whether a local process still exists (a crashed instance's leases, its half-written files, its demo server)."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """True unless the process is surely gone: one we may not signal, or cannot tell about, counts as alive
    (never take over or delete what a live process may still be using)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
