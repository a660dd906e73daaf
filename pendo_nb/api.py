"""``connect()``, the default client, and the public functions (their docstrings live here).

Each function takes ``client=`` (default: the last client made by :func:`connect`) and has a twin
method on :class:`~pendo_nb.client.PendoClient`. The longer work is done elsewhere, one module
per concern: :mod:`pendo_nb.history` (visitor history), :mod:`pendo_nb.writes` (metadata
updates, write access), :mod:`pendo_nb.windows` and :mod:`pendo_nb.paging` (big aggregations),
:mod:`pendo_nb.field_types` (column types from the server).
"""

from __future__ import annotations

import atexit
import os
import re
import threading
from typing import Any

import pandas as pd

from pendo_nb import frames
from pendo_nb._times import stamp
from pendo_nb.cache_policy import CachePolicy
from pendo_nb.client import PendoClient, aggregation_envelope
from pendo_nb.errors import ConfigurationError, ValidationError
from pendo_nb.field_types import (
    event_source_fields,
    metadata_types,
    object_columns,
    report_fields,
    source_kind,
)
from pendo_nb.history import stitch_history
from pendo_nb.session import CacheInfo, RetryPolicy, Timeouts

__all__ = [
    "account",
    "aggregate",
    "cache_info",
    "can_write",
    "clear_cache",
    "connect",
    "report",
    "report_csv",
    "reports",
    "update_values",
    "visitor",
    "visitor_history",
]

_default_client: PendoClient | None = None
_shared_sandbox: Any = None  # the in-process sandbox started by connect(sandbox=True)
_lock = threading.Lock()


# -- connection --------------------------------------------------------------------------------


def connect(
    key: str | None = None,
    *,
    region: str | None = None,
    base_url: str | None = None,
    sandbox: Any = False,
    cache: Any = True,
    expire_after: float | None = 3600,
    timeout: float | tuple[float, float] | Timeouts | None = None,
    rate_limit: float | None = 10.0,
    retry: RetryPolicy | None = None,
    tz: str = "UTC",
) -> PendoClient:
    """Connect to Pendo (or the offline sandbox) and make this the default client.

    Parameters
    ----------
    key : str, optional
        Integration key; default ``PENDO_INTEGRATION_KEY``. Never shown: ``repr`` masks it.
    region : {"us", "us1", "eu", "jpn", "au"}, optional
        Default ``PENDO_REGION``, else the key's suffix (``<uuid>.eu``), else ``"us"``.
    base_url : str, optional
        Any other host, e.g. a proxy; default ``PENDO_BASE_URL``. Overrides ``region``.
    sandbox : bool or pendo_nb.sandbox.Sandbox
        ``True`` starts (or reuses) an in-process sandbox with demo data and connects to it with
        its demo key; a running ``Sandbox`` object connects to that one.
    cache : bool, path or requests_cache backend
        ``True`` (default): a SQLite file in the user cache directory (``PENDO_NB_CACHE_DIR``
        overrides it); a path: a SQLite file there; ``False``: no cache.
    expire_after : float or None
        Seconds a cached answer stays fresh (default one hour); ``None``: until cleared.
    timeout : float or (connect, read)
        Seconds; aggregations always get at least 330 s to read (Pendo's cap is 5 minutes).
    rate_limit : float or None
        Most requests per second (default 10); ``None`` for no limit.
    retry : RetryPolicy, optional
        Retries of 429/5xx/dropped connections (default: 5 tries within 120 s).
    tz : str
        Time zone of datetime columns (default ``"UTC"``).

    Returns
    -------
    PendoClient

    Examples
    --------
    >>> import pendo_nb as pn
    >>> client = pn.connect(sandbox=True)            # no key needed
    >>> client = pn.connect(key="...", region="eu")  # doctest: +SKIP
    """
    global _default_client
    if sandbox is not False and sandbox is not None:
        if key or base_url or region:
            raise ConfigurationError("connect(sandbox=...) takes no key, region or base_url")
        server = _running_sandbox() if sandbox is True else sandbox
        # `url` is looked up on the type: reading it on a sandbox that is not running raises.
        looks_like_sandbox = hasattr(type(server), "url") and hasattr(server, "start")
        if not (looks_like_sandbox and hasattr(server, "key")):
            raise ConfigurationError(
                f"sandbox must be True or a pendo_nb.sandbox.Sandbox, got {type(server).__name__}"
            )
        server.start()  # a configured sandbox not yet started is started (no-op if running)
        key, base_url = server.key, server.url
    key = key or os.environ.get("PENDO_INTEGRATION_KEY")
    if not key:
        raise ConfigurationError(
            "no integration key: pass connect(key=...), set PENDO_INTEGRATION_KEY, "
            "or try the offline sandbox with connect(sandbox=True)"
        )
    client = PendoClient(
        key,
        region=region,
        base_url=base_url or os.environ.get("PENDO_BASE_URL"),
        cache=cache,
        expire_after=expire_after,
        timeout=timeout,
        rate_limit=rate_limit,
        retry=retry or RetryPolicy(),
        tz=tz,
    )
    _default_client = client
    return client


