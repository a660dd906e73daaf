"""The public functions against a real sandbox on loopback.

Expected values come from the sandbox's raw subscription data (with pandas) or from plain
`requests` calls, never from pendo_nb's own readers.
"""

from __future__ import annotations

import pandas as pd
import pytest
import requests

import pendo_nb as pn
from pendo_nb.api import connect as api

DAY_MS = 86_400_000


@pytest.fixture
def client(sandbox):
    return pn.connect(sandbox=sandbox, rate_limit=None)


def raw_get(sandbox, path, **params):
    response = requests.get(
        f"{sandbox.url}/api/v1{path}",
        params=params,
        headers={"x-pendo-integration-key": sandbox.key},
    )
    response.raise_for_status()
    return response


def test_module_functions_need_a_connection():
    with pytest.raises(pn.ConfigurationError, match="connect"):
        pn.reports()


def test_connect_without_key_says_how_to_get_one():
    with pytest.raises(pn.ConfigurationError, match="sandbox=True"):
        pn.connect()


def test_connect_sandbox_true_starts_one_and_reuses_it():
    first = pn.connect(sandbox=True, cache=False)
    second = pn.connect(sandbox=True, cache=False)
    assert first.base_url == second.base_url == api._shared_sandbox.url
    assert api._shared_sandbox.key not in repr(first)


def test_connect_starts_a_configured_sandbox_that_is_not_running():
    from pendo_nb.sandbox import Sandbox

    server = Sandbox(size="small", seed=3)
    assert not server.running
    try:
        client = pn.connect(sandbox=server, cache=False)
        assert server.running
        assert client.base_url == server.url
        raw = requests.get(
            f"{server.url}/api/v1/report", headers={"x-pendo-integration-key": server.key}
        ).json()
        assert sorted(pn.reports()["id"]) == sorted(report["id"] for report in raw)
    finally:
        server.stop()


def test_connect_refuses_what_is_not_a_sandbox():
    with pytest.raises(pn.ConfigurationError, match="sandbox must be True"):
        pn.connect(sandbox="yes")


def test_aggregate_visitors_matches_the_raw_subscription(client, sandbox):
    df = pn.aggregate([{"source": {"visitors": None}}])
    raw = pd.json_normalize(list(sandbox.subscription.visitors.values()))
    assert sorted(df["visitorId"]) == sorted(sandbox.subscription.visitors)
    merged = df.set_index("visitorId")["metadata.custom.logincount"]
    expected = raw.set_index("visitorId")["metadata.custom.logincount"]
    assert merged.sum() == expected.sum()
    assert df.attrs["pipeline"]["request"]["pipeline"][0] == {"source": {"visitors": None}}
    assert df.attrs["host"] == sandbox.url.removeprefix("http://")


def test_metadata_columns_get_their_schema_types(client, sandbox):
    df = pn.aggregate([{"source": {"visitors": None}}, {"limit": 50}])
    expected_dtype = {"integer": "Int64", "boolean": "boolean", "float": "Float64"}
    custom = sandbox.subscription.schema["visitor"]["custom"]
    assert {d["Type"] for d in custom.values()} >= {"time", "string", *expected_dtype}
    for field, definition in custom.items():
        column = f"metadata.custom.{field}"
        assert column in df, column  # every custom field is set on some of the first 50 visitors
        kind = definition["Type"]
        if kind == "time":  # the sandbox's custom times are dates: zone-less, as buckets
            assert str(df[column].dtype) == "datetime64[us]", column
        elif kind == "string":
            assert isinstance(df[column].dtype, pd.StringDtype), column
        elif kind in expected_dtype:
            assert str(df[column].dtype) == expected_dtype[kind], column


def test_aggregate_accepts_an_object_with_to_json(client, sandbox):
    class Built:
        def to_json(self):
            return {
                "response": {},
                "request": {"pipeline": [{"source": {"accounts": None}}, {"count": None}]},
            }

    assert pn.aggregate(Built())["count"].tolist() == [len(sandbox.subscription.accounts)]


def test_an_empty_result_keeps_its_columns(client):
    steps = [
        {"source": {"visitors": None}},
        {"filter": 'visitorId == "nobody-at-all"'},
        {"select": {"visitorId": "visitorId", "email": "metadata.agent.email"}},
    ]
    df = pn.aggregate(steps)
    assert df.empty and list(df.columns) == ["visitorId", "email"]


