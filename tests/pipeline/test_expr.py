"""The expression helper renders Pendo syntax: quoting, null checks, precedence, functions.

Each rendered expression is also checked by the sandbox's own engine (an independent parser):
strings must read back as the exact Python value, and operators must group as Python grouped
them, which the engine shows by evaluating the expression on a row.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pendo_nb.errors import PipelineError
from pendo_nb.pipeline import col, fn, lit
from pendo_nb.pipeline.expr import quote_string
from pendo_nb.pipeline.parse import check_expression
from pendo_nb.sandbox.engine.context import EvalContext
from pendo_nb.sandbox.engine.errors import AggregationError
from pendo_nb.sandbox.engine.expressions import compile_expression

CONTEXT = EvalContext(now_ms=1_700_000_000_000, timezone=ZoneInfo("UTC"))


def engine_value(expression, row=None):
    """Evaluate with the sandbox engine, after checking our own parser accepts it too."""
    text = str(expression)
    check_expression(text, "test")
    return compile_expression(text, CONTEXT, "test")(row or {})


# -- literals and quoting -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", '"plain"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("a `tick`", '"a `tick`"'),
        ('all "three" \\ `x`', '"all \\"three\\" \\\\ `x`"'),
        ("line\nbreak\ttab", '"line\\nbreak\\ttab"'),
        ("", '""'),
        ("ünïcode ✓", '"ünïcode ✓"'),
    ],
)
def test_strings_are_quoted_and_escaped(value, expected):
    assert quote_string(value) == expected
    assert str(lit(value)) == expected
    assert engine_value(lit(value)) == value


@given(
    st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FF) | st.sampled_from("\n\t\r")
    )
)
@settings(max_examples=200, deadline=None)
def test_any_printable_string_reads_back_exactly(value):
    assert engine_value(col("x") == value, {"x": value}) is True


def test_other_control_characters_are_refused():
    with pytest.raises(PipelineError, match="control character"):
        lit("bell\x07")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (-2, "-2"),
        (2.5, "2.5"),
        ([1, "a", None], '[1, "a", null]'),
        (dt.date(2024, 3, 1), 'date("2024-03-01")'),
        (dt.datetime(2024, 3, 1, 12, 30), 'date("2024-03-01T12:30:00")'),
        (dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC), "1700000000000"),
    ],
)
def test_literals(value, expected):
    assert str(lit(value)) == expected
    check_expression(expected, "test")


def test_non_finite_numbers_have_no_literal():
    with pytest.raises(PipelineError, match="no Pendo literal"):
        lit(float("nan"))


# -- null checks and functions ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "text", "row", "value"),
    [
        (col("a").is_null(), "isNull(a)", {}, True),
        (col("a").is_null(), "isNull(a)", {"a": 1}, False),
        (col("a").not_null(), "!isNull(a)", {"a": 1}, True),
        (col("a").not_null(), "!isNull(a)", {"a": None}, False),
        (col("a").is_empty(), "isEmpty(a)", {"a": ""}, True),
        (col("a").contains("b"), 'contains(a, "b")', {"a": "abc"}, True),
        (col("tags").contains("x"), 'contains(tags, "x")', {"tags": ["y"]}, False),
        (col("a").startswith("ab"), 'startsWith(a, "ab")', {"a": "abc"}, True),
        (col("a").lower() == "abc", 'toLowerCase(a) == "abc"', {"a": "ABC"}, True),
        (col("a").isin(["x", "y"]), 'a == "x" || a == "y"', {"a": "y"}, True),
        (col("a").isin([1]), "a == 1", {"a": 2}, False),
        (
            fn.dateAdd(fn.now(), -7, "days"),
            'dateAdd(now(), -7, "days")',
            {},
            1_700_000_000_000 - 7 * 86_400_000,
        ),
        (fn.if_(col("n") > 1, "many", "one"), 'if(n > 1, "many", "one")', {"n": 3}, "many"),
        (fn.len(col("xs")) >= 2, "len(xs) >= 2", {"xs": [1, 2]}, True),
        (col("metadata.agent.email").is_null(), "isNull(metadata.agent.email)", {}, True),
    ],
)
def test_helpers_render_and_evaluate(expression, text, row, value):
    assert str(expression) == text
    assert engine_value(expression, row) == value


def test_unknown_functions_are_refused():
    with pytest.raises(AttributeError, match="unknown Pendo function"):
        fn.notAFunction  # noqa: B018 - the attribute access is what raises
    with pytest.raises(PipelineError, match="unknown function 'lenght'"):
        check_expression("lenght(x) > 1", "filter(expression)")


# -- precedence ---------------------------------------------------------------------------------
a, b, c = col("a"), col("b"), col("c")


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        ((a > 1) & (b < 2), "a > 1 && b < 2"),
        ((a > 1) | (b < 2) & (c == 3), "a > 1 || b < 2 && c == 3"),
        (((a > 1) | (b < 2)) & (c == 3), "(a > 1 || b < 2) && c == 3"),
        (~((a > 1) & (b > 1)), "!(a > 1 && b > 1)"),
        (~a.is_null(), "!isNull(a)"),
        ((a + b) * c, "(a + b) * c"),
        (a + b * c, "a + b * c"),
        (a - (b - c), "a - (b - c)"),
        ((a - b) - c, "a - b - c"),
        (a / (b * c), "a / (b * c)"),
        (-(a + b), "-(a + b)"),
        (10 - a, "10 - a"),
        (2 * (a + 1), "2 * (a + 1)"),
        ((a == 1) == (b == 2), "a == 1 == (b == 2)"),
        (a % 3 == 0, "a % 3 == 0"),
        (a - -1, "a - -1"),
    ],
)
def test_parentheses_only_where_precedence_needs_them(expression, text):
    assert str(expression) == text
    check_expression(text, "test")


ROWS = st.fixed_dictionaries(
    {"a": st.integers(-5, 5), "b": st.integers(-5, 5), "c": st.integers(1, 5)}
)
OPERANDS = st.sampled_from(["a", "b", "c"]).map(col) | st.integers(-3, 3).map(lit)


def _arithmetic(children):
    return st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(
        lambda t: {"+": t[0] + t[2], "-": t[0] - t[2], "*": t[0] * t[2]}[t[1]]
    )


ARITHMETIC = st.recursive(OPERANDS, _arithmetic, max_leaves=8)


def _python_value(expression, row):
    """The value Python gives the same tree: compare with what Pendo's grouping gives."""
    return eval(str(expression).replace("&&", " and ").replace("||", " or "), {}, dict(row))


