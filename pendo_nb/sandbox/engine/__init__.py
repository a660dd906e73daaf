"""The sandbox's aggregation engine: Pendo's pipeline language over a :class:`Subscription`.

``run_aggregation(body, subscription)`` answers ``POST /api/v1/aggregation``;
``run_pipeline(steps, subscription)`` runs bare steps (reports). Bad input raises
:class:`AggregationError` carrying the HTTP status and a message naming the place.
"""

from .errors import AggregationError
from .pipeline import Limits, run_aggregation, run_pipeline

__all__ = ["AggregationError", "Limits", "run_aggregation", "run_pipeline"]
