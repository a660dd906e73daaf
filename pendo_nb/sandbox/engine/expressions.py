"""Pendo's expression language (reference 3.7): compiled to Python closures.

An expression string (a ``filter``, an ``eval``/``select`` value, an aggregator argument, a
``timeSeries`` bound) is parsed once into a small syntax tree (``expression_syntax.py``) and
compiled into nested closures, so evaluating it over a million rows costs one Python call per node
and no parsing. Input is never handed to Python's ``eval``.

Syntax, as Pendo documents it: C precedence (``||`` < ``&&`` < ``== !=`` < ``< <= > >=`` <
``+ -`` < ``* / %`` < unary ``! -`` < postfix), parentheses, numbers (all computed as floats),
strings in double quotes (escapes ``\\"``, ``\\\\``, ``\\n``, ``\\t``, ``\\r``, ``\\/``,
``\\uXXXX``) or backticks (raw), ``true``/``false``/``null``, list literals ``[a, b]``, dotted field
paths, indexing ``x[0]`` (negative from the end), slices ``x[a:b]``, member access after an index
(``polls[0].id``) and function calls. ``x in [...]`` is refused, as Pendo refuses it.

Null semantics (reference 3.7): ``&&``/``||`` treat null as false; ``==``/``!=`` treat null as a
value of its own (``null == null``, ``null != false``); every other operator gives null when an
input is null. Division or remainder by zero also gives null (Pendo does not document it; null
keeps a whole query from failing on one row, like the other null rules).

Types: ``+ - * / %`` and unary ``-`` take numbers; ``< <= > >=`` take two numbers or two strings;
``&&``/``||`` take booleans and numbers (non-zero is true); ``!`` takes booleans; the elements of
a list literal share one type (nulls aside). Other operand types raise :class:`AggregationError`
naming the operator, where and the position.

Positions in messages are 0-based character offsets into the expression text.
"""

from __future__ import annotations

import copy
import functools
import math
import operator
from collections.abc import Callable
from typing import Any

from .context import EvalContext
from .errors import AggregationError
from .expression_syntax import (
    Call,
    Chain,
    Const,
    FieldRef,
    Index,
    ListLiteral,
    Member,
    Node,
    ParseError,
    Slice,
    Unary,
    parse,
)
from .functions import FUNCTIONS, ArgumentError, Function
from .paths import get_segments
from .values import NUMBER_TYPES, describe_type, values_equal

MAX_EXPRESSION_LENGTH = 100_000
"""Longest expression accepted (characters); long ``||`` chains of ids stay well below it."""

_SHOWN_TEXT_LENGTH = 160  # error messages quote at most this much of the expression

Evaluator = Callable[[dict[str, Any]], Any]


# ------------------------------------------------------------------------------------ compiler