def test_aggregation_answers_are_cached(client):
    steps = [{"source": {"accounts": None}}, {"limit": 3}]
    assert pn.aggregate(steps).attrs["from_cache"] is False
    assert pn.aggregate(steps).attrs["from_cache"] is True
    assert pn.aggregate(steps, refresh=True).attrs["from_cache"] is False


def test_account_by_an_id_that_needs_base64(client, sandbox):
    account_id = next(a for a in sandbox.subscription.accounts if "/" in a)
    row = pn.account(account_id)
    raw = sandbox.subscription.accounts[account_id]["metadata"]
    assert row["id"].tolist() == [account_id]
    assert row["metadata.agent.name"][0] == raw["agent"]["name"]


def test_visitor_row(client, sandbox):
    visitor_id = next(iter(sandbox.subscription.visitors))
    row = pn.visitor(visitor_id)
    raw = sandbox.subscription.visitors[visitor_id]["metadata"]
    assert len(row) == 1
    assert row["accountIds"][0] == raw["auto"]["accountids"]
    assert row["metadata.auto.lastvisit"][0] == pd.Timestamp(
        raw["auto"]["lastvisit"], unit="ms", tz="UTC"
    )


def test_unknown_visitor_is_not_found(client):
    with pytest.raises(pn.NotFoundError, match="no such entity"):
        pn.visitor("nobody-at-all")


def test_a_wrong_key_is_an_authentication_error(sandbox):
    client = pn.connect(key="not-the-sandbox-key-at-all", base_url=sandbox.url, rate_limit=None)
    with pytest.raises(pn.AuthenticationError) as caught:
        pn.reports()
    assert caught.value.status == 403 and "not-the-sandbox-key-at-all" not in str(caught.value)
    assert client.host in caught.value.hint


def test_a_bad_filter_is_a_bad_request_with_its_position(client):
    with pytest.raises(pn.BadRequestError) as caught:
        pn.aggregate([{"source": {"visitors": None}}, {"filter": "visitorId == "}])
    assert caught.value.position == len("visitorId == ")


def active_visitor(sandbox):
    """The visitor with the most events in the last three days of the sandbox clock."""
    sub = sandbox.subscription
    recent = sub.events.ts >= sub.now_ms - 3 * DAY_MS
    counts = pd.Series(sub.events.visitor[recent]).value_counts()
    return sub.visitor_ids[int(counts.index[0])]


