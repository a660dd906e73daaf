"""Advanced operators: unwind, switch, fork, spawn, join, merge, and the unofficial ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pendo_nb.errors import PipelineError
from pendo_nb.pipeline._values import (
    JSON,
    integer,
    json_value,
    output_name,
    single_key,
)
from pendo_nb.pipeline.parse import check_field_path
from pendo_nb.pipeline.steps.base import (
    Step,
    chain_code,
    field_list,
    nested_steps,
    register,
    set_field,
    step_class,
)


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
        body: dict[str, Any] = {"field": self.field}
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
        body: object = self.targets  # as given: a mapping, or triples read back from a step
        if not isinstance(body, Mapping):
            body = {out: {source: list(cases)} for out, source, cases in self.targets}
        if not body:
            raise PipelineError("switch: needs an output field")
        targets = []
        for out, spec in body.items():
            output_name(out, "switch(out)")
            source, cases = single_key(spec, f"switch[{out!r}]")
            check_field_path(source, "switch(field)")
            targets.append((out, source, _switch_cases(cases, "switch(cases)")))
        set_field(self, "targets", tuple(targets))

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
        steps = nested_steps(branch, f"{where}[{index}]")
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
        set_field(self, "branches", _branches(self.branches, "fork(branches)", need_source=False))

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
        set_field(
            self, "pipelines", _branches(self.pipelines, "spawn(pipelines)", need_source=True)
        )

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
        fields = field_list(self.fields, "join(fields)")
        if not fields:
            raise PipelineError("join(fields): needs at least one key field")
        set_field(self, "fields", fields)
        set_field(self, "width", integer(self.width, "join(width)", minimum=2))

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
        fields = field_list(self.fields, "merge(fields)")
        if not fields:
            raise PipelineError("merge(fields): needs at least one key field")
        set_field(self, "fields", fields)
        steps = nested_steps(self.pipeline, "merge(pipeline)")
        if not steps:
            raise PipelineError("merge(pipeline): the inner pipeline is empty")
        set_field(self, "pipeline", steps)
        if self.mappings is not None:
            # ``{}`` is meaningful (copy nothing), so it is kept apart from None (copy all).
            items = self.mappings.items() if isinstance(self.mappings, Mapping) else self.mappings
            set_field(self, "mappings", tuple(
                (output_name(out, "merge(mappings)"), check_field_path(inner, "merge(mappings)"))
                for out, inner in items
            ))  # fmt: skip

    def body(self) -> JSON:
        body: dict[str, Any] = {"fields": list(self.fields)}
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
