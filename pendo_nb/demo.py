"""The quickstart (``make demo``): every operation once against the offline sandbox, no key needed.

Run with ``python -m pendo_nb.demo``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

import pendo_nb as pn

DAY = pd.Timedelta(days=1)


def _show(title: str, df: pd.DataFrame, columns: list[str] | None = None, rows: int = 5) -> None:
    print(f"\n>>> {title}")
    print(f"{df.shape[0]} rows x {df.shape[1]} columns")
    view = df[columns] if columns else df
    with pd.option_context(
        "display.width", 120, "display.max_columns", 8, "display.max_colwidth", 40
    ):
        print(view.head(rows).to_string())


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:  # the demo's cache never touches yours
        run(Path(scratch) / "cache.sqlite")


def run(cache: Path) -> None:
    client = pn.connect(sandbox=True, cache=cache)
    print(f"connected: {client!r}")

    visitors = pn.aggregate([{"source": {"visitors": None}}])
    _show(
        "pn.aggregate(visitors source)",
        visitors,
        [
            "visitorId",
            "metadata.agent.role",
            "metadata.custom.logincount",
            "metadata.auto.lastvisit",
        ],
    )
    print("dtypes of a few columns:")
    print(visitors.dtypes.head(8).to_string())

    weekly = pn.aggregate(
        [
            {
                "source": {
                    "events": {"appId": 'expandAppIds("*")'},
                    "timeSeries": {"period": "dayRange", "first": "now()", "count": -7},
                }
            },
            {"group": {"group": ["day"], "fields": {"events": {"sum": "numEvents"}}}},
            {"sort": ["day"]},
        ]
    )
    _show("pn.aggregate(events per day, last 7 days)", weekly, rows=7)

    account_id = pn.aggregate([{"source": {"accounts": None}}, {"limit": 1}])["accountId"][0]
    _show(f"pn.account({account_id!r})", pn.account(account_id).T.head(8).T)

    busiest = visitors.sort_values("metadata.auto.lastvisit", ascending=False)["visitorId"].iloc[0]
    _show(
        f"pn.visitor({busiest!r})",
        pn.visitor(busiest),
        ["id", "accountIds", "metadata.agent.email"],
    )

    # "Two days ago" on the server's clock (the sandbox's is fixed), never this machine's.
    server_now = visitors.attrs["server_time"]
    history = pn.visitor_history(busiest, start=server_now.floor("D") - 2 * DAY, progress=False)
    _show(
        f"pn.visitor_history({busiest!r}, 2 days)", history, ["windowStart", "type", "ts", "lastTs"]
    )

    listed = pn.reports()
    _show("pn.reports()", listed, ["id", "name", "definition.type"], rows=10)
    list_report = listed[listed["definition.type"] == "List"]["id"].iloc[0]
    from_json = pn.report(list_report)
    from_csv = pn.report_csv(list_report)
    _show(f"pn.report({list_report!r})", from_json)
    print(f"pn.report_csv gives the same dtypes: {from_csv.dtypes.equals(from_json.dtypes)}")

    edits = visitors[["visitorId"]].head(3).assign(betaopt=True)
    plan = pn.update_values("visitor", edits, dry_run=True)
    _show(
        "pn.update_values(..., dry_run=True)",
        plan,
        ["visitorId", "outcome", "old.betaopt", "new.betaopt"],
    )
    done = pn.update_values("visitor", edits)
    _show("pn.update_values(...)", done, ["visitorId", "chunk", "outcome"])

    pn.aggregate([{"source": {"visitors": None}}])  # asked before: served from the cache
    print(f"\n>>> pn.cache_info()\n{pn.cache_info()}")
    pn.clear_cache()
    print(f">>> pn.clear_cache() -> {pn.cache_info().entries} entries")
    client.close()


if __name__ == "__main__":
    main()
