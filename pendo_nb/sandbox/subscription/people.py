"""The synthetic customers: accounts and visitors, their metadata, and the traits that drive events.

:func:`build_population` draws accounts (plan, size, churn) and visitors (accounts, activity level,
apps, lifespan), and writes their ``agent``/``custom``/``pendo`` metadata (reference 4.1, 4.2).
The ``auto`` group depends on the events, so :func:`apply_visit_metadata` fills it afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pendo_nb.sandbox.subscription.catalog import APPS, DAY_MS, PLANS
from pendo_nb.sandbox.subscription.identifiers import anonymous_visitor_ids, idhash

MAX_ACCOUNTS_PER_VISITOR = 3

_NAME_PREFIXES = (
    "Blue",
    "North",
    "Silver",
    "Bright",
    "Iron",
    "Cedar",
    "Summit",
    "Harbor",
    "Pioneer",
    "Quantum",
    "Golden",
    "Red",
    "Maple",
    "Granite",
    "Swift",
    "Atlas",
    "Lunar",
    "Coral",
    "Echo",
    "Nova",
    "Prairie",
    "Vertex",
    "Orchid",
    "Falcon",
    "Willow",
    "Cobalt",
    "Aurora",
    "Sierra",
    "Delta",
    "Oak",
)
_NAME_CORES = (
    "wind",
    "stone",
    "field",
    "bridge",
    "light",
    "river",
    "peak",
    "gate",
    "wave",
    "forge",
    "path",
    "line",
    "point",
    "crest",
    "vale",
    "brook",
    "ridge",
    "port",
    "mark",
    "star",
)
_INDUSTRIES = (
    ("Software", "Labs"),
    ("Healthcare", "Health"),
    ("Financial Services", "Capital"),
    ("Retail", "Goods"),
    ("Manufacturing", "Works"),
    ("Education", "Learning"),
    ("Logistics", "Logistics"),
    ("Media", "Studios"),
)
_REGIONS = ("NA", "EMEA", "APAC", "LATAM")
_CSMS = ("Priya Raman", "Tom Becker", "Aiko Tanaka", "Luis Ortega", "Grace Mensah")
_FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kara",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Yara",
    "Zoe",
)
_LAST_NAMES = (
    "Adams",
    "Brown",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Kim",
    "Lopez",
    "Martin",
    "Nguyen",
    "Okoro",
    "Patel",
    "Rossi",
    "Silva",
    "Tanaka",
    "Novak",
    "Weber",
    "Young",
)
_ROLES = (("member", 0.55), ("admin", 0.12), ("viewer", 0.25), ("billing", 0.08))
_LANGUAGES = (
    ("en-US", 0.62),
    ("de-DE", 0.1),
    ("fr-FR", 0.08),
    ("ja-JP", 0.07),
    ("es-ES", 0.07),
    ("pt-BR", 0.06),
)
_DEPARTMENTS = ("Engineering", "Marketing", "Operations", "Finance", "Sales", "Support", "Design")
_PLAN_WEIGHTS = np.array([0.3, 0.3, 0.25, 0.15])
# Seats and ARR per plan: (median seats, price per seat per year).
_PLAN_ECONOMICS = {
    "free": (5, 0.0),
    "starter": (12, 96.0),
    "pro": (30, 240.0),
    "enterprise": (120, 420.0),
}

# Activity tiers of identified visitors: share, chance of using the product on a weekday, events per
# active day (before the size's rate scale).
_TIERS = ((0.2, 0.85, 25.0), (0.3, 0.55, 12.0), (0.5, 0.25, 5.0))
_ANONYMOUS_SHARE = 0.15
_APPS_CHOICE = ((0, 0.62), (1, 0.1), (2, 0.28))  # web only, mobile only, both


@dataclass
class Population:
    """Accounts and visitors (API rows) and per-visitor traits, index-aligned with the id lists."""

    account_ids: list[str]
    accounts: dict[str, dict[str, Any]]
    visitor_ids: list[str]
    visitors: dict[str, dict[str, Any]]
    account_plan: np.ndarray  # index into PLANS
    account_start_day: np.ndarray  # first day index with activity
    account_end_day: np.ndarray  # day index after the last active day (n_days: still active)
    visitor_accounts: np.ndarray  # (V, MAX_ACCOUNTS_PER_VISITOR) account indices, -1 padded
    visitor_account_count: np.ndarray
    visitor_activity: np.ndarray  # chance of being active on a weekday
    visitor_rate: np.ndarray  # mean events per active day
    visitor_apps: np.ndarray  # 0 web only, 1 mobile only, 2 both
    visitor_start_day: np.ndarray
    visitor_end_day: np.ndarray  # exclusive
    visitor_first_seen_ms: np.ndarray  # first visit before the window, or -1 when new in the window
    do_not_process: set[str]


def _pick(rng: np.random.Generator, table: Sequence[tuple[Any, float]], size: int) -> np.ndarray:
    values, weights = zip(*table, strict=True)
    return rng.choice(len(values), size=size, p=np.array(weights) / sum(weights))


def _unique_names(candidates: list[str]) -> list[str]:
    """Make names unique by numbering repeats ("Blue Wind Labs 2")."""
    seen: dict[str, int] = {}
    out = []
    for name in candidates:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return out


def _unique_emails(parts: list[tuple[str, str]]) -> list[str]:
    """``local@domain`` addresses, numbering repeated local parts ("ada.kim2@...")."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for local, domain in parts:
        seen[local, domain] = seen.get((local, domain), 0) + 1
        count = seen[local, domain]
        out.append(f"{local}{count if count > 1 else ''}@{domain}")
    return out


