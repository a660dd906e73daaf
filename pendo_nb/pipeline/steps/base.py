"""What every step shares: the ``Step`` base, the operator registry, JSON reading and code.

Each step checks and normalises its arguments when it is made (so a bad argument fails where the
builder method was called, naming the method and argument), writes its JSON with ``to_json()``,
reads it back with ``from_body()``, and describes itself for ``explain()`` and ``to_code()``.
``steps_from_json`` reads a list of steps; unknown operators (including ``skip``, which Pendo
does not document) are refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar

from pendo_nb.errors import PipelineError
from pendo_nb.pipeline._values import (
    JSON,
    canonical_bytes,
    json_value,
    output_name,
    python_name,
    single_key,
)
from pendo_nb.pipeline.aggregators import Aggregator
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

    if TYPE_CHECKING:
        # A step is made from the builder method's arguments as the user wrote them (a mapping,
        # an Expr, a Pipeline...), which its __post_init__ checks and normalises into the
        # fields' declared types: the generated __init__ takes those raw values.
        def __init__(self, *args: object, **kwargs: object) -> None: ...

    def body(self) -> JSON:
        """The value under the operator key."""
        raise NotImplementedError

    def to_json(self) -> dict[str, JSON]:
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


_S = TypeVar("_S", bound=type[Step])


def step_class(cls: _S) -> _S:
    """``@dataclass(frozen=True)`` that keeps ``Step.__hash__`` (dataclass would replace it)."""
    dataclass(frozen=True)(cls)  # in place: the class itself becomes the dataclass
    cls.__hash__ = Step.__hash__  # type: ignore[method-assign]  # restoring the base's hash
    return cls


def set_field(step: Step, name: str, value: object) -> None:
    # Normalising in __post_init__ of a frozen dataclass (the instance is not shared yet).
    object.__setattr__(step, name, value)


# -- helpers shared by several steps ---------------------------------------------------------------
def name_pairs(value: object, where: str) -> tuple[tuple[str, object], ...]:
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


def check_writable(pairs: Sequence[tuple[str, object]], where: str) -> None:
    """Refuse writes to the period fields (``day``, ``day.x``...), which Pendo keeps read-only."""
    for name, _ in pairs:
        if name.split(".")[0] in READ_ONLY_FIELDS:
            raise PipelineError(
                f"{where}[{name!r}]: {name!r} is read-only in Pendo; "
                "write to another name, e.g. dayStart"
            )


def named_expressions(value: object, where: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, expression_text(item, f"{where}[{name!r}]"))
        for name, item in name_pairs(value, where)
    )


def field_list(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Sequence):
        raise PipelineError(f"{where}: expected a list of field names, got {value!r}")
    return tuple(check_field_path(item, where) for item in value)


def kwargs_code(pairs: Sequence[tuple[str, object]], reserved: frozenset[str] = frozenset()) -> str:
    """``a="x", b="y"``, or a dict literal first when a name is not a valid keyword argument."""
    if all(python_name(name) and name not in reserved for name, _ in pairs):
        return ", ".join(f"{name}={value_code(value)}" for name, value in pairs)
    return "{" + ", ".join(f"{name!r}: {value_code(value)}" for name, value in pairs) + "}"


def value_code(value: object) -> str:
    return value.to_code() if isinstance(value, Aggregator) else repr(value)


def nested_steps(value: object, where: str) -> tuple[Step, ...]:
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


#: Operators seen only in real report definitions and third-party notes (reference 3.5,
#: "unofficial"): their shapes are not documented, so they are carried verbatim.
UNOFFICIAL_OPERATORS = frozenset(
    {"treeify", "unmarshal", "expandList", "pages", "features", "matchRules", "retention",
     "sessionReplays", "pes", "adoption", "growth", "stickiness"}
)  # fmt: skip


@step_class
class Unofficial(Step):
    """An operator of :data:`UNOFFICIAL_OPERATORS`, e.g. ``{"treeify": {...}}``, kept as given."""

    op: str  # type: ignore[misc]  # each unofficial step carries its own operator
    argument: JSON = None
    method: ClassVar[str] = "unofficial"

    def __post_init__(self) -> None:
        if self.op not in UNOFFICIAL_OPERATORS:
            raise PipelineError(
                f"unofficial(op): {self.op!r} is not a known Pendo operator; "
                f"known unofficial ones: {sorted(UNOFFICIAL_OPERATORS)}"
            )
        set_field(self, "argument", json_value(self.argument, f"unofficial({self.op})"))

    def body(self) -> JSON:
        return self.argument

    def code_args(self) -> str:
        return f"{self.op!r}, {self.argument!r}"

    def describe(self) -> str:
        return f"{self.op} (unofficial operator, passed as given) {self.argument!r}"
