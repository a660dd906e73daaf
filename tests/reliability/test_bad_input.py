"""Bad input on the client side: a clear error naming the argument, before anything is sent.

Point 5 of the reliability issue. The sandbox logs every request it receives, so "before any
request" is checked on the server's side, not trusted from the client. Value checks need the
metadata schema (field types live there): for those, only reads may have reached the server.
Ids that are not URL-safe are not errors: they travel as ``b64_`` path segments (reference 1.4).
"""

from __future__ import annotations

import base64
import math

import numpy as np
import pandas as pd
import pytest

import pendo_nb as pn
from pendo_nb.errors import NotFoundError, ValidationError
from pendo_nb.sandbox import FaultPlan, Sandbox

from .reliability_helpers import client_of

OBSERVE = FaultPlan(rate=0.0)


@pytest.fixture(scope="module")
def observed():
    with Sandbox(size="small", faults=OBSERVE) as sandbox:
        yield sandbox


def one_row(vid, **values):
    return [{"visitorId": vid, **values}]


# (label, call(client, a visitor id), words the message must contain)
REFUSED_BEFORE_ANY_REQUEST = [
    ("account id empty", lambda c, v: c.account(""), "account_id"),
    ("account id None", lambda c, v: c.account(None), "account_id"),
    ("account id number", lambda c, v: c.account(123), "account_id"),
    ("visitor id list", lambda c, v: c.visitor([v]), "visitor_id"),
    ("visitor id NaN", lambda c, v: c.visitor(math.nan), "visitor_id"),
    ("report id None", lambda c, v: c.report(None), "report_id"),
    ("report id empty", lambda c, v: c.report(""), "report_id"),
    ("report_csv id number", lambda c, v: c.report_csv(5), "report_id"),
    ("history id empty", lambda c, v: c.visitor_history("", "2026-10-30"), "visitor_id"),
    ("history start text", lambda c, v: c.visitor_history(v, "not a date"), "start"),
    ("history start bool", lambda c, v: c.visitor_history(v, True), "start"),
    ("history start seconds", lambda c, v: c.visitor_history(v, 1_790_000_000), "start"),
    ("history start NaT", lambda c, v: c.visitor_history(v, pd.NaT), "start"),
    ("history start NaN", lambda c, v: c.visitor_history(v, math.nan), "start"),
    ("history start inf", lambda c, v: c.visitor_history(v, math.inf), "start"),
    ("history end text", lambda c, v: c.visitor_history(v, "2026-10-30", "soon"), "end"),
    ("aggregate a number", lambda c, v: c.aggregate(42), "aggregation"),
    ("aggregate None", lambda c, v: c.aggregate(None), "aggregation"),
    ("aggregate bad JSON", lambda c, v: c.aggregate("{not json"), "JSON"),
    ("aggregate no steps", lambda c, v: c.aggregate([]), "pipeline"),
    ("aggregate step not object", lambda c, v: c.aggregate([1]), "step 0"),
    ("aggregate a DataFrame", lambda c, v: c.aggregate(pd.DataFrame()), "aggregation"),
    ("kind unknown", lambda c, v: c.update_values("user", one_row(v, department="x")), "kind"),
    ("kind None", lambda c, v: c.update_values(None, one_row(v, department="x")), "kind"),
    ("rows a string", lambda c, v: c.update_values("visitor", "rows"), "rows"),
    ("rows a number", lambda c, v: c.update_values("visitor", 42), "rows"),
    ("rows None", lambda c, v: c.update_values("visitor", None), "rows"),
    ("rows one dict", lambda c, v: c.update_values("visitor", {"visitorId": v}), "rows"),
    ("rows of numbers", lambda c, v: c.update_values("visitor", [1, 2]), "row 0"),
    ("rows empty frame", lambda c, v: c.update_values("visitor", pd.DataFrame()), "no rows"),
    ("rows without id", lambda c, v: c.update_values(
        "visitor", pd.DataFrame({"department": ["x"]})), "id column"),
    ("row id NaN", lambda c, v: c.update_values(
        "visitor", pd.DataFrame({"visitorId": [np.nan], "department": ["x"]})), "row 0"),
    ("row id number", lambda c, v: c.update_values(
        "visitor", pd.DataFrame({"visitorId": [5], "department": ["x"]})), "row 0"),
    ("row id twice", lambda c, v: c.update_values(
        "visitor", pd.DataFrame({"visitorId": [v, v], "department": ["x", "y"]})), "row 1"),
    ("chunk_size 0", lambda c, v: c.update_values(
        "visitor", one_row(v, department="x"), chunk_size=0), "chunk_size"),
    ("chunk_size bool", lambda c, v: c.update_values(
        "visitor", one_row(v, department="x"), chunk_size=True), "chunk_size"),
    ("id_column absent", lambda c, v: c.update_values(
        "visitor", one_row(v, department="x"), id_column="uid"), "uid"),
]  # fmt: skip

