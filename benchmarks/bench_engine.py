"""The sandbox engine next to pandas doing the same work on the same rows, over the ``large`` data.

Each figure is the best of a few runs. The pandas baselines start from the same inputs the engine
starts from: the raw ``EventTable`` for event-source work (pandas groups the raw events into
Pendo's rows itself), the subscription's visitor objects for object work. For the group-by there
are two ratios: end to end (engine source + group vs pandas from raw events), and the group step
alone (engine's step on its source rows vs pandas' ``groupby`` on a DataFrame of the same rows);
likewise for unwind: visitors select + unwind end to end, and the unwind step alone on the selected
rows vs pandas' ``explode``. Target: every ratio <= 2x.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from pendo_nb.sandbox.engine import run_pipeline
from pendo_nb.sandbox.engine.context import EvalContext
from pendo_nb.sandbox.engine.operators.grouping import compile_group
from pendo_nb.sandbox.engine.operators.row_steps import compile_unwind
from pendo_nb.sandbox.engine.rows import as_records
from pendo_nb.sandbox.engine.run_state import Limits, RunState, StepEnv
from pendo_nb.sandbox.engine.sources import compile_source
from pendo_nb.sandbox.subscription.generate import generate
from pendo_nb.sandbox.subscription.model import CLICK, PAGE_LOAD, Subscription

DAY_MS = 86_400_000
_RUNS = 3
# The ``large`` data's 30 days now hold 2.2M grouped event rows, over the server's default cap of
# 2M (a request that large answers 413); the benchmark measures speed, so it lifts the cap.
LIMITS = Limits(max_rows=4_000_000)
# Targets (issue 18): every operator within 2x of pandas; the group step and the end-to-end query
# no worse than the figures measured before the engine work of that issue.
OPERATOR_TARGET = 2.0

EVENTS_30_DAYS = {
    "source": {"events": None, "timeSeries": {"period": "dayRange", "first": "now()", "count": -30}}
}
GROUP_BY_VISITOR = {"group": {"group": ["visitorId"], "fields": {
    "numEvents": {"sum": "numEvents"}, "numMinutes": {"sum": "numMinutes"}}}}  # fmt: skip


def _best(work: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(_RUNS):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def _report(name: str, engine_s: float, pandas_s: float) -> None:
    ratio = engine_s / pandas_s
    verdict = "met" if ratio <= OPERATOR_TARGET else "MISSED"
    print(f"{name:<46} engine {engine_s * 1000:8.0f} ms   pandas {pandas_s * 1000:8.0f} ms   "
          f"ratio {ratio:5.1f}x  (target <= {OPERATOR_TARGET:g}x): {verdict}",
          flush=True)  # fmt: skip


def _last_30_days(sub: Subscription) -> tuple[int, int]:
    end = sub.now_ms - sub.now_ms % DAY_MS  # the subscription is UTC here: midnight today
    return end - 30 * DAY_MS, end


def pandas_event_rows(sub: Subscription) -> pd.DataFrame:
    """Pendo's grouped ``events`` rows for the last 30 days, computed with plain pandas."""
    start, end = _last_30_days(sub)
    table = sub.events
    frame = pd.DataFrame({"ts": table.ts, "visitor": table.visitor, "account": table.account,
                          "app": table.app, "kind": table.kind, "ip": table.ip,
                          "server": table.server, "ua": table.user_agent})  # fmt: skip
    frame = frame[(frame.ts >= start) & (frame.ts < end) & frame.kind.isin([PAGE_LOAD, CLICK])
                  & (frame.app == 0)]  # fmt: skip
    frame = frame.assign(day=start + (frame.ts - start) // DAY_MS * DAY_MS,
                         minute=frame.ts // 60_000)  # fmt: skip
    keys = ["visitor", "account", "app", "day", "ip", "server", "ua"]
    grouped = frame.groupby(keys, sort=False)
    rows = grouped.agg(numEvents=("ts", "size"), firstTime=("ts", "min"), lastTime=("ts", "max"))
    rows["numMinutes"] = frame.drop_duplicates([*keys, "minute"]).groupby(keys, sort=False).size()
    rows = rows.reset_index()
    rows["visitorId"] = np.asarray(sub.visitor_ids, dtype=object)[rows["visitor"]]
    return rows


def bench_group_by(sub: Subscription) -> None:
    engine_s, engine_rows = _best(
        lambda: run_pipeline([EVENTS_30_DAYS, GROUP_BY_VISITOR], sub, limits=LIMITS)
    )
    pandas_s, pandas_rows = _best(
        lambda: pandas_event_rows(sub).groupby("visitorId")[["numEvents", "numMinutes"]].sum()
    )
    assert len(engine_rows) == len(pandas_rows), (len(engine_rows), len(pandas_rows))
    _report("events 30 days + group by visitor (end to end)", engine_s, pandas_s)

    # The group step alone: the engine's compiled step on the source's rows (a column batch) and
    # then turned into result rows, next to pandas' groupby on a DataFrame of the same rows.
    env = StepEnv(sub, EvalContext(sub.now_ms, sub.timezone, tuple(sub.apps)), LIMITS)
    batch = compile_source(EVENTS_30_DAYS, env, "source")(RunState(env.limits))
    group = compile_group(GROUP_BY_VISITOR["group"], env, "group")
    step_s, _ = _best(lambda: as_records(group(batch, RunState(env.limits))))
    frame = pd.DataFrame(as_records(batch))
    pandas_step_s, _ = _best(lambda: frame.groupby("visitorId")[["numEvents", "numMinutes"]].sum())
    print(f"  ({len(frame):,} event rows)")
    _report("  group step alone", step_s, pandas_step_s)


def bench_spawn_join(sub: Subscription) -> None:
    pipeline = [
        {"spawn": [
            [EVENTS_30_DAYS, GROUP_BY_VISITOR],
            [{"source": {"visitors": None}},
             {"select": {"visitorId": "visitorId", "email": "metadata.agent.email"}}],
        ]},
        {"join": {"fields": ["visitorId"], "width": 2}},
    ]  # fmt: skip
    engine_s, engine_rows = _best(lambda: run_pipeline(pipeline, sub, limits=LIMITS))

    def with_pandas() -> pd.DataFrame:
        usage = pandas_event_rows(sub).groupby("visitorId", as_index=False)[
            ["numEvents", "numMinutes"]].sum()  # fmt: skip
        people = pd.DataFrame({"visitorId": list(sub.visitors),
                               "email": [v["metadata"]["agent"].get("email")
                                         for v in sub.visitors.values()]})  # fmt: skip
        return usage.merge(people, on="visitorId", how="outer")

    pandas_s, pandas_rows = _best(with_pandas)
    assert len(engine_rows) == len(pandas_rows), (len(engine_rows), len(pandas_rows))
    _report("spawn(events group, visitors) + join", engine_s, pandas_s)


def bench_merge(sub: Subscription) -> None:
    pipeline = [
        {"source": {"visitors": None}},
        {"select": {"visitorId": "visitorId", "plan": "metadata.custom.plan"}},
        {"merge": {"fields": ["visitorId"], "mappings": {"numEvents": "numEvents"},
                   "pipeline": [EVENTS_30_DAYS, GROUP_BY_VISITOR]}},
    ]  # fmt: skip
    engine_s, engine_rows = _best(lambda: run_pipeline(pipeline, sub, limits=LIMITS))

    def with_pandas() -> pd.DataFrame:
        usage = pandas_event_rows(sub).groupby("visitorId", as_index=False)["numEvents"].sum()
        people = pd.DataFrame({"visitorId": list(sub.visitors),
                               "plan": [v["metadata"].get("custom", {}).get("plan")
                                        for v in sub.visitors.values()]})  # fmt: skip
        return people.merge(usage, on="visitorId", how="left")

    pandas_s, pandas_rows = _best(with_pandas)
    assert len(engine_rows) == len(pandas_rows), (len(engine_rows), len(pandas_rows))
    _report("visitors merge(events group by visitor)", engine_s, pandas_s)


def _explode_positions(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.explode("accountIds").dropna(subset=["accountIds"])
    return frame.assign(position=frame.groupby(level=0).cumcount())


def bench_unwind(sub: Subscription) -> None:
    select = [
        {"source": {"visitors": None}},
        {"select": {"visitorId": "visitorId", "accountIds": "metadata.auto.accountids"}},
    ]
    unwind = {"unwind": {"field": "accountIds", "index": "position"}}
    engine_s, engine_rows = _best(lambda: run_pipeline([*select, unwind], sub, limits=LIMITS))

    def with_pandas() -> pd.DataFrame:
        frame = pd.DataFrame({"visitorId": list(sub.visitors),
                              "accountIds": [v["metadata"]["auto"].get("accountids")
                                             for v in sub.visitors.values()]})  # fmt: skip
        return _explode_positions(frame)

    pandas_s, pandas_rows = _best(with_pandas)
    assert len(engine_rows) == len(pandas_rows), (len(engine_rows), len(pandas_rows))
    _report("visitors select + unwind accountIds", engine_s, pandas_s)

    # The unwind step alone on the selected rows, next to pandas' explode on a DataFrame of them.
    env = StepEnv(sub, EvalContext(sub.now_ms, sub.timezone, tuple(sub.apps)), LIMITS)
    rows = run_pipeline(select, sub, limits=LIMITS)
    step = compile_unwind(unwind["unwind"], env, "unwind")
    step_s, _ = _best(lambda: step(rows, RunState(env.limits)))
    frame = pd.DataFrame(rows)
    pandas_step_s, _ = _best(lambda: _explode_positions(frame))
    _report("  unwind step alone", step_s, pandas_step_s)


def main() -> None:
    started = time.perf_counter()
    sub = generate(size="large")
    print(
        f"generate(size='large'): {time.perf_counter() - started:.1f} s, "
        f"{len(sub.events):,} raw events, {len(sub.visitors):,} visitors",
        flush=True,
    )
    bench_group_by(sub)
    bench_spawn_join(sub)
    bench_merge(sub)
    bench_unwind(sub)


if __name__ == "__main__":
    main()
