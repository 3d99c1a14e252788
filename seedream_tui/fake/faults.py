"""The fake server's knobs, and the dice that decide which fault an answer gets.

Kept apart from the HTTP code so the knobs can be checked, changed at run time (control endpoint, CLI,
``FakeServerThread.set_config``) and reasoned about without a server running.
"""

from __future__ import annotations

import dataclasses
import os
import random
from dataclasses import dataclass
from typing import Any

STATUS_STYLES = ("canonical", "synonyms")
#: what the output URLs / the CDN do wrong (see :mod:`seedream_tui.fake.badoutput` for each one)
OUTPUT_URL_STYLES = (
    "normal",
    "ftp",
    "file",
    "redirect_http",
    "redirect_loop",
    "not_image",
    "bomb",
    "huge",
    "empty",
    "wrong_type",
)
#: what the status/result answers' bodies do wrong (see :mod:`seedream_tui.fake.badoutput`)
API_BODY_STYLES = (
    "normal", "html", "empty", "truncated_json", "wrong_types", "unknown_status", "gigantic", "nested_json",
    "huge_position",
)
#: how a cancel that worked is answered: the documented shape, or the others RunComfy's clients accept
CANCEL_STYLES = ("normal", "requested", "canceled", "empty")
#: a model detail (``GET /v1/models/{id}``) made to be slow to read: a 200,000-value enum, 200,000 spaces
SCHEMA_STYLES = ("normal", "huge_enum", "long_description")
#: how an unknown model id is refused: 400 + error_code 400001, or a bare 404 (RunComfy's CLI sees both)
UNKNOWN_MODEL_STYLES = ("400001", "404")
_CHOICES = {
    "status_style": STATUS_STYLES,
    "output_url_style": OUTPUT_URL_STYLES,
    "api_body_style": API_BODY_STYLES,
    "cancel_style": CANCEL_STYLES,
    "schema_style": SCHEMA_STYLES,
    "unknown_model_style": UNKNOWN_MODEL_STYLES,
}

#: knobs that are probabilities in [0, 1]
_RATES = (
    "latency_spike_rate", "error_5xx_rate", "rate_429", "drop_rate", "gateway_after_submit_rate", "fail_rate",
    "truncate_rate",
)
#: knobs that are non-negative seconds / factors
_NON_NEGATIVE = ("min_duration", "max_duration", "image_scale", "video_scale", "latency", "latency_spike", "retry_after")
_BOOLS = ("bad_token", "errors_in_200", "one_time_links", "cdn_gzip", "cdn_ranges")

#: how ``status_style="synonyms"`` words each canonical status (what other backends say)
SYNONYMS = {
    "in_queue": "pending",
    "in_progress": "starting",
    "completed": "succeeded",
    "cancelled": "canceled",
    "failed": "failed",
}


