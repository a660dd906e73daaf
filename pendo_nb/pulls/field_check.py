"""Field names checked against what the rows hold, so a misspelt field is not a silent null.

Pendo reads a field the rows do not hold as null: ``group("visitorID")`` on events gives one row
keyed None, ``sum("numEvent")`` gives 0, and nothing says why. :func:`field_problems` follows a
pipeline's steps (its JSON, so built pipelines and bodies from anywhere are read alike) and
tells, step by step, which fields the rows hold:

* a source's rows: the documented fields of the event sources
  (:data:`~pendo_nb.frames.field_types.EVENT_SOURCE_FIELDS`, plus the ``parameters`` and
  ``properties`` objects and the fields reference 4.5 rates L, which real rows may carry), and
  ``visitorId``/``accountId`` and ``metadata`` for visitors and accounts. Other sources' rows
  are not listed anywhere, so nothing is checked on them;
* the fields ``eval``, ``set``, ``useragent``, ``switch``, ``unwind``, ``expand``... add, and the
  only fields left after ``select``, ``group``, ``reduce`` and ``count``;
* nothing certain after steps whose output is not known here (``fork``, ``spawn``, a ``merge``
  copying every inner field, unofficial operators): checks stop there.

A field is known when it, one of its parents (``metadata.agent.email`` under ``metadata``: a
field's children are whatever its value holds) or one of its children is. A field missing from a
source's documented list *may* still exist (the list may lag behind Pendo): a
:class:`~pendo_nb.errors.FieldWarning`, when the builder adds the step. A field missing after a
``select``/``group``/``reduce``/``count`` cannot exist (:attr:`FieldProblem.certain`): the
builder warns too (so every body still reads, and every pipeline's code rebuilds it), and
``pn.aggregate`` refuses to send it.

Metadata fields need the subscription's schema (``metadata.custom.renewaldate`` on visitors or
accounts, ``account.custom.renewaldate`` after an ``expand`` of accounts): they are collected as
:class:`SchemaRead` and checked by :func:`schema_problems` where a client is at hand
(:func:`check_aggregation`, run by ``pn.aggregate``).
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from pendo_nb._checks import did_you_mean
from pendo_nb.errors import (
    FieldWarning,
    NotRecordedError,
    PendoAPIError,
    PendoConnectionError,
    PipelineError,
)
from pendo_nb.frames.field_types import (
    BUCKET_MS_FIELDS,
    GROUPED_SOURCES,
    event_source_fields,
)
from pendo_nb.http.connection import PendoConnection

__all__ = [
    "FieldProblem",
    "SchemaRead",
    "check_aggregation",
    "field_problems",
    "schema_problems",
    "warn_problems",
]

# Fields reference 4.5 lists for the grouped sources at low confidence (real rows may carry them,
# the sandbox does not write them), and the grouped rows' objects whose keys are the customer's.
_GROUPED_MAYBE = (
    "tabId", "country", "region", "rageClickCount", "errorClickCount", "deadClickCount",
    "uTurnCount", "recordingId", "recordingSessionId", "parameters", "properties",
)  # fmt: skip
_OBJECT_SOURCES = {"visitors": "visitor", "accounts": "account"}
# Steps that keep the rows' fields as they are.
_KEEPING = frozenset({"filter", "sort", "limit", "skip", "cat", "identified", "segment", "join"})

# A field read inside an expression: a dotted name not called as a function, outside strings.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`', re.DOTALL)
_REFERENCE = re.compile(
    r"(?<![\w$.\])])([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)(?!\s*[\w$(])"
)
_LITERALS = frozenset({"true", "false", "null"})
# Fields a "cannot exist" message lists at most (the close matches follow it anyway).
_LISTED = 12


def fields_read(expression: object) -> list[str]:
    """The field paths an expression reads, in order (``"a.b > c"`` -> ``["a.b", "c"]``)."""
    if not isinstance(expression, str):
        return []
    text = _STRING.sub(" 0 ", expression)
    found = (re.sub(r"\s+", "", match) for match in _REFERENCE.findall(text))
    return [path for path in dict.fromkeys(found) if path not in _LITERALS]


@dataclass(frozen=True)
class FieldProblem:
    """A field a step reads that the rows reaching it do not hold.

    ``step`` is the index of the top-level step it is in; ``where`` names the step and argument
    (``pipeline[2].group``); ``certain`` is True when the field cannot exist (the step before
    fixed the rows' fields), False when it is only missing from a documented list.
    """

    step: int
    where: str
    name: str
    message: str
    certain: bool


@dataclass(frozen=True)
class SchemaRead:
    """A metadata field a step reads, to be checked against the ``kind``'s schema.

    ``name`` is the whole path read, ``prefix`` the field holding the metadata groups
    (``metadata``, or an ``expand``'s output), so ``name`` is ``<prefix>.<group>.<field>...``.
    """

    step: int
    where: str
    name: str
    prefix: str
    kind: str


@dataclass
class _Rows:
    """What the rows reaching a step hold: ``known`` paths, and whether that list is complete."""

    known: set[str]
    complete: bool  # after select/group/reduce/count: nothing else can be there
    origin: str  # says where the list comes from, for messages
    schemas: dict[str, str] = field(default_factory=dict)  # prefix -> visitor/account

    def copy(self) -> _Rows:
        return _Rows(set(self.known), self.complete, self.origin, dict(self.schemas))

    def holds(self, path: str) -> bool:
        parts = path.split(".")
        if any(".".join(parts[:i]) in self.known for i in range(1, len(parts) + 1)):
            return True
        return any(known.startswith(path + ".") for known in self.known)

    def schema_of(self, path: str) -> str | None:
        """The field holding metadata groups that ``path`` is read from, unless a step wrote
        ``path`` (or a parent of it) itself."""
        prefix = next((p for p in self.schemas if path.startswith(p + ".")), None)
        if prefix is None:
            return None
        parts = path.split(".")
        written = {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & self.known
        return None if any(len(w) > len(prefix) for w in written) else prefix

    def write(self, name: str) -> None:
        """A step writes ``name``: it is held, and a schema's groups it replaces are gone."""
        self.known.add(name)
        for prefix in [p for p in self.schemas if p == name or p.startswith(name + ".")]:
            del self.schemas[prefix]


@dataclass
class _Analysis:
    problems: list[FieldProblem] = field(default_factory=list)
    schema_reads: list[SchemaRead] = field(default_factory=list)


def field_problems(steps: Sequence[Any]) -> tuple[list[FieldProblem], list[SchemaRead]]:
    """The fields ``steps`` read that their rows do not hold, and the metadata fields they read.

    ``steps`` is a pipeline's JSON list. Problems are given in step order; anything that is not
    a well-formed step is skipped (the builder and the server say what is wrong with it).
    """
    analysis = _Analysis()
    _follow(steps, None, analysis, "pipeline", None)
    return analysis.problems, analysis.schema_reads


def _follow(
    steps: Sequence[Any], rows: _Rows | None, analysis: _Analysis, where: str, top: int | None
) -> _Rows | None:
    """Walk ``steps`` from ``rows`` (None: unknown), noting problems; the rows after them."""
    for index, step in enumerate(steps):
        here = f"{where}[{index}]"
        step_index = index if top is None else top
        if not isinstance(step, Mapping):
            return None
        if "source" in step:
            rows = _source_rows(step)
            continue
        if len(step) != 1:
            return None
        ((op, spec),) = step.items()
        reader = _Reader(op, rows, analysis, f"{here}.{op}", step_index)
        rows = _STEP_RULES.get(op, _unknown_after)(spec, rows, reader)
    return rows


def _source_rows(step: Mapping[str, Any]) -> _Rows | None:
    source = step["source"]
    names = [name for name in source if name != "timeSeries"] if isinstance(source, Mapping) else []
    if len(names) != 1:
        return None
    name = names[0]
    if name in _OBJECT_SOURCES:
        kind = _OBJECT_SOURCES[name]
        return _Rows({f"{kind}Id", "metadata"}, False, f"{name} rows", {"metadata": kind})
    if name == "const" and isinstance(source[name], list):
        known = {key for row in source[name] if isinstance(row, Mapping) for key in row}
        return _Rows(known, True, "the inline rows")
    fields = event_source_fields([step])
    if not fields:
        return None  # a source whose rows no document lists
    known = set(fields)
    if name in GROUPED_SOURCES:
        known.update(_GROUPED_MAYBE)
        if not any(bucket in known for bucket in BUCKET_MS_FIELDS):
            known.update(BUCKET_MS_FIELDS)  # periods not read yet, or iterative: any bucket
    return _Rows(known, False, f"{name} rows")


class _Reader:
    """Checks the fields one step reads against the rows reaching it."""

    def __init__(
        self, op: str, rows: _Rows | None, analysis: _Analysis, where: str, step: int
    ) -> None:
        self.op = op
        self.rows = rows
        self.analysis = analysis
        self.where = where
        self.step = step

    def field(self, path: object, argument: str = "") -> None:
        if not isinstance(path, str) or self.rows is None or not path:
            return
        path = path.lstrip("-!")  # sort's "-" and identified's "!"
        where = f"{self.where}({argument})" if argument else self.where
        prefix = self.rows.schema_of(path)
        if prefix is not None:
            kind = self.rows.schemas[prefix]
            self.analysis.schema_reads.append(SchemaRead(self.step, where, path, prefix, kind))
            return
        if self.rows.holds(path):
            return
        rows = self.rows
        hint = did_you_mean(path, rows.known)
        if rows.complete:
            held = sorted(rows.known)
            listed = ", ".join(held[:_LISTED]) + (
                f" and {len(held) - _LISTED} more" if len(held) > _LISTED else ""
            )
            message = (
                f"{where}: field {path!r} cannot exist: the rows here hold only "
                f"{listed or 'no fields'} ({rows.origin}).{hint}"
            )
        else:
            message = (
                f"{where}: {rows.origin} have no field {path!r}, so Pendo reads it as null.{hint}"
            )
        self.analysis.problems.append(FieldProblem(self.step, where, path, message, rows.complete))

    def expression(self, text: object, argument: str = "") -> None:
        for path in fields_read(text):
            self.field(path, argument)

    def aggregators(self, spec: object) -> list[str]:
        """Check ``group.fields``/``reduce`` arguments; return the output names."""
        items: list[tuple[str, Any]] = []
        if isinstance(spec, Mapping):
            items = list(spec.items())
        elif isinstance(spec, list):
            items = [pair for item in spec if isinstance(item, Mapping) for pair in item.items()]
        for name, aggregator in items:
            if not isinstance(aggregator, Mapping) or len(aggregator) != 1:
                continue
            ((function, argument),) = aggregator.items()
            if function == "count":
                paths = argument if isinstance(argument, list) else [argument]
                for path in paths:
                    self.field(path, name)
            elif function in ("countIf", "listIf", "percentiles") and isinstance(argument, Mapping):
                self.field(argument.get("count"), name)
                for key in ("if", "list", "field"):
                    self.expression(argument.get(key), name)
            elif isinstance(argument, str):
                self.expression(argument, name)
        return [name for name, _ in items]


# -- what each step reads and what its rows hold after it ------------------------------------

_Rule = Callable[[Any, "_Rows | None", _Reader], "_Rows | None"]


def _unknown_after(spec: Any, rows: _Rows | None, reader: _Reader) -> _Rows | None:
    return None  # fork, spawn, unofficial operators...: what comes out is not known here


def _keeping(spec: Any, rows: _Rows | None, reader: _Reader) -> _Rows | None:
    """filter, sort, identified, join...: read fields, keep the rows' fields."""
    op = reader.op
    if op == "filter":
        reader.expression(spec)
    elif op == "sort" and isinstance(spec, list):
        for key in spec:
            reader.field(key)
    elif op == "identified":
        reader.field(spec)
    elif op == "join" and isinstance(spec, Mapping):
        for key in spec.get("fields") or []:
            reader.field(key)
    return rows


def _computed(
    rows: _Rows | None, names: Iterable[object], *, replace: bool, origin: str
) -> _Rows | None:
    """The rows after a step that writes ``names``, keeping nothing else when ``replace``
    (unknown rows stay unknown unless replaced)."""
    written = [name for name in names if isinstance(name, str)]
    if replace:
        return _Rows(set(written), True, origin)
    if rows is None:
        return None
    after = rows.copy()
    for name in written:
        after.write(name)
    return after


def _select(spec: Any, rows: _Rows | None, reader: _Reader) -> _Rows | None:
    if not isinstance(spec, Mapping):
        return None
    for name, expression in spec.items():
        reader.expression(expression, name)
    return _computed(rows, spec, replace=True, origin=f"after {reader.where}")


def _eval(spec: Any, rows: _Rows | None, reader: _Reader) -> _Rows | None:
    if not isinstance(spec, Mapping):
        return None
    if reader.op == "eval":  # set writes constants
        for name, expression in spec.items():
            reader.expression(expression, name)
    return None if rows is None else _computed(rows, spec, replace=False, origin="")


def _group(spec: Any, rows: _Rows | None, reader: _Reader) -> _Rows | None:
    if not isinstance(spec, Mapping):
        return None
    keys = [key for key in spec.get("group") or [] if isinstance(key, str)]
    for key in keys:
        reader.field(key, "keys")
    outputs = reader.aggregators(spec.get("fields"))
    for name, expression in (spec.get("forceKeys") or {}).items():
        reader.expression(expression, f"forceKeys.{name}")
    return _computed(rows, [*keys, *outputs], replace=True, origin=f"after {reader.where}")


def _reduce(spec: Any, rows: _Rows | None, reader: _Reader) -> _Rows | None:
    outputs = reader.aggregators(spec)
    return _computed(rows, outputs, replace=True, origin=f"after {reader.where}")


def _count(spec: Any, rows: _Rows | None, reader: _Reader) -> _Rows | None:
    return _computed(rows, ["count"], replace=True, origin=f"after {reader.where}")


def _targets(spec: Any, rows: _Rows | None, reader: _Reader) -> _Rows | None:
    """expand, bulkExpand, itemSeen, useragent, switch: ``{out: ...}`` adds ``out``."""
    if not isinstance(spec, Mapping):
        return None
    op = reader.op
    after = None if rows is None else rows.copy()
    for out, target in spec.items():
        kind = None
        if op == "useragent":
            reader.field(target, out)
        elif isinstance(target, Mapping) and len(target) == 1 and op != "itemSeen":
            ((kind, value),) = target.items()
            reader.field(kind if op == "switch" else value, out)
        if after is not None:
            after.write(out)
            if op in ("expand", "bulkExpand") and kind in _KINDS:
                after.schemas[out] = kind  # the visitor's/account's metadata groups
    return after


_KINDS = ("visitor", "account")


def _unwind(spec: Any, rows: _Rows | None, reader: _Reader) -> _Rows | None:
    if not isinstance(spec, Mapping):
        return None
    reader.field(spec.get("field"), "field")
    return _computed(rows, [spec.get("index")], replace=False, origin="")  # the element: held


def _merge(spec: Any, rows: _Rows | None, reader: _Reader) -> _Rows | None:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("pipeline"), list):
        return None
    for key in spec.get("fields") or []:
        reader.field(key, "fields")
    inner = _follow(
        spec["pipeline"], None, reader.analysis, f"{reader.where}.pipeline", reader.step
    )
    mappings = spec.get("mappings")
    if not isinstance(mappings, Mapping):
        return None  # every inner field is copied: which ones is not known here
    inner_reader = _Reader("merge", inner, reader.analysis, f"{reader.where}.mappings", reader.step)
    for out, inner_field in mappings.items():
        inner_reader.field(inner_field, out)
    return _computed(rows, mappings, replace=False, origin="")


def _branches(spec: Any, rows: _Rows | None, reader: _Reader) -> _Rows | None:
    """fork: each branch from the incoming rows; spawn: each pipeline from its own source."""
    if not isinstance(spec, list):
        return None
    op = reader.op
    for number, branch in enumerate(spec):
        if isinstance(branch, list):
            start = rows.copy() if rows is not None and op == "fork" else None
            _follow(branch, start, reader.analysis, f"{reader.where}[{number}]", reader.step)
    return None


_STEP_RULES: dict[str, _Rule] = {
    **{op: _keeping for op in _KEEPING},
    "select": _select,
    "eval": _eval,
    "set": _eval,
    "group": _group,
    "reduce": _reduce,
    "count": _count,
    "expand": _targets,
    "bulkExpand": _targets,
    "itemSeen": _targets,
    "useragent": _targets,
    "switch": _targets,
    "unwind": _unwind,
    "merge": _merge,
    "fork": _branches,
    "spawn": _branches,
}


# -- the metadata schema ------------------------------------------------------------------------

_PER_APP_GROUP = re.compile(r"(?P<group>.+?)__\d+")


def schema_problems(
    reads: Sequence[SchemaRead], schemas: Mapping[str, Mapping[str, Any]]
) -> list[FieldProblem]:
    """The metadata fields read that the kind's schema does not hold (``schemas``: kind ->
    ``{group: {field: definition}}``; kinds without a schema are not checked).

    ``auto__<appId>`` groups (per-app copies of ``auto``) are checked against ``auto``.
    """
    problems = []
    for read in reads:
        schema = schemas.get(read.kind)
        parts = read.name[len(read.prefix) + 1 :].split(".")
        if schema is None or not parts[0]:
            continue
        per_app = _PER_APP_GROUP.fullmatch(parts[0])
        group = per_app["group"] if per_app and per_app["group"] in schema else parts[0]
        fields = schema.get(group)
        if isinstance(fields, Mapping) and (len(parts) == 1 or parts[1] in fields):
            continue
        if isinstance(fields, Mapping):  # the group exists: close field names in it
            hint = did_you_mean(parts[1], fields, f"{read.prefix}.{parts[0]}.".__add__)
        else:
            groups = [name for name, fields in schema.items() if isinstance(fields, Mapping)]
            hint = did_you_mean(parts[0], groups, _in_group(read.prefix, parts[1:]))
        message = (
            f"{read.where}: the {read.kind} metadata schema has no field {read.name!r}, so Pendo "
            f"reads it as null.{hint}"
        )
        problems.append(FieldProblem(read.step, read.where, read.name, message, False))
    return problems


def _in_group(prefix: str, rest: list[str]) -> Callable[[str], str]:
    """Writes a group name as the path read with that group instead."""
    return lambda group: ".".join([prefix, group, *rest])


def warn_problems(problems: Iterable[FieldProblem]) -> None:
    """One :class:`~pendo_nb.errors.FieldWarning` per problem, shown at the caller's line."""
    for problem in problems:
        warnings.warn(problem.message, FieldWarning, stacklevel=_caller_level())


_PACKAGE = str(Path(__file__).resolve().parent.parent)


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside pendo_nb: the user's cell or script."""
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level


def check_aggregation(connection: PendoConnection, steps: Sequence[Any], *, built: bool) -> None:
    """Check the fields an aggregation reads before it is sent.

    A field that cannot exist (after a ``select``, ``group``... that did not write it) raises
    :class:`~pendo_nb.errors.PipelineError`: its answer could only be wrong. Metadata fields are
    checked against the subscription's schemas (fetched once per client; a schema that cannot
    be read is skipped, the frame's typing says so already) and the other fields against the
    sources' documented ones, with a :class:`~pendo_nb.errors.FieldWarning` each; for a
    ``built`` pipeline only the metadata fields, since building it warned about the others.
    """
    problems, reads = field_problems(steps)
    certain = [problem for problem in problems if problem.certain]
    if certain:
        raise PipelineError("\n".join(problem.message for problem in certain))
    schemas: dict[str, Mapping[str, Any]] = {}
    for kind in dict.fromkeys(read.kind for read in reads):
        try:
            schemas[kind] = connection.metadata_schema(kind)
        except (PendoAPIError, PendoConnectionError, NotRecordedError):
            continue  # a replayed snapshot may not hold it
    found = schema_problems(reads, schemas)
    if not built:
        found = sorted([*problems, *found], key=lambda problem: problem.step)
    warn_problems(found)
