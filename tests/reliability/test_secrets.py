"""The API token, proven secret: a unique token is planted, a realistic session runs, and then everything the
app wrote or said is searched for it.

The session (one fake server that accepts only the planted token, one ``SEEDREAM_TUI_HOME``):

1. the TUI, driven by Pilot, starts without a token and asks for it; the token is typed into the TokenScreen
   (saved to the token file). Then: a submit that completes, one refused by the server (bad token), the
   history, a job's details and the settings screen (which shows the mask), each saved as an SVG screenshot;
2. ``seedream-tui token`` stores it again from stdin; the headless commands then run as real subprocesses with
   the token from ``RUNCOMFY_API_TOKEN`` or from the token file: ``submit --wait`` (plain and ``--json``),
   ``history --json``, ``status``, ``export``, ``rerun``, a refused token, a wrong token, a job that fails, a
   cancelled one, server errors;
3. in-process, the protocol client meets every kind of server trouble; each error's ``str``/``repr``/detail is
   kept, and so is the crash report Textual would print for a bug deep in a request (it lists locals).

Then the search (see ``secret_scan``): every file under the home except the token file (SQLite DB with its
WAL/SHM, log, settings.toml, images with their text chunks, thumbnails, exports, screenshots); every CLI
run's stdout/stderr; every error text and notification; every request the fake CDN received (no
``authorization`` header at all); every API request (the token only as ``Authorization: Bearer``). The token
file must be mode 0600 and hold the token. Run with ``-s`` for the ``SECRETS`` figure line.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import random
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import FAST, MODEL, wait_for
from rich.console import Console
from rich.pretty import pretty_repr
from rich.traceback import Traceback
from secret_scan import Scan

from seedream_tui.api.client import RunComfyClient
from seedream_tui.api.errors import ApiError
from seedream_tui.api.http import NO_RETRY
from seedream_tui.config import mask_token, resolve_config
from seedream_tui.fake.server import FakeConfig, FakeServerThread
from seedream_tui.jobs.model import JobStatus
from seedream_tui.jobs.service import Core
from seedream_tui.paths import Paths

TOKEN = "rc_" + random.Random(52).getrandbits(128).to_bytes(16, "big").hex()  # fixed: same inputs every run
REPO = Path(__file__).resolve().parents[2]


@dataclass
class CliRun:
    args: tuple[str, ...]
    code: int
    out: str
    err: str


class Cli:
    """``python -m seedream_tui`` as a subprocess, as a user or script would run it; every run is kept."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.runs: list[CliRun] = []

    async def __call__(self, *args: str, token: str | None = TOKEN, stdin: str | None = None) -> CliRun:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNCOMFY_")}
        env["RUNCOMFY_BASE_URL"] = self.base_url
        if token is not None:
            env["RUNCOMFY_API_TOKEN"] = token
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "seedream_tui", *args, cwd=REPO, env=env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else b""), 30)
        run = CliRun(args, proc.returncode if proc.returncode is not None else -1, out.decode(), err.decode())
        self.runs.append(run)
        assert "Traceback" not in run.err, run.err
        return run


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ----- 1. the TUI ------------------------------------------------------------------------------------------


