"""pendo_nb: explore Pendo product-analytics data from Jupyter as pandas DataFrames.

>>> import pendo_nb as pn
>>> pn.connect(sandbox=True)            # doctest: +SKIP
>>> pn.aggregate([{"source": {"visitors": None}}, {"limit": 5}])  # doctest: +SKIP
"""

import sys
from importlib.metadata import version as _version
from typing import Any

from pendo_nb import metrics
from pendo_nb.api.client import PendoClient
from pendo_nb.api.connect import connect
from pendo_nb.api.functions import (
    account,
    aggregate,
    cache_info,
    can_write,
    clear_cache,
    extract,
    object_names,
    report,
    report_csv,
    reports,
    scan_for_leaks,
    segments,
    update_values,
    visitor,
    visitor_history,
    with_names,
)
from pendo_nb.api.snapshots import snapshot_info
from pendo_nb.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    FieldWarning,
    NotFoundError,
    NotRecordedError,
    PendoAPIError,
    PendoConnectionError,
    PendoError,
    PendoTimeoutError,
    PipelineError,
    RateLimitError,
    ServerError,
    SnapshotError,
    ValidationError,
    WriteAccessError,
)
from pendo_nb.pipeline import Pipeline, agg, col, source
from pendo_nb.pipeline.magic import register_cell_magic
from pendo_nb.tables import show

#: The installed version; its one source is ``version`` in pyproject.toml.
__version__ = _version("pendo_nb")

__all__ = [
    # connecting
    "connect",
    "PendoClient",
    # reading and writing, as DataFrames
    "aggregate",
    "account",
    "visitor",
    "visitor_history",
    "reports",
    "report",
    "report_csv",
    "segments",
    "update_values",
    # names for the page/feature/track type/guide ids in any frame
    "object_names",
    "with_names",
    # whether the key may write
    "can_write",
    # the aggregation builder (and %load_ext pendo_nb for the %%pendo cell magic)
    "Pipeline",
    "source",
    "agg",
    "col",
    "load_ipython_extension",
    # Pendo's product metrics, one call each (pn.metrics.stickiness(...))
    "metrics",
    # any DataFrame as an interactive table (sort, filter, page, download)
    "show",
    # the cache
    "clear_cache",
    "cache_info",
    # snapshots (connect(record=...) / connect(replay=...))
    "snapshot_info",
    "scan_for_leaks",
    # local extracts (pn.extract(...) / connect(local=...))
    "extract",
    # errors
    "PendoError",
    "ConfigurationError",
    "ValidationError",
    "PipelineError",
    "PendoConnectionError",
    "PendoTimeoutError",
    "SnapshotError",
    "NotRecordedError",
    "PendoAPIError",
    "BadRequestError",
    "AuthenticationError",
    "WriteAccessError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "FieldWarning",
]


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%%pendo`` cell magic (``%load_ext pendo_nb`` calls this)."""
    register_cell_magic(ipython, sys.modules[__name__])
