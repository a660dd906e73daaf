"""What an expression or a pipeline may know about the world outside its rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class EvalContext:
    """The sandbox's clock, time zone and apps: what ``now()``, ``date()``, ``expandAppIds()`` see.

    ``apps`` holds the subscription's app objects (``{"id", "name", "platform"}``).
    """

    now_ms: int
    timezone: ZoneInfo
    apps: tuple[dict[str, Any], ...] = ()
