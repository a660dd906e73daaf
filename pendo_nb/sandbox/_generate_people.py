"""The synthetic customers: accounts and visitors, their metadata, and the traits that drive events.

:func:`build_population` draws accounts (plan, size, churn) and visitors (accounts, activity level,
apps, lifespan), and writes their ``agent``/``custom``/``pendo`` metadata (reference 4.1, 4.2).
The ``auto`` group depends on the events, so :func:`apply_visit_metadata` fills it afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pendo_nb.sandbox._generate_catalog import APPS, DAY_MS, PLANS
from pendo_nb.sandbox._identifiers import anonymous_visitor_ids, idhash

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
    accounts: dict[str, dict]
    visitor_ids: list[str]
    visitors: dict[str, dict]
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
    visitor_identified: np.ndarray  # bool
    visitor_first_seen_ms: np.ndarray  # first visit before the window, or -1 when new in the window
    do_not_process: set[str]


def _pick(rng: np.random.Generator, table, size: int) -> np.ndarray:
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
    # --- accounts -------------------------------------------------------------------------------
    plan = rng.choice(len(PLANS), size=n_accounts, p=_PLAN_WEIGHTS).astype(np.int32)
    industry = rng.integers(0, len(_INDUSTRIES), n_accounts)
    names = _unique_names(
        [
            f"{_NAME_PREFIXES[a]} {_NAME_CORES[b].capitalize()} {_INDUSTRIES[i][1]}"
            for a, b, i in zip(
                rng.integers(0, len(_NAME_PREFIXES), n_accounts),
                rng.integers(0, len(_NAME_CORES), n_accounts),
                industry,
                strict=True,
            )
        ]
    )
    account_ids = [name.lower().replace(" ", "-") for name in names]
    # One regional sub-account has a slash in its id: it can only be fetched with a `b64_` id.
    account_ids[min(3, n_accounts - 1)] += "/emea"
    region = rng.integers(0, len(_REGIONS), n_accounts)

    churned = rng.random(n_accounts) < 0.12
    account_end_day = np.where(
        churned, rng.integers(int(n_days * 0.2), int(n_days * 0.8) + 1, n_accounts), n_days
    )
    is_new = (~churned) & (rng.random(n_accounts) < 0.1)
    account_start_day = np.where(
        is_new, rng.integers(int(n_days * 0.3), int(n_days * 0.9) + 1, n_accounts), 0
    )
    account_end_day, account_start_day = (
        account_end_day.astype(np.int32),
        account_start_day.astype(np.int32),
    )
    # Bigger plans have more people; sizes are heavy-tailed.
    size_weight = rng.pareto(1.5, n_accounts) + 1.0
    size_weight *= np.array([1.0, 1.5, 2.5, 5.0])[plan]

    accounts: dict[str, dict] = {}
    for i, account_id in enumerate(account_ids):
        plan_name = PLANS[plan[i]]
        median_seats, seat_price = _PLAN_ECONOMICS[plan_name]
        seats = int(max(1, round(median_seats * float(rng.lognormal(0.0, 0.4)))))
        renewal_ms = window_start_ms + int(rng.integers(n_days, n_days + 365)) * DAY_MS
        accounts[account_id] = {
            "accountId": account_id,
            "metadata": {
                "agent": {
                    "name": names[i],
                    "plan": plan_name,
                    "industry": _INDUSTRIES[industry[i]][0],
                    "region": _REGIONS[region[i]],
                },
                "custom": {
                    "csm": _CSMS[int(rng.integers(0, len(_CSMS)))],
                    "arr": round(seats * seat_price * float(rng.uniform(0.85, 1.0)), 2),
                    "seats": seats,
                    "ispaying": plan_name != "free" and not bool(churned[i]),
                    "renewaldate": renewal_ms,
                },
                "pendo": {"donotprocess": False},
            },
        }

    # --- visitors -------------------------------------------------------------------------------
    n_anonymous = max(1, int(round(n_visitors * _ANONYMOUS_SHARE)))
    n_identified = n_visitors - n_anonymous
    primary = rng.choice(n_accounts, size=n_identified, p=size_weight / size_weight.sum())
    primary[: min(n_accounts, n_identified)] = np.arange(
        min(n_accounts, n_identified)
    )  # no empty account
    visitor_accounts = np.full((n_visitors, MAX_ACCOUNTS_PER_VISITOR), -1, dtype=np.int32)
    visitor_accounts[:n_identified, 0] = primary
    extra = rng.random(n_identified)
    for slot, share in ((1, 0.1), (2, 0.02)):  # some people work for two or three customers
        has = extra < share
        visitor_accounts[:n_identified, slot] = np.where(
            has, rng.integers(0, n_accounts, n_identified), -1
        )
    # Drop repeated accounts within a visitor, keeping the slots packed from the left.
    for slot in (1, 2):
        dup = (visitor_accounts[:, slot][:, None] == visitor_accounts[:, :slot]).any(axis=1)
        visitor_accounts[dup, slot] = -1
    visitor_accounts.sort(axis=1)
    visitor_accounts = visitor_accounts[:, ::-1].copy()  # valid indices first, -1 last
    # Keep the primary account first (sorting reordered it).
    for v in np.nonzero(visitor_accounts[:n_identified, 1] >= 0)[0]:
        row = [a for a in visitor_accounts[v] if a >= 0]
        row.remove(primary[v])
        visitor_accounts[v, : len(row) + 1] = [primary[v], *row]
    visitor_account_count = (visitor_accounts >= 0).sum(axis=1).astype(np.int32)

    identified = np.zeros(n_visitors, dtype=bool)
    identified[:n_identified] = True
    tier = _pick(rng, [(i, t[0]) for i, t in enumerate(_TIERS)], n_visitors)
    activity = np.array([t[1] for t in _TIERS])[tier]
    rate = np.array([t[2] for t in _TIERS])[tier]
    activity[~identified] = 0.15
    rate[~identified] = 4.0
    apps = np.array([a for a, _ in _APPS_CHOICE])[_pick(rng, _APPS_CHOICE, n_visitors)]
    apps[~identified] = 0  # anonymous visitors browse the web app

    start_day = np.zeros(n_visitors, dtype=np.int32)
    end_day = np.full(n_visitors, n_days, dtype=np.int32)
    acct = visitor_accounts[:n_identified, 0]
    start_day[:n_identified] = account_start_day[acct]
    end_day[:n_identified] = account_end_day[acct]
    late_joiner = identified & (rng.random(n_visitors) < 0.15)
    start_day = np.where(
        late_joiner, np.maximum(start_day, rng.integers(0, n_days, n_visitors)), start_day
    )
    # Anonymous visitors come by for a few days.
    anon_start = rng.integers(0, n_days, n_anonymous)
    start_day[n_identified:] = anon_start
    end_day[n_identified:] = np.minimum(n_days, anon_start + rng.integers(1, 6, n_anonymous))
    end_day = np.maximum(end_day, start_day)
    new_in_window = (start_day > 0) | ~identified
    first_seen = np.where(
        new_in_window,
        -1,
        window_start_ms
        - rng.integers(1, 700, n_visitors) * DAY_MS
        - rng.integers(0, DAY_MS, n_visitors),
    ).astype(np.int64)

    visitor_ids, visitors, dnp = _visitor_rows(
        rng, n_identified, n_anonymous, visitor_accounts, account_ids, accounts
    )
    for i, visitor_id in enumerate(visitor_ids):
        if visitor_id in dnp:  # Pendo stops collecting events for do-not-process visitors
            end_day[i] = start_day[i]
            first_seen[i] = window_start_ms - 30 * DAY_MS
    return Population(
        account_ids=account_ids,
        accounts=accounts,
        visitor_ids=visitor_ids,
        visitors=visitors,
        account_plan=plan,
        account_start_day=account_start_day,
        account_end_day=account_end_day,
        visitor_accounts=visitor_accounts,
        visitor_account_count=visitor_account_count,
        visitor_activity=activity,
        visitor_rate=rate,
        visitor_apps=apps.astype(np.int32),
        visitor_start_day=start_day,
        visitor_end_day=end_day,
        visitor_identified=identified,
        visitor_first_seen_ms=first_seen,
        do_not_process=dnp,
    )


def _visitor_rows(rng, n_identified, n_anonymous, visitor_accounts, account_ids, accounts):
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
    visitors: dict[str, dict] = {}
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
    parsed_user_agents: list[dict],
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


# --- the metadata schema (reference 4.4) -------------------------------------------------------

# (group, field, Type, DisplayName[, ElementType]) per kind.
_VISITOR_FIELDS = (
    ("auto", "id", "string", "Visitor ID"),
    ("auto", "idhash", "integer", "ID Hash"),
    ("auto", "accountid", "string", "Account ID"),
    ("auto", "accountids", "list", "Account IDs", "string"),
    ("auto", "firstvisit", "time", "First Visit"),
    ("auto", "lastvisit", "time", "Last Visit"),
    ("auto", "lastupdated", "time", "Last Updated"),
    ("auto", "lastbrowsername", "string", "Last Browser Name"),
    ("auto", "lastbrowserversion", "string", "Last Browser Version"),
    ("auto", "lastoperatingsystem", "string", "Last Operating System"),
    ("auto", "lastservername", "string", "Last Server Name"),
    ("auto", "lastuseragent", "string", "Last User Agent"),
    ("agent", "email", "string", "Email"),
    ("agent", "name", "string", "Name"),
    ("agent", "role", "string", "Role"),
    ("agent", "language", "string", "Language"),
    ("custom", "department", "string", "Department"),
    ("custom", "onboardingprogress", "float", "Onboarding Progress"),
    ("custom", "logincount", "integer", "Login Count"),
    ("custom", "betaopt", "boolean", "Beta Opt-in"),
    ("custom", "signupdate", "time", "Signup Date"),
    ("pendo", "donotprocess", "boolean", "Do Not Process"),
    ("pendo", "blacklistguides", "boolean", "Guides Disabled"),
    ("pendo", "designerenabled", "boolean", "Designer Enabled"),
)
_ACCOUNT_FIELDS = (
    ("auto", "id", "string", "Account ID"),
    ("auto", "idhash", "integer", "ID Hash"),
    ("auto", "firstvisit", "time", "First Visit"),
    ("auto", "lastvisit", "time", "Last Visit"),
    ("auto", "lastupdated", "time", "Last Updated"),
    ("agent", "name", "string", "Name"),
    ("agent", "plan", "string", "Plan"),
    ("agent", "industry", "string", "Industry"),
    ("agent", "region", "string", "Region"),
    ("custom", "csm", "string", "CSM"),
    ("custom", "arr", "float", "ARR"),
    ("custom", "seats", "integer", "Seats"),
    ("custom", "ispaying", "boolean", "Is Paying"),
    ("custom", "renewaldate", "time", "Renewal Date"),
    ("pendo", "donotprocess", "boolean", "Do Not Process"),
)


def field_definition(type_: str, display_name: str, element_type: str = "", sample=None) -> dict:
    """One schema entry, with Pendo's mixed-case keys (reference 4.4)."""
    definition = {
        "Type": type_,
        "DisplayName": display_name,
        "ElementType": element_type,
        "ElementFormat": "",
        "Dirty": False,
        "isHidden": False,
        "isDeleted": False,
        "isCalculated": False,
        "isPerApp": False,
        "isPromoted": False,
        "neverIndex": False,
    }
    if sample is not None:
        definition["sample"] = sample
    return definition


def build_schema(population: Population) -> dict[str, dict]:
    """The metadata schema of visitors and accounts; agent fields carry a ``sample`` value."""
    schema: dict[str, dict] = {}
    for kind, fields, rows in (
        ("visitor", _VISITOR_FIELDS, population.visitors),
        ("account", _ACCOUNT_FIELDS, population.accounts),
    ):
        first_row = next(iter(rows.values()))["metadata"]
        groups: dict[str, dict] = {}
        for group, name, type_, display, *element in fields:
            sample = first_row.get("agent", {}).get(name) if group == "agent" else None
            groups.setdefault(group, {})[name] = field_definition(
                type_, display, *element, sample=sample
            )
        schema[kind] = groups
    return schema
