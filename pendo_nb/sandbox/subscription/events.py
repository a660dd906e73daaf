"""Raw page loads, clicks and track events, generated column-wise with numpy.

The shape follows how people use a B2B product: a visitor is active on a day with a probability set
by their activity tier (much lower at weekends, in the subscription's time zone), does one session
of a few to a few dozen events that day, in the web app, the iOS app or both, from the office
(the account's IP) or from home; the features they click depend on their account's plan. Churned
accounts stop, new accounts start late. Nothing loops over events in Python, so the ``large`` size
(millions of events) takes seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pendo_nb.sandbox.subscription.catalog import PLANS, Catalog
from pendo_nb.sandbox.subscription.model import CLICK, PAGE_LOAD, TRACK, EventTable
from pendo_nb.sandbox.subscription.people import Population, VisitStats

MINUTE_MS = 60_000
WEB_SERVERS = ("app.acmeprojects.example", "eu.app.acmeprojects.example")
MOBILE_SERVER = "com.acmeprojects.ios"
API_TRACK_SERVER = "__apitrackevent__"  # Pendo's server name for server-side track events
_BACKEND_IP = "198.51.100.20"

# (user agent, parsed name, version, operating system); web browsers first, then the iOS app.
_WEBKIT = "AppleWebKit/537.36 (KHTML, like Gecko)"
_WEB_AGENTS = (
    (
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_WEBKIT} Chrome/{{v}}.0.0 Safari/537.36",
        "Chrome",
        ("118.0", "119.0", "120.0"),
        "Windows",
    ),
    (
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_WEBKIT} Chrome/{{v}}.0.0 Safari/537.36",
        "Chrome",
        ("119.0", "120.0"),
        "Mac OS X",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/{v} Safari/605.1.15",
        "Safari",
        ("16.6", "17.1"),
        "Mac OS X",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}) Gecko/20100101 Firefox/{v}",
        "Firefox",
        ("118.0", "119.0"),
        "Windows",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:{v}) Gecko/20100101 Firefox/{v}",
        "Firefox",
        ("119.0",),
        "Linux",
    ),
    (
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_WEBKIT} Chrome/119.0.0.0 Safari/537.36 "
        "Edg/{v}",
        "Edge",
        ("119.0.2151.58",),
        "Windows",
    ),
)
_MOBILE_AGENTS = (
    ("AcmeProjects/{v} (iPhone; iOS 17.1; Scale/3.00)", "AcmeProjects", ("4.1.0", "4.2.0"), "iOS"),
    ("AcmeProjects/{v} (iPad; iOS 16.6; Scale/2.00)", "AcmeProjects", ("4.2.0",), "iOS"),
)
_PUBLIC_FIRST_OCTETS = np.array(
    [23, 34, 45, 52, 63, 71, 81, 91, 98, 104, 142, 151, 176, 185, 203, 212]
)


@dataclass
class GeneratedEvents:
    """The event table, the lookup lists it indexes into, and what it says about each visitor."""

    events: EventTable
    remote_ips: list[str]
    servers: list[str]
    user_agents: list[str]
    parsed_user_agents: list[dict[str, Any]]
    stats: VisitStats
    visitor_web_agent: np.ndarray  # index into user_agents of each visitor's browser
    visitor_mobile_agent: np.ndarray  # ... and of their phone
    visitor_web_server: np.ndarray  # index into servers of the web server they use
    active_visitor_days: tuple[np.ndarray, np.ndarray]  # (visitor, day) of every active visitor-day


def _user_agent_pool(
    table: Sequence[tuple[str, str, tuple[str, ...], str]],
) -> tuple[list[str], list[dict[str, Any]]]:
    strings: list[str] = []
    parsed: list[dict[str, Any]] = []
    for template, name, versions, os_name in table:
        for version in versions:
            strings.append(template.format(v=version))
            parsed.append({"name": name, "version": version, "os": os_name})
    return strings, parsed


def _ip_octets(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` random public IPv4 addresses, one row of four octets (each in 1..254) each."""
    octets = rng.integers(1, 255, size=(count, 4))
    octets[:, 0] = rng.choice(_PUBLIC_FIRST_OCTETS, size=count)
    return octets


