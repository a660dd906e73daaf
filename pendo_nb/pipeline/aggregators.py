"""Field aggregators for ``group`` and ``reduce``: ``pn.agg.sum("numEvents")``.

An :class:`Aggregator` is the value ``{"<aggregator>": <argument>}`` of one output field. The
official aggregators get a builder function each in :data:`agg`; the unofficial ones seen in real
report definitions (``daysActive*``, ``sequence``, ``path``...) are read and written as given,
since their argument shapes are not documented.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pendo_nb._checks import did_you_mean
from pendo_nb.errors import PipelineError, UnknownNameError
from pendo_nb.pipeline._values import JSON, canonical_bytes, json_value, single_key, snake_case
from pendo_nb.pipeline.expr import expression_text
from pendo_nb.pipeline.parse import check_field_path

#: Aggregators whose argument is one expression.
_EXPRESSION_AGGREGATORS = frozenset(
    {"sum", "avg", "mean", "median", "min", "max", "first", "list", "stddev", "var",
     "listAverage", "concat"}
)  # fmt: skip
#: Seen in report definitions and third-party notes, argument shape undocumented: kept verbatim.
_OPAQUE_AGGREGATORS = frozenset(
    {"daysActiveCreate", "daysActiveUnion", "daysActiveCount", "minutesActiveUnion",
     "minutesActiveCount", "sequence", "path"}
)  # fmt: skip
KNOWN_AGGREGATORS = _EXPRESSION_AGGREGATORS | _OPAQUE_AGGREGATORS | {
    "count", "countIf", "listIf", "percentiles"
}  # fmt: skip


@dataclass(frozen=True)
class Aggregator:
    """One aggregator: ``name`` is Pendo's (``"sum"``), ``argument`` its JSON argument."""

    name: str
    argument: JSON

    def to_json(self) -> dict[str, Any]:
        return {self.name: json_value(self.argument, self.name)}

    def __hash__(self) -> int:  # the argument may be a dict: hash its canonical JSON
        return hash(canonical_bytes(self.to_json()))

    def __repr__(self) -> str:
        return f"Aggregator({self.to_json()!r})"

    def to_code(self) -> str:
        """The ``pn.agg`` call that makes this aggregator (a dict literal for opaque ones)."""
        arg = self.argument
        if self.name == "count":
            return "pn.agg.count()" if arg is None else f"pn.agg.count({arg!r})"
        if isinstance(arg, dict):  # the aggregators whose argument is an object
            if self.name == "countIf":
                return f"pn.agg.count_if({arg.get('count')!r}, {arg['if']!r})"
            if self.name == "listIf":
                return f"pn.agg.list_if({arg['list']!r}, {arg['if']!r})"
            if self.name == "percentiles":
                named = {key: value for key, value in arg.items() if key != "field"}
                return f"pn.agg.percentiles({arg['field']!r}, {named!r})"
        if self.name in _EXPRESSION_AGGREGATORS:
            return f"pn.agg.{snake_case(self.name)}({arg!r})"
        return repr(self.to_json())

    def describe(self) -> str:
        """A short phrase such as ``sum of numEvents``."""
        if self.name == "count":
            return "row count" if self.argument is None else f"distinct count of {self.argument}"
        if self.name in _EXPRESSION_AGGREGATORS:
            return f"{self.name} of {self.argument}"
        return f"{self.name} {self.argument}"


def aggregator_from_json(spec: object, where: str) -> Aggregator:
    """Read ``{"<aggregator>": <argument>}``, checking the name and the argument's shape."""
    name, arg = single_key(spec, where)
    where = f"{where}.{name}"
    if name not in KNOWN_AGGREGATORS:
        raise PipelineError(
            f"{where}: unknown aggregator.{did_you_mean(name, KNOWN_AGGREGATORS)} "
            f"Known: {', '.join(sorted(KNOWN_AGGREGATORS))}"
        )
    if name == "count":
        return _count(arg, where)
    if name in _EXPRESSION_AGGREGATORS:
        return Aggregator(name, expression_text(arg, where))
    if name in ("countIf", "listIf"):
        return _conditional(name, arg, where)
    if name == "percentiles":
        return _percentiles(arg, where)
    return Aggregator(name, json_value(arg, where))


def _count(arg: object, where: str) -> Aggregator:
    if arg is None:
        return Aggregator("count", None)
    if isinstance(arg, list | tuple):
        if not arg:
            raise PipelineError(f"{where}: a list of fields to count must not be empty")
        return Aggregator("count", [check_field_path(field, where) for field in arg])
    return Aggregator("count", check_field_path(arg, where))


def _conditional(name: str, arg: object, where: str) -> Aggregator:
    value_key = "count" if name == "countIf" else "list"
    if not isinstance(arg, Mapping) or "if" not in arg or set(arg) - {value_key, "if"}:
        raise PipelineError(f"{where}: expected {{{value_key!r}: ..., 'if': <expression>}}")
    body: dict[str, Any] = {"if": expression_text(arg["if"], f"{where}.if")}
    if name == "countIf":
        field = arg.get("count")
        body["count"] = None if field is None else check_field_path(field, f"{where}.count")
    else:
        body["list"] = expression_text(arg.get("list"), f"{where}.list")
    return Aggregator(name, body)


