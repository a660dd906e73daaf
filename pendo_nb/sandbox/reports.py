"""Report contents: a List report's rows are its pipeline's rows, keyed by its column fields.

``results.json`` and ``results.csv`` come from the same rows, so they agree row for row. The CSV
header is the report's ``aggregation.fields[].field`` names in order (Pendo does not document the
header; reference 2.7).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from pendo_nb.sandbox._json import dumps
from pendo_nb.sandbox.engine import run_pipeline
from pendo_nb.sandbox.subscription import Subscription

RETRIEVABLE_TYPES = ("List",)


class ReportNotRetrievable(ValueError):
    """Path, Funnel and other non-list reports are listed but their contents cannot be fetched."""


def report_rows(report: dict, subscription: Subscription) -> list[dict]:
    """Run a List report's pipeline and keep its columns, in the report's column order.

    Raises
    ------
    ReportNotRetrievable
        For Path and Funnel reports.
    """
    report_type = report["definition"]["type"]
    if report_type not in RETRIEVABLE_TYPES:
        raise ReportNotRetrievable(
            f"The contents of {report_type} reports cannot be retrieved through the API; "
            "only List reports (visitor and account lists) can."
        )
    columns = [f["field"] for f in report["aggregation"]["fields"]]
    rows = run_pipeline(report["aggregation"]["pipeline"], subscription)
    return [{column: row.get(column) for column in columns} for row in rows]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return dumps(value).decode()  # numbers as in JSON (5, not 5.0), booleans true/false, objects


def to_csv(columns: list[str], rows: list[dict]) -> str:
    """CSV text with a header row of ``columns``; nested values are written as JSON."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column)) for column in columns])
    return out.getvalue()