def _distinct_ip_strings(octets: np.ndarray) -> list[str]:
    """The addresses as strings, each repeat moved to the next free address.

    The event table indexes into the list, so two equal strings would make two groups with the
    same visible key. Random draws repeat rarely (tens among the ``large`` size's 144,000), so
    every first occurrence stays as drawn, and a repeat takes the next address whose octets are
    all in 1..254, with the same first octet (wrapping round), that nothing else uses.
    """
    span = 254**3  # addresses per first octet
    rest = ((octets[:, 1] - 1) * 254 + (octets[:, 2] - 1)) * 254 + (octets[:, 3] - 1)
    codes = octets[:, 0].astype(np.int64) * span + rest
    first_seen = np.unique(codes, return_index=True)[1]
    repeats = np.setdiff1d(np.arange(len(codes)), first_seen)  # in list order
    used = set(codes.tolist())
    for position in repeats.tolist():
        code = int(codes[position])
        while code in used:
            code = code - code % span + (code % span + 1) % span
        used.add(code)
        codes[position] = code
    first, rest = np.divmod(codes, span)
    b, rest = np.divmod(rest, 254 * 254)
    c, d = np.divmod(rest, 254)
    return [
        f"{w}.{x}.{y}.{z}"
        for w, x, y, z in zip(
            first.tolist(), (b + 1).tolist(), (c + 1).tolist(), (d + 1).tolist(), strict=True
        )
    ]


def _sample_by_weights(rng: np.random.Generator, weights: np.ndarray, count: int) -> np.ndarray:
    """``count`` indices drawn with probability proportional to ``weights`` (via the CDF)."""
    cdf = np.cumsum(weights)
    picked: np.ndarray = np.searchsorted(cdf, rng.random(count) * cdf[-1], side="right")
    return picked.astype(np.int32)


@dataclass
class _Lookups:
    """The lists event columns index into, and the indices with a special meaning."""

    remote_ips: list[str]
    servers: list[str]
    user_agents: list[str]
    parsed_user_agents: list[dict[str, Any]]
    n_web_agents: int
    n_mobile_agents: int

    @property
    def no_agent(self) -> int:  # server-side track events carry no browser
        return len(self.user_agents) - 1

    @property
    def backend_ip(self) -> int:
        return len(self.remote_ips) - 1


def _lookups(rng: np.random.Generator, n_accounts: int, n_visitors: int) -> _Lookups:
    """The lookup lists, each holding distinct strings (one string, one index)."""
    web_agents, web_parsed = _user_agent_pool(_WEB_AGENTS)
    mobile_agents, mobile_parsed = _user_agent_pool(_MOBILE_AGENTS)
    offices, homes = _ip_octets(rng, n_accounts), _ip_octets(rng, n_visitors)
    return _Lookups(
        # Offices first (one per account), then homes (one per visitor), then the backend, whose
        # first octet (198) is never drawn.
        remote_ips=[*_distinct_ip_strings(np.vstack([offices, homes])), _BACKEND_IP],
        servers=[*WEB_SERVERS, MOBILE_SERVER, API_TRACK_SERVER],
        user_agents=[*web_agents, *mobile_agents, ""],
        parsed_user_agents=[*web_parsed, *mobile_parsed, {"name": "", "version": "", "os": ""}],
        n_web_agents=len(web_agents),
        n_mobile_agents=len(mobile_agents),
    )