async def tui_session(fake: FakeServerThread, shots: Path, texts: list[tuple[str, str]], scan: Scan) -> None:
    from textual.widgets import Static

    from seedream_tui.tui import images

    images.configure("halfcell")
    from seedream_tui.tui.app import SeedreamApp
    from seedream_tui.tui.messages import Alerted
    from seedream_tui.tui.screens.confirm import ConfirmScreen
    from seedream_tui.tui.screens.detail import JobDetailScreen
    from seedream_tui.tui.screens.history import HistoryScreen
    from seedream_tui.tui.screens.main import MainScreen
    from seedream_tui.tui.screens.settings import SettingsScreen, TokenScreen
    from seedream_tui.tui.widgets.job_table import JobTable
    from seedream_tui.tui.widgets.prompt_editor import PromptArea

    config = resolve_config(base_url=fake.base_url, env={})
    assert config.token is None  # no token anywhere yet: the app must ask
    core = await Core.open(config, policy=FAST)
    app = SeedreamApp(config, core=core)
    seen: list[Any] = []
    async with app.run_test(size=(110, 34), message_hook=seen.append) as pilot:

        def shot(name: str) -> None:
            app.save_screenshot(f"{name}.svg", str(shots))
            assert TOKEN not in app.export_screenshot()

        await wait_for(lambda: isinstance(app.screen, TokenScreen), what="the token screen")
        await pilot.pause()
        shot("01-token-empty")
        await pilot.press(*TOKEN)
        shot("02-token-typed")  # a password field: bullets only
        await pilot.press("enter")
        await wait_for(lambda: config.token == TOKEN and config.paths.token_file.exists(), what="the token saved")
        assert config.token_source == "token file"
        assert mode_of(config.paths.token_file) == 0o600

        main = await wait_for(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted and app.screen, what="the main screen")
        editor = main.query_one(PromptArea)
        table = main.query_one(JobTable)
        editor.focus()
        editor.clear()
        await pilot.press(*"a lighthouse at dusk")

        async def submit_paid() -> None:
            """ctrl+s, and yes to the question a paid submit may ask (its price, or the same input again)."""
            await pilot.press("ctrl+s")
            await pilot.pause()
            if isinstance(app.screen, ConfirmScreen):
                await pilot.press("y")

        await submit_paid()
        await wait_for(lambda: table.row_count == 1, what="the job row")
        first = next(iter(table.jobs))
        await wait_for(lambda: table.jobs[first].status is JobStatus.COMPLETED, within=15, what="the job done")
        shot("03-main")

        fake.set_config(bad_token=True)  # the server now refuses the token: an error the user reads
        editor.focus()
        await submit_paid()
        await wait_for(lambda: table.row_count == 2, what="the second row")
        second = max(table.jobs)
        await wait_for(lambda: table.jobs[second].status.terminal, within=15, what="the refused job to end")
        fake.set_config(bad_token=False)
        assert table.jobs[second].status is not JobStatus.COMPLETED
        texts.append(("tui: the refused job's error", table.jobs[second].error or ""))
        shot("04-main-refused")

        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen), what="the history screen")
        await pilot.pause()
        shot("05-history")
        await pilot.press("escape")
        await wait_for(lambda: app.screen is main, what="back to main")
        await app.action_open_job(first)
        await wait_for(lambda: isinstance(app.screen, JobDetailScreen), what="the detail screen")
        await pilot.pause()
        shot("06-detail")
        await pilot.press("escape")
        await wait_for(lambda: app.screen is main, what="back to main")

        await pilot.press("f3")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), what="the settings screen")
        settings = app.screen
        shown = str(settings.query_one("#token-mask", Static).render())
        assert shown.startswith(mask_token(TOKEN)), shown
        assert_mask_reveals_only_last_four(mask_token(TOKEN), TOKEN)
        shot("07-settings")
        await pilot.press("ctrl+s")  # writes settings.toml (searched later)
        await wait_for(lambda: app.screen is main and config.paths.settings_file.exists(), what="settings saved")
        texts.extend(("tui notification", n.message) for n in app._notifications)
        texts.extend(("tui alert", m.text) for m in seen if isinstance(m, Alerted))
        # the history as it is while the app runs: the WAL holds the newest pages until the last close
        live = scan.tree(config.paths.profile_data_dir, label="live (tui running) ")
        assert any(p.name.endswith("-wal") for p in live), live


def assert_mask_reveals_only_last_four(masked: str, token: str) -> None:
    """Besides the public ``rc_`` kind marker, no character of the token but its last 4 is shown."""
    assert token not in masked
    assert masked == f"rc_…{token[-4:]}", masked
    secret = token[3:-4]
    assert not any(secret[i : i + 4] in masked for i in range(len(secret) - 3))


