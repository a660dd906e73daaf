"""Interactive tables: sort, filter, page and download any DataFrame, in the widgets and on demand.

The library is `itables <https://mwouts.github.io/itables/>`_ (DataTables in the page), through
its ``ITable`` widget. It was chosen over ipydatagrid because:

- it renders in JupyterLab, Jupyter Notebook 7, VS Code and Google Colab alike (an ``anywidget``
  widget, which all four load without a front-end extension build), while ipydatagrid needs its
  own lab extension and has no Colab support;
- it pages, sorts, searches and filters per column in the browser, and its Copy/CSV buttons
  download what is shown, all with no kernel round trip; ipydatagrid has no download and its
  filtering dialogs need the kernel;
- it is actively released (2.9 in 2026); ipydatagrid's last release is from 2024;
- the same tables also export to static HTML (``itables.to_html_datatable``) where a notebook
  is published, which a canvas-drawn ipydatagrid cannot do.

Cells are shown as an analyst reads them (:func:`readable`, :func:`format_cell`): day buckets
as dates, instants to the second, lists joined; the DataFrame itself is never changed. Times are
shown on the client's clock without naming its zone, the same in a table and in a single cell:
a date is ``2026-11-13`` wherever it appears.

This module sits outside :mod:`pendo_nb.widgets` so that ``pn.show`` costs ``import pendo_nb``
neither the forms nor itables: itables (with its widget stack) is imported when a table is first
shown.
"""

from __future__ import annotations

import functools
import html
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # the annotation only; the module is imported when a table is shown
    from itables.widget import ITable

__all__ = ["TABLE_OPTIONS", "format_cell", "readable", "show", "static_table"]

#: DataTables options of every pendo_nb table: 25 rows a page, a search box over all columns,
#: one filter box per column, and Copy / CSV buttons that take the filtered rows.
TABLE_OPTIONS: dict[str, Any] = {
    "pageLength": 25,
    "lengthMenu": [10, 25, 100, 500],
    "layout": {"topStart": "pageLength", "topEnd": "search", "top2Start": "buttons"},
    "buttons": ["copyHtml5", "csvHtml5"],
    "column_filters": "header",
    # As wide as its content (itables' default), but flush left like the rest of a form.
    "style": "table-layout:auto;width:auto;margin:0;caption-side:bottom",
    # pendo-nb-table scopes the stylesheet below to pendo_nb's tables.
    "classes": "display nowrap compact pendo-nb-table",
    # A header's filter box is as wide as its placeholder (the column's name) or its column,
    # not the twenty characters an input takes by itself: each column fits its content.
    "css": "table.pendo-nb-table thead input { field-sizing: content; width: auto; "
    "min-width: max(100%, 4em); box-sizing: border-box; }",
    "showIndex": False,
    # itables samples frames above 64 KB by default; a result table must reach its last row, so
    # only really big frames (sent whole to the browser otherwise) are sampled.
    "maxBytes": "16MB",
}

