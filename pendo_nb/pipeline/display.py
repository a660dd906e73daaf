"""How a pipeline shows itself: text and HTML cards, builder code, curl, and an explanation.

Nothing here knows the integration key: ``to_curl`` reads it from the shell's
``$PENDO_INTEGRATION_KEY`` when the command is run, so it never appears in a notebook.
"""

from __future__ import annotations

import html
import json
import re
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


# JSON tokens to colour: a string (a key when a colon follows), a number, a literal.
_JSON_TOKEN = re.compile(
    r'(?P<string>"(?:[^"\\]|\\.)*")(?P<colon>\s*:)?'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<literal>\btrue\b|\bfalse\b|\bnull\b)"
)
_JSON_COLOURS = {"key": "#0451a5", "string": "#a31515", "number": "#098658", "literal": "#0000ff"}

# The card's two behaviours, in one inline handler on the views (clicks on its buttons bubble
# to it): JupyterLab keeps it in a trusted output (a freshly run cell) and strips it from an
# untrusted one, where the JSON view still shows. A `data-show` button shows its view; the copy
# button writes the shown view's text to the clipboard (the page's clipboard API, which
# localhost and https pages may use) and says so on itself.
# Writes the JavaScript value `text` to the clipboard and tells the clicked button `b` how it went.
_CLIPBOARD_JS = (
    "navigator.clipboard.writeText({text}).then("
    "function(){{b.textContent='Copied';}},function(){{b.textContent='Copy failed';}});"
)
_VIEWS_JS = (
    "var b=event.target.closest('button');if(!b)return;"
    "var pres=Array.from(this.querySelectorAll('pre[data-view]'));"
    "if(b.dataset.show){pres.forEach(function(e){"
    "e.style.display=e.dataset.view===b.dataset.show?'block':'none';});"
    "this.querySelectorAll('[data-show]').forEach(function(x){"
    "x.style.fontWeight=x===b?'bold':'normal';});return;}"
    "var shown=pres.find(function(e){return e.style.display!=='none';});"
    + _CLIPBOARD_JS.format(text="shown.textContent")
)


def copy_button(text: str, label: str) -> str:
    """HTML of a button that copies ``text`` to the clipboard when clicked (in a trusted output
    or a widget's HTML), then says "Copied"."""
    onclick = "var b=this;" + _CLIPBOARD_JS.format(text="b.dataset.copy")
    return (
        f"<button class='pendo-nb-copy' data-copy=\"{html.escape(text)}\" "
        f'onclick="{html.escape(onclick)}">{html.escape(label)}</button>'
    )


def highlight_json(value: object) -> str:
    """``value`` as indented JSON, in HTML with keys, strings, numbers and literals coloured."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    parts, end = [], 0
    for match in _JSON_TOKEN.finditer(text):
        parts.append(html.escape(text[end : match.start()]))
        kind = "string" if match.group("string") is not None else str(match.lastgroup)
        token = match.group(kind)
        if match.group("colon") is not None:
            kind = "key"
        parts.append(f"<span style='color:{_JSON_COLOURS[kind]}'>{html.escape(token)}</span>")
        parts.append(html.escape(match.group("colon") or ""))
        end = match.end()
    parts.append(html.escape(text[end:]))
    return "".join(parts)


def html_card(pipeline: PipelineLike, *, dates: str | None = None, base_url: str) -> str:
    """The notebook display: the steps, the dates the periods resolve to on the server (when
    known), then the request as JSON, Python or curl with a button that copies the shown one."""
    rows = "".join(
        "<tr>"
        f"<td style='color:#888;text-align:right'>{index}</td>"
        f"<td style='text-align:left'><b>{html.escape(step.op)}</b></td>"
        f"<td style='text-align:left'>{html.escape(step.describe())}</td>"
        "</tr>"
        for index, step in enumerate(pipeline.steps, 1)
    )
    title = html.escape(f"Pendo pipeline · {len(pipeline.steps)} steps{_labels(pipeline)}")
    dates_line = (
        ""
        if dates is None
        else "<div class='pendo-nb-dates' style='margin-bottom:4px' title='periods from the "
        f"first date up to, not including, the second'>{html.escape(dates)}</div>"
    )
    views = {
        "json": highlight_json(pipeline.to_json()),
        "python": html.escape(code(pipeline)),
        "curl": html.escape(curl(pipeline, base_url)),
    }
    buttons = "".join(
        f"<button data-show='{name}' style='font-weight:{'bold' if name == 'json' else 'normal'}'>"
        f"{label}</button>"
        for name, label in (("json", "JSON"), ("python", "Python"), ("curl", "curl"))
    )
    pres = "".join(
        f"<pre data-view='{name}' style='font-size:11px;max-height:18em;overflow:auto;"
        f"margin:4px 0;display:{'block' if name == 'json' else 'none'}'>{text}</pre>"
        for name, text in views.items()
    )
    return (
        "<div class='pendo-nb-pipeline' style='border:1px solid #ddd;border-radius:6px;"
        "padding:6px 10px;display:inline-block'>"
        f"<div style='font-weight:bold;margin-bottom:4px'>{title}</div>"
        f"{dates_line}"
        f"<table style='font-family:monospace;font-size:12px'>{rows}</table>"
        f"<div class='pendo-nb-views' onclick=\"{html.escape(_VIEWS_JS)}\">{buttons} "
        "<button class='pendo-nb-copy'>Copy</button>"
        f"{pres}</div>"
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
