"""What VisitorLookup and AccountLookup share: an id box, a Look up button, the object's table.

The object (a one-row DataFrame from :func:`pendo_nb.visitor` or :func:`pendo_nb.account`) is
shown as a two-column table, field and value, grouped by metadata group (``agent``, ``custom``,
``auto``, ... ), because one row with forty columns cannot be read.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any, ClassVar

import ipywidgets as widgets
import pandas as pd
import traitlets

from pendo_nb.api import functions as api
from pendo_nb.tables import format_cell
from pendo_nb.widgets._common import (
    Form,
    StatusLine,
    TableView,
    row,
    run_busy,
    short_repr,
)

# Groups people look at first; any other group follows in alphabetical order.
_GROUP_ORDER = ("agent", "custom", "auto")


def metadata_groups(frame: pd.DataFrame) -> dict[str, list[tuple[str, Any]]]:
    """``{group: [(field, value), ...]}`` from the first row of a visitor/account DataFrame.

    Columns named ``metadata.<group>.<field>`` go to ``<group>``; any other column (``id``,
    ``accountIds``) goes to the group ``""``, listed first.
    """
    groups: dict[str, list[tuple[str, Any]]] = {}
    first = frame.iloc[0]
    for column in frame.columns:
        parts = column.split(".", 2)
        group, field = (
            (parts[1], parts[2])
            if parts[0] == "metadata" and len(parts) == 3
            else (
                "",
                column,
            )
        )
        groups.setdefault(group, []).append((field, first[column]))
    rank = {name: position for position, name in enumerate(("", *_GROUP_ORDER))}
    return dict(sorted(groups.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))


def grouped_table_html(frame: pd.DataFrame) -> str:
    """The first row of ``frame`` as an escaped field/value table with a header per group."""
    rows = []
    for group, fields in metadata_groups(frame).items():
        if group:
            rows.append(f'<tr class="pendo-group"><th colspan="2">{html.escape(group)}</th></tr>')
        rows += [
            f"<tr><td>{html.escape(field)}</td><td>{html.escape(format_cell(value))}</td></tr>"
            for field, value in fields
        ]
    return (
        '<table class="pendo-kv"><thead><tr><th>Field</th><th>Value</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


class ObjectLookup(Form):
    """Base of VisitorLookup and AccountLookup (see their docstrings)."""

    #: "visitor" or "account": which public function looks the object up.
    kind: ClassVar[str] = ""

    value = traitlets.Unicode(None, allow_none=True, help="The id to look up.")
    result = traitlets.Instance(pd.DataFrame, allow_none=True, help="The object, one row.")

    def __init__(self, client: Any = None, *, value: str | None = None, **kwargs: Any) -> None:
        # A plain attribute, never a trait: a client must not travel to the browser.
        self._client = client
        self._lookup_callbacks = widgets.CallbackDispatcher()
        self.id_box = widgets.Text(
            placeholder=f"{self.kind.capitalize()} id, then Enter",
            continuous_update=False,  # the value arrives on Enter (or when the box loses focus)
            layout=widgets.Layout(flex="1 1 auto", width="auto"),
        )
        self.lookup_button = widgets.Button(
            description="Look up",
            icon="search",
            button_style="primary",
            tooltip=f"Fetch this {self.kind}",
        )
        self.status = StatusLine()
        self.table = TableView()
        super().__init__(
            f"Pendo {self.kind}",
            f"pendo-{self.kind}-lookup",
            [
                row(self.id_box, self.lookup_button),
                self.status,
                self.table,
                *self._extra_children(),
            ],
            **kwargs,
        )
        self.id_box.observe(self._on_id_box, "value")
        self.lookup_button.on_click(lambda _button: self.lookup())
        if value is not None:
            self.value = value

    def __repr__(self) -> str:
        return short_repr(self, value=self.value)

    def _extra_children(self) -> list[widgets.Widget]:
        """Widgets a subclass shows under the object's table."""
        return []

    # -- validators and observers -----------------------------------------------------------

    @traitlets.validate("value")
    def _stripped_id(self, proposal: dict[str, Any]) -> str | None:
        value = proposal["value"]
        return value.strip() or None if value is not None else None

    @traitlets.observe("value")
    def _on_value(self, change: dict[str, Any]) -> None:
        self.id_box.value = change["new"] or ""
        self.forget_result()  # the object shown was the previous id's
        if change["new"] is not None:
            self.lookup()

    def _on_id_box(self, change: dict[str, Any]) -> None:
        self.value = change["new"]

    # -- actions ----------------------------------------------------------------------------

    def lookup(self) -> pd.DataFrame | None:
        """Fetch the object whose id is ``value``; return it (also in ``.result``).

        Returns None, with the reason on the status line, when nothing could be fetched.
        """
        if self.value is None:
            self.status.note(f"Type a {self.kind} id first.")
            return None
        object_id = self.value
        frame = run_busy(
            lambda: self._fetch(object_id),
            status=self.status,
            controls=[self.id_box, self.lookup_button],
            message=f"Looking up {self.kind} {object_id}…",
        )
        if frame is None:
            self.forget_result()
            return None
        self.result = frame
        self.table.show_html(
            f"{self.kind.capitalize()} {object_id} · {frame.shape[1]} fields",
            grouped_table_html(frame),
        )
        self._lookup_callbacks(frame)
        return frame

    def _fetch(self, object_id: str) -> pd.DataFrame:
        fetch: Callable[..., pd.DataFrame] = getattr(api, self.kind)
        return fetch(object_id, client=self._client)

    def on_lookup(self, callback: Callable[[pd.DataFrame], Any], remove: bool = False) -> None:
        """Register (or with ``remove=True`` unregister) ``callback(frame)``, run after each lookup.

        Parameters
        ----------
        callback : callable
            Called with the object's one-row DataFrame.
        remove : bool
            Unregister ``callback`` instead.
        """
        self._lookup_callbacks.register_callback(callback, remove=remove)
