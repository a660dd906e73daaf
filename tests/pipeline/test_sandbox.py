"""The builder against a real sandbox server: report pipelines round-trip and give the reports'
own rows, pipelines run, and equal pipelines share a cache entry."""

from __future__ import annotations

import orjson
import pytest

import pendo_nb as pn
from pendo_nb.pipeline import Pipeline, col, lit

from .normalize import normalize_steps


@pytest.fixture(scope="module")
def client(sandbox):
    return pn.connect(sandbox=sandbox, cache=False)


def report_pipelines(sandbox):
    return [
        (report["id"], report["aggregation"]["pipeline"]) for report in sandbox.subscription.reports
    ]


def test_every_report_pipeline_round_trips(sandbox):
    pipelines = report_pipelines(sandbox)
    assert pipelines
    for _, steps in pipelines:
        written = Pipeline.from_json(steps).to_json()["request"]["pipeline"]
        assert written == normalize_steps(steps)


def test_report_pipelines_rebuilt_from_code_give_the_reports_rows(sandbox, client):
    # Only List reports have retrievable contents (reference 2.5).
    lists = [r for r in sandbox.subscription.reports if r["definition"]["type"] == "List"]
    assert lists
    for report in lists:
        expected = orjson.loads(client.get_report_results(report["id"]).content)
        steps = report["aggregation"]["pipeline"]
        rebuilt = eval(str(Pipeline.from_json(steps).to_code()), {"pn": pn})  # our own code
        answer = orjson.loads(client.post_aggregation(rebuilt).content)
        assert answer["results"] == expected


def test_visitors_come_back_as_generated(sandbox, client):
    first_ids = sorted(sandbox.subscription.visitors)[:5]
    frame = pn.source.visitors().select(id="visitorId").sort("id").limit(5).run(client=client)
    assert frame["id"].tolist() == first_ids


def test_run_uses_the_default_client(sandbox):
    pn.connect(sandbox=sandbox, cache=False)
    assert len(pn.source.visitors().count().run()) == 1


@pytest.mark.parametrize(
    "text",
    ['quote " inside', "back\\slash", "tick ` tick", 'all: " \\ `', "line\nbreak"],
)
def test_quoted_strings_are_accepted_and_match_exactly(sandbox, client, text):
    visitor_id = sorted(sandbox.subscription.visitors)[0]
    p = (
        pn.source.visitors()
        .eval(probe=lit(text))
        .filter((col("visitorId") == visitor_id) & (col("probe") == text))
        .select(id="visitorId", probe="probe")
    )
    frame = p.run(client=client)
    assert frame["id"].tolist() == [visitor_id]
    assert frame["probe"].tolist() == [text]


