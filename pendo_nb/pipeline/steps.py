"""One small frozen class per pipeline operator of reference 3.5.

Each step checks and normalises its arguments when it is made (so a bad argument fails where the
builder method was called, naming the method and argument), writes its JSON with ``to_json()``,
reads it back with ``from_body()``, and describes itself for ``explain()`` and ``to_code()``.
``Pipeline`` methods are thin twins of these classes.

``steps_from_json`` reads a list of steps; unknown operators (including ``skip``, which Pendo
does not document) are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from pendo_nb.errors import PipelineError
from pendo_nb.pipeline._values import (
    JSON,
    canonical_bytes,
    integer,
    json_value,
    output_name,
    python_name,
    single_key,
    snake_case,
)
from pendo_nb.pipeline.aggregators import Aggregator, as_aggregator
from pendo_nb.pipeline.expr import expression_text
from pendo_nb.pipeline.parse import check_field_path

#: Period bucket fields of event rows: Pendo refuses assignments to them (reference 3.5, 3.9).
READ_ONLY_FIELDS = frozenset({"day", "hour", "week", "month", "quarter"})

_OPERATORS: dict[str, type[Step]] = {}
_REFUSED = {
    "skip": "Pendo does not document a skip operator; page with sort + filter on a key instead",
}


def register(cls: type[Step]) -> type[Step]:
    """Make ``cls`` readable by ``steps_from_json`` under its Pendo operator name."""
    _OPERATORS[cls.op] = cls
    return cls


class Step:
    """Base of every step: ``op`` is the Pendo operator, ``method`` the builder method."""

    op: ClassVar[str]
    method: ClassVar[str]

    def body(self) -> JSON:
        """The value under the operator key."""
        raise NotImplementedError

    def to_json(self) -> dict:
        """The step as Pendo JSON, ``{op: body}`` (a fresh copy each time)."""
        return {self.op: json_value(self.body(), self.method)}

    @classmethod
    def from_body(cls, body: object) -> Step:
        """Read the value under the operator key (by default, the step's one argument)."""
        return cls(body)

    def code_args(self) -> str:
        """The arguments of the builder call that makes this step, as Python source."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line of plain English for ``explain()``."""
        raise NotImplementedError

    def __hash__(self) -> int:
        return hash(canonical_bytes(self.to_json()))


def step_class(cls: type) -> type:
    """``@dataclass(frozen=True)`` that keeps ``Step.__hash__`` (dataclass would replace it)."""
    cls = dataclass(frozen=True)(cls)
    cls.__hash__ = Step.__hash__
    return cls


def _set(step: Step, name: str, value: object) -> None:
    # Normalising in __post_init__ of a frozen dataclass (the instance is not shared yet).
    object.__setattr__(step, name, value)


# -- helpers shared by several steps ---------------------------------------------------------------
def _pairs(value: object, where: str) -> tuple[tuple[str, object], ...]:
    """A mapping (or ``(name, value)`` pairs) as a tuple of pairs, names checked, order kept."""
    if isinstance(value, Mapping):
        items = tuple(value.items())
    elif isinstance(value, Sequence) and all(
        isinstance(pair, Sequence) and not isinstance(pair, str) and len(pair) == 2
        for pair in value
    ):
        items = tuple(value)
    else:
        raise PipelineError(f"{where}: expected a mapping of names, got {value!r}")
    if not items:
        raise PipelineError(f"{where}: needs at least one field")
    return tuple((output_name(name, where), item) for name, item in items)


def _check_writable(pairs: Sequence[tuple[str, object]], where: str) -> None:
    """Refuse writes to the period fields (``day``, ``day.x``...), which Pendo keeps read-only."""
    for name, _ in pairs:
        if name.split(".")[0] in READ_ONLY_FIELDS:
            raise PipelineError(
                f"{where}[{name!r}]: {name!r} is read-only in Pendo; "
                "write to another name, e.g. dayStart"
            )


def _named_expressions(value: object, where: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, expression_text(item, f"{where}[{name!r}]")) for name, item in _pairs(value, where)
    )


def _fields(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Sequence):
        raise PipelineError(f"{where}: expected a list of field names, got {value!r}")
    return tuple(check_field_path(item, where) for item in value)


