"""Adaptive request pacing: one limiter per host and key, shared by every thread that uses them.

A fixed cap is either too low (a windowed pull waits on the client, not on Pendo) or too high
(a throttled Pendo answers 429 to every worker in turn). :class:`AdaptiveLimiter` instead starts
from a safe rate, grows while answers come back healthy, and backs off when the server pushes
back (429 or 503):

* the rate doubles per second of healthy answers until the server first pushes back;
* on a push-back the rate the server was really taking (the requests sent in the second
  before the refused one and answered well, counted once their answers are in) becomes the
  known ceiling, the rate drops to
  :data:`BACK_OFF` of it, holds there for :data:`HOLD` seconds (approaching the ceiling from
  below: a pull right after a push-back draws none), and from then on grows only :data:`PROBE`
  per second, so a throttled server sees one 429 a minute or so instead of a storm;
* a ``Retry-After`` pauses *every* worker until it has passed, not only the one that got it;
* push-backs to requests sent before the last back-off are the same overload seen late, not a
  new one: they do not lower the rate again.

A loopback host (the local sandbox) starts unpaced: the client never throttles it on its own,
only when the server itself answers 429/503.

Time comes from a clock object (``monotonic()`` and ``sleep()``; the :mod:`time` module by
default), so tests drive the limiter with a stand-in clock instead of waiting.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Protocol
from urllib.parse import urlsplit

__all__ = ["BACK_OFF", "HOLD", "PROBE", "START_RATE", "AdaptiveLimiter", "shared_limiter"]

#: Requests per second a remote host is first sent (Pendo's reported limit is ~100/s).
START_RATE = 10.0
#: The rate after a push-back, as a share of the rate that was pushed back.
BACK_OFF = 0.95
#: Growth per second of healthy answers once a ceiling is known: slow, because each probe past
#: the ceiling costs a ``Retry-After`` pause for every worker.
PROBE = 0.002
#: Seconds after a back-off during which the rate holds below the ceiling instead of probing:
#: a server counting a sliding second already refuses now and then at the back-off rate (arrivals
#: bunch up), so probing at once would draw a 429, and a pause for every worker, in each pull of
#: tens of seconds; a raised limit is found this much later.
HOLD = 30.0
#: Growth per second of healthy answers before any push-back (slow start).
DOUBLING = 1.0
#: Statuses that say "too much": back off.
PUSH_BACK = frozenset({429, 503})
#: Seconds of send times kept to measure the rate the server took (answers come late).
WINDOW = 3.0
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


class AdaptiveLimiter:
    """Paces the requests of one host and key; thread-safe.

    Parameters
    ----------
    start : float or None
        First rate in requests per second; ``None``: unpaced until the first push-back.
    most : float or None
        The rate never grows past this (``connect(rate_limit=...)``); ``None``: no cap.
    clock : Clock
        ``monotonic()`` and ``sleep()``; :mod:`time` by default.
    """

    def __init__(
        self, start: float | None = START_RATE, most: float | None = None, clock: Clock = time
    ) -> None:
        for value in (start, most):
            if value is not None and value <= 0:
                raise ValueError(f"rate_limit must be positive (requests per second), got {value}")
        self.most = most
        self.rate = start if most is None or start is None else min(start, most)
        #: The rate of the last push-back, once there was one.
        self.ceiling: float | None = None
        #: Answers 429/503 seen in all (a retry storm shows here first).
        self.pushed_back = 0
        self._clock = clock
        self._lock = threading.Lock()
        now = clock.monotonic()
        self._next = now  # the earliest time the next request may go out
        self._paused_until = now
        self._backed_off_at = -math.inf
        # Send times of the last seconds' requests, and of those answered well: what the server
        # took in the second before a refused request is known once their answers are all in.
        self._sent: deque[float] = deque()
        self._served: deque[float] = deque()
        # A push-back whose ceiling is still to count, and the ceiling known before it.
        self._measure_before: float | None = None
        self._ceiling_before: float | None = None

    def acquire(self) -> float:
        """Wait until one request may be sent; return the time it goes out (for :meth:`answer`)."""
        with self._lock:
            now = self._clock.monotonic()
            slot = max(now, self._paused_until)
            if self.rate is not None:
                slot = max(slot, self._next)
                # Slots are handed out in order: later callers queue behind this one.
                self._next = slot + 1.0 / self.rate
            self._sent.append(slot)
            while self._sent[0] <= slot - WINDOW:
                self._sent.popleft()
        if slot > now:
            self._clock.sleep(slot - now)
        return slot

    def answer(self, sent_at: float, status: int, retry_after: float | None = None) -> None:
        """Learn from the answer to a request sent at ``sent_at`` (from :meth:`acquire`)."""
        with self._lock:
            now = self._clock.monotonic()
            if retry_after:
                # Every worker waits, not only this one: the server refuses them all alike.
                self._paused_until = max(self._paused_until, now + retry_after)
            if status in PUSH_BACK:
                self.pushed_back += 1
                if sent_at >= self._backed_off_at:
                    self._back_off(sent_at, now)
                return
            self._served.append(sent_at)
            # A slow answer (an aggregation may run for minutes) can be older than the window.
            while self._served and self._served[0] <= now - WINDOW:
                self._served.popleft()
            refused_at = self._measure_before
            if refused_at is not None and now >= max(refused_at + 1.0, self._paused_until):
                # The answers to what was sent before the refusal are in: count what was taken.
                taken = float(sum(refused_at - 1.0 <= t < refused_at for t in self._served))
                self.ceiling = self._smoothed(max(taken, 1.0), self._ceiling_before)
                below = BACK_OFF * self.ceiling
                self.rate = below if self.rate is None else min(self.rate, below)
                self._measure_before = None
            if self.rate is not None and now >= self._backed_off_at + HOLD:
                growth = DOUBLING if self.ceiling is None else PROBE
                # Per answer, so that a second of answers at this rate grows it by `growth`.
                self.rate *= (1.0 + growth) ** (1.0 / self.rate)
                if self.most is not None:
                    self.rate = min(self.rate, self.most)

    @staticmethod
    def _smoothed(taken: float, ceiling: float | None) -> float:
        """The new ceiling: a lower count than the last ceiling only pulls it halfway down.

        Arrivals bunch up (threads wake late, networks queue), so a server counting a sliding
        second refuses now and then below its limit; taking each such count as the limit would
        ratchet the rate down at every stray 429.
        """
        if ceiling is None or taken >= ceiling:
            return taken
        return (ceiling + taken) / 2

    def _back_off(self, refused_at: float, now: float) -> None:
        """Slow down at once on what was sent; correct it once the answers are in."""
        sent = sum(refused_at - 1.0 <= t < refused_at for t in self._sent)
        pushed = float(sent) if self.rate is None else min(self.rate, float(sent))
        if self._measure_before is None:
            self._ceiling_before = self.ceiling
        self.ceiling = self._smoothed(max(pushed, 1.0), self._ceiling_before)
        self.rate = BACK_OFF * self.ceiling
        self._measure_before = refused_at
        self._backed_off_at = now
        self._next = max(self._next, now)


_shared: dict[tuple[str, float | None], AdaptiveLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(namespace: str, base_url: str, most: float | None) -> AdaptiveLimiter:
    """The limiter of one host and key (``namespace``), made on first use.

    Every client of the same key, host and cap shares it, across threads: two notebooks' clients
    in one kernel, or a pull's workers, then slow down together when Pendo pushes back.
    """
    loopback = (urlsplit(base_url).hostname or "") in LOOPBACK_HOSTS
    with _shared_lock:
        limiter = _shared.get((namespace, most))
        if limiter is None:
            start = None if loopback and most is None else START_RATE
            limiter = _shared[(namespace, most)] = AdaptiveLimiter(start, most)
        return limiter
