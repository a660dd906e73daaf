"""Parts every pendo_nb widget shares: the stylesheet, the status line and the table view.

- :class:`StatusLine` shows, in one line under a form, what is happening (a spinner and a message
  while a call runs), what went wrong (one readable sentence, the details one click away, never a
  traceback), or a short note.
- :func:`run_busy` runs one call to the public API with the form's controls disabled and the
  status line busy, and turns any exception into that one readable line.
- :class:`TableView` shows a DataFrame as its shape and an interactive table (:mod:`.tables`).

Widgets build their HTML from escaped text only, so no value from Pendo can inject markup.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import ipywidgets as widgets
import pandas as pd
import traitlets

from pendo_nb.errors import PendoAPIError, PendoConnectionError, PendoError
from pendo_nb.tables import show as show_table
from pendo_nb.widgets.static import static_html

T = TypeVar("T")

#: Width of the label column of form rows (field messages are indented by as much).
LABEL_WIDTH = "84px"

# Scoped under .pendo-nb so nothing leaks into the rest of the notebook. Colours come from
# JupyterLab's theme variables (with fallbacks), so dark themes stay readable.
_CSS = """
.pendo-nb { gap: 6px; padding: 4px 0; }
.pendo-nb .pendo-title { font-weight: 600; font-size: var(--jp-content-font-size2, 1.2em);
  margin: 0 0 2px 0; }
