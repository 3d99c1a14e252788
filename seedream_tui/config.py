"""Configuration: settings file, base URL and the API token.

Precedence (highest first): command-line flags, environment, settings file, defaults.
The token comes from ``RUNCOMFY_API_TOKEN`` or ``RUNCOMFY_TOKEN`` or the token file
(mode 0600). It is never printed, logged, or stored anywhere else.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from seedream_tui import DEFAULT_MODEL_ID
from seedream_tui.fsutil import atomic_write
from seedream_tui.paths import Paths

DEFAULT_BASE_URL = "https://model-api.runcomfy.net"
TOKEN_ENVS = ("RUNCOMFY_API_TOKEN", "RUNCOMFY_TOKEN")
BASE_URL_ENV = "RUNCOMFY_BASE_URL"
IMAGE_MODES = ("auto", "tgp", "sixel", "halfcell", "unicode", "off")
#: the token the bundled fake server accepts in --demo (not a secret)
DEMO_TOKEN = "demo-token"


class ConfigError(Exception):
    """A configuration problem; ``str()`` is a sentence for the user."""


@dataclass
class Settings:
    base_url: str | None = None
    image_mode: str = "auto"
    theme: str = "textual-dark"
    notify_bell: bool = True
    default_model: str = DEFAULT_MODEL_ID
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the same, saved while in the demo: kept apart so trying things in the demo never changes paid runs
    demo_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: binding id -> keys, e.g. {"submit": "f5,ctrl+s"}: remaps any key (ids are listed by F1 / `?`)
    keymap: dict[str, str] = field(default_factory=dict)
    #: hosts outputs may be downloaded from besides RunComfy's own storage (``*.example.com`` for a domain)
    trusted_hosts: list[str] = field(default_factory=list)
    #: a paid submit whose quote is above this many dollars asks first (None: never for the price alone);
    #: a paid submit of the same input a moment after the last one always asks (catalog/guard.py)
    confirm_above_usd: float | None = 0.10
    #: the local queue sends a batch's jobs while fewer than this many jobs are live (``--max-live`` per batch)
    max_live_jobs: int = 4
    #: dollars a day the local queue may send (jobs past it wait, pending, with the reason); None: no cap
    daily_budget_usd: float | None = None
    #: a batch whose quote is above this many dollars is refused before anything is sent; None: no cap
    batch_budget_usd: float | None = None
    #: frames per second the viewer draws a video at, at most (None: 15, or 8 over SSH: every frame crosses
    #: the network as text)
    video_fps: int | None = None


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


#: RunComfy's own hosts: where outputs are downloaded from (its clients' SSRF guard) and where a job's stored
#: base URL may get the token
RUNCOMFY_HOSTS = ("*.runcomfy.net", "*.runcomfy.com")


def host_allowed(host: str, trusted: Sequence[str]) -> bool:
    """``host`` matches one of ``trusted``: an exact name, or ``*.domain`` for the domain and its subdomains."""
    host = host.lower().rstrip(".")
    for pattern in trusted:
        pattern = pattern.strip().lower().rstrip(".")
        if pattern.startswith("*."):
            if host == pattern[2:] or host.endswith(pattern[1:]):
                return True
        elif pattern and host == pattern:
            return True
    return False


def check_base_url(url: str) -> str:
    """Return the URL without a trailing slash, or raise ConfigError saying why it is refused."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:  # "https://[::1" (an unclosed IPv6 address), "https://host:99999"
        raise ConfigError(f"The base URL {text!r} is not a valid http(s) URL.") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"The base URL {text!r} is not a valid http(s) URL.")
    if parts.path.rstrip("/").lower().endswith("/v1"):
        # RunComfy's own CLI takes https://model-api.runcomfy.net/v1; this app adds /v1/... itself
        bare = text.rstrip("/")[: -len("/v1")]
        raise ConfigError(
            f"The base URL {text!r} ends in /v1: use {bare!r} instead (this app adds /v1 to every call itself)."
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"The base URL {text!r} uses plain http: only https is allowed, except for loopback hosts "
            "(localhost, 127.0.0.1, ::1)."
        )
    if parts.username or parts.password:
        raise ConfigError("The base URL must not contain a user name or password.")
    if parts.query or parts.fragment:
        raise ConfigError("The base URL must not contain a query or fragment.")
    return text.rstrip("/")


