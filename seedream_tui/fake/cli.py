"""``seedream-tui fake-server``: run the fake RunComfy API + CDN in the foreground until Ctrl-C.

For demos and for poking at the client by hand; every fault knob of :class:`FakeConfig` is a flag, and the
knobs can still be changed while it runs with ``POST /_fake/config``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from seedream_tui.fake.faults import API_BODY_STYLES, OUTPUT_URL_STYLES, STATUS_STYLES, FakeConfig

DEMO_TOKEN = "demo"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seedream-tui fake-server",
        description="Run a fake RunComfy Model API (and its storage CDN) on this machine.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    add("--port", type=int, default=8787, help="API port; 0 lets the system pick (default: 8787)")
    add("--cdn-port", type=int, default=0, help="CDN port; 0 lets the system pick (default: 0)")
    add("--workers", type=int, default=2, help="jobs running at the same time")
    add("--min-duration", type=float, default=3.0, help="shortest job, in seconds")
    add("--max-duration", type=float, default=8.0, help="longest job, in seconds")
    add("--image-scale", type=float, default=1.0, help="scale factor on image sizes")
    add("--seed", type=int, default=None, help="random seed, for reproducible runs")
    add("--token", action="append", dest="tokens", metavar="T", help="accept only this token (repeatable)")
    add(
        "--state-dir",
        default=None,
        metavar="DIR",
        help="keep jobs and images in DIR across restarts (default: a temp dir, forgotten on exit)",
    )
    add("--request-log", type=int, default=FakeConfig.request_log_limit, metavar="N",
        help=f"remember the last N API and N CDN requests (default: {FakeConfig.request_log_limit})")
    faults = parser.add_argument_group("faults (all off by default)")
    fadd = faults.add_argument
    fadd("--latency", type=float, default=0.0, help="seconds added to every API answer")
    fadd("--latency-spike-rate", type=float, default=0.0, help="probability of an extra delay")
    fadd("--latency-spike", type=float, default=1.0, help="length of that extra delay, in seconds")
    fadd("--error-5xx-rate", type=float, default=0.0, help="probability of a 500/502/503 answer")
    fadd("--rate-429", type=float, default=0.0, help="probability of a 429 answer")
    fadd("--retry-after", type=float, default=1.0, help="Retry-After of the 429 answers, in seconds")
    fadd("--drop-rate", type=float, default=0.0, help="probability of closing the connection unanswered")
    fadd("--gateway-after-submit-rate", type=float, default=0.0,
         help="probability that a submit creates the job but the answer is a gateway 502/504")
    fadd("--fail-rate", type=float, default=0.0, help="probability that a job fails")
    fadd("--truncate-rate", type=float, default=0.0, help="probability that a CDN download is cut short")
    fadd("--expire-after", type=float, default=None, help="requests older than this many seconds are gone")
    fadd("--bad-token", action="store_true", help="refuse every token")
    fadd("--status-style", choices=STATUS_STYLES, default="canonical", help="words used for job states")
    fadd("--errors-in-200", action="store_true", help="send errors as HTTP 200 with an error_code body")
    fadd(
        "--output-url-style",
        choices=OUTPUT_URL_STYLES,
        default="normal",
        help="hostile output URLs or CDN answers the downloader must refuse",
    )
    fadd(
        "--api-body-style",
        choices=API_BODY_STYLES,
        default="normal",
        help="broken bodies for every status/result answer",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> FakeConfig:
    """The :class:`FakeConfig` the parsed flags describe; raises ``ValueError`` with a sentence."""
    return FakeConfig(
        workers=args.workers,
        min_duration=args.min_duration,
        max_duration=args.max_duration,
        image_scale=args.image_scale,
        seed=args.seed,
        tokens=set(args.tokens) if args.tokens else None,
        latency=args.latency,
        latency_spike_rate=args.latency_spike_rate,
        latency_spike=args.latency_spike,
        error_5xx_rate=args.error_5xx_rate,
        rate_429=args.rate_429,
        retry_after=args.retry_after,
        drop_rate=args.drop_rate,
        gateway_after_submit_rate=args.gateway_after_submit_rate,
        fail_rate=args.fail_rate,
        truncate_rate=args.truncate_rate,
        expire_after=args.expire_after,
        bad_token=args.bad_token,
        status_style=args.status_style,
        errors_in_200=args.errors_in_200,
        output_url_style=args.output_url_style,
        api_body_style=args.api_body_style,
        state_dir=args.state_dir,
        request_log_limit=args.request_log,
    )


async def _serve(config: FakeConfig, host: str, port: int, cdn_port: int) -> None:
    from seedream_tui.fake.server import FakeServer

    server = FakeServer(config, host=host, port=port, cdn_port=cdn_port)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl-C arrives as KeyboardInterrupt
            pass
    try:
        if config.tokens is None:
            hint = f"any non-empty token works, e.g. '{DEMO_TOKEN}'"
        else:
            hint = f"use one of the {len(config.tokens)} token(s) given with --token"
        print(f"Fake RunComfy API: {server.base_url}", flush=True)
        print(f"Fake storage CDN:  {server.cdn_url}", flush=True)
        print(f"Token: {hint}", flush=True)
        if config.state_dir:
            print(f"Jobs are kept in {config.state_dir}", flush=True)
        print("Point the app at the API URL; Ctrl-C stops the server.", flush=True)
        await stop.wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["fake-server"]:
        args_list = args_list[1:]
    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    # the server's warnings (an unreadable saved record, a failed save) as one plain line each on stderr
    logging.basicConfig(level=logging.WARNING, format="Warning: %(message)s", stream=sys.stderr)
    try:
        asyncio.run(_serve(config, args.host, args.port, args.cdn_port))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"The fake server could not start: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print("Fake server stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
