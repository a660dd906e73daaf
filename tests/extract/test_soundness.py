"""The fact an hour-grain extract rests on, checked on the demo sandbox with pandas alone.

Ten days of ``events`` day rows equal the roll-up of the same span's hour rows by the day key
(sums of numEvents and numMinutes, first firstTime, last lastTime), once both ranges start at the
same midnight.
"""

from __future__ import annotations

import pandas as pd

from pendo_nb.sandbox import Sandbox
from pendo_nb.sandbox.engine import run_aggregation

DAY_MS = 86_400_000


def test_ten_days_of_day_rows_are_the_hour_rows_rolled_up():
    subscription = Sandbox(size="demo").subscription
    midnight = subscription.now_ms - subscription.now_ms % DAY_MS - 10 * DAY_MS  # UTC sandbox
    keys = ["visitorId", "accountId", "appId", "pageId", "featureId", "remoteIp", "server",
            "userAgent"]  # fmt: skip

    def rows(period: str, count: int) -> pd.DataFrame:
        series = {"period": period, "first": midnight, "count": count}
        body = {"request": {"pipeline": [{"source": {"events": None, "timeSeries": series}}]}}
        return pd.DataFrame(run_aggregation(body, subscription)["results"])

    days = rows("dayRange", 10)
    hours = rows("hourRange", 240)
    hours["day"] = hours["hour"] - (hours["hour"] - midnight) % DAY_MS
    rolled = hours.groupby(["day", *keys], as_index=False).agg(
        numEvents=("numEvents", "sum"),
        numMinutes=("numMinutes", "sum"),
        firstTime=("firstTime", "min"),
        lastTime=("lastTime", "max"),
    )
    expected = days[["day", *keys, "numEvents", "numMinutes", "firstTime", "lastTime"]]
    expected = expected.sort_values(["day", *keys]).reset_index(drop=True)
    rolled = rolled.sort_values(["day", *keys]).reset_index(drop=True)
    assert len(expected) > 20_000, len(expected)  # 23,362 with the default seed
    pd.testing.assert_frame_equal(expected, rolled, check_dtype=False)
