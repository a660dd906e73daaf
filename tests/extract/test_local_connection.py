"""pn.connect(local=...): the read verbs answer from the extract; what it cannot answer says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import pendo_nb as pn
from pendo_nb.sandbox import DEMO_KEY

ROOT = Path(__file__).parents[2]


def test_read_verbs_answer_from_the_extract(extracted):
    local = pn.connect(local=extracted.day)
    assert local.local_extract == extracted.day
    assert local.cache_info().kind == "local"
    visitors = local.aggregate([{"source": {"visitors": None}}])
    visitor_id = visitors["visitorId"][0]
    assert local.visitor(visitor_id)["id"][0] == visitor_id
    account_id = local.aggregate([{"source": {"accounts": None}}])["accountId"][0]
    assert local.account(account_id)["id"][0] == account_id
    assert len(local.reports()) > 0 and len(local.segments()) > 0
    names = local.object_names()
    assert len(names) > 0
    pages = local.aggregate([{"source": {"pageEvents": None, "timeSeries": {
        "period": "dayRange", "first": "now()", "count": -3}}}])  # fmt: skip
    assert len(local.with_names(pages).columns) == len(pages.columns) + 1  # the page's name


def test_now_is_when_the_extract_was_taken(extracted):
    local = pn.connect(local=extracted.day)
    now = local.aggregate([{"source": {"visitors": None}}, {"limit": 1},
                           {"select": {"now": "now()"}}])["now"][0]  # fmt: skip
    manifest = json.loads((extracted.day / "manifest.json").read_text())
    assert now.value // 1_000_000 == manifest["taken_at_ms"]


def test_writes_are_refused_as_in_replay(extracted):
    local = pn.connect(local=extracted.day)
    with pytest.raises(pn.SnapshotError, match="read-only"):
        local.update_values("visitor", [{"visitorId": "x", "betaopt": True}])
    assert local.can_write() is False


def test_visitor_history_says_it_needs_event_level_data(extracted):
    local = pn.connect(local=extracted.hour)
    visitor_id = local.aggregate([{"source": {"visitors": None}}, {"limit": 1}])["visitorId"][0]
    with pytest.raises(pn.PendoError, match="event-level data"):
        local.visitor_history(visitor_id, "2026-10-30", "2026-10-31")


def test_finer_than_the_grain_names_grain_and_the_extract_call(extracted):
    local = pn.connect(local=extracted.day)
    hours = [{"source": {"events": None, "timeSeries": {"period": "hourRange", "first": "now()",
                                                          "count": -3}}}]  # fmt: skip
    with pytest.raises(pn.BadRequestError) as refused:
        local.aggregate(hours)
    text = str(refused.value)
    assert "day grain" in text and "grain='hour'" in text and "pn.extract(" in text


def test_outside_the_days_names_the_range_and_the_extract_call(extracted):
    local = pn.connect(local=extracted.day)
    old = [{"source": {"events": None, "timeSeries": {"period": "dayRange",
                                                        "first": "date(2026, 8, 1)",
                                                        "count": 3}}}]  # fmt: skip
    with pytest.raises(pn.BadRequestError) as refused:
        local.aggregate(old)
    text = str(refused.value)
    assert "2026-09-01 through 2026-11-01" in text
    assert "pn.extract(" in text and "'2026-08-01'" in text


def test_environment_variable_opens_the_extract(extracted, monkeypatch):
    monkeypatch.setenv("PENDO_NB_LOCAL", str(extracted.day))
    client = pn.connect(sandbox=True)  # the notebook's own line
    assert client.local_extract == extracted.day


def test_two_processes_read_one_extract_at_once(extracted):
    code = (
        "import sys, pendo_nb as pn\n"
        "c = pn.connect(local=sys.argv[1])\n"
        "body = [{'source': {'events': None, 'timeSeries': {'period': 'weekRange',"
        " 'first': 'now()', 'count': -4}}}, {'group': {'group': ['week'],"
        " 'fields': {'n': {'sum': 'numEvents'}}}}, {'sort': ['week']}]\n"
        "print(pn.aggregate(body)['n'].sum())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(extracted.day)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=120)[0].strip() for child in children]
    assert [child.returncode for child in children] == [0, 0]
    assert outputs[0] == outputs[1] and int(float(outputs[0])) > 0


def test_pseudonymized_extract_holds_no_real_ids_emails_or_names(sandbox, tmp_path):
    client = pn.PendoClient(sandbox.key, base_url=sandbox.url, cache=False, tz="UTC")
    subscription = sandbox.subscription
    folder = tmp_path / "shared"
    pn.extract(folder, "2026-10-28", pseudonymize=True, client=client, progress=False)
    text = (
        "\n".join(str(pq.read_table(path).to_pylist()) for path in folder.rglob("*.parquet"))
        + (folder / "manifest.json").read_text()
    )
    real_visitors = [v for v in subscription.visitor_ids if len(v) > 3]
    real_accounts = [a for a in subscription.account_ids if len(a) > 3]
    leaked = [v for v in real_visitors + real_accounts if v in text]
    assert not leaked, leaked[:5]
    emails = {
        value for row in subscription.visitors.values()
        for value in row["metadata"].get("agent", {}).values()
        if isinstance(value, str) and "@" in value
    }  # fmt: skip
    agents = [row["metadata"].get("agent", {}) for row in subscription.visitors.values()]
    names = {agent[key] for agent in agents for key in ("firstname", "lastname") if agent.get(key)}
    assert emails and not [e for e in emails if e in text]
    assert not [n for n in names if len(n) > 3 and f"'{n}'" in text]
    local = pn.connect(local=folder)  # and it still answers
    assert len(local.aggregate([{"source": {"visitors": None}}])) == len(subscription.visitors)


def test_standalone_server_serves_an_extract(extracted):
    """``python -m pendo_nb.sandbox --extract FOLDER``: any HTTP client can ask the extract."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "pendo_nb.sandbox", "--extract", str(extracted.day), "--port", "0"],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        banner = server.stdout.readline()
        assert f"extract {extracted.day}" in banner
        url = banner.split(": ", 1)[1].split()[0]
        client = pn.PendoClient(DEMO_KEY, base_url=url, cache=False)
        days = {"period": "dayRange", "first": "now()", "count": -3}
        local = pn.connect(local=extracted.day)
        body = [{"source": {"events": None, "timeSeries": days}}]
        assert client.aggregate(body).equals(local.aggregate(body))
    finally:
        server.terminate()
        server.wait(timeout=30)