.pendo-nb .pendo-hint { color: var(--jp-ui-font-color2, #616161);
  font-size: var(--jp-ui-font-size1, 13px); }
.pendo-nb .pendo-row { align-items: center; gap: 8px; }
.pendo-nb .pendo-label { justify-content: flex-end; flex: 0 0 auto; }
.pendo-nb .pendo-label .widget-label-basic, .pendo-nb .pendo-label { text-align: right; }
.pendo-nb .pendo-error, .pendo-nb .pendo-note, .pendo-nb .pendo-busy { display: block;
  line-height: 1.4; padding: 2px 0; }
.pendo-nb .pendo-field-message { margin-left: calc(84px + 8px); }
.pendo-nb .pendo-json-text { margin: 0; padding: 6px 8px; max-height: 290px; overflow: auto;
  background: var(--jp-layout-color2, #f5f5f5); border-radius: 3px; line-height: 1.35;
  font-family: var(--jp-code-font-family, monospace); font-size: var(--jp-code-font-size, 12px); }
.pendo-nb .pendo-mono select, .pendo-nb .pendo-mono textarea {
  font-family: var(--jp-code-font-family, monospace); font-size: var(--jp-code-font-size, 13px); }
.pendo-nb .pendo-busy { color: var(--jp-ui-font-color1, #212121); }
.pendo-nb .pendo-spinner { display: inline-block; width: 12px; height: 12px;
  margin-right: 6px; vertical-align: -1px; border-radius: 50%;
  border: 2px solid var(--jp-border-color2, #ccc);
  border-top-color: var(--jp-brand-color1, #1976d2);
  animation: pendo-spin 0.8s linear infinite; }
@keyframes pendo-spin { to { transform: rotate(360deg); } }
.pendo-nb .pendo-error { color: var(--jp-error-color1, #d32f2f); }
.pendo-nb .pendo-error summary { cursor: pointer; }
.pendo-nb .pendo-error summary .pendo-more { color: var(--jp-ui-font-color2, #616161);
  font-size: 0.9em; margin-left: 6px; }
.pendo-nb .pendo-error pre { color: var(--jp-ui-font-color1, #212121); white-space: pre-wrap;
  background: var(--jp-layout-color2, #eee); padding: 6px 8px; margin: 4px 0 0 0;
  border-radius: 3px; font-size: var(--jp-code-font-size, 12px); }
.pendo-nb .pendo-note { color: var(--jp-ui-font-color2, #616161); }
.pendo-nb .pendo-shape { color: var(--jp-ui-font-color2, #616161); margin: 2px 0 4px 0; }
/* Widget HTML inherits the 28 px line height of form controls: reset it for text blocks. */
.pendo-nb .pendo-table, .pendo-nb .pendo-shape, .pendo-nb .pendo-error pre { line-height: 1.4; }
.pendo-nb .pendo-list-header { margin: 0; padding: 0 0 0 5px; line-height: 1.4; }
.pendo-nb .pendo-table { max-height: 360px; overflow: auto;
  border: 1px solid var(--jp-border-color2, #e0e0e0); border-radius: 3px; }
.pendo-nb .pendo-table table { border-collapse: collapse; width: max-content; min-width: 100%;
  font-size: var(--jp-ui-font-size1, 13px); }
.pendo-nb .pendo-table th { position: sticky; top: 0; z-index: 1; text-align: left;
  background: var(--jp-layout-color2, #f5f5f5); font-weight: 600; }
.pendo-nb .pendo-table th, .pendo-nb .pendo-table td { padding: 3px 10px;
  border-bottom: 1px solid var(--jp-border-color3, #eee); white-space: nowrap; }
.pendo-nb .pendo-table td.pendo-num { text-align: right; font-variant-numeric: tabular-nums; }
.pendo-nb .pendo-table tr.pendo-group th { position: static; padding-top: 8px;
  background: var(--jp-layout-color1, #fff); color: var(--jp-brand-color1, #1976d2);
  border-bottom: 1px solid var(--jp-brand-color2, #64b5f6);
  text-transform: uppercase; font-size: 0.8em; letter-spacing: 0.05em; }
.pendo-nb .pendo-kv { width: 100%; table-layout: fixed; }
.pendo-nb .pendo-kv td { white-space: normal; overflow-wrap: anywhere; }
.pendo-nb .pendo-kv td:first-child { width: 220px; color: var(--jp-ui-font-color2, #616161); }
.pendo-nb .pendo-panel { border-left: 3px solid var(--jp-brand-color2, #64b5f6);
  padding-left: 12px; margin: 4px 0 4px 2px; }
.pendo-nb .pendo-table tbody tr:hover { background: var(--jp-layout-color2, #f5f5f5); }
.pendo-nb .widget-button:disabled, .pendo-nb .jupyter-button:disabled { cursor: not-allowed; }
.pendo-nb .pendo-chart-box { max-width: 100%; line-height: 1.4; }
.pendo-nb .pendo-chart { display: flex; align-items: flex-end; gap: 2px; height: 90px;
  border-bottom: 1px solid var(--jp-border-color1, #bdbdbd); }
.pendo-nb .pendo-bar { flex: 1 1 0; min-width: 1px; min-height: 1px;
  background: var(--jp-brand-color1, #1976d2); border-radius: 2px 2px 0 0; }
.pendo-nb .pendo-bar.pendo-zero { background: var(--jp-border-color2, #e0e0e0); }
.pendo-nb .pendo-axis { display: flex; justify-content: space-between; gap: 8px;
  color: var(--jp-ui-font-color2, #616161); font-size: 0.85em; padding-top: 2px; }
.pendo-nb .pendo-subtitle { font-weight: 600; margin-top: 8px; }
.pendo-nb .pendo-subtitle .pendo-hint { font-weight: normal; margin-left: 4px; }
.pendo-nb .pendo-outcome { padding: 1px 6px; border-radius: 8px; font-size: 0.9em;
  background: var(--jp-layout-color3, #e0e0e0); }
.pendo-nb .pendo-would-change, .pendo-nb .pendo-would-create, .pendo-nb .pendo-updated {
  background: var(--jp-success-color3, #c8e6c9); color: var(--jp-success-color0, #1b5e20); }
.pendo-nb .pendo-missing { background: var(--jp-warn-color3, #ffe0b2);
  color: var(--jp-warn-color0, #e65100); }
.pendo-nb .pendo-failed { background: var(--jp-error-color3, #ffcdd2);
  color: var(--jp-error-color0, #b71c1c); }
.pendo-nb .pendo-old { color: var(--jp-error-color1, #d32f2f); text-decoration: line-through; }
.pendo-nb .pendo-new { color: var(--jp-success-color1, #2e7d32); font-weight: 600; }
.pendo-nb td.pendo-same { color: var(--jp-ui-font-color2, #757575); }
.pendo-nb .pendo-confirm { background: var(--jp-warn-color3, #fff3e0); padding: 8px 12px;
  border-left-color: var(--jp-warn-color1, #f57c00); line-height: 1.4; }
.pendo-nb .pendo-code textarea { font-family: var(--jp-code-font-family, monospace);
  font-size: var(--jp-code-font-size, 12px); }
.pendo-nb .pendo-field-error input, .pendo-nb .pendo-field-error textarea {
  border-color: var(--jp-error-color1, #d32f2f) !important; }
"""


def short_repr(widget: widgets.Widget, **state: Any) -> str:
    """``Name(key=value, ...)``: what a pendo_nb widget shows as text.

    The default ipywidgets repr lists every child (stylesheet, tables...): long, and it changes
    with any styling, which would break notebooks whose outputs are compared (nbval).
    """
    return f"{type(widget).__name__}({', '.join(f'{k}={v!r}' for k, v in state.items())})"


def stylesheet() -> widgets.HTML:
    """An invisible widget carrying the pendo_nb stylesheet; every pendo_nb widget includes one."""
    return widgets.HTML(f"<style>{_CSS}</style>", layout=widgets.Layout(display="none"))


def styled(widget: widgets.Widget, *classes: str) -> widgets.Widget:
    """Add CSS classes to ``widget`` and return it (for building layouts inline)."""
    for name in classes:
        widget.add_class(name)
    return widget


def row(*children: widgets.Widget, **layout: Any) -> widgets.HBox:
    """A horizontal row of controls, vertically centred, with even spacing."""
    return styled(widgets.HBox(list(children), layout=widgets.Layout(**layout)), "pendo-row")


def fixed_width(width: str) -> widgets.Layout:
    """A layout of the given CSS width (``"120px"``, ``"auto"``)."""
    return widgets.Layout(width=width)


def labelled(text: str, *controls: widgets.Widget) -> widgets.HBox:
    """A form row: a right-aligned label in a fixed column, then the controls."""
    label = styled(widgets.Label(text, layout=widgets.Layout(width=LABEL_WIDTH)), "pendo-label")
    return row(label, *controls)


def hint(text: str) -> widgets.HTML:
    """A short grey explanatory line."""
    return widgets.HTML(f'<span class="pendo-hint">{html.escape(text)}</span>')


def title(text: str) -> widgets.HTML:
    """The widget's heading."""
    return widgets.HTML(f'<div class="pendo-title">{html.escape(text)}</div>')


def subtitle(text: str, note: str = "") -> widgets.HTML:
    """A section heading inside a widget, with an optional grey note after it."""
    extra = f' <span class="pendo-hint">{html.escape(note)}</span>' if note else ""
    return widgets.HTML(f'<div class="pendo-subtitle">{html.escape(text)}{extra}</div>')


class Form(widgets.VBox):
    """The frame every pendo_nb widget shares: the stylesheet, a title, then ``children``.

    It is at most ``max_width`` wide and has the CSS classes ``pendo-nb`` (the stylesheet's
    scope) and ``css_class`` (naming the widget, for styles and browser tests).
    """

    # Declared only (no value): the forms that keep a result define it as a trait.
    result: pd.DataFrame | None

    def __init__(
        self,
        heading: str,
        css_class: str,
        children: list[widgets.Widget],
        *,
        max_width: str = "920px",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            children=[stylesheet(), title(heading), *children],
            layout=widgets.Layout(max_width=max_width),
            **kwargs,
        )
        self.add_class("pendo-nb")
        self.add_class(css_class)

    def forget_result(self) -> None:
        """Drop the last result and its table (forms that keep a ``result`` shown in a
        ``table``), so a result never stays under a selection it does not belong to."""
        self.result = None
        self.table.clear()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # The live widget for a kernel's front end, and its state as plain HTML for pages that
        # have no kernel (GitHub, nbviewer, nbconvert exports), which fall back to text/html.
        bundle: dict[str, Any] = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:
            bundle["text/html"] = static_html(self)
        return bundle


def describe_error(error: BaseException) -> tuple[str, str]:
    """A one-line summary of ``error`` and the details to show on demand.

    The summary says what went wrong in a sentence; the details carry what support needs (status,
    request, request id, the start of Pendo's answer). Errors never hold the integration key.
    """
    if isinstance(error, PendoAPIError):
        body_line = error.body.splitlines()[0] if error.body else ""
        summary = f"{_title_of(error)} ({error.status}): {body_line or error.hint or ''}".rstrip(
            ": "
        )
        details = [f"{error.method} {error.url}", f"status: {error.status}"]
        if error.request_id:
            details.append(f"request id: {error.request_id}")
        if error.hint:
            details.append(f"hint: {error.hint}")
        if error.body:
            details.append(f"answer: {error.body}")
        return summary, "\n".join(details)
    message = str(error).strip() or type(error).__name__
    first, _, rest = message.partition("\n")
    if isinstance(error, PendoConnectionError):
        return f"{_title_of(error)}: {first}", f"{error.method} {error.url}\n{rest}".strip()
    # Blank lines only: leading spaces align a caret under an expression (PipelineError).
    rest = rest.strip("\n").rstrip()
    if isinstance(error, PendoError | ValueError | KeyError | TypeError):
        return first, rest
    # Anything else is a bug in pendo_nb or a library: name the type so it can be reported.
    return f"{type(error).__name__}: {first}", rest


def _title_of(error: BaseException) -> str:
    """'NotFoundError' -> 'Not found', 'PendoConnectionError' -> 'Connection failed'..."""
    titles = {
        "AuthenticationError": "Key refused",
        "WriteAccessError": "Write refused",
        "NotFoundError": "Not found",
        "RateLimitError": "Rate limited",
        "ServerError": "Pendo failed",
        "BadRequestError": "Request refused",
        "PendoTimeoutError": "No answer in time",
        "PendoConnectionError": "Connection failed",
    }
    for cls in type(error).__mro__:
        if cls.__name__ in titles:
            return titles[cls.__name__]
    return "Pendo error"


class StatusLine(widgets.HTML):
    """One line under a form: busy with a message, an error with details on demand, or a note.

    Attributes
    ----------
    error : Exception or None
        The last error shown (None after anything else is shown).
    """

    error = traitlets.Instance(BaseException, allow_none=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("pendo-status")
        self.layout.display = "none"

    @traitlets.observe("value")
    def _hide_when_empty(self, change: dict[str, Any]) -> None:
        # An empty line would still take a row of space between the form and its result.
        self.layout.display = None if change["new"] else "none"

    def busy(self, message: str) -> None:
        """Show a spinner and ``message``."""
        self.error = None
        self.value = (
            f'<span class="pendo-busy"><span class="pendo-spinner"></span>'
            f"{html.escape(message)}</span>"
        )

    def note(self, message: str) -> None:
        """Show a short neutral note."""
        self.error = None
        self.value = f'<span class="pendo-note">{html.escape(message)}</span>'

    def show_error(self, error: BaseException) -> None:
        """Show ``error`` as one line; its details unfold on click (an HTML ``<details>``)."""
        summary, details = describe_error(error)
        self.error = error
        if not details:
            self.value = f'<div class="pendo-error">⚠ {html.escape(summary)}</div>'
            return
        self.value = (
            f'<details class="pendo-error"><summary>⚠ {html.escape(summary)}'
            f'<span class="pendo-more">details</span></summary>'
            f"<pre>{html.escape(details)}</pre></details>"
        )

    def clear(self) -> None:
        """Show nothing."""
        self.error = None
        self.value = ""


def run_busy(
    action: Callable[[], T],
    *,
    status: StatusLine,
    controls: Iterable[widgets.Widget],
    message: str,
) -> T | None:
    """Run ``action`` with ``controls`` disabled and ``status`` busy; return its result.

    Any exception is shown on ``status`` (and kept in ``status.error``) and ``None`` is returned:
    a widget callback must never dump a traceback into the notebook's log.
    """
    controls = list(controls)
    enabled_before = [control.disabled for control in controls]
    for control in controls:
        control.disabled = True
    status.busy(message)
    try:
        result = action()
    except Exception as error:  # noqa: BLE001 - shown to the user in one line, see docstring
        status.show_error(error)
        return None
    else:
        status.clear()
        return result
    finally:
        for control, disabled in zip(controls, enabled_before, strict=True):
            control.disabled = disabled


def shape_text(frame: pd.DataFrame) -> str:
    """'12 rows × 5 columns' (singular where it applies)."""
    rows, columns = frame.shape
    return f"{rows:,} row{'s' * (rows != 1)} × {columns} column{'s' * (columns != 1)}"


class TableView(widgets.VBox):
    """A DataFrame shown as its shape and an interactive table (all rows, paged), or custom HTML.

    Attributes
    ----------
    frame : pandas.DataFrame or None
        The frame the interactive table shows (None when empty or showing custom HTML).
    """

    def __init__(self, **kwargs: Any) -> None:
        self.shape = styled(widgets.HTML(), "pendo-shape-line")
        self.html = widgets.HTML()
        self.frame: pd.DataFrame | None = None
        super().__init__(children=[self.shape], **kwargs)
        self.add_class("pendo-table-view")

    @property
    def value(self) -> str:
        """What shows as HTML: the shape line and any custom table (an interactive one aside)."""
        shown: str = self.shape.value + self.html.value
        return shown

    def show(self, frame: pd.DataFrame, *, caption: str | None = None) -> None:
        """Show ``frame`` in an interactive table; ``caption`` leads the shape line."""
        shape = shape_text(frame)
        line = f"{caption} · {shape}" if caption else shape
        self.shape.value = f'<div class="pendo-shape">{html.escape(line)}</div>'
        self.html.value = ""
        self.frame = frame
        self.children = [self.shape, show_table(frame)]

    def show_html(self, shape_line: str, table: str) -> None:
        """Show an already-escaped ``table`` under ``shape_line`` (for custom layouts)."""
        self.shape.value = f'<div class="pendo-shape">{html.escape(shape_line)}</div>'
        self.html.value = f'<div class="pendo-table">{table}</div>'
        self.frame = None
        self.children = [self.shape, self.html]

    def clear(self) -> None:
        """Show nothing."""
        self.shape.value = self.html.value = ""
        self.frame = None
        self.children = [self.shape]