def _active_visitor_days(
    rng: np.random.Generator, population: Population, weekend: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(visitor, day)`` of every day a visitor uses the product, visitor by visitor."""
    day = np.arange(len(weekend))
    start, end = population.visitor_start_day[:, None], population.visitor_end_day[:, None]
    alive = (start <= day) & (day < end)
    chance = population.visitor_activity[:, None] * np.where(weekend, 0.22, 1.0)[None, :]
    active = alive & (rng.random(alive.shape) < chance)
    # Everyone in the visitors list was seen: a visitor alive in the window visits at least once.
    unseen = alive.any(axis=1) & ~active.any(axis=1)
    active[unseen, population.visitor_start_day[unseen]] = True
    visitor, day_index = np.nonzero(active)
    return visitor.astype(np.int32), day_index.astype(np.int32)


@dataclass
class _Sessions:
    """One session per active visitor-day."""

    events: np.ndarray  # how many events
    mobile_share: np.ndarray  # chance that an event is in the iOS app
    account: np.ndarray  # the account the visitor works for that day (-1: anonymous)
    ip: np.ndarray  # office (the account's IP) or home (the visitor's)
    start_minute: np.ndarray  # local minutes after midnight
    minutes: np.ndarray  # length


def _sessions(
    rng: np.random.Generator,
    population: Population,
    visitor: np.ndarray,
    day: np.ndarray,
    weekend: np.ndarray,
    rate_scale: float,
) -> _Sessions:
    n = len(visitor)
    mean_events = population.visitor_rate[visitor] * rate_scale * rng.lognormal(0.0, 0.5, n)
    events = 1 + rng.poisson(np.maximum(mean_events - 1.0, 0.1))
    # People with both apps use the web app, the iOS app, or both on a given day.
    mode = population.visitor_apps[visitor]
    both = np.array([0.0, 1.0, 0.35])[rng.choice(3, size=n, p=[0.55, 0.2, 0.25])]
    mobile_share = np.select([mode == 0, mode == 1], [0.0, 1.0], both)
    counts = population.visitor_account_count[visitor]
    slot = np.floor(rng.random(n) * np.maximum(counts, 1)).astype(np.int32)
    account = np.where(counts > 0, population.visitor_accounts[visitor, slot], -1).astype(np.int32)
    at_office = (account >= 0) & ~weekend[day] & (rng.random(n) < 0.7)
    ip = np.where(at_office, account, len(population.account_ids) + visitor).astype(np.int32)
    start_minute = np.clip(rng.normal(np.where(weekend[day], 14.0, 10.5), 2.5, n), 6.0, 21.0) * 60
    minutes = np.minimum(events * rng.uniform(0.7, 2.5, n), 24 * 60 - start_minute - 1)
    return _Sessions(events, mobile_share, account, ip, start_minute, minutes)


def build_events(
    rng: np.random.Generator,
    population: Population,
    catalog: Catalog,
    day_starts: np.ndarray,
    weekend: np.ndarray,
    now_ms: int,
    rate_scale: float,
) -> GeneratedEvents:
    """Generate every raw event of the window.

    Parameters
    ----------
    rng : numpy.random.Generator
        The events' own random stream.
    population, catalog
        Who uses the product, and what it consists of.
    day_starts : numpy.ndarray
        ``n_days + 1`` local midnights (epoch ms) in the subscription time zone; day ``d`` is
        ``[day_starts[d], day_starts[d + 1])``.
    weekend : numpy.ndarray
        Whether each day is a Saturday or Sunday, locally.
    now_ms : int
        No event happens at or after the sandbox clock.
    rate_scale : float
        Multiplies the events per active day (the ``large`` size uses fewer per day, more people).
    """
    n_visitors, n_accounts = len(population.visitor_ids), len(population.account_ids)
    lookups = _lookups(rng, n_accounts, n_visitors)
    vd_visitor, vd_day = _active_visitor_days(rng, population, weekend)
    sessions = _sessions(rng, population, vd_visitor, vd_day, weekend, rate_scale)

    # Each visitor has one browser, one phone (if they use the app) and the web server of their
    # main account's region.
    web_agent = rng.integers(0, lookups.n_web_agents, n_visitors)
    mobile_agent = lookups.n_web_agents + rng.integers(0, lookups.n_mobile_agents, n_visitors)
    emea = np.array(
        [row["metadata"]["agent"]["region"] == "EMEA" for row in population.accounts.values()]
    )
    primary = population.visitor_accounts[:, 0]
    web_server = np.where((primary >= 0) & emea[np.maximum(primary, 0)], 1, 0)

    # Per event; temporaries are dropped early, as `large` has millions of events.
    session = np.repeat(np.arange(len(vd_visitor), dtype=np.int32), sessions.events)
    n_events = len(session)
    visitor = vd_visitor[session]
    app = (rng.random(n_events) < sessions.mobile_share[session]).astype(np.int32)
    ts = (
        day_starts[vd_day[session]]
        + (sessions.start_minute[session] * MINUTE_MS).astype(np.int64)
        + (rng.random(n_events) * sessions.minutes[session] * MINUTE_MS).astype(np.int64)
    )
    draw = rng.random(n_events)
    kind = np.where(draw < 0.45, PAGE_LOAD, np.where(draw < 0.9, CLICK, TRACK)).astype(np.int8)
    del draw
    account = sessions.account[session]
    plan_state = np.where(account >= 0, population.account_plan[np.maximum(account, 0)] + 1, 0)
    obj = _objects(rng, catalog, kind, app, plan_state.astype(np.int8))
    del plan_state
    user_agent = np.where(app == 1, mobile_agent[visitor], web_agent[visitor]).astype(np.int32)
    server = np.where(app == 1, lookups.servers.index(MOBILE_SERVER), web_server[visitor]).astype(
        np.int32
    )
    ip = sessions.ip[session]
    server_side = kind == TRACK
    server_side[server_side] = catalog.track_server_side[obj[server_side]]
    server[server_side] = lookups.servers.index(API_TRACK_SERVER)
    user_agent[server_side] = lookups.no_agent
    ip[server_side] = lookups.backend_ip

    keep = np.flatnonzero(ts < np.minimum(now_ms, day_starts[vd_day[session] + 1]))
    order = keep[np.argsort(ts[keep], kind="stable")]  # positions of the kept events, by time
    del keep, session
    events = EventTable(
        ts=ts[order],
        visitor=visitor[order],
        account=account[order],
        app=app[order],
        kind=kind[order],
        object=obj[order],
        ip=ip[order],
        server=server[order],
        user_agent=user_agent[order],
    )
    return GeneratedEvents(
        events=events,
        remote_ips=lookups.remote_ips,
        servers=lookups.servers,
        user_agents=lookups.user_agents,
        parsed_user_agents=lookups.parsed_user_agents,
        stats=_visit_stats(
            events,
            n_visitors,
            n_accounts,
            len(catalog.apps),
            lookups.servers.index(API_TRACK_SERVER),
        ),
        visitor_web_agent=web_agent,
        visitor_mobile_agent=mobile_agent,
        visitor_web_server=web_server,
        active_visitor_days=(vd_visitor, vd_day),
    )


def _objects(
    rng: np.random.Generator,
    catalog: Catalog,
    kind: np.ndarray,
    app: np.ndarray,
    plan_state: np.ndarray,
) -> np.ndarray:
    """The page, feature or track type of each event (-1: an untagged page load or click)."""
    obj = np.full(len(kind), -1, dtype=np.int32)
    n_plans = len(PLANS)
    for a in range(len(catalog.apps)):
        pages = kind == PAGE_LOAD
        chosen = pages & (app == a) & (rng.random(len(kind)) >= 0.08)  # 8% of page loads untagged
        obj[chosen] = _sample_by_weights(
            rng, catalog.page_weight * (catalog.page_app == a), int(chosen.sum())
        )
        tracks = (kind == TRACK) & (app == a)
        obj[tracks] = _sample_by_weights(
            rng, catalog.track_weight * (catalog.track_app == a), int(tracks.sum())
        )
        for state in range(n_plans + 1):  # 0: no account (anonymous), else plan index + 1
            plan = max(state - 1, 0)
            included = plan >= catalog.feature_tier
            # Outside their plan people rarely click teaser buttons; enterprise uses premium
            # features more.
            adoption = np.where(included, 1.0, 0.02) * np.where(
                (catalog.feature_tier >= 2) & (plan == n_plans - 1), 1.6, 1.0
            )
            weights = catalog.feature_weight * adoption * (catalog.feature_app == a)
            clicks = (kind == CLICK) & (app == a) & (plan_state == state)
            tagged = clicks & (rng.random(len(kind)) >= 0.15)  # 15% of clicks untagged
            obj[tagged] = _sample_by_weights(rng, weights, int(tagged.sum()))
    return obj


def _visit_stats(
    events: EventTable, n_visitors: int, n_accounts: int, n_apps: int, api_server: int
) -> VisitStats:
    """First/last visits per visitor, visitor-app and account, and each visitor's last event.

    ``api_server`` is the server index of server-side track events, which name no browser.
    """
    none = np.iinfo(np.int64).max
    first = np.full(n_visitors, none, dtype=np.int64)
    np.minimum.at(first, events.visitor, events.ts)
    last = np.full(n_visitors, -1, dtype=np.int64)
    np.maximum.at(last, events.visitor, events.ts)
    last_index = np.full(n_visitors, -1, dtype=np.int64)
    # Events are sorted by time, so the largest position is the last event.
    np.maximum.at(last_index, events.visitor, np.arange(len(events), dtype=np.int64))
    seen = last_index >= 0
    pick = np.maximum(last_index, 0)

    pair = events.visitor.astype(np.int64) * n_apps + events.app
    app_first = np.full(n_visitors * n_apps, none, dtype=np.int64)
    np.minimum.at(app_first, pair, events.ts)
    app_last = np.full(n_visitors * n_apps, -1, dtype=np.int64)
    np.maximum.at(app_last, pair, events.ts)

    with_account = events.account >= 0
    account_first = np.full(n_accounts, none, dtype=np.int64)
    np.minimum.at(account_first, events.account[with_account], events.ts[with_account])
    account_last = np.full(n_accounts, -1, dtype=np.int64)
    np.maximum.at(account_last, events.account[with_account], events.ts[with_account])

    # Server-side track events carry no browser: the last *browser* event names the browser.
    browser = events.server != api_server
    last_browser = np.full(n_visitors, -1, dtype=np.int64)
    np.maximum.at(last_browser, events.visitor[browser], np.nonzero(browser)[0])

    def unset(a: np.ndarray) -> np.ndarray:
        return np.where(a == none, -1, a)

    return VisitStats(
        visitor_first_ms=unset(first),
        visitor_last_ms=last,
        visitor_last_account=np.where(seen, events.account[pick], -1),
        visitor_last_user_agent=np.where(
            last_browser >= 0, events.user_agent[np.maximum(last_browser, 0)], -1
        ),
        visitor_last_server=np.where(
            last_browser >= 0, events.server[np.maximum(last_browser, 0)], -1
        ),
        visitor_app_first_ms=unset(app_first).reshape(n_visitors, n_apps),
        visitor_app_last_ms=app_last.reshape(n_visitors, n_apps),
        account_first_ms=unset(account_first),
        account_last_ms=account_last,
    )
