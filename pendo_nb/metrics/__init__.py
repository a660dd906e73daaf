"""Pendo's product metrics, one call each, defined as Pendo defines them.

>>> import pendo_nb as pn
>>> _ = pn.connect(sandbox=True)
>>> pn.metrics.stickiness("DAU/MAU", start="2026-10-01", end="2026-10-31").headline  # doctest: +SKIP
"""

from pendo_nb.metrics.activity import active, frequency, stickiness, time_on_app
from pendo_nb.metrics.frame import MetricFrame

__all__ = ["MetricFrame", "active", "frequency", "stickiness", "time_on_app"]
