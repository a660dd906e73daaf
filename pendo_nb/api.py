"""``connect()``, the default client, and the functions that return DataFrames.

Each function takes ``client=`` (default: the last client made by :func:`connect`) and has a twin
method on :class:`~pendo_nb.client.PendoClient`.
"""

from __future__ import annotations

import atexit
import difflib
import math
import os
import re
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from pendo_nb import frames
from pendo_nb.cache_policy import CachePolicy
from pendo_nb.client import PendoClient, aggregation_envelope
from pendo_nb.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PendoAPIError,
    PendoConnectionError,
    ValidationError,
    WriteAccessError,
)
from pendo_nb.session import CacheInfo, RetryPolicy, Timeouts

__all__ = [
    "account",
    "aggregate",
    "cache_info",
    "clear_cache",
    "connect",
    "report",
    "report_csv",
    "reports",
    "update_values",
    "visitor",
    "visitor_history",
]

DAY_MS = 24 * 60 * 60 * 1000
#: Pendo keeps visitor history for this many days (reference 2.4).
HISTORY_DAYS = 180
#: Ids per dry-run lookup aggregation (keeps the filter expression short).
_LOOKUP_BATCH = 200

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
        if not (hasattr(server, "url") and hasattr(server, "key")):
            raise ConfigurationError(
                f"sandbox must be True or a pendo_nb.sandbox.Sandbox, got {type(server).__name__}"
            )
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
        request envelope ``{"response": ..., "request": {"pipeline": [...]}}``.
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
        metadata fields typed by the subscription's schema. ``df.attrs`` holds the provenance,
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
        attrs["server_time"] = pd.Timestamp(started, unit="ms", tz="UTC").tz_convert(c.tz)
    field_types = _metadata_types(c, _source_kind(steps))
    parsed = frames.parse_json(response.content, key="results")
    del response  # free the answer's bytes before the frame is built (peak memory)
    return parsed.to_frame(
        tz=c.tz, columns=frames.columns_implied_by(steps), field_types=field_types, attrs=attrs
    )


_START_TIME = re.compile(rb'"startTime"\s*:\s*(\d+)')


def _start_time(content: bytes) -> int | None:
    """The answer's ``startTime`` (when the server ran it), read without parsing the rows.

    Pendo writes it before or after ``results``, so looking at both ends of the body suffices.
    """
    for end in (content[:128], content[-128:]):
        match = _START_TIME.search(end)
        if match:
            return int(match.group(1))
    return None


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
        field_types=_metadata_types(c, kind),
        attrs=response.provenance(),
    )


#: Columns of visitor_history, whatever the answer holds (reference 2.4).
HISTORY_COLUMNS = ("visitorId", "windowStart", "type", "ts", "lastTs")


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
    c = _resolve(client)
    if not isinstance(visitor_id, str) or not visitor_id:  # before the server-time probe
        raise ValidationError(f"visitor_id must be a non-empty string, got {visitor_id!r}")
    now_ms, start_ms, end_ms = _server_range(c, start, end)
    earliest = now_ms - HISTORY_DAYS * DAY_MS
    if start_ms < earliest:
        raise ValidationError(
            f"Pendo keeps {HISTORY_DAYS} days of visitor history: start {_iso(start_ms)} is "
            f"before the earliest available moment, {_iso(earliest)} (server time)"
        )
    end_ms = min(end_ms, now_ms)
    if start_ms >= end_ms:
        raise ValidationError(
            f"start ({_iso(start_ms)}) must be before end ({_iso(end_ms)}; at most server now)"
        )
    windows = list(range(start_ms, end_ms, DAY_MS))
    show = progress if progress is not None else len(windows) > 7
    rows: list[dict] = []
    responses = []
    for window in _progress(windows, show, f"history of {visitor_id}"):
        still_open = window + DAY_MS > now_ms  # its answer will still change
        response = c.get_visitor_history(visitor_id, window, refresh=refresh or still_open)
        responses.append(response)
        items = response.json() or []
        for item in items:
            if not isinstance(item, dict):
                raise TypeError(f"unexpected history item from {response.url}: {item!r:.80}")
            ts = item.get("ts")
            if isinstance(ts, (int, float)) and not start_ms <= ts < end_ms:
                continue  # the last window reaches past `end`
            rows.append({"visitorId": visitor_id, "windowStart": window, **item})
    attrs = {
        "host": c.host,
        "region": c.region,
        "url": responses[0].url if responses else None,
        "fetched_at": min(r.fetched_at for r in responses),
        "from_cache": all(r.from_cache for r in responses),
        "request_id": None,
        "windows": len(windows),
        "start": pd.Timestamp(start_ms, unit="ms", tz="UTC").tz_convert(c.tz),
        "end": pd.Timestamp(end_ms, unit="ms", tz="UTC").tz_convert(c.tz),
        "server_now": pd.Timestamp(now_ms, unit="ms", tz="UTC").tz_convert(c.tz),
    }
    frame = frames.rows_to_frame(rows, tz=c.tz, columns=HISTORY_COLUMNS, attrs=attrs)
    frame["windowStart"] = pd.to_datetime(
        frame["windowStart"].astype("Float64").to_numpy("float64", na_value=np.nan),
        unit="ms",
        utc=True,
    ).tz_convert(c.tz)
    return frame


