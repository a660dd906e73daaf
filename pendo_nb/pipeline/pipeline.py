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
#: Pendo's pipeline-head operators of reference 3.5).
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
        """Set the request's optional ``name``/``requestId`` labels or the response mime type."""
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
        """Set the source's ``timeSeries`` (reference 3.3).

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
        """
        series = make_time_series(period, first, last, count, "time_series")
        return self._with_series("time_series", series)

    def last(self, n: int, unit: str = "days", *, include_current: bool = False) -> Pipeline:
        """Read the ``n`` most recent ``unit`` periods (``"hours"``, ``"days"``, ``"weeks"``,
        ``"months"``), relative to Pendo's clock.

        By default these are the ``n`` complete periods before the current one (``first:
        "now()", count: -n``); ``include_current=True`` reads the current period and the
        ``n - 1`` before it.
        """
        return self._with_series("last", last_periods(n, unit, include_current, "last"))

    def between(self, start: Any, end: Any, *, period: str = "dayRange") -> Pipeline:
        """Read from the period containing ``start`` through the one containing ``end``
        (both inclusive), in ``period`` buckets (``"dayRange"`` or a unit such as ``"hours"``)."""
        try:
            resolved = period_for_unit(period)
        except PipelineError as error:
            raise PipelineError(f"between(period): {error}") from None
        series = make_time_series(resolved, start, end, None, "between", names=("start", "end"))
        return self._with_series("between", series)

    def on(self, day: Any) -> Pipeline:
        """Read the one day containing ``day`` (a date, date string, timestamp or expression)."""
        series = make_time_series("dayRange", day, None, 1, "on", names=("day", "day"))
        return self._with_series("on", series)

    # -- basic operators ----------------------------------------------------------------------
    def filter(self, expression: ExprLike) -> Pipeline:
        """Keep rows where ``expression`` is true (null counts as false).

        ``expression`` is a Pendo expression string (``'numEvents > 10'``) or built with
        ``pn.col`` (``pn.col("numEvents") > 10``).
        """
        return self._then(Filter(expression))

    def select(
        self, fields: Mapping[str, ExprLike] | None = None, /, **named: ExprLike
    ) -> Pipeline:
        """Keep only the given fields: ``select(id="visitorId", email="metadata.agent.email")``.

        Names that are not Python identifiers (``"Visitor Count"``) go in the ``fields`` mapping.
        """
        return self._then(Select(_merged(fields, named)))

    def eval(self, fields: Mapping[str, ExprLike] | None = None, /, **named: ExprLike) -> Pipeline:
        """Add or replace fields, keeping the others: ``eval(hours="numMinutes / 60")``.

        Evaluation order inside one ``eval`` is undefined in Pendo: chain two ``eval`` calls when
        one field uses another. Period fields such as ``day`` are read-only.
        """
        return self._then(Eval(_merged(fields, named)))

    def set(self, values: Mapping[str, Any] | None = None, /, **named: Any) -> Pipeline:
        """Set fields to constant JSON values (``{"set": ...}``, unofficial)."""
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
        fields, **named : Aggregator or dict
            Output fields, e.g. ``events=pn.agg.sum("numEvents")`` or ``{"sum": "numEvents"}``.
            Without any, the rows are the distinct key combinations.
        list_form : bool
            Write ``fields`` as Pendo's list of one-key objects instead of one object.
        force_keys : dict[str, Any], optional
            ``forceKeys``: key -> expression listing values to emit even with no rows.
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
        """Collapse all rows into one: ``reduce(visitors=pn.agg.count("visitorId"))``."""
        return self._then(Reduce(_merged(fields, named), list_form))

    def sort(self, *keys: str) -> Pipeline:
        """Sort by fields, ``-`` prefix for descending: ``sort("-events", "visitorId")``."""
        return self._then(Sort(keys))

    def limit(self, n: int) -> Pipeline:
        """Keep the first ``n`` rows (``n >= 1``)."""
        return self._then(Limit(n))

    def skip(self, n: int) -> Pipeline:
        """Not available: Pendo documents no ``skip`` operator (one connector sends it, reference
        3.5), so this raises ``PipelineError`` rather than build a request Pendo may refuse.
        Page with ``sort`` and a ``filter`` on the sort key instead."""
        raise PipelineError(
            f"skip({n!r}): Pendo documents no skip operator; page with sort() and a filter() "
            "on the sort key (e.g. visitorId > the last one seen) instead"
        )

    def count(self) -> Pipeline:
        """Replace all rows by one row ``{"count": N}``."""
        return self._then(Count())

    def cat(self) -> Pipeline:
        """Pass rows through unchanged (a placeholder in fork/spawn branches)."""
        return self._then(Cat())

    # -- Pendo-specific operators -------------------------------------------------------------
    def identified(self, field: str = "visitorId", *, anonymous: bool = False) -> Pipeline:
        """Keep identified visitors (or accounts) only; ``anonymous=True`` keeps only anonymous
        ones (``"!visitorId"``)."""
        return self._then(Identified(f"!{field}" if anonymous else field))

    def bulk_expand(
        self,
        out: str | Mapping[str, Any],
        *,
        visitor: str | None = None,
        account: str | None = None,
    ) -> Pipeline:
        """Attach visitor or account metadata under ``out``:
        ``bulk_expand("account", account="accountId")`` gives ``account.agent.name``..."""
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
        """Attach the object whose id is in a field: ``expand("pageInfo", page="pageId")``."""
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
        """Add ``out.lastUsed`` and ``out.count``: each visitor's all-time use of one object."""
        choices = {"pageId": page_id, "featureId": feature_id, "trackTypeId": track_type_id}
        return self._then(ItemSeen(_one_target(out, choices, "item_seen")))

    def segment(self, segment_id: str) -> Pipeline:
        """Keep rows whose visitor/account belongs to the segment ``segment_id``."""
        return self._then(Segment(segment_id))

    def useragent(self, out: str | Mapping[str, str], field: str = "userAgent") -> Pipeline:
        """Parse the user-agent string in ``field`` into an object ``out`` (``out.name``...).

        ``out`` may also be a mapping ``{out: field, ...}`` for several fields at once.
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

        ``index`` names a field for the element's position; ``keep_empty`` keeps rows whose list
        is empty; ``prefix`` emits running prefixes of the list instead.
        """
        return self._then(Unwind(field, index, keep_empty, prefix))

    def switch(
        self,
        out: str | Mapping[str, Any],
        field: str | None = None,
        cases: Sequence[Mapping[str, Any]] | None = None,
    ) -> Pipeline:
        """Set ``out`` to the ``value`` of the first case whose conditions all hold for ``field``.

        ``cases`` look like ``[{"value": "small", "<": 10}, {"value": "large", ">=": 10}]``;
        rows matching no case are dropped (Pendo's behaviour). ``out`` may also be Pendo's whole
        mapping ``{out: {field: cases}, ...}``.
        """
        if isinstance(out, Mapping):
            return self._then(Switch(out))
        if field is None or cases is None:
            raise PipelineError("switch: give out, field and cases")
        return self._then(Switch({out: {field: list(cases)}}))

    def fork(self, *branches: Pipeline | Sequence[Any]) -> Pipeline:
        """Send every row through each branch (a ``Pipeline()`` chain or JSON steps) and
        concatenate the outputs. Branches must not be empty (use ``Pipeline().cat()``)."""
        return self._then(Fork(branches))

    def spawn(self, *pipelines: Pipeline | Sequence[Any]) -> Pipeline:
        """Run independent pipelines, each starting with a source, and concatenate their rows."""
        return self._then(Spawn(pipelines))

    def join(self, *fields: str, width: int = 2) -> Pipeline:
        """Merge every ``width`` rows that share the values of ``fields`` into one row."""
        return self._then(Join(fields, width))

    def merge(
        self,
        fields: str | Sequence[str],
        pipeline: Pipeline | Sequence[Any],
        *,
        mappings: Mapping[str, str] | None = None,
    ) -> Pipeline:
        """Copy fields from the rows of an inner ``pipeline`` that share the key ``fields``.

        ``mappings`` is output name -> inner field; without it every inner field is copied;
        ``{}`` copies nothing.
        """
        return self._then(Merge(fields, pipeline, mappings))

    def unofficial(self, op: str, argument: Any = None) -> Pipeline:
        """Add an operator seen in real Pendo report definitions but not documented
        (``treeify``, ``retention``, ``pes``...; reference 3.5), passed as given."""
        return self._then(Unofficial(op, argument))

    # -- JSON ---------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, body: Mapping[str, Any] | Sequence[Any] | str | bytes) -> Pipeline:
        """Read an aggregation body: the full envelope, its ``request`` object, a bare list of
        steps, or the same as JSON text.

        Keys that do not change what Pendo computes (``response.location``, ``channelId``, a
        stray ``request.sort``) are accepted and not kept.

        Raises
        ------
        PipelineError
            Naming the step (``pipeline[3]``) and what is wrong with it.
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

        A fresh dict each time: changing it does not change the pipeline.
        """
        request: dict[str, Any] = {"pipeline": [step.to_json() for step in self.steps]}
        if self.name is not None:
            request["name"] = self.name
        if self.request_id is not None:
            request["requestId"] = self.request_id
        return {"response": {"mimeType": self.mime_type or DEFAULT_MIME_TYPE}, "request": request}

    # -- running ------------------------------------------------------------------------------
    def run(self, client: PendoClient | None = None, **options: Any) -> pd.DataFrame:
        """Send the pipeline and return the rows as a DataFrame (same as ``pn.aggregate(p)``).

        Parameters
        ----------
        client : PendoClient, optional
            Defaults to the client made by the last ``pn.connect()``.
        **options
            Passed to :func:`pendo_nb.aggregate`: ``windows="1D"``, ``workers``, ``progress``,
            ``page_size``, ``refresh``... for long ranges and big results.
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
        """Run the pipeline with a trailing ``limit(n)``: a quick look at the first rows."""
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
        """The builder code that makes this pipeline (``import pendo_nb as pn`` assumed)."""
        return display.Text(display.code(self))

    def to_curl(
        self, base_url: str = "https://app.pendo.io", *, client: PendoClient | None = None
    ) -> display.Text:
        """The request as a ``curl`` command.

        The key is written as the shell variable ``$PENDO_INTEGRATION_KEY``, never its value.
        ``client`` (a ``PendoClient``) supplies its host instead of ``base_url``.
        """
        if client is not None:
            base_url = client.base_url
        return display.Text(display.curl(self, base_url))

    def explain(self) -> display.Text:
        """What each step does, in plain English, one numbered line per step."""
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
