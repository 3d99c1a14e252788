"""Helpers of the TUI benchmarks: a seeded 100,000-job history, test PNGs, RSS, and a pty runner.

The pty runner starts a real process on a pseudo-terminal (as a user's terminal would) and times it
until a marker string shows up in what it draws. It plays a typical terminal: it answers the
Primary Device Attributes query (``ESC [ c``, "VT220, no sixel") the way xterm, GNOME Terminal or
Alacritty do, reports a pixel size with the window size, and ignores everything else (so a kitty
graphics query goes unanswered, as it does in most terminals).
"""

from __future__ import annotations

import os
import pty
import random
import select
import signal
import struct
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from history_fill import fill_history  # noqa: E402

MARKER_PROMPT = "zq-newest-bench-job a red fox at dawn"
DA1_QUERY = b"\x1b[c"
DA1_REPLY = b"\x1b[?62;22c"  # VT220 with ANSI colour: no "4", so no sixel


def seed_history(db_path: Path, n: int = 100_000, *, newest_prompt: str = MARKER_PROMPT) -> None:
    """A history of ``n`` finished jobs with varied prompts (the newest has ``newest_prompt``).

    Only terminal statuses: a real history of that size has a handful of live jobs at most, and live
    ones would be polled at start-up, which is the engine benchmark's business, not this one's.
    """
    import bench_history

    from seedream_tui.jobs.model import JobStatus
    from seedream_tui.jobs.store import HistoryStore

    live = {JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUBMITTING, JobStatus.DOWNLOADING}

    def jobs() -> Iterator[tuple[str, dict[str, Any], JobStatus, float]]:
        old_n = bench_history.N_JOBS
        bench_history.N_JOBS = n - 1
        try:
            for model, inputs, status, created in bench_history.make_jobs(random.Random(42)):
                yield model, inputs, (JobStatus.COMPLETED if status in live else status), created
        finally:
            bench_history.N_JOBS = old_n
        yield bench_history.MODELS[0], {"prompt": newest_prompt, "seed": 1}, JobStatus.COMPLETED, time.time()

    db_path.parent.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(db_path)
    try:
        fill_history(store, jobs())
    finally:
        store.close()


