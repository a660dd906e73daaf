"""An offline, Pendo-compatible API server over a deterministic synthetic subscription.

>>> from pendo_nb.sandbox import Sandbox
>>> with Sandbox(size="small") as sandbox:           # doctest: +SKIP
...     requests.get(sandbox.url + "/api/v1/report",
...                  headers={"x-pendo-integration-key": sandbox.key})

The sandbox answers Pendo's paths under ``/api/v1`` with Pendo's status codes and bodies. It
accepts two keys: a read-write key and a read-only key (refused on writes); both default to the
documented demo keys below, which protect nothing and are fine to print.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import os
import socket
import threading
import warnings
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import orjson

from pendo_nb.sandbox.engine import Limits
from pendo_nb.sandbox.server.faults import FaultInjector, FaultPlan, plan_from
from pendo_nb.sandbox.server.http_server import SandboxHTTPServer
from pendo_nb.sandbox.subscription.extract import ExtractUnreadable, load_extract
from pendo_nb.sandbox.subscription.generate import (
    check_seed_and_size,
    generate,
    parse_now,
    parse_timezone,
)
from pendo_nb.sandbox.subscription.model import Subscription
from pendo_nb.sandbox.subscription.rwlock import ReadWriteLock

DEMO_KEY = "pendo-sandbox-demo-rw"
DEMO_READ_ONLY_KEY = "pendo-sandbox-demo-ro"

__all__ = [
    "DEMO_KEY",
    "DEMO_READ_ONLY_KEY",
    "ExtractUnreadable",
    "FaultPlan",
    "Limits",
    "Sandbox",
    "Subscription",
    "generate",
    "load_extract",
]


# Sizes whose generations are kept (a few MB each): tests start many small sandboxes.
_CACHED_SIZES = ("small", "demo")


@functools.lru_cache(maxsize=4)
def _pristine(seed: int, size: str, now_ms: int, timezone: ZoneInfo) -> Subscription:
    """One generation per arguments; sandboxes get private copies of it (writes never leak)."""
    return generate(seed=seed, size=size, now=now_ms, timezone=timezone)


def _private_copy(subscription: Subscription) -> Subscription:
    """A copy whose writable parts (metadata, schema, ids, catalog, reports) are its own.

    The event table (read-only arrays) and the guide/poll event rows, the bulk of the data, are
    shared: nothing writes them.
    """

    def deep(value: Any) -> Any:
        # A JSON round trip: exact for this JSON-like data, and much faster than copy.deepcopy.
        return orjson.loads(orjson.dumps(value))

    shared = {"events", "guide_events", "poll_events", "timezone", "lock", "do_not_process"}
    copies = {
        f.name: deep(getattr(subscription, f.name))
        for f in dataclasses.fields(subscription)
        if f.name not in shared and isinstance(getattr(subscription, f.name), list | dict)
    }
    return dataclasses.replace(
        subscription,
        **copies,
        do_not_process={kind: set(ids) for kind, ids in subscription.do_not_process.items()},
        lock=ReadWriteLock(),
    )


class Sandbox:
    """A sandbox server: a real HTTP server on a background thread, over a synthetic subscription.

    Parameters
    ----------
    seed : int
        Seeds the synthetic subscription; the same seed and size give byte-identical answers.
    size : {"small", "demo", "large"}
        ``small`` for tests, ``demo`` (default) for notebooks, ``large`` for benchmarks.
    now : str, datetime or int, optional
        The sandbox clock (default ``2026-11-01T12:00:00Z``): ``now()`` in aggregations.
    timezone : str
        The subscription time zone (IANA name, default ``"UTC"``); day buckets follow it.
    key, read_only_key : str
        The read-write and the read-only integration keys the server accepts.
    port : int
        0 (default) picks a free port.
    host : str
        The address to bind; loopback by default. Any other address warns: the sandbox has no
        real authentication.
    latency_ms : float
        Milliseconds added to every answer (default 0).
    faults : str, list of str or FaultPlan, optional
        Fault injection for tests and benchmarks, off by default: fault kinds among ``429``,
        ``503``, ``reset``, ``slow``, ``truncate`` (``"429,503"`` or a list), or a
        :class:`~pendo_nb.sandbox.server.faults.FaultPlan` for finer control (which requests,
        after how many). The injector is ``.faults`` (it records every request it saw).
    fault_rate : float
        Probability from 0 to 1 that a request gets a fault (all kinds unless ``faults`` names
        some).
    fault_seed : int
        Seeds the fault draws, so a run is reproducible.
    throttle : float
        Above this many requests per second, answer 429 with ``Retry-After`` (0: never), as a
        rate-limited Pendo does; ``.faults.counts()["429"]`` says how many were refused.
    limits : Limits, optional
        Caps on each aggregation and report run (run time, rows, written values, nesting; see
        :class:`~pendo_nb.sandbox.engine.Limits`). Past the run time the answer is 408, past the
        result size 413, each telling the caller to split the time range, as Pendo advises for
        its 5-minute / 4 GB cut. The defaults are generous.
    subscription : Subscription, optional
        Serve this subscription instead of generating one (``seed``, ``size``, ``now`` and
        ``timezone`` are then unused): a local extract's, from :meth:`from_extract`.

    Examples
    --------
    >>> with Sandbox(size="small") as sandbox:          # doctest: +SKIP
    ...     print(sandbox.url)
    http://127.0.0.1:54321
    """

    def __init__(
        self,
        seed: int = 7,
        size: str = "demo",
        now: str | datetime | int | None = None,
        timezone: str = "UTC",
        key: str = DEMO_KEY,
        read_only_key: str = DEMO_READ_ONLY_KEY,
        port: int = 0,
        host: str = "127.0.0.1",
        latency_ms: float = 0.0,
        faults: str | list[str] | FaultPlan | None = None,
        fault_rate: float = 0.0,
        fault_seed: int = 0,
        throttle: float = 0.0,
        limits: Limits | None = None,
        subscription: Subscription | None = None,
    ) -> None:
        if (
            not isinstance(key, str)
            or not isinstance(read_only_key, str)
            or not key
            or not read_only_key
        ):
            raise ValueError("key and read_only_key must be non-empty strings")
        if key == read_only_key:
            raise ValueError("key and read_only_key must differ")
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError(
                f"limits must be a pendo_nb.sandbox.Limits, not {type(limits).__name__}"
            )
        check_seed_and_size(seed, size)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an integer from 0 to 65535, not {port!r}")
        self.seed = seed
        self.size = size
        self._now_ms = parse_now(now)
        self._timezone = parse_timezone(timezone)
        self.key = key
        self.read_only_key = read_only_key
        self.port = port
        self.host = host
        plan = plan_from(
            faults, rate=fault_rate, seed=fault_seed, latency_ms=latency_ms, throttle=throttle
        )
        self.faults: FaultInjector | None = FaultInjector(plan) if plan else None
        self.limits = limits or Limits()
        self._subscription: Subscription | None = subscription
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.url if self.running else "not running"
        return f"<Sandbox {where} seed={self.seed} size={self.size!r} key=*** read_only_key=***>"

    @classmethod
    def from_extract(cls, folder: str | os.PathLike[str], **options: Any) -> Sandbox:
        """A sandbox serving the local extract in ``folder`` (written by ``pn.extract``).

        The same routes and engine answer over the extract's rows; ``now()`` is the moment the
        extract was taken. ``options`` are the other parameters (keys, port, limits...).

        Raises
        ------
        ExtractUnreadable
            No manifest, a newer format, or an unfinished extract.
        """
        return cls(subscription=load_extract(folder), **options)

    @property
    def subscription(self) -> Subscription:
        """The synthetic subscription this sandbox serves (generated on first use)."""
        if self._subscription is None:
            tz: ZoneInfo = self._timezone
            if self.size in _CACHED_SIZES:
                pristine = _pristine(self.seed, self.size, self._now_ms, tz)
                self._subscription = _private_copy(pristine)
            else:  # too big to keep a spare copy around: a fresh generation is private anyway
                self._subscription = generate(self.seed, self.size, self._now_ms, tz)
        return self._subscription

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:54321``; the API is under ``/api/v1``."""
        if self._server is None:
            raise RuntimeError(
                "the sandbox is not running: call start() or use it in a `with` block"
            )
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET or AF_INET6 address, never a Unix path
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if host == "0.0.0.0" else "::1"
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> Sandbox:
        """Start serving on a background thread (a no-op if already running); returns ``self``."""
        if self._server is not None:
            return self
        if not _is_loopback(self.host):
            warnings.warn(
                f"binding the sandbox to {self.host!r} makes it reachable from other machines; "
                "its keys are demo keys, not protection",
                stacklevel=2,
            )
        server_class = SandboxHTTPServer
        if ":" in self.host:
            server_class = cast(
                type[SandboxHTTPServer],
                type(
                    "SandboxHTTPServer6", (SandboxHTTPServer,), {"address_family": socket.AF_INET6}
                ),
            )
        self._server = server_class(
            (self.host, self.port), self.subscription, self.key, self.read_only_key, self.limits
        )
        self._server.faults = self.faults
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="pendo-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections (keep-alive ones too) and free the port.

        A client's pooled connection is closed with the rest, so its next request fails to
        connect instead of being answered by a stopped sandbox. Handlers still computing an
        answer get a few seconds to end; a no-op if not running.
        """
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
