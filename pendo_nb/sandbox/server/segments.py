"""``GET /segment``: the subscription's saved segments as Pendo's segment objects.

Pendo documents the segment endpoints (reference 2.9) but not the object's fields; the sandbox
shows the fields every Pendo object carries (``id``, ``name``, ``kind: "Segment"``, creation and
update times and users, version ids) and the segment's definition as the aggregation ``pipeline``
that selects its members, the form Pendo keeps segments in.
"""

from __future__ import annotations

from typing import Any


def segment_object(segment: dict[str, Any]) -> dict[str, Any]:
    """One saved segment (``subscription.segments`` entry) as ``GET /segment`` lists it."""
    source = "visitors" if segment["kind"] == "visitor" else "accounts"
    return {
        "id": segment["id"],
        "name": segment["name"],
        "kind": "Segment",
        "shared": True,
        "createdAt": segment["createdAt"],
        "createdByUser": segment["createdByUser"],
        "lastUpdatedAt": segment["lastUpdatedAt"],
        "lastUpdatedByUser": segment["lastUpdatedByUser"],
        "rootVersionId": segment["id"],
        "stableVersionId": f"{segment['id']}-{segment['lastUpdatedAt']}",
        "pipeline": [{"source": {source: None}}, {"filter": segment["filter"]}],
    }
