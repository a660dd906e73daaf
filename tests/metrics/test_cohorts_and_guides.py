"""retention, feature_adoption, pes, nps and guide_conversion against plain computations over
the sandbox's raw rows (tests/metrics/reference.py), in UTC and across New York's DST change."""

from __future__ import annotations

import pandas as pd
import pytest

import pendo_nb as pn
from tests.metrics import reference as ref

RANGES = {
    "UTC": [("2026-10-03", "2026-10-31"), ("2026-10-11", "2026-10-24")],
    "America/New_York": [("2026-10-11", "2026-11-09"), ("2026-10-25", "2026-11-07")],
}
CORE_EVENTS = ["Dashboard", "Create Project", "Report Exported"]  # a page, a feature, a track type
CORE_SOURCES = [("pageEvents", "pages", "pageId"), ("featureEvents", "features", "featureId"),
                ("trackEvents", "trackTypes", "trackTypeId")]  # fmt: skip
EMPTY_RANGE = ("2020-03-01", "2020-03-31")  # before any first visit or event


def week_start(day: pd.Timestamp) -> pd.Timestamp:
    return day - pd.Timedelta(days=(day.day_of_week + 1) % 7)


def expected_retention(server, tz, unit, first, last, cohort, periods, activity_page=None):
    length = {"month": 30, "week": 7}[cohort]
    last_day = pd.Timestamp(last)
    firsts = {
        u: day
        for u, day in ref.first_visits(server, unit, tz).items()
        if pd.Timestamp(first) <= day <= last_day
    }
    if activity_page is None:
        rows = ref.hourly_rows(server, first, last, tz)
    else:
        rows = ref.hourly_rows(server, first, last, tz, "pageEvents", pageId=activity_page)
    active_days: dict[str, set] = {}
    for day, u in ref.active_units(rows, unit).itertuples(index=False):
        active_days.setdefault(u, set()).add(day)
    cohorts: dict[pd.Timestamp, list] = {}
    for u, day in firsts.items():
        key = week_start(day) if cohort == "week" else day.replace(day=1)
        cohorts.setdefault(key, []).append((u, day))
    out = []
    for key in sorted(cohorts):
        members = cohorts[key]
        shown = 0
        for _, day in members:
            begun = 0
            while begun < periods and day + pd.Timedelta(days=begun * length) <= last_day:
                begun += 1
            shown = max(shown, begun)
        for k in range(shown):
            retained, complete = 0, True
            for u, day in members:
                start = day + pd.Timedelta(days=k * length)
                stop = start + pd.Timedelta(days=length - 1)
                complete &= stop <= last_day
                if any(start <= d <= stop for d in active_days.get(u, ())):
                    retained += 1
            out.append((key, k, len(members), retained, 100 * retained / len(members), complete))
    return out


@pytest.mark.parametrize("unit", ["visitor", "account"])
@pytest.mark.parametrize("cohort,periods", [("week", 4), ("month", 2)])
def test_retention_counts_each_unit_from_its_own_first_visit(zone, unit, cohort, periods):
    server, tz, client = zone
    for first, last in RANGES[tz]:
        got = pn.metrics.retention(cohort, unit, first, last, periods=periods, client=client)
        expected = expected_retention(server, tz, unit, first, last, cohort, periods)
        assert expected, "the range should hold cohorts"
        assert [tuple(row) for row in pd.DataFrame(got).itertuples(index=False)] == expected


def test_retention_narrowed_to_one_page(zone):
    server, tz, client = zone
    first, last = RANGES[tz][0]
    page = ref.catalog_id(server, "pages", "Reports")
    got = pn.metrics.retention("week", "visitor", first, last, activity="Reports", client=client)
    expected = expected_retention(server, tz, "visitor", first, last, "week", 6, page)
    assert [tuple(row) for row in pd.DataFrame(got).itertuples(index=False)] == expected
    everything = pn.metrics.retention("week", "visitor", first, last, client=client)
    assert (got["retained"] <= everything["retained"]).all()
    assert (got["retained"] < everything["retained"]).any()