# ----- 2. the headless commands ----------------------------------------------------------------------------


async def cli_session(fake: FakeServerThread, cli: Cli, home: Path) -> None:
    paths = Paths.default()
    paths.token_file.unlink()  # the TUI saved it; now the `token` command must make it again
    run = await cli("token", token=None, stdin=TOKEN + "\n")
    assert run.code == 0 and "Token saved" in run.err
    assert paths.token_file.read_text().strip() == TOKEN and mode_of(paths.token_file) == 0o600

    run = await cli("submit", "a red fox in the snow", "--wait")
    assert run.code == 0 and run.out.strip().endswith(".png"), run
    run = await cli("submit", "a blue whale, from the token file", "--wait", "--json", token=None)
    assert run.code == 0 and json.loads(run.out)["status"] == "completed", run
    done = json.loads(run.out)
    run = await cli("history", "--json")
    assert run.code == 0 and len(json.loads(run.out)) >= 3
    assert (await cli("history", "--search", "fox", token=None)).code == 0
    assert (await cli("status", str(done["id"]))).code == 0
    assert (await cli("status", done["request_id"], "--json")).code == 0
    run = await cli("export", "1", str(done["id"]), "--to", str(home / "exported"))
    assert run.code == 0 and len(run.out.split()) == 2, run
    assert (await cli("rerun", str(done["id"]), "--wait")).code == 0

    fake.set_config(bad_token=True)
    run = await cli("submit", "refused by the server", "--wait")
    assert run.code in (4, 5) and "token" in run.err.lower(), run
    fake.set_config(bad_token=False)
    run = await cli("submit", "a wrong token that holds the right one", "--wait", token=TOKEN + "x")
    assert run.code in (4, 5) and "token" in run.err.lower(), run

    sent = len(fake.api_requests)
    run = await cli("submit", "a header smuggled in the token", token=f"{TOKEN}\nX-Injected: 1")
    assert run.code == 2 and "control characters (it comes from RUNCOMFY_API_TOKEN)." in run.err, run
    assert len(fake.api_requests) == sent  # refused before anything was sent

    fake.set_config(fail_rate=1.0)
    run = await cli("submit", "a job that fails", "--wait")
    assert run.code == 5 and "failed" in run.err, run
    fake.set_config(fail_rate=0.0, error_5xx_rate=1.0)
    run = await cli("submit", "the server is down", "--wait")
    assert run.code != 0, run
    fake.set_config(error_5xx_rate=0.0)

    fake.set_config(workers=1, min_duration=20.0, max_duration=20.0)  # a queue, so a job can be cancelled
    assert (await cli("submit", "a long blocker")).code == 0
    run = await cli("submit", "a job to cancel", "--json")
    victim = json.loads(run.out)
    await wait_for(lambda: fake.jobs_snapshot()[victim["request_id"]]["status"] == "in_queue", what="queued")
    run = await cli("cancel", str(victim["id"]))
    assert run.code == 0 and run.out.strip() == "Cancelled.", run
    fake.set_config(workers=4, min_duration=0.05, max_duration=0.2)
    run = await cli("status", str(victim["id"]), "--json", token=None)
    assert json.loads(run.out)["status"] == "cancelled"


# ----- 3. errors, in-process -------------------------------------------------------------------------------

TROUBLES: list[dict[str, Any]] = [
    {"bad_token": True},
    {"error_5xx_rate": 1.0},
    {"rate_429": 1.0, "retry_after": 0.0},
    {"drop_rate": 1.0},
    {"errors_in_200": True, "bad_token": True},
    {"api_body_style": "html"},
    {"api_body_style": "truncated_json"},
    {"api_body_style": "wrong_types"},
    {"expire_after": 0.0},
]
CALM = {"bad_token": False, "error_5xx_rate": 0.0, "rate_429": 0.0, "drop_rate": 0.0, "errors_in_200": False,
        "api_body_style": "normal", "expire_after": None}


