"""MetadataEditor: preview a bulk metadata update as a diff, then apply it chunk by chunk."""

from __future__ import annotations

import functools
import html
import io
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import pandas as pd
import traitlets

from pendo_nb.api import functions as api
from pendo_nb.errors import ValidationError, WriteAccessError
from pendo_nb.frames.dtypes import TEXT_DTYPE
from pendo_nb.tables import format_cell
from pendo_nb.widgets._common import (
    Form,
    StatusLine,
    TableView,
    fixed_width,
    hint,
    labelled,
    row,
    run_busy,
    short_repr,
    styled,
)

__all__ = ["MetadataEditor", "parse_csv"]

#: Objects per request, as in :func:`pendo_nb.update_values`.
DEFAULT_CHUNK_SIZE = 500
_ID_COLUMNS = ("visitorId", "accountId", "id")
_READ_ONLY_REASON = (
    "Apply is off: this key can read but not write. Connect with a key created with "
    "'Allow Write Access' to apply changes."
)


def parse_csv(text: str) -> pd.DataFrame:
    """Pasted CSV (a header row, then one row per object) as a DataFrame.

    Id columns (``visitorId``, ``accountId``, ``id``) stay text even when they look like numbers;
    other columns get pandas' usual types; empty cells are missing (and not sent).

    Raises
    ------
    ValidationError
        The text is empty or is not CSV.
    """
    if not text.strip():
        raise ValidationError("paste CSV first: a header row, then one row per object")
    try:
        return pd.read_csv(
            io.StringIO(text.strip()),
            skipinitialspace=True,
            dtype={name: TEXT_DTYPE for name in _ID_COLUMNS},
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        raise ValidationError(f"the pasted text is not CSV: {error}") from None


def with_csv_lines(error: ValidationError, rows: pd.DataFrame, kind: str) -> ValidationError:
    """``error`` with each object it names preceded by its line in the pasted CSV (the header
    is line 1), for an analyst who fixes the text, not the ids."""
    message = str(error)
    id_column = next((name for name in (f"{kind}Id", "id") if name in rows), None)
    if id_column is None:
        return error
    for position, object_id in enumerate(rows[id_column]):
        # pn.update_values names a refused value as 'id'.field=value (pulls/writes.py).
        message = message.replace(f"{object_id!r}.", f"line {position + 2} ({object_id!r}): ")
    return ValidationError(message)


def _dataframes_in(namespace: Mapping[str, Any]) -> list[str]:
    return sorted(
        name
        for name, value in namespace.items()
        if isinstance(value, pd.DataFrame) and not name.startswith("_")
    )


def _user_namespace() -> Mapping[str, Any]:
    """The notebook's variables (empty outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def _outcome_badge(outcome: str) -> str:
    return f'<span class="pendo-outcome pendo-{html.escape(outcome)}">{html.escape(outcome)}</span>'


def without_empty_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the columns that hold nothing (missing or empty text in every row).

    For the widget's tables only: :func:`pendo_nb.update_values` keeps its fixed columns
    (``error``, ``chunk``...) so code can rely on them; a reader needs only the filled ones.
    """
    empty = [name for name, column in frame.items() if column.replace("", pd.NA).isna().all()]
    return frame.drop(columns=empty)


def diff_table_html(preview: pd.DataFrame, id_column: str) -> str:
    """A dry-run result as an escaped table: id, outcome, then ``old → new`` per field."""
    fields = [c[len("new.") :] for c in preview.columns if c.startswith("new.")]
    errors = "error" in without_empty_columns(preview).columns
    columns = (id_column, "outcome", *fields, *(["error"] if errors else []))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in columns)
    body = []
    for _, item in preview.iterrows():
        changed = set(item.get("changed_fields") or [])
        cells = [
            f"<td>{html.escape(str(item[id_column]))}</td>",
            f"<td>{_outcome_badge(item['outcome'])}</td>",
        ]
        for field in fields:
            old, new = format_cell(item.get(f"old.{field}")), format_cell(item.get(f"new.{field}"))
            if field in changed and old != new:
                cells.append(
                    f'<td><span class="pendo-old">{html.escape(old) or "—"}</span> → '
                    f'<span class="pendo-new">{html.escape(new)}</span></td>'
                )
            else:
                cells.append(f'<td class="pendo-same">{html.escape(new or old)}</td>')
        if errors:
            cells.append(f"<td>{html.escape(format_cell(item.get('error')))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class MetadataEditor(Form):
    """Set metadata fields on many visitors or accounts, safely.

    Choose the kind and the metadata group, then the input: a DataFrame variable of the notebook
    or pasted CSV, with one row per object (an id column and one column per field). Preview runs
    :func:`pendo_nb.update_values` with ``dry_run=True`` and shows, per object, the old and new
    value of each field. Apply asks for confirmation, then writes chunk by chunk with a progress
    bar, and ends with the outcome of every row. With a read-only key (:func:`pendo_nb.can_write`
    is False, asked when the editor is made), Apply is off from the start, with the reason;
    Preview still works.

    Parameters
    ----------
    client : PendoClient, optional
        The connection to use; default: the default client (the last :func:`pendo_nb.connect`).
    data : pandas.DataFrame, optional
        Rows to start from (otherwise pick a variable or paste CSV).
    namespace : mapping, optional
        Where to look for DataFrame variables; default: the notebook's variables.
    chunk_size : int
        Objects per request.

    Attributes
    ----------
    kind : {"visitor", "account"}
    group : str
        The metadata group written (``"custom"`` or ``"agent"``).
    rows : pandas.DataFrame or None
        The input rows (from ``data``, the chosen variable, or the parsed CSV).
    preview : pandas.DataFrame or None
        The last dry run.
    result : pandas.DataFrame or None
        The per-row outcome of the last Apply.
    read_only : bool
        True when the key cannot write (asked up front, or a write was refused); Apply stays off.

    Examples
    --------
    >>> editor = MetadataEditor(data=updates)   # doctest: +SKIP
    >>> display(editor)                         # doctest: +SKIP
    """

    kind = traitlets.Enum(["visitor", "account"], default_value="visitor", help="Object kind.")
    group = traitlets.Unicode("custom", help="The metadata group written.")
    rows = traitlets.Instance(pd.DataFrame, allow_none=True, help="The input rows.")
    preview = traitlets.Instance(pd.DataFrame, allow_none=True, help="The last dry run.")
    result = traitlets.Instance(pd.DataFrame, allow_none=True, help="Outcome of the last Apply.")
    read_only = traitlets.Bool(False, help="The key cannot write.")

    def __init__(
        self,
        client: Any = None,
        *,
        data: pd.DataFrame | None = None,
        namespace: Mapping[str, Any] | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        **kwargs: Any,
    ) -> None:
        # A plain attribute, never a trait: a client must not travel to the browser.
        self._client = client
        self._namespace = namespace
        self._data = data
        self.chunk_size = chunk_size
        self._apply_callbacks = widgets.CallbackDispatcher()
        self.kind_toggle = widgets.ToggleButtons(
            options=[("Visitors", "visitor"), ("Accounts", "account")],
            style={"button_width": "90px"},
        )
        self.group_select = widgets.Dropdown(
            options=["custom", "agent"], layout=fixed_width("120px")
        )
        self.source_toggle = widgets.ToggleButtons(
            options=[("DataFrame", "frame"), ("Paste CSV", "csv")],
            value="frame",
            style={"button_width": "100px"},
        )
        self.variable_select = widgets.Dropdown(layout=fixed_width("240px"))
        self.refresh_button = widgets.Button(
            icon="refresh",
            tooltip="List the notebook's DataFrames again",
            layout=fixed_width("36px"),
        )
        self.variable_row = row(self.variable_select, self.refresh_button)
        self.csv_text = styled(
            widgets.Textarea(
                placeholder="visitorId,plan,seats\nada@example.com,pro,12",
                layout=widgets.Layout(width="100%", height="110px", display="none"),
            ),
            "pendo-mono",
        )
        self.input_status = styled(StatusLine(), "pendo-field-message")
        self.preview_button = widgets.Button(
            description="Preview", icon="eye", button_style="primary", tooltip="Dry run"
        )
        self.apply_button = widgets.Button(
            description="Apply…",
            icon="upload",
            button_style="warning",
            disabled=True,
            tooltip="Write the previewed changes (asks first)",
        )
        self.apply_note = hint("Preview first.")
        self.confirm_text = widgets.HTML()
        self.confirm_button = widgets.Button(
            description="Write now", icon="check", button_style="danger"
        )
        self.cancel_button = widgets.Button(description="Cancel")
        self.confirm_box = styled(
            widgets.VBox(
                [self.confirm_text, row(self.confirm_button, self.cancel_button)],
                layout=widgets.Layout(display="none"),
            ),
            "pendo-panel",
            "pendo-confirm",
        )
        self.progress = widgets.IntProgress(
            min=0, max=1, layout=widgets.Layout(width="320px", display="none")
        )
        self.progress_label = hint("")
        self.status = StatusLine()
        self.table = TableView()
        super().__init__(
            "Metadata editor",
            "pendo-metadata-editor",
            [
                labelled("Update", self.kind_toggle, widgets.Label("Group"), self.group_select),
                labelled("Input", self.source_toggle),
                labelled("", self.variable_row, self.csv_text),
                labelled(
                    "",
                    hint(
                        "One row per object: an id column (visitorId, accountId or id) and one "
                        "column per field. Empty cells are left alone."
                    ),
                ),
                self.input_status,
                labelled("", self.preview_button, self.apply_button, self.apply_note),
                self.confirm_box,
                row(self.progress, self.progress_label),
                self.status,
                self.table,
            ],
            **kwargs,
        )
        self.kind_toggle.observe(lambda c: setattr(self, "kind", c["new"]), "value")
        self.group_select.observe(lambda c: setattr(self, "group", c["new"]), "value")
        self.source_toggle.observe(self._on_input_change, "value")
        self.variable_select.observe(self._on_input_change, "value")
        self.csv_text.observe(self._on_input_change, "value")
        self.refresh_button.on_click(lambda _button: self.list_variables())
        self.preview_button.on_click(lambda _button: self.run_preview())
        self.apply_button.on_click(lambda _button: self.ask_to_apply())
        self.confirm_button.on_click(lambda _button: self.apply())
        self.cancel_button.on_click(lambda _button: self._hide_confirmation("Nothing was written."))
        self.list_variables()
        self.check_write_access()

    def __repr__(self) -> str:
        rows = None if self.rows is None else len(self.rows)
        return short_repr(self, kind=self.kind, group=self.group, rows=rows)

    # -- validators and observers -------------------------------------------------------------

    @traitlets.validate("group")
    def _known_group(self, proposal: dict[str, Any]) -> str:
        group: str = proposal["value"]
        if group not in self.group_select.options:
            raise traitlets.TraitError(
                f"group must be one of {', '.join(self.group_select.options)}, got {group!r}"
            )
        return group

    @traitlets.observe("kind", "group")
    def _on_target(self, change: dict[str, Any]) -> None:
        self.kind_toggle.value = self.kind
        self.group_select.value = self.group
        self._forget_preview()

    @traitlets.observe("rows")
    def _on_rows(self, _change: dict[str, Any]) -> None:
        self._forget_preview()

    @traitlets.observe("read_only")
    def _on_read_only(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.apply_button.disabled = True
            self.apply_note.value = (
                f'<span class="pendo-hint">{html.escape(_READ_ONLY_REASON)}</span>'
            )

    def _on_input_change(self, _change: dict[str, Any]) -> None:
        self.read_input()

    # -- actions ------------------------------------------------------------------------------

    def list_variables(self) -> list[str]:
        """List the DataFrame variables of the notebook (or of ``namespace``) as inputs."""
        namespace = self._namespace if self._namespace is not None else _user_namespace()
        names = _dataframes_in(namespace)
        options = [("(passed in)", "")] if self._data is not None else []
        options += [(name, name) for name in names]
        current = self.variable_select.value
        values: list[str | None] = [value for _label, value in options]
        self.variable_select.options = options or [("(no DataFrame variables)", None)]
        # Setting options clears the selection: keep the current one, else take the first.
        self.variable_select.value = current if current in values else (values or [None])[0]
        self.read_input()
        return names

    def check_write_access(self) -> bool | None:
        """Ask whether the key may write (:func:`pendo_nb.can_write`); turn Apply off if not.

        Returns the answer, or None (with the reason on the status line) when it could not be
        asked, e.g. for a key the server does not know.
        """
        allowed = run_busy(
            lambda: api.can_write(client=self._client),
            status=self.status,
            controls=[self.apply_button],
            message="Checking whether this key may write…",
        )
        if allowed is False:
            self.read_only = True
        return allowed

    def read_input(self) -> pd.DataFrame | None:
        """Read the input (variable or CSV) into ``.rows``; flag it when it cannot be read."""
        from_csv = self.source_toggle.value == "csv"
        self.csv_text.layout.display = None if from_csv else "none"
        self.variable_row.layout.display = "none" if from_csv else None
        self.input_status.clear()
        try:
            rows = parse_csv(self.csv_text.value) if from_csv else self._chosen_frame()
        except ValidationError as error:
            if self.csv_text.value.strip() or not from_csv:
                self.input_status.show_error(error)
            rows = None
        self.rows = rows
        return rows

    def run_preview(self) -> pd.DataFrame | None:
        """Dry-run the update and show the diff; return it (also in ``.preview``)."""
        rows = self.read_input()
        if rows is None:
            return None
        kind, group = self.kind, self.group
        from_csv = self.source_toggle.value == "csv"

        def dry_run() -> pd.DataFrame:
            try:
                return api.update_values(kind, rows, group=group, dry_run=True,
                                         client=self._client)  # fmt: skip
            except ValidationError as error:
                raise (with_csv_lines(error, rows, kind) if from_csv else error) from None

        preview = run_busy(
            dry_run,
            status=self.status,
            controls=[self.preview_button, self.apply_button],
            message=f"Reading the current values of {len(rows)} {kind}s…",
        )
        if preview is None:
            return None
        self.preview = preview
        counts = preview["outcome"].value_counts()
        summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
        self.table.show_html(
            f"Preview of {len(preview)} {kind}s ({group}): {summary}",
            diff_table_html(preview, f"{kind}Id"),
        )
        self._enable_apply()
        return preview

    def ask_to_apply(self) -> None:
        """Show the confirmation for the previewed update (Apply's first step)."""
        if self.preview is None or self.rows is None:
            return
        to_write = int(self.preview["outcome"].isin(["would-change", "would-create"]).sum())
        self.confirm_text.value = (
            f"<b>Write to {to_write} {self.kind}{'s' * (to_write != 1)}</b> in the "
            f"<code>{html.escape(self.group)}</code> group, in "
            f"{-(-len(self.rows) // self.chunk_size)} request(s)? This cannot be undone."
        )
        self.confirm_box.layout.display = None
        self.apply_button.disabled = True

    def apply(self) -> pd.DataFrame | None:
        """Write the rows chunk by chunk; return the per-row outcome (also in ``.result``)."""
        rows, kind, group = self.rows, self.kind, self.group
        self._hide_confirmation()
        # A read-only key is not refused here: update_values refuses it before writing anything,
        # and its error says why on the status line.
        if rows is None or self.preview is None:
            return None
        chunks = [rows.iloc[i : i + self.chunk_size] for i in range(0, len(rows), self.chunk_size)]
        self.progress.max, self.progress.value = len(chunks), 0
        self.progress.layout.display = None
        outcomes = []
        for number, chunk in enumerate(chunks):
            self.progress_label.value = f"chunk {number + 1} of {len(chunks)}"
            outcome = run_busy(
                functools.partial(
                    api.update_values,
                    kind,
                    chunk,
                    group=group,
                    chunk_size=self.chunk_size,
                    client=self._client,
                ),
                status=self.status,
                controls=[self.preview_button],
                message=f"Writing chunk {number + 1} of {len(chunks)}…",
            )
            if outcome is None:
                self.read_only |= isinstance(self.status.error, WriteAccessError)
                self.progress_label.value = (
                    f"stopped at chunk {number + 1} of {len(chunks)}: later chunks were not sent"
                )
                break
            outcomes.append(outcome.assign(chunk=number))
            self.progress.value = number + 1
        if not outcomes:
            return None
        result = pd.concat(outcomes, ignore_index=True)
        self.result = result
        written = f"{len(result)} of {len(rows)} rows sent"
        if len(outcomes) == len(chunks):
            self.progress_label.value = f"done: {written}"
        self.table.show(without_empty_columns(result), caption=f"Outcome ({written})")
        self.preview = None  # the preview is stale now: Apply waits for a new one
        self._enable_apply()
        self._apply_callbacks(result)
        return result

    def on_apply(self, callback: Callable[[pd.DataFrame], Any], remove: bool = False) -> None:
        """Register (or with ``remove=True`` unregister) ``callback(outcome)``, run after Apply.

        Parameters
        ----------
        callback : callable
            Called with the per-row outcome DataFrame.
        remove : bool
            Unregister ``callback`` instead.
        """
        self._apply_callbacks.register_callback(callback, remove=remove)

    # -- helpers ------------------------------------------------------------------------------

    def _chosen_frame(self) -> pd.DataFrame:
        name = self.variable_select.value
        if name == "" and self._data is not None:
            return self._data
        namespace = self._namespace if self._namespace is not None else _user_namespace()
        frame = namespace.get(name) if name else None
        if not isinstance(frame, pd.DataFrame):
            raise ValidationError(
                "no DataFrame chosen: make one in the notebook, click ↻, or paste CSV"
            )
        return frame

    def _forget_preview(self) -> None:
        self.preview = None
        self.result = None
        self.table.clear()
        self._hide_confirmation()
        self.progress.layout.display = "none"
        self.progress_label.value = ""
        self._enable_apply()

    def _enable_apply(self) -> None:
        if self.read_only:
            return
        ready = self.preview is not None
        self.apply_button.disabled = not ready
        self.apply_note.value = (
            ""
            if ready
            else '<span class="pendo-hint">Preview first: Apply writes what it shows.</span>'
        )

    def _hide_confirmation(self, note: str | None = None) -> None:
        self.confirm_box.layout.display = "none"
        self._enable_apply()
        if note:
            self.status.note(note)
