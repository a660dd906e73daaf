"""How a pipeline shows itself: text and HTML cards, builder code, curl, and an explanation.

Nothing here knows the integration key: ``to_curl`` reads it from the shell's
``$PENDO_INTEGRATION_KEY`` when the command is run, so it never appears in a notebook.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any, Protocol

from pendo_nb.pipeline.steps.base import Step, chain_code


class PipelineLike(Protocol):
    """What a card shows of a pipeline (:class:`pendo_nb.pipeline.pipeline.Pipeline` has it)."""

    @property
    def steps(self) -> Sequence[Step]: ...
    @property
    def name(self) -> str | None: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def mime_type(self) -> str | None: ...

    def to_json(self) -> Any: ...


#: Longest step body shown on one line of a card before it is cut with an ellipsis.
_CARD_WIDTH = 96


class Text(str):
    """A string that a notebook shows as its text (not as a quoted repr with ``\\n``)."""

    def __repr__(self) -> str:
        return str(self)


def _compact(value: object) -> str:
    text = json.dumps(value, separators=(", ", ": "), ensure_ascii=False)
    return text if len(text) <= _CARD_WIDTH else text[: _CARD_WIDTH - 1] + "…"


def _labels(pipeline: PipelineLike) -> str:
    labels = [
        f"{label}={value!r}"
        for label, value in (
            ("name", pipeline.name),
            ("request_id", pipeline.request_id),
            ("mime_type", pipeline.mime_type),
        )  # fmt: skip
        if value is not None
    ]
    return f" [{', '.join(labels)}]" if labels else ""


def text_card(pipeline: PipelineLike) -> str:
    """``repr``: one line per step, operator and a compact JSON body."""
    count = len(pipeline.steps)
    lines = [f"<Pipeline: {count} step{'s' if count != 1 else ''}{_labels(pipeline)}>"]
    width = max((len(step.op) for step in pipeline.steps), default=0)
    for index, step in enumerate(pipeline.steps, 1):
        lines.append(f"  {index:>2}. {step.op:<{width}}  {_compact(step.body())}")
    return "\n".join(lines)


def html_card(pipeline: PipelineLike) -> str:
    """The notebook display: a compact table of the steps, then the JSON body (folded)."""
    rows = "".join(
        "<tr>"
        f"<td style='color:#888;text-align:right'>{index}</td>"
        f"<td style='text-align:left'><b>{html.escape(step.op)}</b></td>"
        f"<td style='text-align:left'>{html.escape(step.describe())}</td>"
        "</tr>"
        for index, step in enumerate(pipeline.steps, 1)
    )
    body = html.escape(json.dumps(pipeline.to_json(), indent=2, ensure_ascii=False))
    title = html.escape(f"Pendo pipeline · {len(pipeline.steps)} steps{_labels(pipeline)}")
    return (
        "<div class='pendo-nb-pipeline' style='border:1px solid #ddd;border-radius:6px;"
        "padding:6px 10px;display:inline-block'>"
        f"<div style='font-weight:bold;margin-bottom:4px'>{title}</div>"
        f"<table style='font-family:monospace;font-size:12px'>{rows}</table>"
        f"<details><summary>JSON</summary><pre style='font-size:11px'>{body}</pre></details>"
        "</div>"
    )


def code(pipeline: PipelineLike) -> str:
    """Builder code equal to ``pipeline``: the start, then one method call per line."""
    text = chain_code(pipeline.steps, line_break="\n ")
    labels = {"name": pipeline.name, "request_id": pipeline.request_id,
              "mime_type": pipeline.mime_type}  # fmt: skip
    given = ", ".join(f"{key}={value!r}" for key, value in labels.items() if value is not None)
    if given:
        text += f"\n .with_request({given})"
    return f"({text})"


def curl(pipeline: PipelineLike, base_url: str) -> str:
    """A ``curl`` command for the request; the key is the shell variable, never its value."""
    body = json.dumps(pipeline.to_json(), indent=2, ensure_ascii=False).replace("'", "'\\''")
    return (
        f"curl -X POST '{base_url.rstrip('/')}/api/v1/aggregation' \\\n"
        '  -H "x-pendo-integration-key: $PENDO_INTEGRATION_KEY" \\\n'
        "  -H 'content-type: application/json' \\\n"
        f"  --data-raw '{body}'"
    )


def explain(pipeline: PipelineLike) -> str:
    """One numbered line of plain English per step."""
    if not pipeline.steps:
        return "An empty pipeline: add a source (pn.source...) or steps."
    return "\n".join(f"{index}. {step.describe()}" for index, step in enumerate(pipeline.steps, 1))
