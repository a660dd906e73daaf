"""Compiling a pipeline: each step checked and turned into a function before anything runs.

A pipeline is compiled before anything runs, so a mistake in step 7 is reported without reading a
single event, and each step's arguments (expressions, aggregators, time series) are parsed once.
The compiler looks each step type up in :data:`OPERATORS`. The steps that hold pipelines of their
own (``fork``, ``spawn``, ``merge``) are here too: compiling them compiles their pipelines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .errors import AggregationError
from .operators import grouping, lookups, row_steps
from .paths import get_path, key_reader
from .rows import Rows, as_records, write_path
from .run_state import RunState, StepEnv, StepFunction
from .sources import SourceReader, compile_source
from .step_arguments import expect_object, field_name, field_names, no_unknown_keys, writable_field

# Steps that build values from row values: a pipeline holding one has its result measured
# (run_state.check_written_size).
_VALUE_BUILDING_STEPS = frozenset(
    {"eval", "select", "set", "group", "reduce", "switch", "join", "merge"}
)


# Steps that produce rows of their own; a top-level pipeline must start with one.
_HEAD_STEPS = ("source", "spawn")


@dataclass(frozen=True)
class CompiledPipeline:
    """Compiled steps; call with the incoming rows (ignored when it starts with a source)."""

    steps: tuple[tuple[str, StepFunction], ...]
    head: SourceReader | None

    def __call__(self, rows: Rows, run: RunState) -> Rows:
        if self.head is not None:
            rows = self.head(run)
        for where, step in self.steps:
            rows = step(rows, run)
            run.check(len(rows), where)
        return rows


def step_type(step: Any, where: str) -> str:
    """The type of a step: its one key (a ``source`` step may carry ``timeSeries`` beside it)."""
    if isinstance(step, dict):
        if "source" in step and set(step) <= {"source", "timeSeries"}:
            return "source"
        if len(step) == 1:
            name: str = next(iter(step))
            return name
    raise AggregationError(f"{where}: a step must be an object with exactly one key")


def compile_steps(steps: Any, env: StepEnv, where: str, *, with_source: bool) -> CompiledPipeline:
    """Check a list of steps and compile each; ``with_source``: it starts with a source or spawn."""
    if not isinstance(steps, list):
        raise AggregationError(f"{where}: must be a list of steps")
    if not steps:
        raise AggregationError(f"{where}: must hold at least one step")
    env.compilation.steps += len(steps)
    if env.compilation.steps > env.limits.max_steps:
        raise AggregationError(f"{where}: more than {env.limits.max_steps} steps in all")
    head: SourceReader | None = None
    compiled: list[tuple[str, StepFunction]] = []
    for index, step in enumerate(steps):
        kind = step_type(step, f"{where}[{index}]")
        step_where = f"{where}[{index}].{kind}"
        if kind not in OPERATORS and kind != "source":
            # Pendo's own wording (issue 4: `skip` is answered exactly like this).
            raise AggregationError(f"unknown step type {kind!r}")
        if kind in _HEAD_STEPS and index > 0:
            raise AggregationError(
                f"{step_where}: only the first step of a pipeline may be a {kind}"
            )
        if kind == "source":
            if not with_source:
                raise AggregationError(
                    f"{step_where}: this pipeline continues from rows; no source"
                )
            head = compile_source(step, env, step_where)
            continue
        if index == 0 and with_source and kind != "spawn":
            raise AggregationError(f"{step_where}: a pipeline must start with a source or spawn")
        function = OPERATORS[kind](step[kind], env, step_where)
        env.compilation.builds_values |= kind in _VALUE_BUILDING_STEPS
        # A group right after an event source: the source may group its raw events itself.
        pushed = None
        if isinstance(function, grouping.GroupStep) and head is not None and not compiled:
            pushed = head.grouping(function)
        if pushed is not None:
            head = pushed
        else:
            compiled.append((step_where, function))
    return CompiledPipeline(tuple(compiled), head)


def compile_nested(steps: Any, env: StepEnv, where: str, *, with_source: bool) -> CompiledPipeline:
    """Compile a nested pipeline (``fork`` branch, ``spawn`` branch, ``merge`` pipeline).

    ``with_source`` says whether it must start with its own ``source``/``spawn`` (spawn and
    merge) or continue from the rows it is given (fork).
    """
    if env.depth + 1 > env.limits.max_depth:
        raise AggregationError(
            f"{where}: fork/spawn/merge nested deeper than {env.limits.max_depth} levels"
        )
    nested = replace(env, depth=env.depth + 1)
    return compile_steps(steps, nested, where, with_source=with_source)


def compile_fork(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"fork": [[steps], [steps]]}``: every row goes through every branch (the same row
    objects, so a change made in one branch shows in the others); outputs are concatenated."""
    branches = _branches(arg, env, where, with_source=False)

    def run(rows: Rows, state: RunState) -> Rows:
        records = as_records(rows)
        out: list[dict[str, Any]] = []
        for branch_where, branch in branches:
            out.extend(as_records(branch(records, state)))
            state.check(len(out), branch_where)
        return out

    return run


