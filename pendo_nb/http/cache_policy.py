"""How long a cached aggregation window stays fresh: closed periods for long, open ones briefly.

Pendo's event data arrives late (reference 1.6: usually 15 minutes, 4 to 6 hours observed for
hourly aggregates), so a period is only *closed*, its answer final, once it ended before the
**lag horizon**: the server's clock minus a lag (8 hours by default, Estuary's choice). A window
that ended before the horizon is cached for a long time; one that touches the horizon or the
future gets a short expiry, so a re-run soon picks up the late events. Object reads (visitors,
accounts, reports) are not windows: they keep the client's own ``expire_after``.

The expiry of one request is chosen by its caller with :func:`request_expiry`, which the client
reads when it sends (requests-cache's per-request ``expire_after``)::

    with request_expiry(policy.expiry_for(window_end_ms, server_now_ms)):
        frame = api.aggregate(window_body, client=client)
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

__all__ = ["DEFAULT_POLICY", "CachePolicy", "current_request_expiry", "request_expiry", "UNSET"]

#: No expiry chosen for the request: the session's default applies.
UNSET = object()

_expiry: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "pendo_nb_request_expiry", default=UNSET
)


def _seconds(value: float | timedelta | None, name: str) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise ValueError(f"{name} must be a duration >= 0 (seconds or timedelta), got {value!r}")
    return float(seconds)


def _duration(value: float | timedelta | None, name: str) -> float:
    """``_seconds`` of a setting that must be a duration (never None)."""
    seconds = _seconds(value, name)
    if seconds is None:
        raise ValueError(f"{name} must be a duration, not None")
    return seconds


@dataclass(frozen=True)
class CachePolicy:
    """Expiry of cached windows by whether their data can still change.

    Parameters
    ----------
    lag : float or timedelta
        How far behind the server's clock data is final (default 8 hours). A window ending at or
        before ``server_now - lag`` is closed.
    closed : float, timedelta or None
        How long a closed window stays cached (default 30 days; ``None``: until cleared). Not
        forever by default: metadata joined into rows (``bulkExpand``) can still change.
    open : float or timedelta
        How long a window touching the horizon or the future stays cached (default 5 minutes).
    """

    lag: float | timedelta = timedelta(hours=8)
    closed: float | timedelta | None = timedelta(days=30)
    open: float | timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        _duration(self.lag, "lag")
        _duration(self.open, "open")
        _seconds(self.closed, "closed")

    @property
    def lag_ms(self) -> int:
        return int(_duration(self.lag, "lag") * 1000)

    def horizon(self, server_now_ms: int) -> int:
        """The lag horizon (epoch ms): data before it is final."""
        return int(server_now_ms) - self.lag_ms

    def is_closed(self, window_end_ms: int, server_now_ms: int) -> bool:
        """Whether a window ending (exclusively) at ``window_end_ms`` can no longer change."""
        return int(window_end_ms) <= self.horizon(server_now_ms)

    @property
    def closed_expiry(self) -> float | None:
        """Seconds a closed window (or any answer that cannot change) stays cached."""
        return _seconds(self.closed, "closed")

    @property
    def open_expiry(self) -> float:
        """Seconds an open window (or anything that follows the server's clock) stays cached."""
        return _duration(self.open, "open")

    def expiry_for(self, window_end_ms: int, server_now_ms: int) -> float | None:
        """Seconds the window's answer stays cached (``None``: until the cache is cleared)."""
        if self.is_closed(window_end_ms, server_now_ms):
            return self.closed_expiry
        return self.open_expiry


DEFAULT_POLICY = CachePolicy()


@contextlib.contextmanager
def request_expiry(seconds: float | None) -> Iterator[None]:
    """Cache the requests sent inside the block for ``seconds`` (``None``: until cleared).

    The choice holds for the current thread (a context variable), so parallel window fetches
    each carry their own.
    """
    token = _expiry.set(seconds)
    try:
        yield
    finally:
        _expiry.reset(token)


def current_request_expiry() -> object:
    """The expiry chosen by an enclosing :func:`request_expiry`, or :data:`UNSET`."""
    return _expiry.get()
