"""Issue 10 §3 (terminals and locales) and issue 9 §5 (the CLI never prints outside text raw), through the
real command line: TERM=dumb, an ISO-8859-1 locale, a bad base URL, ids and errors holding escapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from seedream_tui import DEFAULT_MODEL_ID
from seedream_tui.cli import main
from seedream_tui.config import resolve_config
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.paths import Paths
from seedream_tui.safetext import json_text, visible

CHINESE = "一只在雪山日出时分奔跑的赤狐"
OSC_ID = "req-1\x1b]0;pwned\x07\x1b]52;c;Y3VybCB4fHNo\x07"
CSI_ERROR = "boom \x1b[2J\x1b[31mred\nsecond line \x9b1;1H"


def _seed(demo: bool = False) -> list[int]:
    store = HistoryStore(Paths.default(demo=demo).history_db)
    ids = []
    try:
        for i, (prompt, rid, error) in enumerate([
            (CHINESE, "req-0", None),
            ("a fox\nwith a newline \x1b[1mbold", OSC_ID, CSI_ERROR),
        ]):
            job = store.create_job(DEFAULT_MODEL_ID, {"prompt": prompt}, base_url="https://x", now=1e9 + i)
            store.update_job(job.id, status=JobStatus.FAILED if error else JobStatus.COMPLETED, request_id=rid,
                             error=error, finished_at=1e9 + i + 5)
            ids.append(job.id)
    finally:
        store.close()
    return ids


def _run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    full = {**os.environ, "SEEDREAM_TUI_HOME": str(home), **env}
    return subprocess.run([sys.executable, "-m", "seedream_tui", *args], capture_output=True, env=full, timeout=120)


# ---------------------------------------------------------------- the CLI never sends outside escapes
def test_listing_and_status_show_escapes_visibly(capsys: pytest.CaptureFixture[str]) -> None:
    ids = _seed()
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out
    assert len(out.splitlines()) == 2  # a newline in a prompt does not break the listing
    assert main(["status", str(ids[1])]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x9b" not in out
    assert "req-1\\x1b]0;pwned\\x07" in out  # shown, not hidden: the user sees what the server sent
    assert "boom \\x1b[2J" in out and "\\nsecond line" in out
    assert main(["status", "--json", str(ids[1])]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x9b" not in out
    data = json.loads(out)
    assert data["request_id"] == OSC_ID and data["error"] == CSI_ERROR  # JSON keeps the value exactly


def test_visible_and_json_text() -> None:
    assert visible("a\x1b[2Jb\u202ec\r\nd") == "a\\x1b[2Jb\\u202ec\\r\\nd"
    assert visible("a\nb\tc\x07", multiline=True) == "a\nb\tc\\x07"
    text = json_text({"x": "\x9b\u2028\x1b"})
    assert "\x9b" not in text and "\u2028" not in text and json.loads(text) == {"x": "\x9b\u2028\x1b"}


# ---------------------------------------------------------------- locales
def test_iso_8859_1_locale_text_replaces_and_json_stays_valid(isolated_home: Path) -> None:
    _seed()
    latin = {"PYTHONIOENCODING": "iso-8859-1", "LANG": "en_US.ISO-8859-1", "LC_ALL": "en_US.ISO-8859-1"}
    plain = _run(["history"], isolated_home, **latin)
    assert plain.returncode == 0, plain.stderr
    assert b"Traceback" not in plain.stderr and b"codec" not in plain.stderr
    assert b"????" in plain.stdout  # the Chinese prompt, replaced, not a crash
    as_json = _run(["history", "--json"], isolated_home, **latin)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout.decode("ascii"))  # pure ASCII: valid in any locale
    assert data[1]["inputs"]["prompt"] == CHINESE
    utf8 = _run(["history", "--json"], isolated_home, PYTHONIOENCODING="utf-8")
    assert json.loads(utf8.stdout.decode("utf-8"))[1]["inputs"]["prompt"] == CHINESE


# ---------------------------------------------------------------- TERM
def test_term_dumb_refuses_the_tui_with_a_sentence(isolated_home: Path) -> None:
    result = _run(["--demo"], isolated_home, TERM="dumb")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "TERM=dumb" in err and "seedream-tui history" in err and "Traceback" not in err
    assert b"\x1b" not in result.stdout + result.stderr  # nothing was drawn


# ---------------------------------------------------------------- bad base URL: a sentence everywhere
@pytest.mark.parametrize("url", ["http://[", "https://[::1", "https://example.com:99999"])
def test_bad_base_url_in_env_is_a_sentence(url: str, capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    monkeypatch.setenv("RUNCOMFY_BASE_URL", url)
    assert main(["history"]) == 2
    err = capsys.readouterr().err
    assert "is not a valid http(s) URL" in err and "Traceback" not in err and "unexpected" not in err


def test_bad_base_url_in_settings_toml_is_a_warning() -> None:
    paths = Paths.default()
    paths.settings_file.parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text('base_url = "http://["\n', encoding="utf-8")
    config = resolve_config(env={})
    assert config.base_url.startswith("https://")
    assert any("http://[" in w and "not a valid" in w for w in config.warnings)


def test_sixteen_colour_xterm_gets_256_colours_in_textual() -> None:
    """The colour system must be set before Textual is first imported (it reads it once)."""
    code = (
        "import os, sys\n"
        "from seedream_tui.config import AppConfig, Settings\n"
        "from seedream_tui.paths import Paths\n"
        "from seedream_tui.tui.run import prepare_terminal\n"
        "assert 'textual' not in sys.modules, 'textual imported too early'\n"
        "config = AppConfig(Paths.default(), Settings(), 'https://x', None)\n"
        "prepare_terminal(config, 'halfcell', os.environ, 'utf-8')\n"
        "from textual import constants\n"
        "print(constants.COLOR_SYSTEM)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "TEXTUAL_COLOR_SYSTEM")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, env={**env, "TERM": "xterm"},
                            timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == "256"