@dataclass
class _Accounts:
    ids: list[str]
    rows: dict[str, dict[str, Any]]
    plan: np.ndarray
    start_day: np.ndarray
    end_day: np.ndarray
    size_weight: np.ndarray  # relative number of people


def _draw_accounts(
    rng: np.random.Generator, n_accounts: int, n_days: int, window_start_ms: int
) -> _Accounts:
    plan = rng.choice(len(PLANS), size=n_accounts, p=_PLAN_WEIGHTS).astype(np.int32)
    industry = rng.integers(0, len(_INDUSTRIES), n_accounts).tolist()
    prefixes = rng.integers(0, len(_NAME_PREFIXES), n_accounts).tolist()
    cores = rng.integers(0, len(_NAME_CORES), n_accounts).tolist()
    names = _unique_names(
        [
            f"{_NAME_PREFIXES[a]} {_NAME_CORES[b].capitalize()} {_INDUSTRIES[i][1]}"
            for a, b, i in zip(prefixes, cores, industry, strict=True)
        ]
    )
    ids = [name.lower().replace(" ", "-") for name in names]
    # One regional sub-account has a slash in its id: it can only be fetched with a `b64_` id.
    ids[min(3, n_accounts - 1)] += "/emea"
    region = rng.integers(0, len(_REGIONS), n_accounts).tolist()

    churned = rng.random(n_accounts) < 0.12
    churn_day = rng.integers(int(n_days * 0.2), int(n_days * 0.8) + 1, n_accounts)
    end_day = np.where(churned, churn_day, n_days).astype(np.int32)
    is_new = ~churned & (rng.random(n_accounts) < 0.1)
    start_day = np.where(
        is_new, rng.integers(int(n_days * 0.3), int(n_days * 0.9) + 1, n_accounts), 0
    )
    # Bigger plans have more people; sizes are heavy-tailed.
    size_weight = (rng.pareto(1.5, n_accounts) + 1.0) * np.array([1.0, 1.5, 2.5, 5.0])[plan]

    seat_factor = rng.lognormal(0.0, 0.4, n_accounts).tolist()
    renewal_day = rng.integers(n_days, n_days + 365, n_accounts).tolist()
    csm = rng.integers(0, len(_CSMS), n_accounts).tolist()
    discount = rng.uniform(0.85, 1.0, n_accounts).tolist()
    rows: dict[str, dict[str, Any]] = {}
    for i, account_id in enumerate(ids):
        plan_name = PLANS[plan[i]]
        median_seats, seat_price = _PLAN_ECONOMICS[plan_name]
        seats = max(1, round(median_seats * seat_factor[i]))
        rows[account_id] = {
            "accountId": account_id,
            "metadata": {
                "agent": {
                    "name": names[i],
                    "plan": plan_name,
                    "industry": _INDUSTRIES[industry[i]][0],
                    "region": _REGIONS[region[i]],
                },
                "custom": {
                    "csm": _CSMS[csm[i]],
                    "arr": round(seats * seat_price * discount[i], 2),
                    "seats": seats,
                    "ispaying": plan_name != "free" and not churned[i],
                    "renewaldate": window_start_ms + renewal_day[i] * DAY_MS,
                },
                "pendo": {"donotprocess": False},
            },
        }
    return _Accounts(ids, rows, plan, start_day.astype(np.int32), end_day, size_weight)


