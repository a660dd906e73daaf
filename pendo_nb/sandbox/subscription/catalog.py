"""The synthetic product: apps, pages, features, track types, product areas and guides.

The product is "Acme Projects", a web app (Pendo's default app id ``-323232``) and an iOS app. The
tables below are the product design; :func:`build_catalog` turns them into Pendo-shaped objects
(reference 4.6) with random ids and timestamps, plus the weights the event generator draws from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pendo_nb.sandbox.subscription.identifiers import catalog_ids

WEB_APP_ID = -323232
MOBILE_APP_ID = 5629499534213120
DAY_MS = 86_400_000

APPS: tuple[dict[str, Any], ...] = (
    {"id": WEB_APP_ID, "name": "Acme Projects", "platform": "web"},
    {"id": MOBILE_APP_ID, "name": "Acme Projects iOS", "platform": "ios"},
)
_APP_HOSTS = {WEB_APP_ID: "https://app.acmeprojects.example", MOBILE_APP_ID: "acmeprojects://app"}

# Plans, cheapest first; a feature's tier is the first plan that includes it.
PLANS = ("free", "starter", "pro", "enterprise")

# Product areas (Pendo "groups"): name, colour, description.
_PRODUCT_AREAS = (
    ("Analytics", ".groupColor01", "Dashboards, reports and the data explorer"),
    ("Collaboration", ".groupColor02", "Projects, tasks and comments"),
    ("Administration", ".groupColor03", "Team, billing, integrations and audit"),
    ("Onboarding", ".groupColor04", "Welcome checklist and help"),
    ("Mobile", ".groupColor05", "The iOS app"),
)

# Pages: name, app, url path, product area, popularity (relative page-load weight).
_PAGES = (
    ("Dashboard", WEB_APP_ID, "/dashboard", "Analytics", 30.0),
    ("Reports", WEB_APP_ID, "/reports", "Analytics", 12.0),
    ("Report Builder", WEB_APP_ID, "/reports/new", "Analytics", 5.0),
    ("Data Explorer", WEB_APP_ID, "/explore", "Analytics", 4.0),
    ("Projects", WEB_APP_ID, "/projects", "Collaboration", 18.0),
    ("Project Detail", WEB_APP_ID, "/projects/*", "Collaboration", 22.0),
    ("Team Members", WEB_APP_ID, "/settings/team", "Administration", 3.0),
    ("Account Settings", WEB_APP_ID, "/settings/account", "Administration", 2.0),
    ("Billing", WEB_APP_ID, "/settings/billing", "Administration", 1.0),
    ("Integrations", WEB_APP_ID, "/settings/integrations", "Administration", 1.5),
    ("Audit Log", WEB_APP_ID, "/admin/audit", "Administration", 0.5),
    ("Welcome Checklist", WEB_APP_ID, "/welcome", "Onboarding", 2.5),
    ("Help Center", WEB_APP_ID, "/help", "Onboarding", 2.0),
    ("Home", MOBILE_APP_ID, "/home", "Mobile", 20.0),
    ("Inbox", MOBILE_APP_ID, "/inbox", "Mobile", 12.0),
    ("Project Feed", MOBILE_APP_ID, "/feed", "Mobile", 10.0),
    ("Profile", MOBILE_APP_ID, "/profile", "Mobile", 2.0),
    ("Mobile Settings", MOBILE_APP_ID, "/settings", "Mobile", 1.0),
)

# Features: name, page name, first plan that has it, popularity, css selector.
_FEATURES = (
    ("Date Range Picker", "Dashboard", "free", 10.0, "#date-range"),
    ("Add Widget", "Dashboard", "starter", 4.0, "button.add-widget"),
    ("Share Dashboard", "Dashboard", "pro", 2.0, "button.share"),
    ("Report Filter", "Reports", "free", 6.0, ".report-filter"),
    ("Export CSV", "Reports", "starter", 3.0, "button.export-csv"),
    ("Schedule Report", "Reports", "pro", 1.5, "button.schedule"),
    ("Add Metric", "Report Builder", "starter", 3.0, "button.add-metric"),
    ("Save Report", "Report Builder", "starter", 2.0, "button.save-report"),
    ("AI Summary", "Report Builder", "enterprise", 2.5, "button.ai-summary"),
    ("Run Query", "Data Explorer", "pro", 3.0, "button.run-query"),
    ("Segment Picker", "Data Explorer", "pro", 1.5, "#segment-picker"),
    ("Create Project", "Projects", "free", 3.0, "button.new-project"),
    ("Search Projects", "Projects", "free", 5.0, "input.project-search"),
    ("Comment", "Project Detail", "free", 8.0, "button.comment"),
    ("Assign Task", "Project Detail", "free", 6.0, "button.assign"),
    ("Upload File", "Project Detail", "starter", 3.0, "button.upload"),
    ("Invite User", "Team Members", "free", 1.5, "button.invite"),
    ("Change Role", "Team Members", "starter", 0.7, "select.role"),
    ("Upgrade Plan", "Billing", "free", 0.4, "button.upgrade"),
    ("Download Invoice", "Billing", "starter", 0.5, "a.invoice"),
    ("Connect Slack", "Integrations", "starter", 0.8, "button.connect-slack"),
    ("Connect Salesforce", "Integrations", "enterprise", 0.6, "button.connect-salesforce"),
    ("Filter Audit Log", "Audit Log", "enterprise", 0.4, "#audit-filter"),
    ("Search Help", "Help Center", "free", 1.2, "input.help-search"),
    ("Contact Support", "Help Center", "free", 0.5, "button.contact"),
    ("Pull to Refresh", "Home", "free", 8.0, "RefreshControl"),
    ("Archive Message", "Inbox", "free", 4.0, "ArchiveButton"),
    ("Reply", "Inbox", "free", 3.0, "ReplyButton"),
    ("Like Update", "Project Feed", "free", 5.0, "LikeButton"),
    ("Edit Profile", "Profile", "free", 0.8, "EditProfileButton"),
    ("Toggle Notifications", "Mobile Settings", "free", 0.5, "NotificationSwitch"),
)

# Track types: name, app, popularity, sent from a server (server = "__apitrackevent__")?
_TRACK_TYPES = (
    ("Report Exported", WEB_APP_ID, 3.0, False),
    ("User Invited", WEB_APP_ID, 1.0, False),
    ("Search Performed", WEB_APP_ID, 5.0, False),
    ("Plan Upgraded", WEB_APP_ID, 0.3, True),
    ("Mobile Sign In", MOBILE_APP_ID, 4.0, False),
    ("Push Notification Opened", MOBILE_APP_ID, 2.0, False),
)

_PENDO_USERS = (
    ("dana.admin@acmeprojects.example", "Dana", "Okafor"),
    ("lee.pm@acmeprojects.example", "Lee", "Marchetti"),
    ("sam.cs@acmeprojects.example", "Sam", "Lindqvist"),
)

NPS_QUESTION = "How likely are you to recommend Acme Projects to a friend or colleague?"
NPS_REASON_QUESTION = "What is the most important reason for your score?"
ROADMAP_QUESTION = "Which should we build next?"
ROADMAP_CHOICES = ("Gantt charts", "Time tracking", "Client portal", "Offline mode")


@dataclass
class Guide:
    """A guide's object plus what the guide-event generator needs to know about it."""

    obj: dict[str, Any]
    audience_plans: tuple[str, ...]  # plans whose visitors may see it (empty: everyone)
    reach: float  # chance that an eligible, active visitor sees it
    shown_from_ms: int
    shown_until_ms: int  # exclusive; 0 means "never shown"
    new_visitors_only: bool = False


