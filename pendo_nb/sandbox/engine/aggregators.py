"""Field aggregators of ``group.fields`` and ``reduce`` (reference 3.6).

A spec is an object ``{"out": {"sum": "numEvents"}, ...}`` or Pendo's list form
``[{"out": {"sum": "numEvents"}}, ...]``. Each output names one aggregator and its argument;
arguments are expressions (``{"sum": "numEvents * numMinutes"}``), usually plain field paths.

Official: ``count`` (``null``: rows; an expression: distinct non-null values; a list of
expressions: distinct combinations), ``countIf`` ``{"count": ..., "if": expr}``, ``sum``,
``avg``/``mean``, ``median``, ``min``, ``max``, ``first`` (first non-null value in row order),
``list``. Extras Pendo users rely on: ``stddev`` and ``var`` (sample, n - 1), ``listIf``
``{"list": expr, "if": expr}``, ``concat`` (lists joined into one), ``percentiles``
``{"field": expr, "<name>": <0-100>, ...}`` (an object of the named percentiles, linear
interpolation between ranks as in pandas/numpy).

Choices where Pendo is silent:

- Nulls are skipped everywhere (``list`` and ``concat`` leave them out; ``count`` does not count
  null as a distinct value); ``sum``/``avg``/``median``/``stddev``/``var``/``percentiles`` use
  numeric values only. ``min``/``max`` compare numbers, or strings when a group has no numbers.
- A group with no usable value gives null, except ``count``/``countIf`` (0), ``sum`` (0) and
  ``list``/``listIf``/``concat`` (``[]``). Reducing no rows at all gives the same values: they are
  the zero values ``group.forceKeys`` emits for empty groups.
- A ``countIf``/``listIf`` condition keeps a row when it is true or a non-zero number (as a
  ``filter`` does: null is false).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .context import EvalContext
from .errors import AggregationError
from .expressions import Expression, compile_expression
from .values import NUMBER_TYPES, describe_type, hashable

Reducer = Callable[[list[dict[str, Any]]], Any]
ValuesOf = Callable[[list[dict[str, Any]]], list[Any]]


@dataclass(frozen=True)
class Aggregator:
    """One output of a ``group.fields``/``reduce`` spec.

    ``field_path`` is the argument when it is one plain field path (``{"sum": "numEvents"}``), so
    an interpreter holding rows column-wise can compute ``kind`` on that column itself (for
    ``count`` that means distinct non-null values); ``None`` for expressions, for ``count: null``
    and for the object-argument aggregators.
    """

    output: str
    kind: str
    field_path: str | None
    reduce: Reducer


class Aggregators:
    """The compiled outputs of one spec, in the order written.

    Attributes
    ----------
    items : tuple of Aggregator
    output_names : tuple of str
        The output field names (may be dotted paths; the caller writes them with ``set_path``).
    """

    def __init__(self, items: list[Aggregator]) -> None:
        self.items = tuple(items)
        self.output_names = tuple(item.output for item in items)

    def reduce(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Aggregate ``rows`` into ``{output name: value}``; empty ``rows`` gives zero values."""
        return {item.output: item.reduce(rows) for item in self.items}

    def __len__(self) -> int:
        return len(self.items)


def compile_aggregators(spec: Any, ctx: EvalContext, where: str) -> Aggregators:
    """Compile a ``group.fields`` or ``reduce`` spec.

    Parameters
    ----------
    spec : dict, list of dict, or None
        ``{"out": {"<aggregator>": <argument>}}`` or ``[{"out": {...}}, ...]``; ``None`` or empty
        means no outputs (a ``group`` without ``fields`` emits just its keys).
    ctx : EvalContext
        Passed to the argument expressions.
    where : str
        The step, e.g. ``"pipeline[2].group.fields"``; errors name it and the output.

    Returns
    -------
    Aggregators

    Raises
    ------
    AggregationError
        For an unknown aggregator, a malformed spec or argument, a duplicate output name, or an
        argument expression that does not parse.

    Examples
    --------
    >>> from zoneinfo import ZoneInfo
    >>> ctx = EvalContext(now_ms=0, timezone=ZoneInfo("UTC"))
    >>> aggs = compile_aggregators({"n": {"count": None}, "total": {"sum": "x"}}, ctx, "reduce")
    >>> aggs.reduce([{"x": 1}, {"x": 2.5}])
    {'n': 2, 'total': 3.5}
    """
    items: list[Aggregator] = []
    seen: set[str] = set()
    for output, definition, output_where in _outputs(spec, where):
        if output in seen:
            raise AggregationError(f"{output_where}: output {output!r} is defined twice")
        seen.add(output)
        if not isinstance(definition, dict) or len(definition) != 1:
            raise AggregationError(
                f'{output_where}: expected one aggregator like {{"sum": "numEvents"}}, got '
                f"{_short(definition)}"
            )
        ((kind, argument),) = definition.items()
        builder = _BUILDERS.get(kind)
        if builder is None:
            raise AggregationError(
                f"{output_where}: unknown aggregator {kind!r} (known: {', '.join(_BUILDERS)})"
            )
        compiler = _ArgumentCompiler(ctx, f"{output_where}.{kind}")
        reduce, field_path = builder(compiler, argument)
        items.append(Aggregator(output, kind, field_path, reduce))
    return Aggregators(items)