def _draw_memberships(
    rng: np.random.Generator, n_visitors: int, n_identified: int, size_weight: np.ndarray
) -> np.ndarray:
    """Account indices of each visitor, primary first, -1 padded (anonymous visitors: none)."""
    n_accounts = len(size_weight)
    memberships = np.full((n_visitors, MAX_ACCOUNTS_PER_VISITOR), -1, dtype=np.int32)
    primary = rng.choice(n_accounts, size=n_identified, p=size_weight / size_weight.sum())
    covered = min(n_accounts, n_identified)
    primary[:covered] = np.arange(covered)  # every account has somebody
    memberships[:n_identified, 0] = primary
    extra = rng.random(n_identified)
    for slot, share in ((1, 0.1), (2, 0.02)):  # some people work for two or three customers
        other = rng.integers(0, n_accounts, n_identified)
        memberships[:n_identified, slot] = np.where(extra < share, other, -1)
    for slot in (1, 2):  # no account twice
        repeated = (memberships[:, slot][:, None] == memberships[:, :slot]).any(axis=1)
        memberships[repeated, slot] = -1
    gap = (memberships[:, 1] < 0) & (memberships[:, 2] >= 0)  # keep the slots packed
    memberships[gap, 1], memberships[gap, 2] = memberships[gap, 2], -1
    return memberships


def build_population(
    rng: np.random.Generator, n_accounts: int, n_visitors: int, n_days: int, window_start_ms: int
) -> Population:
    """Draw the accounts and visitors of one subscription.

    Parameters
    ----------
    rng : numpy.random.Generator
        The population's own random stream.
    n_accounts, n_visitors : int
        How many of each.
    n_days : int
        Days of event history (day 0 starts at ``window_start_ms``).
    window_start_ms : int
        Start of the event window; visitors seen before it get a ``firstvisit`` before it.
    """
    accounts = _draw_accounts(rng, n_accounts, n_days, window_start_ms)
    n_anonymous = max(1, round(n_visitors * _ANONYMOUS_SHARE))
    n_identified = n_visitors - n_anonymous
    memberships = _draw_memberships(rng, n_visitors, n_identified, accounts.size_weight)
    identified = np.arange(n_visitors) < n_identified

    # Habits: how often and how much each visitor uses the product, and in which app(s).
    tier = _pick(rng, [(i, t[0]) for i, t in enumerate(_TIERS)], n_visitors)
    activity = np.where(identified, np.array([t[1] for t in _TIERS])[tier], 0.15)
    rate = np.where(identified, np.array([t[2] for t in _TIERS])[tier], 4.0)
    apps = np.array([a for a, _ in _APPS_CHOICE])[_pick(rng, _APPS_CHOICE, n_visitors)]
    apps = np.where(identified, apps, 0).astype(np.int32)  # anonymous visitors browse the web app

    # Lifespans: people come with their account (some later) and leave when it churns;
    # anonymous visitors come by for a few days.
    primary = np.maximum(memberships[:, 0], 0)
    start_day = np.where(
        identified, accounts.start_day[primary], rng.integers(0, n_days, n_visitors)
    )
    end_day = np.where(
        identified, accounts.end_day[primary], start_day + rng.integers(1, 6, n_visitors)
    )
    late_joiner = identified & (rng.random(n_visitors) < 0.15)
    start_day = np.where(
        late_joiner, np.maximum(start_day, rng.integers(0, n_days, n_visitors)), start_day
    )
    end_day = np.clip(end_day, start_day, n_days)
    before_window = (
        window_start_ms
        - rng.integers(1, 700, n_visitors) * DAY_MS
        - rng.integers(0, DAY_MS, n_visitors)
    )
    first_seen = np.where(identified & (start_day == 0), before_window, -1).astype(np.int64)

    visitor_ids, visitors, dnp = _visitor_rows(
        rng, n_identified, n_anonymous, memberships, accounts.ids, accounts.rows
    )
    for i, visitor_id in enumerate(visitor_ids):
        if visitor_id in dnp:  # Pendo stops collecting events for do-not-process visitors
            end_day[i] = start_day[i]
            first_seen[i] = window_start_ms - 30 * DAY_MS
    return Population(
        account_ids=accounts.ids,
        accounts=accounts.rows,
        visitor_ids=visitor_ids,
        visitors=visitors,
        account_plan=accounts.plan,
        account_start_day=accounts.start_day,
        account_end_day=accounts.end_day,
        visitor_accounts=memberships,
        visitor_account_count=(memberships >= 0).sum(axis=1).astype(np.int32),
        visitor_activity=activity,
        visitor_rate=rate,
        visitor_apps=apps,
        visitor_start_day=start_day.astype(np.int32),
        visitor_end_day=end_day.astype(np.int32),
        visitor_first_seen_ms=first_seen,
        do_not_process=dnp,
    )


