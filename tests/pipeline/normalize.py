"""What "equal in meaning" means for an aggregation body, written independently of the builder.

Pendo ignores ``channelId``, ``response.location`` and a stray ``request.sort`` (reference 3.1),
defaults the mime type to JSON, reads ``{}`` and ``null`` source parameters alike, and accepts
``timeSeries`` beside ``source`` or inside its parameters as well as inside it (reference 3.2).
"""

from __future__ import annotations

import copy

_NESTED = {"fork", "spawn"}


def normalize_body(body):
    """The canonical envelope of any accepted body (full envelope, request only, bare list)."""
    body = copy.deepcopy(body)
    if isinstance(body, list):
        body = {"request": {"pipeline": body}}
    elif "request" not in body:
        body = {"request": body}
    request = {
        key: value
        for key, value in body["request"].items()
        if key in ("pipeline", "name", "requestId")
    }
    request["pipeline"] = normalize_steps(request["pipeline"])
    mime_type = (body.get("response") or {}).get("mimeType") or "application/json"
    return {"response": {"mimeType": mime_type}, "request": request}


def normalize_steps(steps):
    return [_normalize_step(step) for step in steps]


def _normalize_step(step):
    if "source" in step and "timeSeries" in step:
        step = {"source": {**step["source"], "timeSeries": step["timeSeries"]}}
    ((op, value),) = step.items()
    if op == "source":
        value = dict(value)
        for name, params in list(value.items()):
            if isinstance(params, dict) and "timeSeries" in params:
                value["timeSeries"] = params["timeSeries"]
                value[name] = {k: v for k, v in params.items() if k != "timeSeries"}
        value = {key: (None if item == {} else item) for key, item in value.items()}
    elif op in _NESTED:
        value = [normalize_steps(branch) for branch in value]
    elif op == "merge":
        value = {**value, "pipeline": normalize_steps(value["pipeline"])}
    return {op: value}
