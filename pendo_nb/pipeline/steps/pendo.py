"""Pendo-specific operators: identified, bulkExpand, expand, itemSeen, segment, useragent."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from pendo_nb.errors import PipelineError
from pendo_nb.pipeline._values import (
    JSON,
    json_value,
    output_name,
    single_key,
    snake_case,
)
from pendo_nb.pipeline.parse import check_field_path
from pendo_nb.pipeline.steps.base import Step, name_pairs, register, set_field, step_class


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
    body: object,
    kinds: Sequence[str],
    where: str,
    *,
    value_check: Callable[[object, str], str] = check_field_path,
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
        body: object = self.targets  # as given: a mapping, or pairs read back from a step
        if not isinstance(body, Mapping):
            body = _targets_json(self.targets)
        targets = _targets(body, self.kinds, self.method, value_check=type(self).check_value)
        set_field(self, "targets", targets)

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
    spec: dict[str, JSON]

    def __post_init__(self) -> None:
        given: object = self.spec  # a segment id, or a segment object
        spec = {"id": given} if isinstance(given, str) else given
        if not isinstance(spec, Mapping) or not spec:
            raise PipelineError(f"segment(segment_id): expected a segment id, got {self.spec!r}")
        if "id" in spec:
            _object_id(spec["id"], "segment(segment_id)")
        set_field(self, "spec", json_value(spec, "segment"))

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
        pairs = name_pairs(self.targets, "useragent(out)")
        set_field(
            self, "targets", tuple((o, check_field_path(i, "useragent(field)")) for o, i in pairs)
        )

    def body(self) -> JSON:
        return dict(self.targets)

    def code_args(self) -> str:
        (out, source), *rest = self.targets
        return repr(dict(self.targets)) if rest else f"{out!r}, {source!r}"

    def describe(self) -> str:
        return "; ".join(f"parse {source} into {out}" for out, source in self.targets)