def _visitor_rows(
    rng: np.random.Generator,
    n_identified: int,
    n_anonymous: int,
    visitor_accounts: np.ndarray,
    account_ids: list[str],
    accounts: dict[str, dict[str, Any]],
) -> tuple[list[str], dict[str, dict[str, Any]], set[str]]:
    # Python lists: indexing numpy arrays one element at a time is slow in per-visitor loops.
    first = rng.integers(0, len(_FIRST_NAMES), n_identified).tolist()
    last = rng.integers(0, len(_LAST_NAMES), n_identified).tolist()
    roles = _pick(rng, _ROLES, n_identified).tolist()
    languages = _pick(rng, _LANGUAGES, n_identified + n_anonymous).tolist()
    departments = rng.integers(0, len(_DEPARTMENTS), n_identified).tolist()
    progress = np.round(rng.beta(2.0, 1.5, n_identified), 3).tolist()
    logins = rng.negative_binomial(2, 0.05, n_identified).tolist()
    beta = (rng.random(n_identified) < 0.18).tolist()
    no_guides = (rng.random(n_identified) < 0.03).tolist()
    designer = (rng.random(n_identified) < 0.02).tolist()
    signup_days_before_renewal = rng.integers(200, 900, n_identified).tolist()
    dnp_index = int(rng.integers(0, n_identified))
    primary = visitor_accounts[:, 0].tolist()

    visitor_ids: list[str] = []
    visitors: dict[str, dict[str, Any]] = {}
    dnp: set[str] = set()
    emails = _unique_emails(
        [
            (
                f"{_FIRST_NAMES[f].lower()}.{_LAST_NAMES[la].lower()}",
                account_ids[primary[i]].split("/")[0].replace("-", "") + ".example",
            )
            for i, (f, la) in enumerate(zip(first, last, strict=True))
        ]
    )
    for i in range(n_identified):
        email = emails[i]
        account = account_ids[primary[i]]
        renewal = accounts[account]["metadata"]["custom"]["renewaldate"]
        signup = renewal - signup_days_before_renewal[i] * DAY_MS
        is_dnp = i == dnp_index
        visitor = {
            "visitorId": email,
            "metadata": {
                "agent": {
                    "email": email,
                    "name": f"{_FIRST_NAMES[first[i]]} {_LAST_NAMES[last[i]]}",
                    "role": _ROLES[roles[i]][0],
                    "language": _LANGUAGES[languages[i]][0],
                },
                "custom": {
                    "department": _DEPARTMENTS[departments[i]],
                    "onboardingprogress": progress[i],
                    "logincount": logins[i],
                    "betaopt": beta[i],
                    "signupdate": signup,
                },
                "pendo": {
                    "donotprocess": is_dnp,
                    "blacklistguides": no_guides[i],
                    "designerenabled": designer[i],
                },
            },
        }
        if is_dnp:
            dnp.add(email)
        visitor_ids.append(email)
        visitors[email] = visitor
    for j, anon_id in enumerate(anonymous_visitor_ids(rng, n_anonymous)):
        visitor_ids.append(anon_id)
        visitors[anon_id] = {
            "visitorId": anon_id,
            "metadata": {
                "agent": {"language": _LANGUAGES[languages[n_identified + j]][0]},
                "custom": {},
                "pendo": {
                    "donotprocess": False,
                    "blacklistguides": False,
                    "designerenabled": False,
                },
            },
        }
    return visitor_ids, visitors, dnp