def _progress(items: list, show: bool, label: str):
    if not show:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=label, unit="day")


def _server_range(c: PendoClient, start: Any, end: Any) -> tuple[int, int, int]:
    """The server's now and ``start``/``end`` in epoch ms, read by the server where needed.

    One uncached aggregation gives ``now()`` and evaluates ``date("...")`` for the times given
    without a zone, so they follow the subscription's time zone and clock.
    """
    fixed: dict[str, int] = {}
    local: dict[str, str] = {}
    for name, value in (("start", start), ("end", end)):
        if value is None:
            continue
        parsed = _moment(value, name)
        if isinstance(parsed, int):
            fixed[name] = parsed
        else:
            local[name] = parsed
    select = {"now": "now()", **{name: f'date("{text}")' for name, text in local.items()}}
    probe = [{"source": {"visitors": None}}, {"limit": 1}, {"select": select}]
    answer = c.post_aggregation(probe, refresh=True).json()
    results = answer.get("results") or []
    server = results[0] if results else {}
    now_ms = server.get("now", answer.get("startTime"))
    if not isinstance(now_ms, (int, float)):
        raise PendoAPIError(
            200, method="POST", url=c.base_url, body=str(answer)[:200], hint="no server time"
        )
    for name, text in local.items():
        value = server.get(name)
        if not isinstance(value, (int, float)):
            # No visitor row to evaluate date() on: fall back to UTC, and say so.
            warnings.warn(f"could not read {name}={text!r} on the server; using UTC", stacklevel=3)
            value = pd.Timestamp(text, tz="UTC").value // 1_000_000
        fixed[name] = int(value)
    now_ms = int(now_ms)
    return now_ms, fixed["start"], fixed.get("end", now_ms)


