"""Hypothesis strategies that build pipelines with the builder (not from JSON).

``any_pipeline`` uses every method with arbitrary names and strings, for round-trip checks.
``runnable_pipeline`` keeps track of which fields exist and their types, so every chain it draws
is one the sandbox can run (no type errors): filters, evals, selects, groups, sorts, limits,
forks, counts and reduces over event or visitor rows.
"""

from __future__ import annotations

from hypothesis import strategies as st

import pendo_nb.pipeline as pn
from pendo_nb.pipeline import Pipeline, col

NAMES = st.from_regex(r"[a-z][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda name: name not in {"day", "hour", "week", "month", "quarter", "true", "false", "null"}
)
PATHS = st.lists(NAMES, min_size=1, max_size=3).map(".".join)
TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x17F), max_size=12)
NUMBERS = st.integers(-1000, 1000)
CONDITIONS = st.one_of(
    st.tuples(PATHS, NUMBERS).map(lambda t: col(t[0]) > t[1]),
    st.tuples(PATHS, TEXT).map(lambda t: col(t[0]) == t[1]),
    st.tuples(PATHS, TEXT).map(lambda t: col(t[0]).contains(t[1]) | col(t[0]).is_null()),
    st.tuples(PATHS, TEXT).map(lambda t: ~col(t[0]).startswith(t[1])),
)
AGGREGATORS = st.one_of(
    st.just(pn.agg.count()),
    PATHS.map(pn.agg.count),
    PATHS.map(pn.agg.sum),
    PATHS.map(pn.agg.max),
    PATHS.map(pn.agg.first),
    PATHS.map(pn.agg.list),
    st.tuples(PATHS, CONDITIONS).map(lambda t: pn.agg.count_if(t[0], t[1])),
)


@st.composite
def _any_step(draw, depth: int):
    kinds = ["filter", "select", "eval", "set", "group", "reduce", "sort", "limit", "count",
             "cat", "identified", "bulk_expand", "expand", "item_seen", "segment", "useragent",
             "unwind", "switch", "join", "unofficial"]  # fmt: skip
    if depth < 2:
        kinds += ["fork", "merge", "spawn"]
    kind = draw(st.sampled_from(kinds))
    p = Pipeline()
    if kind == "filter":
        return p.filter(draw(CONDITIONS))
    if kind == "select":
        return p.select(draw(st.dictionaries(NAMES, PATHS, min_size=1, max_size=3)))
    if kind == "eval":
        return p.eval(draw(st.dictionaries(NAMES, CONDITIONS, min_size=1, max_size=3)))
    if kind == "set":
        return p.set(draw(st.dictionaries(NAMES, TEXT | NUMBERS, min_size=1, max_size=2)))
    if kind == "group":
        fields = draw(st.dictionaries(NAMES, AGGREGATORS, max_size=3))
        return p.group(
            *draw(st.lists(PATHS, max_size=3)), fields=fields, list_form=draw(st.booleans())
        )
    if kind == "reduce":
        fields = draw(st.dictionaries(NAMES, AGGREGATORS, min_size=1, max_size=3))
        return p.reduce(fields, list_form=draw(st.booleans()))
    if kind == "sort":
        keys = draw(st.lists(st.tuples(st.sampled_from(["", "-"]), PATHS), min_size=1, max_size=3))
        return p.sort(*(sign + key for sign, key in keys))
    if kind == "limit":
        return p.limit(draw(st.integers(1, 10_000)))
    if kind in ("count", "cat"):
        return getattr(p, kind)()
    if kind == "identified":
        return p.identified(draw(PATHS), anonymous=draw(st.booleans()))
    if kind == "bulk_expand":
        return p.bulk_expand(
            draw(NAMES), **{draw(st.sampled_from(["visitor", "account"])): draw(PATHS)}
        )
    if kind == "expand":
        return p.expand(
            draw(NAMES), **{draw(st.sampled_from(["page", "feature", "track_type"])): draw(PATHS)}
        )
    if kind == "item_seen":
        return p.item_seen(draw(NAMES), page_id=draw(TEXT.filter(bool)))
    if kind == "segment":
        return p.segment(draw(TEXT.filter(bool)))
    if kind == "useragent":
        return p.useragent(draw(NAMES), draw(PATHS))
    if kind == "unwind":
        return p.unwind(
            draw(PATHS), index=draw(st.none() | NAMES), keep_empty=draw(st.none() | st.booleans())
        )
    if kind == "switch":
        cases = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"value": TEXT, draw(st.sampled_from(["<", ">=", "=="])): NUMBERS}
                ),
                min_size=1,
                max_size=3,
            )
        )
        return p.switch(draw(NAMES), draw(PATHS), cases)
    if kind == "join":
        return p.join(*draw(st.lists(PATHS, min_size=1, max_size=2)), width=draw(st.integers(2, 4)))
    if kind == "unofficial":
        return p.unofficial("treeify", draw(st.dictionaries(NAMES, NUMBERS, max_size=2)))
    branches = draw(st.lists(_any_chain(depth + 1), min_size=1, max_size=3))
    if kind == "fork":
        return p.fork(*branches)
    if kind == "spawn":
        return p.spawn(*(draw(any_source) + branch for branch in branches))
    keys = draw(st.lists(PATHS, min_size=1, max_size=2))
    mappings = draw(st.none() | st.dictionaries(NAMES, PATHS, max_size=2))
    return p.merge(keys, draw(any_source) + branches[0], mappings=mappings)