_DATE = "%Y-%m-%d"
_TIME = "%Y-%m-%d %H:%M:%S"


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its cells as an analyst reads them (for display only; a new frame).

    Datetime columns whose values are all midnights become ``YYYY-MM-DD`` dates, other datetimes
    ``YYYY-MM-DD HH:MM:SS`` (ISO text, so sorting stays chronological); durations become
    ``H:MM:SS``; lists and dicts become text; missing text is blank. Other columns keep their
    dtype, so numbers still sort as numbers.
    """
    shown = frame.copy()
    for name in shown.columns:
        column = shown[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
            column.dtype
        ):
            present = column.dropna()
            days = present.empty or (present == present.dt.normalize()).all()
            shown[name] = column.dt.strftime(_DATE if days else _TIME).fillna("")
        elif pd.api.types.is_timedelta64_dtype(column.dtype):
            shown[name] = column.map(_duration_text)
        elif column.dtype == object:
            shown[name] = column.map(format_cell)
        elif pd.api.types.is_string_dtype(column.dtype):
            shown[name] = column.fillna("")
    return shown


def _duration_text(value: pd.Timedelta) -> str:
    """``H:MM:SS`` (hours unpadded, so text order is time order below 10 hours); blank if NaT."""
    if pd.isna(value):
        return ""
    minutes, seconds = divmod(round(value.total_seconds()), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"


def _text_columns(frame: pd.DataFrame) -> list[int]:
    """Positions of the columns that are not numbers (text, dates, lists): shown left-aligned."""
    return [
        position
        for position, dtype in enumerate(frame.dtypes)
        if not (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))
    ]


def format_cell(value: Any) -> str:
    """A cell as text: blanks for missing values, dates without a midnight time, lists joined."""
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(format_cell(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {format_cell(item)}" for key, item in value.items())
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime(_DATE if value == value.normalize() else _TIME)
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        return str(int(value)) if float(value).is_integer() else str(round(float(value), 4))
    return str(value)


def show(frame: pd.DataFrame, *, caption: str | None = None) -> ITable:
    """Show any DataFrame as an interactive table: sort, filter, page and download it.

    A page that runs no kernel (GitHub, nbviewer, an HTML export, the documentation site) shows
    the table's first rows instead, formatted the same way (:func:`static_table`).

    Parameters
    ----------
    frame : pandas.DataFrame
        Any frame (a pendo_nb result or not); it is not changed.
    caption : str, optional
        A line shown under the table.

    Returns
    -------
    itables.widget.ITable
        The widget (all rows, 25 a page); a notebook shows it when it is the cell's last value.
        The widgets' result tables are the same.

    Examples
    --------
    >>> import pandas as pd, pendo_nb as pn
    >>> pn.show(pd.DataFrame({"day": pd.to_datetime(["2026-10-25"]), "n": [3]}))  # doctest: +SKIP
    """
    shown = readable(frame)
    # DataTables right-aligns what looks like a date or a number; only numbers should be.
    left = [{"className": "dt-left", "targets": _text_columns(shown)}]
    table = _table_class()(shown, caption=caption, columnDefs=left, **TABLE_OPTIONS)
    table.static_html = static_table(frame, caption=caption)
    return table


#: Rows of a table written into a page that runs no kernel (a page is no place for all of them).
STATIC_ROWS = 20


def static_table(frame: pd.DataFrame, *, caption: str | None = None) -> str:
    """The first rows of ``frame`` as plain HTML, as an analyst reads them.

    Cells as :func:`readable` makes them, numbers right-aligned with thousands separators, text
    left-aligned, then how many rows there are and the caption.

    Examples
    --------
    >>> import pandas as pd
    >>> print(static_table(pd.DataFrame({"plan": ["pro"], "arr": [125412.5]})))
    <table class="pendo-nb-static-table">...text-align:right">125,412.5</td>...
    """
    shown = readable(frame.head(STATIC_ROWS))
    numeric = set(range(len(shown.columns))) - set(_text_columns(shown))
    cell = "padding:2px 10px;border-bottom:1px solid #eee;text-align:"
    head = "".join(
        f'<th style="{cell}{"right" if i in numeric else "left"}">{html.escape(str(c))}</th>'
        for i, c in enumerate(shown.columns)
    )
    # One number of decimals per column (at most 4), so the points line up.
    decimals = {i: _decimals(shown.iloc[:, i]) for i in numeric}
    rows = []
    for values in shown.itertuples(index=False):
        cells = []
        for i, value in enumerate(values):
            if i in numeric:
                text = "" if pd.isna(value) else f"{value:,.{decimals[i]}f}"
                cells.append(f'<td style="{cell}right">{text}</td>')
            else:
                cells.append(f'<td style="{cell}left">{html.escape(format_cell(value))}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    rows_text = f"{len(frame):,} row{'' if len(frame) == 1 else 's'}"
    total = rows_text if len(frame) <= STATIC_ROWS else f"the first {STATIC_ROWS} of {rows_text}"
    note = f"{total} · run the notebook to sort, filter and page them"
    if caption:
        note = f"{html.escape(caption)} · {note}"
    return (
        f'<table class="pendo-nb-static-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<div class="pendo-nb-static-note" style="color:#57606a;font-size:12px">{note}</div>'
    )


def _decimals(column: pd.Series) -> int:
    """Decimals to show a numeric column with: as many as its values need, at most 4."""
    present = column.dropna()
    if present.empty or not pd.api.types.is_float_dtype(column.dtype):
        return 0
    fractions = (present.astype(float).round(4) % 1).map(lambda v: f"{v:.4f}".rstrip("0"))
    return max(len(text.split(".")[1]) for text in fractions)


@functools.cache
def _table_class() -> type[ITable]:
    """ITable that also carries its static view (``text/html``) beside the live table."""
    # Imported here, for start-up cost only: itables brings ipywidgets and anywidget (~0.1 s).
    from itables.widget import ITable

    class Table(ITable):
        static_html = ""

        def _repr_mimebundle_(self, **kwargs: Any) -> Any:
            bundle = super()._repr_mimebundle_(**kwargs)
            data = bundle[0] if isinstance(bundle, tuple) else bundle
            if isinstance(data, dict):
                # A front end with a kernel draws the widget; a static page shows this.
                data["text/html"] = self.static_html
            return bundle

    return Table
