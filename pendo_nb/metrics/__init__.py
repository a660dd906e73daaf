"""Pendo's product metrics, one call each, defined as Pendo defines them.

>>> import pendo_nb as pn
>>> _ = pn.connect(sandbox=True)
>>> october = pn.metrics.stickiness("DAU/MAU", start="2026-10-01", end="2026-10-31")
>>> october.headline  # doctest: +SKIP
"""

from pendo_nb.metrics.activity import active, frequency, stickiness, time_on_app
from pendo_nb.metrics.adoption import feature_adoption, pes
from pendo_nb.metrics.frame import MetricFrame
from pendo_nb.metrics.guides import guide_conversion, nps
from pendo_nb.metrics.retention import retention
from pendo_nb.metrics.summary import summary

__all__ = [
    "MetricFrame",
    "active",
    "feature_adoption",
    "frequency",
    "guide_conversion",
    "nps",
    "pes",
    "retention",
    "stickiness",
    "summary",
    "time_on_app",
]
