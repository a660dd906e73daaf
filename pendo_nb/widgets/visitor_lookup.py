"""VisitorLookup: a visitor's metadata, their accounts (one click opens each) and their activity."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import traitlets

from pendo_nb.api import functions as api
from pendo_nb.frames.dtypes import TEXT_DTYPE
from pendo_nb.widgets._common import (
    StatusLine,
    TableView,
    hint,
    row,
    run_busy,
    styled,
    subtitle,
)
from pendo_nb.widgets._lookup import ObjectLookup
from pendo_nb.widgets.account_lookup import AccountLookup

__all__ = ["VisitorLookup", "daily_counts", "history_view"]

#: Days of history shown by default, ending with the visitor's last visit.
DEFAULT_HISTORY_DAYS = 14
#: Where an item's name and id are, whichever kind of item it is (one is filled per item);
#: an untagged page has no id, and its URL stands for its name.
_NAME_COLUMNS = ("pageName", "featureName", "trackTypeName", "guideName", "untaggedUrl")
_ID_COLUMNS = ("pageId", "featureId", "trackTypeId", "guideId")


def history_view(named: pd.DataFrame) -> pd.DataFrame:
    """The history table: ``ts | type | name | duration | id``, one name and id per item.

    ``named`` is a history frame with its name columns (:func:`pendo_nb.with_names`).
    """
    return pd.DataFrame(
        {
            "ts": named["ts"],
            "type": named["type"],
            "name": _first_present(named, _NAME_COLUMNS),
            # Pendo counts milliseconds; a duration reads as one (H:MM:SS in the table).
            "duration": pd.to_timedelta(named["duration"], unit="ms"),
            "id": _first_present(named, _ID_COLUMNS),
        }
    )


def _first_present(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """Per row, the first of ``columns`` (those the frame has) that is not missing."""
    found = [column for column in columns if column in frame.columns]
    if not found:
        return pd.Series(np.nan, index=frame.index, dtype=TEXT_DTYPE)
    return frame[found].astype(TEXT_DTYPE).bfill(axis=1).iloc[:, 0]


def daily_counts(history: pd.DataFrame, first: dt.date, last: dt.date) -> pd.Series:
    """History items per day from ``first`` to ``last`` (inclusive), zero on quiet days.

    Days are read in the time zone of the ``ts`` column (the client's ``tz``).
    """
    days = pd.date_range(first, last, freq="D").date
    counts = history["ts"].dropna().dt.date.value_counts() if len(history) else pd.Series()
    return pd.Series([int(counts.get(day, 0)) for day in days], index=days, dtype="int64")


#: Width of one day in the activity chart; long ranges shrink to the widget's width.
_DAY_WIDTH_PX = 22


def _bar_chart_html(counts: pd.Series) -> str:
    """A small bar chart (plain HTML, no plotting library), one bar per day."""
    peak = max(int(counts.max()), 1) if len(counts) else 1
    bars = "".join(
        f'<div class="pendo-bar{"" if n else " pendo-zero"}" style="height:{100 * n / peak:.1f}%" '
        f'title="{day:%a %Y-%m-%d}: {n} item{"s" * (n != 1)}"></div>'
        for day, n in counts.items()
    )
    first, last = (
        (f"{counts.index[0]:%a %b %d}", f"{counts.index[-1]:%a %b %d}") if len(counts) else ("", "")
    )
    width = max(len(counts) * _DAY_WIDTH_PX, 240)
    return (
        f'<div class="pendo-chart-box" style="width:{width}px">'
        f'<div class="pendo-shape">{int(counts.sum())} items over {len(counts)} days '
        f"· busiest day {peak}</div>"
        f'<div class="pendo-chart">{bars}</div>'
        f'<div class="pendo-axis"><span>{html.escape(first)}</span>'
        f"<span>{html.escape(last)}</span></div></div>"
    )


def _account_ids(frame: pd.DataFrame) -> list[str]:
    for column in ("accountIds", "metadata.auto.accountids"):
        if column in frame.columns:
            ids = frame[column].iloc[0]
            if isinstance(ids, list | tuple | np.ndarray):
                return [str(i) for i in ids if isinstance(i, str) and i]
    if "metadata.auto.accountid" in frame.columns:
        last = frame["metadata.auto.accountid"].iloc[0]
        return [last] if isinstance(last, str) and last else []
    return []


class VisitorLookup(ObjectLookup):
    """Look up one visitor: metadata by group, accounts as links, and recent activity.

    Type the id and press Enter (or click Look up); :func:`pendo_nb.visitor` fetches it. Each of
    the visitor's accounts is a button that opens an :class:`AccountLookup` below. Pick a date
    range and click Show activity to fetch :func:`pendo_nb.visitor_history`, draw items per day
    and list them as ``ts | type | name | duration | id``: the name of the page, feature, track
    type or guide each item is about (:func:`pendo_nb.with_names`), its id last.

    Parameters
    ----------
    client : PendoClient, optional
        The connection to use; default: the default client (the last :func:`pendo_nb.connect`).
    value : str, optional
        A visitor id to look up straight away.

    Attributes
    ----------
    value : str or None
        The visitor id. Setting it looks the visitor up.
    result : pandas.DataFrame or None
        The visitor as a one-row DataFrame (None after a failed lookup).
    accounts : list of str
        The visitor's account ids.
    history : pandas.DataFrame or None
        The activity last fetched with Show activity.
    account_lookup : AccountLookup or None
        The account panel, once an account button was clicked.

    Examples
    --------
    >>> display(VisitorLookup(value="ada@example.com"))  # doctest: +SKIP
    """

    kind = "visitor"

    accounts = traitlets.List(traitlets.Unicode(), help="The visitor's account ids.")
    history = traitlets.Instance(pd.DataFrame, allow_none=True, help="The activity fetched.")

    def _extra_children(self) -> list[widgets.Widget]:
        self.account_lookup: AccountLookup | None = None
        self.account_buttons = row(flex_flow="row wrap")
        self.account_panel = styled(widgets.VBox(), "pendo-panel")
        self.history_start = _date_picker("From")
        self.history_end = _date_picker("To")
        self.history_button = widgets.Button(
            description="Show activity",
            icon="bar-chart",
            disabled=True,
            tooltip="Fetch this visitor's history for the chosen days",
        )
        self.history_status = StatusLine()
        self.chart = widgets.HTML()
        self.history_table = TableView()
        self.history_button.on_click(lambda _button: self.load_history())
        self.details = styled(
            widgets.VBox(
                [
                    self.account_buttons,
                    self.account_panel,
                    subtitle("Activity", "items per day; Pendo keeps 180 days of history"),
                    row(self.history_start, self.history_end, self.history_button),
                    self.history_status,
                    self.chart,
                    self.history_table,
                ],
                layout=widgets.Layout(display="none"),
            ),
            "pendo-visitor-details",
        )
        return [self.details]

    # -- observers ----------------------------------------------------------------------------

    @traitlets.observe("result")
    def _on_result(self, change: dict[str, Any]) -> None:
        frame = change["new"]
        self.details.layout.display = "none" if frame is None else "flex"
        self.history = None
        self.chart.value = ""
        self.history_table.clear()
        self.history_status.clear()
        self.account_panel.children = []
        self.account_panel.layout.display = "none"
        self.accounts = _account_ids(frame) if frame is not None else []
        if frame is None:
            self.history_button.disabled = True
            return
        last_day = self._last_visit_day(frame)
        self.history_end.value = last_day
        self.history_start.value = last_day - dt.timedelta(days=DEFAULT_HISTORY_DAYS - 1)
        self.history_button.disabled = False

    @traitlets.observe("accounts")
    def _on_accounts(self, change: dict[str, Any]) -> None:
        buttons = []
        for account_id in change["new"]:
            button = styled(
                widgets.Button(
                    description=account_id,
                    icon="building",
                    tooltip=f"Open account {account_id}",
                    layout=widgets.Layout(width="auto"),
                ),
                "pendo-account-link",
            )
            button.on_click(lambda _button, account_id=account_id: self.open_account(account_id))
            buttons.append(button)
        label = hint("Accounts:" if buttons else "No account.")
        self.account_buttons.children = [label, *buttons]

    # -- actions ----------------------------------------------------------------------------

    def open_account(self, account_id: str) -> AccountLookup:
        """Show ``account_id`` in the account panel under the visitor; return that panel."""
        if self.account_lookup is None:
            self.account_lookup = AccountLookup(client=self._client)
        self.account_panel.children = [self.account_lookup]
        self.account_panel.layout.display = None
        self.account_lookup.value = account_id
        return self.account_lookup

    def load_history(self) -> pd.DataFrame | None:
        """Fetch the visitor's activity between the two dates (inclusive) and chart it per day.

        Returns the history (also in ``.history``), or None with the reason on the status line.
        """
        first, last = self.history_start.value, self.history_end.value
        if self.value is None or self.result is None:
            self.history_status.note("Look a visitor up first.")
            return None
        if first is None or last is None or first > last:
            self.history_status.note("Pick a From date on or before the To date.")
            return None
        visitor_id = self.value
        fetched = run_busy(
            lambda: self._history_with_names(visitor_id, first, last),
            status=self.history_status,
            controls=[self.history_start, self.history_end, self.history_button],
            message=f"Fetching activity {first:%Y-%m-%d} to {last:%Y-%m-%d}…",
        )
        if fetched is None:
            return None
        frame, named = fetched
        self.history = frame
        self.chart.value = _bar_chart_html(daily_counts(frame, first, last))
        self.history_table.show(history_view(named), caption="History")
        return frame

    def _history_with_names(
        self, visitor_id: str, first: dt.date, last: dt.date
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The visitor's history from ``first`` to ``last`` (inclusive), and it with names."""
        # `end` is exclusive: the day after the To date.
        end = last + dt.timedelta(days=1)
        frame = api.visitor_history(visitor_id, first, end, client=self._client, progress=False)
        return frame, api.with_names(frame, client=self._client)

    def _last_visit_day(self, frame: pd.DataFrame) -> dt.date:
        last_visit = frame.get("metadata.auto.lastvisit")
        if last_visit is not None and isinstance(last_visit.iloc[0], pd.Timestamp):
            return last_visit.iloc[0].date()
        return dt.date.today()


def _date_picker(label: str) -> widgets.DatePicker:
    return widgets.DatePicker(
        description=label,
        style={"description_width": "initial"},
        layout=widgets.Layout(width="auto"),
    )