@dataclass
class Catalog:
    """Pendo-shaped catalog objects and the arrays the event generator samples from."""

    apps: list[dict[str, Any]]
    pages: list[dict[str, Any]]
    features: list[dict[str, Any]]
    track_types: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    guides: list[Guide]
    users: list[dict[str, Any]]
    page_app: np.ndarray  # app index of each page
    page_weight: np.ndarray
    feature_app: np.ndarray
    feature_weight: np.ndarray
    feature_tier: np.ndarray  # index into PLANS
    track_app: np.ndarray
    track_weight: np.ndarray
    track_server_side: np.ndarray  # bool
    untagged_urls: list[str]


def _user(user_id: str, email: str, first: str, last: str, last_login_ms: int) -> dict[str, Any]:
    """A Pendo user (an author of catalog objects and reports), as the API embeds one."""
    return {
        "id": user_id,
        "username": email,
        "first": first,
        "last": last,
        "role": 8,
        "userType": "",
        "lastLogin": last_login_ms,
        "hasLoggedIn": True,
        # An integer, 0 for a user not deleted: connectors' schemas from real answers type it an
        # integer (airbyte's) or leave it out (null is seen nowhere), and 0 is Pendo's "never"
        # in the same objects (resetAt, publishedAt...).
        "deletedAt": 0,
        "visitorIds": [],  # Pendo users whose own visitor ids are tracked list them here
    }


