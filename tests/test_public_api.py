"""`pendo_nb.__all__` is the public API: a change to it must show up here, in review."""

from __future__ import annotations

import inspect

import pendo_nb

PUBLIC = {
    # connecting
    "connect",
    "PendoClient",
    # DataFrame functions
    "aggregate",
    "account",
    "visitor",
    "visitor_history",
    "reports",
    "report",
    "report_csv",
    "segments",
    "update_values",
    # names for the ids in any frame (issue 16)
    "object_names",
    "with_names",
    # whether the key may write
    "can_write",
    # the aggregation builder
    "Pipeline",
    "source",
    "agg",
    "col",
    "load_ipython_extension",
    # Pendo's product metrics (issue 26)
    "metrics",
    # any DataFrame as an interactive table (issue 16)
    "show",
    # the cache
    "clear_cache",
    "cache_info",
    # snapshots
    "snapshot_info",
    "scan_for_leaks",
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
    # a field the rows may not hold (issue 27)
    "FieldWarning",
}

DATAFRAME_FUNCTIONS = [
    "aggregate",
    "account",
    "visitor",
    "visitor_history",
    "reports",
    "report",
    "report_csv",
    "segments",
    "update_values",
    "object_names",
    "with_names",
    "scan_for_leaks",
    "extract",
]


def test_all_is_exactly_the_public_api():
    assert len(pendo_nb.__all__) == len(set(pendo_nb.__all__)), "duplicates in __all__"
    assert set(pendo_nb.__all__) == PUBLIC


def test_every_exported_name_exists():
    for name in pendo_nb.__all__:
        assert getattr(pendo_nb, name) is not None, name


def test_errors_share_one_root():
    for name in pendo_nb.__all__:
        value = getattr(pendo_nb, name)
        if inspect.isclass(value) and name.endswith("Error"):
            assert issubclass(value, pendo_nb.PendoError), name


def test_dataframe_functions_take_client_document_themselves_and_have_twins():
    for name in DATAFRAME_FUNCTIONS:
        function = getattr(pendo_nb, name)
        assert "client" in inspect.signature(function).parameters, name
        for section in ("Parameters", "Returns", "Examples"):
            assert section in (function.__doc__ or ""), f"{name} docstring lacks {section}"
        assert callable(getattr(pendo_nb.PendoClient, name)), f"PendoClient.{name}"


def test_twin_methods_take_the_same_parameters():
    for name in DATAFRAME_FUNCTIONS:
        function = inspect.signature(getattr(pendo_nb, name)).parameters
        twin = inspect.signature(getattr(pendo_nb.PendoClient, name)).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in twin.values()):
            assert set(twin) - {"self", "options"} <= set(function), name  # forwards the rest
        else:
            assert set(function) - {"client"} == set(twin) - {"self"}, name


def test_can_write_takes_client_documents_itself_and_has_a_twin():
    function = pendo_nb.can_write
    parameters = inspect.signature(function).parameters
    assert list(parameters) == ["client"]
    assert parameters["client"].kind is inspect.Parameter.KEYWORD_ONLY
    for section in ("Parameters", "Returns", "Raises", "Examples"):
        assert section in (function.__doc__ or ""), f"can_write docstring lacks {section}"
    twin = inspect.signature(pendo_nb.PendoClient.can_write).parameters
    assert list(twin) == ["self"]
