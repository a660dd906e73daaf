"""Pseudonymized recordings hold no real person or customer, whatever the notebook computes.

Random pipelines (hypothesis) over a real sandbox select, group by, ``eval`` (``toLowerCase``,
``split``, ``toString``, comparisons), ``expand`` and ``merge`` people and customer fields; the
same session also reads report contents (JSON and CSV), guide and poll events, lookups and visitor
history. Neither the snapshot file nor any frame the notebook received may hold a real visitor id,
e-mail address, its local part or company domain, person name, account id or account name,
gathered here from the sandbox's subscription directly (never through the library).

The sandbox's subscription gets fields of unknown meaning first (its private copy: the generated
default data is unchanged): a free-text note mentioning real people and customers, a custom
account field holding names of people who are not visitors, and free-text poll answers naming
someone. ``pseudonymize="strict"`` must hide those too (the same pipelines run in both modes).
"""

from __future__ import annotations

import gzip
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pendo_nb as pn
from pendo_nb.http.known_values import strings_of_answer
from pendo_nb.sandbox import Sandbox

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Outsiders: people named in the data who are not visitors (the strict test hides them too).
EXECUTIVES = ("Morgan Blake", "Dana Whitfield", "Rafael Quintero")
POLL_NOTE = "Please ask Morgan Blake to call me back about the invoice"
# What each test tried and checked, printed at the end (the closing notes cite them).
COUNTS: Counter[str] = Counter()


def plant_unknown_fields(server: Sandbox) -> None:
    """Fields the library cannot know by name, on the sandbox's own copy of its subscription."""
    subscription = server.subscription
    account_names = {
        a: row["metadata"]["agent"]["name"] for a, row in subscription.accounts.items()
    }
    for index, row in enumerate(subscription.visitors.values()):
        account = row["metadata"]["auto"]["accountid"]
        person = row["metadata"]["agent"].get("name", "someone")
        row["metadata"].setdefault("custom", {})["notes"] = (
            f"Renewal call #{index}: {person} of {account_names.get(account, 'no account')} "
            f"asked for a discount"
        )
    for index, row in enumerate(subscription.accounts.values()):
        row["metadata"]["custom"]["executive"] = EXECUTIVES[index % len(EXECUTIVES)]
    # Poll rows are shared with other sandboxes of this process: new rows, in a new list.
    subscription.poll_events = [
        {**row, "pollResponse": POLL_NOTE} if isinstance(row.get("pollResponse"), str) else row
        for row in subscription.poll_events
    ]


def real_values(server: Sandbox, *, strict: bool) -> set[str]:
    """Every real value that must not leave, from the subscription itself (casefolded)."""
    subscription = server.subscription
    values: set[str] = set()
    for visitor_id, row in subscription.visitors.items():
        values.add(visitor_id)
        agent = row["metadata"]["agent"]
        if "email" in agent:
            local, domain = agent["email"].rsplit("@", 1)
            values |= {agent["email"], local, domain, agent["name"]}
    for account_id, row in subscription.accounts.items():
        values |= {account_id, row["metadata"]["agent"]["name"]}
        if strict:
            values |= {row["metadata"]["custom"]["csm"], row["metadata"]["custom"]["executive"]}
    if strict:
        values |= {*EXECUTIVES, POLL_NOTE, "asked for a discount"}
    return {value.casefold() for value in values}


def leaks(text: str, values: set[str]) -> list[str]:
    folded = text.casefold()
    return sorted(value for value in values if value in folded)


def frame_text(frame: pd.DataFrame) -> str:
    """Everything a notebook shows of a frame: column names and every cell, lists included."""
    COUNTS["frames"] += 1
    COUNTS["cells checked"] += frame.size + len(frame.columns)
    return frame.to_csv()


def file_text(path: Path) -> str:
    """Every string the snapshot holds: its manifest and every answer, decompressed."""
    parts = []
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            data = gzip.decompress(data) if name.endswith(".gz") else data
            for _, text in strings_of_answer(data, "application/json"):
                COUNTS["file strings checked"] += 1
                parts.append(text)
            if not data.lstrip().startswith((b"{", b"[")):  # a CSV answer
                for _, text in strings_of_answer(data, "text/csv"):
                    COUNTS["file strings checked"] += 1
                    parts.append(text)
    return "\n".join(parts)


# -- random pipelines ---------------------------------------------------------------------------

EVENTS = {
    "source": {
        "events": {"appId": 'expandAppIds("*")'},
        "timeSeries": {"period": "dayRange", "first": "now()", "count": -7},
    }
}
VISITOR_EVALS = (
    "toLowerCase(visitorId)",
    'split(visitorId, "@")',
    'split(metadata.agent.email, "@")',
    "toLowerCase(metadata.agent.email)",
    "toString(metadata.agent.name)",
    "toLowerCase(metadata.agent.name)",
    'metadata.agent.role == "admin"',
    "toString(metadata.auto.accountids)",
    "toLowerCase(metadata.custom.notes)",
    'split(metadata.custom.notes, ":")',
)
ACCOUNT_EVALS = (
    "toLowerCase(accountId)",
    "toLowerCase(metadata.agent.name)",
    "toString(metadata.agent.name)",
    'metadata.agent.plan == "pro"',
    "toLowerCase(metadata.custom.csm)",
    "toString(metadata.custom.executive)",
)
MERGE_ACCOUNTS = {
    "merge": {
        "fields": ["accountId"],
        "mappings": {"company": "metadata.agent.name", "manager": "metadata.custom.csm"},
        "pipeline": [{"source": {"accounts": None}}],
    }
}


