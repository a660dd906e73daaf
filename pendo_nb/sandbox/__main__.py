"""Run the sandbox standalone: ``python -m pendo_nb.sandbox --port 8765``.

Prints the base URL and both keys, then serves until Ctrl-C (SIGINT) or SIGTERM, and exits 0.
Any HTTP client can use it, e.g.
``curl -H "x-pendo-integration-key: pendo-sandbox-demo-rw" http://127.0.0.1:8765/api/v1/report``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType

from pendo_nb.sandbox import DEMO_KEY, DEMO_READ_ONLY_KEY, Limits, Sandbox, load_extract
from pendo_nb.sandbox.subscription.generate import DEFAULT_NOW, SIZES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pendo_nb.sandbox",
        description="An offline Pendo-compatible API server over a synthetic subscription.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--key", default=DEMO_KEY, help="read-write integration key (default: the demo key)"
    )
    parser.add_argument(
        "--read-only-key",
        default=DEMO_READ_ONLY_KEY,
        help="read-only integration key (default: the demo key)",
    )
    parser.add_argument(
        "--seed", type=int, default=7, help="seed of the synthetic data (default: %(default)s)"
    )
    parser.add_argument(
        "--size", choices=sorted(SIZES), default="demo", help="data size (default: %(default)s)"
    )
    clock = parser.add_mutually_exclusive_group()
    clock.add_argument(
        "--now", default=DEFAULT_NOW, help="the sandbox clock, ISO 8601 (default: %(default)s)"
    )
    # Outside clients (connectors) compute their windows from the machine's clock; against the
    # fixed default clock, "the last 7 days" would find nothing.
    clock.add_argument(
        "--wall-clock",
        action="store_true",
        help="set the sandbox clock to the real time at start, so the data ends now "
        "(same seed, same data, shifted in time; the default clock is fixed)",
    )
    parser.add_argument(
        "--timezone", default="UTC", help="subscription time zone, IANA name (default: %(default)s)"
    )
    parser.add_argument(
        "--extract",
        metavar="FOLDER",
        help="serve a local extract (written by pn.extract) instead of synthetic data; "
        "--seed, --size, --now and --timezone are then unused",
    )
    caps = parser.add_argument_group("caps on each aggregation (Pendo cuts at 5 minutes or 4 GB)")
    caps.add_argument(
        "--max-seconds",
        type=float,
        default=Limits.max_seconds,
        help="run time before an aggregation is cut with 408 (default: %(default)s)",
    )
    caps.add_argument(
        "--max-rows",
        type=int,
        default=Limits.max_rows,
        help="rows between two steps or in a result before a 413 (default: %(default)s)",
    )
    faults = parser.add_argument_group("fault injection (off by default; for tests and benchmarks)")
    faults.add_argument(
        "--latency-ms", type=float, default=0.0, help="added to every answer (default: 0)"
    )
    faults.add_argument(
        "--fault-rate", type=float, default=0.0, help="probability of a fault per request, 0 to 1"
    )
    faults.add_argument(
        "--faults",
        default=None,
        help="fault kinds to draw from, e.g. 429,503,reset,slow,truncate (default: all)",
    )
    faults.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draws")
    faults.add_argument(
        "--throttle",
        type=float,
        default=0.0,
        help="answer 429 with Retry-After above this many requests per second (default: 0, never)",
    )
    return parser


def wall_clock_now() -> int:
    """The machine's time in epoch ms, to the second (what ``--wall-clock`` starts from)."""
    return int(datetime.now(UTC).timestamp()) * 1000


# SIGTERM is what Docker, systemd and CI runners send; SIGINT is Ctrl-C.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _StopRequested(Exception):
    """Raised in the main thread by the handler of SIGINT or SIGTERM."""


def _request_stop(signum: int, frame: FrameType | None) -> None:
    raise _StopRequested(signal.Signals(signum).name)


@contextmanager
def _stopping_on_signals() -> Iterator[None]:
    """Stop on SIGINT and SIGTERM, whatever the process inherited; restore the handlers after.

    Explicit handlers because Python turns SIGINT into KeyboardInterrupt only when SIGINT was not
    ignored at start, and a shell starts background jobs (``cmd &``, a detached CI step) with it
    ignored; SIGTERM would otherwise end the process without stopping the server.
    """
    previous = {signum: signal.signal(signum, _request_stop) for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, serve until SIGINT or SIGTERM, return the exit status."""
    args = _parser().parse_args(argv)
    with _stopping_on_signals():
        try:
            return _serve(args)
        except _StopRequested:  # asked to stop while the subscription was being generated
            return 0


def _serve(args: argparse.Namespace) -> int:
    """Start the sandbox the arguments describe, print its banner, serve until a stop signal."""
    try:
        options = {} if args.extract is None else {"subscription": load_extract(args.extract)}
        sandbox = Sandbox(
            **options,
            seed=args.seed,
            size=args.size,
            now=wall_clock_now() if args.wall_clock else args.now,
            timezone=args.timezone,
            key=args.key,
            read_only_key=args.read_only_key,
            port=args.port,
            host=args.host,
            latency_ms=args.latency_ms,
            faults=args.faults,
            fault_rate=args.fault_rate,
            fault_seed=args.fault_seed,
            throttle=args.throttle,
            limits=Limits(max_seconds=args.max_seconds, max_rows=args.max_rows),
        )
        sandbox.start()
    except (ValueError, TypeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:  # from here on a stop signal stops the server cleanly, even during the banner
        # Keys are printed on purpose: the operator chose them (or they are the public demo keys).
        serving = f"extract {args.extract}" if args.extract else f"{args.size}, seed {args.seed}"
        print(f"Pendo sandbox ({serving}): {sandbox.url} (API under /api/v1)", flush=True)
        print(f"  read-write key: {sandbox.key}", flush=True)
        print(f"  read-only key:  {sandbox.read_only_key}", flush=True)
        now = datetime.fromtimestamp(sandbox.subscription.now_ms / 1000, UTC)
        print(f"  clock (now()):  {now.isoformat().replace('+00:00', 'Z')}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        threading.Event().wait()
    except _StopRequested:
        pass
    finally:
        # A second signal while the server closes is ignored: the stop finishes, and exits 0.
        for signum in _STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