@dataclass
class FakeConfig:
    """Every knob of the fake server; all faults default off so a plain server behaves like the real API."""

    workers: int = 2  # parallel jobs "running"
    min_duration: float = 3.0  # seconds a job runs (uniform in [min, max])
    max_duration: float = 8.0
    image_scale: float = 1.0  # scale factor on generated image sizes (tests use 0.02)
    video_scale: float = 0.5  # videos are scaled by image_scale times this (the demo's 720p: 640x360)
    video_fps: int = 24  # frames per second of generated videos (tests use a low rate: faster to make)
    seed: int | None = None  # RNG seed for reproducible faults/durations
    tokens: set[str] | None = None  # accepted bearer tokens; None = any non-empty token
    # fault knobs (all default off):
    latency: float = 0.0  # seconds added to every API answer
    latency_spike_rate: float = 0.0  # probability of an extra spike
    latency_spike: float = 1.0  # spike length (s)
    error_5xx_rate: float = 0.0  # answer 500/502/503 (JSON, HTML or empty body) instead
    rate_429: float = 0.0  # answer 429 with Retry-After header
    retry_after: float = 1.0
    drop_rate: float = 0.0  # close the connection without an answer
    gateway_after_submit_rate: float = 0.0  # a submit creates the job, then a gateway answers 502/504 instead
    fail_rate: float = 0.0  # jobs end "failed" with an error
    truncate_rate: float = 0.0  # CDN sends a partial body (Content-Length larger than sent) then closes
    expire_after: float | None = None  # requests older than this answer 404 error_code 404001
    bad_token: bool = False  # every API call answers 401 error_code 400004
    status_style: str = "canonical"  # "synonyms": say "succeeded"/"canceled"/"pending"/"starting" instead
    errors_in_200: bool = False  # errors come as HTTP 200 with an error_code body
    output_url_style: str = "normal"  # bad output URLs / CDN answers the downloader must refuse
    api_body_style: str = "normal"  # broken status/result bodies the client must survive
    one_time_links: bool = False  # each output URL serves its file once; later requests answer 410 Gone
    cdn_gzip: bool = False  # the CDN compresses files: Content-Encoding gzip, Content-Length of the gzip bytes
    cdn_rate: float | None = None  # bytes/s: the CDN trickles files out this slowly (None: at once)
    cdn_ranges: bool = True  # the CDN honours Range: bytes=N- (False: it answers 200 with the whole file)
    request_id_prefix: str = ""  # odd request ids: this text before each one (long, or with space, _ ...)
    fail_message: str | None = None  # the error text of failed jobs (hostile texts: markup, the token, ...)
    cancel_style: str = "normal"  # see CANCEL_STYLES
    schema_style: str = "normal"  # see SCHEMA_STYLES
    unknown_model_style: str = "400001"  # see UNKNOWN_MODEL_STYLES
    # not a fault: how many API and CDN requests the server remembers (the oldest go first; --demo keeps few)
    request_log_limit: int = 10_000
    # not a fault: where the job record and the output files live across restarts (None = a temp dir)
    state_dir: str | None = None

    def __post_init__(self) -> None:
        if self.state_dir is not None and not isinstance(self.state_dir, str):
            self.state_dir = os.fspath(self.state_dir)  # a Path works too
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` with a sentence when a knob has an impossible value."""
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError("workers must be a whole number of at least 1.")
        if not isinstance(self.video_fps, int) or not 1 <= self.video_fps <= 60:
            raise ValueError("video_fps must be a whole number from 1 to 60.")
        if not isinstance(self.request_log_limit, int) or self.request_log_limit < 1:
            raise ValueError("request_log_limit must be a whole number of at least 1.")
        for name in _NON_NEGATIVE:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative.")
        if self.max_duration < self.min_duration:
            raise ValueError("max_duration must not be smaller than min_duration.")
        for name in _RATES:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability and must be between 0 and 1.")
        if self.cdn_rate is not None and self.cdn_rate <= 0:
            raise ValueError("cdn_rate must be a positive number of bytes per second, or null.")
        if self.expire_after is not None and self.expire_after < 0:
            raise ValueError("expire_after must not be negative.")
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)}.")
        if self.state_dir is not None and not self.state_dir.strip():
            raise ValueError("state_dir must be a folder path or null.")

    def updated(self, changes: dict[str, Any]) -> FakeConfig:
        """A copy with ``changes`` applied and checked; JSON types are coerced (lists of tokens, ints as floats)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"Unknown knob(s): {', '.join(unknown)}.")
        current = {name: getattr(self, name) for name in names}
        for name, value in changes.items():
            current[name] = _coerce(name, value)
        return FakeConfig(**current)

    def public_dict(self) -> dict[str, Any]:
        """The knobs as JSON; accepted tokens are counted, never shown."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["tokens"] = None if self.tokens is None else len(self.tokens)
        return out


def _coerce(name: str, value: Any) -> Any:
    if name == "tokens":
        if value is None:
            return None
        if isinstance(value, str):
            return {value}
        if isinstance(value, list | tuple | set | frozenset) and all(isinstance(t, str) for t in value):
            return set(value)
        raise ValueError("tokens must be a list of strings or null.")
    if name in _BOOLS:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false.")
        return value
    if name in ("workers", "seed", "request_log_limit", "video_fps"):
        if value is None and name == "seed":
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be a whole number.")
        return value
    if name in _CHOICES:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string.")
        return value
    if name == "state_dir":
        if value is not None and not isinstance(value, str):
            raise ValueError("state_dir must be a folder path or null.")
        return value
    if name in ("expire_after", "cdn_rate", "fail_message") and value is None:
        return None
    if name in ("request_id_prefix", "fail_message"):
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string.")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number.")
    return float(value)


class FaultDice:
    """Seeded random decisions; one instance per server so a seed reproduces a whole session."""

    def __init__(self, seed: int | None) -> None:
        self.rng = random.Random(seed)

    def hit(self, rate: float) -> bool:
        """True with probability ``rate``; exact at 0 and 1 (tests rely on rate 1.0 always firing)."""
        if rate <= 0.0:
            return False
        if rate >= 1.0:
            return True
        return self.rng.random() < rate

    def duration(self, config: FakeConfig) -> float:
        return self.rng.uniform(config.min_duration, config.max_duration)

    def choice(self, options: list[Any] | tuple[Any, ...]) -> Any:
        return self.rng.choice(options)

    def request_id(self) -> str:
        """A UUID4-shaped id drawn from the seeded RNG, so a seeded run gives the same ids."""
        import uuid

        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def styled_status(status: str, style: str) -> str:
    """The status word as this server's ``status_style`` says it."""
    return SYNONYMS.get(status, status) if style == "synonyms" else status