def _outputs(spec: Any, where: str) -> list[tuple[str, Any, str]]:
    if spec is None:
        return []
    if isinstance(spec, dict):
        return [(output, definition, f"{where}.{output}") for output, definition in spec.items()]
    if isinstance(spec, list):
        outputs = []
        for index, entry in enumerate(spec):
            if not isinstance(entry, dict) or len(entry) != 1:
                raise AggregationError(
                    f'{where}[{index}]: each list entry is one {{"out": {{aggregator}}}} '
                    f"object, got {_short(entry)}"
                )
            ((output, definition),) = entry.items()
            outputs.append((output, definition, f"{where}[{index}].{output}"))
        return outputs
    raise AggregationError(
        f"{where}: expected an object or a list of objects, got {describe_type(spec)}"
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _ArgumentCompiler:
    """Turns aggregator arguments into row readers, naming the aggregator in errors."""

    def __init__(self, ctx: EvalContext, where: str) -> None:
        self.ctx = ctx
        self.where = where

    def error(self, detail: str) -> AggregationError:
        return AggregationError(f"{self.where}: {detail}")

    def expression(self, argument: Any, what: str = "argument") -> Expression:
        if not isinstance(argument, str):
            raise self.error(
                f"the {what} must be a field name or an expression string, got "
                f"{describe_type(argument)}"
            )
        return compile_expression(argument, self.ctx, self.where)

    def values_of(self, argument: Any, what: str = "argument") -> tuple[ValuesOf, str | None]:
        """A function ``rows -> [value per row]`` and the plain field path, if it is one."""
        expression = self.expression(argument, what)
        path = expression.field_path
        if path is not None and "." not in path:
            # The common case ({"sum": "numEvents"}): one dict lookup per row, no call.
            return (lambda rows: [row.get(path) for row in rows]), path
        evaluate = expression.evaluate
        return (lambda rows: [evaluate(row) for row in rows]), path

    def condition(self, argument: Any) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
        """A function keeping the rows where the ``if`` expression holds."""
        evaluate = self.expression(argument, "'if' condition").evaluate
        return lambda rows: [row for row in rows if _holds(evaluate(row))]

    def object_argument(
        self, argument: Any, required: tuple[str, ...], example: str
    ) -> dict[str, Any]:
        if not isinstance(argument, dict):
            raise self.error(f"expected an object like {example}, got {describe_type(argument)}")
        missing = [key for key in required if key not in argument]
        if missing:
            raise self.error(f"missing {', '.join(repr(k) for k in missing)} (expected {example})")
        return argument


def _holds(value: Any) -> bool:
    if value is True:
        return True
    return type(value) in NUMBER_TYPES and value != 0


def _numbers(values: list[Any]) -> list[Any]:
    """The numeric values (booleans, strings and nulls dropped)."""
    if NUMBER_TYPES.issuperset(map(type, values)):  # the usual case: one C-level pass
        return values
    return [value for value in values if type(value) in NUMBER_TYPES]


# ----------------------------------------------------------------------------------- counting


def _distinct_count(values: list[Any]) -> int:
    try:
        distinct = set(values)
    except TypeError:  # lists or objects among the values
        distinct = None
    if distinct is None or 0 in distinct or 1 in distinct:
        # Python's set takes True for 1 and False for 0; Pendo's equality does not.
        distinct = {hashable(value) for value in values}
    distinct.discard(None)
    return len(distinct)


def _counter(compiler: _ArgumentCompiler, argument: Any) -> tuple[Reducer, str | None]:
    """``count`` reducer for ``null`` (rows), an expression (distinct values) or a list of
    expressions (distinct combinations, ignoring rows where all of them are null)."""
    if argument is None:
        return len, None
    if isinstance(argument, list):
        if not argument:
            raise compiler.error("a list of fields to count must not be empty")
        readers = [compiler.values_of(item)[0] for item in argument]

        def count_combinations(rows: list[dict[str, Any]]) -> int:
            combos = zip(*[read(rows) for read in readers], strict=True)
            keys = {
                tuple(hashable(value) for value in combo)
                for combo in combos
                if any(value is not None for value in combo)
            }
            return len(keys)

        return count_combinations, None
    read, path = compiler.values_of(argument)
    return (lambda rows: _distinct_count(read(rows))), path


def _build_count_if(compiler: _ArgumentCompiler, argument: Any) -> tuple[Reducer, str | None]:
    argument = compiler.object_argument(argument, ("if",), '{"count": "visitorId", "if": "..."}')
    keep = compiler.condition(argument["if"])
    count, _ = _counter(compiler, argument.get("count"))
    return (lambda rows: count(keep(rows))), None


# --------------------------------------------------------------------------------- arithmetic


def _numeric(reduce_numbers: Callable[[list[Any]], Any]) -> Callable[..., Any]:
    def build(compiler: _ArgumentCompiler, argument: Any) -> tuple[Reducer, str | None]:
        read, path = compiler.values_of(argument)
        return (lambda rows: reduce_numbers(_numbers(read(rows)))), path

    return build


def _sum(numbers: list[Any]) -> float:
    return float(sum(numbers))


def _mean(numbers: list[Any]) -> float | None:
    return sum(numbers) / len(numbers) if numbers else None


def _median(numbers: list[Any]) -> float | None:
    if not numbers:
        return None
    ordered = sorted(numbers)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    median: float = (ordered[middle - 1] + ordered[middle]) / 2
    return median


def _variance(numbers: list[Any]) -> float | None:
    count = len(numbers)
    if count < 2:
        return None
    mean = sum(numbers) / count
    variance: float = sum((number - mean) ** 2 for number in numbers) / (count - 1)
    return variance


def _stddev(numbers: list[Any]) -> float | None:
    variance = _variance(numbers)
    return None if variance is None else variance**0.5


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    """``min``/``max``: over the numbers, or over the strings when there are no numbers."""

    def build(compiler: _ArgumentCompiler, argument: Any) -> tuple[Reducer, str | None]:
        read, path = compiler.values_of(argument)

        def extreme(rows: list[dict[str, Any]]) -> Any:
            values = read(rows)
            numbers = _numbers(values)
            if numbers:
                return pick(numbers)
            strings = [value for value in values if type(value) is str]
            return pick(strings) if strings else None

        return extreme, path

    return build


def percentile(ordered: list[Any], percent: float) -> float | None:
    """The ``percent`` percentile of sorted numbers, interpolating linearly between ranks."""
    if not ordered:
        return None
    rank = percent / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    value: float = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return value


def _build_percentiles(compiler: _ArgumentCompiler, argument: Any) -> tuple[Reducer, str | None]:
    example = '{"field": "numEvents", "p50": 50, "p90": 90}'
    argument = compiler.object_argument(argument, ("field",), example)
    wanted = {name: percent for name, percent in argument.items() if name != "field"}
    if not wanted:
        raise compiler.error(f"name at least one percentile (expected {example})")
    for name, percent in wanted.items():
        if type(percent) not in NUMBER_TYPES or not 0 <= percent <= 100:
            raise compiler.error(
                f"percentile {name!r} must be a number from 0 to 100, got {_short(percent)}"
            )
    read, _ = compiler.values_of(argument["field"], "'field'")

    def percentiles(rows: list[dict[str, Any]]) -> dict[str, Any]:
        ordered = sorted(_numbers(read(rows)))
        return {name: percentile(ordered, percent) for name, percent in wanted.items()}

    return percentiles, None


# ------------------------------------------------------------------------------------- values


def _build_first(compiler: _ArgumentCompiler, argument: Any) -> tuple[Reducer, str | None]:
    read, path = compiler.values_of(argument)

    def first(rows: list[dict[str, Any]]) -> Any:
        return next((value for value in read(rows) if value is not None), None)

    return first, path


def _build_list(compiler: _ArgumentCompiler, argument: Any) -> tuple[Reducer, str | None]:
    read, path = compiler.values_of(argument)
    return (lambda rows: [value for value in read(rows) if value is not None]), path


def _build_list_if(compiler: _ArgumentCompiler, argument: Any) -> tuple[Reducer, str | None]:
    argument = compiler.object_argument(
        argument, ("list", "if"), '{"list": "visitorId", "if": "numEvents > 5"}'
    )
    keep = compiler.condition(argument["if"])
    read, _ = compiler.values_of(argument["list"], "'list'")
    return (lambda rows: [value for value in read(keep(rows)) if value is not None]), None


def _build_concat(compiler: _ArgumentCompiler, argument: Any) -> tuple[Reducer, str | None]:
    read, path = compiler.values_of(argument)

    def concat(rows: list[dict[str, Any]]) -> list[Any]:
        joined: list[Any] = []
        for value in read(rows):
            if type(value) is list:
                joined.extend(value)
            elif value is not None:
                joined.append(value)
        return joined

    return concat, path


_BUILDERS: dict[str, Callable[[_ArgumentCompiler, Any], tuple[Reducer, str | None]]] = {
    "count": _counter,
    "countIf": _build_count_if,
    "sum": _numeric(_sum),
    "avg": _numeric(_mean),
    "mean": _numeric(_mean),
    "median": _numeric(_median),
    "min": _extreme(min),
    "max": _extreme(max),
    "first": _build_first,
    "list": _build_list,
    "stddev": _numeric(_stddev),
    "var": _numeric(_variance),
    "listIf": _build_list_if,
    "concat": _build_concat,
    "percentiles": _build_percentiles,
}
"""Every aggregator by name (what an unknown-aggregator error lists)."""
