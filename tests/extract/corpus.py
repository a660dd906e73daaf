"""The pipelines the local connection is compared on: the test suite's corpora.

* every body of ``tests/pipeline/bodies`` (Pendo's published samples, the reference's examples,
  connectors' bodies);
* the request envelopes of ``tests/sandbox/test_pendo_samples.py`` (Pendo's ETL samples);
* the pipelines of the sandbox's reports (run as ``pn.report``, and as aggregations);
* each grouped event source with each of its parameters (apps, object ids, the exclude list's
  three modes) over each kind of period, so every way of reading the store is compared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pendo_nb.sandbox.subscription.generate import generate

from ..sandbox import test_pendo_samples

BODIES = Path(__file__).parents[1] / "pipeline" / "bodies"


def aggregations() -> dict[str, object]:
    """name -> a body pn.aggregate accepts."""
    corpus: dict[str, object] = {}
    for path in sorted(BODIES.glob("*.json")):
        corpus[f"bodies/{path.stem}"] = json.loads(path.read_text())
    for name, value in sorted(vars(test_pendo_samples).items()):
        if name.isupper() and isinstance(value, dict) and "request" in value:
            corpus[f"pendo_samples/{name}"] = value
    for report in generate(size="small").reports:
        pipeline = report.get("aggregation", {}).get("pipeline")
        if pipeline:
            corpus[f"report_pipelines/{report['name']}"] = pipeline
    corpus.update(_parameter_variants())
    return corpus


def _parameter_variants() -> dict[str, object]:
    subscription = generate(size="small")
    ids = {
        "pageEvents": ("pageIds", [p["id"] for p in subscription.pages[:2]]),
        "featureEvents": ("featureId", subscription.features[0]["id"]),
        "trackEvents": ("trackTypeIds", [t["id"] for t in subscription.track_types[:2]]),
    }
    series = {
        "hours": {"period": "hourRange", "first": "now()", "count": -30},
        "days": {"period": "dayRange", "first": "now()", "count": -12},
        "weeks": {"period": "weekRange", "first": "now()", "count": -3},
        "month": {"period": "monthRange", "first": "now()", "count": 1},
    }
    variants: dict[str, object] = {}
    for source in ("events", "pageEvents", "featureEvents", "trackEvents"):
        params: dict[str, dict] = {
            "default": {},
            "all apps": {"appId": 'expandAppIds("*")'},
            "app list": {"appId": [app["id"] for app in subscription.apps]},
            "exclude list only": {"blacklist": "only", "appId": 'expandAppIds("*")'},
            "exclude list ignored": {"blacklist": "ignore"},
        }
        if source in ids:
            key, value = ids[source]
            params["object ids"] = {key: value}
        for label, param in params.items():
            for name, spec in series.items():
                step = {"source": {source: param or None, "timeSeries": spec}}
                variants[f"variants/{source}/{label}/{name}"] = [step]
    return variants


def report_ids() -> list[str]:
    return [report["id"] for report in generate(size="small").reports if report.get("shared")]


def needs_hours(body: object) -> bool:
    """Whether the body asks for hourRange periods anywhere."""
    return '"hourRange"' in json.dumps(body)


def compare(live: pd.DataFrame, local: pd.DataFrame) -> str:
    """``"exact"`` when the frames are equal row for row, ``"same rows"`` when they hold the same
    rows in another order (Pendo documents no order for source rows); AssertionError otherwise."""
    assert list(local.columns) == list(live.columns), (list(live.columns), list(local.columns))
    assert dict(local.dtypes) == dict(live.dtypes)
    if live.reset_index(drop=True).equals(local.reset_index(drop=True)):
        return "exact"
    pd.testing.assert_frame_equal(_sorted(live), _sorted(local))
    return "same rows"


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = frame.astype(str)
    order = keys.sort_values(list(keys.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)