def core_event_units(server, tz, unit, first, last):
    """{event name: set of units that used it} and the set of active units."""
    active = set(ref.active_units(ref.hourly_rows(server, first, last, tz), unit)["unit"])
    used = {}
    for name, (source, catalog, field) in zip(CORE_EVENTS, CORE_SOURCES, strict=True):
        object_id = ref.catalog_id(server, catalog, name)
        rows = ref.hourly_rows(server, first, last, tz, source, **{field: object_id})
        used[name] = set(ref.active_units(rows, unit)["unit"]) if len(rows) else set()
    return used, active


@pytest.mark.parametrize("unit", ["visitor", "account"])
def test_feature_adoption_is_the_share_of_active_units(zone, unit):
    server, tz, client = zone
    for first, last in RANGES[tz]:
        got = pn.metrics.feature_adoption(CORE_EVENTS, unit, first, last, client=client)
        used, active = core_event_units(server, tz, unit, first, last)
        assert got["event"].tolist() == CORE_EVENTS
        assert got["kind"].tolist() == ["page", "feature", "trackType"]
        assert got["active"].tolist() == [len(active)] * 3
        adopters = [len(used[name] & active) for name in CORE_EVENTS]
        assert got["adopters"].tolist() == adopters
        assert got["share"].tolist() == [100 * n / len(active) for n in adopters]


@pytest.mark.parametrize("unit", ["visitor", "account"])
def test_pes_components_follow_their_stated_formulas(zone, unit):
    server, tz, client = zone
    last = RANGES[tz][0][1]
    got = pn.metrics.pes(CORE_EVENTS, unit, last, client=client)
    end = pd.Timestamp(last)
    first = (end - pd.Timedelta(days=29)).date().isoformat()
    before = (end - pd.Timedelta(days=59)).date().isoformat()
    before_last = (end - pd.Timedelta(days=30)).date().isoformat()
    used, now = core_event_units(server, tz, unit, first, last)
    earlier = set(ref.active_units(ref.hourly_rows(server, before, before_last, tz), unit)["unit"])
    adoption = 100 * sum(sum(u in used[n] for n in CORE_EVENTS) for u in now) / len(now) / 3
    ratios = [row[3] for row in ref.stickiness(server, tz, unit, first, last, "DAU/MAU", False)]
    ratios = [value for value in ratios if value is not None]
    stickiness = sum(ratios) / len(ratios)
    firsts = ref.first_visits(server, unit, tz)
    new = {u for u in now if pd.Timestamp(first) <= firsts.get(u, pd.Timestamp(0)) <= end}
    recovered = now - earlier - new
    dropped = earlier - now
    growth = 100 * (len(new) + len(recovered)) / (len(new) + len(recovered) + len(dropped))
    scores = got.set_index("component")["score"]
    assert scores["adoption"] == pytest.approx(adoption, rel=1e-12)
    assert scores["stickiness"] == pytest.approx(stickiness, rel=1e-12)
    assert scores["growth"] == growth
    assert scores["PES"] == pytest.approx((adoption + stickiness + growth) / 3, rel=1e-12)
    assert got.headline == scores["PES"]
    assert got.set_index("component")["basis"]["growth"] == "assumption"


def nps_row(answers: pd.DataFrame):
    latest = answers.sort_values("browserTime").drop_duplicates("visitorId", keep="last")
    scores = latest["pollResponse"].astype(int)
    counts = [
        int(scores.between(0, 6).sum()),
        int(scores.between(7, 8).sum()),
        int((scores >= 9).sum()),
    ]
    shares = [100 * n / len(latest) for n in counts]
    return [len(latest), *counts, *shares, shares[2] - shares[0]]