def _kwargs_code(
    pairs: Sequence[tuple[str, object]], reserved: frozenset[str] = frozenset()
) -> str:
    """``a="x", b="y"``, or a dict literal first when a name is not a valid keyword argument."""
    if all(python_name(name) and name not in reserved for name, _ in pairs):
        return ", ".join(f"{name}={_code(value)}" for name, value in pairs)
    return "{" + ", ".join(f"{name!r}: {_code(value)}" for name, value in pairs) + "}"


def _code(value: object) -> str:
    return value.to_code() if isinstance(value, Aggregator) else repr(value)


def _steps(value: object, where: str) -> tuple[Step, ...]:
    """Nested steps from a ``Pipeline``, a sequence of ``Step``s, or JSON steps."""
    steps = getattr(value, "steps", value)
    if isinstance(steps, Sequence) and not isinstance(steps, str):
        if all(isinstance(step, Step) for step in steps):
            return tuple(steps)
        return steps_from_json(steps, where)
    raise PipelineError(f"{where}: expected a Pipeline or a list of steps, got {value!r}")


def chain_code(steps: Sequence[Step], line_break: str = "") -> str:
    """Builder code for a list of steps: ``pn.source.x(...).filter(...)`` or ``pn.Pipeline()...``.

    ``line_break`` goes before each method call (the top level of ``to_code`` puts one per line).
    """
    parts: list[str] = []
    for index, step in enumerate(steps):
        if step.op == "source":
            parts.append(step.code_args() if index == 0 else f"{line_break} + {step.code_args()}")
        else:
            parts.append(f"{line_break}.{step.method}({step.code_args()})")
    if not steps or steps[0].op != "source":
        parts.insert(0, "pn.Pipeline()")
    return "".join(parts)


def steps_from_json(body: object, where: str = "pipeline") -> tuple[Step, ...]:
    """Read a JSON list of steps (each a one-key object); ``where`` prefixes error messages."""
    if not isinstance(body, Sequence) or isinstance(body, str):
        raise PipelineError(f"{where}: expected a list of steps, got {body!r}")
    return tuple(step_from_json(item, f"{where}[{index}]") for index, item in enumerate(body))


def step_from_json(body: object, where: str) -> Step:
    """Read one step such as ``{"filter": "x > 1"}``."""
    if isinstance(body, Mapping) and "source" in body and "timeSeries" in body and len(body) == 2:
        # Pendo's spawn snippet puts timeSeries beside source (reference 3.2 and section 6.12);
        # it means the same as inside, where it is written back.
        body = {"source": {**body["source"], "timeSeries": body["timeSeries"]}}
    op, value = single_key(body, where)
    if op in _REFUSED:
        raise PipelineError(f"{where}: {op!r} is not supported: {_REFUSED[op]}")
    cls = _OPERATORS.get(op)
    if cls is None and op not in UNOFFICIAL_OPERATORS:
        raise PipelineError(f"{where}: unknown operator {op!r}; known: {sorted(_OPERATORS)}")
    try:
        return cls.from_body(value) if cls else Unofficial(op, value)
    except PipelineError as error:
        raise PipelineError(f"{where}: {error}") from None


# -- basic operators ---------------------------------------------------------------------------
@register
@step_class
class Filter(Step):
    """``{"filter": "<expression>"}``: keep rows where the expression is true."""

    op: ClassVar[str] = "filter"
    method: ClassVar[str] = "filter"
    expression: str

    def __post_init__(self) -> None:
        _set(self, "expression", expression_text(self.expression, "filter(expression)"))

    def body(self) -> JSON:
        return self.expression

    def code_args(self) -> str:
        return repr(self.expression)

    def describe(self) -> str:
        return f"keep rows where {self.expression}"


@register
@step_class
class Select(Step):
    """``{"select": {"out": "<expression>", ...}}``: rows keep only these fields."""

    op: ClassVar[str] = "select"
    method: ClassVar[str] = "select"
    fields: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        _set(self, "fields", _named_expressions(self.fields, f"{self.method}(fields)"))

    def body(self) -> JSON:
        return dict(self.fields)

    def code_args(self) -> str:
        return _kwargs_code(self.fields)

    def describe(self) -> str:
        return "keep only " + ", ".join(
            name if name == value else f"{name} = {value}" for name, value in self.fields
        )


