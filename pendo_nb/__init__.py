"""pendo_nb: explore Pendo product-analytics data from Jupyter as pandas DataFrames.

>>> import pendo_nb as pn
>>> pn.connect(sandbox=True)            # doctest: +SKIP
>>> pn.aggregate([{"source": {"visitors": None}}, {"limit": 5}])  # doctest: +SKIP
"""

from importlib.metadata import version as _version

from pendo_nb.api import (
    account,
    aggregate,
    cache_info,
    can_write,
    clear_cache,
    connect,
    report,
    report_csv,
    reports,
    update_values,
    visitor,
    visitor_history,
)
from pendo_nb.client import PendoClient
from pendo_nb.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    PendoAPIError,
    PendoConnectionError,
    PendoError,
    PendoTimeoutError,
    PipelineError,
    RateLimitError,
    ServerError,
    ValidationError,
    WriteAccessError,
)
from pendo_nb.pipeline import Pipeline, agg, col, load_ipython_extension, source

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
    "update_values",
    # whether the key may write
    "can_write",
    # the aggregation builder (and %load_ext pendo_nb for the %%pendo cell magic)
    "Pipeline",
    "source",
    "agg",
    "col",
    "load_ipython_extension",
    # the cache
    "clear_cache",
    "cache_info",
    # errors
    "PendoError",
    "ConfigurationError",
    "ValidationError",
    "PipelineError",
    "PendoConnectionError",
    "PendoTimeoutError",
    "PendoAPIError",
    "BadRequestError",
    "AuthenticationError",
    "WriteAccessError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
]
