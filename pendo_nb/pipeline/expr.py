"""A small expression helper that writes Pendo expression syntax.

``col("numEvents") > 10`` renders as ``numEvents > 10``; ``&``, ``|`` and ``~`` become ``&&``,
``||`` and ``!``; string literals are double-quoted with ``"`` and ``\\`` escaped, so values holding
quotes, backslashes or backticks survive. Parentheses are added only where Pendo's C precedence
needs them. Plain expression strings stay welcome everywhere an ``Expr`` is.

Python's ``and``/``or``/``not`` and chained comparisons cannot be overloaded, so using an ``Expr``
as a truth value raises a ``TypeError`` that says to use ``&``, ``|`` and ``~``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from typing import ClassVar

from pendo_nb.errors import PipelineError
from pendo_nb.pipeline.parse import KNOWN_FUNCTIONS, check_expression, check_field_path
from pendo_nb.pipeline.timeseries import time_bound

# Binding strength, loosest first (C precedence, as Pendo documents).
_OR, _AND, _EQUALITY, _RELATION, _ADDITIVE, _MULTIPLICATIVE, _UNARY, _ATOM = range(8)
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote_string(value: str) -> str:
    """Render ``value`` as a double-quoted Pendo string literal.

    Backslashes, double quotes and newlines/tabs are escaped; backticks need no escape inside
    double quotes. Other control characters have no documented escape in Pendo, so they are
    refused rather than sent in a form Pendo may misread.
    """
    for char in value:
        if ord(char) < 0x20 and char not in _ESCAPES:
            raise PipelineError(
                f"string {value!r}: control character {char!r} cannot be written in a Pendo string"
            )
    return '"' + "".join(_ESCAPES.get(char, char) for char in value) + '"'


class Expr:
    """A Pendo expression under construction; ``str(expr)`` is the Pendo text.

    Make one with :func:`col`, :func:`lit` or :data:`fn`, then combine with Python operators:
    comparisons, ``+ - * / %``, ``&`` (and), ``|`` (or), ``~`` (not).

    Examples
    --------
    >>> str((col("numEvents") > 10) & ~col("accountId").is_null())
    'numEvents > 10 && !isNull(accountId)'
    """

    __slots__ = ("_text", "_precedence")
    # ``==`` builds an expression, so Expr cannot be a dict key (typeshed's own idiom for it).
    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    def __init__(self, text: str, precedence: int = _ATOM) -> None:
        self._text = text
        self._precedence = precedence

    @property
    def text(self) -> str:
        """The Pendo expression text."""
        return self._text

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Expr({self._text!r})"

    def __bool__(self) -> bool:
        raise TypeError(
            "a Pendo expression has no truth value here: combine conditions with & (and), "
            "| (or) and ~ (not), with parentheses: (a < b) & (b < c), not a < b < c"
        )

    # -- building -----------------------------------------------------------------------------
    def _operand(self, precedence: int, *, right: bool) -> str:
        # Left-associative operators: the right operand needs parentheses at equal strength.
        needs = self._precedence < precedence or (right and self._precedence == precedence)
        return f"({self._text})" if needs else self._text

    def _binary(self, operator: str, other: object, precedence: int, *, swap: bool = False) -> Expr:
        left, right = (as_expr(other), self) if swap else (self, as_expr(other))
        text = (
            f"{left._operand(precedence, right=False)} {operator} "
            f"{right._operand(precedence, right=True)}"
        )
        return Expr(text, precedence)

    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        return self._binary("==", other, _EQUALITY)

    def __ne__(self, other: object) -> Expr:  # type: ignore[override]
        return self._binary("!=", other, _EQUALITY)

    def __lt__(self, other: object) -> Expr:
        return self._binary("<", other, _RELATION)

    def __le__(self, other: object) -> Expr:
        return self._binary("<=", other, _RELATION)

    def __gt__(self, other: object) -> Expr:
        return self._binary(">", other, _RELATION)

    def __ge__(self, other: object) -> Expr:
        return self._binary(">=", other, _RELATION)

    def __and__(self, other: object) -> Expr:
        return self._binary("&&", other, _AND)

    def __rand__(self, other: object) -> Expr:
        return self._binary("&&", other, _AND, swap=True)

    def __or__(self, other: object) -> Expr:
        return self._binary("||", other, _OR)

    def __ror__(self, other: object) -> Expr:
        return self._binary("||", other, _OR, swap=True)

    def __invert__(self) -> Expr:
        return Expr("!" + self._operand(_UNARY, right=False), _UNARY)

    def __neg__(self) -> Expr:
        return Expr("-" + self._operand(_UNARY, right=False), _UNARY)

    def __add__(self, other: object) -> Expr:
        return self._binary("+", other, _ADDITIVE)

    def __radd__(self, other: object) -> Expr:
        return self._binary("+", other, _ADDITIVE, swap=True)

    def __sub__(self, other: object) -> Expr:
        return self._binary("-", other, _ADDITIVE)

    def __rsub__(self, other: object) -> Expr:
        return self._binary("-", other, _ADDITIVE, swap=True)

    def __mul__(self, other: object) -> Expr:
        return self._binary("*", other, _MULTIPLICATIVE)

    def __rmul__(self, other: object) -> Expr:
        return self._binary("*", other, _MULTIPLICATIVE, swap=True)

    def __truediv__(self, other: object) -> Expr:
        return self._binary("/", other, _MULTIPLICATIVE)

    def __rtruediv__(self, other: object) -> Expr:
        return self._binary("/", other, _MULTIPLICATIVE, swap=True)

    def __mod__(self, other: object) -> Expr:
        return self._binary("%", other, _MULTIPLICATIVE)

    def __rmod__(self, other: object) -> Expr:
        return self._binary("%", other, _MULTIPLICATIVE, swap=True)

    # -- Pendo functions as methods -----------------------------------------------------------
    def is_null(self) -> Expr:
        """``isNull(x)``: true when the value is missing or null (as Pendo's samples use it)."""
        return call("isNull", self)

    def not_null(self) -> Expr:
        """``!isNull(x)``: true when the value is present, the idiom of Pendo's own samples."""
        return ~self.is_null()

    def is_empty(self) -> Expr:
        """``isEmpty(x)``: true for null or ``""``."""
        return call("isEmpty", self)

    def contains(self, item: object) -> Expr:
        """``contains(x, item)``: substring test for strings, exact membership for lists."""
        return call("contains", self, item)

    def startswith(self, prefix: object) -> Expr:
        """``startsWith(x, prefix)``."""
        return call("startsWith", self, prefix)

    def lower(self) -> Expr:
        """``toLowerCase(x)``."""
        return call("toLowerCase", self)

    def isin(self, values: Iterable[object]) -> Expr:
        """``x == a || x == b || ...``: Pendo's language has no ``in`` operator."""
        options = [self == value for value in values]
        if not options:
            raise PipelineError(f"{self._text}.isin(values): needs at least one value")
        result = options[0]
        for option in options[1:]:
            result = result | option
        return result


def col(name: str) -> Expr:
    """A field of the row, by name or dotted path.

    Parameters
    ----------
    name : str
        ``"numEvents"``, ``"metadata.agent.email"``, ...

    Examples
    --------
    >>> str(col("metadata.agent.email").is_null())
    'isNull(metadata.agent.email)'
    """
    return Expr(check_field_path(name, "col(name)", in_expression=True))


def lit(value: object) -> Expr:
    """A literal: string, number, bool, None (``null``), list, or a date/time.

    Strings are quoted and escaped (see :func:`quote_string`). Naive datetimes, dates and date
    strings become ``date("...")`` (read in the subscription's time zone); timezone-aware
    timestamps become epoch milliseconds.
    """
    if isinstance(value, Expr):
        return value
    if value is None:
        return Expr("null")
    if isinstance(value, bool):
        return Expr("true" if value else "false")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise PipelineError(f"lit(value): {value!r} has no Pendo literal")
        text = repr(value)
        return Expr(text, _UNARY) if value < 0 else Expr(text)
    if isinstance(value, str):
        return Expr(quote_string(value))
    if isinstance(value, dt.date):  # datetime and pandas.Timestamp are dates too
        bound = time_bound(value, "lit(value)")
        return lit(bound) if isinstance(bound, int) else Expr(bound)
    if isinstance(value, list | tuple):
        return Expr("[" + ", ".join(lit(item).text for item in value) + "]")
    raise PipelineError(f"lit(value): no Pendo literal for {type(value).__name__} {value!r}")


def as_expr(value: object) -> Expr:
    """An operand: an ``Expr`` as is, anything else as a literal (so ``col("x") == "a"`` quotes)."""
    return value if isinstance(value, Expr) else lit(value)


def call(name: str, *args: object) -> Expr:
    """A call of the Pendo function ``name``; non-``Expr`` arguments become literals."""
    if name not in KNOWN_FUNCTIONS:
        raise PipelineError(f"fn.{name}: unknown Pendo function; known: {sorted(KNOWN_FUNCTIONS)}")
    return Expr(f"{name}({', '.join(as_expr(arg).text for arg in args)})")


class _Functions:
    """Every function of Pendo's expression language, as in ``fn.dateAdd(fn.now(), -7, "days")``.

    ``fn.if_(...)`` stands for ``if(...)``, which is a Python keyword.
    """

    def __getattr__(self, name: str) -> Callable[..., Expr]:
        if name.startswith("__"):
            raise AttributeError(name)
        pendo_name = name.rstrip("_")
        if pendo_name not in KNOWN_FUNCTIONS:
            raise AttributeError(f"fn.{name}: unknown Pendo function")
        return lambda *args: call(pendo_name, *args)

    def __dir__(self) -> list[str]:
        return sorted(KNOWN_FUNCTIONS - {"if"} | {"if_"})


fn = _Functions()


def expression_text(value: object, where: str) -> str:
    """The Pendo text for a builder argument: an ``Expr``, an expression string (checked), or a
    plain number/bool/None constant."""
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, str):
        return check_expression(value, where)
    if value is None or isinstance(value, bool | int | float):
        return lit(value).text
    raise PipelineError(
        f"{where}: expected an expression (a string or pn.col(...)), got {type(value).__name__}"
    )
