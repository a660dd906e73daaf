"""The same metric on the sandbox, on a replay of it and on a local extract of it gives equal
frames; summary() carries each metric's own headline."""

from __future__ import annotations

import pandas as pd
import pytest

import pendo_nb as pn

#: A month start before either sandbox's first event (the earliest, New York's, is 11 October):
#: every metric's range, its 7- and 30-day denominators and first visits fall inside the extract.
EXTRACT_START = "2026-09-01"
CORE_EVENTS = ["Dashboard", "Create Project", "Report Exported"]
#: Each metric as a notebook calls it; a 40-day range is fetched in month windows, and the
#: calls without dates read the server's clock (yesterday) first.
CALLS = {
    "active": lambda c: pn.metrics.active("account", "week", client=c),
    "stickiness": lambda c: pn.metrics.stickiness(
        "DAU/WAU", "visitor", "2026-09-25", "2026-11-03", hide_weekends=True, client=c
    ),
    "retention": lambda c: pn.metrics.retention("week", "visitor", periods=3, client=c),
    "frequency": lambda c: pn.metrics.frequency("account", client=c),
    "time_on_app": lambda c: pn.metrics.time_on_app("visitor", client=c),
    "feature_adoption": lambda c: pn.metrics.feature_adoption(CORE_EVENTS, client=c),
    "nps": lambda c: pn.metrics.nps("Acme Projects NPS", period="week", client=c),
    "guide_conversion": lambda c: pn.metrics.guide_conversion(
        "Welcome to Acme Projects", "Create Project", client=c
    ),
    "pes": lambda c: pn.metrics.pes(CORE_EVENTS, "account", client=c),
    "summary": lambda c: pn.metrics.summary(
        core_events=CORE_EVENTS, poll="Acme Projects NPS", client=c
    ),
}


def _assert_same_metrics(expected: dict, client: pn.PendoClient) -> None:
    """Each of ``CALLS`` on ``client`` gives the (non-empty) frame, headline and pipelines of
    ``expected``."""
    for name, call in CALLS.items():
        got = call(client)
        assert not expected[name].empty, name
        pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(expected[name]), obj=name)
        assert got.headline == expected[name].headline, name
        assert got.attrs["pipelines"] == expected[name].attrs["pipelines"], name


def test_a_replay_gives_the_frames_of_the_sandbox(zone, tmp_path):
    server, tz, _ = zone
    path = tmp_path / "metrics.pendo"
    live = pn.connect(sandbox=server, record=path, cache=False)
    recorded = {name: call(live) for name, call in CALLS.items()}
    live.close()
    _assert_same_metrics(recorded, pn.connect(replay=path, tz=tz))


def test_a_local_extract_gives_the_frames_of_the_sandbox(zone, tmp_path):
    _, tz, live = zone
    # Day grain: the metrics group by day at the finest; through the server's clock (end=None).
    pn.extract(tmp_path / "extract", EXTRACT_START, progress=False, client=live)
    expected = {name: call(live) for name, call in CALLS.items()}
    local = pn.connect(local=tmp_path / "extract", tz=tz)
    _assert_same_metrics(expected, local)
    local.close()
    live.close()


def test_summary_rows_are_the_metrics_headlines(sandbox):
    client = pn.connect(sandbox=sandbox, cache=False)
    got = pn.metrics.summary("account", "2026-10-15", poll="Acme Projects NPS", client=client)
    values = got.set_index("metric")["value"]
    first, last = "2026-10-01", "2026-10-31"
    month = pn.metrics.active("account", "month", first, last, client=client)
    assert values["active accounts"] == month["active"].item()
    assert values["mean daily active accounts"] == pytest.approx(
        pn.metrics.active("account", "day", first, last, client=client)["active"].mean()
    )
    assert (
        values["stickiness (mean daily DAU/MAU)"]
        == pn.metrics.stickiness("DAU/MAU", "account", first, last, client=client).headline
    )
    assert (
        values["daily minutes per active account"]
        == pn.metrics.time_on_app("account", first, last, client=client).headline
    )
    bands = pn.metrics.frequency("account", last, client=client).set_index("band")
    assert values["highly active accounts (13+ of the last 30 days)"] == bands["share"]["High"]
    assert values["NPS"] == pn.metrics.nps("Acme Projects NPS", first, last, client=client).headline
    assert "PES (provisional)" not in values.index  # only with core_events
    assert len(got.pipelines) >= 6
