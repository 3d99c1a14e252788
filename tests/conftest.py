"""Shared fixtures: every test gets its own SEEDREAM_TUI_HOME, and a fake server on loopback."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

# Never let a developer's real token or base URL leak into a test.
for _var in ("RUNCOMFY_API_TOKEN", "RUNCOMFY_TOKEN", "RUNCOMFY_BASE_URL"):
    os.environ.pop(_var, None)


#: a file system in memory: every test's files live under pytest's temp root, and the history, the downloads and
#: the journal each fsync what they write (~10 ms a call on a virtual disk: 1,700 calls for 35 tests)
RAM_DIR = Path("/dev/shm")


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C reaches the commands the tests start: a test that interrupts one (``send_signal(SIGINT)``) needs
    it not ignored, and a command started in the background by a non-interactive shell (``make test &``, as a
    harness may) inherits SIGINT ignored, which every process below keeps: the command then never ends. The
    tests' own process takes Python's handler again (its children start with the default).

    Put pytest's temp root (``tmp_path``, so every ``SEEDREAM_TUI_HOME``) in memory when the machine has
    ``/dev/shm``: an fsync there costs nothing, and the tests do not need the disk to keep what they wrote
    through a power cut (a killed process loses nothing either way). ``PYTEST_DEBUG_TEMPROOT`` (pytest's own
    knob, read once the run picks its numbered ``pytest-of-<user>/pytest-N``) or ``--basetemp`` set by hand
    win; xdist's workers are handed their directory under the controller's."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if config.option.basetemp or "PYTEST_DEBUG_TEMPROOT" in os.environ:
        return
    try:
        usable = RAM_DIR.is_dir() and os.access(RAM_DIR, os.W_OK | os.X_OK)
        usable = usable and os.statvfs(RAM_DIR).f_bavail * os.statvfs(RAM_DIR).f_frsize > 1 << 30
    except OSError:
        usable = False
    if usable:
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(RAM_DIR)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every platformdirs path of the app lives under a temp dir for this test."""
    home = tmp_path / "home"
    monkeypatch.setenv("SEEDREAM_TUI_HOME", str(home))
    for var in ("RUNCOMFY_API_TOKEN", "RUNCOMFY_TOKEN", "RUNCOMFY_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def fake_server() -> Iterator:
    """A fake RunComfy server (API + CDN origin) on loopback, in its own thread, tuned for speed."""
    from seedream_tui.fake.server import FakeConfig, FakeServerThread

    config = FakeConfig(workers=4, min_duration=0.05, max_duration=0.2, image_scale=0.02, seed=1234)
    with FakeServerThread(config) as server:
        yield server



#: files whose tests must all run in one worker: their snapshots draw a fixed home path (``SNAP_HOME``) that
#: two workers would write at once
ONE_WORKER_FILES = {"test_size_snapshots.py", "test_detail.py"}


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``make test`` runs ``--dist loadgroup``: tests are handed to the workers one by one, except those that
    share something, which stay on one worker in file order (as ``--dist loadfile`` kept them): the tests of a
    file that use a fixture of module (or class) scope defined in it (a server whose knobs each test sets, a
    home seeded once), and every test of a file that uses a fixed path (``ONE_WORKER_FILES``)."""
    for item in items:
        module = item.nodeid.split("::")[0]
        info = getattr(item, "_fixtureinfo", None)
        shared = info is not None and any(
            defs[-1].scope in ("module", "class", "package") and defs[-1].baseid == module
            for defs in info.name2fixturedefs.values() if defs
        )
        if shared or Path(module).name in ONE_WORKER_FILES:
            item.add_marker(pytest.mark.xdist_group(module))
