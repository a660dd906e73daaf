"""ipywidgets forms over the public pendo_nb functions (they never do HTTP themselves).

- :class:`ReportPicker`: find a public report and load it as a DataFrame.

Each widget exposes its state as traits (``.value``, ``.result`` ...) and its events as
``on_<event>(callback, remove=False)``; ``display(widget)`` is all a notebook needs.
"""

from pendo_nb.widgets.report_picker import ReportPicker

__all__ = ["ReportPicker"]
