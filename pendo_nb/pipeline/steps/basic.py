"""The basic operators: filter, select, eval, set, group, reduce, sort, limit, count, cat."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pendo_nb.errors import PipelineError
from pendo_nb.pipeline._values import (
    JSON,
    integer,
    json_value,
    single_key,
)
from pendo_nb.pipeline.aggregators import Aggregator, as_aggregator
from pendo_nb.pipeline.expr import expression_text
from pendo_nb.pipeline.parse import check_field_path
from pendo_nb.pipeline.steps.base import (
    Step,
    check_writable,
    field_list,
    kwargs_code,
    name_pairs,
    named_expressions,
    register,
    set_field,
    step_class,
)


@register
@step_class
class Filter(Step):
    """``{"filter": "<expression>"}``: keep rows where the expression is true."""

    op: ClassVar[str] = "filter"
    method: ClassVar[str] = "filter"
    expression: str

    def __post_init__(self) -> None:
        set_field(self, "expression", expression_text(self.expression, "filter(expression)"))

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
        set_field(self, "fields", named_expressions(self.fields, f"{self.method}(fields)"))

    def body(self) -> JSON:
        return dict(self.fields)

    def code_args(self) -> str:
        return kwargs_code(self.fields)

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
        fields = named_expressions(self.fields, "eval(fields)")
        check_writable(fields, "eval(fields)")
        set_field(self, "fields", fields)

    def body(self) -> JSON:
        return dict(self.fields)

    def code_args(self) -> str:
        return kwargs_code(self.fields)

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
        pairs = name_pairs(self.values, "set(values)")
        check_writable(pairs, "set(values)")
        set_field(
            self, "values", tuple((n, json_value(v, f"set(values)[{n!r}]")) for n, v in pairs)
        )

    def body(self) -> JSON:
        return dict(self.values)

    def code_args(self) -> str:
        return kwargs_code(self.values)

    def describe(self) -> str:
        return "set " + ", ".join(f"{name} = {value!r}" for name, value in self.values)


def _aggregators(value: object, where: str) -> tuple[tuple[str, Aggregator], ...]:
    return tuple(
        (name, as_aggregator(item, f"{where}[{name!r}]")) for name, item in name_pairs(value, where)
    )


def _aggregators_from_json(body: object, where: str) -> tuple[tuple[tuple[Any, ...], ...], bool]:
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
        set_field(self, "keys", field_list(self.keys, "group(keys)"))
        if self.fields is not None:
            set_field(self, "fields", _aggregators(self.fields, "group(fields)"))
        else:
            set_field(self, "list_form", False)  # no fields: nothing is written in either form
        if self.force_keys is not None:
            set_field(self, "force_keys", named_expressions(self.force_keys, "group(force_keys)"))

    def body(self) -> JSON:
        body: dict[str, Any] = {"group": list(self.keys)}
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
            args.append(kwargs_code(self.fields, _GROUP_KEYWORDS))
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
        set_field(self, "fields", _aggregators(self.fields, "reduce(fields)"))

    def body(self) -> JSON:
        return _aggregators_json(self.fields, self.list_form)

    @classmethod
    def from_body(cls, body: object) -> Step:
        fields, list_form = _aggregators_from_json(body, "reduce(fields)")
        return cls(fields, list_form)

    def code_args(self) -> str:
        args = [kwargs_code(self.fields, _GROUP_KEYWORDS)]
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
        set_field(self, "keys", tuple(keys))

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
        set_field(self, "n", integer(self.n, "limit(n)", minimum=1))

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