def _running_sandbox() -> Any:
    """The process-wide demo sandbox, started on first use and stopped at exit."""
    global _shared_sandbox
    with _lock:
        if _shared_sandbox is None:
            from pendo_nb.sandbox import Sandbox

            server = Sandbox(size="demo")
            server.start()
            atexit.register(server.stop)
            _shared_sandbox = server
        return _shared_sandbox


def _reset_default_client() -> None:
    """Forget the default client (tests call this after each test)."""
    global _default_client
    client, _default_client = _default_client, None
    if client is not None:
        client.close()


def _resolve(client: PendoClient | None) -> PendoClient:
    if client is not None:
        if not isinstance(client, PendoClient):
            raise TypeError(f"client must be a PendoClient, got {type(client).__name__}")
        return client
    if _default_client is None:
        raise ConfigurationError(
            "not connected: call pn.connect(...) first (pn.connect(sandbox=True) needs no key)"
        )
    return _default_client


# -- reads ---------------------------------------------------------------------------------------


def aggregate(
    pipeline: Any,
    *,
    client: PendoClient | None = None,
    refresh: bool = False,
    windows: str | None = None,
    workers: int = 4,
    progress: bool = True,
    page_size: int | None = None,
    cache_policy: CachePolicy | None = None,
) -> pd.DataFrame:
    """Run an aggregation and return its rows.

    Parameters
    ----------
    pipeline : Pipeline, list of dict, or dict
        A ``pn.Pipeline`` (anything with ``to_json()``), a list of pipeline steps, or a full
        request envelope ``{"response": ..., "request": {"pipeline": [...]}}``. An envelope
        asking for ``"mimeType": "text/csv"`` is read as CSV (lists then arrive as text).
    client : PendoClient, optional
        Default: the last client made by :func:`connect`.
    refresh : bool
        Ask the server again even if the answer is cached.
    windows : {"1H", "1D", "7D", "1W", "1M", "auto"} or None
        Split the source's ``timeSeries`` into windows of this size (``H`` hours, ``D`` days,
        ``W`` weeks from Sunday, ``M`` months), aligned to the calendar of the subscription,
        fetched in parallel and combined: for ranges Pendo would cut (5 minutes or 4 GB).
        Only done where the answer stays exact (row-wise steps; groups keyed by the period
        bucket; ``sum``, ``count``, ``min``, ``max`` combined locally); otherwise a
        ``PipelineError`` says why and what to change. ``"auto"`` splits into days when that is
        exact and runs the pipeline whole otherwise. ``None`` (default): one request. A window
        that fails (timeout, 408, 413, 5xx) is halved down to one period. Each window is cached
        on its own, so a pull interrupted and run again fetches only the missing windows.
    workers : int
        Windows fetched at the same time (default 4); they share the client's rate limit.
    progress : bool
        Show a progress bar (windows done, rows so far, cache hits) for ``windows=`` and
        ``page_size=`` pulls.
    page_size : int, optional
        Page through a big result ``page_size`` rows at a time by ``sort`` + ``limit`` + a
        filter on a unique key (``visitorId``/``accountId`` for visitors/accounts, else the field
        of a trailing one-field ``sort``), instead of one answer.
    cache_policy : pendo_nb.cache_policy.CachePolicy, optional
        How long windows stay cached: closed ones (ended more than ``lag``, default 8 hours,
        before the server's clock) for long, open ones briefly.

    Returns
    -------
    pandas.DataFrame
        One row per result row: nested fields as dotted columns, epoch-ms fields as datetimes,
        metadata fields typed by the subscription's schema (also when a ``select`` renames them
        or a ``min``/``max``/``first`` aggregates them). ``df.attrs`` holds the provenance,
        the ``pipeline`` sent and ``server_time`` (the server's clock when it ran the query: use
        it, not this machine's clock, for "the last N days"). With ``windows=``, it also
        holds ``windows``, ``windows_fetched``, ``windows_cached``, ``split_windows``,
        ``lag_horizon`` and ``is_partial`` (the last window is still inside the lag horizon,
        so its numbers may grow); with ``page_size=``, ``pages``.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> df = pn.aggregate([{"source": {"visitors": None}}, {"limit": 3}])
    >>> len(df)
    3
    >>> events = pn.source.events().last(14, "days").group("day", n={"sum": "numEvents"})
    >>> daily = pn.aggregate(events, windows="1D", progress=False)  # doctest: +SKIP
    """
    c = _resolve(client)
    if page_size is not None:
        if windows is not None:
            raise ValidationError("give windows= or page_size=, not both")
        from pendo_nb.paging import aggregate_in_pages

        return aggregate_in_pages(
            pipeline, client=c, page_size=page_size, progress=progress, refresh=refresh
        )
    if windows is not None:
        from pendo_nb.windows import aggregate_in_windows

        return aggregate_in_windows(
            pipeline,
            client=c,
            windows=windows,
            workers=workers,
            progress=progress,
            refresh=refresh,
            cache_policy=cache_policy,
        )
    envelope = aggregation_envelope(pipeline)
    response = c.post_aggregation(envelope, refresh=refresh)
    steps = envelope["request"]["pipeline"]
    attrs = {**response.provenance(), "pipeline": envelope}
    started = _start_time(response.content)
    if started is not None:
        attrs["server_time"] = stamp(started, c.tz)
    kind = source_kind(steps)
    field_types = frames.field_types_implied_by(steps, metadata_types(c, kind))
    if _asks_for_csv(envelope):
        text = response.text
        empty = len(text.strip().splitlines()) <= 1  # no rows: nothing, or a header alone
        columns = _implied_columns(c, steps, kind, field_types, empty=empty)
        return frames.csv_to_frame(
            text, tz=c.tz, columns=columns, field_types=field_types, attrs=attrs
        )
    parsed = frames.parse_json(response.content, key="results")
    del response  # free the answer's bytes before the frame is built (peak memory)
    columns = _implied_columns(c, steps, kind, field_types, empty=len(parsed) == 0)
    return parsed.to_frame(tz=c.tz, columns=columns, field_types=field_types, attrs=attrs)