@register
@step_class
class Eval(Step):
    """``{"eval": {"out": "<expression>", ...}}``: add or replace fields, keep the rest."""

    op: ClassVar[str] = "eval"
    method: ClassVar[str] = "eval"
    fields: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        fields = _named_expressions(self.fields, "eval(fields)")
        _check_writable(fields, "eval(fields)")
        _set(self, "fields", fields)

    def body(self) -> JSON:
        return dict(self.fields)

    def code_args(self) -> str:
        return _kwargs_code(self.fields)

    def describe(self) -> str:
        return "compute " + ", ".join(f"{name} = {value}" for name, value in self.fields)


@register
@step_class
class Set(Step):
    """``{"set": {"field": <constant>}}``: set fields to constant JSON values (unofficial)."""

    op: ClassVar[str] = "set"
    method: ClassVar[str] = "set"
    values: tuple[tuple[str, JSON], ...]

    def __post_init__(self) -> None:
        pairs = _pairs(self.values, "set(values)")
        _check_writable(pairs, "set(values)")
        _set(self, "values", tuple((n, json_value(v, f"set(values)[{n!r}]")) for n, v in pairs))

    def body(self) -> JSON:
        return dict(self.values)

    def code_args(self) -> str:
        return _kwargs_code(self.values)

    def describe(self) -> str:
        return "set " + ", ".join(f"{name} = {value!r}" for name, value in self.values)


def _aggregators(value: object, where: str) -> tuple[tuple[str, Aggregator], ...]:
    return tuple(
        (name, as_aggregator(item, f"{where}[{name!r}]")) for name, item in _pairs(value, where)
    )


def _aggregators_from_json(body: object, where: str) -> tuple[tuple[tuple, ...], bool]:
    """Both forms Pendo uses: ``{"a": {...}, "b": {...}}`` or ``[{"a": {...}}, {"b": {...}}]``."""
    if isinstance(body, Sequence) and not isinstance(body, str):
        pairs = [single_key(item, where) for item in body]
        return _aggregators(pairs, where), True
    return _aggregators(body, where), False


def _aggregators_json(fields: tuple[tuple[str, Aggregator], ...], list_form: bool) -> JSON:
    if list_form:
        return [{name: aggregator.to_json()} for name, aggregator in fields]
    return {name: aggregator.to_json() for name, aggregator in fields}


@register
@step_class
class Group(Step):
    """``{"group": {"group": [keys], "fields": {...}}}``: one row per key combination."""

    op: ClassVar[str] = "group"
    method: ClassVar[str] = "group"
    keys: tuple[str, ...]
    fields: tuple[tuple[str, Aggregator], ...] | None = None
    list_form: bool = False
    force_keys: tuple[tuple[str, str], ...] | None = None

    def __post_init__(self) -> None:
        _set(self, "keys", _fields(self.keys, "group(keys)"))
        if self.fields is not None:
            _set(self, "fields", _aggregators(self.fields, "group(fields)"))
        else:
            _set(self, "list_form", False)  # no fields: nothing is written in either form
        if self.force_keys is not None:
            _set(self, "force_keys", _named_expressions(self.force_keys, "group(force_keys)"))

    def body(self) -> JSON:
        body: dict = {"group": list(self.keys)}
        if self.fields is not None:
            body["fields"] = _aggregators_json(self.fields, self.list_form)
        if self.force_keys is not None:
            body["forceKeys"] = dict(self.force_keys)
        return body

    @classmethod
    def from_body(cls, body: object) -> Step:
        if not isinstance(body, Mapping) or set(body) - {"group", "fields", "forceKeys"}:
            raise PipelineError(f"group: expected {{'group': [...], 'fields': ...}}, got {body!r}")
        fields, list_form = None, False
        if body.get("fields") is not None:
            fields, list_form = _aggregators_from_json(body["fields"], "group(fields)")
        return cls(body.get("group", []), fields, list_form, body.get("forceKeys"))

    def code_args(self) -> str:
        args = [repr(key) for key in self.keys]
        if self.fields:
            args.append(_kwargs_code(self.fields, _GROUP_KEYWORDS))
            if args[-1].startswith("{"):
                args[-1] = "fields=" + args[-1]
        if self.list_form:
            args.append("list_form=True")
        if self.force_keys is not None:
            args.append(f"force_keys={dict(self.force_keys)!r}")
        return ", ".join(args)

    def describe(self) -> str:
        text = "one row per " + (", ".join(self.keys) or "(everything)")
        if self.fields:
            text += " with " + ", ".join(f"{n} = {a.describe()}" for n, a in self.fields)
        return text


