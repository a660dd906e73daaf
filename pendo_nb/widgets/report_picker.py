"""ReportPicker: find a public report, load its contents as a DataFrame."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pandas as pd
import traitlets

from pendo_nb.api import functions as api
from pendo_nb.frames.dtypes import TEXT_DTYPE
from pendo_nb.widgets._common import (
    Form,
    StatusLine,
    TableView,
    hint,
    row,
    run_busy,
    short_repr,
    styled,
)

__all__ = ["ReportPicker", "matching_reports", "report_listing"]

# Pendo lists these report types but serves no contents for them (reference 2.5 and 2.6).
NOT_EXPORTABLE = {"path": "Path", "funnel": "Funnel", "dataexplorer": "Data Explorer"}

_NAME_WIDTH = 44
_TYPE_WIDTH = 14
_KIND_WIDTH = 9


def _first_present(frame: pd.DataFrame, *columns: str) -> pd.Series:
    """The first of ``columns`` that ``frame`` has, as strings ('' when none is present)."""
    for column in columns:
        if column in frame.columns:
            return frame[column].astype(TEXT_DTYPE).fillna("")
    return pd.Series([""] * len(frame), index=frame.index, dtype=TEXT_DTYPE)


def report_listing(reports: pd.DataFrame) -> pd.DataFrame:
    """The columns the picker lists, from a :func:`pendo_nb.reports` DataFrame.

    Returns a DataFrame with ``id``, ``name``, ``type`` (List, Path, Funnel...), ``kind`` (visitor
    or account), ``updated`` (the last-updated time) and ``exportable`` (False for Path, Funnel
    and Data Explorer reports), sorted by name.
    """
    updated_column = next((c for c in ("lastUpdatedAt", "createdAt") if c in reports.columns), None)
    listing = pd.DataFrame(
        {
            "id": _first_present(reports, "id"),
            "name": _first_present(reports, "name"),
            # The report's own "type" is usually blank; definition.type holds List/Path/Funnel.
            "type": _first_present(reports, "definition.type", "type"),
            "kind": _first_present(reports, "definition.kind"),
            "updated": reports[updated_column] if updated_column else pd.NaT,
        }
    )
    listing["exportable"] = ~listing["type"].str.lower().str.replace(" ", "").isin(NOT_EXPORTABLE)
    return listing.sort_values(["name", "id"], key=lambda s: s.str.lower()).reset_index(drop=True)


def matching_reports(listing: pd.DataFrame, query: str) -> pd.DataFrame:
    """The rows of ``listing`` whose name, type, kind or id contain every word of ``query``.

    Matching ignores case; an empty query matches everything.
    """
    haystack = (
        listing["name"] + " " + listing["type"] + " " + listing["kind"] + " " + listing["id"]
    ).str.lower()
    keep = pd.Series(True, index=listing.index)
    for word in query.lower().split():
        keep &= haystack.str.contains(word, regex=False)
    return listing[keep]


def _not_exportable_reason(report_type: str) -> str:
    return (
        f"{report_type} reports cannot be loaded: Pendo lists them, but its API does not serve "
        "their contents. Pick a List report."
    )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _option_label(report: pd.Series) -> str:
    updated = report["updated"]
    updated_text = updated.strftime("%Y-%m-%d") if isinstance(updated, pd.Timestamp) else ""
    report_type = report["type"] or "—"
    if not report["exportable"]:
        report_type = f"{report_type} ⊘"
    return (
        f"{_clip(report['name'], _NAME_WIDTH):<{_NAME_WIDTH}}  "
        f"{_clip(report_type, _TYPE_WIDTH):<{_TYPE_WIDTH}}"
        f"{_clip(report['kind'] or '—', _KIND_WIDTH):<{_KIND_WIDTH}}"
        f"{updated_text}"
    )


def _header_label() -> str:
    return f"{'Name':<{_NAME_WIDTH}}  {'Type':<{_TYPE_WIDTH}}{'Kind':<{_KIND_WIDTH}}Updated"


class ReportPicker(Form):
    """Pick one of the subscription's public reports and load its contents as a DataFrame.

    ``display(ReportPicker())`` is all it takes: the list fills in from :func:`pendo_nb.reports`,
    the search box narrows it as you type, and Load fetches the selected report with
    :func:`pendo_nb.report` (JSON) or :func:`pendo_nb.report_csv` (CSV). Path, Funnel and Data
    Explorer reports are listed but cannot be loaded (Pendo serves no contents for them).

    Parameters
    ----------
    client : PendoClient, optional
        The connection to use; default: the default client (the last :func:`pendo_nb.connect`).

    Attributes
    ----------
    value : str or None
        The selected report's id. Setting it selects that report.
    format : {"json", "csv"}
        Which of the report's contents Load fetches.
    result : pandas.DataFrame or None
        The last report loaded.
    reports : pandas.DataFrame or None
        The listing (``id``, ``name``, ``type``, ``kind``, ``updated``, ``exportable``).

    Examples
    --------
    >>> picker = ReportPicker()
    >>> display(picker)          # doctest: +SKIP
    >>> picker.result.head()     # after clicking Load  # doctest: +SKIP
    """

    value = traitlets.Unicode(None, allow_none=True, help="The selected report's id.")
    format = traitlets.Enum(["json", "csv"], default_value="json", help="JSON or CSV contents.")
    result = traitlets.Instance(pd.DataFrame, allow_none=True, help="The last report loaded.")
    reports = traitlets.Instance(pd.DataFrame, allow_none=True, help="The report listing.")

    def __init__(self, client: Any = None, **kwargs: Any) -> None:
        # A plain attribute, never a trait: traits can be synced to the browser, and a client
        # must not travel there (it holds the key).
        self._client = client
        self._load_callbacks = widgets.CallbackDispatcher()
        self.search = widgets.Text(
            placeholder="Search by name, type or kind…",
            continuous_update=True,
            layout=widgets.Layout(flex="1 1 auto", width="auto"),
        )
        self.count = hint("")
        self.header = styled(
            widgets.HTML(
                f'<pre class="pendo-hint pendo-list-header">{_header_label()}</pre>',
                layout=widgets.Layout(margin="0"),
            ),
            "pendo-mono",
        )
        self.report_list = styled(
            widgets.Select(options=[], rows=10, layout=widgets.Layout(width="auto")),
            "pendo-mono",
            "pendo-report-list",
        )
        self.format_toggle = widgets.ToggleButtons(
            options=[("JSON", "json"), ("CSV", "csv")],
            value=self.format,
            tooltips=["results.json: typed columns", "results.csv: the CSV export, parsed"],
            style={"button_width": "64px"},
        )
        self.load_button = widgets.Button(
            description="Load",
            icon="download",
            button_style="primary",
            disabled=True,
            tooltip="Load the selected report",
        )
        self.status = StatusLine()
        self.table = TableView()
        self._scope_class = f"pendo-picker-{uuid.uuid4().hex[:8]}"
        self._option_style = widgets.HTML(layout=widgets.Layout(display="none"))
        super().__init__(
            "Pendo reports",
            "pendo-report-picker",
            [
                self._option_style,
                row(self.search, self.count),
                self.header,
                self.report_list,
                hint("⊘ Path, Funnel and Data Explorer reports are listed but cannot be loaded."),
                row(self.format_toggle, self.load_button),
                self.status,
                self.table,
            ],
            **kwargs,
        )
        self.add_class(self._scope_class)
        self.search.observe(self._on_search, "value")
        self.report_list.observe(self._on_list_selection, "value")
        self.format_toggle.observe(self._on_format_toggle, "value")
        self.load_button.on_click(lambda _button: self.load())
        self.refresh()

    def __repr__(self) -> str:
        return short_repr(self, value=self.value, format=self.format)

    # -- validators and observers -----------------------------------------------------------

    @traitlets.validate("value")
    def _valid_report_id(self, proposal: dict[str, Any]) -> str | None:
        report_id: str | None = proposal["value"]
        if report_id is not None and (
            self.reports is None or report_id not in set(self.reports["id"])
        ):
            raise traitlets.TraitError(f"no public report has the id {report_id!r}")
        return report_id

    @traitlets.observe("value")
    def _on_value(self, change: dict[str, Any]) -> None:
        report_id = change["new"]
        if report_id is not None and report_id not in self._shown_ids():
            self.search.value = ""  # show the whole list so the selection is visible
        self.report_list.value = report_id
        self.forget_result()  # the report shown was the previous selection's
        self._describe_selection()

    @traitlets.observe("format")
    def _on_format(self, change: dict[str, Any]) -> None:
        self.format_toggle.value = change["new"]
        self.forget_result()  # read in the other format

    @traitlets.observe("reports")
    def _on_reports(self, change: dict[str, Any]) -> None:
        self._show_matches()

    def _on_search(self, change: dict[str, Any]) -> None:
        self._show_matches()

    def _on_list_selection(self, change: dict[str, Any]) -> None:
        self.value = change["new"]

    def _on_format_toggle(self, change: dict[str, Any]) -> None:
        self.format = change["new"]

    # -- actions ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Fetch the report listing again (with :func:`pendo_nb.reports`)."""
        reports = run_busy(
            lambda: report_listing(api.reports(client=self._client)),
            status=self.status,
            controls=[self.search, self.report_list, self.load_button],
            message="Listing reports…",
        )
        if reports is not None:
            self.reports = reports
            self._describe_selection()

    def load(self) -> pd.DataFrame | None:
        """Load the selected report; return its contents (also in ``.result``).

        Returns None, with the reason on the status line, when nothing could be loaded.
        """
        report = self._selected_report()
        if report is None or not report["exportable"]:
            self._describe_selection()
            return None
        fetch = api.report if self.format == "json" else api.report_csv
        frame = run_busy(
            lambda: fetch(report["id"], client=self._client),
            status=self.status,
            controls=[self.search, self.report_list, self.format_toggle, self.load_button],
            message=f"Loading “{report['name']}” ({self.format.upper()})…",
        )
        if frame is None:
            self.forget_result()
            return None
        self.result = frame
        self.table.show(frame, caption=report["name"])
        self._load_callbacks(frame)
        return frame

    def on_load(self, callback: Callable[[pd.DataFrame], Any], remove: bool = False) -> None:
        """Register (or with ``remove=True`` unregister) ``callback(frame)``, run after each Load.

        Parameters
        ----------
        callback : callable
            Called with the loaded DataFrame.
        remove : bool
            Unregister ``callback`` instead.
        """
        self._load_callbacks.register_callback(callback, remove=remove)

    # -- helpers ----------------------------------------------------------------------------

    def _shown_ids(self) -> set[str]:
        return {value for _label, value in self.report_list.options}

    def _show_matches(self) -> None:
        if self.reports is None:
            return
        matches = matching_reports(self.reports, self.search.value)
        selected = self.value
        self.report_list.options = [
            (_option_label(report), report["id"]) for _, report in matches.iterrows()
        ]
        self._grey_out(matches["exportable"].tolist())
        total = len(self.reports)
        self.count.value = (
            f'<span class="pendo-hint">{total} report{"s" * (total != 1)}</span>'
            if len(matches) == total
            else f'<span class="pendo-hint">{len(matches)} of {total} reports</span>'
        )
        if selected in self._shown_ids():
            self.report_list.value = selected
        else:
            self.value = None

    def _grey_out(self, exportable: list[bool]) -> None:
        """Show the options of non-exportable reports greyed, as disabled entries look.

        A <select> cannot style single options from ipywidgets, so a small stylesheet names
        their positions in this picker's own list.
        """
        scope = f".{self._scope_class} .pendo-report-list option"
        rules = "".join(
            f"{scope}:nth-child({position + 1}) {{ color: var(--jp-ui-font-color3, #9e9e9e); }}"
            for position, ok in enumerate(exportable)
            if not ok
        )
        self._option_style.value = f"<style>{rules}</style>" if rules else ""

    def _selected_report(self) -> pd.Series | None:
        if self.value is None or self.reports is None:
            return None
        return self.reports[self.reports["id"] == self.value].iloc[0]

    def _describe_selection(self) -> None:
        """Enable Load for an exportable selection; otherwise say why it is disabled."""
        report = self._selected_report()
        if report is None:
            self.load_button.disabled = True
            if self.status.error is None and self.reports is not None:
                self.status.note("Select a report, then Load.")
        elif not report["exportable"]:
            self.load_button.disabled = True
            self.status.note(_not_exportable_reason(report["type"]))
        else:
            self.load_button.disabled = False
            self.status.clear()
