"""``PendoClient``: a :class:`~pendo_nb.http.connection.PendoConnection` whose verbs return
DataFrames.

Each public operation is written here, once, as a method; :mod:`pendo_nb.api.functions` makes
the module-level functions (``pn.visitor(...)``) from these methods, adding ``client=``. The
long work is done one layer down, in :mod:`pendo_nb.pulls`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pendo_nb.api.reprs import CacheSummary, client_html, connection_kind
from pendo_nb.api.snapshots import leaks_frame
from pendo_nb.errors import ConfigurationError, SnapshotError, ValidationError
from pendo_nb.frames.csv_reader import csv_to_frame
from pendo_nb.frames.json_reader import json_to_frame
from pendo_nb.frames.plain_reader import rows_to_frame
from pendo_nb.http.cache_policy import CachePolicy
from pendo_nb.http.connection import PendoConnection, aggregation_envelope
from pendo_nb.http.known_values import KnownValues, people_values
from pendo_nb.pulls.aggregation import aggregation_frame
from pendo_nb.pulls.catalog_names import forget_names, names_frame, with_names
from pendo_nb.pulls.extracts import extract_period
from pendo_nb.pulls.extracts.pull import SETTLE_DAYS
from pendo_nb.pulls.field_check import check_aggregation
from pendo_nb.pulls.history import stitch_history
from pendo_nb.pulls.object_ids import explain_missing_object
from pendo_nb.pulls.paging import aggregate_in_pages
from pendo_nb.pulls.report_ids import explain_missing_report
from pendo_nb.pulls.schemas import metadata_types, report_fields
from pendo_nb.pulls.windows import aggregate_in_windows
from pendo_nb.pulls.writes import can_write, write_values

__all__ = ["PendoClient"]

# What an analyst reads first in the listing; the dozens of internal columns follow.
_REPORT_COLUMNS_FIRST = (
    "name", "kind", "definition.type", "ownedByUser.username", "lastUpdatedAt", "id", "createdAt",
)  # fmt: skip
_SEGMENT_COLUMNS_FIRST = ("name", "id", "createdByUser.username", "lastUpdatedAt", "createdAt")


class PendoClient(PendoConnection):
    """A connection to one Pendo subscription (or the sandbox) whose verbs return DataFrames.

    Usually made by :func:`pendo_nb.connect`. Two kinds of methods:

    * DataFrame methods ``aggregate``, ``account``, ``visitor``, ``visitor_history``,
      ``reports``, ``report``, ``report_csv``, ``update_values`` (and ``can_write``,
      ``clear_cache``, ``cache_info``): the module-level functions of :mod:`pendo_nb` call
      these on the default client;
    * endpoint methods ``get_*`` / ``post_*`` / ``verify_key`` return a
      :class:`~pendo_nb.http.connection.PendoResponse` (``.json()``, ``.text``, provenance).

    Parameters
    ----------
    key : str
        The integration key. It is sent in a header, masked in ``repr``, and never stored.
    region : {"us", "us1", "eu", "jpn", "au"}, optional
        Which regional host to use; default: ``PENDO_REGION``, else the key's suffix
        (``<uuid>.eu``), else ``"us"``.
    base_url : str, optional
        Any other host (the sandbox, a proxy); overrides ``region``.
    cache, expire_after, rate_limit, retry
        See :func:`pendo_nb.http.session.build_session`.
    timeout : float, (connect, read) or Timeouts
        Timeouts in seconds; aggregations always get at least 330 s to read.
    tz : str
        Time zone of the datetime columns of the DataFrames (``"UTC"`` by default); period
        buckets (``day``...) are their calendar start on this zone's clock, so it should be the
        subscription's time zone, to which Pendo aligns them.
    record, pseudonymize, mask, keep, replay
        Record every answer into a snapshot file, or answer from one; see
        :func:`pendo_nb.connect`.
    """

    #: True for a client of the offline sandbox (set by :func:`pendo_nb.connect`).
    is_sandbox: bool = False
    #: The local extract this client answers from (``connect(local=...)``), else None.
    local_extract: Path | None = None

    def _repr_html_(self) -> str:
        return client_html(self)

    def cache_info(self) -> CacheSummary:
        """What the client's cache holds (entries, size, file) and its hits and misses so far.

        Returns
        -------
        CacheSummary
            ``enabled``, ``location``, ``entries``, ``size_bytes`` (``size``: readable),
            ``hits``, ``misses`` and ``kind`` (``"live"``, ``"sandbox"`` or ``"replay"``); a
            notebook shows it as a small table.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> pn.cache_info().kind
        'sandbox'
        """
        info = super().cache_info()
        return CacheSummary(**vars(info), kind=connection_kind(self))

    # -- reads ----------------------------------------------------------------------------

    def aggregate(
        self,
        pipeline: Any,
        *,
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
            filter on a unique key (``visitorId``/``accountId`` for visitors/accounts, else the
            field of a trailing one-field ``sort``), instead of one answer.
        cache_policy : pendo_nb.http.cache_policy.CachePolicy, optional
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

        Raises
        ------
        PipelineError
            A step reads a field that cannot exist (an earlier ``select``, ``group``,
            ``reduce`` or ``count`` did not write it): nothing is sent. A field the rows may
            lack (not among the source's documented fields, or not in the metadata schema) gives
            a :class:`~pendo_nb.errors.FieldWarning` with the close matches instead.

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
        envelope = aggregation_envelope(pipeline)  # built once: the pulls take it as it is
        check_aggregation(
            self,
            envelope["request"]["pipeline"],
            built=hasattr(pipeline, "to_json"),  # a Pipeline warned as it was built
        )
        if page_size is not None:
            if windows is not None:
                raise ValidationError("give windows= or page_size=, not both")
            return aggregate_in_pages(
                envelope, client=self, page_size=page_size, progress=progress, refresh=refresh
            )
        if windows is not None:
            return aggregate_in_windows(
                envelope,
                client=self,
                windows=windows,
                workers=workers,
                progress=progress,
                refresh=refresh,
                cache_policy=cache_policy,
            )
        return aggregation_frame(self, envelope, refresh=refresh)

    def account(self, account_id: str, *, refresh: bool = False) -> pd.DataFrame:
        """Fetch one account.

        Parameters
        ----------
        account_id : str
            The account id (any characters: ids that are not URL-safe are sent base64-encoded).
        refresh : bool
            Ask the server again even if the answer is cached.

        Returns
        -------
        pandas.DataFrame
            One row: ``id`` and the ``metadata.<group>.<field>`` columns.

        Raises
        ------
        NotFoundError
            No account has this id (ids are exact); its hint shows the id as given and how to
            find similar ones.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> first = pn.aggregate([{"source": {"accounts": None}}, {"limit": 1}])["accountId"][0]
        >>> pn.account(first)["id"][0] == first
        True
        """
        return self._object_frame("account", account_id, refresh)

    def visitor(self, visitor_id: str, *, refresh: bool = False) -> pd.DataFrame:
        """Fetch one visitor.

        Parameters
        ----------
        visitor_id : str
            The visitor id (ids that are not URL-safe are sent base64-encoded).
        refresh : bool
            Ask the server again even if the answer is cached.

        Returns
        -------
        pandas.DataFrame
            One row: ``id``, ``accountIds`` (a list) and the ``metadata.<group>.<field>`` columns.

        Raises
        ------
        NotFoundError
            No visitor has this id (ids are exact); its hint shows the id as given and how to
            find similar ones.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> first = pn.aggregate([{"source": {"visitors": None}}, {"limit": 1}])["visitorId"][0]
        >>> pn.visitor(first).shape[0]
        1
        """
        return self._object_frame("visitor", visitor_id, refresh)

    def _object_frame(self, kind: str, object_id: str, refresh: bool) -> pd.DataFrame:
        fetch = self.get_account if kind == "account" else self.get_visitor
        with explain_missing_object(kind, object_id):
            response = fetch(object_id, refresh=refresh)
        row = response.json()
        if not isinstance(row, dict):
            raise TypeError(f"expected a JSON object from {response.url}, got {type(row).__name__}")
        return rows_to_frame(
            [row],
            tz=self.tz,
            field_types=metadata_types(self, kind),
            attrs=response.provenance(),
        )

    def visitor_history(
        self,
        visitor_id: str,
        start: Any,
        end: Any = None,
        *,
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
            No visitor has this id (ids are exact); its hint shows the id as given and how to
            find similar ones.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> vid = pn.aggregate([{"source": {"visitors": None}}, {"limit": 1}])["visitorId"][0]
        >>> df = pn.visitor_history(vid, start="2026-01-01")  # doctest: +SKIP
        """
        return stitch_history(self, visitor_id, start, end, progress=progress, refresh=refresh)

    def reports(self, *, refresh: bool = False) -> pd.DataFrame:
        """List the subscription's public reports.

        Parameters
        ----------
        refresh : bool
            Ask the server again even if the answer is cached.

        Returns
        -------
        pandas.DataFrame
            One row per report, led by the columns people read (``name``, ``kind``,
            ``definition.type``, the owner's username, ``lastUpdatedAt``, ``id``), then the
            other flattened columns (pipelines and field lists stay lists).

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> "name" in pn.reports().columns
        True
        """
        response = self.get_reports(refresh=refresh)
        return rows_to_frame(
            response.json_array(),
            tz=self.tz,
            columns=_REPORT_COLUMNS_FIRST,
            attrs=response.provenance(),
        )

    def segments(self, *, refresh: bool = False) -> pd.DataFrame:
        """List the subscription's saved segments (``GET /segment``).

        A segment's id is what the ``segment`` step of a pipeline takes
        (``pn.source.visitors().segment(id)``).

        Parameters
        ----------
        refresh : bool
            Ask the server again even if the answer is cached.

        Returns
        -------
        pandas.DataFrame
            One row per segment, led by ``name``, ``id``, the author's username and the times,
            then the other flattened columns (the defining ``pipeline`` stays a list).

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> "Admins" in set(pn.segments()["name"])
        True
        """
        response = self.get_segments(refresh=refresh)
        return rows_to_frame(
            response.json_array(),
            tz=self.tz,
            columns=_SEGMENT_COLUMNS_FIRST,
            attrs=response.provenance(),
        )

    def object_names(self, kind: str | None = None, *, refresh: bool = False) -> pd.DataFrame:
        """The names of the subscription's pages, features, track types and guides, by id.

        Read once per client from Pendo's catalogs (``GET /page``, ``/feature``, ``/tracktype``,
        ``/guide``, every app) and kept; :func:`with_names` uses the same names.

        Parameters
        ----------
        kind : {"page", "feature", "trackType", "guide"}, optional
            One catalog only; default: all four.
        refresh : bool
            Ask the server again (after tagging or renaming something in Pendo).

        Returns
        -------
        pandas.DataFrame
            One row per object: ``id``, ``kind`` and ``name`` (string columns).

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> pages = pn.object_names("page")
        >>> list(pages.columns)
        ['id', 'kind', 'name']
        """
        return names_frame(self, kind, refresh=refresh)

    def with_names(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with the name of each page, feature, track type and guide next to its id.

        A ``pageName`` column goes right after ``pageId``, ``featureName`` after ``featureId``,
        ``trackTypeName`` after ``trackTypeId`` and ``guideName`` after ``guideId`` (dotted
        columns too: ``x.pageId`` gets ``x.pageName``). The id columns stay; an id the catalog
        does not know (a deleted object) gets a missing name. Names come from
        :func:`object_names`.

        Parameters
        ----------
        frame : pandas.DataFrame
            Any frame, e.g. from :func:`aggregate` or :func:`visitor_history`; it is not changed.

        Returns
        -------
        pandas.DataFrame
            A copy with the name columns added (string dtype) and the same ``attrs``.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> clicks = pn.source.featureEvents().last(7, "days").group("featureId", n=pn.agg.count())
        >>> pn.with_names(pn.aggregate(clicks)).columns.tolist()
        ['featureId', 'featureName', 'n']
        """
        return with_names(self, frame)

    def report(self, report_id: str, *, refresh: bool = False) -> pd.DataFrame:
        """A report's contents (``results.json``).

        Parameters
        ----------
        report_id : str
            The report's id (see :func:`reports`). Path, Funnel and Data Explorer reports have no
            retrievable contents.
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
        with explain_missing_report(self, report_id):
            response = self.get_report_results(report_id, refresh=refresh)
        fields, _ = report_fields(self, report_id)
        return json_to_frame(
            response.content,
            key=None,
            tz=self.tz,
            columns=list(fields),
            field_types=fields,
            attrs=response.provenance(),
        )

    def report_csv(self, report_id: str, *, refresh: bool = False) -> pd.DataFrame:
        """A report's contents from ``results.csv``, with the columns and dtypes of :func:`report`.

        Parameters
        ----------
        report_id : str
            The report's id (see :func:`reports`).
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
        with explain_missing_report(self, report_id):
            response = self.get_report_csv(report_id, refresh=refresh)
        fields, titles = report_fields(self, report_id)
        frame = csv_to_frame(response.text, tz=self.tz, field_types=fields, titles=titles)
        for name in fields:
            if name not in frame.columns:
                frame[name] = pd.array([None] * len(frame), dtype=object)
        frame.attrs.update(response.provenance())
        return frame

    # The docstring is PendoConnection.clear_cache's (help() and pn.clear_cache inherit it).
    def scan_for_leaks(self, path: str | os.PathLike[str]) -> pd.DataFrame:
        """Find the real people and customers of this client's subscription in a shared file.

        Reads every string of a snapshot (its manifest, every answer, JSON and CSV, any field
        and depth, keys too) or of a local extract (its manifest and every text cell of its
        Parquet files, JSON text read field by field) and reports each one that equals or
        contains a real visitor id, account id, e-mail address (or its local part, or a
        company's mail domain), person name or account name of the subscription, learned live
        from the ``visitors`` and ``accounts`` sources (one aggregation each). Run it before
        sharing a file or a folder.

        Parameters
        ----------
        path : str or path
            A snapshot file (``pn.connect(..., record=path)``) or an extract folder
            (``pn.extract(path, ...)``).

        Returns
        -------
        pandas.DataFrame
            One row per real value found in a field: ``where`` (``snapshot.json`` or the
            answer's method and path; for an extract ``manifest.json`` or the Parquet file),
            ``request`` (the aggregation's steps, or the query; for an extract the source),
            ``field``, ``kind`` (``"visitor id"``, ``"e-mail address"``, ``"account name"``...),
            ``value`` (the real value: do not share this frame) and ``count``. Empty, with these
            columns, when the file holds none.

        Raises
        ------
        ConfigurationError
            The client replays a snapshot: the scan needs the live subscription.
        SnapshotError
            The file is not a readable snapshot, or the folder not a whole, readable extract
            (it is checked as ``pn.connect(local=...)`` checks it).

        Examples
        --------
        >>> import pendo_nb as pn
        >>> live = pn.connect(sandbox=True)
        >>> pn.scan_for_leaks("review.pendo", client=live)  # doctest: +SKIP
        """
        if self.replaying is not None:
            raise ConfigurationError(
                "scan_for_leaks needs a live client (the subscription the file was recorded "
                "from), not a replay"
            )
        known = KnownValues()
        for value, kind in people_values(*self._people_rows()):
            known.add(value, kind)
        return leaks_frame(path, known)

    def clear_cache(self, *, everything: bool = False) -> None:
        super().clear_cache(everything=everything)
        forget_names(self)  # the names were read from the answers just deleted

    def extract(
        self,
        path: str | os.PathLike[str],
        start: Any,
        end: Any = None,
        *,
        grain: str = "day",
        apps: str | Sequence[int] = "*",
        sources: Sequence[str] | None = None,
        pseudonymize: bool = False,
        mask: Sequence[str] = (),
        workers: int = 4,
        progress: bool = True,
        settle_days: int = SETTLE_DAYS,
    ) -> pd.DataFrame:
        """Pull a period of the subscription into a folder of Parquet files (a local extract).

        ``pn.connect(local=path)`` then answers any pipeline over it offline, with the sandbox's
        interpreter; pandas, pyarrow, DuckDB, Polars and Dask read the files without pendo_nb.
        The event sources are pulled one day at a time, in parallel on this client's paced and
        retried session; each day is written atomically, so running the same call again after
        an interruption resumes, and extending ``end`` pulls only the new days plus the days
        that had not settled when they were pulled (``settle_days``).

        Parameters
        ----------
        path : str or path
            The extract's folder (made if missing). One folder per source, partitioned by day
            (``events/day=2026-10-01/part-0.parquet``), and ``manifest.json``.
        start, end : date, datetime, ISO text or epoch ms
            The period ``[start, end)``, read on the server's clock; ``end=None``: through the
            day that holds now. An existing extract is extended to cover both ranges.
        grain : {"day", "hour"}
            The grain of the event sources ``events``, ``pageEvents``, ``featureEvents`` and
            ``trackEvents``: the finest period the local connection can answer. Hours take
            more room; days answer day, week and month series.
        apps : "*" or list of int
            The apps whose events are pulled (default all).
        sources : list of str, optional
            The day-partitioned sources to pull (default all: the four event sources,
            ``guideEvents`` and ``pollEvents``). Visitors, accounts, catalogs, segments, reports
            and metadata schemas are always pulled.
        pseudonymize : bool
            Replace visitor and account ids, e-mail addresses and names with stable fakes (the
            recordings' pseudonymizer), so the extract can be shared. Such an extract cannot be
            resumed or extended.
        mask : list of str
            Metadata fields (by name) whose values become null (as in recordings, this also
            pseudonymizes).
        workers : int
            Requests at the same time (default 4); they share the client's rate limit.
        progress : bool
            Show one progress bar over every request.
        settle_days : int
            Days that ended less than this many days before they were pulled are pulled again
            by the next run (default 2: Pendo processes events hourly and connectors see them
            arrive hours late).

        Returns
        -------
        pandas.DataFrame
            One row per source: ``source``, ``days`` (files by day), ``rows``, ``bytes``.
            ``df.attrs`` holds ``path``, ``grain``, ``first_day``, ``last_day``, ``taken_at``,
            ``days_pulled``, ``requests``, ``pseudonymized`` and ``summary``: for a
            pseudonymized extract, ``summary["replaced"]`` counts the distinct values replaced
            by kind and, under ``"fields"``, per field how many values were ``replaced``,
            ``masked`` or ``kept`` (also stored in the manifest, and printed at the end when
            ``progress``).

        Raises
        ------
        ValidationError
            A bad grain, source list or app list, or ``end`` before ``start``.
        SnapshotError
            The folder holds an extract of another grain or time zone, or a pseudonymized one.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> taken = pn.extract("october", "2026-10-01", "2026-11-01")  # doctest: +SKIP
        >>> local = pn.connect(local="october")                       # doctest: +SKIP
        """
        return extract_period(
            self, path, start, end, grain=grain, apps=apps, sources=sources,
            pseudonymize=pseudonymize, mask=mask, workers=workers, progress=progress,
            settle_days=settle_days,
        )  # fmt: skip

    # -- writes ---------------------------------------------------------------------------

    def can_write(self) -> bool:
        """Whether the client's integration key may write (update metadata values).

        Asks ``GET /token/verify`` (never cached), which answers 200 for a key created with "Allow
        Write Access" and 403 otherwise. Pendo gives the same 403 "Key is invalid" for a key it does
        not know at all, so after a 403 the key is tried on a read: a key that can read is valid but
        read-only (``False``); one that cannot raises :class:`~pendo_nb.errors.AuthenticationError`
        rather than passing for a read-only key.

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
        return can_write(self)

    def update_values(
        self,
        kind: str,
        rows: Any,
        *,
        group: str = "custom",
        create: bool = False,
        dry_run: bool = False,
        chunk_size: int = 500,
        id_column: str | None = None,
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
            use Pendo's form ``{"visitorId": ..., "values": {...}}``. Values must fit the schema's
            field types; text that reads exactly as a number or ``true``/``false`` fits a number
            or boolean field (a CSV column with one bad cell is text: only that cell is refused).
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
        if self.local_extract is not None and not dry_run:
            raise SnapshotError(
                f"update_values(): this session reads the local extract {self.local_extract} and "
                "is read-only; writes need a live connection (pn.connect(key=...)). A dry run "
                "(update_values(..., dry_run=True)) works"
            )
        return write_values(
            self,
            kind,
            rows,
            group=group,
            create=create,
            dry_run=dry_run,
            chunk_size=chunk_size,
            id_column=id_column,
        )