# Refused once the schema (a read) says what the fields are; no write is sent.
REFUSED_BEFORE_ANY_WRITE = [
    ("unknown field", one_row("{v}", departmnt="x"), "departmnt"),
    ("field name with spaces", one_row("{v}", **{"bad name!": 1}), "bad name!"),
    ("text for an integer", one_row("{v}", logincount="many"), "logincount"),
    ("fraction for an integer", one_row("{v}", logincount=1.5), "logincount"),
    ("integer beyond 64 bits", one_row("{v}", logincount=10**30), "logincount"),
    ("unsigned 64-bit max", one_row("{v}", logincount=np.uint64(2**64 - 1)), "logincount"),
    ("infinite float", one_row("{v}", onboardingprogress=math.inf), "onboardingprogress"),
    ("impossible date", one_row("{v}", signupdate="2026-13-45"), "signupdate"),
    ("date text", one_row("{v}", signupdate="next tuesday"), "signupdate"),
    ("object for text", one_row("{v}", department={"a": 1}), "department"),
    ("boolean for text", one_row("{v}", department=True), "department"),
    ("list for boolean", one_row("{v}", betaopt=[True]), "betaopt"),
    ("computed group", None, "auto"),
]


def new_requests(sandbox, before: int):
    return list(sandbox.faults.seen)[before:]


@pytest.mark.parametrize(
    ("call", "named"),
    [pytest.param(call, named, id=label) for label, call, named in REFUSED_BEFORE_ANY_REQUEST],
)
def test_refused_with_a_clear_error_before_any_request(observed, call, named):
    client = client_of(observed)
    before = len(observed.faults.seen)
    with pytest.raises(ValidationError) as caught:
        call(client, observed.subscription.visitor_ids[0])
    assert named in str(caught.value)
    assert new_requests(observed, before) == []


@pytest.mark.parametrize(
    ("rows", "named"),
    [pytest.param(rows, named, id=label) for label, rows, named in REFUSED_BEFORE_ANY_WRITE],
)
def test_bad_values_are_refused_before_any_write(observed, rows, named):
    client = client_of(observed)
    vid = observed.subscription.visitor_ids[0]
    before = len(observed.faults.seen)
    with pytest.raises(ValidationError) as caught:
        if rows is None:
            client.update_values("visitor", one_row(vid, department="x"), group="auto")
        else:
            client.update_values("visitor", [{**r, "visitorId": vid} for r in rows])
    assert named in str(caught.value)
    assert vid in str(caught.value) or rows is None or "field(s)" in str(caught.value)
    assert all(r.kind == "read" for r in new_requests(observed, before))


def test_missing_values_are_not_sent_and_say_so(observed):
    client = client_of(observed)
    vid = observed.subscription.visitor_ids[1]
    before = len(observed.faults.seen)
    rows = pd.DataFrame({"visitorId": [vid], "department": [np.nan], "logincount": [None]})
    result = client.update_values("visitor", rows)
    assert list(result["outcome"]) == ["unchanged"]
    assert [r.kind for r in new_requests(observed, before)].count("write") == 0


ODD_IDS = [
    "a/b",
    "../../etc/passwd",
    "ünïcødé-ß",
    "quote\"d'id",
    "space id",
    "b64_not-really-encoded",
    "emoji-\U0001f600",
    "back\\slash",
    "percent%2Fencoded",
    "?query#fragment",
]


def test_ids_that_are_not_url_safe_travel_as_b64_and_come_back_intact():
    with Sandbox(size="small", faults=OBSERVE) as sandbox:
        client = client_of(sandbox)
        rows = pd.DataFrame({"visitorId": ODD_IDS, "department": [f"d{i}" for i in range(10)]})
        created = client.update_values("visitor", rows, create=True)
        assert list(created["outcome"]) == ["updated"] * len(ODD_IDS)
        sandbox.faults.use(OBSERVE)
        for odd in ODD_IDS:
            frame = client.visitor(odd)
            assert frame["id"].iloc[0] == odd
            assert frame["metadata.custom.department"].iloc[0] == f"d{ODD_IDS.index(odd)}"
            with pytest.raises(NotFoundError):
                client.account(odd)
        paths = [r.path for r in sandbox.faults.seen if r.path.startswith("/api/v1/visitor/")]
    expected = [
        "/api/v1/visitor/b64_" + base64.urlsafe_b64encode(odd.encode()).decode() for odd in ODD_IDS
    ]
    assert paths == expected


def test_a_url_safe_id_goes_as_it_is(observed):
    client = client_of(observed)
    plain = "plain-id_1.x~y"
    before = len(observed.faults.seen)
    with pytest.raises(NotFoundError):
        client.visitor(plain)
    assert [r.path for r in new_requests(observed, before)] == [f"/api/v1/visitor/{plain}"]


def test_the_module_functions_need_a_connection_first():
    with pytest.raises(pn.ConfigurationError, match="connect"):
        pn.reports()