def _percentiles(arg: object, where: str) -> Aggregator:
    if not isinstance(arg, Mapping) or "field" not in arg or len(arg) < 2:
        raise PipelineError(f"{where}: expected {{'field': <expression>, '<name>': <0-100>, ...}}")
    body: dict[str, Any] = {"field": expression_text(arg["field"], f"{where}.field")}
    for key, value in arg.items():
        if key == "field":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            raise PipelineError(f"{where}.{key}: a percentile must be a number from 0 to 100")
        body[key] = value
    return Aggregator("percentiles", body)


def as_aggregator(value: object, where: str) -> Aggregator:
    """An ``Aggregator`` as is, or a ``{"sum": "x"}`` dict read as one."""
    if isinstance(value, Aggregator):
        return value
    if isinstance(value, Mapping):
        return aggregator_from_json(value, where)
    raise PipelineError(
        f"{where}: expected an aggregator such as pn.agg.sum('numEvents') or "
        f"{{'sum': 'numEvents'}}, got {value!r}"
    )


class _AggregatorFunctions:
    """Aggregators for :meth:`Pipeline.group` and :meth:`Pipeline.reduce` (``pn.agg.sum(...)``).

    The official ones are Pendo's documented aggregators; those marked undocumented are seen in
    Pendo's own report definitions and work, but Pendo does not describe them.

    Arguments are expressions (strings or ``pn.col(...)``), e.g. ``pn.agg.sum("numEvents")`` or
    ``pn.agg.sum(pn.col("numEvents") * 2)``.
    """

    def _expression(self, name: str, value: object) -> Aggregator:
        return Aggregator(name, expression_text(value, f"agg.{name}(expression)"))

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not methods: Pendo's own (countIf) or a mistake.
        if name.startswith("_"):
            raise AttributeError(name)
        if snake_case(name) in self.__dir__():
            return getattr(self, snake_case(name))
        raise UnknownNameError(
            f"pn.agg.{name}: no such aggregator.{did_you_mean(name, self.__dir__())} "
            "All aggregators: dir(pn.agg)"
        )

    def __dir__(self) -> list[str]:
        """The aggregator functions (what tab completion offers)."""
        return sorted(
            name
            for name in vars(_AggregatorFunctions)
            if not name.startswith("_") and callable(getattr(_AggregatorFunctions, name))
        )

    def count(self, field: str | list[str] | None = None) -> Aggregator:
        """Count the rows in the group, or the distinct values of a field.

        Parameters
        ----------
        field : str or list of str, optional
            Without it, the number of rows; with a field, the number of its distinct values; with
            a list of fields, the number of distinct combinations.

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> p = (pn.source.events(app_id="*").last(7, "days")
        ...        .reduce(rows=pn.agg.count(), visitors=pn.agg.count("visitorId")))
        >>> p.run()
            rows  visitors
        0  19613      1416
        """
        return _count(field, "agg.count(field)")

    def count_if(self, field: str | None, condition: object) -> Aggregator:
        """Count the distinct values of ``field`` (or the rows) where ``condition`` holds.

        Parameters
        ----------
        field : str or None
            The field whose distinct values are counted; ``None`` counts rows.
        condition : str or Expr
            The expression a row must satisfy.

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> heavy = pn.agg.count_if("visitorId", "numEvents > 20")
        >>> pn.source.events(app_id="*").last(7, "days").reduce(heavy_visitors=heavy).run()
           heavy_visitors
        0             184
        """
        return _conditional("countIf", {"count": field, "if": condition}, "agg.count_if")

    def sum(self, expression: object) -> Aggregator:
        """Sum of a numeric expression.

        Parameters
        ----------
        expression : str or Expr
            A field or expression over each row's fields (``"numEvents"``,
            ``pn.col("numMinutes") / 60``).

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> events = pn.source.events(app_id="*").last(7, "days")
        >>> hours = pn.agg.sum("numMinutes / 60")
        >>> events.reduce(events=pn.agg.sum("numEvents"), hours=hours).run()
           events       hours
        0   56059  851.133333
        """
        return self._expression("sum", expression)

    def avg(self, expression: object) -> Aggregator:
        """Average of a numeric expression (Pendo's ``avg``).

        Parameters
        ----------
        expression : str or Expr
            A field or expression over each row's fields (``"numEvents"``,
            ``pn.col("numMinutes") / 60``).

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.agg.avg("numMinutes")
        Aggregator({'avg': 'numMinutes'})
        """
        return self._expression("avg", expression)

    def mean(self, expression: object) -> Aggregator:
        """Average of a numeric expression (Pendo's ``mean``, the same as ``avg``).

        Parameters
        ----------
        expression : str or Expr
            A field or expression over each row's fields (``"numEvents"``,
            ``pn.col("numMinutes") / 60``).

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.agg.mean("numMinutes")
        Aggregator({'mean': 'numMinutes'})
        """
        return self._expression("mean", expression)

    def median(self, expression: object) -> Aggregator:
        """Median of a numeric expression.

        Parameters
        ----------
        expression : str or Expr
            A field or expression over each row's fields (``"numEvents"``,
            ``pn.col("numMinutes") / 60``).

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.agg.median("numMinutes")
        Aggregator({'median': 'numMinutes'})
        """
        return self._expression("median", expression)

    def min(self, expression: object) -> Aggregator:
        """Smallest value of an expression (numbers, or times in ms).

        Parameters
        ----------
        expression : str or Expr
            A field or expression over each row's fields (``"numEvents"``,
            ``pn.col("numMinutes") / 60``).

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> events = pn.source.events(app_id="*").last(7, "days")
        >>> events.reduce(first_day=pn.agg.min("day")).run()
           first_day
        0 2026-10-25
        """
        return self._expression("min", expression)

    def max(self, expression: object) -> Aggregator:
        """Largest value of an expression (numbers, or times in ms).

        Parameters
        ----------
        expression : str or Expr
            A field or expression over each row's fields (``"numEvents"``,
            ``pn.col("numMinutes") / 60``).

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.agg.max("lastTime")
        Aggregator({'max': 'lastTime'})
        """
        return self._expression("max", expression)

    def first(self, expression: object) -> Aggregator:
        """The first non-null value seen (it depends on the rows' order).

        Parameters
        ----------
        expression : str or Expr
            A field or expression over each row's fields (``"numEvents"``,
            ``pn.col("numMinutes") / 60``).

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.agg.first("accountId")
        Aggregator({'first': 'accountId'})
        """
        return self._expression("first", expression)

    def list(self, expression: object) -> Aggregator:
        """All the values, as a list.

        Parameters
        ----------
        expression : str or Expr
            A field or expression over each row's fields (``"numEvents"``,
            ``pn.col("numMinutes") / 60``).

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.agg.list("pageId")
        Aggregator({'list': 'pageId'})
        """
        return self._expression("list", expression)

    def stddev(self, expression: object) -> Aggregator:
        """Standard deviation (undocumented by Pendo, seen in real pipelines).

        Parameters
        ----------
        expression : str or Expr
            A field or expression over each row's fields (``"numEvents"``,
            ``pn.col("numMinutes") / 60``).

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.agg.stddev("numMinutes")
        Aggregator({'stddev': 'numMinutes'})
        """
        return self._expression("stddev", expression)

    def var(self, expression: object) -> Aggregator:
        """Variance (undocumented by Pendo, seen in real pipelines).

        Parameters
        ----------
        expression : str or Expr
            A field or expression over each row's fields (``"numEvents"``,
            ``pn.col("numMinutes") / 60``).

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.agg.var("numMinutes")
        Aggregator({'var': 'numMinutes'})
        """
        return self._expression("var", expression)

    def concat(self, expression: object) -> Aggregator:
        """The list values of the group, flattened into one list (undocumented by Pendo).

        Parameters
        ----------
        expression : str or Expr
            A field or expression over each row's fields (``"numEvents"``,
            ``pn.col("numMinutes") / 60``).

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.agg.concat("tags")
        Aggregator({'concat': 'tags'})
        """
        return self._expression("concat", expression)

    def list_average(self, expression: object) -> Aggregator:
        """Pendo's ``listAverage`` (undocumented by Pendo, seen in real pipelines).

        Parameters
        ----------
        expression : str or Expr
            A field or expression over each row's fields (``"numEvents"``,
            ``pn.col("numMinutes") / 60``).

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.agg.list_average("scores")
        Aggregator({'listAverage': 'scores'})
        """
        return self._expression("listAverage", expression)

    def list_if(self, expression: object, condition: object) -> Aggregator:
        """The values of ``expression`` from the rows where ``condition`` holds (undocumented).

        Parameters
        ----------
        expression : str or Expr
            The value listed.
        condition : str or Expr
            The expression a row must satisfy.

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.agg.list_if("pageId", "numEvents > 5")
        Aggregator({'listIf': {'if': 'numEvents > 5', 'list': 'pageId'}})
        """
        return _conditional("listIf", {"list": expression, "if": condition}, "agg.list_if")

    def percentiles(
        self, expression: object, named: Mapping[str, float] | None = None, **percents: float
    ) -> Aggregator:
        """Named percentiles of an expression (undocumented by Pendo, seen in real pipelines).

        Parameters
        ----------
        expression : str or Expr
            The value whose percentiles are computed.
        named : dict, optional
            Output name -> percentile (0 to 100), for names that are not Python identifiers.
        **percents : float
            Output name -> percentile: ``p50=50, p90=90``.

        Returns
        -------
        Aggregator
            The value of one field of :meth:`~pendo_nb.Pipeline.group` or
            :meth:`~pendo_nb.Pipeline.reduce`.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> pn.agg.percentiles("numMinutes", p50=50, p90=90)
        Aggregator({'percentiles': {'field': 'numMinutes', 'p50': 50, 'p90': 90}})
        """
        body = {"field": expression, **(named or {}), **percents}
        return _percentiles(body, "agg.percentiles")


agg = _AggregatorFunctions()