def test_visitor_history_stitches_windows(client, sandbox):
    visitor_id = active_visitor(sandbox)
    now = sandbox.subscription.now_ms
    start = pd.Timestamp(now - 3 * DAY_MS, unit="ms", tz="UTC").floor("D")
    end = start + pd.Timedelta(days=2, hours=12)
    start_ms, end_ms = start.value // 10**6, end.value // 10**6
    expected = []
    for window in range(start_ms, end_ms, DAY_MS):
        for item in raw_get(sandbox, f"/visitor/{visitor_id}/history", starttime=window).json():
            if start_ms <= item["ts"] < end_ms:
                expected.append(item["ts"])
    # naive strings are read by the server, in the subscription's time zone (UTC here)
    df = pn.visitor_history(visitor_id, start.strftime("%Y-%m-%dT%H:%M:%S"), end.isoformat())
    assert len(expected) > 0
    assert sorted(t.value // 10**6 for t in df["ts"]) == sorted(expected)
    assert set(df["visitorId"]) == {visitor_id}
    assert df.attrs["windows"] == 3  # 2.5 days in 24-hour history windows: 2 whole + 1 part
    assert df.attrs["start"] == start and df.attrs["end"] == end
    assert df["windowStart"].min() >= start


def test_visitor_history_ends_at_the_server_clock_by_default(client, sandbox):
    visitor_id = active_visitor(sandbox)
    now = sandbox.subscription.now_ms
    df = pn.visitor_history(visitor_id, now - 2 * DAY_MS)
    assert df.attrs["end"] == pd.Timestamp(now, unit="ms", tz="UTC")
    assert df.attrs["windows"] == 2  # two days back to the server clock: two 24-hour windows


def test_visitor_history_reads_dates_in_the_subscription_time_zone():
    from pendo_nb.sandbox import Sandbox

    with Sandbox(size="small", timezone="Asia/Tokyo") as tokyo:
        pn.connect(sandbox=tokyo, cache=False, rate_limit=None)
        visitor_id = next(iter(tokyo.subscription.visitors))
        day = pd.Timestamp(tokyo.subscription.now_ms, unit="ms", tz="Asia/Tokyo").floor("D")
        df = pn.visitor_history(visitor_id, day.strftime("%Y-%m-%d"))
        assert df.attrs["start"] == day  # Tokyo midnight, not UTC midnight


def test_visitor_history_refuses_more_than_180_days(client, sandbox):
    visitor_id = next(iter(sandbox.subscription.visitors))
    with pytest.raises(pn.ValidationError, match="180 days"):
        pn.visitor_history(visitor_id, sandbox.subscription.now_ms - 181 * DAY_MS)
    with pytest.raises(pn.ValidationError, match="before end"):
        pn.visitor_history(visitor_id, "2026-10-20", "2026-10-10")


def test_reports_lists_the_shared_reports(client, sandbox):
    df = pn.reports()
    shared = [r["id"] for r in sandbox.subscription.reports if r.get("shared")]
    assert df["id"].tolist() == shared
    assert str(df["createdAt"].dt.tz) == "UTC"


def test_segments_lists_the_saved_segments(client, sandbox):
    df = pn.segments()
    saved = sandbox.subscription.segments
    assert df["id"].tolist() == [s["id"] for s in saved]
    assert df["name"].tolist() == [s["name"] for s in saved]
    assert list(df.columns[:2]) == ["name", "id"]
    assert str(df["createdAt"].dt.tz) == "UTC"
    # A listed id works in a pipeline's segment step.
    admins = df.loc[df["name"] == "Admins", "id"].item()
    members = pn.source.visitors().segment(admins).run()
    expected = [v for v, row in sandbox.subscription.visitors.items()
                if row["metadata"]["agent"].get("role") == "admin"]  # fmt: skip
    assert sorted(members["visitorId"]) == sorted(expected)


def list_reports(sandbox):
    return [
        r
        for r in sandbox.subscription.reports
        if r.get("shared") and r["definition"]["type"] == "List"
    ]


def test_report_json_and_csv_agree(client, sandbox):
    for definition in list_reports(sandbox):
        from_json = pn.report(definition["id"])
        from_csv = pn.report_csv(definition["id"])
        fields = [f["field"] for f in definition["aggregation"]["fields"]]
        assert list(from_json.columns) == fields
        raw = raw_get(sandbox, f"/report/{definition['id']}/results.json").json()
        assert len(from_json) == len(raw)
        pd.testing.assert_frame_equal(from_json, from_csv, check_flags=False)
        for f in definition["aggregation"]["fields"]:
            got = [None if pd.isna(value) else value for value in from_json[f["field"]]]
            want = [row.get(f["field"]) for row in raw]
            if f["type"] == "time":
                want = [
                    None if ms is None else pd.Timestamp(ms, unit="ms", tz="UTC") for ms in want
                ]
                present = [stamp for stamp in want if stamp is not None]
                if present and all(stamp == stamp.normalize() for stamp in present):
                    want = [None if s is None else s.tz_localize(None) for s in want]  # dates
                    assert str(from_json[f["field"]].dtype) == "datetime64[us]"
                else:
                    assert str(from_json[f["field"]].dt.tz) == "UTC"
            assert got == want, (definition["name"], f["field"])


def test_path_reports_have_no_contents(client, sandbox):
    path = next(r for r in sandbox.subscription.reports if r["definition"]["type"] == "Path")
    with pytest.raises(pn.BadRequestError, match="Path"):
        pn.report(path["id"])


def some_visitors(sandbox, n):
    return list(sandbox.subscription.visitors)[:n]


def test_update_values_dry_run_shows_the_diff_and_writes_nothing(fresh_sandbox):
    pn.connect(sandbox=fresh_sandbox, rate_limit=None)
    ids = some_visitors(fresh_sandbox, 3)
    raw = {v: fresh_sandbox.subscription.visitors[v]["metadata"]["custom"] for v in ids}
    rows = pd.DataFrame(
        {
            "visitorId": ids + ["nobody-at-all"],
            "logincount": [raw[ids[0]]["logincount"], raw[ids[1]]["logincount"] + 1, None, 5],
        }
    )
    plan = pn.update_values("visitor", rows, dry_run=True).set_index("visitorId")
    assert plan.loc[ids[0], "outcome"] == "unchanged"
    assert plan.loc[ids[1], "outcome"] == "would-change"
    assert plan.loc[ids[1], "old.logincount"] == raw[ids[1]]["logincount"]
    assert plan.loc[ids[1], "new.logincount"] == raw[ids[1]]["logincount"] + 1
    assert plan.loc[ids[2], "outcome"] == "unchanged"  # nothing to send
    assert plan.loc["nobody-at-all", "outcome"] == "missing"
    assert (
        fresh_sandbox.subscription.visitors[ids[1]]["metadata"]["custom"]["logincount"]
        == raw[ids[1]]["logincount"]
    )


def test_update_values_writes_in_chunks_and_reports_each_object(fresh_sandbox):
    pn.connect(sandbox=fresh_sandbox, rate_limit=None)
    ids = some_visitors(fresh_sandbox, 5)
    before = pn.visitor(ids[0])  # cached now; the write must make the next read fresh
    records = [{"visitorId": v, "betaopt": i % 2 == 0} for i, v in enumerate(ids)]
    records.append({"visitorId": "nobody-at-all", "betaopt": True})
    result = pn.update_values("visitor", records, chunk_size=2)
    assert result["chunk"].tolist() == [0, 0, 1, 1, 2, 2]
    assert result["outcome"].tolist() == ["updated"] * 5 + ["missing"]
    for i, v in enumerate(ids):
        assert fresh_sandbox.subscription.visitors[v]["metadata"]["custom"]["betaopt"] is (
            i % 2 == 0
        )
    after = pn.visitor(ids[0])
    assert after.attrs["from_cache"] is False and before.attrs["from_cache"] is False
    assert bool(after["metadata.custom.betaopt"][0]) is True


def test_update_values_validates_before_sending(fresh_sandbox):
    pn.connect(sandbox=fresh_sandbox, rate_limit=None)
    vid = some_visitors(fresh_sandbox, 1)[0]
    with pytest.raises(pn.ValidationError, match="did you mean 'betaopt'"):
        pn.update_values("visitor", [{"visitorId": vid, "betaop": True}])
    with pytest.raises(pn.ValidationError, match="betaopt=1 is not boolean"):
        pn.update_values("visitor", [{"visitorId": vid, "betaopt": 1}])
    with pytest.raises(pn.ValidationError, match="more than once"):
        pn.update_values("visitor", [{"visitorId": vid, "betaopt": True}] * 2)
    with pytest.raises(pn.ValidationError, match="no id column"):
        pn.update_values("visitor", [{"betaopt": True}])


def test_update_values_with_a_read_only_key_fails_before_writing(fresh_sandbox):
    pn.connect(key=fresh_sandbox.read_only_key, base_url=fresh_sandbox.url, rate_limit=None)
    vid = some_visitors(fresh_sandbox, 1)[0]
    old = fresh_sandbox.subscription.visitors[vid]["metadata"]["custom"]["betaopt"]
    with pytest.raises(pn.WriteAccessError, match="read but not write"):
        pn.update_values("visitor", [{"visitorId": vid, "betaopt": not old}])
    assert fresh_sandbox.subscription.visitors[vid]["metadata"]["custom"]["betaopt"] is old


def test_update_values_accepts_metadata_columns_from_aggregate(fresh_sandbox):
    pn.connect(sandbox=fresh_sandbox, rate_limit=None)
    df = pn.aggregate([{"source": {"accounts": None}}, {"limit": 2}])
    edit = df[["accountId"]].assign(**{"metadata.custom.ispaying": True})
    result = pn.update_values("account", edit)
    assert result["outcome"].tolist() == ["updated", "updated"]
    for account_id in df["accountId"]:
        assert (
            fresh_sandbox.subscription.accounts[account_id]["metadata"]["custom"]["ispaying"]
            is True
        )


def test_twin_methods_and_explicit_clients(sandbox):
    default = pn.connect(sandbox=sandbox, rate_limit=None)
    other = pn.connect(sandbox=sandbox, rate_limit=None, cache=False)
    assert pn.reports(client=default)["id"].tolist() == other.reports()["id"].tolist()
    vid = next(iter(sandbox.subscription.visitors))
    assert other.visitor(vid)["id"][0] == vid


def test_cache_info_and_clear_cache(client):
    pn.reports()
    pn.reports()
    info = pn.cache_info()
    assert info.hits >= 1 and info.entries >= 1 and info.size_bytes > 0
    pn.clear_cache()
    assert pn.cache_info().entries == 0