def crash_report() -> str:
    """What Textual prints when an exception escapes: a rich traceback that lists every frame's locals."""
    console = Console(file=io.StringIO(), width=400, color_system=None)
    console.print(Traceback(show_locals=True, width=None, locals_max_length=5))
    return console.file.getvalue()  # type: ignore[attr-defined]


async def error_texts(fake: FakeServerThread, core_config: Any) -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    async with RunComfyClient(fake.base_url, TOKEN, retry=NO_RETRY) as client:
        submitted = await client.submit(MODEL, {"prompt": "for the error probes"})
        for trouble in TROUBLES:
            fake.set_config(**{**CALM, **trouble})
            for call in (client.status(submitted.request_id), client.result(submitted.request_id),
                         client.cancel(submitted.request_id), client.submit(MODEL, {"prompt": "x"})):
                try:
                    await call
                except ApiError as exc:
                    label = f"{type(exc).__name__} under {trouble}"
                    texts += [(f"str {label}", str(exc)), (f"repr {label}", repr(exc)),
                              (f"vars {label}", pretty_repr(vars(exc))), (f"crash report {label}", crash_report())]
        fake.set_config(**CALM)
        texts += [("repr(client)", repr(client)), ("pretty(client)", pretty_repr(client))]

        def a_bug(*_: Any) -> Any:  # a mistake deep inside a request: Textual would print this crash
            raise RuntimeError("a bug while reading the answer")

        client._interpret = a_bug
        config = core_config  # noqa: F841 - a local the crash report lists, as app frames would
        with pytest.raises(RuntimeError):
            try:
                await client.status(submitted.request_id)
            except RuntimeError:
                texts.append(("crash report of a bug inside a request", crash_report()))
                raise
    assert core_config.token == TOKEN
    texts += [("repr(config)", repr(core_config)), ("pretty(config)", pretty_repr(core_config))]
    return texts


# ----- the test --------------------------------------------------------------------------------------------


async def test_the_token_is_nowhere_but_the_token_file(isolated_home: Path) -> None:
    fake_config = FakeConfig(workers=4, min_duration=0.05, max_duration=0.2, image_scale=0.02, seed=99,
                             tokens={TOKEN})
    texts: list[tuple[str, str]] = []
    scan = Scan(TOKEN)
    shots = isolated_home / "screenshots"
    shots.mkdir(parents=True)
    with FakeServerThread(fake_config) as fake:
        await tui_session(fake, shots, texts, scan)
        cli = Cli(fake.base_url)
        await cli_session(fake, cli, isolated_home)
        texts += await error_texts(fake, resolve_config(base_url=fake.base_url))
        api_requests, cdn_requests = fake.api_requests, fake.cdn_requests
        api_host = fake.base_url.split("//", 1)[1]

    paths = Paths.default()
    token_file = paths.token_file
    assert token_file.read_text("utf-8").strip() == TOKEN
    assert mode_of(token_file) == 0o600
    assert not [p.name for p in paths.config_dir.iterdir() if p.name.startswith(".")]  # no temp copy left

    searched = scan.tree(isolated_home, skip=[token_file])
    names = {p.name for p in searched}
    assert {"history.sqlite3", "settings.toml", "07-settings.svg"} <= names, sorted(names)
    assert any(p.suffix == ".png" and "images" in p.parts for p in searched)
    assert any("thumbs" in p.parts for p in searched) and any("exported" in p.parts for p in searched)
    for run in cli.runs:
        scan.text(f"cli {' '.join(run.args)} (stdout)", run.out)
        scan.text(f"cli {' '.join(run.args)} (stderr)", run.err)
    for label, text in texts:
        scan.text(label, text)

    assert cdn_requests, "no image was downloaded: the CDN side was not exercised"
    for n, request in enumerate(cdn_requests):
        assert "authorization" not in request["headers"], request
        scan.texts_of(f"cdn request {n}", [request["path"], *request["headers"].values()])
    bearer = [r for r in api_requests if r["headers"].get("authorization") == f"Bearer {TOKEN}"]
    assert len(bearer) >= 10
    for n, request in enumerate(api_requests):
        assert request["headers"].get("host") == api_host
        others = [v for k, v in request["headers"].items() if k != "authorization"]
        scan.texts_of(f"api request {n}", [request["path"], *others])

    print(
        f"\nSECRETS files_scanned={scan.files} bytes_scanned={scan.nbytes} texts_scanned={scan.texts} "
        f"cli_runs={len(cli.runs)} cdn_requests={len(cdn_requests)} api_requests={len(api_requests)} "
        f"bearer_requests={len(bearer)} hits={len(scan.hits)}"
    )
    assert not scan.hits, scan.summary()


