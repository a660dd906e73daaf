"""The fluent, immutable aggregation builder.

``source`` starts a :class:`Pipeline`; ``agg`` holds the aggregators; ``col``, ``lit`` and ``fn``
build expressions. See ``pendo_nb.pipeline.pipeline.Pipeline`` for the operator methods.
"""

from pendo_nb.pipeline.aggregators import Aggregator, agg
from pendo_nb.pipeline.expr import Expr, col, fn, lit
from pendo_nb.pipeline.pipeline import Pipeline
from pendo_nb.pipeline.start import source

__all__ = [
    "Aggregator",
    "Expr",
    "Pipeline",
    "agg",
    "col",
    "fn",
    "lit",
    "source",
]
