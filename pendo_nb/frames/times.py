"""Epoch milliseconds: as timestamps in a time zone, as ISO text, and from what users pass.

A moment without a time zone is kept as text (:func:`moment`) for the *server* to read in the
subscription's time zone (:mod:`pendo_nb.pulls.server_clock`), never this machine's.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from pendo_nb.errors import ValidationError

DAY_MS = 24 * 60 * 60 * 1000


def iso(ms: int) -> str:
    """Epoch ms as ISO 8601 text in UTC (for messages)."""
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()


def stamp(ms: int, tz: str) -> pd.Timestamp:
    """Epoch ms as a timestamp in the time zone ``tz``."""
    return pd.Timestamp(ms, unit="ms", tz="UTC").tz_convert(tz)


def moment(value: Any, name: str) -> int | str:
    """Epoch ms for absolute moments; ``YYYY-MM-DDTHH:MM:SS`` text for zone-less ones.

    Zone-less text is left for the server to read (``date("...")``), in the subscription's zone.
    """
    if isinstance(value, bool):
        raise ValidationError(f"{name} must be a date, a datetime or epoch ms, got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        if not math.isfinite(value):
            raise ValidationError(f"{name} must be a finite number of epoch ms, got {value!r}")
        if value < 1e11:
            raise ValidationError(
                f"{name}={value} is not epoch milliseconds (too small; seconds times 1000?)"
            )
        return int(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    try:
        parsed = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name}={value!r} is not a date or time: {exc}") from None
    if parsed is pd.NaT:
        raise ValidationError(f"{name} must not be missing")
    if parsed.tzinfo is not None:
        return int(parsed.tz_convert("UTC").value // 1_000_000)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S")
