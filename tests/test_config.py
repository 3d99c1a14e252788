"""Configuration: base URL rules, token precedence and storage, masking, settings file, and the home override."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from seedream_tui.config import (
    DEFAULT_BASE_URL,
    DEMO_TOKEN,
    ConfigError,
    Settings,
    check_base_url,
    load_settings,
    mask_token,
    read_token_file,
    resolve_config,
    save_settings,
    save_token,
)
from seedream_tui.paths import Paths

# ----- base URL ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://model-api.runcomfy.net/", "https://model-api.runcomfy.net"),
        ("https://proxy.example/runcomfy", "https://proxy.example/runcomfy"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("http://localhost:9/", "http://localhost:9"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://127.8.9.10", "http://127.8.9.10"),
    ],
)
def test_base_urls_accepted(url: str, kept: str) -> None:
    assert check_base_url(url) == kept


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://model-api.runcomfy.net", "only https"),
        ("http://127.0.0.1.evil.example", "only https"),
        ("http://10.0.0.5:8000", "only https"),
        ("ftp://model-api.runcomfy.net", "not a valid"),
        ("model-api.runcomfy.net", "not a valid"),
        ("https://user:pw@model-api.runcomfy.net", "user name or password"),
        ("https://model-api.runcomfy.net/?x=1", "query or fragment"),
    ],
)
def test_base_urls_refused_with_a_reason(url: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        check_base_url(url)


def test_base_url_precedence_and_refusal() -> None:
    assert resolve_config(env={}).base_url == DEFAULT_BASE_URL
    assert resolve_config(env={"RUNCOMFY_BASE_URL": "http://localhost:1"}).base_url == "http://localhost:1"
    flag = resolve_config(base_url="https://flag.example", env={"RUNCOMFY_BASE_URL": "http://localhost:1"})
    assert flag.base_url == "https://flag.example"
    with pytest.raises(ConfigError, match="plain http"):
        resolve_config(env={"RUNCOMFY_BASE_URL": "http://insecure.example"})


# ----- the token ---------------------------------------------------------------------------------------


def test_token_precedence() -> None:
    paths = Paths.default()
    save_token(paths, "from-the-file-000")
    both = resolve_config(env={"RUNCOMFY_API_TOKEN": " api-token-111 ", "RUNCOMFY_TOKEN": "cli-token-222"})
    assert (both.token, both.token_source) == ("api-token-111", "environment (RUNCOMFY_API_TOKEN)")
    cli = resolve_config(env={"RUNCOMFY_API_TOKEN": "  ", "RUNCOMFY_TOKEN": "cli-token-222"})
    assert (cli.token, cli.token_source) == ("cli-token-222", "environment (RUNCOMFY_TOKEN)")
    file = resolve_config(env={})
    assert (file.token, file.token_source) == ("from-the-file-000", "token file")
    demo = resolve_config(demo=True, env={"RUNCOMFY_API_TOKEN": "api-token-111"})
    assert (demo.token, demo.token_source) == (DEMO_TOKEN, "demo")  # a real token never goes to the fake
    paths.token_file.unlink()
    assert (resolve_config(env={}).token, resolve_config(env={}).token_source) == (None, "none")


def test_token_file_is_private(isolated_home: Path) -> None:
    paths = Paths.default()
    paths.config_dir.mkdir(parents=True)
    paths.token_file.write_text("old")
    paths.token_file.chmod(0o644)
    save_token(paths, "  rc_new_token_abcdef  \n")
    assert stat.S_IMODE(paths.token_file.stat().st_mode) == 0o600
    assert paths.token_file.read_text() == "rc_new_token_abcdef"
    assert read_token_file(paths) == "rc_new_token_abcdef"
    assert paths.token_file.is_relative_to(isolated_home)
    assert not [p for p in paths.config_dir.iterdir() if p.name.startswith(".")]  # no temp file left behind


@pytest.mark.parametrize("bad", ["", "   ", "two words", "tab\there", "bell\x07"])
def test_token_refused_before_writing(bad: str) -> None:
    paths = Paths.default()
    with pytest.raises(ConfigError):
        save_token(paths, bad)
    assert not paths.token_file.exists()


@pytest.mark.parametrize("token", ["a", "short", "rc_12345", "rc_123456", "rc_0123456789abcdef", "x" * 64])
def test_mask_token_never_shows_the_token(token: str) -> None:
    masked = mask_token(token)
    assert masked and token not in masked
    shown = sum(1 for ch in masked if ch.isalnum() or ch == "_")
    assert shown <= len(token) // 3  # a glimpse to recognise it, never enough to guess it


def test_mask_token_of_nothing() -> None:
    assert mask_token(None) == mask_token("") == "(not set)"


# ----- settings file -----------------------------------------------------------------------------------


def test_settings_round_trip() -> None:
    paths = Paths.default()
    wanted = Settings(
        base_url="https://proxy.example",
        image_mode="halfcell",
        theme="nord",
        notify_bell=False,
        defaults={"bytedance/seedream-5/lite/text-to-image": {"resolution": "2K"}},
    )
    save_settings(paths, wanted)
    assert load_settings(paths) == (wanted, [])
    assert resolve_config(env={}).base_url == "https://proxy.example"


def test_bad_settings_are_warnings_not_exceptions() -> None:
    paths = Paths.default()
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text(
        'image_mode = "hologram"\n'
        'notify_bell = "yes"\n'
        'theme = "   "\n'
        "default_model = 7\n"
        'base_url = "http://insecure.example"\n'
        "colour = 1\n"
        "defaults = 3\n"
    )
    settings, warnings = load_settings(paths)
    assert settings == Settings()
    joined = "\n".join(warnings)
    for name in ("image_mode", "notify_bell", "theme", "default_model", "plain http", "colour", "[defaults]"):
        assert name in joined
    assert len(warnings) == 7 and all(w.rstrip().endswith(".") for w in warnings)
    config = resolve_config(env={})
    assert config.base_url == DEFAULT_BASE_URL and config.warnings == warnings


@pytest.mark.parametrize("content", [b"image_mode = [unclosed", b"\xff\xfe not utf-8"])
def test_unreadable_settings_file(content: bytes) -> None:
    paths = Paths.default()
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_bytes(content)
    settings, warnings = load_settings(paths)
    assert settings == Settings() and len(warnings) == 1 and "using defaults" in warnings[0]
    assert paths.settings_file.read_bytes() == content  # left as it is for the user to fix


def test_settings_path_that_is_a_directory() -> None:
    paths = Paths.default()
    paths.settings_file.mkdir(parents=True)
    settings, warnings = load_settings(paths)
    assert settings == Settings() and len(warnings) == 1 and "Could not read" in warnings[0]


# ----- SEEDREAM_TUI_HOME -------------------------------------------------------------------------------


def _every_path(paths: Paths) -> dict[str, Path]:
    found = {}
    for name in dir(paths):
        if name.startswith("_"):
            continue
        value = getattr(paths, name)
        if isinstance(value, Path):
            found[name] = value
    return found


@pytest.mark.parametrize("demo", [False, True])
def test_home_moves_every_path(isolated_home: Path, demo: bool) -> None:
    found = _every_path(Paths.default(demo=demo))
    assert {
        "config_dir",
        "data_dir",
        "cache_dir",
        "log_dir",
        "history_db",
        "images_dir",
        "token_file",
    } <= set(found)
    outside = {name: p for name, p in found.items() if not p.is_relative_to(isolated_home)}
    assert outside == {}


def test_demo_profile_keeps_its_own_history_and_images() -> None:
    real, demo = Paths.default(), Paths.default(demo=True)
    assert real.history_db != demo.history_db
    assert real.images_dir != demo.images_dir and real.thumbs_dir != demo.thumbs_dir
    assert real.token_file == demo.token_file and real.settings_file == demo.settings_file


def test_home_with_tilde(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SEEDREAM_TUI_HOME", "~/seedream")
    assert Paths.default().config_dir == tmp_path / "seedream" / "config"
