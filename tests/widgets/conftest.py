"""Fixtures for driving widgets without a browser: a client on the shared sandbox, raw HTTP."""

from __future__ import annotations

import json

import ipywidgets
import pytest
import requests


@pytest.fixture
def client(sandbox):
    """A client of the shared (read-only by convention) sandbox, without a cache."""
    from pendo_nb import connect

    return connect(sandbox=sandbox, cache=False)


@pytest.fixture
def raw_get(sandbox):
    """GET a sandbox API path with plain requests: expectations never go through pendo_nb."""

    def _get(path: str, *, text: bool = False):
        response = requests.get(
            f"{sandbox.url}/api/v1{path}",
            headers={"x-pendo-integration-key": sandbox.key},
            timeout=10,
        )
        response.raise_for_status()
        return response.text if text else response.json()

    return _get


@pytest.fixture
def widget_state():
    """``widget_state(widget)``: the synced state of a widget and everything inside, as JSON."""
    return _widget_tree_state


def _widget_tree_state(widget: ipywidgets.Widget) -> str:
    states, pending, seen = [], [widget], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        states.append(current.get_state())
        for name in current.keys:
            value = getattr(current, name)
            for item in value if isinstance(value, list | tuple) else [value]:
                if isinstance(item, ipywidgets.Widget):
                    pending.append(item)
    return json.dumps(states, default=str)
