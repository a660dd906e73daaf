"""Visitor history: what one visitor did in the 24 hours from a start time (reference 2.4).

Consecutive events on the same page, feature or track type become one item with its first
(``ts``) and last (``lastTs``) time; untagged page loads show their URL; each guide the visitor saw
is an item of its own. Untagged clicks are not part of the history. ``duration`` is
``lastTs - ts`` in milliseconds and ``uri`` points at the object in this API (both undocumented by
Pendo, reference 2.4).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pendo_nb.sandbox.subscription.model import CLICK, PAGE_LOAD, Subscription

DAY_MS = 86_400_000
HISTORY_DAYS = 180  # Pendo keeps visitor history for the last 180 days


class HistoryTooOld(ValueError):
    """The requested window starts more than 180 days before the sandbox clock."""


class VisitorHistory:
    """Answers history requests for one subscription; indexes the events on first use."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self._indexed = False
        self._event_order: np.ndarray = np.empty(0, np.intp)
        self._visitor_bounds: np.ndarray = np.zeros(1, np.intp)
        self._guides_seen: dict[str, list[dict[str, Any]]] = {}
        self._visitor_index: dict[str, int] = {}

    def _index(self) -> None:
        events = self.subscription.events
        # Stable sort by visitor keeps each visitor's events in time order.
        self._event_order = np.argsort(events.visitor, kind="stable")
        sorted_visitors = events.visitor[self._event_order]
        self._visitor_bounds = np.searchsorted(
            sorted_visitors, np.arange(len(self.subscription.visitor_ids) + 1)
        )
        # Only the generated visitors have events; visitors created later are appended after them.
        self._visitor_index = {
            visitor_id: i
            for i, visitor_id in enumerate(
                self.subscription.visitor_ids[: len(self._visitor_bounds) - 1]
            )
        }
        self._guides_seen = {}
        for row in self.subscription.guide_events:
            if row["type"] == "guideSeen":
                self._guides_seen.setdefault(row["visitorId"], []).append(row)
        self._indexed = True

    def items(self, visitor_id: str, start_ms: int) -> list[dict[str, Any]]:
        """History items of ``visitor_id`` in ``[start_ms, start_ms + 24h)``, in time order.

        Raises
        ------
        HistoryTooOld
            When ``start_ms`` is more than 180 days before the sandbox clock.
        """
        sub = self.subscription
        if start_ms < sub.now_ms - HISTORY_DAYS * DAY_MS:
            raise HistoryTooOld(
                f"starttime {start_ms} is more than {HISTORY_DAYS} days before now ({sub.now_ms}); "
                f"visitor history covers only the last {HISTORY_DAYS} days"
            )
        if not self._indexed:
            self._index()
        end_ms = start_ms + DAY_MS
        items = self._event_items(visitor_id, start_ms, end_ms)
        for row in self._guides_seen.get(visitor_id, ()):
            if start_ms <= row["browserTime"] < end_ms:
                items.append(self._guide_item(row))
        items.sort(key=lambda item: item["ts"])  # stable: events before guides at equal times
        return items

    def _event_items(self, visitor_id: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        sub = self.subscription
        v = self._visitor_index.get(visitor_id)
        if v is None:  # created by a metadata write: no events
            return []
        positions = self._event_order[self._visitor_bounds[v] : self._visitor_bounds[v + 1]]
        ts_all = sub.events.ts[positions]
        window = positions[(ts_all >= start_ms) & (ts_all < end_ms)]
        events = sub.events
        items: list[dict[str, Any]] = []
        previous_key = None
        for i in window.tolist():
            kind, obj = int(events.kind[i]), int(events.object[i])
            if kind == CLICK and obj < 0:
                continue
            key = (kind, obj, int(events.app[i]))
            ts = int(events.ts[i])
            if key == previous_key:
                items[-1]["lastTs"] = ts
                items[-1]["duration"] = ts - items[-1]["ts"]
                continue
            previous_key = key
            items.append(
                self._event_item(kind, obj, ts, int(events.app[i]), int(events.user_agent[i]))
            )
        return items

    def _event_item(
        self, kind: int, obj: int, ts: int, app: int, user_agent: int
    ) -> dict[str, Any]:
        sub = self.subscription
        item: dict[str, Any]
        if kind == PAGE_LOAD and obj < 0:
            # Untagged pages have no id, only their URL (picked from the app's untagged URLs).
            item = {
                "type": "untagged",
                "untaggedUrl": sub.untagged_urls[ts % len(sub.untagged_urls)],
            }
            item.update(ts=ts, lastTs=ts)
        else:
            type_, id_field, resource, objects = {
                PAGE_LOAD: ("page", "pageId", "page", sub.pages),
                CLICK: ("feature", "featureId", "feature", sub.features),
            }.get(kind, ("track", "trackTypeId", "tracktype", sub.track_types))
            object_id = objects[obj]["id"]
            item = {"type": type_, id_field: object_id, "ts": ts, "lastTs": ts}
            item["uri"] = f"/api/v1/{resource}?id={object_id}"
        item["duration"] = 0
        item["appId"] = sub.apps[app]["id"]
        item["parsedUserAgent"] = dict(sub.parsed_user_agents[user_agent])
        return item

    def _guide_item(self, row: dict[str, Any]) -> dict[str, Any]:
        user_agents = self.subscription.user_agents
        agent = row["userAgent"]
        parsed = self.subscription.parsed_user_agents[user_agents.index(agent)]
        return {
            "type": "guide",
            "guideId": row["guideId"],
            "guideStepId": row["guideStepId"],
            "ts": row["browserTime"],
            "lastTs": row["browserTime"],
            "uri": f"/api/v1/guide?id={row['guideId']}",
            "duration": 0,
            "appId": row["appId"],
            "parsedUserAgent": dict(parsed),
        }
