"""Helpers for the sandbox tests: an HTTP helper bound to a sandbox, and the raw events as pandas.

Expected values in these tests come from the generator's raw data (the ``EventTable`` arrays and
the metadata dicts) through pandas, never from the engine or the server under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import requests

from pendo_nb.sandbox.subscription.model import CLICK, PAGE_LOAD, TRACK, Subscription

DAY_MS = 86_400_000


class Api:
    """``requests`` calls to one sandbox, with its read-write key unless told otherwise."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()

    def request(self, method: str, path: str, *, key: str | None = "rw", headers=None, **kwargs):
        all_headers = dict(headers or {})
        if key == "rw":
            all_headers["x-pendo-integration-key"] = self.sandbox.key
        elif key == "ro":
            all_headers["x-pendo-integration-key"] = self.sandbox.read_only_key
        elif key is not None:
            all_headers["x-pendo-integration-key"] = key
        return self.session.request(
            method, self.sandbox.url + path, headers=all_headers, timeout=60, **kwargs
        )

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.request("POST", path, **kwargs)

    def aggregate(self, pipeline: list, **kwargs):
        body = {"response": {"mimeType": "application/json"}, "request": {"pipeline": pipeline}}
        return self.post("/api/v1/aggregation", json=body, **kwargs)


def raw_events(sub: Subscription) -> pd.DataFrame:
    """One row per raw event, with ids resolved from the lookup lists."""
    e = sub.events
    visitor_ids = np.array(sub.visitor_ids, dtype=object)
    account_ids = np.array([*sub.account_ids, ""], dtype=object)  # index -1 -> ""
    app_ids = np.array([a["id"] for a in sub.apps])
    object_ids = np.full(len(e), None, dtype=object)
    for kind, objects in ((PAGE_LOAD, sub.pages), (CLICK, sub.features), (TRACK, sub.track_types)):
        ids = np.array([o["id"] for o in objects] + [None], dtype=object)  # index -1 -> None
        mask = e.kind == kind
        object_ids[mask] = ids[e.object[mask]]
    return pd.DataFrame(
        {
            "ts": e.ts,
            "visitorId": visitor_ids[e.visitor],
            "accountId": account_ids[e.account],
            "appId": app_ids[e.app],
            "kind": e.kind,
            "objectId": object_ids,
            "remoteIp": np.array(sub.remote_ips, dtype=object)[e.ip],
            "server": np.array(sub.servers, dtype=object)[e.server],
            "userAgent": np.array(sub.user_agents, dtype=object)[e.user_agent],
        }
    )


def utc_day_start(ms: int) -> int:
    return ms - ms % DAY_MS
