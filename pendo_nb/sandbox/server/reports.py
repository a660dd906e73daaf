"""Report contents: a List report's rows are its pipeline's rows, keyed by its column fields.

``results.json`` and ``results.csv`` come from the same rows, so they agree row for row. The CSV
header is the report's ``aggregation.fields[].field`` names in order (Pendo does not document the
header; reference 2.7); the server writes it with ``pendo_nb.sandbox.server._csv``.
"""

from __future__ import annotations

from typing import Any

from pendo_nb.sandbox.engine import Limits, run_pipeline
from pendo_nb.sandbox.subscription.model import Subscription

RETRIEVABLE_TYPES = ("List",)


class ReportNotRetrievable(ValueError):
    """Path, Funnel and other non-list reports are listed but their contents cannot be fetched."""


def report_rows(
    report: dict[str, Any], subscription: Subscription, *, limits: Limits | None = None
) -> list[dict[str, Any]]:
    """Run a List report's pipeline and keep its columns, in the report's column order.

    ``limits`` are the engine's caps (the server's, so reports are bounded like aggregations).

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
    rows = run_pipeline(report["aggregation"]["pipeline"], subscription, limits=limits)
    return [{column: row.get(column) for column in columns} for row in rows]
