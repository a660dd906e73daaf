"""Mistakes are refused while the pipeline is built, with a ``PipelineError`` (also a
``ValueError``) naming the method and argument, before anything is sent."""

from __future__ import annotations

import re

import pytest

import pendo_nb.pipeline as pn
from pendo_nb.errors import PendoError, PipelineError
from pendo_nb.pipeline import Pipeline
from pendo_nb.pipeline.parse import check_expression

EVENTS = pn.source.events(app_id="*")
VISITORS = pn.source.visitors()


def test_pipeline_error_is_a_value_error_and_a_pendo_error():
    with pytest.raises(ValueError):
        VISITORS.limit(0)
    assert issubclass(PipelineError, PendoError)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: VISITORS.limit(0), "limit(n): must be at least 1, got 0"),
        (lambda: VISITORS.limit(-3), "limit(n): must be at least 1"),
        (lambda: VISITORS.limit(2.5), "limit(n): expected an integer, got 2.5"),
        (lambda: VISITORS.limit(True), "limit(n): expected an integer"),
        (
            lambda: EVENTS.time_series("fortnightRange", "now()", count=1),
            "time_series(period): 'fortnightRange' is not a Pendo period",
        ),
        (
            lambda: EVENTS.time_series("dayRange", "now()", last="now()", count=-1),
            "time_series: give exactly one of last= or count=",
        ),
        (
            lambda: EVENTS.time_series("dayRange", "now()"),
            "time_series: give exactly one of last= or count=",
        ),
        (
            lambda: EVENTS.time_series("dayRange", "now()", count=0),
            "time_series(count): expected a non-zero integer",
        ),
        (
            lambda: EVENTS.time_series("dayRange", "now(", count=1),
            "time_series(first): cannot parse expression",
        ),
        (lambda: EVENTS.last(0), "last(n): expected a whole number of periods >= 1"),
        (lambda: EVENTS.last(3, "fortnights"), "last(unit): 'fortnights' is not one of"),
        (
            lambda: EVENTS.between("2024-02-30", "now()"),
            "between(start): '2024-02-30' is not a valid date",
        ),
        (lambda: EVENTS.between("2024-01-01", "now()", period="decade"), "between(period)"),
        (lambda: EVENTS.on(3.5), "on(day): expected epoch milliseconds"),
        (
            lambda: VISITORS.last(7),
            "last: source.visitors: visitors is a snapshot and takes no time series",
        ),
        (lambda: Pipeline().last(7), "last: the pipeline does not start with a source"),
        (lambda: VISITORS.filter("numEvents > "), "filter(expression): cannot parse expression"),
        (lambda: VISITORS.filter(["a"]), "filter(expression): expected an expression"),
        (lambda: VISITORS.eval(day="now()"), "eval(fields)['day']: 'day' is read-only"),
        (
            lambda: VISITORS.eval({"week.start": "1"}),
            "eval(fields)['week.start']: 'week.start' is read-only",
        ),
        (lambda: VISITORS.set(hour=1), "set(values)['hour']: 'hour' is read-only"),
        (lambda: VISITORS.eval(x="a = 1"), "eval(fields)['x']: cannot parse expression"),
        (lambda: VISITORS.select(), "select(fields): needs at least one field"),
        (
            lambda: VISITORS.select({"": "a"}),
            "select(fields): output field names must be non-empty",
        ),
        (
            lambda: VISITORS.group("visitorId", n=pn.agg.sum("a +")),
            "agg.sum(expression): cannot parse",
        ),
        (
            lambda: VISITORS.group("visitorId", n={"total": "a"}),
            "group(fields)['n'].total: unknown aggregator",
        ),
        (
            lambda: VISITORS.group("visitorId", n="sum(a)"),
            "group(fields)['n']: expected an aggregator",
        ),
        (lambda: VISITORS.group("bad key"), "group(keys): 'bad key' is not a field name"),
        (lambda: VISITORS.reduce(), "reduce(fields): needs at least one field"),
        (lambda: VISITORS.sort(), "sort(keys): expected one or more field names"),
        (lambda: VISITORS.sort("-"), "sort(keys): '' is not a field name"),
        (lambda: VISITORS.fork(), "fork(branches): expected at least one sub-pipeline"),
        (
            lambda: VISITORS.fork(Pipeline().cat(), Pipeline()),
            "fork(branches)[1]: empty sub-pipeline; use cat()",
        ),
        (lambda: VISITORS.fork([]), "fork(branches)[0]: empty sub-pipeline"),
        (lambda: VISITORS.spawn(Pipeline().cat()), "spawn(pipelines)[0]: must start with a source"),
        (lambda: VISITORS.join("visitorId", width=1), "join(width): must be at least 2, got 1"),
        (lambda: VISITORS.join(width=2), "join(fields): needs at least one key field"),
        (lambda: VISITORS.merge("a", Pipeline()), "merge(pipeline): the inner pipeline is empty"),
        (
            lambda: VISITORS.bulk_expand("x"),
            "bulk_expand(out='x'): give exactly one of visitor, account",
        ),
        (
            lambda: VISITORS.bulk_expand("x", visitor="v", account="a"),
            "give exactly one of visitor, account",
        ),
        (
            lambda: VISITORS.expand("x"),
            "expand(out='x'): give exactly one of page, feature, track_type",
        ),
        (
            lambda: VISITORS.item_seen("x", page_id=""),
            "item_seen['x'].pageId: expected an object id",
        ),
        (
            lambda: VISITORS.switch("s", "n", [{"value": 1, "~": 2}]),
            "switch(cases)[0]: conditions must be among",
        ),
        (lambda: VISITORS.switch("s", "n", [{"<": 2}]), "switch(cases)[0]: a case needs a 'value'"),
        (
            lambda: VISITORS.switch("s", "n", []),
            "switch(cases): expected a non-empty list of cases",
        ),
        (
            lambda: VISITORS.unwind("xs", keep_empty="yes"),
            "unwind(keep_empty): expected True or False",
        ),
        (
            lambda: VISITORS.unofficial("skip", 10),
            "unofficial(op): 'skip' is not a known Pendo operator",
        ),
        (
            lambda: pn.source.events(app_ids="*"),
            "source.events(app_ids): unknown parameter; known: app_id, blacklist, event_class",
        ),
        (
            lambda: pn.source.events(app_id="desktop"),
            "source.events(app_id): expected an app id number",
        ),
        (lambda: pn.source.sessions(), "pn.source.sessions: no such source"),
        (lambda: pn.agg.count("a b"), "agg.count(field): 'a b' is not a field name"),
        (
            lambda: pn.agg.percentiles("x", p=101),
            "agg.percentiles.p: a percentile must be a number from 0 to 100",
        ),
        (
            lambda: VISITORS.with_request(mime_type="text/xml"),
            "Pipeline(mime_type): expected one of",
        ),
    ],
)
def test_mistakes_name_the_method_and_argument(build, message):
    with pytest.raises(PipelineError) as caught:
        build()
    assert message in str(caught.value)