def test_nps_overall_and_per_week(zone):
    server, tz, client = zone
    guide = ref.catalog_id(server, "guides", "Acme Projects NPS")
    guide_row = next(
        g for g in ref.post(server, [{"source": {"guides": None}}]) if g["id"] == guide
    )
    poll = next(p["id"] for p in guide_row["polls"] if p["attributes"]["type"] == "NPSRating")
    for first, last in RANGES[tz]:
        got = pn.metrics.nps("Acme Projects NPS", first, last, period="week", client=client)
        rows = ref.raw_rows(server, "pollEvents", first, last, tz, guideId=guide)
        rows = rows[(rows["pollId"] == poll)]
        rows = rows[pd.to_numeric(rows["pollResponse"], errors="coerce").notna()]
        expected = [["overall", pd.Timestamp(first), *nps_row(rows)]]
        weeks = rows["day"].map(week_start)
        for week in sorted(weeks.unique()):
            expected.append(["week", week, *nps_row(rows[weeks == week])])
        assert [list(row) for row in pd.DataFrame(got).itertuples(index=False)] == expected
        assert got.headline == expected[0][-1]
    # The poll's own id gives the same answer as its guide's name; period=None: overall only.
    by_id = pn.metrics.nps(poll, first, last, period=None, client=client)
    assert [list(row) for row in pd.DataFrame(by_id).itertuples(index=False)] == expected[:1]


@pytest.mark.parametrize("unit", ["visitor", "account"])
def test_guide_conversion_needs_the_target_after_the_first_step(zone, unit):
    server, tz, client = zone
    field = ref.UNIT_FIELDS[unit]
    guide = ref.catalog_id(server, "guides", "Welcome to Acme Projects")
    steps = next(g for g in ref.post(server, [{"source": {"guides": None}}]) if g["id"] == guide)[
        "steps"
    ]
    first_step = min(steps, key=lambda step: step["rank"])["id"]
    feature = ref.catalog_id(server, "features", "Create Project")
    for first, last in RANGES[tz]:
        got = pn.metrics.guide_conversion(
            "Welcome to Acme Projects", "Create Project", unit, first, last, client=client
        )
        seen = ref.raw_rows(server, "guideEvents", first, last, tz, guideId=guide)
        seen = seen[(seen["guideStepId"] == first_step) & (seen["type"] == "guideSeen")]
        seen = seen[seen[field].fillna("") != ""]
        if unit == "visitor":
            seen = seen[~seen[field].str.startswith(ref.ANONYMOUS)]
        first_seen = seen.groupby(field)["browserTime"].min()
        acted = ref.hourly_rows(server, first, last, tz, "featureEvents", featureId=feature)
        acted = acted.loc[ref.active_units(acted, unit).index]
        last_act = acted.groupby(field)["lastTime"].max()
        converted = sum(
            1 for u, when in first_seen.items() if u in last_act.index and last_act[u] > when
        )
        assert got["saw"].tolist() == [len(first_seen)]
        assert got["converted"].tolist() == [converted]
        assert got["rate"].tolist() == [100 * converted / len(first_seen)]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: pn.metrics.retention("week", "visitor", *EMPTY_RANGE, client=c),
        lambda c: pn.metrics.feature_adoption(CORE_EVENTS, "account", *EMPTY_RANGE, client=c),
        lambda c: pn.metrics.pes(CORE_EVENTS, "visitor", EMPTY_RANGE[1], client=c),
        lambda c: pn.metrics.nps("Acme Projects NPS", *EMPTY_RANGE, client=c),
        lambda c: pn.metrics.guide_conversion(
            "Welcome to Acme Projects", "Create Project", "visitor", *EMPTY_RANGE, client=c
        ),
    ],
)
def test_an_empty_range_gives_an_empty_frame_with_its_columns(zone, call):
    got = call(zone[2])
    assert got.empty and len(got.columns) >= 4
    assert got.headline is None


def test_unknown_or_ambiguous_objects_are_named_in_the_error(sandbox):
    client = pn.connect(sandbox=sandbox, cache=False)
    with pytest.raises(pn.ValidationError, match="no page, feature or track type .*'Nope'"):
        pn.metrics.feature_adoption(["Dashboard", "Nope"], client=client)
    with pytest.raises(pn.ValidationError, match="no guide has the id or name 'Nope'"):
        pn.metrics.guide_conversion("Nope", "Dashboard", client=client)
    with pytest.raises(pn.ValidationError, match="NPS polls"):
        pn.metrics.nps("Welcome to Acme Projects", client=client)