_GROUP_KEYWORDS = frozenset({"fields", "list_form", "force_keys"})


@register
@step_class
class Reduce(Step):
    """``{"reduce": {"out": {...}}}`` (or the list form): all rows become one row."""

    op: ClassVar[str] = "reduce"
    method: ClassVar[str] = "reduce"
    fields: tuple[tuple[str, Aggregator], ...]
    list_form: bool = False

    def __post_init__(self) -> None:
        _set(self, "fields", _aggregators(self.fields, "reduce(fields)"))

    def body(self) -> JSON:
        return _aggregators_json(self.fields, self.list_form)

    @classmethod
    def from_body(cls, body: object) -> Step:
        fields, list_form = _aggregators_from_json(body, "reduce(fields)")
        return cls(fields, list_form)

    def code_args(self) -> str:
        args = [_kwargs_code(self.fields, _GROUP_KEYWORDS)]
        if args[0].startswith("{"):
            args[0] = "fields=" + args[0]
        if self.list_form:
            args.append("list_form=True")
        return ", ".join(args)

    def describe(self) -> str:
        return "reduce all rows to one: " + ", ".join(
            f"{name} = {aggregator.describe()}" for name, aggregator in self.fields
        )


@register
@step_class
class Sort(Step):
    """``{"sort": ["field", "-other"]}``: sort by several keys, ``-`` for descending."""

    op: ClassVar[str] = "sort"
    method: ClassVar[str] = "sort"
    keys: tuple[str, ...]

    def __post_init__(self) -> None:
        keys = (self.keys,) if isinstance(self.keys, str) else self.keys
        if not isinstance(keys, Sequence) or not keys:
            raise PipelineError(f"sort(keys): expected one or more field names, got {keys!r}")
        for key in keys:
            check_field_path(key[1:] if isinstance(key, str) and key[:1] in "-+" else key,
                             "sort(keys)")  # fmt: skip
        _set(self, "keys", tuple(keys))

    def body(self) -> JSON:
        return list(self.keys)

    def code_args(self) -> str:
        return ", ".join(repr(key) for key in self.keys)

    def describe(self) -> str:
        return "sort by " + ", ".join(
            f"{key[1:]} descending" if key.startswith("-") else key.lstrip("+") for key in self.keys
        )


@register
@step_class
class Limit(Step):
    """``{"limit": N}``: keep the first N rows."""

    op: ClassVar[str] = "limit"
    method: ClassVar[str] = "limit"
    n: int

    def __post_init__(self) -> None:
        _set(self, "n", integer(self.n, "limit(n)", minimum=1))

    def body(self) -> JSON:
        return self.n

    def code_args(self) -> str:
        return repr(self.n)

    def describe(self) -> str:
        return f"keep the first {self.n} rows"


@step_class
class _NoArgument(Step):
    """Operators written ``{"op": null}``."""

    def body(self) -> JSON:
        return None

    @classmethod
    def from_body(cls, body: object) -> Step:
        if body not in (None, {}):
            raise PipelineError(f"{cls.method}: takes no argument (null), got {body!r}")
        return cls()

    def code_args(self) -> str:
        return ""


@register
@step_class
class Count(_NoArgument):
    """``{"count": null}``: all rows become one row ``{"count": N}``."""

    op: ClassVar[str] = "count"
    method: ClassVar[str] = "count"

    def describe(self) -> str:
        return "count the rows (one row: count)"


@register
@step_class
class Cat(_NoArgument):
    """``{"cat": null}``: pass rows through unchanged (a placeholder in sub-pipelines)."""

    op: ClassVar[str] = "cat"
    method: ClassVar[str] = "cat"

    def describe(self) -> str:
        return "pass rows through unchanged"


# -- Pendo-specific operators ------------------------------------------------------------------
@register
@step_class
class Identified(Step):
    """``{"identified": "visitorId"}`` (``"!visitorId"`` keeps only anonymous visitors)."""

    op: ClassVar[str] = "identified"
    method: ClassVar[str] = "identified"
    field: str = "visitorId"

    def __post_init__(self) -> None:
        text = self.field
        check_field_path(text[1:] if isinstance(text, str) and text.startswith("!") else text,
                         "identified(field)")  # fmt: skip

    def body(self) -> JSON:
        return self.field

    def code_args(self) -> str:
        if self.field.startswith("!"):
            return f"{self.field[1:]!r}, anonymous=True"
        return repr(self.field)

    def describe(self) -> str:
        if self.field.startswith("!"):
            return f"keep only anonymous {self.field[1:]}s"
        return f"keep only identified {self.field}s"


