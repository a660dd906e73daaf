"""The ``source`` step: the sources Pendo documents and their parameters (reference 3.2-3.4).

Names and parameters are written in snake_case and sent in Pendo's camelCase; ``app_id`` takes
the ``expandAppIds`` filters (``"*"``, ``"web"``, ``"ios|android"``...) directly. The ``pn.source``
namespace that starts pipelines from it is :mod:`pendo_nb.pipeline.start`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pendo_nb._checks import did_you_mean
from pendo_nb.errors import PipelineError
from pendo_nb.pipeline._values import JSON, json_value, snake_case
from pendo_nb.pipeline.parse import check_expression
from pendo_nb.pipeline.steps.base import Step, register, step_class
from pendo_nb.pipeline.timeseries import TimeSeries, time_series_from_json

COMMON_PARAMETERS = ("appId", "blacklist")
#: Source name -> (needs a timeSeries?, the parameters it takes besides appId and blacklist).
#: ``None`` for "needs" means both are seen (special sources of low confidence).
SOURCES: dict[str, tuple[bool | None, tuple[str, ...]]] = {
    # object sources: a current snapshot, no timeSeries
    "visitors": (False, ("since", "identified")),
    "accounts": (False, ()),
    "doNotProcessVisitors": (False, ()),
    "doNotProcessAccounts": (False, ()),
    "pages": (False, ("pageId", "pageIds")),
    "features": (False, ("featureId", "featureIds")),
    "trackTypes": (False, ("trackTypeId", "trackTypeIds")),
    "guides": (False, ("guideId",)),
    "groups": (False, ("items", "groupType")),
    "apps": (False, ()),
    "vocItems": (False, ("type",)),
    "votes": (False, ()),
    "guidesSeenEver": (False, ("guideId", "guideStepId")),
    "pollsSeenEver": (False, ("guideId", "pollId")),
    # event sources: need a timeSeries
    "events": (True, ("eventClass",)),
    "pageEvents": (True, ("pageId", "pageIds")),
    "featureEvents": (True, ("featureId", "featureIds")),
    "trackEvents": (True, ("trackTypeId", "trackTypeIds")),
    "guideEvents": (True, ("guideId", "guideStepId")),
    "guidesSeen": (True, ("guideId", "guideStepId")),
    "pollEvents": (True, ("guideId", "pollId")),
    "pollsSeen": (True, ("guideId", "pollId")),
    "emailEvents": (True, ("targetType", "targetId", "eventType")),
    "singleEvents": (True, ("eventClass", "reverseTime")),
    # special sources (reference 3.4, low confidence)
    "timespan": (None, ("kind",)),
    "recordingMetadata": (None, ()),
    "agenticEvents": (None, ()),
    "rawEvents": (None, ()),
    "const": (False, ()),  # {"const": [rows...]}: inline rows, for trying operators out
}

#: The ``expandAppIds`` filters of reference 3.2.
APP_FILTERS = ("*", "web", "extension", "mobile", "ios", "android")
_EXPAND_APP_IDS = re.compile(r'expandAppIds\("([^"\\]*)"\)')


def app_id_value(value: object, where: str) -> JSON:
    """An ``appId``: a number, a list, an ``expandAppIds(...)`` expression, or a filter name.

    ``"*"``, ``"web"``, ``"ios|android"``... become ``expandAppIds("...")``.
    """
    if isinstance(value, bool):
        raise PipelineError(f"{where}: expected an app id, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, list | tuple):
        return [app_id_value(item, where) for item in value]
    if isinstance(value, str):
        if all(part in APP_FILTERS for part in value.split("|")):
            return f'expandAppIds("{value}")'
        if value.startswith("expandAppIds("):
            return check_expression(value, where)
        if re.fullmatch(r"-?\d+", value):
            return int(value)
    raise PipelineError(
        f"{where}: expected an app id number, a list, or one of {'|'.join(APP_FILTERS)} "
        f"(several joined by |), got {value!r}"
    )


@register
@step_class
class Source(Step):
    """``{"source": {"<name>": <params or null>, "timeSeries": {...}}}``."""

    op: ClassVar[str] = "source"
    method: ClassVar[str] = "source"
    name: str
    params: JSON = None
    time_series: TimeSeries | None = None

    def __post_init__(self) -> None:
        where = f"source.{snake_case(self.name) if isinstance(self.name, str) else self.name}"
        if self.name not in SOURCES:
            raise PipelineError(
                f"{where}: unknown source {self.name!r}.{did_you_mean(str(self.name), SOURCES)} "
                f"Known: {', '.join(sorted(SOURCES))}"
            )
        needs_time, extra = SOURCES[self.name]
        if self.name == "const":
            rows = self.params
            if not isinstance(rows, Sequence) or not all(isinstance(r, Mapping) for r in rows):
                raise PipelineError(f"{where}(rows): expected a list of row objects")
            object.__setattr__(self, "params", json_value(rows, where))
        elif self.params is not None:
            object.__setattr__(
                self, "params", self._checked_params(where, (*COMMON_PARAMETERS, *extra))
            )

    def _checked_params(self, where: str, known: tuple[str, ...]) -> JSON:
        if not isinstance(self.params, Mapping):
            raise PipelineError(f"{where}: parameters must be an object, got {self.params!r}")
        params = {}
        for key, value in self.params.items():
            if key not in known:
                raise PipelineError(
                    f"{where}({snake_case(key)}): unknown parameter; "
                    f"known: {', '.join(snake_case(k) for k in known)}"
                )
            here = f"{where}({snake_case(key)})"
            params[key] = app_id_value(value, here) if key == "appId" else json_value(value, here)
        return params or None  # {} and null mean the same (reference 3.2)

    @property
    def needs_time_series(self) -> bool:
        """True for event sources, which read periods (reference 3.4)."""
        return SOURCES[self.name][0] is True

    def with_time_series(self, time_series: TimeSeries) -> Source:
        """A copy reading the periods of ``time_series``.

        Snapshot sources refuse one here, where a user adds it, but not when read from JSON:
        Estuary sends ``visitors`` with a timeSeries in production, and Pendo ignores it.
        """
        if SOURCES[self.name][0] is False:
            where = f"source.{snake_case(self.name)}"
            raise PipelineError(f"{where}: {self.name} is a snapshot and takes no time series")
        return Source(self.name, self.params, time_series)

    def body(self) -> JSON:
        body: dict[str, Any] = {self.name: self.params}
        if self.time_series is not None:
            body["timeSeries"] = self.time_series.to_json()
        return body

    @classmethod
    def from_body(cls, body: object) -> Step:
        if not isinstance(body, Mapping):
            raise PipelineError(f"source: expected {{'<sourceName>': ...}}, got {body!r}")
        names = [key for key in body if key != "timeSeries"]
        if len(names) != 1:
            raise PipelineError(f"source: expected exactly one source name, got {names}")
        params = body[names[0]]
        series = body.get("timeSeries")
        if series is None and isinstance(params, Mapping) and "timeSeries" in params:
            # Estuary's placement, inside the parameters (reference 3.2): the same meaning.
            params = {key: value for key, value in params.items() if key != "timeSeries"}
            series = body[names[0]]["timeSeries"]
        time_series = None if series is None else time_series_from_json(series, "time_series")
        return cls(names[0], params, time_series)

    def code_args(self) -> str:
        """The whole start of the chain: ``pn.source.x(...)`` plus ``.time_series(...)``."""
        series = self.time_series
        if series is not None and SOURCES[self.name][0] is False:
            # Only readable from JSON (see with_time_series), so the code reads it the same way.
            return f"pn.Pipeline.from_json([{self.to_json()!r}])"
        function = f"pn.source.{snake_case(self.name)}"
        if self.name == "const":
            code = f"{function}({self.params!r})"
        else:
            params = self.params if isinstance(self.params, dict) else {}
            args = [f"{snake_case(key)}={self._code_value(key, value)!r}"
                    for key, value in params.items()]  # fmt: skip
            code = f"{function}({', '.join(args)})"
        if series is not None:
            end = f"count={series.count!r}" if series.count is not None else f"last={series.last!r}"
            code += f".time_series({series.period!r}, first={series.first!r}, {end})"
        return code

    @staticmethod
    def _code_value(key: str, value: JSON) -> JSON:
        if key == "appId" and isinstance(value, str):
            match = _EXPAND_APP_IDS.fullmatch(value)
            if match and all(part in APP_FILTERS for part in match.group(1).split("|")):
                return match.group(1)
        return value

    def describe(self) -> str:
        text = f"read {self.name}"
        if self.name == "const" and isinstance(self.params, list):
            text += f" ({len(self.params)} inline rows)"
        elif isinstance(self.params, dict) and self.params:
            text += " (" + ", ".join(f"{key}={value}" for key, value in self.params.items()) + ")"
        if self.time_series is not None:
            text += f" over {self.time_series.describe()}"
        return text