class Expression:
    """A compiled expression: call it on a row to get its value.

    Attributes
    ----------
    source : str
        The expression text.
    field_path : str or None
        ``"a.b.c"`` when the whole expression is a plain field path, else ``None`` (lets the
        interpreter read the field directly, or know an ``eval`` target's source field).
    is_constant : bool
        True when the value does not depend on the row (then ``value`` holds it).
    evaluate : callable
        The underlying ``row -> value`` function (skips one call level in hot loops).
    """

    __slots__ = ("source", "field_path", "is_constant", "value", "evaluate")

    def __init__(
        self,
        source: str,
        evaluate: Evaluator,
        field_path: str | None,
        is_constant: bool,
        value: Any,
    ) -> None:
        self.source = source
        self.evaluate = evaluate
        self.field_path = field_path
        self.is_constant = is_constant
        self.value = value

    def __call__(self, row: dict[str, Any]) -> Any:
        return self.evaluate(row)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def compile_expression(text: str, ctx: EvalContext, where: str = "filter") -> Expression:
    """Parse and compile a Pendo expression.

    Parameters
    ----------
    text : str
        The expression, e.g. ``'visitorId == "v1" && numEvents > 2'``.
    ctx : EvalContext
        Clock, time zone and apps seen by ``now()``, ``date()`` and ``expandAppIds()``.
    where : str
        Where the expression sits (``"pipeline[2].filter"``); named in error messages.

    Returns
    -------
    Expression
        A callable ``row -> value``.

    Raises
    ------
    AggregationError
        For a syntax error, an unknown function, a wrong number of arguments, an argument that
        is wrong whatever the row (``dateAdd(t, 1, "fortnights")``), an expression too long or
        too deeply nested. The message names ``where`` and the 0-based character position.
        Evaluating raises it too when an operand has the wrong type.

    Examples
    --------
    >>> from zoneinfo import ZoneInfo
    >>> ctx = EvalContext(now_ms=0, timezone=ZoneInfo("UTC"))
    >>> compile_expression("numEvents * 2 > 5", ctx)({"numEvents": 3})
    True
    """
    if not isinstance(text, str):
        raise AggregationError(
            f"{where}: an expression must be a string, got {describe_type(text)}"
        )
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise AggregationError(
            f"Cannot parse {where} expression: longer than {MAX_EXPRESSION_LENGTH} characters"
        )
    try:
        tree = parse(text)
    except ParseError as error:
        raise AggregationError(
            f"Cannot parse {where} expression: {error.detail} at position {error.pos} "
            f"in {_quote(text)}"
        ) from None
    compiler = _Compiler(text, ctx, where)
    evaluate, constant = compiler.compile(tree)
    field_path = ".".join(tree.segments) if isinstance(tree, FieldRef) else None
    if constant:
        value = evaluate(_NO_ROW)
        return Expression(text, _constant(value), None, True, value)
    return Expression(text, evaluate, field_path, False, None)


_NO_ROW: dict[str, Any] = {}


def _quote(text: str) -> str:
    shown = text if len(text) <= _SHOWN_TEXT_LENGTH else text[:_SHOWN_TEXT_LENGTH] + "..."
    return '"' + shown + '"'


def _constant(value: Any) -> Evaluator:
    if type(value) is list and all(type(v) in _SCALARS for v in value):
        # A flat list (e.g. the ids of a lookup): a shallow copy is a full one, and far cheaper.
        return lambda row: value.copy()
    if type(value) in (list, dict):
        # Each row gets its own copy: a later step may change the list in one row.
        return lambda row: copy.deepcopy(value)
    return lambda row: value


_SCALARS = (str, int, float, bool, type(None))


def _field_reader(segments: tuple[str, ...]) -> Evaluator:
    if len(segments) == 1:
        key = segments[0]

        def read_field(row: dict[str, Any]) -> Any:
            return row.get(key)

        return read_field

    def read_path(row: dict[str, Any]) -> Any:
        # Most rows have every object on the way: indexing in C is ~2x faster than the general
        # walk, which still answers (None, list positions) when a step is missing or not a dict.
        try:
            return functools.reduce(operator.getitem, segments, row)
        except (KeyError, TypeError, IndexError):
            return get_segments(row, segments)

    return read_path