def load_settings(paths: Paths) -> tuple[Settings, list[str]]:
    """Read settings.toml. Never raises: problems come back as sentences and defaults are used."""
    settings = Settings()
    warnings: list[str] = []
    file = paths.settings_file
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return settings, warnings
    except OSError as exc:
        return settings, [f"Could not read the settings file {file}: {exc.strerror or exc}. Using defaults."]
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return settings, [f"The settings file {file} is not valid TOML ({exc}); using defaults. It was left as it is."]
    except RecursionError:  # tomllib recurses once per level of [[[…]]] or {a={…}}
        data = None
    if data is None or _too_deep(data, MAX_SETTINGS_DEPTH):
        return settings, [
            f"The settings file {file} is nested more than {MAX_SETTINGS_DEPTH} levels deep, which no setting is; "
            "using defaults. It was left as it is."
        ]

    def take(name: str, kind: type | tuple[type, ...], check: Any = None) -> None:
        if name not in data:
            return
        value = data[name]
        if not isinstance(value, kind) or (check is not None and not check(value)):
            warnings.append(f"Settings: {name} = {value!r} is not valid; using {getattr(settings, name)!r}.")
            return
        setattr(settings, name, value)

    take("image_mode", str, lambda v: v in IMAGE_MODES)
    take("theme", str, lambda v: bool(v.strip()))
    take("notify_bell", bool)
    take("default_model", str, lambda v: bool(v.strip()))
    take("confirm_above_usd", (int, float), lambda v: not isinstance(v, bool) and 0 <= v < 1e6)
    take("max_live_jobs", int, lambda v: not isinstance(v, bool) and 1 <= v <= 10_000)
    take("daily_budget_usd", (int, float), lambda v: not isinstance(v, bool) and 0 <= v < 1e9)
    take("batch_budget_usd", (int, float), lambda v: not isinstance(v, bool) and 0 <= v < 1e9)
    take("video_fps", int, lambda v: not isinstance(v, bool) and 1 <= v <= 60)
    if "base_url" in data:
        value = data["base_url"]
        try:
            settings.base_url = check_base_url(value) if isinstance(value, str) else None
            if not isinstance(value, str):
                raise ConfigError(f"Settings: base_url = {value!r} is not a URL.")
        except ConfigError as exc:
            warnings.append(f"{exc} (settings file) Using the default.")
            settings.base_url = None
    for table in ("defaults", "demo_defaults"):
        defaults = data.get(table, {})
        if isinstance(defaults, dict) and all(isinstance(v, dict) for v in defaults.values()):
            setattr(settings, table, {str(k): dict(v) for k, v in defaults.items()})
        else:
            warnings.append(f"Settings: [{table}] must be a table of tables, one per model id; ignored.")
    keymap = data.get("keymap", {})
    if isinstance(keymap, dict) and all(isinstance(v, str) and v.strip() for v in keymap.values()):
        settings.keymap = {str(k): v.replace(" ", "") for k, v in keymap.items()}
    else:
        warnings.append('Settings: [keymap] must map binding ids to keys, e.g. submit = "f5,ctrl+s"; ignored.')
    hosts = data.get("trusted_hosts", [])
    if isinstance(hosts, list) and all(isinstance(h, str) and h.strip() and " " not in h.strip() for h in hosts):
        settings.trusted_hosts = [h.strip() for h in hosts]
    else:
        warnings.append('Settings: trusted_hosts must be a list of host names, e.g. ["cdn.example.com"]; ignored.')
    known = set(asdict(Settings()))
    for key in data:
        if key not in known:
            warnings.append(f"Settings: unknown setting {key!r} ignored.")
    return settings, warnings


#: the deepest a real settings file goes is [defaults."model"] with a list value: 3 or 4 levels
MAX_SETTINGS_DEPTH = 16


