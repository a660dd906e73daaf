"""The expression language (reference 3.7): syntax, precedence, null semantics, errors, limits.

Every expected value is worked out by hand from the expression text.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pendo_nb.sandbox.engine.context import EvalContext
from pendo_nb.sandbox.engine.errors import AggregationError
from pendo_nb.sandbox.engine.expression_syntax import MAX_NESTING_DEPTH
from pendo_nb.sandbox.engine.expressions import MAX_EXPRESSION_LENGTH, compile_expression
from pendo_nb.sandbox.engine.functions import FUNCTIONS

CTX = EvalContext(now_ms=1_793_534_400_000, timezone=ZoneInfo("UTC"))
NEW_YORK = EvalContext(
    now_ms=1_793_534_400_000,
    timezone=ZoneInfo("America/New_York"),
    apps=({"id": -323232, "platform": "web"}, {"id": 7, "platform": "ios"}),
)
ROW = {
    "visitorId": "v1",
    "numEvents": 4,
    "numMinutes": 3,
    "zero": 0,
    "flag": True,
    "name": "Ada",
    "score": None,
    "metadata": {"auto": {"accountids": ["a1", "a2", "a3"]}, "custom": {"plan": "pro"}},
    "polls": [{"id": "poll-0"}, {"id": "poll-1"}],
}


def evaluate(text: str, row: dict | None = None):
    return compile_expression(text, CTX)(ROW if row is None else row)


def error_of(text: str, row: dict | None = None, where: str = "filter") -> str:
    with pytest.raises(AggregationError) as caught:
        compile_expression(text, CTX, where)(ROW if row is None else row)
    assert caught.value.status == 400
    return caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),  # left-associative: (10 - 4) - 3
        ("2 * 3 % 4", 2),  # (2 * 3) % 4
        ("24 / 4 / 2", 3),
        ("-2 * 3", -6),
        ("- -2", 2),
        ("-(2 + 3)", -5),
        ("+4", 4),
        ("7 / 2", 3.5),  # all numbers are floats: no integer division
        ("1e3 + .5", 1000.5),
        ("2.5E-1 * 4", 1),
        ("1 + 2 == 3 && 4 > 3", True),
        ("true || false && false", True),  # && binds tighter than ||
        ("(true || false) && false", False),
        ("!false && false", False),  # ! binds tighter than &&
        ("!(false && false)", True),
        ("1 < 2 == true", True),  # relational before equality
        ("3 > 2 > 1", None),  # (3 > 2) > 1 compares a boolean: refused, see below
    ],
)
def test_precedence_and_arithmetic(text, expected):
    if expected is None:
        assert "'>' compares two numbers or two strings" in error_of(text)
        return
    result = evaluate(text)
    assert result == expected
    if not isinstance(expected, bool):
        assert type(result) is float


def test_numbers_compute_as_floats_even_from_integer_fields():
    assert type(evaluate("numEvents + numMinutes")) is float
    assert evaluate("numEvents * numMinutes") == 12


def test_remainder_takes_the_sign_of_the_dividend_as_in_c():
    assert evaluate("7 % 3") == 1
    assert evaluate("-7 % 3") == -1
    assert evaluate("7 % -3") == 1
    assert evaluate("7.5 % 2") == 1.5


def test_division_and_remainder_by_zero_are_null():
    assert evaluate("numEvents / zero") is None
    assert evaluate("numEvents % 0") is None
    assert evaluate("(numEvents / zero) == null") is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"plain"', "plain"),
        (r'"say \"hi\""', 'say "hi"'),
        (r'"back\\slash"', "back\\slash"),
        (r'"tab\there"', "tab\there"),
        (r'"line\nbreak"', "line\nbreak"),
        (r'"\u00e9t\u00E9"', "été"),
        (r'"a\/b"', "a/b"),
        ('`raw \\n "quoted"`', 'raw \\n "quoted"'),  # backticks: no escapes at all
        ("``", ""),
        ('""', ""),
    ],
)
def test_string_literals(text, expected):
    assert evaluate(text) == expected


def test_backtick_and_double_quoted_strings_compare_equal():
    assert evaluate('visitorId == `v1` && visitorId == "v1"') is True
    assert evaluate("metadata.custom.plan == `pro`") is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("visitorId", "v1"),
        ("metadata.custom.plan", "pro"),
        ("metadata.auto.accountids[0]", "a1"),
        ("metadata.auto.accountids[-1]", "a3"),
        ("metadata.auto.accountids[1 + 1]", "a3"),
        ("metadata.auto.accountids[3]", None),  # out of range
        ("metadata.auto.accountids[-4]", None),
        ("metadata.auto.accountids[1:]", ["a2", "a3"]),
        ("metadata.auto.accountids[:2]", ["a1", "a2"]),
        ("metadata.auto.accountids[-2:]", ["a2", "a3"]),
        ("metadata.auto.accountids[0:-1]", ["a1", "a2"]),
        ("metadata.auto.accountids[:]", ["a1", "a2", "a3"]),
        ("metadata.auto.accountids[5:9]", []),
        ("polls[1].id", "poll-1"),
        ("polls[0]", {"id": "poll-0"}),
        ('metadata["custom"].plan', "pro"),
        ("name[0]", "A"),
        ("name[1:]", "da"),
        ("missing", None),
        ("missing.deeper.still", None),
        ("missing[0]", None),
        ("missing[1:2]", None),
        ("visitorId.sub", None),  # a path through a string is missing
        ("polls[5].id", None),
        ("[1, 1 + 2, numEvents]", [1, 3, 4]),
        ("[]", []),
        ("[[1], [2, 3]][1][0]", 2),
        ("[1, 2, 3][-1]", 3),
        ("null", None),
        ("true", True),
        ("false", False),
    ],
)
def test_field_references_indexing_and_literals(text, expected):
    assert evaluate(text) == expected


def test_field_path_is_set_only_for_plain_paths():
    assert compile_expression("metadata.custom.plan", CTX).field_path == "metadata.custom.plan"
    assert compile_expression("(visitorId)", CTX).field_path == "visitorId"
    assert compile_expression("polls[0].id", CTX).field_path is None
    assert compile_expression("numEvents + 1", CTX).field_path is None
    expression = compile_expression("numEvents > 1", CTX, "pipeline[1].filter")
    assert expression.source == "numEvents > 1"


def test_constant_expressions_are_flagged_with_their_value():
    expression = compile_expression("2 * 3", CTX)
    assert expression.is_constant and expression.value == 6
    assert expression({"anything": 1}) == 6
    assert not compile_expression("numEvents * 2", CTX).is_constant


# Reference 3.7: && and || treat null as false; == and != treat null as a value of its own;
# every other operator returns null when an input is null.
NULL_TABLE = [
    ("true && null", False),
    ("null && true", False),
    ("null || true", True),
    ("false || null", False),
    ("null || null", False),
    ("!null", None),
    ("null == null", True),
    ("null != null", False),
    ("null == false", False),
    ("null != false", True),
    ("null == 0", False),
    ('null == ""', False),
    ("score == null", True),
    ("missing == null", True),
    ("score != null", False),
    ("1 + null", None),
    ("null - 1", None),
    ("2 * null", None),
    ("null / 2", None),
    ("null % 2", None),
    ("-null", None),
    ("null < 1", None),
    ("1 <= null", None),
    ("null > null", None),
    ('"a" >= null', None),
    ("score + 1 == null", True),
    ("(score > 1) == null", True),
    ("null[0]", None),
]


@pytest.mark.parametrize(("text", "expected"), NULL_TABLE)
def test_null_semantics(text, expected):
    assert evaluate(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 == 1.0", True),
        ("numEvents == 4", True),
        ("4 == numEvents", True),
        ("numEvents != 4", False),
        ('"4" == 4', False),
        ("true == 1", False),  # a boolean is not a number
        ("flag == 1", False),
        ("flag == true", True),
        ("flag != 1", True),
        ("[1, 2] == [1, 2]", True),
        ('["1", "2"] == [1, 2]', False),
        ("[1, 2] != [1, 2, 3]", True),
        ("numEvents > 3 && numEvents <= 4", True),
        ('"abc" < "abd"', True),
        ('name >= "Ada"', True),
        ("1 && 0", False),  # numbers are allowed in && and ||: non-zero is true
        ("0 || 2", True),
        ("zero || flag", True),
    ],
)
def test_equality_comparison_and_logic(text, expected):
    assert evaluate(text) is expected


def test_if_picks_a_branch_and_evaluates_only_that_branch():
    assert evaluate('if(numEvents > 3, "many", "few")') == "many"
    assert evaluate('if(numEvents > 9, "many", "few")') == "few"
    assert evaluate('if(numEvents > 9, "many")') is None
    assert evaluate('if(score, "yes", "no")') == "no"  # null condition takes the else branch
    # The unused branch would fail on this row; it is never evaluated.
    assert evaluate("if(numEvents > 3, 1, name + 1)") == 1
    assert "'+' needs numbers" in error_of("if(numEvents > 9, 1, name + 1)")


def test_logical_operators_short_circuit():
    # The right side would raise a type error; && stops at false, || stops at true.
    assert evaluate("false && name + 1 > 0") is False
    assert evaluate("true || name + 1 > 0") is True


def test_long_operator_chains_evaluate_without_recursion():
    terms = 3000
    assert evaluate(" + ".join(["numEvents"] * terms)) == 4 * terms
    assert evaluate(" || ".join(['visitorId == "nobody"'] * terms + ['visitorId == "v1"'])) is True
    assert evaluate(" && ".join(["flag"] * terms)) is True


# ------------------------------------------------------------------------------- type errors


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"a" + 1', "'+' needs numbers, got string and number at position 4"),
        ("name * 2", "'*' needs numbers, got string and number at position 5"),
        ("flag + 1", "'+' needs numbers, got boolean and number at position 5"),
        (
            'numEvents < "5"',
            "'<' compares two numbers or two strings, got number and string at position 10",
        ),
        ("!numEvents", "'!' needs a boolean, got number at position 0"),
        ("-name", "unary '-' needs a number, got string at position 0"),
        ("name && true", "'&&' needs booleans or numbers, got string at position 5"),
        ("polls[0.5]", "an index must be a whole number, got number at position 5"),
        ('polls["x"]', "an index must be a whole number, got 'x' at position 5"),
        ("numEvents[0]", "cannot index number at position 9"),
        ("polls[0][0]", "an object is indexed by a string, got number at position 8"),
        ("numEvents[0:1]", "cannot slice number at position 9"),
    ],
)
def test_type_errors_name_the_operator_and_position(text, message):
    text_message = error_of(text, where="pipeline[1].filter")
    assert text_message.startswith("pipeline[1].filter: ")
    assert message in text_message
    assert f'in "{text}"' in text_message


def test_type_errors_between_constants_surface_at_compile_time():
    with pytest.raises(AggregationError, match="'-' needs numbers"):
        compile_expression('1 - "x"', CTX)


@pytest.mark.parametrize(
    ("text", "kinds", "position"),
    [
        ('[1, "a"]', "number and string", 0),
        ("[true, 1]", "boolean and number", 0),
        ('list(1, [2, "x"])', "number and string", 8),
        ("[[1], 2]", "list and number", 0),
    ],
)
def test_list_literals_of_mixed_types_are_refused_at_compile_time(text, kinds, position):
    # Reference 3.7: the elements of a list literal must share a type.
    with pytest.raises(AggregationError) as caught:
        compile_expression(text, CTX, "pipeline[1].eval.x")
    assert caught.value.message == (
        f"pipeline[1].eval.x: list elements must share a type, got {kinds} at position {position} "
        f'in "{text}"'
    )


def test_list_literal_of_fields_of_mixed_types_is_refused_when_read():
    # numEvents is 4 and name is "Ada" in ROW: known only once the row is read.
    assert "list elements must share a type, got number and string at position 0" in error_of(
        "[numEvents, name]"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[numEvents, score, 2]", [4, None, 2]),  # score is null: a missing value, not a type
        ("[null, null]", [None, None]),
        ('[name, "b"]', ["Ada", "b"]),
        ("[[1], [2, 3], []]", [[1], [2, 3], []]),  # lists of lists, whatever their contents
        ("[1.5, numEvents]", [1.5, 4]),  # ints and floats are both numbers
    ],
)
def test_list_literals_of_one_type_with_nulls_are_built(text, expected):
    assert evaluate(text) == expected


# ------------------------------------------------------------------------------ parse errors


@pytest.mark.parametrize(
    ("text", "detail", "position"),
    [
        ('visitorId == "v1")', "unexpected ')'", 17),
        ("numEvents > ", "unexpected end of expression", 12),
        ("(numEvents > 1", "expected ')' to close the '(' at position 0", 14),
        ("numEvents = 1", "unexpected '=' (did you mean '=='?)", 10),
        ("a & b", "unexpected '&' (did you mean '&&'?)", 2),
        ("a | b", "unexpected '|' (did you mean '||'?)", 2),
        ("visitorId == 'v1'", "strings use double quotes or backticks", 13),
        ('visitorId == "v1', "unterminated string", 13),
        ("visitorId == `v1", "unterminated backtick string", 13),
        (r'"bad \q escape"', r"unknown escape '\q' in string", 5),
        (r'"\u12"', "bad \\u escape", 1),
        ("visitorId in [1, 2]", "'in' is not supported (use contains(list, value)", 10),
        ("a and b", "unexpected 'and' (did you mean '&&'?)", 2),
        ("a or b", "unexpected 'or' (did you mean '||'?)", 2),
        ("frobnicate(1)", "unknown function 'frobnicate'", 0),
        ("numEvents(1)", "unknown function 'numEvents'", 0),
        ("polls[0](1)", "only functions can be called", 8),
        ("", "empty expression", 0),
        ("   ", "empty expression", 0),
        ("a b", "unexpected 'b'", 2),
        ("1 2", "unexpected number 2", 2),
        ("a.", "expected a field name after '.', found end of expression", 2),
        ("a.1", "expected a field name after '.'", 2),
        ("a[]", "empty index", 2),
        ("a[1", "expected ']' or ':' in an index, found end of expression", 3),
        ("[1, 2", "expected ']' or ',' in list", 5),
        ("len(1,", "unexpected end of expression", 6),
        ("12abc", "malformed number '12a'", 0),
        ("a # b", "unexpected character '#'", 2),
        ("a ; b", "unexpected character ';'", 2),
    ],
)
def test_parse_errors_name_where_and_position(text, detail, position):
    with pytest.raises(AggregationError) as caught:
        compile_expression(text, CTX, "filter")
    message = caught.value.message
    assert caught.value.status == 400
    assert message.startswith("Cannot parse filter expression: ")
    assert detail in message
    if position >= 0:
        assert f"at position {position} in " in message


def test_parse_error_message_has_the_expression_and_the_step():
    with pytest.raises(AggregationError) as caught:
        compile_expression('accountId == "acme" && (numEvents > 1))', CTX, "pipeline[3].filter")
    assert caught.value.message == (
        "Cannot parse pipeline[3].filter expression: unexpected ')' at position 38 in "
        '"accountId == "acme" && (numEvents > 1))"'
    )


def test_wrong_arity_is_refused_at_compile_time():
    assert "len() takes 1 argument, got 2 at position 0" in error_of("len(a, b)")
    assert "if() takes 2 or 3 arguments, got 1" in error_of("if(true)")
    assert "date() takes 1 to 7 arguments, got 0" in error_of("date()")
    assert "listInRange() takes 3 arguments, got 1" in error_of("listInRange(x)")


def test_non_string_expression_is_refused():
    with pytest.raises(AggregationError, match="must be a string, got number"):
        compile_expression(5, CTX, "select.x")


# ----------------------------------------------------------------------------------- limits


def test_nesting_up_to_the_limit_is_accepted():
    depth = MAX_NESTING_DEPTH
    assert evaluate("(" * depth + "numEvents" + ")" * depth) == 4
    assert evaluate("-" * depth + "1") == 1  # an even number of minus signs
    assert evaluate("len(" * 1 + "[" * (depth - 1) + "]" * (depth - 1) + ")") == 1


@pytest.mark.parametrize(
    "text",
    [
        "(" * (MAX_NESTING_DEPTH + 1) + "1" + ")" * (MAX_NESTING_DEPTH + 1),
        "!" * 5000 + "true",
        "[" * 5000 + "]" * 5000,
        "len(" * 3000 + "x" + ")" * 3000,
        "x" + "[0]" * 5000,
        "(" * 100_000,
    ],
)
def test_deep_nesting_is_refused_cleanly(text):
    with pytest.raises(AggregationError, match=f"nested deeper than {MAX_NESTING_DEPTH} levels"):
        compile_expression(text, CTX)


def test_overlong_expression_is_refused():
    text = "1 + " * (MAX_EXPRESSION_LENGTH // 4) + "1"
    with pytest.raises(AggregationError, match="longer than"):
        compile_expression(text, CTX)


def test_error_messages_quote_at_most_the_start_of_a_long_expression():
    text = "visitorId == `v` || " * 200 + ")"
    with pytest.raises(AggregationError) as caught:
        compile_expression(text, CTX)
    assert len(caught.value.message) < 400
    assert f"at position {len(text) - 1}" in caught.value.message


# -------------------------------------------------------------------------------- robustness

_EXPRESSION_ALPHABET = st.sampled_from(
    list("abxyz019 .,:()[]!=<>&|+-*/%\"`\\'eE_")
    + ["true", "null", "len(", "if(", "date(", "numEvents", "polls", " in ", "\\u"]
)


@settings(max_examples=400, deadline=timedelta(seconds=2))
@given(st.one_of(st.text(max_size=60), st.lists(_EXPRESSION_ALPHABET, max_size=40).map("".join)))
def test_random_text_compiles_or_raises_aggregation_error(text):
    try:
        expression = compile_expression(text, CTX)
    except AggregationError:
        return
    try:
        expression(ROW)
    except AggregationError:
        pass


_ROW_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=True), st.text(max_size=8),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3), st.none()), max_size=4),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(-5, 5), max_size=2),
)  # fmt: skip
_LEAVES = st.one_of(
    st.sampled_from(["a", "b", "c", "c.a", "missing", "null", "true", "false", "now()",
                     '"daily"', '"days"', '"web|ios"', '"2006-01-02"', '"x,y"', "`a::b`",
                     "1e308", "-1", "0", "0.5", "3", "[]", "[1, `x`]"]),
    st.integers(-(10**13), 2 * 10**12).map(str),
)  # fmt: skip
_NAMES = sorted(FUNCTIONS) + ["if"]


def _combine(children):
    args = st.lists(children, max_size=4).map(", ".join)
    return st.one_of(
        st.tuples(
            children,
            st.sampled_from(list("+-*/%<>") + ["==", "!=", "<=", ">=", "&&", "||"]),
            children,
        ).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["!", "-"]), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(_NAMES), args).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, children).map(lambda t: f"({t[0]})[{t[1]}]"),
        st.tuples(children, children).map(lambda t: f"({t[0]})[{t[1]}:]"),
        args.map(lambda items: f"[{items}]"),
    )


@settings(max_examples=600, deadline=timedelta(seconds=2))
@given(
    st.recursive(_LEAVES, _combine, max_leaves=12),
    st.fixed_dictionaries({"a": _ROW_VALUES, "b": _ROW_VALUES, "c": _ROW_VALUES}),
)
def test_random_well_formed_expressions_evaluate_or_raise_aggregation_error(text, row):
    for ctx in (CTX, NEW_YORK):
        try:
            compile_expression(text, ctx)(row)
        except AggregationError:
            pass


def test_constant_lists_are_not_shared_between_rows():
    expression = compile_expression('[[1], ["a"]]', CTX)
    first, second = expression({}), expression({})
    first[1].append("b")
    assert second == [[1], ["a"]]
