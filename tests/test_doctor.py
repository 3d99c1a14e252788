"""``seedream-tui doctor`` (issue 24 §1): what users paste in a bug report, never the token; a damaged history
and an unreachable API host are sentences on lines marked ``!`` and exit 1; ``--json`` for tools."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from history_fill import fill_history

from seedream_tui.cli import main
from seedream_tui.config import save_token
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.paths import Paths

SECRET = "rc_" + "Zq7XwP4kLm9Rt2Vb8Nc5Hd1Jf6Gs3Ya0"


@pytest.fixture(autouse=True)
def plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same terminal whoever runs the tests (a developer inside tmux, CI with TERM unset)."""
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("TMUX", "SSH_CONNECTION", "SSH_TTY", "COLORTERM", "TEXTUAL_COLOR_SYSTEM"):
        monkeypatch.delenv(name, raising=False)


def _doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["doctor", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _doctor_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = _doctor(capsys, *args, "--json")
    assert err == ""
    return code, json.loads(out)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _filled_history(jobs: int) -> Path:
    store = HistoryStore(Paths.default().history_db)
    fill_history(store, (("bytedance/seedream-5/lite/text-to-image", {"prompt": f"a fox, take {i} " * 20},
                          JobStatus.COMPLETED, 1e9 + i) for i in range(jobs)))
    store.close()
    return Paths.default().history_db


def _marked(out: str, label: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(f"! {label} ")]


@pytest.mark.parametrize("where", ["environment", "token file"])
def test_the_token_never_appears_not_even_in_part(
    where: str, fake_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if where == "environment":
        monkeypatch.setenv("RUNCOMFY_API_TOKEN", SECRET)
    else:
        save_token(Paths.default(), SECRET)
    code, out, err = _doctor(capsys, "--base-url", fake_server.base_url)
    assert code == 0, out + err
    jcode, data = _doctor_json(capsys, "--base-url", fake_server.base_url)
    assert jcode == 0 and data["ok"] is True and data["token"]["set"] is True
    log = Paths.default().log_file.read_text()
    for text in (out, err, json.dumps(data), log):
        assert SECRET not in text and SECRET[3:] not in text
        assert SECRET[-4:] not in text and SECRET[3:11] not in text  # not masked either: only "set"
    (line,) = [line for line in out.splitlines() if line.startswith("  token ")]
    assert "set, from the " + ("environment (RUNCOMFY_API_TOKEN)" if where == "environment" else "token file") in line
    assert data["token"]["source"] == ("environment (RUNCOMFY_API_TOKEN)" if where == "environment" else "token file")


def test_no_token_is_a_finding(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _doctor(capsys, "--offline")
    assert code == 1
    (line,) = _marked(out, "token")
    assert "No API token: set RUNCOMFY_API_TOKEN" in line
    assert out.rstrip().endswith("Something is wrong (1): token (the lines marked !).")


def test_a_healthy_history_is_counted_and_checked(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", SECRET)
    path = _filled_history(120)
    code, out, _ = _doctor(capsys, "--offline")
    assert code == 0, out
    assert f"  history     {path}: 120 jobs, " in out and ", integrity ok" in out
    assert out.rstrip().endswith("Nothing is wrong.")
    _, data = _doctor_json(capsys, "--offline")
    assert data["history"] == {"path": str(path), "exists": True, "jobs": 120,
                               "bytes": path.stat().st_size + _wal_size(path), "check": "ok"}


def _wal_size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_a_file_that_is_not_a_database_is_said_in_a_sentence(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", SECRET)
    path = Paths.default().history_db
    path.parent.mkdir(parents=True)
    path.write_bytes(b"these are not the bytes of an SQLite database" * 100)
    code, out, err = _doctor(capsys, "--offline")
    assert code == 1 and err == "" and "Traceback" not in out
    (line,) = _marked(out, "history")
    assert f"The job history at {path} cannot be read (file is not a database). It may be damaged" in line
    assert "Something is wrong (1): history" in out
    assert path.read_bytes().startswith(b"these are not")  # left untouched


def test_damaged_pages_are_found_by_the_integrity_check(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", SECRET)
    path = _filled_history(500)
    with open(path, "r+b") as file:  # b-tree page headers overwritten: cell pointers out of range
        for page in range(2, os.path.getsize(path) // 4096, 3):
            file.seek(page * 4096 + 8)
            file.write(b"\xff" * 64)
    code, out, _ = _doctor(capsys, "--offline")
    assert code == 1
    (line,) = _marked(out, "history")
    assert "SQLite's integrity check found damage (" in line and "Move the file aside" in line
    assert "\\n" not in line and "***" not in line
    _, data = _doctor_json(capsys, "--offline")
    assert data["ok"] is False and data["history"]["check"] != "ok"
    assert [p["check"] for p in data["problems"]] == ["history"]


def test_the_json_shape(monkeypatch: pytest.MonkeyPatch, fake_server: Any, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", SECRET)
    code, data = _doctor_json(capsys, "--base-url", fake_server.base_url)
    assert code == 0
    assert set(data) == {"ok", "problems", "version", "python", "packages", "terminal", "paths", "demo",
                         "log_file", "token", "history", "api"}
    assert data["ok"] is True and data["problems"] == [] and data["demo"] is False
    assert set(data["python"]) == {"version", "implementation", "executable", "platform"}
    assert all(isinstance(data["packages"][name], str) for name in ("textual", "textual-image", "httpx", "av"))
    terminal = data["terminal"]
    assert terminal["term"] == "xterm-256color" and terminal["tmux"] is False and terminal["ssh"] is False
    assert terminal["is_terminal"] is False and terminal["size"] is None  # pytest's output is a file
    assert terminal["image_mode"] == {"requested": "auto", "chosen": "unicode",
                                      "why": "auto; the output is not a terminal, so it was not asked what it can draw"}
    paths = Paths.default()
    assert data["paths"]["history"] == str(paths.history_db) and data["paths"]["log"] == str(paths.log_file)
    assert data["log_file"] == str(paths.log_file) and Path(data["log_file"]).is_file()
    assert data["history"]["exists"] is False and data["history"]["jobs"] is None
    assert data["api"]["base_url"] == fake_server.base_url
    assert data["api"]["reachable"] is True and isinstance(data["api"]["status"], int)


def test_the_api_host_is_reached_on_loopback(monkeypatch: pytest.MonkeyPatch, fake_server: Any,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", SECRET)
    code, out, _ = _doctor(capsys, "--base-url", fake_server.base_url)
    assert code == 0
    (line,) = [line for line in out.splitlines() if line.startswith("  api ")]
    assert f"{fake_server.base_url}: reachable (HTTP " in line


def test_an_unreachable_api_host_is_a_finding(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", SECRET)
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("RUNCOMFY_BASE_URL", url)  # the environment's base URL is the one checked
    code, out, err = _doctor(capsys)
    assert code == 1 and "Traceback" not in out + err
    (line,) = _marked(out, "api")
    assert line.startswith(f"! api         {url} cannot be reached: ") and line.endswith(
        "Check the network connection and the base URL.")
    assert out.rstrip().endswith("Something is wrong (1): api (the lines marked !).")
    _, data = _doctor_json(capsys)
    assert data["api"]["reachable"] is False and data["api"]["error"]
    assert data["problems"][0]["check"] == "api"


def test_offline_and_demo_do_not_reach_out(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", SECRET)
    monkeypatch.setenv("RUNCOMFY_BASE_URL", f"http://127.0.0.1:{_closed_port()}")
    code, data = _doctor_json(capsys, "--offline")
    assert code == 0 and data["api"]["reachable"] is None
    code, data = _doctor_json(capsys, "--demo")
    assert code == 0 and data["demo"] is True and data["token"] == {"source": "demo", "set": True}
    assert data["paths"]["history"] == str(Paths.default(demo=True).history_db)


def test_a_refused_configuration_and_the_terminal_are_findings(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", SECRET)
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    code, out, _ = _doctor(capsys, "--base-url", "http://example.com", "--image-mode", "sixel")
    assert code == 1
    (config,) = _marked(out, "config")
    assert "uses plain http: only https is allowed" in config
    (term,) = _marked(out, "terminal")
    assert "TERM=dumb" in term and "cannot show the full-screen app" in term
    assert "tmux seen" in out
    assert "  image mode  halfcell: sixel asked for by --image-mode, which does not work inside tmux" in out
    assert "  api         http://example.com: not checked (the configuration was refused, see above)" in out
    assert "  token       set, from the environment (RUNCOMFY_API_TOKEN)" in out


def test_a_token_file_others_can_read_and_a_bad_settings_file_are_findings(capsys: pytest.CaptureFixture[str]) -> None:
    paths = Paths.default()
    save_token(paths, SECRET)
    paths.token_file.chmod(0o644)
    paths.settings_file.write_text("image_mode = 'sixel'\nmax_live_jobs = 'many'\n")
    code, out, _ = _doctor(capsys, "--offline")
    assert code == 1 and SECRET[-4:] not in out
    (token,) = _marked(out, "token")
    assert f"The token file {paths.token_file} can be read by others (mode 644): run chmod 600 on it." in token
    (config,) = _marked(out, "config")
    assert "max_live_jobs = 'many' is not valid" in config
    assert "  image mode  sixel: asked for by the settings (image_mode)" in out