def _any_chain(depth: int):
    return st.lists(_any_step(depth), min_size=1, max_size=4).map(
        lambda parts: sum(parts, Pipeline())
    )


any_source = st.one_of(
    st.just(pn.source.visitors()),
    st.just(pn.source.accounts()),
    st.builds(lambda n: pn.source.events(app_id="*").last(n, "days"), st.integers(1, 60)),
    st.builds(lambda d: pn.source.page_events().on(d), st.dates().map(str)),
    st.builds(
        lambda n: pn.source.feature_events(app_id=-323232).last(n, "weeks", include_current=True),
        st.integers(1, 8),
    ),
)
any_pipeline = st.tuples(any_source, _any_chain(0)).map(lambda t: t[0] + t[1])


# -- runnable chains ----------------------------------------------------------------------------
EVENT_NUMBERS = ["numEvents", "numMinutes"]
EVENT_STRINGS = ["visitorId", "accountId"]


@st.composite
def runnable_pipeline(draw):
    """A chain over real sandbox rows whose every step is well typed for the fields it reads."""
    if draw(st.booleans()):
        p = pn.source.events(app_id=draw(st.sampled_from(["*", "web"]))).last(
            draw(st.integers(1, 10)), "days"
        )
        numbers, strings = list(EVENT_NUMBERS), list(EVENT_STRINGS)
    else:
        p = pn.source.visitors()
        numbers, strings = ["metadata.auto.lastvisit"], ["visitorId", "metadata.agent.email"]
    for _ in range(draw(st.integers(0, 5))):
        choices = ["filter", "eval", "sort", "limit", "fork"]
        if strings:
            choices += ["group", "filter_text"]
        if numbers:
            choices += ["reduce", "select"]
        kind = draw(st.sampled_from(choices))
        if kind == "filter" and numbers:
            p = p.filter(col(draw(st.sampled_from(numbers))) >= draw(st.integers(0, 50)))
        elif kind == "filter_text":
            field = draw(st.sampled_from(strings))
            p = p.filter(
                (col(field) == draw(TEXT)) | col(field).contains(draw(TEXT)) | col(field).is_null()
            )
        elif kind == "eval" and numbers:
            taken = set(numbers + strings)
            name = draw(NAMES.filter(lambda n, taken=taken: n not in taken))
            p = p.eval({name: col(draw(st.sampled_from(numbers))) * 2 + 1})
            numbers.append(name)
        elif kind == "sort" and numbers + strings:
            p = p.sort(
                *draw(
                    st.lists(
                        st.sampled_from(numbers + strings), min_size=1, max_size=2, unique=True
                    )
                )
            )
        elif kind == "limit":
            p = p.limit(draw(st.integers(1, 50)))
        elif kind == "fork":
            p = p.fork(Pipeline().limit(draw(st.integers(1, 5))), Pipeline().cat())
        elif kind == "group":
            keys = draw(st.lists(st.sampled_from(strings), min_size=1, max_size=2, unique=True))
            aggregators = {f"n{i}": pn.agg.sum(field) for i, field in enumerate(numbers)}
            aggregators["rows"] = pn.agg.count()
            p = p.group(*keys, fields=aggregators, list_form=draw(st.booleans()))
            numbers, strings = list(aggregators), keys
        elif kind == "reduce":
            field = draw(st.sampled_from(numbers))
            p = p.reduce(total=draw(st.sampled_from([pn.agg.sum, pn.agg.max, pn.agg.avg]))(field))
            numbers, strings = ["total"], []
        elif kind == "select":
            kept = draw(st.lists(st.sampled_from(numbers + strings), min_size=1, unique=True))
            p = p.select({name.replace(".", "_"): name for name in kept})
            numbers = [n.replace(".", "_") for n in numbers if n in kept]
            strings = [s.replace(".", "_") for s in strings if s in kept]
    return p
