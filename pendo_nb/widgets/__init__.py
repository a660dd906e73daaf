"""ipywidgets forms over the public pendo_nb functions (they never do HTTP themselves).

- :class:`ReportPicker`: find a public report and load it as a DataFrame.
- :class:`VisitorLookup` and :class:`AccountLookup`: one object's metadata by group; for a
  visitor, their accounts (one click opens each) and a chart of their activity.
- :class:`AggregationComposer`: an aggregation built from a form, its JSON live, Run and code.
- :class:`MetadataEditor`: a bulk metadata update, previewed as a diff, applied with a
  confirmation and per-chunk progress.

Each widget exposes its state as traits (``.value``, ``.result`` ...) and its events as
``on_<event>(callback, remove=False)``; ``display(widget)`` is all a notebook needs.
"""

from pendo_nb.widgets.account_lookup import AccountLookup
from pendo_nb.widgets.aggregation_composer import AggregationComposer
from pendo_nb.widgets.metadata_editor import MetadataEditor
from pendo_nb.widgets.report_picker import ReportPicker
from pendo_nb.widgets.visitor_lookup import VisitorLookup

__all__ = [
    "AccountLookup",
    "AggregationComposer",
    "MetadataEditor",
    "ReportPicker",
    "VisitorLookup",
]
