"""Guide and poll events: who saw which guide, how far they got, and what they answered.

A visitor in a guide's audience who is active while the guide is live sees it (with the guide's
reach) on the first such day; then, step by step, advances, dismisses or lets it time out. Poll
steps produce ``pollResponse`` rows, which both the ``pollEvents`` and the ``guideEvents`` sources
hold (as in Pendo, where a poll response is a guide event too); every other guide event is a
``guideEvents`` row only, with the fields of reference 4.5.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from pendo_nb.sandbox.subscription.catalog import (
    MOBILE_APP_ID,
    PLANS,
    ROADMAP_CHOICES,
    Catalog,
    Guide,
)
from pendo_nb.sandbox.subscription.events import MOBILE_SERVER, GeneratedEvents
from pendo_nb.sandbox.subscription.identifiers import random_tokens
from pendo_nb.sandbox.subscription.people import Population

# Enough viewers per guide for realistic rates, few enough that `large` stays quick to build.
MAX_VIEWERS_PER_GUIDE = 3000
_GEO = {
    "NA": (("US", "CA", 37.77, -122.42), ("US", "NY", 40.71, -74.0), ("CA", "ON", 43.65, -79.38)),
    "EMEA": (("DE", "BE", 52.52, 13.4), ("GB", "ENG", 51.51, -0.13), ("FR", "IDF", 48.86, 2.35)),
    "APAC": (
        ("JP", "13", 35.68, 139.69),
        ("AU", "NSW", -33.87, 151.21),
        ("SG", "01", 1.29, 103.85),
    ),
    "LATAM": (("BR", "SP", -23.55, -46.63), ("MX", "CMX", 19.43, -99.13)),
}
# NPS score probabilities (0..10) for a happy and an unhappy customer.
_NPS_HAPPY = np.array([1, 0, 1, 1, 1, 3, 4, 10, 18, 28, 33], dtype=float)
_NPS_UNHAPPY = np.array([8, 6, 8, 9, 10, 12, 14, 12, 9, 7, 5], dtype=float)
_REASONS = (
    "Easy to use and the dashboards save me hours",
    "Reports are great but exporting is slow",
    "Missing Gantt charts",
    "Support answered quickly",
    "Too expensive for what we use",
    "The mobile app is handy on the go",
    "Hard to find settings",
)


def build_guide_events(
    rng: np.random.Generator,
    catalog: Catalog,
    population: Population,
    generated: GeneratedEvents,
    day_starts: np.ndarray,
    now_ms: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return ``(guide_events, poll_events)``, each sorted by ``browserTime``."""
    vd_visitor, vd_day = generated.active_visitor_days
    n_visitors = len(population.visitor_ids)
    blocked = np.array(
        [
            population.visitors[v]["metadata"]["pendo"]["blacklistguides"]
            for v in population.visitor_ids
        ]
    )
    primary = population.visitor_accounts[:, 0]
    plan = np.where(primary >= 0, population.account_plan[np.maximum(primary, 0)], -1)
    churned = np.where(
        primary >= 0,
        population.account_end_day[np.maximum(primary, 0)] < len(day_starts) - 1,
        False,
    )
    uses_app = {
        0: population.visitor_apps != 1,  # web app index
        1: population.visitor_apps != 0,
    }
    guide_rows: list[dict[str, Any]] = []
    poll_rows: list[dict[str, Any]] = []
    writer = _RowWriter(rng, catalog, population, generated)
    for guide in catalog.guides:
        if guide.shown_until_ms <= guide.shown_from_ms:
            continue
        app_index = 1 if guide.obj["appId"] == MOBILE_APP_ID else 0
        in_window = (day_starts[vd_day] >= guide.shown_from_ms) & (
            day_starts[vd_day] < guide.shown_until_ms
        )
        first_day = np.full(n_visitors, np.iinfo(np.int32).max, dtype=np.int64)
        np.minimum.at(first_day, vd_visitor[in_window], vd_day[in_window])
        eligible = (first_day < np.iinfo(np.int32).max) & ~blocked & uses_app[app_index]
        if guide.audience_plans:
            eligible &= np.isin(plan, [PLANS.index(p) for p in guide.audience_plans])
        if guide.new_visitors_only:
            eligible &= population.visitor_first_seen_ms < 0
        viewers = np.nonzero(eligible & (rng.random(n_visitors) < guide.reach))[0]
        if len(viewers) > MAX_VIEWERS_PER_GUIDE:
            viewers = np.sort(rng.choice(viewers, MAX_VIEWERS_PER_GUIDE, replace=False))
        for v in viewers.tolist():
            d = int(first_day[v])
            start = int(day_starts[d]) + int(rng.integers(8 * 3600, 18 * 3600)) * 1000
            start = max(
                min(start, now_ms - 3_600_000, int(day_starts[d + 1]) - 3_600_000),
                int(day_starts[d]),
            )
            _walk_guide(rng, writer, guide, v, start, bool(churned[v]), guide_rows, poll_rows)
    guide_rows.sort(key=lambda r: r["browserTime"])
    poll_rows.sort(key=lambda r: r["browserTime"])
    return guide_rows, poll_rows


