"""``Pipeline``: a frozen value holding the steps of a Pendo aggregation.

Every method returns a new pipeline and leaves the original unchanged, so a pipeline made in one
notebook cell can be extended in several later cells. Arguments are checked when the method is
called; a mistake raises :class:`~pendo_nb.errors.PipelineError` naming the method and argument.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from pendo_nb.api.functions import aggregate
from pendo_nb.errors import PipelineError
from pendo_nb.pipeline import display
from pendo_nb.pipeline._values import canonical_bytes, snake_case
from pendo_nb.pipeline.aggregators import Aggregator
from pendo_nb.pipeline.expr import Expr
from pendo_nb.pipeline.server_dates import connected_base_url, describe_on_server
from pendo_nb.pipeline.sources import Source
from pendo_nb.pipeline.steps import (
    BulkExpand,
    Cat,
    Count,
    Eval,
    Expand,
    Filter,
    Fork,
    Group,
    Identified,
    ItemSeen,
    Join,
    Limit,
    Merge,
    Reduce,
    Segment,
    Select,
    Set,
    Sort,
    Spawn,
    Step,
    Switch,
    Unofficial,
    Unwind,
    Useragent,
    steps_from_json,
)
from pendo_nb.pipeline.timeseries import (
    last_periods,
    make_time_series,
    period_for_unit,
)
from pendo_nb.pulls.field_check import field_problems, warn_problems

if TYPE_CHECKING:
    import pandas as pd

    from pendo_nb.api.client import PendoClient
    from pendo_nb.pipeline.timeseries import TimeSeries

DEFAULT_MIME_TYPE = "application/json"
#: Steps a whole request can start with: they make rows of their own (the metric operators are
#: pipeline-head operators Pendo documents).
_HEAD_OPERATORS = ("source", "spawn", "pes", "adoption", "growth", "stickiness")
_MIME_TYPES = (DEFAULT_MIME_TYPE, "text/csv")

ExprLike = str | Expr


def _merged(fields: Mapping[str, Any] | None, named: Mapping[str, Any]) -> dict[str, Any]:
    """A positional mapping (for names that are not Python identifiers) plus keyword fields."""
    merged = dict(fields or {})
    merged.update(named)
    return merged


@dataclass(frozen=True)
class Pipeline:
    """A Pendo aggregation: a list of steps plus the request's optional labels.

    Start one from a source (``pn.source.events(app_id="*")``), from JSON
    (``Pipeline.from_json(body)``), or empty (``Pipeline()``, for sub-pipelines). Then chain
    methods, one per Pendo operator; each returns a new pipeline.

    Each step's fields are checked against what its rows hold (the source's documented fields,
    the fields earlier steps wrote): a field they lack, which Pendo would read as null, gives a
    :class:`~pendo_nb.errors.FieldWarning` with the close matches (``group("visitorID")`` on
    events: ``Did you mean 'visitorId'?``). Running refuses a field that cannot exist (dropped
    by an earlier ``select``/``group``...) and checks ``metadata.*`` against the schema.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> p = (pn.source.events(app_id="*").last(30, "days")
    ...        .identified("visitorId")
    ...        .group("visitorId", events=pn.agg.sum("numEvents"))
    ...        .filter(pn.col("events") > 10)
    ...        .sort("-events")
    ...        .limit(100))
    >>> p.to_json()["request"]["pipeline"][-1]
    {'limit': 100}
    """

    steps: tuple[Step, ...] = ()
    name: str | None = None
    request_id: str | None = None
    mime_type: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.steps, tuple) or not all(isinstance(s, Step) for s in self.steps):
            raise PipelineError(
                "Pipeline(steps): expected a tuple of steps; use Pipeline.from_json"
            )
        for label in ("name", "request_id"):
            value = getattr(self, label)
            if value is not None and not isinstance(value, str):
                raise PipelineError(f"Pipeline({label}): expected a string, got {value!r}")
        if self.mime_type not in (None, *_MIME_TYPES):
            raise PipelineError(f"Pipeline(mime_type): expected one of {_MIME_TYPES}")
        if self.mime_type == DEFAULT_MIME_TYPE:
            object.__setattr__(self, "mime_type", None)  # the default, written by to_json

    # -- composition --------------------------------------------------------------------------
    def _then(self, step: Step) -> Pipeline:
        return dataclasses.replace(self, steps=(*self.steps, step))._fields_checked(len(self.steps))

    def _fields_checked(self, since: int = 0) -> Pipeline:
        """Warn about the fields that steps ``since`` onwards read and their rows do not hold
        (:mod:`pendo_nb.pulls.field_check`), in the cell that adds them.

        Only warned here, never refused, so any body reads and any pipeline's code rebuilds
        it; running one that reads a field that cannot exist is refused (``pn.aggregate``).
        Metadata fields are checked against the schema when the pipeline runs."""
        problems, _ = field_problems([step.to_json() for step in self.steps])
        warn_problems(problem for problem in problems if problem.step >= since)
        return self

    def __add__(self, other: object) -> Pipeline:
        """``p1 + p2``: the steps of ``p1`` followed by those of ``p2`` (labels of ``p1`` win)."""
        if not isinstance(other, Pipeline):
            return NotImplemented
        return Pipeline(
            (*self.steps, *other.steps),
            name=self.name if self.name is not None else other.name,
            request_id=self.request_id if self.request_id is not None else other.request_id,
            mime_type=self.mime_type if self.mime_type is not None else other.mime_type,
        )._fields_checked(len(self.steps))

    def __len__(self) -> int:
        return len(self.steps)

    def __hash__(self) -> int:
        return hash(canonical_bytes(self.to_json()))

    def with_request(
        self,
        *,
        name: str | None = None,
        request_id: str | None = None,
        mime_type: str | None = None,
    ) -> Pipeline:
        """Set the request's optional labels, or ask for CSV instead of JSON.

        Parameters
        ----------
        name : str, optional
            The request's ``name`` (shown in Pendo's logs).
        request_id : str, optional
            The request's ``requestId``.
        mime_type : {"application/json", "text/csv"}, optional
            The answer's format.

        Returns
        -------
        Pipeline
            A new pipeline with the labels set; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.accounts().with_request(name="accounts for the board deck")
        >>> p.to_json()["request"]["name"]
        'accounts for the board deck'
        """
        changes: dict[str, Any] = {"name": name, "request_id": request_id, "mime_type": mime_type}
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    # -- time ---------------------------------------------------------------------------------
    def _source(self, where: str) -> Source:
        if not self.steps or not isinstance(self.steps[0], Source):
            raise PipelineError(f"{where}: the pipeline does not start with a source")
        return self.steps[0]

    def _with_series(self, where: str, series: TimeSeries) -> Pipeline:
        source = self._source(where)
        try:
            replaced = source.with_time_series(series)
        except PipelineError as error:
            raise PipelineError(f"{where}: {error}") from None
        return dataclasses.replace(self, steps=(replaced, *self.steps[1:]))

    def time_series(
        self,
        period: str,
        first: Any,
        *,
        last: Any = None,
        count: int | None = None,
    ) -> Pipeline:
        """Set the periods an event source reads (Pendo's ``timeSeries``), written directly.

        :meth:`last`, :meth:`between` and :meth:`on` cover the common cases; this one writes any
        ``timeSeries`` Pendo accepts.

        Parameters
        ----------
        period : str
            ``"hourRange"``, ``"dayRange"``, ``"weekRange"``, ``"monthRange"`` (one pass over the
            range) or ``"hourly"``, ``"daily"``, ``"weekly"``, ``"monthly"`` (one result set per
            period).
        first : int, str, datetime, date or pandas.Timestamp
            Start: epoch ms, a date/time (naive ones are read in the subscription's time zone),
            a date string such as ``"2024-03-01"``, or a Pendo expression such as ``"now()"``.
        last : same as first, optional
            End, inclusive (the period containing it is read).
        count : int, optional
            Number of periods from ``first`` instead of ``last``; negative counts end just
            before the period containing ``first``. Give ``last`` or ``count``, not both.

        Returns
        -------
        Pipeline
            A new pipeline whose source reads those periods; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.page_events().time_series("dayRange", "now()", count=-7)
        >>> p.to_json()["request"]["pipeline"][0]["source"]["timeSeries"]
        {'period': 'dayRange', 'first': 'now()', 'count': -7}
        """
        series = make_time_series(period, first, last, count, "time_series")
        return self._with_series("time_series", series)

    def last(self, n: int, unit: str = "days", *, include_current: bool = False) -> Pipeline:
        """Read the ``n`` most recent periods, on Pendo's clock.

        By default these are the ``n`` complete periods before the current one (``first:
        "now()", count: -n``): ``last(30, "days")`` ends at midnight this morning, server time.

        Parameters
        ----------
        n : int
            How many periods (at least 1).
        unit : {"hours", "days", "weeks", "months"}
            The period.
        include_current : bool
            Count the current (incomplete) period in: it and the ``n - 1`` before it.

        Returns
        -------
        Pipeline
            A new pipeline whose source reads those periods; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.events(app_id="*").last(30, "days")
        >>> p.to_json()["request"]["pipeline"][0]["source"]["timeSeries"]
        {'period': 'dayRange', 'first': 'now()', 'count': -30}
        """
        return self._with_series("last", last_periods(n, unit, include_current, "last"))

    def between(self, start: Any, end: Any, *, period: str = "dayRange") -> Pipeline:
        """Read from the period containing ``start`` through the one containing ``end``.

        Parameters
        ----------
        start, end : int, str, datetime, date or pandas.Timestamp
            Both inclusive: epoch ms, a date (string), a time, or a Pendo expression. Naive dates
            and times are read in the subscription's time zone.
        period : str
            ``"dayRange"`` (default), another range period, or a unit such as ``"hours"``.

        Returns
        -------
        Pipeline
            A new pipeline whose source reads that range; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.events(app_id="*").between("2026-10-01", "2026-10-31")
        >>> p.to_json()["request"]["pipeline"][0]["source"]["timeSeries"]
        {'period': 'dayRange', 'first': 'date("2026-10-01")', 'last': 'date("2026-10-31")'}
        """
        try:
            resolved = period_for_unit(period)
        except PipelineError as error:
            raise PipelineError(f"between(period): {error}") from None
        series = make_time_series(resolved, start, end, None, "between", names=("start", "end"))
        return self._with_series("between", series)

    def on(self, day: Any) -> Pipeline:
        """Read the one day containing ``day``.

        Parameters
        ----------
        day : int, str, datetime, date or pandas.Timestamp
            A date, date string, timestamp or Pendo expression.

        Returns
        -------
        Pipeline
            A new pipeline whose source reads that day; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> day = pn.source.events(app_id="*").on("2026-10-28")
        >>> day.group("day", events=pn.agg.sum("numEvents")).run()
                 day  events
        0 2026-10-28   10601
        """
        series = make_time_series("dayRange", day, None, 1, "on", names=("day", "day"))
        return self._with_series("on", series)

    # -- basic operators ----------------------------------------------------------------------
    def filter(self, expression: ExprLike) -> Pipeline:
        """Keep the rows where ``expression`` is true (null counts as false).

        Parameters
        ----------
        expression : str or Expr
            A Pendo expression (``'numEvents > 10'``) or one built with :func:`pendo_nb.col`
            (``pn.col("numEvents") > 10``). It is checked here: a typo raises
            :class:`~pendo_nb.PipelineError` with its position.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.visitors().filter(pn.col("metadata.agent.role") == "admin")
        >>> p.to_json()["request"]["pipeline"][-1]
        {'filter': 'metadata.agent.role == "admin"'}
        """
        return self._then(Filter(expression))

    def select(
        self, fields: Mapping[str, ExprLike] | None = None, /, **named: ExprLike
    ) -> Pipeline:
        """Keep only the given fields, renamed or computed.

        Parameters
        ----------
        fields : dict, optional
            Output name -> field path or expression, for names that are not Python identifiers
            (``{"Visitor Count": "count"}``).
        **named : str or Expr
            Output name -> field path or expression: ``email="metadata.agent.email"``.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> p = pn.source.visitors().select(id="visitorId", role="metadata.agent.role").limit(2)
        >>> p.run()
                                              id    role
        0  farid.garcia@deltawindcapital.example  member
        1  vera.young@atlasstonelearning.example  member
        """
        return self._then(Select(_merged(fields, named)))

    def eval(self, fields: Mapping[str, ExprLike] | None = None, /, **named: ExprLike) -> Pipeline:
        """Add or replace fields, keeping the others.

        Evaluation order inside one ``eval`` is undefined in Pendo: chain two ``eval`` calls when
        one field uses another. Period fields such as ``day`` are read-only.

        Parameters
        ----------
        fields : dict, optional
            Output name -> expression, for names that are not Python identifiers.
        **named : str or Expr
            Output name -> expression: ``hours="numMinutes / 60"``.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.events(app_id="*").last(7, "days").eval(hours="numMinutes / 60")
        >>> p.to_json()["request"]["pipeline"][-1]
        {'eval': {'hours': 'numMinutes / 60'}}
        """
        return self._then(Eval(_merged(fields, named)))

    def set(self, values: Mapping[str, Any] | None = None, /, **named: Any) -> Pipeline:
        """Set fields to constant JSON values (Pendo's undocumented ``set`` operator).

        Parameters
        ----------
        values : dict, optional
            Field -> value, for names that are not Python identifiers.
        **named : JSON value
            Field -> value: ``source="pendo"``.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.accounts().set(origin="pendo")
        >>> p.to_json()["request"]["pipeline"][-1]
        {'set': {'origin': 'pendo'}}
        """
        return self._then(Set(_merged(values, named)))

    def group(
        self,
        *keys: str,
        fields: Mapping[str, Aggregator | Mapping[str, Any]] | None = None,
        list_form: bool = False,
        force_keys: Mapping[str, ExprLike] | None = None,
        **named: Aggregator | Mapping[str, Any],
    ) -> Pipeline:
        """One row per combination of ``keys``, with aggregated fields.

        Parameters
        ----------
        *keys : str
            Field names to group by.
        fields : dict, optional
            Output name -> aggregator, for names that are not Python identifiers.
        **named : Aggregator or dict
            Output fields: ``events=pn.agg.sum("numEvents")`` or ``events={"sum": "numEvents"}``
            (see :data:`pendo_nb.agg`). Without any, the rows are the distinct key combinations.
        list_form : bool
            Write the fields as Pendo's list of one-key objects instead of one object.
        force_keys : dict, optional
            ``forceKeys``: key -> expression listing values to emit even with no rows.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> p = (pn.source.events(app_id="*").last(7, "days")
        ...        .group("day", visitors=pn.agg.count("visitorId"),
        ...               events=pn.agg.sum("numEvents")))
        >>> p.run().head(3)
                 day  visitors  events
        0 2026-10-25       145    2017
        1 2026-10-26       731   10595
        2 2026-10-27       714   10588
        """
        aggregators = _merged(fields, named)
        return self._then(Group(keys, aggregators or None, list_form, force_keys))

    def reduce(
        self,
        fields: Mapping[str, Aggregator | Mapping[str, Any]] | None = None,
        *,
        list_form: bool = False,
        **named: Aggregator | Mapping[str, Any],
    ) -> Pipeline:
        """Collapse all rows into one, with aggregated fields.

        Parameters
        ----------
        fields : dict, optional
            Output name -> aggregator, for names that are not Python identifiers.
        list_form : bool
            Write the fields as Pendo's list of one-key objects instead of one object.
        **named : Aggregator or dict
            Output fields: ``visitors=pn.agg.count("visitorId")`` (see :data:`pendo_nb.agg`).

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> p = pn.source.events(app_id="*").last(30, "days")
        >>> p = p.reduce(visitors=pn.agg.count("visitorId"))
        >>> p.run()
           visitors
        0      1710
        """
        return self._then(Reduce(_merged(fields, named), list_form))

    def sort(self, *keys: str) -> Pipeline:
        """Sort the rows by fields; a ``-`` prefix sorts that field descending.

        Parameters
        ----------
        *keys : str
            Field names, most significant first: ``sort("-events", "visitorId")``.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.accounts().sort("-metadata.custom.arr", "accountId")
        >>> p.to_json()["request"]["pipeline"][-1]
        {'sort': ['-metadata.custom.arr', 'accountId']}
        """
        return self._then(Sort(keys))

    def limit(self, n: int) -> Pipeline:
        """Keep the first ``n`` rows.

        Parameters
        ----------
        n : int
            At least 1.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> len(pn.source.visitors().limit(5).run())
        5
        """
        return self._then(Limit(n))

    def skip(self, n: int) -> Pipeline:
        """Not available: Pendo documents no ``skip`` operator.

        One connector sends it, but Pendo may refuse it, so this raises rather than build such a
        request. Page with :meth:`sort` and a :meth:`filter` on the sort key instead (or
        ``run(page_size=...)``, which does that for you).

        Parameters
        ----------
        n : int
            The rows that would be skipped.

        Returns
        -------
        Pipeline
            Never: it always raises.

        Raises
        ------
        PipelineError
            Always, saying what to do instead.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.source.visitors().skip(10)
        Traceback (most recent call last):
            ...
        pendo_nb.errors.PipelineError: skip(10): Pendo documents no skip operator; ...
        """
        raise PipelineError(
            f"skip({n!r}): Pendo documents no skip operator; page with sort() and a filter() "
            "on the sort key (e.g. visitorId > the last one seen) instead"
        )

    def count(self) -> Pipeline:
        """Replace all the rows by one row ``{"count": N}``.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> pn.source.accounts().count().run()
           count
        0    150
        """
        return self._then(Count())

    def cat(self) -> Pipeline:
        """Pass the rows through unchanged (a placeholder in ``fork`` branches).

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.accounts().fork(pn.Pipeline().cat(), pn.Pipeline().count())
        >>> p.to_json()["request"]["pipeline"][-1]
        {'fork': [[{'cat': None}], [{'count': None}]]}
        """
        return self._then(Cat())

    # -- Pendo-specific operators -------------------------------------------------------------
    def identified(self, field: str = "visitorId", *, anonymous: bool = False) -> Pipeline:
        """Keep identified visitors (or accounts) only, or only anonymous ones.

        Parameters
        ----------
        field : str
            ``"visitorId"`` (default) or ``"accountId"``.
        anonymous : bool
            Keep only the anonymous ones instead (``"!visitorId"``).

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.events(app_id="*").last(7, "days").identified("visitorId")
        >>> p.to_json()["request"]["pipeline"][-1]
        {'identified': 'visitorId'}
        """
        return self._then(Identified(f"!{field}" if anonymous else field))

    def bulk_expand(
        self,
        out: str | Mapping[str, Any],
        *,
        visitor: str | None = None,
        account: str | None = None,
    ) -> Pipeline:
        """Attach each row's visitor or account metadata under the field ``out``.

        Parameters
        ----------
        out : str or dict
            The field that receives the object (``account`` gives ``account.agent.name``...), or
            Pendo's whole mapping ``{out: {"account": "accountId"}, ...}``.
        visitor, account : str
            The field holding the visitor or account id; give exactly one.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> p = (pn.source.events(app_id="*").last(7, "days").identified("accountId")
        ...        .group("accountId").bulk_expand("account", account="accountId")
        ...        .select(id="accountId", plan="account.agent.plan").sort("id").limit(3))
        >>> p.run()
                           id     plan
        0  atlas-brook-health  starter
        1   atlas-crest-goods  starter
        2    atlas-line-works     free
        """
        return self._then(
            BulkExpand(_one_target(out, {"visitor": visitor, "account": account}, "bulk_expand"))
        )

    def expand(
        self,
        out: str | Mapping[str, Any],
        *,
        page: str | None = None,
        feature: str | None = None,
        track_type: str | None = None,
        guide: str | None = None,
        account: str | None = None,
        visitor: str | None = None,
        voc_item: str | None = None,
    ) -> Pipeline:
        """Attach the catalog object (page, feature, guide...) whose id is in a field.

        Parameters
        ----------
        out : str or dict
            The field that receives the object, or Pendo's whole mapping.
        page, feature, track_type, guide, account, visitor, voc_item : str
            The field holding that kind of id; give exactly one.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.page_events().last(7, "days").expand("pageInfo", page="pageId")
        >>> p.to_json()["request"]["pipeline"][-1]
        {'expand': {'pageInfo': {'page': 'pageId'}}}
        """
        choices = {"page": page, "feature": feature, "trackType": track_type, "guide": guide,
                   "account": account, "visitor": visitor, "vocItem": voc_item}  # fmt: skip
        return self._then(Expand(_one_target(out, choices, "expand")))

    def item_seen(
        self,
        out: str | Mapping[str, Any],
        *,
        page_id: str | None = None,
        feature_id: str | None = None,
        track_type_id: str | None = None,
    ) -> Pipeline:
        """Add each visitor's all-time use of one page, feature or track type.

        The row gets ``out.lastUsed`` and ``out.count``.

        Parameters
        ----------
        out : str or dict
            The field that receives the object, or Pendo's whole mapping.
        page_id, feature_id, track_type_id : str
            The object's id; give exactly one.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.visitors().item_seen("export", feature_id="feature-export")
        >>> p.to_json()["request"]["pipeline"][-1]
        {'itemSeen': {'export': {'featureId': 'feature-export'}}}
        """
        choices = {"pageId": page_id, "featureId": feature_id, "trackTypeId": track_type_id}
        return self._then(ItemSeen(_one_target(out, choices, "item_seen")))

    def segment(self, segment_id: str) -> Pipeline:
        """Keep the rows whose visitor or account belongs to a segment.

        Parameters
        ----------
        segment_id : str
            The segment's id (:func:`pendo_nb.segments` lists them).

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> admins = pn.segments().query("name == 'Admins'")["id"].item()
        >>> len(pn.source.visitors().segment(admins).run()) > 0
        True
        """
        return self._then(Segment(segment_id))

    def useragent(self, out: str | Mapping[str, str], field: str = "userAgent") -> Pipeline:
        """Parse a user-agent string into an object (``out.name``, ``out.version``, ``out.os``...).

        Parameters
        ----------
        out : str or dict
            The field that receives the parsed object, or a mapping ``{out: field, ...}`` for
            several at once.
        field : str
            The field holding the user-agent string.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.events(app_id="*").last(1, "days").useragent("browser")
        >>> p.to_json()["request"]["pipeline"][-1]
        {'useragent': {'browser': 'userAgent'}}
        """
        return self._then(Useragent(out if isinstance(out, Mapping) else {out: field}))

    # -- advanced operators -------------------------------------------------------------------
    def unwind(
        self,
        field: str,
        *,
        index: str | None = None,
        keep_empty: bool | None = None,
        prefix: bool | None = None,
    ) -> Pipeline:
        """One row per element of the list in ``field`` (the element replaces the list).

        Parameters
        ----------
        field : str
            The list field.
        index : str, optional
            A field that receives the element's position.
        keep_empty : bool, optional
            Keep the rows whose list is empty.
        prefix : bool, optional
            Emit the running prefixes of the list instead of its elements.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> p = pn.source.const([{"id": "a", "tags": ["x", "y"]}]).unwind("tags", index="n")
        >>> p.run()
          id tags  n
        0  a    x  0
        1  a    y  1
        """
        return self._then(Unwind(field, index, keep_empty, prefix))

    def switch(
        self,
        out: str | Mapping[str, Any],
        field: str | None = None,
        cases: Sequence[Mapping[str, Any]] | None = None,
    ) -> Pipeline:
        """Set ``out`` from the first case whose conditions all hold for ``field``.

        Rows matching no case are dropped (Pendo's behaviour).

        Parameters
        ----------
        out : str or dict
            The field to set, or Pendo's whole mapping ``{out: {field: cases}, ...}``.
        field : str
            The field the cases test.
        cases : list of dict
            ``[{"value": "small", "<": 10}, {"value": "large", ">=": 10}]``.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> size = [{"value": "small", "<": 10}, {"value": "large", ">=": 10}]
        >>> p = pn.source.const([{"n": 3}, {"n": 12}]).switch("size", "n", size)
        >>> p.run()
            n   size
        0   3  small
        1  12  large
        """
        if isinstance(out, Mapping):
            return self._then(Switch(out))
        if field is None or cases is None:
            raise PipelineError("switch: give out, field and cases")
        return self._then(Switch({out: {field: list(cases)}}))

    def fork(self, *branches: Pipeline | Sequence[Any]) -> Pipeline:
        """Send every row through each branch and concatenate what the branches give.

        Parameters
        ----------
        *branches : Pipeline or list of dict
            Sub-pipelines without a source (``pn.Pipeline().filter(...)``) or JSON steps. A
            branch must not be empty: ``pn.Pipeline().cat()`` passes the rows as they are.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> rows = pn.source.const([{"n": 1}, {"n": 2}])
        >>> p = rows.fork(pn.Pipeline().cat(), pn.Pipeline().count())
        >>> p.run()
              n  count
        0     1   <NA>
        1     2   <NA>
        2  <NA>      2
        """
        return self._then(Fork(branches))

    def spawn(self, *pipelines: Pipeline | Sequence[Any]) -> Pipeline:
        """Run independent pipelines, each with its own source, and concatenate their rows.

        Parameters
        ----------
        *pipelines : Pipeline or list of dict
            Each starts with a source.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> p = pn.Pipeline().spawn(pn.source.accounts().count(), pn.source.visitors().count())
        >>> p.run()
           count
        0    150
        1   2000
        """
        return self._then(Spawn(pipelines))

    def join(self, *fields: str, width: int = 2) -> Pipeline:
        """Merge every ``width`` rows that share the values of ``fields`` into one row.

        Parameters
        ----------
        *fields : str
            The fields the rows share.
        width : int
            How many rows make one (2 by default).

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> p = pn.source.const([{"id": 1, "a": "x"}, {"id": 1, "b": "y"}]).join("id")
        >>> p.run()
           a  id  b
        0  x   1  y
        """
        return self._then(Join(fields, width))

    def merge(
        self,
        fields: str | Sequence[str],
        pipeline: Pipeline | Sequence[Any],
        *,
        mappings: Mapping[str, str] | None = None,
    ) -> Pipeline:
        """Copy fields from the rows of an inner pipeline that share the key ``fields``.

        Parameters
        ----------
        fields : str or list of str
            The key fields.
        pipeline : Pipeline or list of dict
            The inner pipeline, with its own source.
        mappings : dict, optional
            Output name -> inner field. Without it every inner field is copied; ``{}`` copies
            nothing.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> names = pn.source.apps().select(appId="id", app="name")
        >>> p = (pn.source.events(app_id="*").last(7, "days").group("appId")
        ...        .merge("appId", names).sort("appId"))
        >>> p.run()
                      appId                app
        0           -323232      Acme Projects
        1  5629499534213120  Acme Projects iOS
        """
        return self._then(Merge(fields, pipeline, mappings))

    def unofficial(self, op: str, argument: Any = None) -> Pipeline:
        """Add an operator seen in real Pendo report definitions but not documented.

        ``treeify``, ``retention``, ``pes``... are passed as given, unchecked.

        Parameters
        ----------
        op : str
            The operator's name.
        argument : JSON value
            Its argument, as Pendo takes it.

        Returns
        -------
        Pipeline
            A new pipeline with the step added; this one is unchanged.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.visitors().unofficial("treeify", {"field": "path"})
        >>> p.to_json()["request"]["pipeline"][-1]
        {'treeify': {'field': 'path'}}
        """
        return self._then(Unofficial(op, argument))

    # -- JSON ---------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, body: Mapping[str, Any] | Sequence[Any] | str | bytes) -> Pipeline:
        """Read an aggregation body into a pipeline.

        Keys that do not change what Pendo computes (``response.location``, ``channelId``, a
        stray ``request.sort``) are accepted and not kept.

        Parameters
        ----------
        body : dict, list, str or bytes
            The full envelope, its ``request`` object, a bare list of steps, or any of them as
            JSON text: a body copied from Pendo's documentation or another tool.

        Returns
        -------
        Pipeline
            The same aggregation, as a pipeline (``to_json()`` writes it back with the same
            meaning).

        Raises
        ------
        PipelineError
            Naming the step (``pipeline[3]``) and what is wrong with it.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.Pipeline.from_json('[{"source": {"visitors": null}}, {"limit": 5}]')
        >>> p.to_code()
        (pn.source.visitors()
         .limit(5))
        """
        if isinstance(body, str | bytes):
            try:
                body = orjson.loads(body)
            except orjson.JSONDecodeError as error:
                raise PipelineError(f"Pipeline.from_json: not valid JSON: {error}") from None
        where = "Pipeline.from_json"
        if isinstance(body, Sequence) and not isinstance(body, str | bytes):
            return cls(steps_from_json(body, f"{where}: pipeline"))._fields_checked()
        if not isinstance(body, Mapping):
            raise PipelineError(f"{where}: expected an object or a list, got {type(body).__name__}")
        response = body.get("response") or {}
        request = body.get("request", body)
        if not isinstance(request, Mapping) or "pipeline" not in request:
            raise PipelineError(f"{where}: no request.pipeline in the body")
        mime_type = response.get("mimeType") if isinstance(response, Mapping) else None
        try:
            pipeline = cls(
                steps_from_json(request["pipeline"], f"{where}: pipeline"),
                name=request.get("name"),
                request_id=request.get("requestId"),
                mime_type=mime_type or None,
            )
        except PipelineError as error:
            if str(error).startswith(where):
                raise
            raise PipelineError(f"{where}: {error}") from None
        return pipeline._fields_checked()

    def to_json(self) -> dict[str, Any]:
        """The full aggregation body, ready to POST to ``/api/v1/aggregation``.

        Returns
        -------
        dict
            A fresh dict each time: changing it does not change the pipeline.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> body = pn.source.visitors().limit(5).to_json()
        >>> body["request"]
        {'pipeline': [{'source': {'visitors': None}}, {'limit': 5}]}
        >>> body["response"]
        {'mimeType': 'application/json'}
        """
        request: dict[str, Any] = {"pipeline": [step.to_json() for step in self.steps]}
        if self.name is not None:
            request["name"] = self.name
        if self.request_id is not None:
            request["requestId"] = self.request_id
        return {"response": {"mimeType": self.mime_type or DEFAULT_MIME_TYPE}, "request": request}

    # -- running ------------------------------------------------------------------------------
    def run(self, client: PendoClient | None = None, **options: Any) -> pd.DataFrame:
        """Send the pipeline and return the rows as a DataFrame (the same as ``pn.aggregate(p)``).

        Parameters
        ----------
        client : PendoClient, optional
            Defaults to the client made by the last :func:`pendo_nb.connect`.
        **options
            Passed to :func:`pendo_nb.aggregate`: ``windows="1D"``, ``workers``, ``progress``,
            ``page_size``, ``refresh``... for long ranges and big results.

        Returns
        -------
        pandas.DataFrame
            One row per row of the answer, nested fields as dotted columns.

        Raises
        ------
        PipelineError
            The pipeline does not start with a source (or ``spawn``), or an event source has no
            periods.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> top = (pn.source.events(app_id="*").last(30, "days")
        ...          .group("visitorId", events=pn.agg.sum("numEvents")).sort("-events").limit(3))
        >>> top.run()
                                         visitorId  events
        0      elena.ito@cobaltridgehealth.example     850
        1     umar.okoro@cobaltridgehealth.example     758
        2  quinn.lopez@willowbrooklearning.example     749
        """
        self._check_runnable("run")
        return aggregate(self, client=client, **options)

    def _check_runnable(self, where: str) -> None:
        """A whole request must start with rows: a source (with its periods, if it needs them)
        or a spawn. Sub-pipelines for fork/merge need not, so this is checked only on running."""
        head = self.steps[0] if self.steps else None
        if head is None or head.op not in _HEAD_OPERATORS:
            raise PipelineError(
                f"{where}: a pipeline must start with a source (pn.source.<name>(...)) or spawn"
            )
        if isinstance(head, Source) and head.time_series is None and head.needs_time_series:
            raise PipelineError(
                f"{where}: {head.name} reads events and needs periods: add .last(7, 'days'), "
                ".between(start, end), .on(day) or .time_series(...)"
            )
        # Typically p1 + p2 where p2 starts with a source. Reference 3.2 only says the first step
        # is usually the source; the sandbox refuses a later one, and no real body has one.
        later = next(
            ((i, step) for i, step in enumerate(self.steps[1:], 1) if isinstance(step, Source)),
            None,
        )
        if later is not None:
            index, second = later
            raise PipelineError(
                f"{where}: step {index + 1} is a second source ({second.name}); only "
                "the first step may be a source: combine sources with spawn(), or add a "
                "pipeline without a source (pn.Pipeline().filter(...))"
            )

    def preview(self, n: int = 10, client: PendoClient | None = None) -> pd.DataFrame:
        """Run the pipeline with a trailing ``limit(n)``: a quick look at the first rows.

        Parameters
        ----------
        n : int
            How many rows.
        client : PendoClient, optional
            Defaults to the client made by the last :func:`pendo_nb.connect`.

        Returns
        -------
        pandas.DataFrame
            At most ``n`` rows.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> pn.source.accounts().preview(3)["accountId"].tolist()
        ['delta-wind-capital', 'atlas-stone-learning', 'willow-crest-works']
        """
        return self.limit(n).run(client=client)

    # -- showing ------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return display.text_card(self)

    def _repr_html_(self) -> str:
        head = self.steps[0] if self.steps else None
        series = head.time_series if isinstance(head, Source) else None
        return display.html_card(
            self,
            dates=None if series is None else describe_on_server(series),
            base_url=connected_base_url(),
        )

    def to_code(self) -> display.Text:
        """The builder code that makes this pipeline (``import pendo_nb as pn`` assumed).

        Returns
        -------
        Text
            A string that shows as code in a notebook; ``str()`` of it is the code.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.Pipeline.from_json([{"source": {"accounts": None}}, {"limit": 3}]).to_code()
        (pn.source.accounts()
         .limit(3))
        """
        return display.Text(display.code(self))

    def to_curl(
        self, base_url: str = "https://app.pendo.io", *, client: PendoClient | None = None
    ) -> display.Text:
        r"""The request as a ``curl`` command.

        The key is written as the shell variable ``$PENDO_INTEGRATION_KEY``, never its value.

        Parameters
        ----------
        base_url : str
            The host to send it to (the ``us`` region's by default).
        client : PendoClient, optional
            Supplies its host instead of ``base_url``.

        Returns
        -------
        Text
            A string that shows as code in a notebook.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> print(pn.source.accounts().limit(1).to_curl("https://app.eu.pendo.io"))
        curl -X POST 'https://app.eu.pendo.io/api/v1/aggregation' \
          -H "x-pendo-integration-key: $PENDO_INTEGRATION_KEY" \
          -H 'content-type: application/json' \
          --data-raw '{
          "response": {
            "mimeType": "application/json"
          },
          "request": {
            "pipeline": [
              {
                "source": {
                  "accounts": null
                }
              },
              {
                "limit": 1
              }
            ]
          }
        }'
        """
        if client is not None:
            base_url = client.base_url
        return display.Text(display.curl(self, base_url))

    def explain(self) -> display.Text:
        """What each step does, in plain English, one numbered line per step.

        Returns
        -------
        Text
            A string that shows as text in a notebook.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> p = pn.source.events(app_id="*").last(7, "days")
        >>> print(p.group("day", events=pn.agg.sum("numEvents")).explain())
        1. read events (appId=expandAppIds("*")) over dayRange periods from now(), count -7
        2. one row per day with events = sum of numEvents
        """
        return display.Text(display.explain(self))


def _one_target(
    out: str | Mapping[str, Any], choices: Mapping[str, str | None], where: str
) -> Mapping[str, Any]:
    """``{out: {kind: value}}`` from the one keyword given, or ``out`` itself when it is already
    that mapping (several outputs in one step, as ``to_code`` writes them)."""
    given = {kind: value for kind, value in choices.items() if value is not None}
    if isinstance(out, Mapping) and not given:
        return out
    if len(given) != 1 or isinstance(out, Mapping):
        names = ", ".join(snake_case(kind) for kind in choices)
        raise PipelineError(f"{where}(out={out!r}): give exactly one of {names}")
    ((kind, value),) = given.items()
    return {out: {kind: value}}