class _Compiler:
    """Turns a syntax tree into closures; each ``compile_*`` returns ``(evaluate, is_constant)``.

    Constant subtrees are evaluated once here, so errors they contain (``1 + "a"``, a bad period
    name) surface at compile time.
    """

    def __init__(self, text: str, ctx: EvalContext, where: str) -> None:
        self.text = text
        self.ctx = ctx
        self.where = where

    def error(self, detail: str, pos: int) -> AggregationError:
        return AggregationError(f"{self.where}: {detail} at position {pos} in {_quote(self.text)}")

    def compile(self, node: Node) -> tuple[Evaluator, bool]:
        evaluate, constant = getattr(self, "compile_" + type(node).__name__)(node)
        if constant and not isinstance(node, Const):
            value = evaluate(_NO_ROW)
            return _constant(value), True
        return evaluate, constant

    def compile_Const(self, node: Const) -> tuple[Evaluator, bool]:
        return _constant(node.value), True

    def compile_FieldRef(self, node: FieldRef) -> tuple[Evaluator, bool]:
        return _field_reader(node.segments), False

    def compile_ListLiteral(self, node: ListLiteral) -> tuple[Evaluator, bool]:
        compiled = [self.compile(item) for item in node.items]
        items = [evaluate for evaluate, _ in compiled]
        error = self.error

        def build_list(row: dict[str, Any]) -> list[Any]:
            values = [item(row) for item in items]
            # Reference 3.7: "elements must share a type". Null is left out of the check: it is
            # how a missing field reads, and Pendo does not say that it breaks a list.
            kinds = {describe_type(value) for value in values if value is not None}
            if len(kinds) > 1:
                shown = " and ".join(sorted(kinds))
                raise error(f"list elements must share a type, got {shown}", node.pos)
            return values

        return build_list, all(c for _, c in compiled)

    def compile_Unary(self, node: Unary) -> tuple[Evaluator, bool]:
        operand, constant = self.compile(node.operand)
        op, error = node.op, self.error

        if op == "!":

            def logical_not(row: dict[str, Any]) -> Any:
                value = operand(row)
                if value is None:
                    return None
                if value is True or value is False:
                    return not value
                raise error(f"'!' needs a boolean, got {describe_type(value)}", node.pos)

            return logical_not, constant

        sign = -1.0 if op == "-" else 1.0

        def signed(row: dict[str, Any]) -> Any:
            value = operand(row)
            if value is None:
                return None
            if type(value) in NUMBER_TYPES:
                return sign * value
            raise error(f"unary '{op}' needs a number, got {describe_type(value)}", node.pos)

        return signed, constant

    def compile_Chain(self, node: Chain) -> tuple[Evaluator, bool]:
        compiled = [self.compile(operand) for operand in node.operands]
        operands = [evaluate for evaluate, _ in compiled]
        constant = all(c for _, c in compiled)
        op = node.ops[0]
        if op in ("||", "&&"):
            return self.logical(op, operands, node.op_positions), constant
        if len(operands) == 2:
            left, right = operands
            step = self.value_operator(op, node.op_positions[0])
            if compiled[1][1] and not constant:
                return _with_constant_right(op, step, left, right(_NO_ROW)), constant
            return (lambda row: step(left(row), right(row))), constant
        # Longer chains (a + b + c ...) fold in a loop, so their length costs no recursion.
        first = operands[0]
        steps = [
            (self.value_operator(op, pos), right)
            for op, pos, right in zip(node.ops, node.op_positions, operands[1:], strict=True)
        ]

        def fold(row: dict[str, Any]) -> Any:
            value = first(row)
            for step, right in steps:
                value = step(value, right(row))
            return value

        return fold, constant

    def logical(self, op: str, operands: list[Evaluator], positions: list[int]) -> Evaluator:
        error = self.error
        is_or = op == "||"
        pairs = list(zip(operands, [positions[0], *positions], strict=True))

        def truth(value: Any, pos: int) -> bool:
            if value is None:  # null counts as false (reference 3.7)
                return False
            if value is True or value is False:
                return value
            if type(value) in NUMBER_TYPES:
                nonzero: bool = value != 0
                return nonzero
            raise error(f"'{op}' needs booleans or numbers, got {describe_type(value)}", pos)

        def logical_chain(row: dict[str, Any]) -> bool:
            for operand, pos in pairs:
                value = operand(row)
                if value is not True and value is not False:  # booleans skip the call
                    value = truth(value, pos)
                if value is is_or:
                    return is_or
            return not is_or

        return logical_chain

    def value_operator(self, op: str, pos: int) -> Callable[[Any, Any], Any]:
        """The binary operator ``op`` on two values, with Pendo's null and type rules."""
        if op == "==":
            return values_equal
        if op == "!=":
            return lambda a, b: not values_equal(a, b)
        error = self.error
        if op in _COMPARISONS:
            compare = _COMPARISONS[op]

            def compare_values(a: Any, b: Any) -> Any:
                if a is None or b is None:
                    return None
                if type(a) in NUMBER_TYPES:
                    if type(b) in NUMBER_TYPES:
                        return compare(a, b)
                elif type(a) is str and type(b) is str:
                    return compare(a, b)
                raise error(
                    f"'{op}' compares two numbers or two strings, got "
                    f"{describe_type(a)} and {describe_type(b)}",
                    pos,
                )

            return compare_values
        calculate = _ARITHMETIC[op]

        def arithmetic_values(a: Any, b: Any) -> Any:
            if a is None or b is None:
                return None
            if type(a) in NUMBER_TYPES and type(b) in NUMBER_TYPES:
                return calculate(float(a), float(b))
            raise error(f"'{op}' needs numbers, got {describe_type(a)} and {describe_type(b)}", pos)

        return arithmetic_values

    def compile_Index(self, node: Index) -> tuple[Evaluator, bool]:
        target, target_constant = self.compile(node.target)
        index, index_constant = self.compile(node.index)
        error = self.error

        def index_value(row: dict[str, Any]) -> Any:
            container = target(row)
            key = index(row)
            if container is None or key is None:
                return None
            if type(container) is dict:
                if type(key) is str:
                    return container.get(key)
                raise error(f"an object is indexed by a string, got {describe_type(key)}", node.pos)
            if type(container) in (list, str):
                position = _integer_index(key)
                if position is None:
                    raise error(f"an index must be a whole number, got {_show(key)}", node.pos)
                if -len(container) <= position < len(container):
                    return container[position]
                return None
            raise error(f"cannot index {describe_type(container)}", node.pos)

        return index_value, target_constant and index_constant

    def compile_Slice(self, node: Slice) -> tuple[Evaluator, bool]:
        target, constant = self.compile(node.target)
        bounds: list[Evaluator | None] = []
        for bound in (node.start, node.stop):
            if bound is None:
                bounds.append(None)
            else:
                evaluate, bound_constant = self.compile(bound)
                bounds.append(evaluate)
                constant = constant and bound_constant
        start_of, stop_of = bounds
        error = self.error

        def bound_value(evaluate: Evaluator | None, row: dict[str, Any]) -> int | None:
            if evaluate is None:
                return None
            value = evaluate(row)
            if value is None:
                return None
            position = _integer_index(value)
            if position is None:
                raise error(f"a slice bound must be a whole number, got {_show(value)}", node.pos)
            return position

        def slice_value(row: dict[str, Any]) -> Any:
            container = target(row)
            if container is None:
                return None
            if type(container) not in (list, str):
                raise error(f"cannot slice {describe_type(container)}", node.pos)
            return container[bound_value(start_of, row) : bound_value(stop_of, row)]

        return slice_value, constant

    def compile_Member(self, node: Member) -> tuple[Evaluator, bool]:
        target, constant = self.compile(node.target)
        name = node.name

        def member(row: dict[str, Any]) -> Any:
            value = target(row)
            return value.get(name) if type(value) is dict else None

        return member, constant

    def compile_Call(self, node: Call) -> tuple[Evaluator, bool]:
        if node.name == "if":
            return self.compile_if(node)
        function = FUNCTIONS[node.name]
        count = len(node.args)
        if count < function.min_args or (
            function.max_args is not None and count > function.max_args
        ):
            raise self.error(f"{node.name}() takes {_arity(function)}, got {count}", node.pos)
        compiled = [self.compile(arg) for arg in node.args]
        for index, check in function.literal_checks.items():
            if index < count and compiled[index][1]:
                self.check_argument(function, check, compiled[index][0](_NO_ROW), node, index)
        args = [evaluate for evaluate, _ in compiled]
        constant = all(c for _, c in compiled)
        return self.call(function, args, node), constant

    def check_argument(
        self, function: Function, check: Callable[[Any], object], value: Any, node: Call, index: int
    ) -> None:
        try:
            check(value)
        except ArgumentError as problem:
            raise self.error(
                f"{function.name}(): {problem.message}", node.args[index].pos
            ) from None

    def call(self, function: Function, args: list[Evaluator], node: Call) -> Evaluator:
        implementation, ctx = function.impl, self.ctx
        error = self.error
        name, pos = function.name, node.pos

        def failed(problem: ArgumentError) -> AggregationError:
            return error(f"{name}(): {problem.message}", pos)

        if len(args) == 0:

            def call0(row: dict[str, Any]) -> Any:
                try:
                    return implementation(ctx)
                except ArgumentError as problem:
                    raise failed(problem) from None

            return call0
        if len(args) == 1:
            (a,) = args

            def call1(row: dict[str, Any]) -> Any:
                try:
                    return implementation(ctx, a(row))
                except ArgumentError as problem:
                    raise failed(problem) from None

            return call1
        if len(args) == 2:
            a, b = args

            def call2(row: dict[str, Any]) -> Any:
                try:
                    return implementation(ctx, a(row), b(row))
                except ArgumentError as problem:
                    raise failed(problem) from None

            return call2

        def call_many(row: dict[str, Any]) -> Any:
            try:
                return implementation(ctx, *[arg(row) for arg in args])
            except ArgumentError as problem:
                raise failed(problem) from None

        return call_many

    def compile_if(self, node: Call) -> tuple[Evaluator, bool]:
        """``if(cond, a[, b])`` evaluates only the branch it picks; a missing ``b`` is null."""
        if len(node.args) not in (2, 3):
            raise self.error(f"if() takes 2 or 3 arguments, got {len(node.args)}", node.pos)
        compiled = [self.compile(arg) for arg in node.args]
        condition, when_true = compiled[0][0], compiled[1][0]
        when_false = compiled[2][0] if len(compiled) == 3 else _constant(None)
        error = self.error

        def choose(row: dict[str, Any]) -> Any:
            value = condition(row)
            if value is True:
                return when_true(row)
            if value is False or value is None:  # null picks the "else" branch, as in filter
                return when_false(row)
            if type(value) in NUMBER_TYPES:
                return when_true(row) if value != 0 else when_false(row)
            raise error(f"if() needs a boolean condition, got {describe_type(value)}", node.pos)

        return choose, all(c for _, c in compiled)


