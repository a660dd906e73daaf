"""Helpers of the reliability tests: quick retries, a virtual clock, clients of a sandbox.

Set ``PENDO_NB_LONG_TESTS=1`` for the long versions of the load, fuzz and dry-run tests.
"""

from __future__ import annotations

import os
import time

from pendo_nb import PendoClient
from pendo_nb.http.session import RetryPolicy

LONG = os.environ.get("PENDO_NB_LONG_TESTS") == "1"

#: Retries quick enough for tests: backoff waits stay far below any Retry-After (1 s and up).
QUICK_RETRY = RetryPolicy(max_tries=5, max_seconds=60.0, backoff=0.01, backoff_max=0.05)


class VirtualClock:
    """Stands in for the session's clock: waits are recorded and advance virtual time only."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self._offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self._offset += seconds

    @property
    def waited(self) -> float:
        return sum(self.waits)


def client_of(sandbox, *, key: str | None = None, **options) -> PendoClient:
    """A client of ``sandbox``: no cache, no rate limit, quick retries, unless told otherwise."""
    settings = {"base_url": sandbox.url, "cache": False, "rate_limit": None, "retry": QUICK_RETRY}
    return PendoClient(key or sandbox.key, **{**settings, **options})
