"""One extract of a small sandbox at each grain, with the live answers of the corpus taken
before the sandbox stops (the local connection then answers with no server but its own); and
a short extract to damage, one fresh copy per test."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

import pendo_nb as pn
from pendo_nb.sandbox import Sandbox

from .corpus import aggregations, report_ids

#: From a month start before the small sandbox's first event (2026-10-03), through its clock
#: (2026-11-01T12:00Z): month, week and "last N days" series of the corpus all fall inside.
START = "2026-09-01"


@dataclass
class Extracted:
    hour: Path
    day: Path
    live: dict[str, pd.DataFrame | Exception] = field(default_factory=dict)
    reports: dict[str, pd.DataFrame | Exception] = field(default_factory=dict)


def _answer(call) -> pd.DataFrame | Exception:
    try:
        return call()
    except pn.PendoError as error:
        return error


@pytest.fixture(scope="session")
def extracted(tmp_path_factory) -> Extracted:
    folder = tmp_path_factory.mktemp("extracts")
    with Sandbox(size="small") as server:
        client = pn.connect(sandbox=server, cache=False)
        pn.extract(folder / "hour", START, grain="hour", progress=False, client=client)
        pn.extract(folder / "day", START, grain="day", progress=False, client=client)
        result = Extracted(folder / "hour", folder / "day")
        for name, body in aggregations().items():
            result.live[name] = _answer(lambda body=body: client.aggregate(body))
        for report_id in report_ids():
            result.reports[report_id] = _answer(lambda i=report_id: client.report(i))
        client.close()
    return result


@pytest.fixture(scope="session")
def small_extract(sandbox, tmp_path_factory) -> Path:
    """A week of the shared sandbox, extracted at the day grain: never changed."""
    folder = tmp_path_factory.mktemp("integrity") / "x"
    client = pn.PendoClient(sandbox.key, base_url=sandbox.url, cache=False, tz="UTC")
    pn.extract(folder, "2026-10-25", client=client, progress=False)
    return folder


@pytest.fixture
def extract_copy(small_extract, tmp_path) -> Path:
    """A copy of ``small_extract`` a test may damage."""
    copy = tmp_path / "copy"
    shutil.copytree(small_extract, copy)
    return copy