def _targets(
    body: object, kinds: Sequence[str], where: str, *, value_check=check_field_path
) -> tuple[tuple[str, str, str], ...]:
    """``{"out": {"kind": "value"}, ...}`` as ``((out, kind, value), ...)``."""
    if not isinstance(body, Mapping) or not body:
        raise PipelineError(f"{where}: expected {{'<outField>': {{'<kind>': ...}}}}, got {body!r}")
    targets = []
    for out, spec in body.items():
        output_name(out, where)
        kind, value = single_key(spec, f"{where}[{out!r}]")
        if kind not in kinds:
            raise PipelineError(f"{where}[{out!r}]: {kind!r} is not one of {list(kinds)}")
        targets.append((out, kind, value_check(value, f"{where}[{out!r}].{kind}")))
    return tuple(targets)


def _targets_json(targets: tuple[tuple[str, str, str], ...]) -> JSON:
    return {out: {kind: value} for out, kind, value in targets}


def _targets_code(targets: tuple[tuple[str, str, str], ...]) -> str:
    (out, kind, value), *rest = targets
    if rest:  # several outputs in one step: only the raw JSON form says that
        return repr(_targets_json(targets))
    return f"{out!r}, {snake_case(kind)}={value!r}"


@step_class
class _TargetStep(Step):
    """Steps shaped ``{"outField": {"<kind>": "<value>"}}``."""

    kinds: ClassVar[tuple[str, ...]]
    check_value: ClassVar[Callable[[object, str], str]] = staticmethod(check_field_path)
    targets: tuple[tuple[str, str, str], ...]

    def __post_init__(self) -> None:
        body = self.targets
        if not isinstance(body, Mapping):
            body = _targets_json(body)
        targets = _targets(body, self.kinds, self.method, value_check=self.check_value)
        _set(self, "targets", targets)

    def body(self) -> JSON:
        return _targets_json(self.targets)

    def code_args(self) -> str:
        return _targets_code(self.targets)


@register
@step_class
class BulkExpand(_TargetStep):
    """``{"bulkExpand": {"out": {"visitor": "visitorId"}}}``: attach visitor/account metadata."""

    op: ClassVar[str] = "bulkExpand"
    method: ClassVar[str] = "bulk_expand"
    kinds: ClassVar[tuple[str, ...]] = ("visitor", "account")

    def describe(self) -> str:
        return "; ".join(
            f"attach {kind} metadata looked up by {value} as {out}"
            for out, kind, value in self.targets
        )


@register
@step_class
class Expand(_TargetStep):
    """``{"expand": {"out": {"page": "pageId"}}}``: attach a page/feature/... object."""

    op: ClassVar[str] = "expand"
    method: ClassVar[str] = "expand"
    kinds: ClassVar[tuple[str, ...]] = (
        "page", "feature", "trackType", "guide", "account", "visitor", "vocItem"
    )  # fmt: skip

    def describe(self) -> str:
        return "; ".join(
            f"attach the {kind} whose id is {value} as {out}" for out, kind, value in self.targets
        )


