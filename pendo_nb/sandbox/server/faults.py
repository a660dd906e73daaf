"""Fault and latency injection: a sandbox that misbehaves the way a busy Pendo can.

Off by default: the sandbox does not rate-limit on its own, because the sources disagree on
whether and how Pendo does (reference 6.9: none, 429s, "100 calls/s", a leaky bucket); a plan with
``429`` faults plays a throttled Pendo, ``Retry-After`` included. A :class:`FaultPlan` says which
faults may happen, how often, to which kinds of request, and after how many requests; a
:class:`FaultInjector` carries one plan out on a running server and records every request it saw::

    Sandbox(faults="429,503,reset", fault_rate=0.2, fault_seed=1)
    # from the 4th metadata write on, every answer is cut off (the writes still happen)
    Sandbox(faults=FaultPlan(faults="truncate", rate=1.0, on="write", after=3))
    # a Pendo that allows 20 requests per second: the 21st within a second gets a 429
    Sandbox(throttle=20)

The faults:

``429``
    ``Too Many Requests`` with a ``Retry-After`` header (``retry_after`` seconds); nothing done.
``503``
    ``Service Unavailable``; nothing done.
``reset``
    The connection is reset without an answer; nothing done.
``slow``
    The answer comes ``slow_ms`` later (a client with a shorter read timeout gives up).
``truncate``
    The request *is* carried out, then its answer is cut in half and the connection closed: the
    client cannot know whether a write happened.

Decisions come from a ``random.Random(seed)`` drawn once per eligible request, in arrival order,
so a run from a single client is reproducible; concurrent clients interleave in any order.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pendo_nb.sandbox.server.http_server import TEXT_TYPE, Response

__all__ = [
    "FAULT_KINDS",
    "REQUEST_KINDS",
    "FaultInjector",
    "FaultPlan",
    "SeenRequest",
    "plan_from",
    "request_kind",
]

FAULT_KINDS = ("429", "503", "reset", "slow", "truncate")
#: ``read``: any GET; ``aggregation``: POST /aggregation (a read sent as POST); ``write``: the rest.
REQUEST_KINDS = ("read", "aggregation", "write")
SEEN_LIMIT = 100_000


def request_kind(method: str, target: str) -> str:
    """The kind of a request, for :attr:`FaultPlan.on`: ``read``, ``aggregation`` or ``write``."""
    if method in ("GET", "HEAD"):
        return "read"
    if urlsplit(target).path.rstrip("/").endswith("/aggregation"):
        return "aggregation"
    return "write"


def _names(value: str | Iterable[str], allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    names = tuple(dict.fromkeys(str(item).strip().lower() for item in items if str(item).strip()))
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(unknown)}: choose from {', '.join(allowed)}")
    return names


@dataclass(frozen=True)
class FaultPlan:
    """What may go wrong, how often, and to which requests.

    Parameters
    ----------
    faults : str or sequence of str
        Fault kinds to draw from (see the module docstring), e.g. ``"429,503,reset"``.
    rate : float
        Probability, from 0 to 1, that an eligible request gets a fault.
    seed : int
        Seeds the draws: the same plan and the same requests give the same faults.
    latency_ms : float
        Added to every request, faulted or not.
    on : str or sequence of str
        Request kinds that may get a fault: ``read``, ``aggregation``, ``write``.
    after : int
        The first ``after`` eligible requests never get a fault ("faults mid-batch").
    limit : int, optional
        At most this many faults in all.
    retry_after : int
        Seconds announced in the ``Retry-After`` header of a 429.
    slow_ms : float
        Delay of a ``slow`` answer.
    throttle : float
        Above this many requests in any one second, answer ``429`` with ``Retry-After``
        (``retry_after`` seconds) instead; 0 (default) never throttles. Refused requests do not
        count, as with a leaky bucket: a client that waits as told gets through.
    """

    faults: tuple[str, ...] = FAULT_KINDS
    rate: float = 0.0
    seed: int = 0
    latency_ms: float = 0.0
    on: tuple[str, ...] = REQUEST_KINDS
    after: int = 0
    limit: int | None = None
    retry_after: int = 1
    slow_ms: float = 2000.0
    throttle: float = 0.0

    def __post_init__(self) -> None:
        # Normalized here so a plan built from CLI text equals one built from a tuple.
        object.__setattr__(self, "faults", _names(self.faults, FAULT_KINDS, "fault kind(s)"))
        object.__setattr__(self, "on", _names(self.on, REQUEST_KINDS, "request kind(s)"))
        if self.rate and not self.faults:
            raise ValueError("a fault rate needs at least one fault kind")
        if isinstance(self.rate, bool) or not 0.0 <= float(self.rate) <= 1.0:
            raise ValueError(f"fault rate must be a number from 0 to 1, got {self.rate!r}")
        for name in ("latency_ms", "slow_ms", "after", "retry_after", "throttle"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit < 0):
            raise ValueError(f"limit must be a non-negative integer or None, got {self.limit!r}")


def plan_from(
    faults: FaultPlan | str | Iterable[str] | None = None,
    *,
    rate: float = 0.0,
    seed: int = 0,
    latency_ms: float = 0.0,
    throttle: float = 0.0,
) -> FaultPlan | None:
    """The plan described by ``Sandbox(faults=..., fault_rate=..., ...)``; ``None`` when all off.

    ``faults`` may be a ready :class:`FaultPlan` (then the other arguments must keep their
    defaults), fault names (``"429,503"`` or a list), or ``None`` for every fault kind.
    """
    if isinstance(faults, FaultPlan):
        if rate or seed or latency_ms or throttle:
            raise ValueError(
                "give either a FaultPlan or fault_rate/fault_seed/latency_ms/throttle, not both"
            )
        return faults
    names = () if faults is None else _names(faults, FAULT_KINDS, "fault kind(s)")
    named = bool(names)
    if named and not rate:
        raise ValueError("faults were named but fault_rate is 0: give a rate from 0 to 1")
    if not rate and not latency_ms and not throttle:
        return None
    return FaultPlan(
        faults=names if named else FAULT_KINDS,
        rate=rate,
        seed=seed,
        latency_ms=latency_ms,
        throttle=throttle,
    )


@dataclass(frozen=True)
class SeenRequest:
    """One request as the injector saw it; ``fault`` is ``None`` when it was served normally.

    ``at`` is when it arrived (``time.monotonic()``), so a benchmark can tell the rate served.
    """

    number: int
    method: str
    path: str
    kind: str
    fault: str | None
    at: float = 0.0


@dataclass
class FaultInjector:
    """Carries out a :class:`FaultPlan` on a running server; thread-safe.

    ``seen`` lists every request the server received while the injector was installed, faulted or
    not, so tests can also check that nothing reached the server.
    """

    plan: FaultPlan
    #: The latest requests (a long-running server keeps only the last ``SEEN_LIMIT``).
    seen: deque[SeenRequest] = field(default_factory=lambda: deque(maxlen=SEEN_LIMIT))

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(self.plan.seed)
        self._eligible = 0
        self._injected = 0
        self._number = 0
        self._admitted: deque[float] = deque()  # when the requests of the last second came in

    def use(self, plan: FaultPlan) -> None:
        """Switch to another plan, starting over (draws, ``after`` count, ``seen``)."""
        with self._lock:
            self.plan = plan
            self._random = random.Random(plan.seed)
            self._eligible = self._injected = self._number = 0
            self._admitted.clear()
            self.seen.clear()

    def counts(self) -> Counter[Any]:
        """How many times each fault was injected (among the requests kept in ``seen``)."""
        with self._lock:
            return Counter(r.fault for r in self.seen if r.fault is not None)

    def _decide(self, method: str, target: str) -> tuple[FaultPlan, str | None]:
        with self._lock:
            plan = self.plan
            kind = request_kind(method, target)
            fault = None
            if kind in plan.on and plan.rate > 0:
                self._eligible += 1
                under_limit = plan.limit is None or self._injected < plan.limit
                # Draw for every eligible request, so `after` and `limit` do not shift the
                # sequence of decisions that follows.
                draw, choice = self._random.random(), self._random.choice(plan.faults)
                if self._eligible > plan.after and under_limit and draw < plan.rate:
                    fault = choice
                    self._injected += 1
            now = time.monotonic()
            if fault is None and plan.throttle and self._over_throttle(plan.throttle, now):
                fault = "429"
            self._number += 1
            path = urlsplit(target).path
            self.seen.append(SeenRequest(self._number, method, path, kind, fault, now))
            return plan, fault

    def _over_throttle(self, most: float, now: float) -> bool:
        """Whether this request is one too many in the last second (a sliding window)."""
        while self._admitted and self._admitted[0] <= now - 1.0:
            self._admitted.popleft()
        if len(self._admitted) >= most:
            return True
        self._admitted.append(now)
        return False

    def serve(self, handler: Any, answer: Callable[[], Any]) -> None:
        """Answer one request through ``handler`` (the server's request handler), maybe badly.

        ``answer()`` carries the request out and returns the server's response; it is not called
        for faults that refuse the request (429, 503, reset).
        """
        plan, fault = self._decide(handler.command, handler.path)
        delay_ms = plan.latency_ms + (plan.slow_ms if fault == "slow" else 0.0)
        if delay_ms:
            time.sleep(delay_ms / 1000)
        if fault == "429":
            headers = {"Retry-After": str(int(plan.retry_after))}
            handler._send(Response(429, b"Too Many Requests", TEXT_TYPE, headers))
        elif fault == "503":
            handler._send(Response(503, b"Service Unavailable", TEXT_TYPE))
        elif fault == "reset":
            _reset(handler)
        elif fault == "truncate":
            _send_truncated(handler, answer())
        else:
            handler._send(answer())


def _reset(handler: Any) -> None:
    """Close the connection with a TCP reset instead of an answer."""
    handler.close_connection = True
    # Linger 0 and a close before the server's orderly shutdown: the peer gets RST, not FIN,
    # as from a crashed proxy.
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()


def _send_truncated(handler: Any, response: Any) -> None:
    """Announce the whole body, send half of it, and hang up."""
    handler.close_connection = True
    body = response.body
    handler.send_response(response.status)
    handler.send_header("Content-Type", response.content_type)
    # At least one byte is promised, so even an empty answer arrives visibly cut.
    handler.send_header("Content-Length", str(max(len(body), 1)))
    for name, value in response.headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body[: len(body) // 2])
