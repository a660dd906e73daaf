"""AggregationComposer: build an aggregation from a form, see its JSON live, run it."""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import ipywidgets as widgets
import pandas as pd
import traitlets

from pendo_nb.api import functions as api
from pendo_nb.errors import FieldWarning, PendoError, PipelineError
from pendo_nb.pipeline import Pipeline, agg, source
from pendo_nb.pipeline.display import copy_button, highlight_json
from pendo_nb.pipeline.sources import SOURCES
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
    subtitle,
)

__all__ = ["AggregationComposer"]

#: Sources offered, most used first; the special low-confidence sources are left out.
SOURCE_CHOICES = (
    "events", "pageEvents", "featureEvents", "trackEvents", "guideEvents", "pollEvents",
    "guidesSeen", "pollsSeen", "emailEvents", "singleEvents",
    "visitors", "accounts", "pages", "features", "trackTypes", "guides", "groups",
    "guidesSeenEver", "pollsSeenEver", "doNotProcessVisitors", "doNotProcessAccounts",
)  # fmt: skip
APP_CHOICES = (
    ("default app", ""),
    ("all apps", "*"),
    ("web", "web"),
    ("mobile", "mobile"),
    ("iOS", "ios"),
    ("Android", "android"),
    ("extension", "extension"),
)
#: Units of the "last N" range, with the Pendo period each one reads.
UNITS = (
    ("days", "dayRange"),
    ("weeks", "weekRange"),
    ("months", "monthRange"),
    ("hours", "hourRange"),
)
#: Periods a "between" range is read in (the buckets of day/hour/week/month in the rows).
BETWEEN_PERIODS = (
    ("by day", "dayRange"),
    ("by week", "weekRange"),
    ("by month", "monthRange"),
    ("by hour", "hourRange"),
)
# The cheapest aggregation: its answer's startTime is the server's clock.
_CLOCK_PROBE = [{"source": {"accounts": None}}, {"limit": 1}]
AGGREGATORS = ("sum", "count", "avg", "min", "max", "median", "first", "list", "stddev")
#: The form's fields, in order; errors are flagged under each.
FIELDS = ("source", "dates", "filter", "group", "aggregators", "sort", "limit")
#: The catalog object a source can be narrowed to, picked by name: the source's id parameter ->
#: (catalog kind for :func:`pendo_nb.object_names`, builder keyword, what the form calls it).
OBJECT_PARAMETERS = {
    "pageId": ("page", "page_id", "Page"),
    "featureId": ("feature", "feature_id", "Feature"),
    "trackTypeId": ("trackType", "track_type_id", "Track type"),
    "guideId": ("guide", "guide_id", "Guide"),
}
# An id compared in a filter: featureId == "abc" (or !=).
_FILTER_ID = re.compile(r'\b(pageId|featureId|trackTypeId|guideId)\s*[!=]=\s*"([^"\\]*)"')


def _takes_dates(source_name: str) -> bool:
    return SOURCES[source_name][0] is True


def _object_parameter(source_name: str) -> str | None:
    """The id parameter (``pageId``...) that narrows ``source_name`` to one object, if any."""
    return next((p for p in SOURCES[source_name][1] if p in OBJECT_PARAMETERS), None)


def object_options(names: pd.DataFrame, label: str) -> list[tuple[str, str]]:
    """Dropdown options ``(name, id)`` by name, after ``("all <label>s", "")``.

    A name shared by several objects (in different apps) shows its id too.
    """
    counts = names["name"].value_counts()
    options = sorted(
        (
            (f"{name} · {object_id}" if counts[name] > 1 else str(name), str(object_id))
            for object_id, name in zip(names["id"], names["name"], strict=True)
        ),
        key=lambda option: option[0].casefold(),
    )
    return [(f"all {label.lower()}s", ""), *options]


