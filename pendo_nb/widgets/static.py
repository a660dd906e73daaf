"""A widget's current state as plain HTML, for pages that run no kernel.

A notebook opened on GitHub, nbviewer or as an nbconvert HTML export has no kernel to draw live
widgets, so each pendo_nb widget's display bundle also carries ``text/html``: this module's
rendering of what the form shows right now (its lists with the selection, the text typed, the
toggles, the status line, the last result table, the diff). A front end that runs the widget
(JupyterLab, VS Code) renders the widget and ignores this view.

The rendering walks the widget tree, so every form is covered by the same code: boxes become
blocks, controls become disabled HTML controls showing their value, tables their first rows.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from pendo_nb.tables import readable

__all__ = ["static_html"]

#: Rows of a result table written into the page (a page is no place for 100,000 rows).
STATIC_ROWS = 20

_STYLE = """<style>
.pendo-static{font-family:system-ui,sans-serif;font-size:13px;border:1px solid #d0d7de;
border-radius:6px;padding:8px 12px;max-width:920px}
.pendo-static .pendo-static-row{display:flex;gap:8px;align-items:baseline;flex-wrap:wrap;
margin:2px 0}
.pendo-static select,.pendo-static input,.pendo-static textarea,.pendo-static button{font:inherit;
color:#24292f}
.pendo-static pre{margin:0;padding:0 0 0 4px;border:0;background:none;color:#57606a;
font:12px/1.5 ui-monospace,monospace;white-space:pre}
.pendo-static select{font:12px/1.5 ui-monospace,monospace;white-space:pre;width:100%;
box-sizing:border-box}
.pendo-static select:disabled,.pendo-static select:disabled option{color:#24292f;opacity:1}
.pendo-static select option:checked{background:#dbe9f9 linear-gradient(#dbe9f9,#dbe9f9)}
.pendo-static table{border-collapse:collapse;font-size:12px}
.pendo-static th,.pendo-static td{border-bottom:1px solid #eee;padding:2px 6px;text-align:left}
.pendo-static .pendo-static-note{color:#57606a;font-size:12px}
.pendo-static .pendo-hint{color:#57606a}
.pendo-static .pendo-static-on{font-weight:600;text-decoration:underline}
</style>"""


def static_html(widget: widgets.Widget) -> str:
    """The widget's current state as one self-contained, kernel-free HTML block."""
    name = html.escape(type(widget).__name__)
    body = "".join(_render(widget))
    note = f"{name}: a static view of the form as it was last shown; run the notebook to use it."
    return (
        f'{_STYLE}<div class="pendo-static" data-widget="{name}">{body}'
        f'<div class="pendo-static-note">{html.escape(note)}</div></div>'
    )


def _render(widget: Any) -> Iterable[str]:
    if not isinstance(widget, widgets.Widget) or _hidden(widget):
        return
    frame = getattr(widget, "frame", None)
    if isinstance(frame, pd.DataFrame) and isinstance(widget, widgets.Box):
        # A result table: its shape line, then the first rows (the live one pages through all).
        yield from _render(widget.children[0])
        yield _table(frame)
        return
    if isinstance(widget, widgets.HBox):
        inner = "".join(part for child in widget.children for part in _render(child))
        if inner:
            yield f'<div class="pendo-static-row">{inner}</div>'
        return
    if isinstance(widget, widgets.Box):
        # A column: each child on its own line, as the live form stacks them (inline text such
        # as a hint would otherwise flow beside the list above it).
        shown = ("".join(_render(child)) for child in widget.children)
        inner = "".join(f"<div>{part}</div>" for part in shown if part)
        if inner:
            yield f'<div class="pendo-static-block">{inner}</div>'
        return
    yield from _control(widget)


def _hidden(widget: widgets.Widget) -> bool:
    layout = getattr(widget, "layout", None)
    return layout is not None and (layout.display == "none" or layout.visibility == "hidden")


def _control(widget: widgets.Widget) -> Iterable[str]:
    description = getattr(widget, "description", "") or ""
    label = f"<label>{html.escape(description)}</label> " if description else ""
    if isinstance(widget, widgets.HTML | widgets.HTMLMath):
        if "<style" not in widget.value:  # the live stylesheet means nothing without the widget
            yield widget.value
    elif isinstance(widget, widgets.Label):
        yield f"<span>{html.escape(str(widget.value))}</span>"
    elif isinstance(widget, widgets.Select | widgets.SelectMultiple):
        chosen = widget.index if isinstance(widget.index, tuple) else (widget.index,)
        options = "".join(
            f"<option{' selected' if i in chosen else ''}>{_spaced(str(text))}</option>"
            for i, text in enumerate(widget._options_labels)  # noqa: SLF001 - the shown labels
        )
        rows = max(2, min(getattr(widget, "rows", 5) or 5, len(widget._options_labels) or 2))  # noqa: SLF001
        multiple = " multiple" if isinstance(widget, widgets.SelectMultiple) else ""
        yield f'{label}<select size="{rows}"{multiple} disabled>{options}</select>'
    elif isinstance(widget, widgets.ToggleButtons | widgets.RadioButtons | widgets.Dropdown):
        yield label + " ".join(
            f'<span class="pendo-static-on">{html.escape(str(text))}</span>'
            if i == widget.index
            else f"<span>{html.escape(str(text))}</span>"
            for i, text in enumerate(widget._options_labels)  # noqa: SLF001 - the shown labels
        )
    elif isinstance(widget, widgets.Textarea):
        yield f"{label}<textarea disabled>{html.escape(widget.value)}</textarea>"
    elif isinstance(
        widget, widgets.Text | widgets.DatePicker | widgets.IntText | widgets.BoundedIntText
    ):
        value = "" if widget.value is None else str(widget.value)
        placeholder = html.escape(getattr(widget, "placeholder", "") or "")
        yield f'{label}<input value="{html.escape(value)}" placeholder="{placeholder}" disabled>'
    elif isinstance(widget, widgets.Checkbox | widgets.ToggleButton):
        checked = " checked" if widget.value else ""
        yield f'<label><input type="checkbox"{checked} disabled> {html.escape(description)}</label>'
    elif isinstance(widget, widgets.Button):
        yield f"<button disabled>{html.escape(description)}</button>"


def _table(frame: pd.DataFrame) -> str:
    shown = readable(frame.head(STATIC_ROWS))
    more = len(frame) - len(shown)
    note = f'<div class="pendo-static-note">… {more:,} more rows</div>' if more > 0 else ""
    return shown.to_html(index=False, border=0, na_rep="", escape=True) + note


def _spaced(text: str) -> str:
    """Escaped text whose runs of spaces survive HTML (list labels align in columns): an
    option's text collapses white space whatever its style, so each run becomes as many
    no-break spaces (single spaces between words stay plain, for search and copy)."""
    return re.sub(" {2,}", lambda run: "\u00a0" * len(run[0]), html.escape(text))
