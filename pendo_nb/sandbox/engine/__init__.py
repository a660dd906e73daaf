"""The sandbox's aggregation engine: Pendo's pipeline language over a :class:`Subscription`.

``run_aggregation(body, subscription)`` answers ``POST /api/v1/aggregation``;
``run_pipeline(steps, subscription)`` runs bare steps (reports); ``response_mime_type(body)`` is
the answer format a request asks for. Bad input raises
:class:`AggregationError` carrying the HTTP status and a message naming the place.
"""

from .errors import AggregationError
from .pipeline import response_mime_type, run_aggregation, run_pipeline
from .run_state import Limits

__all__ = ["AggregationError", "Limits", "response_mime_type", "run_aggregation", "run_pipeline"]