def _implied_columns(
    client: PendoClient, steps: list, kind: str | None, field_types: dict, *, empty: bool
) -> list[str]:
    """The columns the steps imply. An empty result whose rows the steps keep as the source
    gave them (filtered, sorted...) gets the source's columns, since no row shows them: the id
    and the schema's fields of visitors or accounts, the documented fields of an event source.
    Their types join ``field_types`` (unless a step rewrites the column), so the empty columns
    have the dtypes full ones would."""
    columns = frames.columns_implied_by(steps)
    if not empty or columns:
        return columns
    if kind is not None:
        source_types: dict[str, str | None] = {f"{kind}Id": "string"}
        source_columns = object_columns(client, kind)
    else:
        source_types = event_source_fields(steps)
        source_columns = list(source_types)
    columns = frames.columns_implied_by(steps, source_columns=source_columns)
    rewritten = {
        name
        for step in steps[1:]
        if isinstance(step, dict)
        for op, spec in step.items()
        if op in ("eval", "set") and isinstance(spec, dict)
        for name in spec
    }
    for name in columns:
        if source_types.get(name) and name not in rewritten:
            field_types.setdefault(name, source_types[name])
    return columns


def _asks_for_csv(envelope: dict) -> bool:
    """Whether the envelope asks for ``response.mimeType`` ``text/csv`` (reference 2.1)."""
    response = envelope.get("response")
    mime_type = response.get("mimeType") if isinstance(response, dict) else None
    return isinstance(mime_type, str) and mime_type.split(";")[0].strip().lower() == "text/csv"


