"""The synthetic Pendo subscription that the sandbox serves: what it holds.

A :class:`Subscription` holds what a real subscription holds (apps, accounts, visitors, the catalog
of pages/features/track types/guides/product areas, raw events, guide and poll events, segments,
reports and the metadata schema), with Pendo's field names and types. ``generate.generate`` builds
one, deterministically from ``(seed, size)``.

Raw page/click/track events are kept columnar (:class:`EventTable`, numpy arrays) because the
``large`` size holds millions of them; the engine groups them into Pendo's event-source rows.
Objects (visitors, accounts, catalog items, guide/poll events) are plain JSON-like dicts exactly as
the API emits them.

The one seam for where event rows come from is :attr:`Subscription.grained`: ``None`` for a
generated subscription (the engine groups ``events``), or a :class:`~.grained.GrainedEvents`
store of rows extracted at a grain (``extract.load_extract``), whose ``events`` table is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from pendo_nb.sandbox.subscription.grained import GrainedEvents
from pendo_nb.sandbox.subscription.rwlock import ReadWriteLock

# Event kinds in EventTable.kind.
PAGE_LOAD = 0  # object: index into Subscription.pages, or -1 for an untagged page load
CLICK = 1  # object: index into Subscription.features, or -1 for an untagged click
TRACK = 2  # object: index into Subscription.track_types


@dataclass
class EventTable:
    """Raw page loads, clicks and track events, one array element per event, sorted by ``ts``.

    Indices point into the lists of the owning :class:`Subscription`: ``visitor`` into
    ``visitor_ids``, ``account`` into ``account_ids`` (-1: no account, emitted as ``""``),
    ``app`` into ``apps``, ``object`` into pages/features/track_types by ``kind``, and ``ip``,
    ``server``, ``user_agent`` into ``remote_ips``, ``servers`` and ``user_agents``.
    """

    ts: np.ndarray  # int64 epoch ms
    visitor: np.ndarray  # int32
    account: np.ndarray  # int32
    app: np.ndarray  # int32
    kind: np.ndarray  # int8 (PAGE_LOAD, CLICK, TRACK)
    object: np.ndarray  # int32
    ip: np.ndarray  # int32
    server: np.ndarray  # int32
    user_agent: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.ts)


@dataclass
class Subscription:
    """Everything the sandbox knows; see the module docstring."""

    seed: int
    size: str
    now_ms: int  # the sandbox's fixed clock ("now()"), epoch ms
    timezone: ZoneInfo  # the subscription time zone: day/hour/week/month buckets follow it
    apps: list[
        dict[str, Any]
    ]  # {"id": -323232, "name": ..., "platform": "web" | "ios" | "android" ...}
    account_ids: list[str]
    visitor_ids: list[str]
    accounts: dict[str, dict[str, Any]]  # accountId -> row as the `accounts` source emits it
    visitors: dict[str, dict[str, Any]]  # visitorId -> row as the `visitors` source emits it
    schema: dict[
        str, dict[str, Any]
    ]  # "visitor" | "account" -> {group: {field: definition}} (reference 4.4)
    pages: list[dict[str, Any]]
    features: list[dict[str, Any]]
    track_types: list[dict[str, Any]]
    guides: list[dict[str, Any]]
    groups: list[dict[str, Any]]  # product areas
    remote_ips: list[str]
    servers: list[str]
    user_agents: list[str]
    events: EventTable
    guide_events: list[dict[str, Any]]  # ungrouped guideEvents rows, sorted by browserTime
    poll_events: list[dict[str, Any]]  # ungrouped pollEvents rows, sorted by browserTime
    segments: list[
        dict[str, Any]
    ]  # {"id", "name", "kind": "visitor"|"account", "filter": "<expression>"}
    reports: list[
        dict[str, Any]
    ]  # report objects (reference 2.5); List reports carry aggregation.pipeline
    do_not_process: dict[str, set[str]] = field(default_factory=dict)  # kind -> ids flagged DNP
    # Reads and aggregations hold lock.reading(), metadata writes lock.writing().
    lock: ReadWriteLock = field(default_factory=ReadWriteLock, repr=False, compare=False)
    # {"name", "version", "os"} of each entry of user_agents ("" for the server-side agent)
    parsed_user_agents: list[dict[str, Any]] = field(default_factory=list)
    # URLs of untagged pages (visitor history shows one for an untagged page load)
    untagged_urls: list[str] = field(default_factory=list)
    window_start_ms: int = 0  # local midnight starting the first day of events
    # Where event-source rows come from: None groups the raw `events` (a generated
    # subscription); a GrainedEvents store holds rows already grouped at a grain (an extract).
    grained: GrainedEvents | None = None