def _walk_guide(
    rng: np.random.Generator,
    writer: _RowWriter,
    guide: Guide,
    v: int,
    t: int,
    unhappy: bool,
    guide_rows: list[dict[str, Any]],
    poll_rows: list[dict[str, Any]],
) -> None:
    """One visitor's pass through a guide: seen, then advance / dismiss / time out, step by step."""
    steps = guide.obj["steps"]
    polls = {p["id"]: p for p in guide.obj["polls"]}
    reason = guide.obj["launchMethod"]  # guideSeenReason: how the guide was launched
    for rank, step in enumerate(steps):
        seen = writer.guide_row(v, t, "guideSeen", guide, step, seen_reason=reason)
        guide_rows.append(seen)
        t += int(rng.integers(3, 60)) * 1000
        for poll_id in step["pollIds"]:
            poll = polls[poll_id]
            if rng.random() < 0.65:
                answer = _answer(rng, poll, unhappy)
                response = writer.poll_row(v, t, guide, step, poll_id, answer, seen["loadTime"])
                poll_rows.append(response)
                guide_rows.append(writer.as_guide_row(response))
                t += int(rng.integers(2, 20)) * 1000
        outcome = rng.random()
        if outcome < 0.72:
            last = rank == len(steps) - 1
            guide_rows.append(
                writer.guide_row(
                    v, t, "guideActivity", guide, step, button="Done" if last else "Next"
                )
            )
            guide_rows.append(
                writer.guide_row(
                    v,
                    t + 1,
                    "guideAdvanced",
                    guide,
                    step,
                    destination="" if last else steps[rank + 1]["id"],
                )
            )
            t += int(rng.integers(2, 30)) * 1000
        elif outcome < 0.92:
            guide_rows.append(writer.guide_row(v, t, "guideDismissed", guide, step))
            return
        else:
            guide_rows.append(writer.guide_row(v, t + 30_000, "guideTimeout", guide, step))
            return


def _answer(rng: np.random.Generator, poll: dict[str, Any], unhappy: bool) -> int | str:
    """A response to a poll: an NPS score, the id of a pick-list choice, or free text."""
    kind = poll["attributes"]["type"]
    if kind == "NPSRating":
        weights = _NPS_UNHAPPY if unhappy else _NPS_HAPPY
        return int(rng.choice(11, p=weights / weights.sum()))
    if kind == "PickList":
        return str(int(rng.integers(0, len(ROADMAP_CHOICES))))  # the id of the chosen response
    return _REASONS[int(rng.integers(0, len(_REASONS)))]


