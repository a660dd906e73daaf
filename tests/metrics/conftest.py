"""Sandboxes for the metrics tests: one in UTC, one in New York across the end of daylight saving
time (1 November 2026), each with a client connected to it."""

from __future__ import annotations

import pytest

import pendo_nb as pn
from pendo_nb.sandbox import Sandbox

#: The New York sandbox's clock: its 30 days of data run from 11 October to 10 November 2026.
NEW_YORK_NOW = "2026-11-10T17:00:00Z"


@pytest.fixture(scope="session")
def new_york_sandbox():
    with Sandbox(size="small", timezone="America/New_York", now=NEW_YORK_NOW) as server:
        yield server


@pytest.fixture(params=["UTC", "America/New_York"])
def zone(request, sandbox, new_york_sandbox):
    """(server, time zone, client) for each zone; the client asks the server each time."""
    server = sandbox if request.param == "UTC" else new_york_sandbox
    client = pn.connect(sandbox=server, cache=False)
    return server, request.param, client