def _with_constant_right(
    op: str, step: Callable[[Any, Any], Any], left: Evaluator, constant: Any
) -> Evaluator:
    """``field == "x"``, ``numEvents > 5``, ``x * 2``: the common filters and evals, with the
    constant bound once and the usual operand types handled without the general ``step``."""
    if op in ("==", "!="):
        equal = op == "=="
        if constant is None or type(constant) is str:
            # A string or null only equals an identical string or null; Python's == agrees.
            if equal:
                return lambda row: left(row) == constant
            return lambda row: left(row) != constant
        if type(constant) in NUMBER_TYPES:
            if equal:
                return lambda row: type(value := left(row)) in NUMBER_TYPES and value == constant
            return lambda row: not (type(value := left(row)) in NUMBER_TYPES and value == constant)
        return lambda row: step(left(row), constant)
    if type(constant) not in NUMBER_TYPES or op in ("/", "%"):
        return lambda row: step(left(row), constant)
    fast = _COMPARISONS.get(op) or _ARITHMETIC[op]
    is_arithmetic = op in _ARITHMETIC
    number = float(constant)

    def with_constant(row: dict[str, Any]) -> Any:
        value = left(row)
        if type(value) in NUMBER_TYPES:
            return fast(float(value), number) if is_arithmetic else fast(value, number)
        return step(value, number)

    return with_constant


def _divide(a: float, b: float) -> float | None:
    return None if b == 0 else a / b


def _remainder(a: float, b: float) -> float | None:
    # C/Go semantics: the result takes the sign of the dividend (math.fmod), unlike Python's %.
    if b == 0 or math.isinf(a):  # C gives NaN for an infinite dividend; null, like x % 0
        return None
    return math.fmod(a, b)


_ARITHMETIC: dict[str, Callable[[float, float], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
    "%": _remainder,
}
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _integer_index(value: Any) -> int | None:
    if type(value) in NUMBER_TYPES and float(value).is_integer():
        return int(value)
    return None


def _show(value: Any) -> str:
    return repr(value) if type(value) is str else describe_type(value)


def _arity(function: Function) -> str:
    low, high = function.min_args, function.max_args
    if high is None:
        return f"at least {low} argument{'s' if low != 1 else ''}"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"
