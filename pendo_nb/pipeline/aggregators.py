"""Field aggregators for ``group`` and ``reduce`` (reference 3.6): ``pn.agg.sum("numEvents")``.

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
    """Aggregators for :meth:`Pipeline.group` and :meth:`Pipeline.reduce` (reference 3.6).

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
        """Rows in the group (no argument), or distinct values of a field (or field tuple)."""
        return _count(field, "agg.count(field)")

    def count_if(self, field: str | None, condition: object) -> Aggregator:
        """Distinct values of ``field`` (rows when None) among rows where ``condition`` holds."""
        return _conditional("countIf", {"count": field, "if": condition}, "agg.count_if")

    def sum(self, expression: object) -> Aggregator:
        """Sum of a numeric expression."""
        return self._expression("sum", expression)

    def avg(self, expression: object) -> Aggregator:
        """Average (``avg``)."""
        return self._expression("avg", expression)

    def mean(self, expression: object) -> Aggregator:
        """Average (``mean``, same as ``avg``)."""
        return self._expression("mean", expression)

    def median(self, expression: object) -> Aggregator:
        """Median."""
        return self._expression("median", expression)

    def min(self, expression: object) -> Aggregator:
        """Minimum."""
        return self._expression("min", expression)

    def max(self, expression: object) -> Aggregator:
        """Maximum."""
        return self._expression("max", expression)

    def first(self, expression: object) -> Aggregator:
        """First non-null value seen (depends on row order)."""
        return self._expression("first", expression)

    def list(self, expression: object) -> Aggregator:
        """All values, as a list."""
        return self._expression("list", expression)

    def stddev(self, expression: object) -> Aggregator:
        """Standard deviation (unofficial, reference 3.6)."""
        return self._expression("stddev", expression)

    def var(self, expression: object) -> Aggregator:
        """Variance (unofficial, reference 3.6)."""
        return self._expression("var", expression)

    def concat(self, expression: object) -> Aggregator:
        """Concatenation of list values into one list (unofficial, reference 3.6)."""
        return self._expression("concat", expression)

    def list_average(self, expression: object) -> Aggregator:
        """``listAverage`` (unofficial, reference 3.6)."""
        return self._expression("listAverage", expression)

    def list_if(self, expression: object, condition: object) -> Aggregator:
        """Values of ``expression`` from rows where ``condition`` holds (unofficial)."""
        return _conditional("listIf", {"list": expression, "if": condition}, "agg.list_if")

    def percentiles(
        self, expression: object, named: Mapping[str, float] | None = None, **percents: float
    ) -> Aggregator:
        """Named percentiles, e.g. ``percentiles("numMinutes", p50=50, p90=90)`` (unofficial)."""
        body = {"field": expression, **(named or {}), **percents}
        return _percentiles(body, "agg.percentiles")


agg = _AggregatorFunctions()
