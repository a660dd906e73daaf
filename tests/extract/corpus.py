"""The pipelines the local connection is compared on: the test suite's corpora.

* every body of ``tests/pipeline/bodies`` (Pendo's published samples, the reference's examples,
  connectors' bodies);
* the request envelopes of ``tests/sandbox/test_pendo_samples.py`` (Pendo's ETL samples);
* the pipelines of the sandbox's reports (run as ``pn.report``, and as aggregations).
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
    return corpus


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