def compile_spawn(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"spawn": [[{"source": ...}, steps], ...]}``: independent pipelines, each with its own
    source, whose rows are concatenated."""
    branches = _branches(arg, env, where, with_source=True)

    def run(rows: Rows, state: RunState) -> Rows:
        out: list[dict[str, Any]] = []
        for branch_where, branch in branches:
            out.extend(as_records(branch([], state)))
            state.check(len(out), branch_where)
        return out

    return run


def _branches(arg: Any, env: StepEnv, where: str, *, with_source: bool) -> list[Any]:
    if not isinstance(arg, list) or not arg:
        raise AggregationError(f"{where}: expected a list of pipelines")
    branches = []
    for i, steps in enumerate(arg):
        if isinstance(steps, list) and not steps:
            raise AggregationError(f'{where}[{i}]: empty pipeline (use [{{"cat": null}}])')
        branch_where = f"{where}[{i}]"
        branches.append(
            (branch_where, compile_nested(steps, env, branch_where, with_source=with_source))
        )
    return branches


def compile_merge(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"merge": {"fields": ["k"], "mappings": {"out": "inner"}, "pipeline": [...]}}``.

    Runs the inner pipeline and copies fields of the inner row with the same key into each main row:
    the mapped ones, or with no ``mappings`` every inner field under its own name (``{}`` copies
    nothing). Every main row of a key gets the data; when the inner pipeline has several rows of a
    key the first one wins. Main rows without a match pass unchanged.
    """
    spec = expect_object(arg, where)
    no_unknown_keys(spec, {"fields", "mappings", "pipeline"}, where)
    keys = field_names(spec.get("fields"), f"{where}.fields")
    mappings = spec.get("mappings")
    if mappings is not None:
        mappings = expect_object(mappings, f"{where}.mappings", allow_empty=True)
        for out, inner in mappings.items():
            writable_field(field_name(out, f"{where}.mappings.{out}"), f"{where}.mappings.{out}")
            field_name(inner, f"{where}.mappings.{out}")
    if "pipeline" not in spec:
        raise AggregationError(f"{where}.pipeline: required")
    inner_pipeline = compile_nested(spec["pipeline"], env, f"{where}.pipeline", with_source=True)
    read_key = key_reader(keys)

    def run(rows: Rows, state: RunState) -> Rows:
        index: dict[tuple[Any, ...], dict[str, Any]] = {}
        for inner_row in as_records(inner_pipeline([], state)):
            index.setdefault(read_key(inner_row)[0], inner_row)
        records = as_records(rows)
        for row in records:
            match = index.get(read_key(row)[0])
            if match is None:
                continue
            if mappings is None:
                for name, value in match.items():
                    row[name] = value
            else:
                for out, inner in mappings.items():
                    write_path(row, out, get_path(match, inner))
        return list(records)

    return run


#: Step type -> compile function (``source`` steps go to :func:`compile_source`).
OPERATORS: dict[str, Callable[[Any, StepEnv, str], StepFunction]] = {
    "filter": row_steps.compile_filter,
    "select": row_steps.compile_select,
    "eval": row_steps.compile_eval,
    "set": row_steps.compile_set,
    "identified": row_steps.compile_identified,
    "limit": row_steps.compile_limit,
    "count": row_steps.compile_count,
    "cat": row_steps.compile_cat,
    "sort": row_steps.compile_sort,
    "group": grouping.compile_group,
    "reduce": grouping.compile_reduce,
    "bulkExpand": lookups.compile_bulk_expand,
    "expand": lookups.compile_expand,
    "itemSeen": lookups.compile_item_seen,
    "segment": lookups.compile_segment,
    "useragent": row_steps.compile_useragent,
    "unwind": row_steps.compile_unwind,
    "switch": row_steps.compile_switch,
    "fork": compile_fork,
    "spawn": compile_spawn,
    "join": grouping.compile_join,
    "merge": compile_merge,
}