class AggregatorRow(widgets.HBox):
    """One aggregator of the form: ``<out> = <function>(<field>)`` and a remove button."""

    def __init__(self, out: str = "", function: str = "sum", field: str = "") -> None:
        self.out = widgets.Text(value=out, placeholder="output name", layout=fixed_width("150px"))
        self.function = widgets.Dropdown(
            options=AGGREGATORS, value=function, layout=fixed_width("110px")
        )
        self.field = widgets.Text(
            value=field, placeholder="field or expression", layout=fixed_width("220px")
        )
        self.remove_button = styled(
            widgets.Button(
                icon="times", tooltip="Remove this aggregator", layout=fixed_width("34px")
            ),
            "pendo-remove-aggregator",
        )
        super().__init__(
            [self.out, widgets.Label("="), self.function, self.field, self.remove_button]
        )
        self.add_class("pendo-row")

    def aggregator(self) -> tuple[str, Any]:
        """``(output name, pn.agg...)``; raises PipelineError naming what is wrong."""
        name = self.out.value.strip()
        if not name:
            raise PipelineError("aggregators: every aggregator needs an output name")
        expression = self.field.value.strip()
        if self.function.value == "count":
            return name, agg.count(expression or None)
        if not expression:
            raise PipelineError(f"aggregators: {name} = {self.function.value}(...) needs a field")
        return name, getattr(agg, self.function.value)(expression)


