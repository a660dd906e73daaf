"""Known values, the leak scan, joins and fakes passed back, on pseudonymized recordings."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import orjson
import pandas as pd
import pytest

import pendo_nb as pn
from pendo_nb.http.known_values import KnownValues, people_values
from pendo_nb.http.snapshot import RecordedAnswer, write_snapshot

VISITORS = [
    {
        "visitorId": "Ada.Kim@BlueWind.example",
        "metadata": {"agent": {"email": "Ada.Kim@BlueWind.example", "name": "Ada Kim"}},
    },
    {"visitorId": "admin@gmail.com", "metadata": {"agent": {"name": "Grace"}}},
    {"visitorId": "42"},
    {"visitorId": "12345", "metadata": {"auto": {"accountid": "blue-wind"}}},
]
ACCOUNTS = [{"accountId": "blue-wind", "metadata": {"agent": {"name": "Blue Wind Labs"}}}]


def known() -> KnownValues:
    values = KnownValues()
    for value, kind in people_values(VISITORS, ACCOUNTS):
        values.add(value, kind)
    return values


def test_known_values_are_found_equal_in_any_case_or_inside_a_longer_text():
    values = known()
    assert values.equal("ada.kim@bluewind.example") == ("email", "Ada.Kim@BlueWind.example")
    assert values.equal("ADA KIM") == ("name", "Ada Kim")
    assert values.equal("blue wind labs") == ("account name", "Blue Wind Labs")
    found = list(values.find("Renewal: ada kim (ada.kim) of Blue Wind Labs, bluewind.example"))
    assert [(kind, value) for _, _, kind, value in found] == [
        ("name", "Ada Kim"),
        ("local", "Ada.Kim"),
        ("account name", "Blue Wind Labs"),
        ("domain", "BlueWind.example"),
    ]


def test_short_values_count_only_when_equal_and_words_are_not_people():
    values = known()
    assert values.equal("42") == ("visitor", "42")  # a two-character id: equal only
    assert list(values.find("the 42 answers")) == []
    assert values.equal("grace") is None  # a one-word name is a word ("grace period")
    assert [v for *_, v in values.find("visitor 12345 logged in")] == ["12345"]
    assert list(values.find("order 123456")) == []  # not glued to other digits
    assert values.equal("admin") is None  # a shared mailbox's local part is a word
    assert values.equal("gmail.com") is None  # a public mail provider names no customer
    assert values.equal("admin@gmail.com") == ("email", "admin@gmail.com")


def plant(path, answers):
    """A snapshot holding these ``(path, content_type, body)`` answers."""
    recorded = [
        RecordedAnswer(
            key=f"{index:064x}",
            method="GET",
            path=where,
            params={},
            request=None,
            status=200,
            content_type=content_type,
            content=body,
            recorded_at=datetime.now(UTC),
        )
        for index, (where, content_type, body) in enumerate(answers)
    ]
    compressed = {answer.key: gzip.compress(answer.content, mtime=0) for answer in recorded}
    write_snapshot(
        path,
        recorded,
        created_by="test",
        pseudonymized=True,
        summary={},
        compressed=compressed,
    )


@pytest.fixture(scope="module")
def people(sandbox):
    subscription = sandbox.subscription
    visitor = next(v for v in subscription.visitors.values() if "email" in v["metadata"]["agent"])
    account = next(iter(subscription.accounts.values()))
    return visitor, account


def test_scan_for_leaks_finds_what_was_planted_and_nothing_in_a_clean_file(
    sandbox, people, tmp_path
):
    visitor, account = people
    email, name = visitor["metadata"]["agent"]["email"], visitor["metadata"]["agent"]["name"]
    company = account["metadata"]["agent"]["name"]
    leaky = tmp_path / "leaky.pendo"
    note = {"results": [{"deep": [{"text": f"call {name.upper()} today"}], company: 3}]}
    csv = f"Visitor ID,Note\nvisitor-0123456789,{email.lower()}\n".encode()
    plant(
        leaky,
        [
            ("/aggregation", "application/json", orjson.dumps(note)),
            ("/report/r1/results.csv", "text/csv", csv),
        ],
    )
    live = pn.connect(sandbox=sandbox)
    found = pn.scan_for_leaks(leaky, client=live)
    assert list(found.columns) == ["where", "request", "field", "kind", "value", "count"]
    rows = set(found[["where", "field", "kind", "value"]].itertuples(index=False, name=None))
    assert rows == {
        ("GET /aggregation", "results.deep.text", "person name", name),
        ("GET /aggregation", "results.(key)", "account name", company),
        ("GET /report/r1/results.csv", "Note", "e-mail address", email),
    }
    assert found["count"].tolist() == [1, 1, 1]

    # A pseudonymized recording of the same kinds of reads holds none of them.
    clean = tmp_path / "clean.pendo"
    client = pn.connect(sandbox=sandbox, record=clean, pseudonymize=True, cache=False)
    listed = client.reports()
    for report_id in listed.loc[listed["definition.type"] == "List", "id"]:
        client.report(report_id)
        client.report_csv(report_id)
    client.aggregate([{"source": {"visitors": None}}, {"eval": {"l": 'split(visitorId, "@")'}}])
    client.close()
    empty = pn.scan_for_leaks(clean, client=live)
    assert empty.empty and list(empty.columns) == list(found.columns)


def test_scan_for_leaks_needs_a_live_client_and_a_snapshot_or_an_extract(sandbox, tmp_path):
    path = tmp_path / "s.pendo"
    client = pn.connect(sandbox=sandbox, record=path, pseudonymize=True, cache=False)
    client.reports()
    client.close()
    with pytest.raises(pn.ConfigurationError, match="live client"):
        pn.scan_for_leaks(path, client=pn.connect(replay=path))
    with pytest.raises(pn.SnapshotError, match="not a local extract"):
        pn.scan_for_leaks(tmp_path, client=pn.connect(sandbox=sandbox))


VISITOR_ACCOUNTS = [
    {"source": {"visitors": None}},
    {"select": {"visitorId": "visitorId", "accountId": "metadata.auto.accountid"}},
]
ACCOUNT_NAMES = [
    {"source": {"accounts": None}},
    {"select": {"accountId": "accountId", "company": "metadata.agent.name"}},
]
EVENTS_BY_VISITOR = [
    {
        "source": {
            "events": {"appId": 'expandAppIds("*")'},
            "timeSeries": {"period": "dayRange", "first": "now()", "count": -7},
        }
    },
    {"group": {"group": ["visitorId"], "fields": [{"events": {"sum": "numEvents"}}]}},
]


def joined(client) -> tuple[pd.DataFrame, pd.DataFrame]:
    visitors = client.aggregate(VISITOR_ACCOUNTS, progress=False)
    accounts = client.aggregate(ACCOUNT_NAMES, progress=False)
    events = client.aggregate(EVENTS_BY_VISITOR, progress=False)
    return visitors.merge(accounts, on="accountId"), events.merge(visitors, on="visitorId")


def test_pseudonymized_frames_join_as_the_real_ones(sandbox, tmp_path):
    real = joined(pn.connect(sandbox=sandbox, cache=False))
    fake = joined(pn.connect(sandbox=sandbox, record=tmp_path / "j.pendo", pseudonymize=True))
    for real_frame, fake_frame in zip(real, fake, strict=True):
        assert len(fake_frame) == len(real_frame) > 0
    # Companies: the same number of customers, each with as many people.
    real_sizes = sorted(real[0].groupby("company").size())
    assert sorted(fake[0].groupby("company").size()) == real_sizes
    assert fake[0]["company"].str.startswith("Account-").all()


def test_fakes_passed_back_work_also_in_another_case_and_inside_filters(sandbox, tmp_path):
    client = pn.connect(sandbox=sandbox, record=tmp_path / "f.pendo", pseudonymize=True)
    visitors = client.aggregate(
        [
            {"source": {"visitors": None}},
            {"identified": "visitorId"},
            {"select": {"visitorId": "visitorId", "name": "metadata.agent.name"}},
            {"eval": {"local": 'split(visitorId, "@")'}},
            {"limit": 5},
        ]
    )
    fake_id, fake_name = visitors["visitorId"].iloc[0], visitors["name"].iloc[0]
    fake_local = visitors["local"].iloc[0][0]
    assert fake_name.startswith("Name-") and fake_local.startswith("person-")
    assert client.visitor(fake_id)["id"].iloc[0] == fake_id
    for condition in (
        f'visitorId == "{fake_id}"',
        f'toLowerCase(metadata.agent.name) == "{fake_name.lower()}"',  # the fake, lowered
        f'contains(visitorId, "{fake_local}@")',  # a fake local part
    ):
        found = client.aggregate(
            [{"source": {"visitors": None}}, {"filter": condition}, {"select": {"v": "visitorId"}}]
        )
        assert found["v"].tolist() == [fake_id], condition


def test_snapshot_info_shows_per_field_what_was_replaced_or_kept(sandbox, tmp_path):
    path = tmp_path / "s.pendo"
    client = pn.connect(sandbox=sandbox, record=path, pseudonymize=True, cache=False)
    client.aggregate([{"source": {"accounts": None}}, {"limit": 4}])
    summary = client.finish_recording()
    assert "Per field" in summary and "metadata.custom.csm" in summary
    fields = pn.snapshot_info(path, fields=True).set_index("field")
    assert list(fields.columns) == ["replaced", "masked", "kept"]
    assert fields.loc["metadata.agent.name", "replaced"] == 4
    assert fields.loc["metadata.custom.csm", "kept"] == 4  # a name no rule knows: shown as kept
    plain = tmp_path / "plain.pendo"
    client = pn.connect(sandbox=sandbox, record=plain, cache=False)
    client.reports()
    client.close()
    assert pn.snapshot_info(plain, fields=True).empty


def test_strict_keeps_what_keep_lists_and_safe_kinds(sandbox, tmp_path):
    path = tmp_path / "strict.pendo"
    client = pn.connect(
        sandbox=sandbox, record=path, pseudonymize="strict", keep=["plan"], cache=False
    )
    accounts = client.aggregate([{"source": {"accounts": None}}, {"limit": 6}])
    visitors = client.aggregate([{"source": {"visitors": None}}, {"limit": 6}])
    assert set(accounts["metadata.agent.plan"]) <= {"free", "starter", "pro", "enterprise"}
    assert accounts["metadata.custom.csm"].str.startswith("Text-").all()
    assert accounts["metadata.agent.industry"].str.startswith("Text-").all()
    assert accounts["metadata.custom.arr"].notna().all()  # numbers are never touched
    browsers = visitors["metadata.auto.lastbrowsername"].dropna()
    assert not browsers.str.startswith("Text-").any()
    with pytest.raises(pn.ConfigurationError, match="strict"):
        pn.connect(sandbox=sandbox, record=tmp_path / "x.pendo", pseudonymize=True, keep=["a"])
    with pytest.raises(pn.ConfigurationError, match="'strict'"):
        pn.connect(sandbox=sandbox, record=tmp_path / "x.pendo", pseudonymize="yes")


def test_real_values_typed_into_requests_or_echoed_by_errors_stay_out_of_the_file(
    sandbox, people, tmp_path
):
    visitor, _ = people
    email = visitor["metadata"]["agent"]["email"]
    path = tmp_path / "typed.pendo"
    client = pn.connect(sandbox=sandbox, record=path, pseudonymize=True, cache=False)
    typed = [{"source": {"visitors": None}}, {"filter": f'visitorId == "{email}"'}]
    found = client.aggregate(typed)
    assert found["visitorId"].str.startswith("person-").all() and len(found) == 1
    with pytest.raises(pn.NotFoundError):
        client.visitor(email.replace("@", "-nobody@"))  # an error that may echo the id
    client.close()
    live = pn.connect(sandbox=sandbox)
    assert pn.scan_for_leaks(path, client=live).empty
    info = pn.snapshot_info(path)
    assert email not in " ".join(info["request"]) + " ".join(info["path"])
    # The notebook's own request, real value and all, still replays.
    replay = pn.connect(replay=path)
    pd.testing.assert_frame_equal(replay.aggregate(typed), found)


def test_account_names_become_account_fakes_that_agree_across_expand_and_merge(sandbox, tmp_path):
    client = pn.connect(sandbox=sandbox, record=tmp_path / "a.pendo", pseudonymize=True)
    direct = client.aggregate(ACCOUNT_NAMES).set_index("accountId")["company"]
    expanded = client.aggregate(
        [
            {"source": {"visitors": None}},
            {"identified": "visitorId"},
            {"eval": {"accountId": "metadata.auto.accountid"}},
            {"expand": {"acct": {"account": "accountId"}}},
            {
                "merge": {
                    "fields": ["accountId"],
                    "mappings": {"company": "metadata.agent.name"},
                    "pipeline": [{"source": {"accounts": None}}],
                }
            },
            {"select": {"a": "accountId", "e": "acct.agent.name", "m": "company"}},
        ]
    )
    assert direct.str.match(r"^Account-[0-9a-f]{10}$").all()
    assert (expanded["e"] == expanded["a"].map(direct)).all()
    assert (expanded["m"] == expanded["a"].map(direct)).all()