@st.composite
def pipelines(draw) -> list[dict]:
    kind = draw(st.sampled_from(["visitors", "accounts", "events"]))
    outputs = []
    if kind == "events":
        key = draw(st.sampled_from(["visitorId", "accountId"]))
        steps: list[dict] = [
            EVENTS,
            {"group": {"group": [key], "fields": [{"events": {"sum": "numEvents"}}]}},
        ]
        if draw(st.booleans()):
            lookup = "visitor" if key == "visitorId" else "account"
            steps.append({"expand": {"who": {lookup: key}}})
        if key == "accountId" and draw(st.booleans()):
            steps.append(MERGE_ACCOUNTS)
    else:
        steps = [{"source": {kind: None}}]
        evals = VISITOR_EVALS if kind == "visitors" else ACCOUNT_EVALS
        chosen = draw(st.lists(st.sampled_from(evals), max_size=3, unique=True))
        if chosen:
            named = {f"e{index}": expression for index, expression in enumerate(chosen)}
            steps.append({"eval": named})
            outputs += list(named)
        if kind == "visitors" and draw(st.booleans()):
            steps.append({"expand": {"acct": {"account": "metadata.auto.accountid"}}})
        if kind == "visitors" and draw(st.booleans()):
            steps += [{"eval": {"accountId": "metadata.auto.accountid"}}, MERGE_ACCOUNTS]
        grouping = draw(st.sampled_from(["none", "key", "field"]))
        if grouping != "none":
            field = (
                ("visitorId" if kind == "visitors" else "accountId")
                if grouping == "key"
                else (draw(st.sampled_from(outputs or ["metadata.agent.name"])))
            )
            steps.append({"group": {"group": [field], "fields": [{"n": {"count": None}}]}})
        elif draw(st.booleans()):
            source = (
                "metadata.agent.name"
                if draw(st.booleans())
                else ("visitorId" if kind == "visitors" else "accountId")
            )
            steps.append({"select": {"who": source, **{name: name for name in outputs}}})
    steps.append({"limit": draw(st.integers(1, 12))})
    return steps


class Session:
    """A recording session on the planted sandbox, and what its notebook received."""

    def __init__(self, server: Sandbox, path: Path, mode: bool | str) -> None:
        self.path, self.mode = path, mode
        self.client = pn.connect(sandbox=server, record=path, pseudonymize=mode, cache=False)
        self.values = real_values(server, strict=mode == "strict")

    def check(self, frame: pd.DataFrame, what: str) -> None:
        found = leaks(frame_text(frame), self.values)
        assert found == [], f"{what}: real values in the frame: {found[:5]}"

    def fixed_calls(self) -> None:
        """Reports (JSON, CSV), guide and poll events, lookups and visitor history."""
        client = self.client
        listed = client.reports()
        self.check(listed, "reports")
        for report_id in listed.loc[listed["definition.type"] == "List", "id"]:
            self.check(client.report(report_id), f"report {report_id}")
            self.check(client.report_csv(report_id), f"report_csv {report_id}")
        for source in (pn.source.guide_events(), pn.source.poll_events()):
            self.check(source.last(30, "days").limit(200).run(client=client), "guide/poll")
        top = client.aggregate([EVENTS, {"group": {"group": ["visitorId"]}}, {"limit": 3}])
        visitor_id = top["visitorId"].iloc[0]
        visitor = client.visitor(visitor_id)
        self.check(visitor, "visitor")
        self.check(client.account(visitor["accountIds"].iloc[0][0]), "account")
        history = client.visitor_history(visitor_id, start="2026-10-28", end="2026-10-30")
        self.check(history, "history")

    def check_file(self) -> None:
        self.client.finish_recording()
        found = leaks(file_text(self.path), self.values)
        assert found == [], f"real values in the file: {found[:5]}"


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    server = Sandbox(size="small")
    plant_unknown_fields(server)
    with server:
        yield server, tmp_path_factory.mktemp("pseudonyms")


@pytest.fixture(scope="module", params=[True, "strict"], ids=["pseudonymize=True", "strict"])
def session(planted, request):
    server, folder = planted
    recording = Session(server, folder / f"{request.param}.pendo", request.param)
    recording.fixed_calls()
    return recording


@SETTINGS
@given(steps=pipelines())
def test_no_frame_of_a_pseudonymized_session_holds_a_real_person(session, steps):
    COUNTS[f"pipelines ({session.mode})"] += 1
    session.check(session.client.aggregate(steps, progress=False), str(steps))


def test_nor_does_its_file(session):
    session.check_file()
    print(f"\nproperty test counts so far ({session.mode}):", dict(COUNTS))  # for the notes
    assert COUNTS[f"pipelines ({session.mode})"] >= 10
