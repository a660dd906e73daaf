"""The module-level functions of :mod:`pendo_nb`: each is a :class:`PendoClient` method run on
the default client.

``pn.visitor(visitor_id, client=None)`` is ``PendoClient.visitor`` with one more keyword,
``client`` (default: the last client made by :func:`~pendo_nb.api.connect.connect`). The
functions are made from the methods, so each operation, its signature and its docstring are
written once, in :mod:`pendo_nb.api.client`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pendo_nb.api.client import PendoClient
from pendo_nb.api.connect import resolve

__all__ = [
    "account",
    "aggregate",
    "cache_info",
    "can_write",
    "clear_cache",
    "report",
    "report_csv",
    "reports",
    "segments",
    "update_values",
    "visitor",
    "visitor_history",
]

_CLIENT_DOC = (
    "client : PendoClient, optional\n    Default: the last client made by :func:`connect`.\n"
)


def _with_client_parameter(doc: str) -> str:
    """The method's docstring with ``client`` as its last parameter."""
    head, returns, tail = doc.partition("\nReturns\n-------")
    if "\nParameters\n----------" not in head:
        head += "\nParameters\n----------\n"
    return f"{head.rstrip()}\n{_CLIENT_DOC}\n{returns}{tail}".replace(
        "\n\n\nReturns", "\n\nReturns"
    )


def _on_default_client(name: str) -> Callable[..., Any]:
    """The function that runs ``PendoClient.<name>`` on ``client=`` or the default client."""
    method = getattr(PendoClient, name)
    signature = inspect.signature(method)
    client = inspect.Parameter(
        "client", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="PendoClient | None"
    )

    def function(*args: Any, client: PendoClient | None = None, **kwargs: Any) -> Any:
        return getattr(resolve(client), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = _with_client_parameter(inspect.getdoc(method) or "")
    # What `?`, help() and the docs show: the method's parameters (without self), then client.
    function.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*list(signature.parameters.values())[1:], client]
    )
    return function


aggregate = _on_default_client("aggregate")
account = _on_default_client("account")
visitor = _on_default_client("visitor")
visitor_history = _on_default_client("visitor_history")
reports = _on_default_client("reports")
segments = _on_default_client("segments")
report = _on_default_client("report")
report_csv = _on_default_client("report_csv")
can_write = _on_default_client("can_write")
update_values = _on_default_client("update_values")
clear_cache = _on_default_client("clear_cache")
cache_info = _on_default_client("cache_info")