def test_email_filter_finds_the_one_visitor(sandbox, client):
    with_email = [
        (vid, row) for vid, row in sorted(sandbox.subscription.visitors.items())
        if row["metadata"]["agent"].get("email")
    ]  # fmt: skip
    visitor_id, visitor = with_email[len(with_email) // 2]
    email = visitor["metadata"]["agent"]["email"]
    frame = (
        pn.source.visitors()
        .filter(col("metadata.agent.email") == email)
        .select(id="visitorId")
        .run(client=client)
    )
    expected = [vid for vid, row in sandbox.subscription.visitors.items()
                if row["metadata"]["agent"].get("email") == email]  # fmt: skip
    assert sorted(frame["id"].tolist()) == sorted(expected) and visitor_id in expected


def test_preview_adds_a_trailing_limit(sandbox, client):
    p = pn.source.visitors().select(id="visitorId").sort("-id")
    last_three = sorted(sandbox.subscription.visitors, reverse=True)[:3]
    assert p.preview(3, client=client)["id"].tolist() == last_three
    assert len(p.steps) == 3  # preview did not change p


def test_equal_pipelines_share_a_cache_entry(sandbox):
    cached = pn.connect(sandbox=sandbox, cache=True)
    built = pn.source.accounts().select(id="accountId").sort("id").limit(4)
    read = Pipeline.from_json(
        [
            {"source": {"accounts": {}}},
            {"select": {"id": "accountId"}},
            {"sort": ["id"]},
            {"limit": 4},
        ]
    )
    assert built == read
    first = built.run(client=cached)
    second = read.run(client=cached)
    assert not first.attrs["from_cache"]
    assert second.attrs["from_cache"]
    assert first["id"].tolist() == second["id"].tolist()


def _operator_pipelines(subscription):
    """One small pipeline per builder method, over rows where the method makes sense."""
    page_id = subscription.pages[0]["id"]
    visitor_segment = next(s["id"] for s in subscription.segments if s["kind"] == "visitor")
    page_events = pn.source.page_events(page_id=page_id).last(7)
    events = pn.source.events(app_id="*").last(3)
    visitors = pn.source.visitors().limit(20)
    return {
        "filter": visitors.filter(col("visitorId").not_null()),
        "select": visitors.select({"id": "visitorId", "Visitor email": "metadata.agent.email"}),
        "eval": events.eval(hours=col("numMinutes") / 60),
        "set": visitors.set(flag=True, tags=["a"]),
        "group": events.group("visitorId", "day", n=pn.agg.count(), e=pn.agg.sum("numEvents")),
        "group list form": events.group("accountId", list_form=True, m=pn.agg.max("numMinutes")),
        "group keys only": events.group("visitorId"),
        "reduce": events.reduce(
            visitors=pn.agg.count("visitorId"),
            active=pn.agg.count_if("visitorId", "numEvents > 1"),
            avg=pn.agg.avg("numMinutes"),
            median=pn.agg.median("numMinutes"),
            first=pn.agg.first("visitorId"),
        ),
        "reduce list form": events.reduce(total=pn.agg.sum("numEvents"), list_form=True),
        "sort": visitors.sort("-visitorId"),
        "limit": visitors.limit(2),
        "count": events.count(),
        "cat": visitors.cat(),
        "identified": events.identified("visitorId"),
        "identified anonymous": events.identified("visitorId", anonymous=True),
        "bulk_expand": events.limit(5).bulk_expand("account", account="accountId"),
        "expand": page_events.limit(5).expand("page", page="pageId"),
        "item_seen": visitors.item_seen("seen", page_id=page_id),
        "segment": visitors.segment(visitor_segment),
        "useragent": events.limit(5).useragent("ua"),
        "unwind": visitors.select(id="visitorId", ids="metadata.auto.accountids").unwind(
            "ids", index="i", keep_empty=True
        ),
        "switch": events.switch(
            "size", "numEvents", [{"value": "small", "<": 5}, {"value": "big", ">=": 5}]
        ),
        "fork": events.fork(Pipeline().count(), Pipeline().limit(1)),
        "spawn": Pipeline().spawn(pn.source.visitors().count(), pn.source.accounts().count()),
        "join": Pipeline()
        .spawn(
            pn.source.visitors().select(id="visitorId", a="visitorId"),
            pn.source.visitors().select(id="visitorId", b="metadata.agent.email"),
        )
        .join("id", width=2),
        "merge": events.limit(10).merge(
            "accountId", pn.source.accounts(), mappings={"plan": "metadata.agent.plan"}
        ),
        "between": pn.source.events().between("2026-10-01", "2026-10-03"),
        "on": pn.source.events(app_id="web").on("2026-10-20").count(),
        "last including the current period": pn.source.events()
        .last(2, "weeks", include_current=True)
        .count(),
    }


def test_every_operator_the_builder_writes_runs_on_the_sandbox(sandbox, client):
    for name, pipeline in _operator_pipelines(sandbox.subscription).items():
        try:
            pipeline.run(client=client)
        except pn.BadRequestError as error:  # pragma: no cover - the message is the point
            pytest.fail(f"{name}: the sandbox refused {pipeline.to_json()}: {error}")


def test_to_curl_with_a_client_uses_its_host_and_never_its_key(sandbox, client):
    curl = str(pn.source.visitors().limit(1).to_curl(client=client))
    assert f"'{sandbox.url}/api/v1/aggregation'" in curl
    assert sandbox.key not in curl and "$PENDO_INTEGRATION_KEY" in curl