@given(ARITHMETIC, ROWS)
@settings(max_examples=150, deadline=None)
def test_rendered_arithmetic_groups_like_python(expression, row):
    assert engine_value(expression, row) == _python_value(expression, row)


@given(ARITHMETIC, ARITHMETIC, ARITHMETIC, ROWS)
@settings(max_examples=100, deadline=None)
def test_rendered_logic_groups_like_python(x, y, z, row):
    expression = ((x > y) | (y >= z)) & ~(x == z)
    expected = (
        _python_value(x, row) > _python_value(y, row)
        or _python_value(y, row) >= _python_value(z, row)
    ) and not (_python_value(x, row) == _python_value(z, row))
    assert engine_value(expression, row) is expected


def test_expressions_have_no_truth_value():
    with pytest.raises(TypeError, match="combine conditions with &"):
        bool(col("a") > 1)
    with pytest.raises(TypeError):
        1 < col("a") < 3  # noqa: B015 - the chained comparison is the mistake under test


def test_col_refuses_names_that_are_not_fields():
    with pytest.raises(PipelineError, match="col\\(name\\)"):
        col("Visitor Count")
    with pytest.raises(PipelineError, match="col\\(name\\)"):
        col("a-b")


# -- the two parsers check each other -----------------------------------------------------------
TOKENS = ["a", "b.c", "xs", "1", "2.5", ".5", "1e3", '"x"', '"q\\"uote"', "`y`", "(", ")", "[",
          "]", ",", ":", ".", "==", "!=", "<", ">=", "&&", "||", "!", "+", "-", "*", "/", "%",
          "len(", "now(", "contains(", "if(", "true", "null", "=", "&", "'"]  # fmt: skip


@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=8).map(" ".join))
@settings(max_examples=400, deadline=None)
def test_whatever_the_engine_accepts_the_builder_accepts(text):
    """The builder may refuse less than the engine (the engine also checks argument counts and
    literal types), never more: it must not block a pipeline Pendo-compatible servers take."""
    try:
        compile_expression(text, CONTEXT, "test")
    except AggregationError:
        return
    assert check_expression(text, "test") == text