# The envelope's own startTime: the first member of the answer, or its last. A row may have a
# field of that name too (an eval or select may write one), so an unanchored search could read
# a row's.
_START_TIME_FIRST = re.compile(rb'\A\s*\{\s*"startTime"\s*:\s*(\d+)')
_START_TIME_LAST = re.compile(rb'"startTime"\s*:\s*(\d+)\s*\}\s*\Z')


def _start_time(content: bytes) -> int | None:
    """The answer's ``startTime`` (when the server ran it), read without parsing the rows.

    Pendo writes it before or after ``results``, so looking at both ends of the body suffices.
    """
    match = _START_TIME_FIRST.search(content[:128]) or _START_TIME_LAST.search(content[-128:])
    return int(match.group(1)) if match else None


def account(
    account_id: str, *, client: PendoClient | None = None, refresh: bool = False
) -> pd.DataFrame:
    """Fetch one account.

    Parameters
    ----------
    account_id : str
        The account id (any characters: ids that are not URL-safe are sent base64-encoded).
    client : PendoClient, optional
        Default: the last client made by :func:`connect`.
    refresh : bool
        Ask the server again even if the answer is cached.

    Returns
    -------
    pandas.DataFrame
        One row: ``id`` and the ``metadata.<group>.<field>`` columns.

    Raises
    ------
    NotFoundError
        No account has this id.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> first = pn.aggregate([{"source": {"accounts": None}}, {"limit": 1}])["accountId"][0]
    >>> pn.account(first)["id"][0] == first
    True
    """
    return _object_frame("account", account_id, client, refresh)


def visitor(
    visitor_id: str, *, client: PendoClient | None = None, refresh: bool = False
) -> pd.DataFrame:
    """Fetch one visitor.

    Parameters
    ----------
    visitor_id : str
        The visitor id (ids that are not URL-safe are sent base64-encoded).
    client : PendoClient, optional
        Default: the last client made by :func:`connect`.
    refresh : bool
        Ask the server again even if the answer is cached.

    Returns
    -------
    pandas.DataFrame
        One row: ``id``, ``accountIds`` (a list) and the ``metadata.<group>.<field>`` columns.

    Raises
    ------
    NotFoundError
        No visitor has this id.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> first = pn.aggregate([{"source": {"visitors": None}}, {"limit": 1}])["visitorId"][0]
    >>> pn.visitor(first).shape[0]
    1
    """
    return _object_frame("visitor", visitor_id, client, refresh)


def _object_frame(kind: str, object_id: str, client: PendoClient | None, refresh: bool):
    c = _resolve(client)
    fetch = c.get_account if kind == "account" else c.get_visitor
    response = fetch(object_id, refresh=refresh)
    row = response.json()
    if not isinstance(row, dict):
        raise TypeError(f"expected a JSON object from {response.url}, got {type(row).__name__}")
    return frames.rows_to_frame(
        [row],
        tz=c.tz,
        field_types=metadata_types(c, kind),
        attrs=response.provenance(),
    )


def visitor_history(
    visitor_id: str,
    start: Any,
    end: Any = None,
    *,
    client: PendoClient | None = None,
    progress: bool | None = None,
    refresh: bool = False,
) -> pd.DataFrame:
    """A visitor's activity over ``[start, end)``, stitched from Pendo's 24-hour windows.

    Parameters
    ----------
    visitor_id : str
        The visitor.
    start, end : str, date, datetime, Timestamp or int
        The range; ``end`` defaults to the server's current time. Integers are epoch
        milliseconds. Dates and times without a time zone are read in the subscription's time
        zone, by the server itself (``date()``), so days start at the subscription's midnight.
        Pendo keeps 180 days of history, counted back from the server's clock (never this
        machine's).
    client : PendoClient, optional
        Default: the last client made by :func:`connect`.
    progress : bool, optional
        Show a progress bar; by default, for ranges longer than a week.
    refresh : bool
        Ask the server again even for windows already cached (the window holding the server's
        "now" is always asked again).

    Returns
    -------
    pandas.DataFrame
        One row per history item (``type``, ``ts``, ``lastTs``, ids, ``parsedUserAgent.*`` ...)
        with ``visitorId`` and the ``windowStart`` of the 24-hour window it came from.
        ``df.attrs`` adds the ``start`` and ``end`` used and the server's ``server_now``.

    Raises
    ------
    ValidationError
        ``start`` is more than 180 days back, or not before ``end``.
    NotFoundError
        No visitor has this id.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> vid = pn.aggregate([{"source": {"visitors": None}}, {"limit": 1}])["visitorId"][0]
    >>> df = pn.visitor_history(vid, start="2026-01-01")  # doctest: +SKIP
    """
    return stitch_history(
        _resolve(client), visitor_id, start, end, progress=progress, refresh=refresh
    )