def _moment(value: Any, name: str) -> int | str:
    """Epoch ms for absolute moments; ``YYYY-MM-DDTHH:MM:SS`` text for zone-less ones."""
    if isinstance(value, bool):
        raise ValidationError(f"{name} must be a date, a datetime or epoch ms, got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        if not math.isfinite(value):
            raise ValidationError(f"{name} must be a finite number of epoch ms, got {value!r}")
        if value < 1e11:
            raise ValidationError(
                f"{name}={value} is not epoch milliseconds (too small; seconds times 1000?)"
            )
        return int(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name}={value!r} is not a date or time: {exc}") from None
    if stamp is pd.NaT:
        raise ValidationError(f"{name} must not be missing")
    if stamp.tzinfo is not None:
        return int(stamp.tz_convert("UTC").value // 1_000_000)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S")


def _iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()


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
        _json_list(response),
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
    fields = _report_fields(c, report_id)
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
    fields = _report_fields(c, report_id)
    frame = frames.csv_to_frame(
        response.text, tz=c.tz, field_types=fields, titles=_report_titles(c, report_id)
    )
    for name in fields:
        if name not in frame.columns:
            frame[name] = pd.array([None] * len(frame), dtype=object)
    frame.attrs.update(response.provenance())
    return frame


def _report_definition(c: PendoClient, report_id: str) -> dict:
    for item in _json_list(c.get_reports()):
        if isinstance(item, dict) and item.get("id") == report_id:
            return item
    return {}


def _report_fields(c: PendoClient, report_id: str) -> dict[str, str]:
    """Field -> type from the report's ``aggregation.fields`` (empty when unknown)."""
    fields = (_report_definition(c, report_id).get("aggregation") or {}).get("fields") or []
    return {
        f["field"]: str(f.get("type") or "")
        for f in fields
        if isinstance(f, dict) and isinstance(f.get("field"), str)
    }


def _report_titles(c: PendoClient, report_id: str) -> dict[str, str]:
    fields = (_report_definition(c, report_id).get("aggregation") or {}).get("fields") or []
    return {
        f["title"]: f["field"]
        for f in fields
        if isinstance(f, dict)
        and isinstance(f.get("title"), str)
        and isinstance(f.get("field"), str)
    }


def _json_list(response) -> list:
    value = response.json()
    if not isinstance(value, list):
        raise TypeError(f"expected a JSON array from {response.url}, got {type(value).__name__}")
    return value


def _source_kind(steps: Sequence[Mapping]) -> str | None:
    """``visitor``/``account`` when the pipeline reads the visitors/accounts source."""
    source = steps[0].get("source") if steps and isinstance(steps[0], Mapping) else None
    if isinstance(source, Mapping):
        if "visitors" in source:
            return "visitor"
        if "accounts" in source:
            return "account"
    return None


def _metadata_types(c: PendoClient, kind: str | None) -> dict[str, str] | None:
    """Column types from the metadata schema, or None (with a warning) when it is unavailable."""
    if kind is None:
        return None
    try:
        schema = c.metadata_schema(kind)
    except (PendoAPIError, PendoConnectionError) as exc:
        warnings.warn(
            f"metadata schema unavailable, columns keep inferred types: {exc}", stacklevel=4
        )
        return None
    return frames.metadata_field_types(schema)


# -- writes -------------------------------------------------------------------------------

#: Outcomes in update_values results.
OUTCOMES = ("updated", "missing", "failed", "unchanged", "would-change", "would-create")


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
    c = _resolve(client)
    kind = kind if kind in ("visitor", "account") else _bad_kind(kind)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValidationError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    id_key = f"{kind}Id"
    records = _records(rows, kind, group, id_column)
    field_types = _validated(records, c.metadata_schema(kind), kind, group)
    chunks = [records[i : i + chunk_size] for i in range(0, len(records), chunk_size)]
    if dry_run:
        result = _dry_run(c, kind, group, chunks, field_types, create)
        types = {f"{side}.{f}": t for f, t in field_types.items() for side in ("old", "new")}
        return frames.rows_to_frame(
            result,
            tz=c.tz,
            columns=(id_key, "chunk", "outcome", "changed_fields", "error"),
            field_types=types,
            attrs={
                "host": c.host,
                "region": c.region,
                "kind": kind,
                "group": group,
                "dry_run": True,
            },
        )
    _check_write_access(c)
    outcomes: list[dict] = []
    for number, chunk in enumerate(chunks):
        to_send = [(oid, values) for oid, values in chunk if values]
        outcomes += [
            {id_key: oid, "chunk": number, "outcome": "unchanged", "error": None}
            for oid, values in chunk
            if not values
        ]
        if to_send:
            outcomes += _write_chunk(c, kind, group, number, to_send, create)
    failed = sum(o["outcome"] == "failed" for o in outcomes)
    if failed:
        warnings.warn(
            f"{failed} of {len(outcomes)} objects failed; see the 'error' column", stacklevel=2
        )
    return frames.rows_to_frame(
        outcomes,
        tz=c.tz,
        columns=(id_key, "chunk", "outcome", "error"),
        attrs={"host": c.host, "region": c.region, "kind": kind, "group": group, "dry_run": False},
    )


def _bad_kind(kind: Any):
    raise ValidationError(f"kind must be 'visitor' or 'account', got {kind!r}")


def _records(rows: Any, kind: str, group: str, id_column: str | None) -> list[tuple[str, dict]]:
    """(id, {field: value}) per object, missing values dropped, ``metadata.<group>.`` stripped."""
    id_key = f"{kind}Id"
    if isinstance(rows, pd.DataFrame):
        named = rows.index.name is not None and rows.index.name in (id_column, id_key, "id")
        frame = rows.reset_index() if named else rows
        items = frame.to_dict("records")
    elif isinstance(rows, Iterable) and not isinstance(rows, (str, bytes, Mapping)):
        items = list(rows)
    else:
        raise ValidationError(
            f"rows must be a DataFrame or a list of dicts, got {type(rows).__name__}"
        )
    candidates = [id_column] if id_column else [id_key, "id"]
    prefix = f"metadata.{group}."
    records: list[tuple[str, dict]] = []
    seen: set[str] = set()
    for position, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValidationError(f"row {position} is a {type(item).__name__}, not a mapping")
        id_name = next((name for name in candidates if name in item), None)
        if id_name is None:
            raise ValidationError(
                f"row {position} has no id column (expected {' or '.join(candidates)})"
            )
        object_id = item[id_name]
        if not isinstance(object_id, str) or not object_id:
            raise ValidationError(
                f"row {position}: the id must be a non-empty string, got {object_id!r}"
            )
        if object_id in seen:
            raise ValidationError(f"row {position}: {id_key} {object_id!r} appears more than once")
        seen.add(object_id)
        fields = item["values"] if isinstance(item.get("values"), Mapping) else item
        values = {}
        for name, value in fields.items():
            if name == id_name:
                continue
            name = name[len(prefix) :] if name.startswith(prefix) else name
            if not _missing(value):
                values[name] = value.item() if isinstance(value, np.generic) else value
        records.append((object_id, values))
    if not records:
        raise ValidationError("no rows to update")
    return records


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _validated(records, schema: Mapping, kind: str, group: str) -> dict[str, str]:
    """Check names and types against the schema; convert times to epoch ms in place.

    Returns field -> schema type for the fields used.
    """
    if group == "auto":
        raise ValidationError("'auto' fields are computed by Pendo and cannot be written")
    known = schema.get(group)
    if not isinstance(known, Mapping):
        raise ValidationError(
            f"{kind} metadata has no group {group!r} "
            f"(groups: {', '.join(sorted(schema)) or 'none'})"
        )
    used = sorted({name for _, values in records for name in values})
    unknown = [name for name in used if name not in known]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(known), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValidationError(
            f"unknown {kind} {group} field(s): {', '.join(hints)}; "
            "create them in Pendo's Data Mappings first"
        )
    types = {name: str((known[name] or {}).get("Type") or "").lower() for name in used}
    problems = []
    for object_id, values in records:
        for name, value in values.items():
            try:
                values[name] = _sendable(_checked_value(value, types[name]))
            except (TypeError, ValueError):
                problems.append(f"{object_id!r}.{name}={value!r} is not {types[name]}")
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ValidationError(
            "values do not fit their field types: " + "; ".join(problems[:10]) + more
        )
    return types


def _sendable(value: Any) -> Any:
    """``value`` if JSON can carry it to Pendo; ``ValueError`` otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise ValueError(value)  # beyond Pendo's 64-bit integers (orjson refuses it anyway)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(value)  # no JSON form: it would be sent as null and erase the field
    return value


def _checked_value(value: Any, kind: str) -> Any:
    """The value as it is sent for a field of schema type ``kind``; raises when it does not fit."""
    if kind == "string":
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise TypeError(value)
        return value
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(value)
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return int(value)
    if kind in ("float", "number"):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise TypeError(value)
        return value
    if kind == "time":
        if isinstance(value, bool):
            raise TypeError(value)
        if isinstance(value, (int, float)):
            return int(value)
        if isinstance(value, (datetime, date, str)):
            stamp = pd.Timestamp(value)
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
            return int(stamp.value // 1_000_000)
        raise TypeError(value)
    if isinstance(value, (str, bool, int, float)):
        return value  # a field without a declared type takes any scalar
    raise TypeError(value)


def _check_write_access(c: PendoClient) -> None:
    """Fail before any write when the key cannot write (``GET /token/verify``)."""
    try:
        c.verify_key()
    except AuthenticationError as exc:
        # The schema was just read with this key, so it is valid: it lacks write access.
        raise WriteAccessError(
            exc.status,
            method=exc.method,
            url=exc.url,
            body=exc.body,
            request_id=exc.request_id,
            hint="this key can read but not write: use a key created with 'Allow Write Access'",
        ) from None
    except NotFoundError:
        pass  # a server without the probe: the write itself will say so


def _write_chunk(c, kind, group, number, chunk, create) -> list[dict]:
    id_key = f"{kind}Id"
    body = [{id_key: oid, "values": values} for oid, values in chunk]
    try:
        answer = c.post_metadata_values(kind, group, body, create=create).json()
    except (AuthenticationError, WriteAccessError):
        raise
    except (PendoAPIError, PendoConnectionError) as exc:
        message = str(exc).splitlines()[0]
        return [
            {id_key: oid, "chunk": number, "outcome": "failed", "error": message}
            for oid, _ in chunk
        ]
    missing = set(answer.get("missing") or []) if isinstance(answer, dict) else set()
    errors = {}
    for entry in (answer.get("errors") or []) if isinstance(answer, dict) else []:
        if isinstance(entry, str):
            errors[entry] = "failed"
        elif isinstance(entry, dict):
            oid = entry.get(id_key) or entry.get("id")
            errors[oid] = str(entry.get("error") or entry.get("message") or "failed")
    outcomes = []
    for oid, _ in chunk:
        if oid in errors:
            outcome, error = "failed", errors[oid]
        elif oid in missing:
            outcome, error = "missing", None
        else:
            outcome, error = "updated", None
        outcomes.append({id_key: oid, "chunk": number, "outcome": outcome, "error": error})
    return outcomes


def _dry_run(c, kind, group, chunks, field_types, create) -> list[dict]:
    id_key = f"{kind}Id"
    ids = [oid for chunk in chunks for oid, _ in chunk]
    current: dict[str, dict] = {}
    for i in range(0, len(ids), _LOOKUP_BATCH):
        batch = ids[i : i + _LOOKUP_BATCH]
        listed = ", ".join(_quoted(oid) for oid in batch)
        select = {id_key: id_key, **{f: f"metadata.{group}.{f}" for f in field_types}}
        pipeline = [
            {"source": {f"{kind}s": None}},
            {"filter": f"contains(list({listed}), {id_key})"},
            {"select": select},
        ]
        for row in c.post_aggregation(pipeline, refresh=True).json().get("results") or []:
            current[row.get(id_key)] = row
    result = []
    for number, chunk in enumerate(chunks):
        for oid, values in chunk:
            row = current.get(oid)
            old = {f: row.get(f) for f in values} if row is not None else {}
            changed = [f for f, v in values.items() if row is None or old.get(f) != v]
            if row is None:
                outcome = "would-create" if create else "missing"
            else:
                outcome = "would-change" if changed else "unchanged"
            result.append(
                {
                    id_key: oid,
                    "chunk": number,
                    "outcome": outcome,
                    "changed_fields": changed,
                    "error": None,
                    "old": old,
                    "new": dict(values),
                }
            )
    return result


def _quoted(text: str) -> str:
    """A string literal of Pendo's expression language."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


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