def _too_deep(value: Any, limit: int) -> bool:
    """True when tables or lists nest deeper than ``limit`` (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def save_settings(paths: Paths, settings: Settings) -> None:
    data = {k: v for k, v in asdict(settings).items() if v is not None}
    import tomli_w  # only when settings are saved: not a cost of every start (issue 23)

    atomic_write(paths.settings_file, tomli_w.dumps(data).encode("utf-8"))


#: said wherever a token enters (environment, token file, `token` command, the TUI's token screen)
BEARER_REMOVED = (
    "The API token began with \"Bearer \", which is not part of the token (the app adds it to each call itself): "
    "the prefix was removed."
)


def strip_bearer(text: str) -> tuple[str, bool]:
    """``text`` without a pasted ``Bearer `` prefix (any case), and whether it had one. Nothing else is
    changed (the token checks decide about other white space)."""
    head, sep, rest = text.lstrip().partition(" ")
    if sep and head.lower() == "bearer" and rest.strip():
        return rest.lstrip(), True
    return text, False


def check_token(token: str) -> str:
    value = strip_bearer(token)[0].strip()
    if not value:
        raise ConfigError("The API token is empty.")
    if any(ch.isspace() for ch in value) or not value.isprintable():
        raise ConfigError("The API token must not contain spaces or control characters.")
    return value


def save_token(paths: Paths, token: str) -> None:
    """Write the token file with mode 0600 (created so; never world-readable even briefly)."""
    atomic_write(paths.token_file, check_token(token).encode("utf-8"), mode=0o600)


def read_token_file(paths: Paths) -> str | None:
    return read_token_file_noted(paths)[0]


def read_token_file_noted(paths: Paths) -> tuple[str | None, bool]:
    """The token file's token (a ``Bearer `` prefix removed), and whether it had that prefix."""
    try:
        text = paths.token_file.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None, False
    token, had_bearer = strip_bearer(text)
    return token.strip() or None, had_bearer


#: public kind markers a token may start with: not secret, so the mask may show them (a random
#: token's first characters are secret, however much they look like a prefix)
PUBLIC_TOKEN_PREFIXES = ("rc_",)


def mask_token(token: str | None) -> str:
    """Enough to recognise a token, never enough to use it: of its secret part only the last
    4 characters show (after a known public prefix such as ``rc_``)."""
    if not token:
        return "(not set)"
    if len(token) < 12:
        return "•" * 6
    prefix = next((p for p in PUBLIC_TOKEN_PREFIXES if token.startswith(p)), "") if len(token) >= 24 else ""
    return f"{prefix}…{token[-4:]}"


@dataclass
class AppConfig:
    paths: Paths
    settings: Settings
    base_url: str
    #: never in repr(): a config shown in a crash report (Textual prints locals) must not show it
    token: str | None = field(repr=False)
    demo: bool = False
    token_source: str = "none"
    warnings: list[str] = field(default_factory=list)

    @property
    def model_defaults(self) -> dict[str, dict[str, Any]]:
        """Saved option defaults per model: the demo's own in the demo, so they never change paid runs."""
        return self.settings.demo_defaults if self.demo else self.settings.defaults


def resolve_config(
    *, demo: bool = False, base_url: str | None = None, env: dict[str, str] | None = None
) -> AppConfig:
    """Build the run's configuration. Raises ConfigError for a refused base URL or an unusable
    token in the environment.

    In demo mode the base URL is filled in later by whoever starts the fake server.
    """
    env = dict(os.environ) if env is None else env
    paths = Paths.default(demo=demo)
    settings, warnings = load_settings(paths)
    token: str | None = None
    source = "none"
    if demo:
        token, source = DEMO_TOKEN, "demo"
    else:
        for name in TOKEN_ENVS:
            if env.get(name, "").strip():
                try:  # a newline or space would reach the HTTP layer as a broken header value
                    token = check_token(env[name])
                except ConfigError as exc:
                    raise ConfigError(f"{str(exc).rstrip('.')} (it comes from {name}).") from None
                if strip_bearer(env[name])[1]:
                    warnings.append(f"{BEARER_REMOVED} (in {name})")
                source = f"environment ({name})"
                break
        else:
            token, had_bearer = read_token_file_noted(paths)
            if had_bearer:
                warnings.append(f"{BEARER_REMOVED} (in the token file {paths.token_file}; it was left as it is)")
            source = "token file" if token else "none"
    url = base_url or env.get(BASE_URL_ENV) or settings.base_url or DEFAULT_BASE_URL
    url = "" if demo and not base_url else check_base_url(url)
    return AppConfig(paths, settings, url, token, demo=demo, token_source=source, warnings=warnings)