def reports(*, client: PendoClient | None = None, refresh: bool = False) -> pd.DataFrame:
    """List the subscription's public reports.

    Parameters
    ----------
    client : PendoClient, optional
        Default: the last client made by :func:`connect`.
    refresh : bool
        Ask the server again even if the answer is cached.

    Returns
    -------
    pandas.DataFrame
        One row per report: ``id``, ``name``, ``kind``, timestamps and the flattened
        ``definition.*`` / ``aggregation.*`` columns (pipelines and field lists stay lists).

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> "name" in pn.reports().columns
    True
    """
    c = _resolve(client)
    response = c.get_reports(refresh=refresh)
    return frames.rows_to_frame(
        response.json_array(),
        tz=c.tz,
        columns=("id", "name", "kind", "createdAt", "lastUpdatedAt"),
        attrs=response.provenance(),
    )


def report(report_id: str, *, client: PendoClient | None = None, refresh: bool = False):
    """A report's contents (``results.json``).

    Parameters
    ----------
    report_id : str
        The report's id (see :func:`reports`). Path, Funnel and Data Explorer reports have no
        retrievable contents.
    client : PendoClient, optional
        Default: the last client made by :func:`connect`.
    refresh : bool
        Ask the server again even if the answer is cached.

    Returns
    -------
    pandas.DataFrame
        One row per report row, typed by the report's field definitions (so ``report_csv``
        gives the same columns and dtypes).

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> listed = pn.reports()
    >>> rid = listed[listed["definition.type"] == "List"]["id"].iloc[0]  # doctest: +SKIP
    >>> pn.report(rid).head()  # doctest: +SKIP
    """
    c = _resolve(client)
    response = c.get_report_results(report_id, refresh=refresh)
    fields, _ = report_fields(c, report_id)
    return frames.json_to_frame(
        response.content,
        key=None,
        tz=c.tz,
        columns=list(fields),
        field_types=fields,
        attrs=response.provenance(),
    )


def report_csv(report_id: str, *, client: PendoClient | None = None, refresh: bool = False):
    """A report's contents from ``results.csv``, with the columns and dtypes of :func:`report`.

    Parameters
    ----------
    report_id : str
        The report's id (see :func:`reports`).
    client : PendoClient, optional
        Default: the last client made by :func:`connect`.
    refresh : bool
        Ask the server again even if the answer is cached.

    Returns
    -------
    pandas.DataFrame
        The CSV rows; header titles are mapped back to field names, values typed by the
        report's field definitions.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> rid = pn.reports()["id"].iloc[0]  # doctest: +SKIP
    >>> pn.report_csv(rid).dtypes.equals(pn.report(rid).dtypes)  # doctest: +SKIP
    True
    """
    c = _resolve(client)
    response = c.get_report_csv(report_id, refresh=refresh)
    fields, titles = report_fields(c, report_id)
    frame = frames.csv_to_frame(response.text, tz=c.tz, field_types=fields, titles=titles)
    for name in fields:
        if name not in frame.columns:
            frame[name] = pd.array([None] * len(frame), dtype=object)
    frame.attrs.update(response.provenance())
    return frame


# -- writes -------------------------------------------------------------------------------