def test_unknown_source_is_also_an_attribute_error():
    assert not hasattr(pn.source, "sessions")
    assert hasattr(pn.source, "page_events") and hasattr(pn.source, "pageEvents")


# -- expression parse errors carry the position -------------------------------------------------
@pytest.mark.parametrize(
    ("text", "position", "problem"),
    [
        ("numEvents > ", 12, "unexpected end of expression"),
        ("a = 1", 2, "unexpected character '=' (use == to compare)"),
        ("a & b", 2, "use && for 'and'"),
        ("a | b", 2, "use || for 'or'"),
        ("x == 'abc'", 5, "strings use double quotes or backticks"),
        ("a and b", 2, "unexpected 'and' (use && for 'and')"),
        ("x in [1, 2]", 2, "'in' is not supported"),
        ("(a > 1", 6, "expected ')' to close the parenthesis"),
        ("a > 1)", 5, "unexpected ')'"),
        ('name == "abc', 8, "unterminated string"),
        ("name == `abc", 8, "unterminated string"),
        ('x == "a\\qb"', 7, "unknown escape \\q"),
        ("foo(1)", 0, "unknown function 'foo'"),
        ("a.", 2, "expected a field name after '.'"),
        ("xs[1", 4, "expected ']' to close the index"),
        ("", 0, "empty expression"),
        ("f(a,)", 0, "unknown function 'f'"),
        ("len(a,)", 6, "expected a value"),
        ("a # b", 2, "unexpected character '#'"),
    ],
)
def test_parse_errors_give_the_position(text, position, problem):
    with pytest.raises(PipelineError) as caught:
        check_expression(text, "filter(expression)")
    message = str(caught.value)
    assert message.startswith("filter(expression): cannot parse expression")
    assert problem in message
    assert f"at position {position}\n" in message
    # The caret line points at the same character.
    text_line, caret_line = message.splitlines()[1:3]
    assert caret_line.index("^") - 4 == position and text_line[4:] == text