class _RowWriter:
    """Builds guide/poll event rows with the visitor's context (account, geo, network, browser)."""

    def __init__(
        self,
        rng: np.random.Generator,
        catalog: Catalog,
        population: Population,
        generated: GeneratedEvents,
    ) -> None:
        self.rng = rng
        self.population = population
        self.generated = generated
        self.mobile_server = generated.servers.index(MOBILE_SERVER)
        self.page_url = {p["id"]: p["rules"][0]["designerHint"] for p in catalog.pages}
        n_visitors = len(population.visitor_ids)
        self.geo_pick = rng.integers(0, 3, n_visitors)
        self.event_ids: Iterator[str] = iter(())
        self._contexts: dict[tuple[int, bool], tuple[dict[str, Any], dict[str, Any]]] = {}

    def _event_id(self) -> str:
        token = next(self.event_ids, None)
        if token is None:  # draw ids in batches: one generator call per thousand rows
            self.event_ids = iter(random_tokens(self.rng, 1000, 22))
            token = next(self.event_ids)
        return token

    def _visitor_context(self, v: int, mobile: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        """The fields of a row that depend only on the visitor and the app (computed once)."""
        key = (v, mobile)
        if key not in self._contexts:
            pop, gen = self.population, self.generated
            visitor_id = pop.visitor_ids[v]
            metadata = pop.visitors[visitor_id]["metadata"]
            accounts = metadata["auto"]["accountids"]
            region = pop.accounts[accounts[0]]["metadata"]["agent"]["region"] if accounts else "NA"
            places = _GEO[region]
            country, state, lat, lon = places[int(self.geo_pick[v]) % len(places)]
            ua = int((gen.visitor_mobile_agent if mobile else gen.visitor_web_agent)[v])
            server = self.mobile_server if mobile else int(gen.visitor_web_server[v])
            who = {
                "visitorId": visitor_id,
                "accountId": metadata["auto"]["accountid"],
                "accountIds": accounts,
            }
            where = {
                "country": country,
                "region": state,
                "latitude": lat,
                "longitude": lon,
                "remoteIp": gen.remote_ips[len(pop.account_ids) + v],
                "serverName": gen.servers[server],
                "userAgent": gen.user_agents[ua],
                "language": metadata["agent"].get("language", ""),
            }
            self._contexts[key] = (who, where)
        return self._contexts[key]

    def _context(self, v: int, t: int, guide: Guide, step: dict[str, Any]) -> dict[str, Any]:
        who, where = self._visitor_context(v, guide.obj["appId"] == MOBILE_APP_ID)
        return {
            **who,
            "accountIds": list(who["accountIds"]),
            "appId": guide.obj["appId"],
            "browserTime": t,
            "guideTimestamp": t,
            "guideId": guide.obj["id"],
            "guideStepId": step["id"],
            **where,
            "url": self.page_url[step["pageId"]],
            "eventId": self._event_id(),
        }

    def guide_row(
        self,
        v: int,
        t: int,
        type_: str,
        guide: Guide,
        step: dict[str, Any],
        *,
        seen_reason: str = "",
        button: str = "",
        destination: str = "",
    ) -> dict[str, Any]:
        row = self._context(v, t, guide, step)
        row["type"] = type_
        row["guideSeenReason"] = seen_reason
        row["loadTime"] = int(self.rng.integers(40, 900)) if type_ == "guideSeen" else 0
        row["elementPath"] = ""
        row["uiElementId"] = f"{button.lower()}-button" if button else ""
        row["uiElementType"] = "BUTTON" if button else ""
        row["uiElementText"] = button
        row["uiElementActions"] = [{"action": "advanceGuide"}] if button else []
        row["destinationStepId"] = destination
        return row

    def poll_row(
        self,
        v: int,
        t: int,
        guide: Guide,
        step: dict[str, Any],
        poll_id: str,
        response: str | int,
        load_time: int,
    ) -> dict[str, Any]:
        """A poll response; ``load_time`` is the load time of the step that asked it."""
        row = self._context(v, t, guide, step)
        row["type"] = "pollResponse"
        row["loadTime"] = load_time
        row["pollId"] = poll_id
        row["pollResponse"] = response
        return row

    @staticmethod
    def as_guide_row(poll_row: dict[str, Any]) -> dict[str, Any]:
        """A poll response as a ``guideEvents`` row: the same event, with the guide-event fields."""
        return {
            **poll_row,
            "accountIds": list(poll_row["accountIds"]),
            "guideSeenReason": "",
            "elementPath": "",
            "uiElementId": "",
            "uiElementType": "",
            "uiElementText": "",
            "uiElementActions": [],
            "destinationStepId": "",
        }