# ----- the search itself, and the mask ---------------------------------------------------------------------


def test_the_search_finds_every_planted_copy(tmp_path: Path) -> None:
    """The search must not be blind: each way a token can hide in a file is planted once, and found."""
    import base64
    import sqlite3

    from PIL import Image, PngImagePlugin

    root = tmp_path / "planted"
    root.mkdir()
    (root / "token").write_text(TOKEN)  # skipped, as the real token file is
    (root / "clean.txt").write_text("rc_…" + TOKEN[-4:] + " and nothing else")
    (root / "upper.log").write_text(f"header: BEARER {TOKEN.upper()}\n")
    (root / "basic.txt").write_bytes(b"Authorization: Basic " + base64.b64encode(b"user:" + TOKEN.encode()))
    (root / "cut.json").write_text(json.dumps({"token": TOKEN[:20] + "…"}))
    spans = "".join(f'<text x="{i}">{TOKEN[i : i + 5]}</text>' for i in range(0, len(TOKEN), 5))
    (root / "spans.svg").write_text(f"<svg>{spans}</svg>")  # no 10 characters of it in a row
    info = PngImagePlugin.PngInfo()
    info.add_text("seedream-tui", json.dumps({"auth": TOKEN}), zip=True)  # compressed: no raw-byte match
    Image.new("RGB", (4, 4)).save(root / "meta.png", pnginfo=info)
    db = sqlite3.connect(root / "h.sqlite3")
    db.execute("CREATE TABLE t (v TEXT)")
    db.execute("INSERT INTO t VALUES (?)", (TOKEN,))
    db.commit()
    db.close()
    scan = Scan(TOKEN)
    scan.tree(root, skip=[root / "token"])
    found = {where for where, _ in scan.hits}
    assert found == {
        "upper.log", "basic.txt", "cut.json", "spans.svg (svg text)", "meta.png (image text 'seedream-tui')",
        "h.sqlite3", "h.sqlite3 (rows)",
    }, scan.summary()


_FIXED = random.Random(20261125)  # fixed tokens: a test's inputs must not change from run to run


@pytest.mark.parametrize(
    "token",
    [
        TOKEN,
        _FIXED.getrandbits(160).to_bytes(20, "big").hex(),
        base64.urlsafe_b64encode(_FIXED.getrandbits(256).to_bytes(32, "big")).decode().rstrip("="),
        "sk_" + _FIXED.getrandbits(96).to_bytes(12, "big").hex(),
        "ab_" + "x" * 30 + "abcd",
        "rc_f6e7aaaaaaaaaaaaaaaaaaaaaaf6e7",  # its last four also occur inside: only the tail may show
    ],
)
def test_the_mask_shows_only_the_last_four(token: str) -> None:
    masked = mask_token(token)
    prefix = "rc_" if token.startswith("rc_") else ""  # a public kind marker, not part of the secret
    assert masked == f"{prefix}…{token[-4:]}"
    shown = masked.removeprefix(prefix).removeprefix("…")
    assert shown == token[-4:] and len(shown) == 4  # of the secret part, exactly its last 4 characters


@pytest.mark.parametrize("token", ["rc_abc", "short1234", "rc_12345678"])
def test_a_short_token_shows_nothing_of_itself(token: str) -> None:
    assert set(mask_token(token)) == {"•"}
