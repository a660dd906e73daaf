"""The ``pn.source`` namespace: one function per Pendo source, each starting a pipeline.

``pn.source.page_events(page_id="abc", app_id="*")`` starts a pipeline reading ``pageEvents``.
Pendo's own names work too (``pn.source.pageEvents``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pendo_nb._checks import did_you_mean
from pendo_nb.errors import PipelineError, UnknownNameError
from pendo_nb.pipeline import source_docs
from pendo_nb.pipeline._values import camel_case, snake_case
from pendo_nb.pipeline.pipeline import Pipeline
from pendo_nb.pipeline.sources import COMMON_PARAMETERS, SOURCES, Source

__all__ = ["source"]


class _Sources:
    """Start a pipeline from a Pendo source, as in ``pn.source.events(app_id="*")``.

    Every source Pendo documents (and a few seen in its own report definitions) is here under
    its snake_case name (``page_events``, ``guides_seen_ever``...) and its Pendo name
    (``pageEvents``). Keyword arguments are the source's parameters in snake_case (``app_id``,
    ``page_id``, ``event_class``...); ``pn.source.page_events?`` tells what each one takes.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> p = pn.source.page_events(app_id="*").last(7, "days")
    >>> p.to_json()["request"]["pipeline"][0]["source"]["pageEvents"]
    {'appId': 'expandAppIds("*")'}
    """

    def __init__(self) -> None:
        for name in SOURCES:
            setattr(self, snake_case(name), _source_function(name))

    def __getattr__(self, name: str) -> Callable[..., Pipeline]:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in SOURCES:
            function: Callable[..., Pipeline] = getattr(self, snake_case(name))
            return function
        raise UnknownNameError(
            f"pn.source.{name}: no such source.{did_you_mean(name, self.__dir__())} "
            "All sources: dir(pn.source)"
        )

    def __dir__(self) -> list[str]:
        """The sources' snake_case names (what tab completion offers)."""
        return [snake_case(name) for name in SOURCES]


def _source_function(name: str) -> Callable[..., Pipeline]:
    snake = snake_case(name)
    extra = SOURCES[name][1]

    start: Callable[..., Pipeline]
    if name == "const":

        def start_const(rows: Sequence[Mapping[str, Any]]) -> Pipeline:
            return _start(Source(name, list(rows)))

        start = start_const
    else:

        def start_params(**params: object) -> Pipeline:
            converted = {}
            for key, value in params.items():
                pendo_key = camel_case(key)
                if pendo_key not in (*COMMON_PARAMETERS, *extra):
                    known = ", ".join(snake_case(k) for k in (*COMMON_PARAMETERS, *extra))
                    raise PipelineError(f"source.{snake}({key}): unknown parameter; known: {known}")
                converted[pendo_key] = value
            return _start(Source(name, converted or None))

        # `?` and the reference show the parameters the source takes, not **params.
        keywords = [
            inspect.Parameter(snake_case(key), inspect.Parameter.KEYWORD_ONLY, default=None)
            for key in source_docs.parameters_of(name)
        ]
        start_params.__signature__ = inspect.Signature(keywords, return_annotation="Pipeline")  # type: ignore[attr-defined]
        start = start_params

    start.__name__ = snake
    start.__qualname__ = f"source.{snake}"
    start.__doc__ = source_docs.docstring(name)
    return start


def _start(step: Source) -> Pipeline:
    return Pipeline((step,))


source = _Sources()