@pytest.mark.parametrize(
    "text",
    [
        "numEvents > 10 && !isNull(accountId)",
        'visitorId == "abc" || visitorId == `def`',
        "polls[0].id",
        "xs[-1]",
        "xs[1:3]",
        "xs[:2]",
        "[1, 1 + 2, sum(a)]",
        "now() - 30 * 1000 * 60 *60 * 24",
        'dateAdd(startOfPeriod("monthly", now()), -1, "months")',
        "metadata.auto__323232.lastvisit > 0",
        "$x + 1.5e3",
        "!(a) && -b < +c",
        'contains(list("a", "b"), x)',
        "if(a, b)",
        "  spaced\t(  )".replace("spaced\t(  )", "now ( )"),
    ],
)
def test_well_formed_expressions_are_accepted(text):
    assert check_expression(text, "filter(expression)") == text


def test_nesting_and_length_are_bounded():
    with pytest.raises(PipelineError, match="nested too deeply"):
        check_expression("(" * 100 + "1" + ")" * 100, "filter(expression)")
    with pytest.raises(PipelineError, match="nested too deeply"):
        check_expression("!" * 1000 + "true", "filter(expression)")
    with pytest.raises(PipelineError, match="longer than"):
        check_expression("1" + " + 1" * 30_000, "filter(expression)")
    # A long flat chain is fine (it is not nesting).
    check_expression(" || ".join(f'id == "{n}"' for n in range(2000)), "filter(expression)")


# -- from_json names the step -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([{"skip": 10}], "pipeline[0]: 'skip' is not supported"),
        (
            [{"source": {"visitors": None}}, {"frobnicate": 1}],
            "pipeline[1]: unknown operator 'frobnicate'",
        ),
        (
            [{"source": {"sessions": None}}],
            "pipeline[0]: source.sessions: unknown source 'sessions'",
        ),
        (
            [{"source": {"visitors": None}}, {"filter": "a >"}],
            "pipeline[1]: filter(expression): cannot parse",
        ),
        ([{"limit": 0}], "pipeline[0]: limit(n): must be at least 1"),
        ([{"fork": [[{"cat": None}], []]}], "pipeline[0]: fork(branches)[1]: empty sub-pipeline"),
        (
            [{"fork": [[{"cat": None}], [{"limit": 0}]]}],
            "pipeline[0]: fork(branches)[1][0]: limit(n): must be at least 1",
        ),
        ([{"join": {"fields": ["a"], "width": 1}}], "pipeline[0]: join(width): must be at least 2"),
        ([{"eval": {"day": "1"}}], "pipeline[0]: eval(fields)['day']: 'day' is read-only"),
        ([{"filter": "a", "limit": 1}], "pipeline[0]: expected an object with exactly one key"),
        ([{"count": 5}], "pipeline[0]: count: takes no argument"),
        (
            [
                {
                    "source": {
                        "events": None,
                        "timeSeries": {
                            "period": "dayRange",
                            "first": "now()",
                            "last": "now()",
                            "count": 1,
                        },
                    }
                }
            ],
            "pipeline[0]: time_series: give exactly one of last= or count=",
        ),
        ({"request": {}}, "no request.pipeline"),
        ("{not json", "not valid JSON"),
        (42, "expected an object or a list"),
    ],
)
def test_from_json_names_the_step(body, message):
    with pytest.raises(PipelineError) as caught:
        Pipeline.from_json(body)
    text = str(caught.value)
    assert text.startswith("Pipeline.from_json")
    assert message in text
    assert len(re.findall("Pipeline.from_json", text)) == 1


@pytest.mark.parametrize(
    ("pipeline", "message"),
    [
        (Pipeline(), "run: a pipeline must start with a source"),
        (Pipeline().filter("a > 1"), "run: a pipeline must start with a source"),
        (
            pn.source.page_events(),
            "run: pageEvents reads events and needs periods: add .last(7, 'days')",
        ),
        (
            pn.source.visitors().limit(5) + pn.source.accounts(),
            "run: step 3 is a second source (accounts); only the first step may be a source",
        ),
    ],
)
def test_run_refuses_pipelines_that_cannot_run_before_any_request(pipeline, message):
    # No client is connected: the error must come from the builder, before any HTTP.
    with pytest.raises(PipelineError, match=re.escape(message)):
        pipeline.run()
    with pytest.raises(PipelineError, match=re.escape(message)):
        pipeline.preview()


@pytest.mark.parametrize("text", ['x == "\\u00e9"', 'x == "a\\/b\\n\\t\\r"', 'x == "\\"\\\\"'])
def test_string_escapes_accepted(text):
    check_expression(text, "filter(expression)")


@pytest.mark.parametrize(
    ("text", "problem"),
    [('x == "\\u00g1"', "unknown escape \\u"), ('x == "\\b"', "unknown escape \\b")],
)
def test_string_escapes_refused(text, problem):
    with pytest.raises(PipelineError, match=re.escape(problem)):
        check_expression(text, "filter(expression)")