class _Stamper:
    """Creation/update timestamps and authors for catalog objects, drawn from one generator."""

    def __init__(self, rng: np.random.Generator, now_ms: int, users: list[dict[str, Any]]) -> None:
        self.rng, self.now_ms, self.users = rng, now_ms, users

    def __call__(self, obj: dict[str, Any], created_days_ago: float) -> dict[str, Any]:
        created = self.now_ms - int(created_days_ago * DAY_MS) - int(self.rng.integers(0, DAY_MS))
        # Anywhere up to now: an incremental sync from a recent start date sees recent edits.
        updated = created + int(self.rng.integers(0, max(1, self.now_ms - created)))
        creator, updater = (self.users[int(i)] for i in self.rng.integers(0, len(self.users), 2))
        obj.update(
            createdAt=created,
            createdByUser=dict(creator),
            lastUpdatedAt=updated,
            lastUpdatedByUser=dict(updater),
            rootVersionId=obj["id"],
            stableVersionId=f"{obj['id']}-{updated}",
            dirty=False,
        )
        return obj


def _processing_times(obj: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """The times of Pendo's data processing that tagged pages, features and track types carry.

    ``dailyMergeFirst``/``dailyRollupFirst``: the first day whose data was merged and rolled up
    for the object (the day it was created); ``validThrough``: processed data reaches the start
    of the current hour.
    """
    first_day = obj["createdAt"] - obj["createdAt"] % DAY_MS
    obj.update(
        dailyMergeFirst=first_day,
        dailyRollupFirst=first_day,
        validThrough=now_ms - now_ms % 3_600_000,
    )
    return obj


def _group_ref(group: dict[str, Any]) -> dict[str, Any]:
    """How a catalog object refers to its product area."""
    return {
        "id": group["id"],
        "name": group["name"],
        "color": group["color"],
        "description": group["description"],
    }


def build_catalog(rng: np.random.Generator, now_ms: int, window_days: int) -> Catalog:
    """Build the catalog of the synthetic product.

    Parameters
    ----------
    rng : numpy.random.Generator
        The catalog's own random stream.
    now_ms : int
        The sandbox clock; every object was created before it.
    window_days : int
        Days of event history; guides are published and retired inside this window.
    """
    app_index = {app["id"]: i for i, app in enumerate(APPS)}
    users = [
        _user(uid, *u, last_login_ms=now_ms - (i + 1) * 5 * 3_600_000)
        for i, (uid, u) in enumerate(
            zip(catalog_ids(rng, len(_PENDO_USERS)), _PENDO_USERS, strict=True)
        )
    ]
    stamp = _Stamper(rng, now_ms, users)

    groups = []
    for gid, (name, color, description) in zip(
        catalog_ids(rng, len(_PRODUCT_AREAS)), _PRODUCT_AREAS, strict=True
    ):
        groups.append(
            stamp(
                {"id": gid, "name": name, "color": color, "description": description, "items": []},
                500,
            )
        )
    group_by_name = {g["name"]: g for g in groups}

    pages: list[dict[str, Any]] = []
    for pid, (name, app_id, path, area, _w) in zip(
        catalog_ids(rng, len(_PAGES)), _PAGES, strict=True
    ):
        host = _APP_HOSTS[app_id]
        rule = f"//*{path}"
        page: dict[str, Any] = {
            "id": pid,
            "appId": app_id,
            "name": name,
            "kind": "Page",
            "group": _group_ref(group_by_name[area]),
            "rules": [
                {
                    "rule": rule,
                    "designerHint": host + path.replace("*", "42"),
                    "parsedRule": "^https?://[^/]*"
                    + path.replace("*", "[^/]+")
                    + "/?(?:\\?.*)?(?:#.*)?$",
                }
            ],
            "rulesjson": "",
            "isCoreEvent": name in ("Dashboard", "Project Detail", "Home"),
            "isAutoTagged": False,
            "suggestedName": "",
            "suggestedMatch": "",
            "color": "",
        }
        pages.append(_processing_times(stamp(page, float(rng.uniform(200, 450))), now_ms))
    page_by_name = {p["name"]: p for p in pages}

    features = []
    for fid, (name, page_name, _tier, _w, selector) in zip(
        catalog_ids(rng, len(_FEATURES)), _FEATURES, strict=True
    ):
        page = page_by_name[page_name]
        feature = {
            "id": fid,
            "appId": page["appId"],
            "name": name,
            "kind": "Feature",
            "group": dict(page["group"]),
            "pageId": page["id"],
            "elementPathRules": [selector],
            "appWide": False,
            "eventPropertyConfigurations": [],
            "elementSelectionType": "custom",  # tagged by a rule written in the designer
            "suggestedMatch": "",
            "isCoreEvent": False,
            "color": "",
        }
        features.append(_processing_times(stamp(feature, float(rng.uniform(150, 400))), now_ms))

    track_types = []
    for tid, (name, app_id, _w, server_side) in zip(
        catalog_ids(rng, len(_TRACK_TYPES)), _TRACK_TYPES, strict=True
    ):
        area = (
            "Mobile"
            if app_id == MOBILE_APP_ID
            else ("Administration" if server_side else "Analytics")
        )
        track = {
            "id": tid,
            "appId": app_id,
            "name": name,
            "kind": "TrackType",
            "group": _group_ref(group_by_name[area]),
            "trackTypeName": name,
            "trackTypeRules": [name],
            "eventPropertyNameList": ["plan"] if server_side else [],
            "isCoreEvent": False,
            "color": "",
        }
        track_types.append(_processing_times(stamp(track, float(rng.uniform(100, 300))), now_ms))

    for item_type, objects in (("page", pages), ("feature", features), ("trackType", track_types)):
        for obj in objects:
            group_by_name[obj["group"]["name"]]["items"].append(
                {"itemId": obj["id"], "itemType": item_type}
            )
    for group in groups:
        group["length"] = len(group["items"])

    guides = _build_guides(rng, now_ms, window_days, stamp, page_by_name)
    return Catalog(
        apps=[dict(app) for app in APPS],
        pages=pages,
        features=features,
        track_types=track_types,
        groups=groups,
        guides=guides,
        users=users,
        page_app=np.array([app_index[p[1]] for p in _PAGES], dtype=np.int32),
        page_weight=np.array([p[4] for p in _PAGES]),
        feature_app=np.array(
            [app_index[page_by_name[f[1]]["appId"]] for f in _FEATURES], dtype=np.int32
        ),
        feature_weight=np.array([f[3] for f in _FEATURES]),
        feature_tier=np.array([PLANS.index(f[2]) for f in _FEATURES], dtype=np.int32),
        track_app=np.array([app_index[t[1]] for t in _TRACK_TYPES], dtype=np.int32),
        track_weight=np.array([t[2] for t in _TRACK_TYPES]),
        track_server_side=np.array([t[3] for t in _TRACK_TYPES], dtype=bool),
        untagged_urls=[
            _APP_HOSTS[WEB_APP_ID] + "/labs/experiments",
            _APP_HOSTS[WEB_APP_ID] + "/settings/notifications",
            _APP_HOSTS[WEB_APP_ID] + "/search?q=roadmap",
            _APP_HOSTS[MOBILE_APP_ID] + "/onboarding",
        ],
    )


# Guides: name, app, state, plans in the audience, reach, launch method,
# [(step type, page, poll kinds)],
# shown from / until as fractions of the event window (0 = window start, 1 = now).
_GuideSpec = tuple[
    str, int, str, tuple[str, ...], float, str, list[tuple[str, str, tuple[str, ...]]], float, float
]
_GUIDES: tuple[_GuideSpec, ...] = (
    (
        "Welcome to Acme Projects",
        WEB_APP_ID,
        "public",
        (),
        0.9,
        "auto",
        [
            ("lightbox", "Dashboard", ()),
            ("tooltip", "Projects", ()),
            ("tooltip", "Project Detail", ()),
        ],
        0.0,
        1.0,
    ),
    (
        "New: AI Summaries",
        WEB_APP_ID,
        "public",
        ("pro", "enterprise"),
        0.6,
        "auto",
        [("lightbox", "Report Builder", ())],
        0.55,
        1.0,
    ),
    (
        "Acme Projects NPS",
        WEB_APP_ID,
        "public",
        (),
        0.35,
        "auto",
        [("poll", "Dashboard", ("nps",)), ("poll", "Dashboard", ("freeform",))],
        0.3,
        1.0,
    ),
    (
        "Roadmap vote",
        WEB_APP_ID,
        "public",
        ("starter", "pro", "enterprise"),
        0.25,
        "badge",
        [("poll", "Projects", ("picklist",))],
        0.2,
        0.8,
    ),
    (
        "Scheduled maintenance",
        WEB_APP_ID,
        "public",
        (),
        0.7,
        "auto",
        [("banner", "Dashboard", ())],
        0.6,
        0.65,
    ),
    (
        "Mobile tips",
        MOBILE_APP_ID,
        "public",
        (),
        0.5,
        "auto",
        [("lightbox", "Home", ()), ("tooltip", "Inbox", ())],
        0.1,
        1.0,
    ),
    (
        "Billing page redesign (beta)",
        WEB_APP_ID,
        "draft",
        (),
        0.0,
        "auto",
        [("lightbox", "Billing", ())],
        1.0,
        0.0,
    ),
    (
        "Legacy onboarding tour",
        WEB_APP_ID,
        "disabled",
        (),
        0.0,
        "auto",
        [("lightbox", "Dashboard", ())],
        0.0,
        0.0,
    ),
)


def _poll(poll_id: str, kind: str) -> dict[str, Any]:
    if kind == "nps":
        return {
            "id": poll_id,
            "question": NPS_QUESTION,
            "numericResponses": list(range(11)),
            "idResponses": {},
            "attributes": {"type": "NPSRating"},
        }
    if kind == "freeform":
        return {
            "id": poll_id,
            "question": NPS_REASON_QUESTION,
            "numericResponses": [],
            "idResponses": {},
            "attributes": {"type": "FreeForm"},
        }
    return {
        "id": poll_id,
        "question": ROADMAP_QUESTION,
        "numericResponses": [],
        "idResponses": {str(i): choice for i, choice in enumerate(ROADMAP_CHOICES)},
        "attributes": {"type": "PickList"},
    }


def _build_guides(
    rng: np.random.Generator,
    now_ms: int,
    window_days: int,
    stamp: _Stamper,
    page_by_name: dict[str, Any],
) -> list[Guide]:
    """Guide objects with steps and polls, published and retired at the table's window fractions."""
    window_start = now_ms - window_days * DAY_MS
    guides: list[Guide] = []
    for gid, spec in zip(catalog_ids(rng, len(_GUIDES)), _GUIDES, strict=True):
        name, app_id, state, plans, reach, launch, step_specs, shown_from, shown_until = spec
        steps: list[dict[str, Any]] = []
        polls: list[dict[str, Any]] = []
        for rank, (step_type, page_name, poll_kinds) in enumerate(step_specs):
            step_id = catalog_ids(rng, 1)[0]
            poll_ids = catalog_ids(rng, len(poll_kinds)) if poll_kinds else []
            polls.extend(_poll(pid, kind) for pid, kind in zip(poll_ids, poll_kinds, strict=True))
            base = f"https://cdn.pendo.example/guide-content/{gid}/{step_id}"
            page = page_by_name[page_name]
            steps.append(
                {
                    "id": step_id,
                    "guideId": gid,
                    "name": f"{name}: step {rank + 1}",
                    "type": step_type,
                    "pageId": page["id"],
                    "regexUrlRule": page["rules"][0]["parsedRule"],
                    "launchUrl": page["rules"][0]["designerHint"],
                    "domUrl": base + ".dom.json",
                    "templateId": f"building-block-{step_type}",
                    "elementPathRule": "",
                    "contentType": "text/html; charset=utf-8",
                    "contentUrl": base + ".html",
                    "contentUrlCss": base + ".css",
                    "contentUrlJs": base + ".js",
                    "rank": rank + 1,
                    "advanceMethod": "button",
                    "attributes": {},
                    "pollIds": poll_ids,
                    "resetAt": 0,
                }
            )
        from_ms = window_start + int(shown_from * window_days * DAY_MS)
        until_ms = window_start + int(shown_until * window_days * DAY_MS)
        guide: dict[str, Any] = {
            "id": gid,
            "appId": app_id,
            "appIds": [app_id],
            "name": name,
            "description": "",
            "kind": "Guide",
            "state": state,
            "launchMethod": launch,
            "isMultiStep": len(steps) > 1,
            "isModule": False,
            "isTopLevel": False,
            "isTraining": False,
            "steps": steps,
            "polls": polls,
            "attributes": {
                "type": "building-block",
                "device": {"type": "mobile" if app_id == MOBILE_APP_ID else "desktop"},
                "badge": None,
                "priority": len(guides) + 1,
            },
            "audience": _audience(plans),
            "audienceUiHint": {"filters": []},
            "publishedAt": from_ms if state == "public" else 0,
            "showsAfter": from_ms if state == "public" else 0,
            "expiresAfter": until_ms if state == "public" and shown_until < 1.0 else 0,
            "resetAt": 0,
            "publishedEver": state != "draft",  # the disabled guide was public before
            "recurrence": 0,  # shown once, never again
            "recurrenceEligibilityWindow": 0,
            "emailState": "",
            "editorType": "visualDesigner",
            "authoredLanguage": "en-US",
            "resourceCenterId": "",
            # Objects even when unused (no conversion goal, no experiment): airbyte's schema,
            # imported from real answers, types both objects; their fields at Pendo's zero values.
            "conversion": {"attributionWindow": 0, "itemId": "", "itemType": ""},
            "experiment": {"startTime": 0, "endTime": 0, "groupSize": 0, "notificationDuration": 0},
            "children": [],
            "minAgentVersion": "",
            "originId": "",
        }
        created_days_ago = max(window_days * (1 - shown_from), 1) + 14
        stamp(guide, created_days_ago)
        for step in guide["steps"]:
            step["lastUpdatedAt"] = guide["lastUpdatedAt"]
        guides.append(
            Guide(
                obj=guide,
                audience_plans=plans,
                reach=reach,
                shown_from_ms=from_ms if state == "public" else 0,
                shown_until_ms=min(until_ms, now_ms) if state == "public" else 0,
                new_visitors_only=name.startswith("Welcome"),
            )
        )
    return guides


def _audience(plans: tuple[str, ...]) -> list[dict[str, Any]]:
    """A guide's audience: itself an aggregation pipeline, as in Pendo."""
    steps: list[dict[str, Any]] = [{"source": {"visitors": None}}, {"identified": "visitorId"}]
    if plans:
        condition = " || ".join(f'account.metadata.agent.plan == "{plan}"' for plan in plans)
        steps += [
            {"bulkExpand": {"account": {"account": "metadata.auto.accountid"}}},
            {"filter": condition},
        ]
    return steps
