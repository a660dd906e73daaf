"""Generating the synthetic subscription: sizes, the clock and time zone, and :func:`generate`.

The same ``(seed, size, now, timezone)`` give byte-identical API answers: every random choice
comes from numpy ``Generator`` streams seeded from ``seed``, one per concern. The generator
modules beside this one each build one part (catalog, people, events, guide events, reports,
schema); :func:`generate` puts them together into a :class:`~.model.Subscription`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from pendo_nb.sandbox.subscription.catalog import build_catalog
from pendo_nb.sandbox.subscription.events import build_events
from pendo_nb.sandbox.subscription.guide_events import build_guide_events
from pendo_nb.sandbox.subscription.model import Subscription
from pendo_nb.sandbox.subscription.people import apply_visit_metadata, build_population
from pendo_nb.sandbox.subscription.reports import build_reports, build_segments
from pendo_nb.sandbox.subscription.schema import build_schema


@dataclass(frozen=True)
class SizeSpec:
    """How big a generated subscription is."""

    accounts: int
    visitors: int
    days: int  # days of events, ending with the day that contains "now"
    rate_scale: float  # multiplies events per active visitor-day


SIZES: dict[str, SizeSpec] = {
    "small": SizeSpec(accounts=25, visitors=200, days=30, rate_scale=1.0),
    "demo": SizeSpec(accounts=150, visitors=2_000, days=90, rate_scale=1.0),
    # Enough people that 30 days of `events` grouped per (visitor, account, app, day, ip, server,
    # user agent) gives over a million rows; fewer events per day keeps memory in check.
    "large": SizeSpec(accounts=4_000, visitors=140_000, days=32, rate_scale=0.3),
}
DEFAULT_NOW = "2026-11-01T12:00:00Z"


def parse_now(now: str | datetime | int | None) -> int:
    """The sandbox clock in epoch ms, from an ISO 8601 string, an aware datetime or epoch ms."""
    if now is None:
        now = DEFAULT_NOW
    if isinstance(now, bool):
        raise TypeError(
            "now must be an ISO 8601 string, a timezone-aware datetime or epoch milliseconds"
        )
    if isinstance(now, int):
        return now
    if isinstance(now, str):
        try:
            now = datetime.fromisoformat(now.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"now={now!r} is not an ISO 8601 time such as 2026-11-01T12:00:00Z"
            ) from None
    if not isinstance(now, datetime):
        raise TypeError(
            f"now must be an ISO 8601 string, a datetime or epoch ms, not {type(now).__name__}"
        )
    if now.tzinfo is None:
        raise ValueError(f"now={now.isoformat()} has no time zone; add one (e.g. 'Z' for UTC)")
    return int(now.timestamp() * 1000)


def parse_timezone(tz: str | ZoneInfo) -> ZoneInfo:
    """A ``ZoneInfo`` from an IANA name (``"UTC"``, ``"Europe/Berlin"``) or a ``ZoneInfo``."""
    if isinstance(tz, ZoneInfo):
        return tz
    if not isinstance(tz, str) or not tz:
        raise TypeError(f"timezone must be an IANA time zone name such as 'UTC', not {tz!r}")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"timezone={tz!r} is not a known IANA time zone (e.g. 'UTC', 'Europe/Berlin')"
        ) from None


def local_day_starts(now_ms: int, tz: ZoneInfo, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Local midnights bounding ``days`` days that end with the day containing ``now_ms``.

    Returns ``(starts, weekend)``: ``days + 1`` epoch-ms midnights (the last one ends today) and
    whether each day is a Saturday or Sunday in ``tz``.
    """
    today = datetime.fromtimestamp(now_ms / 1000, tz).date()
    dates = [today - timedelta(days=days - 1 - d) for d in range(days + 1)]

    def midnight(day: date) -> int:
        return int(datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC).timestamp() * 1000)

    starts = np.array([midnight(d) for d in dates], dtype=np.int64)
    weekend = np.array([d.weekday() >= 5 for d in dates[:-1]])
    return starts, weekend


def check_seed_and_size(seed: int, size: str) -> None:
    """Raise ``ValueError`` unless ``seed`` is a non-negative int and ``size`` a known size."""
    if size not in SIZES:
        raise ValueError(f"size={size!r} is not one of {', '.join(map(repr, SIZES))}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")


def generate(
    seed: int = 7,
    size: str = "demo",
    now: str | datetime | int | None = None,
    timezone: str | ZoneInfo = "UTC",
) -> Subscription:
    """Generate a synthetic subscription, identical for identical arguments.

    Parameters
    ----------
    seed : int
        Seeds every random choice (numpy ``Generator`` streams, one per concern).
    size : {"small", "demo", "large"}
        ``small`` (~200 visitors, 25 accounts, 30 days) for tests, ``demo`` (~2,000 visitors,
        150 accounts, 90 days), ``large`` (140,000 visitors, over a million grouped event rows in
        30 days) for benchmarks.
    now : str, datetime or int, optional
        The sandbox clock: ISO 8601 (``"2026-11-01T12:00:00Z"``, the default), an aware datetime
        or epoch ms. Events stop just before it.
    timezone : str or ZoneInfo
        The subscription time zone; days (and the weekday/weekend rhythm) follow it.

    Returns
    -------
    Subscription
    """
    check_seed_and_size(seed, size)
    spec = SIZES[size]
    now_ms = parse_now(now)
    tz = parse_timezone(timezone)
    day_starts, weekend = local_day_starts(now_ms, tz, spec.days)
    window_start = int(day_starts[0])
    # One independent stream per concern: changing how guides are drawn never moves the events.
    catalog_rng, people_rng, events_rng, guides_rng, reports_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )

    catalog = build_catalog(catalog_rng, now_ms, spec.days)
    population = build_population(people_rng, spec.accounts, spec.visitors, spec.days, window_start)
    generated = build_events(
        events_rng, population, catalog, day_starts, weekend, now_ms, spec.rate_scale
    )
    apply_visit_metadata(
        population,
        generated.stats,
        generated.user_agents,
        generated.parsed_user_agents,
        generated.servers,
        window_start,
    )
    guide_events, poll_events = build_guide_events(
        guides_rng, catalog, population, generated, day_starts, now_ms
    )
    for array in vars(generated.events).values():
        array.flags.writeable = False  # shared between sandboxes built from one generation
    return Subscription(
        seed=seed,
        size=size,
        now_ms=now_ms,
        timezone=tz,
        apps=catalog.apps,
        account_ids=population.account_ids,
        visitor_ids=population.visitor_ids,
        accounts=population.accounts,
        visitors=population.visitors,
        schema=build_schema(population),
        pages=catalog.pages,
        features=catalog.features,
        track_types=catalog.track_types,
        guides=[g.obj for g in catalog.guides],
        groups=catalog.groups,
        remote_ips=generated.remote_ips,
        servers=generated.servers,
        user_agents=generated.user_agents,
        events=generated.events,
        guide_events=guide_events,
        poll_events=poll_events,
        segments=build_segments(reports_rng, now_ms, catalog.users),
        reports=build_reports(reports_rng, now_ms, int(day_starts[-2]), catalog.users),
        do_not_process={"visitor": set(population.do_not_process), "account": set()},
        parsed_user_agents=generated.parsed_user_agents,
        untagged_urls=catalog.untagged_urls,
        window_start_ms=window_start,
    )