class AggregationComposer(Form):
    """Compose a Pendo aggregation from a form; the pipeline JSON follows every change.

    The form builds a :class:`~pendo_nb.Pipeline` with the same builder you would use in code:
    source, app, date range, filter expression, group-by fields, aggregators, sort and limit.
    A source about one kind of object (``pageEvents``, ``featureEvents``, ``trackEvents``,
    ``guideEvents``, ``pages``...) offers its pages, features, track types or guides by name;
    the ids a filter compares (``featureId == "..."``) show their names under it.
    Invalid input is flagged under its field as you type, before anything is sent. Run sends the
    pipeline with :func:`pendo_nb.aggregate` and shows the result with a name column after each
    id column (:func:`pendo_nb.with_names`); "Copy as code" copies the builder Python to the
    clipboard and "Show code" shows it.

    Parameters
    ----------
    client : PendoClient, optional
        The connection to use; default: the default client (the last :func:`pendo_nb.connect`).

    Attributes
    ----------
    pipeline : Pipeline or None
        The pipeline the form describes (None while a field is invalid).
    field_errors : dict[str, Any]
        Field name (``"source"``, ``"dates"``, ``"filter"``, ``"group"``, ``"aggregators"``,
        ``"sort"``, ``"limit"``) -> the error flagged there.
    result : pandas.DataFrame or None
        The last result of Run, as :func:`pendo_nb.aggregate` returns it (without the names
        its table adds).

    Examples
    --------
    >>> composer = AggregationComposer()
    >>> display(composer)              # doctest: +SKIP
    >>> composer.pipeline.to_json()    # doctest: +SKIP
    """

    pipeline = traitlets.Instance(Pipeline, allow_none=True, help="The pipeline of the form.")
    field_errors = traitlets.Dict(help="Field name -> the PipelineError flagged there.")
    field_notes = traitlets.List(
        traitlets.Unicode(),
        help="The fields the pipeline reads that its rows may lack (FieldWarning messages).",
    )
    result = traitlets.Instance(pd.DataFrame, allow_none=True, help="The last result of Run.")

    def __init__(self, client: Any = None, **kwargs: Any) -> None:
        # A plain attribute, never a trait: a client must not travel to the browser.
        self._client = client
        self._run_callbacks = widgets.CallbackDispatcher()
        self.source_select = widgets.Dropdown(
            options=SOURCE_CHOICES, value="events", layout=fixed_width("170px")
        )
        self.app_select = widgets.Dropdown(
            options=APP_CHOICES, value="", layout=fixed_width("130px")
        )
        # Filled from the catalog when a source that takes one object is picked.
        self.object_select = styled(
            widgets.Dropdown(options=[("all", "")], value="", layout=fixed_width("320px")),
            "pendo-object-select",
        )
        self.object_row = labelled("Object", self.object_select)
        self.object_row.layout.display = "none"
        self.range_mode = widgets.ToggleButtons(
            options=[("Last", "last"), ("Between", "between")],
            value="last",
            style={"button_width": "84px"},
        )
        self.last_n = widgets.BoundedIntText(value=7, min=1, max=10_000, layout=fixed_width("70px"))
        self.last_unit = widgets.Dropdown(
            options=UNITS, value="dayRange", layout=fixed_width("95px")
        )
        # Empty until Between is chosen, then filled from the server's clock (never this
        # machine's: the sandbox's "today" is fixed, Pendo's is in the subscription's zone).
        self.start_date = widgets.DatePicker(value=None, layout=fixed_width("135px"))
        self.end_date = widgets.DatePicker(value=None, layout=fixed_width("135px"))
        self.between_period = widgets.Dropdown(
            options=BETWEEN_PERIODS, value="dayRange", layout=fixed_width("100px")
        )
        self.last_box = row(self.last_n, self.last_unit)
        # The dates and their period go on a line of their own under the Last/Between toggle:
        # beside it they do not fit the form's column.
        self.between_box = labelled(
            "", self.start_date, widgets.Label("to"), self.end_date, self.between_period
        )
        self.snapshot_note = hint("")
        self.snapshot_row = labelled("Dates", self.snapshot_note)
        self.dates_row = labelled("Dates", self.range_mode, self.last_box)
        self.filter_text = styled(
            widgets.Text(
                placeholder='e.g. numEvents > 10 && accountId != ""', layout=fixed_width("auto")
            ),
            "pendo-filter",
        )
        self.filter_text.layout.flex = "1 1 auto"
        # The names of the ids the filter compares (featureId == "..."), under it.
        self.filter_names = styled(
            widgets.HTML(layout=widgets.Layout(display="none")),
            "pendo-field-message",
            "pendo-filter-names",
        )
        self.group_by = widgets.TagsInput(
            value=["visitorId"], allow_duplicates=False, placeholder="field, then Enter"
        )
        self.aggregator_rows = widgets.VBox([AggregatorRow("events", "sum", "numEvents")])
        self.add_aggregator_button = widgets.Button(
            description="Add aggregator", icon="plus", layout=fixed_width("auto")
        )
        self.sort_text = widgets.Text(
            value="-events", placeholder="-events, visitorId", layout=fixed_width("200px")
        )
        self.limit = widgets.BoundedIntText(
            value=100, min=0, max=1_000_000, layout=fixed_width("90px"), tooltip="0: no limit"
        )
        self.run_button = widgets.Button(description="Run", icon="play", button_style="primary")
        self.code_button = widgets.ToggleButton(description="Show code", icon="code")
        # Only the page can reach the clipboard: an HTML button with its own click handler.
        self.copy_code = styled(widgets.HTML(), "pendo-copy-code")
        self.errors = {name: styled(StatusLine(), "pendo-field-message") for name in FIELDS}
        self.status = StatusLine()
        self.json_view = styled(widgets.HTML(), "pendo-json")
        self.code_view = styled(
            widgets.Textarea(layout=widgets.Layout(width="100%", height="110px", display="none")),
            "pendo-code",
        )
        self.table = TableView()
        self._result_pipeline: Pipeline | None = None  # what `result` answered
        form = widgets.VBox(
            [
                labelled("Source", self.source_select, widgets.Label("App"), self.app_select),
                self.object_row,
                self.errors["source"],
                self.dates_row,
                self.between_box,
                self.snapshot_row,
                self.errors["dates"],
                labelled("Filter", self.filter_text),
                self.filter_names,
                self.errors["filter"],
                labelled("Group by", self.group_by),
                self.errors["group"],
                labelled("Aggregate", self.aggregator_rows),
                labelled("", self.add_aggregator_button),
                self.errors["aggregators"],
                labelled("Sort", self.sort_text, widgets.Label("Limit"), self.limit),
                labelled("", hint("sort: fields, - for descending · limit 0: no limit")),
                self.errors["sort"],
                self.errors["limit"],
            ],
            layout=widgets.Layout(flex="1 1 540px", min_width="480px"),
        )
        pipeline_column = widgets.VBox(
            [subtitle("Pipeline", "updates as you type"), self.json_view],
            layout=widgets.Layout(flex="1 1 300px", min_width="260px"),
        )
        super().__init__(
            "Aggregation",
            "pendo-aggregation-composer",
            [
                widgets.HBox(
                    [form, pipeline_column],
                    layout=widgets.Layout(flex_flow="row wrap", grid_gap="16px"),
                ),
                labelled("", self.run_button, self.copy_code, self.code_button),
                self.status,
                self.code_view,
                self.table,
            ],
            max_width="1100px",
            **kwargs,
        )
        self.range_mode.observe(self._on_range_mode, "value")  # before the rebuild below
        self.source_select.observe(self._on_source, "value")  # likewise: it sets object_select
        self.filter_text.observe(self._on_filter_text, "value")
        for control in (
            self.source_select, self.app_select, self.object_select, self.range_mode,
            self.last_n, self.last_unit,
            self.start_date, self.end_date, self.between_period, self.filter_text,
            self.group_by, self.sort_text, self.limit,
        ):  # fmt: skip
            control.observe(self._on_form_change, "value")
        self.code_button.observe(self._on_code_toggle, "value")
        self.add_aggregator_button.on_click(lambda _button: self.add_aggregator())
        self.run_button.on_click(lambda _button: self.run())
        for aggregator_row in self.aggregator_rows.children:
            self._watch(aggregator_row)
        self.rebuild()

    def __repr__(self) -> str:
        return short_repr(self, source=self.source_select.value, valid=self.pipeline is not None)

    # -- observers ----------------------------------------------------------------------------

    @traitlets.observe("field_errors")
    def _on_field_errors(self, change: dict[str, Any]) -> None:
        for name, line in self.errors.items():
            error = change["new"].get(name)
            if error is None:
                line.clear()
            else:
                line.show_error(error)
        for name, control in self._controls_by_field().items():
            for widget in control:
                if name in change["new"]:
                    widget.add_class("pendo-field-error")
                else:
                    widget.remove_class("pendo-field-error")

    def _on_form_change(self, _change: dict[str, Any]) -> None:
        self.rebuild()

    def _on_source(self, change: dict[str, Any]) -> None:
        parameter = _object_parameter(change["new"])
        self.object_row.layout.display = "none" if parameter is None else None
        if parameter is None:
            self.object_select.options = [("all", "")]
            return
        kind, _keyword, label = OBJECT_PARAMETERS[parameter]
        self.object_row.children[0].value = label
        names = run_busy(
            lambda: api.object_names(kind, client=self._client),
            status=self.status,
            controls=[self.object_select],
            message=f"Reading the {label.lower()} names…",
        )
        # Without names (the error is on the status line) the source stays whole.
        self.object_select.options = (
            [(f"all {label.lower()}s", "")] if names is None else object_options(names, label)
        )

    def _on_filter_text(self, change: dict[str, Any]) -> None:
        self.filter_names.value = self._filter_names_html(change["new"])
        # Hidden when empty: an empty line would still take a row of the form.
        self.filter_names.layout.display = None if self.filter_names.value else "none"

    def _on_range_mode(self, change: dict[str, Any]) -> None:
        if (
            change["new"] == "between"
            and self.start_date.value is None
            and self.end_date.value is None
        ):
            self._fill_dates_from_server()

    def _fill_dates_from_server(self) -> None:
        """Default the Between dates to the seven days before the server's today."""
        frame = run_busy(
            lambda: api.aggregate(_CLOCK_PROBE, client=self._client),
            status=self.status,
            controls=[self.start_date, self.end_date],
            message="Reading the server's date…",
        )
        server_time = None if frame is None else frame.attrs.get("server_time")
        if server_time is not None:  # otherwise the dates stay empty, flagged at their field
            today = server_time.date()
            self.start_date.value = today - dt.timedelta(days=7)
            self.end_date.value = today

    def _on_code_toggle(self, change: dict[str, Any]) -> None:
        self.code_view.layout.display = None if change["new"] else "none"

    # -- actions ------------------------------------------------------------------------------

    def rebuild(self) -> Pipeline | None:
        """Build the pipeline from the form, flag invalid fields; return it (None if invalid)."""
        name = self.source_select.value
        dated = _takes_dates(name)
        self._show_date_controls(name, dated)
        errors: dict[str, PipelineError] = {}
        notes: list[str] = []
        try:
            pipeline: Pipeline | None = self._source_step(name)
        except PipelineError as error:
            errors["source"] = error
            pipeline = None
        with _field_warnings(notes):
            pipeline = self._with_steps(pipeline, dated, errors)
        self.field_errors = errors
        self.field_notes = notes if not errors else []
        self.pipeline = None if errors else pipeline
        if self.result is not None and self.pipeline != self._result_pipeline:
            self.forget_result()  # it answered another pipeline than the one now shown
        self._show_pipeline()
        if self.field_notes:
            self.status.note(self.field_notes[0])
        return self.pipeline

    def _with_steps(
        self, pipeline: Pipeline | None, dated: bool, errors: dict[str, PipelineError]
    ) -> Pipeline | None:
        """The form's steps after the source, each field's mistake noted in ``errors``."""
        if pipeline is not None:
            steps: list[tuple[str, Callable[[Pipeline], Pipeline]]] = [
                ("filter", self._with_filter),
                ("group", self._with_group),
                ("sort", self._with_sort),
                ("limit", self._with_limit),
            ]
            if dated:
                steps.insert(0, ("dates", self._with_dates))
            for field, step in steps:
                try:
                    pipeline = step(pipeline)
                except _AggregatorError as error:
                    errors["aggregators"] = error
                except PipelineError as error:
                    errors[field] = error
        return pipeline

    def run(self) -> pd.DataFrame | None:
        """Send the pipeline with :func:`pendo_nb.aggregate`; return the result (also ``.result``).

        Nothing is sent while a field is invalid; None is returned, with the reason shown.
        """
        pipeline = self.rebuild()
        if pipeline is None:
            self.status.note("Fix the flagged fields first: nothing was sent.")
            return None
        notes: list[str] = []
        with _field_warnings(notes):  # the metadata fields, checked against the schema
            answered = run_busy(
                lambda: self._run_with_names(pipeline),
                status=self.status,
                controls=[self.run_button],
                message="Running the aggregation…",
            )
        if answered is None:
            self.forget_result()
            return None
        frame, named = answered
        self.result, self._result_pipeline = frame, pipeline
        self.table.show(named, caption="Result")
        if notes:
            self.field_notes = [*self.field_notes, *notes]
            self.status.note(notes[0])
        self._run_callbacks(frame)
        return frame

    def add_aggregator(
        self, out: str = "", function: str = "sum", field: str = ""
    ) -> AggregatorRow:
        """Add an aggregator row to the form (``out = function(field)``) and return it."""
        aggregator_row = AggregatorRow(out, function, field)
        self._watch(aggregator_row)
        self.aggregator_rows.children = [*self.aggregator_rows.children, aggregator_row]
        self.rebuild()
        return aggregator_row

    def remove_aggregator(self, aggregator_row: AggregatorRow) -> None:
        """Take ``aggregator_row`` out of the form."""
        self.aggregator_rows.children = [
            r for r in self.aggregator_rows.children if r is not aggregator_row
        ]
        self.rebuild()

    def on_run(self, callback: Callable[[pd.DataFrame], Any], remove: bool = False) -> None:
        """Register (or with ``remove=True`` unregister) ``callback(frame)``, run after each Run.

        Parameters
        ----------
        callback : callable
            Called with the result DataFrame.
        remove : bool
            Unregister ``callback`` instead.
        """
        self._run_callbacks.register_callback(callback, remove=remove)

    # -- one builder call per field -----------------------------------------------------------

    def _source_step(self, name: str) -> Pipeline:
        parameters = {}
        if self.app_select.value:
            parameters["app_id"] = self.app_select.value
        object_parameter = _object_parameter(name)
        if object_parameter is not None and self.object_select.value:
            parameters[OBJECT_PARAMETERS[object_parameter][1]] = self.object_select.value
        start: Callable[..., Pipeline] = getattr(source, name)
        return start(**parameters)

    def _with_dates(self, pipeline: Pipeline) -> Pipeline:
        if self.range_mode.value == "last":
            unit = dict((period, label) for label, period in UNITS)[self.last_unit.value]
            return pipeline.last(self.last_n.value, unit)
        start, end = self.start_date.value, self.end_date.value
        if start is None or end is None:
            raise PipelineError("dates: pick both a start and an end date")
        if start > end:
            raise PipelineError(f"dates: the start ({start}) is after the end ({end})")
        return pipeline.between(start, end, period=self.between_period.value)

    def _with_filter(self, pipeline: Pipeline) -> Pipeline:
        expression = self.filter_text.value.strip()
        return pipeline.filter(expression) if expression else pipeline

    def _with_group(self, pipeline: Pipeline) -> Pipeline:
        fields = {}
        for aggregator_row in self.aggregator_rows.children:
            try:
                name, aggregator = aggregator_row.aggregator()
            except PipelineError as error:
                raise _AggregatorError(error) from None
            if name in fields:
                raise _AggregatorError(PipelineError(f"aggregators: {name!r} appears twice"))
            fields[name] = aggregator
        keys = [key.strip() for key in self.group_by.value]
        if keys:
            return pipeline.group(*keys, fields=fields)
        return pipeline.reduce(fields) if fields else pipeline

    def _with_sort(self, pipeline: Pipeline) -> Pipeline:
        keys = [key.strip() for key in self.sort_text.value.split(",") if key.strip()]
        return pipeline.sort(*keys) if keys else pipeline

    def _with_limit(self, pipeline: Pipeline) -> Pipeline:
        return pipeline.limit(self.limit.value) if self.limit.value else pipeline

    # -- helpers ------------------------------------------------------------------------------

    def _run_with_names(self, pipeline: Pipeline) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The pipeline's result, and it with a name after each page/feature/... id column."""
        frame = api.aggregate(pipeline, client=self._client)
        return frame, api.with_names(frame, client=self._client)

    def _filter_names_html(self, expression: str) -> str:
        """``featureId "abc…" → Save`` for each id the filter compares (escaped HTML)."""
        compared = dict.fromkeys(_FILTER_ID.findall(expression))  # in order, once each
        if not compared:
            return ""
        names: dict[str, dict[str, str]] = {}
        try:
            for kind in {OBJECT_PARAMETERS[column][0] for column, _ in compared}:
                listed = api.object_names(kind, client=self._client)
                names[kind] = dict(zip(listed["id"], listed["name"], strict=True))
        except PendoError as error:
            text = f"names unavailable: {error}".splitlines()[0]
            return f'<span class="pendo-hint">{html.escape(text)}</span>'
        parts = []
        for column, object_id in compared:
            kind, _keyword, label = OBJECT_PARAMETERS[column]
            name = names[kind].get(object_id)
            parts.append(
                f'{column} "{object_id}" → {name}'
                if name is not None
                else f'{column} "{object_id}": no such {label.lower()}'
            )
        return f'<span class="pendo-hint">{html.escape(" · ".join(parts))}</span>'

    def _show_date_controls(self, source_name: str, dated: bool) -> None:
        self.dates_row.layout.display = None if dated else "none"
        self.snapshot_row.layout.display = "none" if dated else None
        note = f"{source_name} is a snapshot of today: it takes no dates"
        self.snapshot_note.value = f'<span class="pendo-hint">{note}</span>'
        between = self.range_mode.value == "between"
        self.last_box.layout.display = "none" if between else None
        self.between_box.layout.display = None if dated and between else "none"

    def _show_pipeline(self) -> None:
        pipeline = self.pipeline
        self.run_button.disabled = pipeline is None
        if pipeline is None:
            self.json_view.value = (
                '<span class="pendo-hint">Fix the flagged fields to see the pipeline.</span>'
            )
            self.code_view.value = self.copy_code.value = ""
            return
        self.json_view.value = (
            f'<pre class="pendo-json-text">{highlight_json(pipeline.to_json())}</pre>'
        )
        self.code_view.value = str(pipeline.to_code())
        self.copy_code.value = copy_button(self.code_view.value, "Copy as code")

    def _watch(self, aggregator_row: AggregatorRow) -> None:
        for control in (aggregator_row.out, aggregator_row.function, aggregator_row.field):
            control.observe(self._on_form_change, "value")
        aggregator_row.remove_button.on_click(
            lambda _button: self.remove_aggregator(aggregator_row)
        )

    def _controls_by_field(self) -> dict[str, list[widgets.Widget]]:
        return {
            "filter": [self.filter_text],
            "group": [self.group_by],
            "sort": [self.sort_text],
            "limit": [self.limit],
            "dates": [self.start_date, self.end_date, self.last_n],
            "aggregators": [
                control
                for aggregator_row in self.aggregator_rows.children
                for control in (aggregator_row.out, aggregator_row.field)
            ],
        }


@contextlib.contextmanager
def _field_warnings(notes: list[str]) -> Iterator[None]:
    """Collect the FieldWarnings raised inside into ``notes`` (the form shows them on its
    status line, not in the notebook's log, once per change); other warnings pass on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FieldWarning)
        yield
    for warning in caught:
        if issubclass(warning.category, FieldWarning):
            notes.append(str(warning.message))
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )


class _AggregatorError(PipelineError):
    """A mistake in an aggregator row (flagged under the aggregators, not under Group by)."""

    def __init__(self, error: PipelineError) -> None:
        super().__init__(str(error))