def make_pngs(folder: Path, count: int, size: tuple[int, int] = (2304, 1728)) -> list[Path]:
    """``count`` distinct PNGs of ``size`` (smooth gradients plus noise: compresses like a photo-ish render)."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    rng = random.Random(7)
    small = (size[0] // 8, size[1] // 8)
    for i in range(count):
        img = Image.new("RGB", small, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        draw = ImageDraw.Draw(img)
        for _ in range(40):
            x, y = rng.randrange(small[0]), rng.randrange(small[1])
            r = rng.randrange(5, 60)
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        big = img.resize(size, Image.Resampling.BICUBIC)
        noise = Image.effect_noise(size, 24).convert("RGB")
        big = Image.blend(big, noise, 0.08)
        path = folder / f"bench-{i:03d}.png"
        big.save(path, "PNG", compress_level=1)
        out.append(path)
    return out


def bench_output(name: str, png: Path, thumb: Path | None) -> Any:
    """A downloaded 2304x1728 output (with the downloader's thumbnail) for a seeded job."""
    from seedream_tui.jobs.model import OutputFile

    return OutputFile(0, f"https://cdn.example/{name}.png", str(png), 2304, 1728, "png", png.stat().st_size,
                      str(thumb) if thumb else None)


def rss_mb() -> float:
    """This process's resident set size (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def spawn_on_pty(
    argv: Sequence[str], env: dict[str, str], *, size: tuple[int, int] = (50, 200), cell_px: tuple[int, int] = (10, 20)
) -> tuple[int, int]:
    """Start ``argv`` on a new pseudo-terminal of ``size`` (rows, columns); return (pid, master fd)."""
    rows, cols = size
    pid, fd = pty.fork()
    if pid == 0:  # child: the slave pty is stdin/stdout/stderr
        try:
            winsize = struct.pack("HHHH", rows, cols, cols * cell_px[0], rows * cell_px[1])
            import fcntl
            import termios

            fcntl.ioctl(0, termios.TIOCSWINSZ, winsize)
            os.execvpe(argv[0], list(argv), env)
        finally:
            os._exit(127)
    return pid, fd


class PtyTerminal:
    """The terminal side of a pty: reads what the process draws and answers its device-attributes query."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.seen = b""
        #: bytes read since the last :meth:`reset_count`
        self.count = 0
        self._answered = 0

    def read_once(self, timeout: float) -> bytes:
        """One read (waiting at most ``timeout`` s; ``b""`` if nothing came); raises when the process ended."""
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return b""
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            raise RuntimeError(f"the process ended; output tail: {self.seen[-400:]!r}")
        self.seen = (self.seen + chunk)[-1_000_000:]
        self.count += len(chunk)
        # answer each query once (a second, stray reply would reach the app as the keys "?62;22c")
        queries = self.seen.count(DA1_QUERY)
        for _ in range(queries - self._answered):
            os.write(self.fd, DA1_REPLY)
        self._answered = max(self._answered, queries)
        return chunk

    def wait_for(self, marker: bytes, timeout: float) -> None:
        """Read until ``marker`` shows up in the output."""
        deadline = time.perf_counter() + timeout
        while marker not in self.seen[-(len(marker) + 65536) :]:
            if time.perf_counter() >= deadline:
                raise TimeoutError(f"{marker!r} not drawn within {timeout} s; output tail: {self.seen[-400:]!r}")
            self.read_once(deadline - time.perf_counter())

    def read_for(self, seconds: float) -> int:
        """Read everything the process writes for ``seconds``; the number of bytes."""
        before = self.count
        until = time.perf_counter() + seconds
        while (left := until - time.perf_counter()) > 0:
            self.read_once(left)
        return self.count - before


@contextmanager
def pty_app(
    argv: Sequence[str], env: dict[str, str], *, size: tuple[int, int] = (50, 200), cell_px: tuple[int, int] = (10, 20)
) -> Iterator[tuple[int, PtyTerminal]]:
    """``argv`` running on a pty: (pid, its terminal). Killed if the block fails; quit it with :func:`quit_app`."""
    pid, fd = spawn_on_pty(argv, env, size=size, cell_px=cell_px)
    try:
        yield pid, PtyTerminal(fd)
    except BaseException:
        _kill(pid)
        raise
    finally:
        os.close(fd)


def quit_app(pid: int, term: PtyTerminal, keys: bytes = b"\x11") -> None:
    """Send the quit keys and wait for the process to let go of its terminal (killed after 15 s)."""
    _quit(pid, term.fd, keys)


def time_to_marker(
    argv: Sequence[str],
    env: dict[str, str],
    marker: bytes,
    *,
    size: tuple[int, int] = (50, 200),
    cell_px: tuple[int, int] = (10, 20),
    timeout: float = 30.0,
    quit_keys: bytes = b"\x11",
) -> float:
    """Seconds from ``fork`` to ``marker`` appearing in the process's terminal output; then quit it."""
    t0 = time.perf_counter()
    with pty_app(argv, env, size=size, cell_px=cell_px) as (pid, term):
        term.wait_for(marker, timeout - (time.perf_counter() - t0))
        found = time.perf_counter() - t0
        quit_app(pid, term, quit_keys)
    return found


def bytes_written(
    argv: Sequence[str],
    env: dict[str, str],
    marker: bytes,
    *,
    size: tuple[int, int],
    settle: float,
    window: float,
    quit_keys: bytes = b"\x11",
) -> int:
    """Bytes the process writes to its terminal during ``window`` s, starting ``settle`` s after ``marker``."""
    with pty_app(argv, env, size=size) as (pid, term):
        term.wait_for(marker, 60.0)
        term.read_for(settle)
        count = term.read_for(window)
        quit_app(pid, term, quit_keys)
    return count


def _drain(fd: int, until: float) -> bool:
    """Read and drop output until EOF (True) or ``until`` (False)."""
    while time.perf_counter() < until:
        ready, _, _ = select.select([fd], [], [], max(0.0, until - time.perf_counter()))
        if not ready:
            continue
        try:
            if not os.read(fd, 65536):
                return True
        except OSError:
            return True
    return False


def _quit(pid: int, fd: int, keys: bytes) -> None:
    os.write(fd, keys)
    if _drain(fd, time.perf_counter() + 15):
        os.waitpid(pid, 0)  # the terminal closed: the process is exiting
    else:
        _kill(pid)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


# ------------------------------------------------------------------ in-process app (Pilot) helpers
def bench_config() -> Any:
    """A demo-profile config pointed at a closed loopback port: a real Core, no fake server, no network.

    Every job of these benchmarks is finished, so the engine never polls.
    """
    from seedream_tui.config import resolve_config

    return resolve_config(demo=True, base_url="http://127.0.0.1:9")


class FrameWatch:
    """Awaits the first frame the app hands to its driver once a condition holds.

    Wraps ``App._display`` (called with each compositor update, headless or not), so "drawn" means
    the update holding the change was produced, not only that a widget's state changed.
    """

    def __init__(self, app: Any) -> None:
        import asyncio

        self._cond: Any = None
        self._event = asyncio.Event()
        #: ``time.perf_counter()`` at the frame that met the condition
        self.fired_at = 0.0
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None and self._cond is not None and self._cond():
                self._cond = None
                self.fired_at = time.perf_counter()
                self._event.set()

        app._display = display

    def arm(self, cond: Any) -> None:
        """Start watching for ``cond`` now (before the action that should make it true)."""
        self._event.clear()
        self._cond = cond

    async def fired(self, limit_s: float = 30.0) -> float:
        """Wait for the first frame after :meth:`arm` at which the condition held; return its time."""
        import asyncio

        try:
            await asyncio.wait_for(self._event.wait(), limit_s)
        finally:
            self._cond = None
        return self.fired_at

    async def wait(self, cond: Any, limit_s: float = 30.0) -> None:
        """Arm for ``cond`` and return at the first frame at which it holds."""
        self.arm(cond)
        await self.fired(limit_s)
