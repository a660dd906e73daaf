"""The one error the aggregation engine raises for bad input.

The server turns it into Pendo's answer: the status code and a short plain-text body (Pendo
answers aggregation syntax errors with HTTP 400 and plain text, reference 1.5).
"""

from __future__ import annotations


class AggregationError(Exception):
    """A request the engine refuses: ``status`` is 400 (malformed) or 422 (well-formed but wrong).

    The message names what is wrong and where: the step (``pipeline[3].group``) and, for an
    expression, the character position.
    """

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