def can_write(*, client: PendoClient | None = None) -> bool:
    """Whether the client's integration key may write (update metadata values).

    Asks ``GET /token/verify`` (never cached), which answers 200 for a key created with "Allow
    Write Access" and 403 otherwise. Pendo gives the same 403 "Key is invalid" for a key it does
    not know at all, so after a 403 the key is tried on a read: a key that can read is valid but
    read-only (``False``); one that cannot raises :class:`~pendo_nb.errors.AuthenticationError`
    rather than passing for a read-only key.

    Parameters
    ----------
    client : PendoClient, optional
        Default: the last client made by :func:`connect`.

    Returns
    -------
    bool
        True when the key may write; False for a valid read-only key.

    Raises
    ------
    AuthenticationError
        The key is not valid here (unknown key, or a key of another region).
    NotFoundError
        The server has no ``/token/verify`` (not Pendo, a proxy that hides it).

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)   # the sandbox's demo key may write
    >>> pn.can_write()
    True
    """
    from pendo_nb.writes import can_write as key_can_write  # imported here: writes -> paging -> api

    return key_can_write(_resolve(client))


def update_values(
    kind: str,
    rows: Any,
    *,
    group: str = "custom",
    create: bool = False,
    dry_run: bool = False,
    chunk_size: int = 500,
    id_column: str | None = None,
    client: PendoClient | None = None,
) -> pd.DataFrame:
    """Set metadata fields on many visitors or accounts.

    Everything is checked before anything is sent: field names and value types against the
    subscription's metadata schema, and (for a real write) that the key may write.

    Parameters
    ----------
    kind : {"visitor", "account"}
        What the rows describe.
    rows : DataFrame or list of dict
        One row per object: an id column (``visitorId``/``accountId``/``id``, or ``id_column``)
        and one column per field. Columns may also be named ``metadata.<group>.<field>``, as
        :func:`aggregate` returns them. Missing values (NA/None) are not sent. Records may also
        use Pendo's form ``{"visitorId": ..., "values": {...}}``.
    group : str
        Metadata group, ``"custom"`` (default) or ``"agent"``.
    create : bool
        Create objects that do not exist yet (otherwise they come back as ``missing``).
    dry_run : bool
        Write nothing: read the current values and return, per object, the old and new values
        and whether anything would change.
    chunk_size : int
        Objects per request (Pendo cuts a call at 5 minutes).
    id_column : str, optional
        The id column, if not one of the default names.
    client : PendoClient, optional
        Default: the last client made by :func:`connect`.

    Returns
    -------
    pandas.DataFrame
        One row per object: its id, ``chunk`` (0-based), ``outcome`` (``updated``, ``missing``,
        ``failed``, ``unchanged`` when it had no value to send; with ``dry_run``:
        ``would-change``, ``unchanged``, ``missing``, ``would-create``) and ``error``; a dry
        run adds ``changed_fields`` and ``old.<field>`` / ``new.<field>`` columns.

    Raises
    ------
    ValidationError
        Unknown fields, wrong value types, duplicate or missing ids.
    WriteAccessError
        The key cannot write (checked before the first write).

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> vid = pn.aggregate([{"source": {"visitors": None}}, {"limit": 1}])["visitorId"][0]
    >>> plan = pn.update_values("visitor", [{"visitorId": vid, "betaopt": True}], dry_run=True)
    >>> plan["outcome"].iloc[0] in ("would-change", "unchanged")  # doctest: +SKIP
    True
    """
    from pendo_nb.writes import write_values  # imported here: writes -> paging -> api

    return write_values(
        _resolve(client),
        kind,
        rows,
        group=group,
        create=create,
        dry_run=dry_run,
        chunk_size=chunk_size,
        id_column=id_column,
    )


# -- cache --------------------------------------------------------------------------------


def clear_cache(*, client: PendoClient | None = None, everything: bool = False) -> None:
    """Delete cached answers: the client's own (its key and host), or every one in its store.

    Parameters
    ----------
    client : PendoClient, optional
        Default: the last client made by :func:`connect`.
    everything : bool
        Also delete the answers other keys stored in the same cache file.

    Returns
    -------
    None

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> pn.clear_cache()
    >>> pn.cache_info().entries
    0
    """
    _resolve(client).clear_cache(everything=everything)


def cache_info(*, client: PendoClient | None = None) -> CacheInfo:
    """What the client's cache holds (entries, size, file) and its hits and misses so far.

    Parameters
    ----------
    client : PendoClient, optional
        Default: the last client made by :func:`connect`.

    Returns
    -------
    CacheInfo
        ``enabled``, ``location``, ``entries``, ``size_bytes``, ``hits``, ``misses``.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> info = pn.cache_info()
    >>> info.hits >= 0
    True
    """
    return _resolve(client).cache_info()