@dataclass
class VisitStats:
    """What the events say about each visitor and account (-1: never seen in the window)."""

    visitor_first_ms: np.ndarray
    visitor_last_ms: np.ndarray
    visitor_last_account: np.ndarray  # account index of the last event, -1 if none
    visitor_last_user_agent: np.ndarray  # index into user_agents, -1 if none
    visitor_last_server: np.ndarray
    visitor_app_first_ms: np.ndarray  # (V, n_apps)
    visitor_app_last_ms: np.ndarray
    account_first_ms: np.ndarray
    account_last_ms: np.ndarray


def apply_visit_metadata(
    population: Population,
    stats: VisitStats,
    user_agents: list[str],
    parsed_user_agents: list[dict[str, Any]],
    servers: list[str],
    window_start_ms: int,
) -> None:
    """Fill ``metadata.auto`` (and ``auto__<appId>``) of every visitor and account from the events.

    ``lastupdated`` is the last visit (or the first-seen time of people not seen in the window):
    metadata is refreshed whenever the snippet loads.
    """
    # Python lists: indexing numpy arrays one element at a time is slow in per-visitor loops.
    seen_before_ms = population.visitor_first_seen_ms.tolist()
    first_visit, last_visit = stats.visitor_first_ms.tolist(), stats.visitor_last_ms.tolist()
    last_account, last_agent = (
        stats.visitor_last_account.tolist(),
        stats.visitor_last_user_agent.tolist(),
    )
    last_server, account_slots = (
        stats.visitor_last_server.tolist(),
        population.visitor_accounts.tolist(),
    )
    app_first, app_last = stats.visitor_app_first_ms.tolist(), stats.visitor_app_last_ms.tolist()
    app_groups = [f"auto__{abs(app['id'])}" for app in APPS]
    no_agent = {"name": "", "version": "", "os": ""}
    for v, visitor_id in enumerate(population.visitor_ids):
        row = population.visitors[visitor_id]
        seen_before = seen_before_ms[v] >= 0
        first_ms = seen_before_ms[v] if seen_before else first_visit[v]
        last_ms = last_visit[v] if last_visit[v] >= 0 else first_ms
        if first_ms < 0:  # new in the window but never active: seen once at the window start
            first_ms = last_ms = window_start_ms
        accounts = [population.account_ids[a] for a in account_slots[v] if a >= 0]
        if last_account[v] >= 0:
            account = population.account_ids[last_account[v]]
        else:
            account = accounts[0] if accounts else ""
        ua = last_agent[v]
        parsed = parsed_user_agents[ua] if ua >= 0 else no_agent
        # Reference 6.7: the docs spell accountId/accountIds, Pendo's samples and every
        # connector's schema lower-case them; the data follows the samples.
        auto = {
            "id": visitor_id,
            "idhash": idhash(visitor_id),
            "accountid": account,
            "accountids": accounts,
            "firstvisit": first_ms,
            "lastvisit": last_ms,
            "lastupdated": last_ms,
            "lastbrowsername": parsed["name"],
            "lastbrowserversion": parsed["version"],
            "lastoperatingsystem": parsed["os"],
            "lastservername": servers[last_server[v]] if last_server[v] >= 0 else "",
            "lastuseragent": user_agents[ua] if ua >= 0 else "",
        }
        # ``auto__<appId>`` per app used in the window (the app id's sign dropped, as Pendo does).
        per_app = {
            group: {
                "firstvisit": first_ms if seen_before else app_first[v][a],
                "lastvisit": app_last[v][a],
            }
            for a, group in enumerate(app_groups)
            if app_last[v][a] >= 0
        }
        row["metadata"] = {"auto": auto, **per_app, **row["metadata"]}

    account_first, account_last = stats.account_first_ms.tolist(), stats.account_last_ms.tolist()
    existed_before = (population.account_start_day == 0).tolist()
    for a, account_id in enumerate(population.account_ids):
        row = population.accounts[account_id]
        first_ms, last_ms = account_first[a], account_last[a]
        if existed_before[a]:
            first_ms = window_start_ms - (idhash(account_id) % 900 + 30) * DAY_MS
        if first_ms < 0:
            first_ms = window_start_ms
        if last_ms < 0:
            last_ms = first_ms
        auto = {
            "id": account_id,
            "idhash": idhash(account_id),
            "firstvisit": first_ms,
            "lastvisit": last_ms,
            "lastupdated": last_ms,
        }
        row["metadata"] = {"auto": auto, **row["metadata"]}