def _object_id(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise PipelineError(f"{where}: expected an object id string, got {value!r}")
    return value


@register
@step_class
class ItemSeen(_TargetStep):
    """``{"itemSeen": {"out": {"pageId": "<id>"}}}``: each visitor's use of one object."""

    op: ClassVar[str] = "itemSeen"
    method: ClassVar[str] = "item_seen"
    kinds: ClassVar[tuple[str, ...]] = ("pageId", "featureId", "trackTypeId")

    check_value: ClassVar[Callable[[object, str], str]] = staticmethod(_object_id)

    def describe(self) -> str:
        return "; ".join(
            f"add {out}.lastUsed and {out}.count for {kind} {value}"
            for out, kind, value in self.targets
        )


@register
@step_class
class Segment(Step):
    """``{"segment": {"id": "<segmentId>"}}``: keep rows whose visitor/account is in a segment.

    Other shapes (inline rules, reference 3.5, low confidence) are kept as given.
    """

    op: ClassVar[str] = "segment"
    method: ClassVar[str] = "segment"
    spec: JSON

    def __post_init__(self) -> None:
        spec = {"id": self.spec} if isinstance(self.spec, str) else self.spec
        if not isinstance(spec, Mapping) or not spec:
            raise PipelineError(f"segment(segment_id): expected a segment id, got {self.spec!r}")
        if "id" in spec:
            _object_id(spec["id"], "segment(segment_id)")
        _set(self, "spec", json_value(spec, "segment"))

    def body(self) -> JSON:
        return self.spec

    @classmethod
    def from_body(cls, body: object) -> Step:
        if not isinstance(body, Mapping):
            raise PipelineError(f"segment: expected {{'id': '<segmentId>'}}, got {body!r}")
        return cls(body)

    def code_args(self) -> str:
        if set(self.spec) == {"id"}:
            return repr(self.spec["id"])
        return repr(self.spec)

    def describe(self) -> str:
        return f"keep rows in segment {self.spec.get('id', self.spec)}"


@register
@step_class
class Useragent(Step):
    """``{"useragent": {"out": "userAgent"}}``: parse a user-agent string into an object."""

    op: ClassVar[str] = "useragent"
    method: ClassVar[str] = "useragent"
    targets: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        pairs = _pairs(self.targets, "useragent(out)")
        _set(self, "targets", tuple((o, check_field_path(i, "useragent(field)")) for o, i in pairs))

    def body(self) -> JSON:
        return dict(self.targets)

    def code_args(self) -> str:
        (out, source), *rest = self.targets
        return repr(dict(self.targets)) if rest else f"{out!r}, {source!r}"

    def describe(self) -> str:
        return "; ".join(f"parse {source} into {out}" for out, source in self.targets)


# -- advanced operators ------------------------------------------------------------------------
@register
@step_class
class Unwind(Step):
    """``{"unwind": {"field": "list", "index": "i", "keepEmpty": true, "prefix": false}}``."""

    op: ClassVar[str] = "unwind"
    method: ClassVar[str] = "unwind"
    field: str
    index: str | None = None
    keep_empty: bool | None = None
    prefix: bool | None = None

    def __post_init__(self) -> None:
        check_field_path(self.field, "unwind(field)")
        if self.index is not None:
            check_field_path(self.index, "unwind(index)")
        for name in ("keep_empty", "prefix"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise PipelineError(f"unwind({name}): expected True or False, got {value!r}")

    def body(self) -> JSON:
        body: dict = {"field": self.field}
        for key, value in (("index", self.index), ("keepEmpty", self.keep_empty),
                           ("prefix", self.prefix)):  # fmt: skip
            if value is not None:
                body[key] = value
        return body

    @classmethod
    def from_body(cls, body: object) -> Step:
        if not isinstance(body, Mapping) or set(body) - {"field", "index", "keepEmpty", "prefix"}:
            raise PipelineError(f"unwind: expected {{'field': ..., 'index'?, ...}}, got {body!r}")
        return cls(body.get("field"), body.get("index"), body.get("keepEmpty"), body.get("prefix"))

    def code_args(self) -> str:
        args = [repr(self.field)]
        for name in ("index", "keep_empty", "prefix"):
            if getattr(self, name) is not None:
                args.append(f"{name}={getattr(self, name)!r}")
        return ", ".join(args)

    def describe(self) -> str:
        text = f"one row per element of {self.field}"
        if self.index:
            text += f" (position in {self.index})"
        return text + (", keeping rows with an empty list" if self.keep_empty else "")


_COMPARATORS = ("<", "<=", ">", ">=", "==", "!=")


def _switch_cases(cases: object, where: str) -> tuple[JSON, ...]:
    if not isinstance(cases, Sequence) or isinstance(cases, str) or not cases:
        raise PipelineError(f"{where}: expected a non-empty list of cases, got {cases!r}")
    checked = []
    for index, case in enumerate(cases):
        here = f"{where}[{index}]"
        if not isinstance(case, Mapping) or "value" not in case:
            raise PipelineError(f"{here}: a case needs a 'value', got {case!r}")
        comparators = set(case) - {"value"}
        unknown = comparators - set(_COMPARATORS)
        if unknown or not comparators:
            raise PipelineError(
                f"{here}: conditions must be among {list(_COMPARATORS)}, got {sorted(comparators)}"
            )
        checked.append(json_value(case, here))
    return tuple(checked)


@register
@step_class
class Switch(Step):
    """``{"switch": {"out": {"input": [{"value": "small", "<": 10}, ...]}}}``.

    ``out`` gets the ``value`` of the first case whose conditions all hold for ``input``; rows
    matching no case are dropped (reference 3.5).
    """

    op: ClassVar[str] = "switch"
    method: ClassVar[str] = "switch"
    targets: tuple[tuple[str, str, tuple[JSON, ...]], ...]

    def __post_init__(self) -> None:
        body = self.targets
        if not isinstance(body, Mapping):
            body = {out: {source: list(cases)} for out, source, cases in body}
        if not body:
            raise PipelineError("switch: needs an output field")
        targets = []
        for out, spec in body.items():
            output_name(out, "switch(out)")
            source, cases = single_key(spec, f"switch[{out!r}]")
            check_field_path(source, "switch(field)")
            targets.append((out, source, _switch_cases(cases, "switch(cases)")))
        _set(self, "targets", tuple(targets))

    def body(self) -> JSON:
        return {out: {source: list(cases)} for out, source, cases in self.targets}

    @classmethod
    def from_body(cls, body: object) -> Step:
        if not isinstance(body, Mapping):
            raise PipelineError(f"switch: expected {{'out': {{'field': [cases]}}}}, got {body!r}")
        return cls(body)

    def code_args(self) -> str:
        (out, source, cases), *rest = self.targets
        return repr(self.body()) if rest else f"{out!r}, {source!r}, {list(cases)!r}"

    def describe(self) -> str:
        return "; ".join(
            f"set {out} from {len(cases)} cases on {source} (rows matching none are dropped)"
            for out, source, cases in self.targets
        )


def _branches(value: object, where: str, *, need_source: bool) -> tuple[tuple[Step, ...], ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise PipelineError(f"{where}: expected at least one sub-pipeline, got {value!r}")
    branches = []
    for index, branch in enumerate(value):
        steps = _steps(branch, f"{where}[{index}]")
        if not steps:
            raise PipelineError(f"{where}[{index}]: empty sub-pipeline; use cat() to pass rows")
        if need_source and steps[0].op != "source":
            raise PipelineError(f"{where}[{index}]: must start with a source")
        branches.append(steps)
    return tuple(branches)


def _branches_code(branches: tuple[tuple[Step, ...], ...]) -> str:
    return ", ".join(chain_code(branch) for branch in branches)


@register
@step_class
class Fork(Step):
    """``{"fork": [[...], [...]]}``: every row goes through every branch; outputs concatenate."""

    op: ClassVar[str] = "fork"
    method: ClassVar[str] = "fork"
    branches: tuple[tuple[Step, ...], ...]

    def __post_init__(self) -> None:
        _set(self, "branches", _branches(self.branches, "fork(branches)", need_source=False))

    def body(self) -> JSON:
        return [[step.to_json() for step in branch] for branch in self.branches]

    def code_args(self) -> str:
        return _branches_code(self.branches)

    def describe(self) -> str:
        return f"send every row through {len(self.branches)} branches and concatenate them"


@register
@step_class
class Spawn(Step):
    """``{"spawn": [[{"source": ...}, ...], ...]}``: run independent pipelines, concatenate."""

    op: ClassVar[str] = "spawn"
    method: ClassVar[str] = "spawn"
    pipelines: tuple[tuple[Step, ...], ...]

    def __post_init__(self) -> None:
        _set(self, "pipelines", _branches(self.pipelines, "spawn(pipelines)", need_source=True))

    def body(self) -> JSON:
        return [[step.to_json() for step in branch] for branch in self.pipelines]

    def code_args(self) -> str:
        return _branches_code(self.pipelines)

    def describe(self) -> str:
        return f"run {len(self.pipelines)} independent pipelines and concatenate their rows"


@register
@step_class
class Join(Step):
    """``{"join": {"fields": [...], "width": N}}``: merge each N rows sharing the key fields."""

    op: ClassVar[str] = "join"
    method: ClassVar[str] = "join"
    fields: tuple[str, ...]
    width: int = 2

    def __post_init__(self) -> None:
        fields = _fields(self.fields, "join(fields)")
        if not fields:
            raise PipelineError("join(fields): needs at least one key field")
        _set(self, "fields", fields)
        _set(self, "width", integer(self.width, "join(width)", minimum=2))

    def body(self) -> JSON:
        return {"fields": list(self.fields), "width": self.width}

    @classmethod
    def from_body(cls, body: object) -> Step:
        if not isinstance(body, Mapping) or set(body) != {"fields", "width"}:
            raise PipelineError(f"join: expected {{'fields': [...], 'width': N}}, got {body!r}")
        return cls(body["fields"], body["width"])

    def code_args(self) -> str:
        return ", ".join([*(repr(f) for f in self.fields), f"width={self.width}"])

    def describe(self) -> str:
        return f"merge every {self.width} rows sharing {', '.join(self.fields)} into one"


@register
@step_class
class Merge(Step):
    """``{"merge": {"fields": [...], "mappings": {...}, "pipeline": [...]}}``.

    Runs ``pipeline`` and copies mapped fields of the inner row with the same keys into each
    row; without ``mappings`` every inner field is copied.
    """

    op: ClassVar[str] = "merge"
    method: ClassVar[str] = "merge"
    fields: tuple[str, ...]
    pipeline: tuple[Step, ...]
    mappings: tuple[tuple[str, str], ...] | None = None

    def __post_init__(self) -> None:
        fields = _fields(self.fields, "merge(fields)")
        if not fields:
            raise PipelineError("merge(fields): needs at least one key field")
        _set(self, "fields", fields)
        steps = _steps(self.pipeline, "merge(pipeline)")
        if not steps:
            raise PipelineError("merge(pipeline): the inner pipeline is empty")
        _set(self, "pipeline", steps)
        if self.mappings is not None:
            # ``{}`` is meaningful (copy nothing), so it is kept apart from None (copy all).
            items = self.mappings.items() if isinstance(self.mappings, Mapping) else self.mappings
            _set(self, "mappings", tuple(
                (output_name(out, "merge(mappings)"), check_field_path(inner, "merge(mappings)"))
                for out, inner in items
            ))  # fmt: skip

    def body(self) -> JSON:
        body: dict = {"fields": list(self.fields)}
        if self.mappings is not None:
            body["mappings"] = dict(self.mappings)
        body["pipeline"] = [step.to_json() for step in self.pipeline]
        return body

    @classmethod
    def from_body(cls, body: object) -> Step:
        if not isinstance(body, Mapping) or set(body) - {"fields", "mappings", "pipeline"}:
            raise PipelineError(f"merge: expected fields, mappings and pipeline, got {body!r}")
        if "pipeline" not in body:
            raise PipelineError("merge(pipeline): missing")
        return cls(body.get("fields", ()), body["pipeline"], body.get("mappings"))

    def code_args(self) -> str:
        args = [repr(list(self.fields)), chain_code(self.pipeline)]
        if self.mappings is not None:
            args.append(f"mappings={dict(self.mappings)!r}")
        return ", ".join(args)

    def describe(self) -> str:
        copied = (
            "all fields" if self.mappings is None
            else ", ".join(f"{inner} as {out}" for out, inner in self.mappings) or "nothing"
        )  # fmt: skip
        return (
            f"merge in {copied} from an inner pipeline of {len(self.pipeline)} steps, "
            f"matched on {', '.join(self.fields)}"
        )


#: Operators seen only in real report definitions and third-party notes (reference 3.5,
#: "unofficial"): their shapes are not documented, so they are carried verbatim.
UNOFFICIAL_OPERATORS = frozenset(
    {"treeify", "unmarshal", "expandList", "pages", "features", "matchRules", "retention",
     "sessionReplays", "pes", "adoption", "growth", "stickiness"}
)  # fmt: skip


@step_class
class Unofficial(Step):
    """An operator of :data:`UNOFFICIAL_OPERATORS`, e.g. ``{"treeify": {...}}``, kept as given."""

    op: str
    argument: JSON = None
    method: ClassVar[str] = "unofficial"

    def __post_init__(self) -> None:
        if self.op not in UNOFFICIAL_OPERATORS:
            raise PipelineError(
                f"unofficial(op): {self.op!r} is not a known Pendo operator; "
                f"known unofficial ones: {sorted(UNOFFICIAL_OPERATORS)}"
            )
        _set(self, "argument", json_value(self.argument, f"unofficial({self.op})"))

    def body(self) -> JSON:
        return self.argument

    def code_args(self) -> str:
        return f"{self.op!r}, {self.argument!r}"

    def describe(self) -> str:
        return f"{self.op} (unofficial operator, passed as given) {self.argument!r}"
