"""Every pipeline of the corpora answers the same from a local extract as from the live sandbox.

The sandbox is stopped before the local connection opens: the local answers come from the
extract's files through the same engine. At hour grain every pipeline is compared; at day grain
those that ask for no hours (the others are refused, naming the grain and the pn.extract call).
"""

from __future__ import annotations

from collections import Counter

import pytest

import pendo_nb as pn

from .corpus import aggregations, compare, needs_hours

CORPUS = aggregations()


def _outcome(name, body, client, live) -> str:
    if isinstance(live, Exception):
        with pytest.raises(pn.PendoError) as refused:
            client.aggregate(body)
        assert type(refused.value) is type(live), (name, refused.value, live)
        return "refused by both"
    try:
        local = client.aggregate(body)
    except pn.BadRequestError as error:
        # Only what an extract cannot hold may be refused, and it must say so.
        text = str(error)
        assert "pn.extract(" in text or "event-level data" in text, (name, text)
        return "refused: outside the extract" if "pn.extract(" in text else "refused: raw events"
    return compare(live, local)


@pytest.mark.parametrize("grain", ["hour", "day"])
def test_corpus_answers_equal_live(extracted, grain):
    client = pn.connect(local=getattr(extracted, grain))
    outcomes = Counter()
    for name, body in CORPUS.items():
        live = extracted.live[name]
        outcome = _outcome(name, body, client, live)
        if grain == "day" and needs_hours(body) and not isinstance(live, Exception):
            assert outcome.startswith("refused"), name  # hours from a day extract: refused
        outcomes[outcome] += 1
    print(grain, dict(outcomes))
    compared = outcomes["exact"] + outcomes["same rows"]
    assert compared >= len(CORPUS) * 0.6, outcomes  # most of the corpus is answered, not refused


def test_reports_equal_live(extracted):
    client = pn.connect(local=extracted.hour)
    compared = 0
    for report_id, live in extracted.reports.items():
        if isinstance(live, Exception):
            with pytest.raises(pn.PendoError):
                client.report(report_id)
            continue
        try:
            local = client.report(report_id)
        except pn.BadRequestError as error:
            assert "event-level data" in str(error)  # paths and funnels read single events
            continue
        compare(live, local)
        compared += 1
    assert compared >= 5


def test_day_extract_equals_hour_extract_rolled_up(extracted):
    """Day rows read from the day extract equal the hour extract's rows rolled up into days."""
    body = [{"source": {"events": None, "timeSeries": {"period": "dayRange", "first": "now()",
                                                         "count": -10}}}]  # fmt: skip
    local_day = pn.connect(local=extracted.day).aggregate(body)
    local_hour = pn.connect(local=extracted.hour).aggregate(body)
    assert len(local_day) == len(local_hour) > 0
    assert compare(local_day, local_hour) in ("exact", "same rows")
