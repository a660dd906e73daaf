"""VisitorLookup and AccountLookup driven without a browser, checked against raw sandbox answers."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from pendo_nb.errors import NotFoundError
from pendo_nb.widgets import AccountLookup, VisitorLookup
from pendo_nb.widgets._lookup import metadata_groups
from pendo_nb.widgets.visitor_lookup import daily_counts, history_view

DAY_MS = 86_400_000


def _group_headers(table_html: str) -> list[str]:
    return re.findall(r'<tr class="pendo-group"><th colspan="2">([^<]*)</th>', table_html)


def _a_visitor_with_an_account(sandbox) -> str:
    subscription = sandbox.subscription
    return next(
        v
        for v in subscription.visitor_ids
        if subscription.visitors[v]["metadata"]["auto"].get("accountids")
    )


def test_visitor_lookup_shows_the_visitor_grouped_by_metadata_group(client, sandbox, raw_get):
    visitor_id = _a_visitor_with_an_account(sandbox)
    raw = raw_get(f"/visitor/{visitor_id}")
    lookup = VisitorLookup(client=client)
    seen = []
    lookup.on_lookup(seen.append)

    lookup.value = visitor_id

    assert lookup.result["id"].tolist() == [visitor_id]
    assert seen == [lookup.result]
    headers = _group_headers(lookup.table.value)
    assert set(headers) == set(raw["metadata"])
    assert headers[:3] == [g for g in ("agent", "custom", "auto") if g in raw["metadata"]]
    for field, value in raw["metadata"]["agent"].items():
        assert f"<td>{field}</td><td>{value}</td>" in lookup.table.value
    assert lookup.accounts == raw["accountIds"]
    links = [b.description for b in lookup.account_buttons.children[1:]]
    assert links == raw["accountIds"]
    assert lookup.status.value == ""


def test_enter_in_the_id_box_looks_up_and_the_button_looks_up_again(client, sandbox):
    visitor_id = sandbox.subscription.visitor_ids[1]
    lookup = VisitorLookup(client=client)
    seen = []
    lookup.on_lookup(seen.append)

    lookup.id_box.value = f"  {visitor_id} "  # what the browser sends on Enter
    assert lookup.value == visitor_id
    lookup.lookup_button.click()

    assert len(seen) == 2
    assert lookup.result["id"].iloc[0] == visitor_id


def test_an_unknown_visitor_is_one_readable_line(client):
    lookup = VisitorLookup(client=client)
    lookup.value = "nobody-has-this-id"

    assert isinstance(lookup.status.error, NotFoundError)
    assert "Not found (404)" in lookup.status.value
    assert "Traceback" not in lookup.status.value
    assert lookup.result is None and lookup.table.value == ""
    assert lookup.details.layout.display == "none"
    assert lookup.history_button.disabled


def test_an_account_link_opens_the_account(client, sandbox, raw_get):
    visitor_id = _a_visitor_with_an_account(sandbox)
    account_id = raw_get(f"/visitor/{visitor_id}")["accountIds"][0]
    raw_account = raw_get(f"/account/{account_id}")
    lookup = VisitorLookup(client=client, value=visitor_id)

    lookup.account_buttons.children[1].click()

    panel = lookup.account_lookup
    assert isinstance(panel, AccountLookup)
    assert lookup.account_panel.children == (panel,)
    assert panel.value == account_id
    assert panel.result["id"].tolist() == [account_id]
    assert raw_account["metadata"]["agent"]["name"] in panel.table.value


def test_activity_chart_counts_history_items_per_day(client, sandbox, raw_get):
    visitor_id = _a_visitor_with_an_account(sandbox)
    lookup = VisitorLookup(client=client, value=visitor_id)
    first, last = lookup.history_start.value, lookup.history_end.value
    assert (last - first).days == 13  # two weeks ending with the last visit (the sandbox is UTC)
    last_visit = raw_get(f"/visitor/{visitor_id}")["metadata"]["auto"]["lastvisit"]
    assert last == dt.datetime.fromtimestamp(last_visit / 1000, dt.UTC).date()

    lookup.history_button.click()

    expected = {}
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        start = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)
        expected[day.isoformat()] = len(raw_get(f"/visitor/{visitor_id}/history?starttime={start}"))
    charted = {
        day: int(count)
        for day, count in re.findall(
            r'title="\w+ (\d{4}-\d\d-\d\d): (\d+) item', lookup.chart.value
        )
    }
    assert charted == expected
    assert sum(expected.values()) > 0
    assert len(lookup.history) == sum(expected.values())
    assert f"{sum(expected.values())} items over 14 days" in lookup.chart.value


def test_activity_needs_from_before_to(client, sandbox):
    lookup = VisitorLookup(client=client, value=sandbox.subscription.visitor_ids[0])
    lookup.history_start.value = dt.date(2026, 10, 20)
    lookup.history_end.value = dt.date(2026, 10, 10)

    assert lookup.load_history() is None
    assert "From date on or before the To date" in lookup.history_status.value
    assert lookup.history is None


def test_account_lookup_on_its_own(client, sandbox, raw_get):
    account_id = sandbox.subscription.account_ids[0]
    raw = raw_get(f"/account/{account_id}")
    lookup = AccountLookup(client=client, value=account_id)

    assert lookup.result["id"].tolist() == [account_id]
    assert set(_group_headers(lookup.table.value)) == set(raw["metadata"])


def test_daily_counts_fill_quiet_days_with_zero():
    history = pd.DataFrame(
        {
            "ts": pd.to_datetime(
                ["2026-10-01 09:00", "2026-10-01 18:00", "2026-10-03 00:00"], utc=True
            )
        }
    )
    counts = daily_counts(history, dt.date(2026, 9, 30), dt.date(2026, 10, 3))
    assert counts.tolist() == [0, 2, 0, 1]
    assert daily_counts(history.iloc[:0], dt.date(2026, 10, 1), dt.date(2026, 10, 2)).tolist() == [
        0,
        0,
    ]


def test_metadata_groups_put_plain_columns_first_then_agent_custom_auto():
    frame = pd.DataFrame(
        [[1, 2, 3, 4, 5, 6]],
        columns=[
            "metadata.auto.lastvisit",
            "metadata.zeta.x",
            "id",
            "metadata.custom.plan",
            "metadata.agent.email",
            "metadata.pendo.donotprocess",
        ],
    )
    groups = metadata_groups(frame)
    assert list(groups) == ["", "agent", "custom", "auto", "pendo", "zeta"]
    assert groups[""] == [("id", 3)]


def test_lookup_state_never_holds_the_key(client, sandbox, widget_state):
    lookup = VisitorLookup(client=client, value=_a_visitor_with_an_account(sandbox))
    lookup.account_buttons.children[1].click()
    lookup.history_button.click()
    state = widget_state(lookup)
    assert "pendo-chart" in state
    assert sandbox.key not in state


def test_the_text_form_of_a_widget_is_short_and_stable(client, sandbox):
    """What nbval compares for a displayed widget: no stylesheet, no generated ids."""
    visitor_id = sandbox.subscription.visitor_ids[0]
    lookup = VisitorLookup(client=client, value=visitor_id)
    assert repr(lookup) == f"VisitorLookup(value={visitor_id!r})"
    assert lookup._repr_mimebundle_()["text/plain"] == repr(lookup)
    assert repr(AccountLookup(client=client)) == "AccountLookup(value=None)"


def test_a_visitor_never_stays_under_another_id(client, sandbox):
    lookup = VisitorLookup(client=client)
    lookup.value = sandbox.subscription.visitor_ids[1]
    assert lookup.result is not None
    lookup.value = None  # the id box emptied
    assert lookup.result is None and lookup.table.value == ""


def test_the_history_table_names_what_each_item_is_about(client, sandbox, raw_get):
    visitor_id = _a_visitor_with_an_account(sandbox)
    lookup = VisitorLookup(client=client, value=visitor_id)
    lookup.history_button.click()

    shown = lookup.history_table.frame
    assert list(shown.columns) == ["ts", "type", "name", "duration", "id"]
    names = {
        item["id"]: item["name"]
        for path in ("/page", "/feature", "/tracktype", "/guide")
        for item in raw_get(f"{path}?expand=*")
    }
    for (_, item), (_, row) in zip(lookup.history.iterrows(), shown.iterrows(), strict=True):
        object_id = next(
            (
                item[c]
                for c in ("pageId", "featureId", "trackTypeId", "guideId")
                if _present(item, c)
            ),
            None,
        )
        if object_id is None:  # an untagged page: its URL stands for its name, it has no id
            assert row["name"] == item["untaggedUrl"] and pd.isna(row["id"])
        else:
            assert (row["id"], row["name"]) == (object_id, names[object_id])
        assert row["duration"] == pd.Timedelta(milliseconds=int(item["duration"]))
    assert shown["name"].notna().all()
    assert "pageName" not in lookup.history.columns  # .history is what visitor_history returns


def _present(row: pd.Series, column: str) -> bool:
    return column in row.index and isinstance(row[column], str)


def test_history_view_of_an_empty_history_has_its_columns():
    empty = pd.DataFrame(
        {"ts": pd.Series([], dtype="datetime64[ns, UTC]"), "type": [], "duration": []}
    )
    assert list(history_view(empty).columns) == ["ts", "type", "name", "duration", "id"]
