"""``PendoConnection``: one method per Pendo endpoint, returning what the server sent.

Endpoint methods are named after the HTTP call they make (``post_aggregation``, ``get_visitor``,
``get_report_csv``...) and return a :class:`PendoResponse`: the body bytes with ``.json()`` and
``.text``, plus where and when it came from. This is the bottom of the client: it knows regions,
keys, the session and the cache, and nothing of DataFrames (it never imports pandas).
:class:`pendo_nb.PendoClient` adds the DataFrame methods on top of it.
"""

from __future__ import annotations

import base64
import functools
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import orjson
import requests

from pendo_nb.errors import (
    ConfigurationError,
    PendoConnectionError,
    PendoTimeoutError,
    ValidationError,
    error_for_status,
)
from pendo_nb.http import cache_policy
from pendo_nb.http import session as http
from pendo_nb.http.recording import Recorder, Replayer, describe_recording
from pendo_nb.http.snapshot import request_key
from pendo_nb.http.throttle import LOOPBACK_HOSTS

__all__ = [
    "CATALOG_KINDS",
    "REGION_HOSTS",
    "PendoConnection",
    "PendoResponse",
    "aggregation_envelope",
    "checked_kind",
]

#: The five regional API hosts (reference 1.1).
REGION_HOSTS: dict[str, str] = {
    "us": "https://app.pendo.io",
    "us1": "https://us1.app.pendo.io",
    "eu": "https://app.eu.pendo.io",
    "jpn": "https://app.jpn.pendo.io",
    "au": "https://app.au.pendo.io",
}

API_PREFIX = "/api/v1"
OBJECT_KINDS = ("visitor", "account")
#: The catalog endpoints (reference 2.9): pages, features, track types and guides.
CATALOG_KINDS = ("page", "feature", "tracktype", "guide")

# Response headers that may carry a request id (Pendo documents none; these are the usual ones).
_REQUEST_ID_HEADERS = ("x-request-id", "x-pendo-request-id", "request-id", "x-cloud-trace-context")
# Ids made of these characters go in the path as they are; anything else goes as b64_ (ref. 1.4).
_URL_SAFE_ID = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*")

T = TypeVar("T")


class _Exchange(NamedTuple):
    """One live answer: what :meth:`PendoConnection._exchange` got."""

    status: int
    content_type: str
    content: bytes
    request_id: str | None
    from_cache: bool
    fetched_at: datetime | None  # for a cached answer: when it was fetched
    url: str  # the URL that answered
    value: Any  # what a streamed body's reader made of it


@dataclass(frozen=True)
class PendoResponse:
    """A successful answer: the body and where it came from."""

    content: bytes
    method: str
    url: str
    status: int
    content_type: str
    request_id: str | None
    fetched_at: datetime
    from_cache: bool
    region: str | None
    host: str

    def json(self) -> Any:
        """The body parsed as JSON."""
        return orjson.loads(self.content)

    def json_array(self) -> list[Any]:
        """The body parsed as a JSON array; ``TypeError`` naming the URL when it is not one."""
        value = self.json()
        if not isinstance(value, list):
            raise TypeError(f"expected a JSON array from {self.url}, got {type(value).__name__}")
        return value

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    def provenance(self) -> dict[str, Any]:
        """What a DataFrame built from this answer records in ``df.attrs``."""
        return {
            "request_id": self.request_id,
            "url": self.url,
            "host": self.host,
            "region": self.region,
            "fetched_at": self.fetched_at,
            "from_cache": self.from_cache,
        }


def aggregation_envelope(pipeline: Any) -> dict[str, Any]:
    """Normalize what a user passes as an aggregation into Pendo's request envelope.

    Accepts the full envelope (``{"response": ..., "request": {"pipeline": [...]}}``), the
    ``request`` part alone (``{"pipeline": [...]}``), a list of steps, a JSON string of any of
    these, or any object with a ``to_json()`` method returning one of them (``pn.Pipeline``).
    """
    if hasattr(pipeline, "to_json"):
        pipeline = pipeline.to_json()
    if isinstance(pipeline, (str, bytes)):
        try:
            pipeline = orjson.loads(pipeline)
        except orjson.JSONDecodeError as exc:
            raise ValidationError(f"the aggregation is not valid JSON: {exc}") from None
    if isinstance(pipeline, list):
        envelope = {"response": {"mimeType": "application/json"}, "request": {"pipeline": pipeline}}
    elif isinstance(pipeline, Mapping) and "request" in pipeline:
        envelope = dict(pipeline)
    elif isinstance(pipeline, Mapping) and "pipeline" in pipeline:
        envelope = {"response": {"mimeType": "application/json"}, "request": dict(pipeline)}
    else:
        raise ValidationError(
            "an aggregation must be a pipeline object, a list of steps, or a request envelope "
            f"{{'request': {{'pipeline': [...]}}}}; got {type(pipeline).__name__}"
        )
    steps = (
        envelope["request"].get("pipeline") if isinstance(envelope["request"], Mapping) else None
    )
    if not isinstance(steps, list) or not steps:
        raise ValidationError(
            "the aggregation's request.pipeline must be a non-empty list of steps"
        )
    for index, step in enumerate(steps):
        if not isinstance(step, Mapping) or not step:
            raise ValidationError(f"pipeline step {index} must be a non-empty object, got {step!r}")
    return envelope


def _region_of_key(key: str) -> str | None:
    """The region named by a key's suffix (``<uuid>.eu`` -> ``eu``), if any."""
    _, dot, suffix = key.rpartition(".")
    return suffix.lower() if dot and suffix.lower() in REGION_HOSTS else None


def _mask(key: str) -> str:
    """At most the last 4 characters, and none of a key too short to hide the rest."""
    return "****" + key[-4:] if len(key) >= 16 else "****"


def _path_id(object_id: str, argument: str = "id") -> tuple[str, bool]:
    """The id as a path segment, and whether it had to be ``b64_`` encoded."""
    if not isinstance(object_id, str) or not object_id:
        raise ValidationError(f"{argument} must be a non-empty string, got {object_id!r}")
    if _URL_SAFE_ID.fullmatch(object_id) and not object_id.startswith("b64_"):
        return object_id, False
    encoded = base64.urlsafe_b64encode(object_id.encode("utf-8")).decode("ascii")
    return "b64_" + encoded, True


def _report_segment(report_id: str) -> str:
    """The report id as a path segment (report ids need no ``b64_`` form: ref. 1.4)."""
    if not isinstance(report_id, str) or not report_id:
        raise ValidationError(f"report_id must be a non-empty string, got {report_id!r}")
    return quote(report_id, safe="")


class PendoConnection:
    """A connection to one Pendo subscription (or the sandbox) with one integration key.

    Its endpoint methods ``get_*`` / ``post_*`` / ``verify_key`` return a :class:`PendoResponse`
    (``.json()``, ``.text``, provenance) and never build DataFrames. Users get one as a
    :class:`pendo_nb.PendoClient` from :func:`pendo_nb.connect`, which adds the DataFrame
    methods; its parameters are documented there.
    """

    def __init__(
        self,
        key: str | None,
        *,
        region: str | None = None,
        base_url: str | None = None,
        cache: bool | str | os.PathLike[str] | Any = True,
        expire_after: float | None = 3600,
        timeout: float | tuple[float, float] | http.Timeouts | None = None,
        rate_limit: float | Literal["auto"] | None = "auto",
        retry: http.RetryPolicy = http.DEFAULT_RETRY,
        tz: str = "UTC",
        record: str | os.PathLike[str] | None = None,
        pseudonymize: bool | Literal["strict"] = False,
        mask: tuple[str, ...] = (),
        keep: tuple[str, ...] = (),
        replay: str | os.PathLike[str] | None = None,
    ) -> None:
        if pseudonymize not in (False, True, "strict"):
            raise ConfigurationError(
                f"pseudonymize must be True, False or 'strict', got {pseudonymize!r}"
            )
        if (pseudonymize or mask or keep) and not record:
            raise ConfigurationError(
                "pseudonymize=, mask= and keep= apply to a recording: pass record="
            )
        if keep and pseudonymize != "strict":
            raise ConfigurationError("keep= lists fields strict mode keeps: pseudonymize='strict'")
        if record and replay:
            raise ConfigurationError("record= and replay= cannot be combined")
        # A replay needs no key, no host and no network: its answers come from the file.
        self._replay = Replayer(replay) if replay else None
        if self._replay is not None:
            key, cache = "replay", False
        if not isinstance(key, str) or not key.strip():
            raise ConfigurationError("the integration key must be a non-empty string")
        self._key = key.strip()
        self._key_region = _region_of_key(self._key)
        if self._replay is not None:
            self.region: str | None = None
            self.base_url: str = f"snapshot://{self._replay.path.name}"
        elif base_url:
            if not re.match(r"https?://[^/]+", base_url):
                raise ConfigurationError(
                    f"base_url must start with http:// or https://, got {base_url!r}"
                )
            self.region = None
            self.base_url = base_url.rstrip("/")
        else:
            chosen = (region or os.environ.get("PENDO_REGION") or self._key_region or "us").lower()
            if chosen not in REGION_HOSTS:
                raise ConfigurationError(
                    f"unknown region {chosen!r}: expected one of {', '.join(REGION_HOSTS)} "
                    "(or pass base_url=...)"
                )
            self.region = chosen
            self.base_url = REGION_HOSTS[chosen]
        self.host = urlsplit(self.base_url).netloc
        self.timeouts = http.Timeouts.coerce(timeout)
        self.tz = tz
        self._session = http.build_session(
            self._key,
            self.base_url,
            cache=cache,
            expire_after=expire_after,
            retry=retry,
            rate_limit=rate_limit,
        )
        self._namespace = http.cache_namespace(self._key, self.base_url)
        self._hits = 0
        self._misses = 0
        self._schemas: dict[str, dict[str, Any]] = {}
        self._recorder = (
            Recorder(record, pseudonymize=pseudonymize, mask=tuple(mask), keep=tuple(keep))
            if record
            else None
        )
        # How this client was made, so a Dask worker can make the same one (pendo_nb.dask).
        self._options = {
            "region": region,
            "base_url": base_url,
            "cache": cache,
            "expire_after": expire_after,
            "timeout": self.timeouts,
            "rate_limit": rate_limit,
            "retry": retry,
            "tz": tz,
            "replay": replay,
        }

    def __repr__(self) -> str:
        if self._replay is not None:
            return f"<{type(self).__name__} replay={self._replay.path.name}>"
        region = self.region or "custom"
        recording = f" recording={self._recorder.path.name}" if self._recorder else ""
        return (
            f"<{type(self).__name__} region={region} host={self.host} key={_mask(self._key)}"
            f"{recording}>"
        )

    @property
    def replaying(self) -> Path | None:
        """The snapshot file this client replays, or None for a live client."""
        return self._replay.path if self._replay is not None else None

    @property
    def recording(self) -> Path | None:
        """The snapshot file this client records into, or None."""
        return self._recorder.path if self._recorder is not None else None

    @property
    def streams_answers(self) -> bool:
        """Whether answers can be read as they arrive, never held whole: a live client that
        keeps them nowhere. requests-cache reads a whole body to store it, and a recording or
        a replay holds each answer whole; such clients read answers whole, as before."""
        return (
            self._replay is None
            and self._recorder is None
            and bool(self._session.settings.disabled)
        )

    @property
    def values_are_pseudonyms(self) -> bool:
        """Whether ids and names in answers are fakes (a pseudonymized recording or replay)."""
        if self._replay is not None:
            return bool(self._replay.snapshot.manifest.get("pseudonymized"))
        return self._recorder is not None and self._recorder.pseudonyms is not None

    def finish_recording(self) -> str:
        """Write the snapshot now and say what it holds (and what was pseudonymized).

        Returns
        -------
        str
            One paragraph: the file, its answers and size, and the values replaced.
        """
        if self._recorder is None:
            raise ConfigurationError("this client is not recording: connect(record=...) first")
        self._recorder.save()
        return describe_recording(self._recorder.path, self._recorder.summary())

    def refuse_writes_if_replaying(self, what: str) -> None:
        """Raise :class:`~pendo_nb.errors.SnapshotError` for the write ``what`` when this client
        replays a snapshot."""
        if self._replay is not None:
            raise self._replay.refuse_write(what)

    def close(self) -> None:
        """Close the HTTP session (and its cache file); a recording is saved first."""
        if self._recorder is not None:
            self._recorder.close()
        self._session.close()

    # -- plumbing ---------------------------------------------------------------------------

    def _api_url(self, path: str) -> str:
        return f"{self.base_url}{API_PREFIX}{path}"

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        b64: bool = False,
        refresh: bool = False,
        aggregation: bool = False,
        accept: str = "application/json",
    ) -> PendoResponse:
        asked_path, asked_body, url = path, body, self._api_url(path)
        data = http.encode_json(body) if body is not None else None
        is_write = method != "GET" and not aggregation
        # Snapshots match requests as the notebook sent them (fake ids included), by this key.
        snapshot = self._replay is not None or self._recorder is not None
        key = request_key(method, path, params, data) if snapshot else ""
        if self._replay is not None:
            if is_write:
                self.refuse_writes_if_replaying(f"{method} {path}")
            recorded = self._replay.answer(key, method=method, path=path)
            status, content_type, content = recorded.status, recorded.content_type, recorded.content
            request_id, from_cache = None, False
            fetched_at: datetime | None = recorded.recorded_at
            answered_url = f"{url}?{urlencode(params)}" if params else url
        else:
            if self._recorder is not None and self._recorder.pseudonyms is not None:
                self._recorder.pseudonyms.learn_once(self._people_rows)
                path, b64 = self._real_path(path, b64)
                if body is not None:
                    data = http.encode_json(self._recorder.to_real_body(body))
            live = self._exchange(
                method, path, params=params, data=data, b64=b64, refresh=refresh,
                aggregation=aggregation, accept=accept,
            )  # fmt: skip
            status, content_type, content = live.status, live.content_type, live.content
            request_id, from_cache = live.request_id, live.from_cache
            fetched_at, answered_url = live.fetched_at, live.url
            if self._recorder is not None and not is_write and (status < 500 and status != 429):
                content = self._recorder.record(
                    key, method=method, path=asked_path, params=dict(params or {}),
                    request=asked_body, status=status,
                    content_type=content_type, content=content,
                )  # fmt: skip
        return self._response(
            method, answered_url, status, content_type, content, request_id,
            fetched_at=fetched_at, from_cache=from_cache, is_write=is_write,
        )  # fmt: skip

    def _send_streamed(
        self, method: str, path: str, *, body: Any, read: Callable[[Iterator[bytes]], T]
    ) -> tuple[PendoResponse, T]:
        """A read (an aggregation) sent live, its body handed to ``read`` as it arrives.

        Only when :attr:`streams_answers`: a cache or a snapshot keeps each answer whole.
        """
        if not self.streams_answers:
            raise ConfigurationError("only a client without cache or snapshot streams answers")
        live = self._exchange(
            method, path, params=None, data=http.encode_json(body), b64=False, refresh=False,
            aggregation=True, accept="application/json", read=read,
        )  # fmt: skip
        response = self._response(
            method, live.url, live.status, live.content_type, live.content, live.request_id,
            fetched_at=live.fetched_at, from_cache=live.from_cache, is_write=False,
        )  # fmt: skip
        return response, live.value

    def _response(
        self,
        method: str,
        url: str,
        status: int,
        content_type: str,
        content: bytes,
        request_id: str | None,
        *,
        fetched_at: datetime | None,
        from_cache: bool,
        is_write: bool,
    ) -> PendoResponse:
        """The answer, or the error its status means (with the key redacted)."""
        if status >= 400:
            raise error_for_status(
                status,
                method=method,
                url=url,
                body=content.decode("utf-8", "replace"),
                request_id=request_id,
                is_write=is_write,
                host=self.host,
                key_host=self._key_region_host(),
                secret=self._key,
            )
        return PendoResponse(
            content=content,
            method=method,
            url=url,
            status=status,
            content_type=content_type,
            request_id=request_id,
            fetched_at=(fetched_at or datetime.now(UTC)).astimezone(UTC),
            from_cache=from_cache,
            region=self.region,
            host=self.host,
        )

    def _no_answer(self, method: str, url: str, error: Exception) -> str:
        """The message of a request that got no answer at all: why, in a few words, and what
        to check, naming the host tried and its region (never the key)."""
        if self.region is not None:
            where = (
                f"the region: {self.host} is the host of region {self.region!r}; another region "
                f"is connect(region=...) ({', '.join(REGION_HOSTS)}), another host "
                "connect(base_url=...)"
            )
        else:
            where = (
                f"base_url: this client asks {self.base_url}, no Pendo region "
                "(connect(region=...) asks Pendo's own hosts)"
            )
        hint = f"check the network, any proxy (HTTPS_PROXY, HTTP_PROXY), and {where}"
        if (urlsplit(self.base_url).hostname or "") in LOOPBACK_HOSTS:
            hint = f"is a server (the sandbox?) running at {self.host}? Else {hint}"
        reason = http.failure_reason(error)
        return f"{method} {url} failed: no answer from {self.host} ({reason}); {hint}"

    def _key_region_host(self) -> str | None:
        """The host the key's region suffix points to, when that can explain a refused key.

        Only for a client on a regional host: behind a custom ``base_url`` (a proxy, a gateway,
        the sandbox) the host says nothing about regions, so a suffixed key refused there is
        not a wrong-region key and a hint saying so would send the user the wrong way.
        """
        if self.region is None or not self._key_region:
            return None
        return urlsplit(REGION_HOSTS[self._key_region]).netloc

    def _people_rows(self) -> tuple[list[Any], list[Any]]:
        """Every row of the ``visitors`` and of the ``accounts`` source, one aggregation each,
        sent live and never recorded: what the pseudonymizer and the leak scan learn the
        subscription's real ids, e-mail addresses and names from."""
        sources = []
        for source in ("visitors", "accounts"):
            envelope = aggregation_envelope([{"source": {source: None}}])
            live = self._exchange(
                "POST", "/aggregation", params=None, data=http.encode_json(envelope), b64=False,
                refresh=False, aggregation=True, accept="application/json",
            )  # fmt: skip
            response = self._response(
                "POST", live.url, live.status, live.content_type, live.content, live.request_id,
                fetched_at=live.fetched_at, from_cache=live.from_cache, is_write=False,
            )  # fmt: skip
            results = response.json().get("results")
            sources.append(results if isinstance(results, list) else [])
        return sources[0], sources[1]

    def _real_path(self, path: str, b64: bool) -> tuple[str, bool]:
        """The path with the fake ids the notebook passed made real (and encoded if need be)."""
        assert self._recorder is not None  # called only while recording with pseudonyms
        segments = []
        for segment in path.split("/"):
            asked = segment
            if segment.startswith("b64_"):
                asked = base64.urlsafe_b64decode(segment[4:]).decode("utf-8")
            real = self._recorder.to_real(asked) if asked else asked
            if real != asked:
                segment, encoded = _path_id(real)
                b64 = b64 or encoded
            segments.append(segment)
        return "/".join(segments), b64

    def _exchange(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        data: bytes | None,
        b64: bool,
        refresh: bool,
        aggregation: bool,
        accept: str,
        read: Callable[[Iterator[bytes]], Any] | None = None,
    ) -> _Exchange:
        """One live request through the session (cache, retries, rate limit).

        With ``read``, a successful answer's body goes to it as it arrives
        (:func:`pendo_nb.http.session.read_streamed`): the body returned is empty.
        """
        url = self._api_url(path)
        headers = {"Accept": accept}
        if data is not None:  # a JSON body, encoded by _send
            headers["Content-Type"] = "application/json"
        if b64:
            headers["x-pendo-base64-encoded-params"] = "true"
        # The caller may choose this request's cache expiry (time windows, pendo_nb.cache_policy).
        expiry = cache_policy.current_request_expiry()
        per_request: dict[str, Any]  # requests-cache's expire_after, when the caller chose one
        if expiry is cache_policy.UNSET:
            per_request = {}
        else:  # requests-cache reads None as "not set": -1 is its "never expire"
            per_request = {"expire_after": -1 if expiry is None else expiry}
        send = functools.partial(
            self._session.request,
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            timeout=self.timeouts.for_request(aggregation=aggregation),
            force_refresh=refresh,
            **per_request,
        )
        response: requests.Response
        value = None
        try:
            if read is None:
                response = send()
            else:
                response, value = http.read_streamed(
                    self._session, functools.partial(send, stream=True), read
                )
        except requests.ConnectTimeout as exc:  # no connection at all: as a refused one
            message = self._no_answer(method, url, exc)
            raise PendoTimeoutError(message, method=method, url=url) from None
        except requests.Timeout as exc:
            raise PendoTimeoutError(
                f"{method} {url} timed out ({type(exc).__name__}); aggregations may take up to "
                "5 minutes: raise connect(timeout=...) or shorten the time range",
                method=method,
                url=url,
            ) from None
        except requests.ConnectionError as exc:
            message = self._no_answer(method, url, exc)
            raise PendoConnectionError(message, method=method, url=url) from None
        from_cache = bool(getattr(response, "from_cache", False))
        if from_cache:
            self._hits += 1
        else:
            self._misses += 1
        request_id = next(
            (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None
        )
        fetched_at = getattr(response, "created_at", None) if from_cache else None
        return _Exchange(
            response.status_code,
            response.headers.get("Content-Type", ""),
            # read once, whole, by the session's adapter; a streamed body went to `read`
            response.content if read is None or response.status_code >= 400 else b"",
            request_id,
            from_cache,
            fetched_at,
            response.url or url,
            value,
        )

    # -- endpoint methods -------------------------------------------------------------------

    def post_aggregation(self, pipeline: Any, *, refresh: bool = False) -> PendoResponse:
        """``POST /aggregation``: run an aggregation (see :func:`aggregation_envelope` for forms).

        Cached like a read: equal pipelines share an entry; ``refresh=True`` asks the server again.
        """
        envelope = aggregation_envelope(pipeline)
        return self._send("POST", "/aggregation", body=envelope, refresh=refresh, aggregation=True)

    def post_aggregation_streamed(
        self, pipeline: Any, read: Callable[[Iterator[bytes]], T]
    ) -> tuple[PendoResponse, T]:
        """``POST /aggregation`` with the answer's body handed to ``read`` in chunks as it
        arrives, so a big answer is never in memory whole.

        Only for a client that :attr:`streams_answers`. Returns the response (its ``content``
        empty: the body went to ``read``) and what ``read`` returned. A body cut short is sent
        again, within the retry budget, and ``read`` starts over on the new body; an error answer
        raises as :meth:`post_aggregation` does, without calling ``read``.
        """
        envelope = aggregation_envelope(pipeline)
        return self._send_streamed("POST", "/aggregation", body=envelope, read=read)

    def get_account(self, account_id: str, *, refresh: bool = False) -> PendoResponse:
        """``GET /account/{id}``: one account (404 -> ``NotFoundError``)."""
        segment, b64 = _path_id(account_id, "account_id")
        return self._send("GET", f"/account/{segment}", b64=b64, refresh=refresh)

    def get_visitor(self, visitor_id: str, *, refresh: bool = False) -> PendoResponse:
        """``GET /visitor/{id}``: one visitor (404 -> ``NotFoundError``)."""
        segment, b64 = _path_id(visitor_id, "visitor_id")
        return self._send("GET", f"/visitor/{segment}", b64=b64, refresh=refresh)

    def get_visitor_history(
        self, visitor_id: str, starttime: int, *, refresh: bool = False
    ) -> PendoResponse:
        """``GET /visitor/{id}/history?starttime=ms``: 24 hours from ``starttime`` (epoch ms)."""
        segment, b64 = _path_id(visitor_id, "visitor_id")
        return self._send(
            "GET",
            f"/visitor/{segment}/history",
            params={"starttime": int(starttime)},
            b64=b64,
            refresh=refresh,
        )

    def get_reports(self, *, refresh: bool = False) -> PendoResponse:
        """``GET /report``: every public report's definition."""
        return self._send("GET", "/report", refresh=refresh)

    def get_segments(self, *, refresh: bool = False) -> PendoResponse:
        """``GET /segment``: the subscription's saved segments."""
        return self._send("GET", "/segment", refresh=refresh)

    def get_catalog(self, kind: str, *, refresh: bool = False) -> PendoResponse:
        """``GET /{page|feature|tracktype|guide}?expand=*``: the tagged objects of every app."""
        if kind not in CATALOG_KINDS:
            raise ValidationError(f"kind must be one of {', '.join(CATALOG_KINDS)}; got {kind!r}")
        return self._send("GET", f"/{kind}", params={"expand": "*"}, refresh=refresh)

    def get_report_results(self, report_id: str, *, refresh: bool = False) -> PendoResponse:
        """``GET /report/{id}/results.json``: a report's rows."""
        return self._send(
            "GET", f"/report/{_report_segment(report_id)}/results.json", refresh=refresh
        )

    def get_report_csv(self, report_id: str, *, refresh: bool = False) -> PendoResponse:
        """``GET /report/{id}/results.csv``: a report's rows as CSV text."""
        return self._send(
            "GET",
            f"/report/{_report_segment(report_id)}/results.csv",
            refresh=refresh,
            accept="text/csv",
        )

    def get_metadata_schema(self, kind: str, *, refresh: bool = False) -> PendoResponse:
        """``GET /metadata/schema/{kind}``: field definitions by group (visitor/account)."""
        return self._send("GET", f"/metadata/schema/{checked_kind(kind)}", refresh=refresh)

    def post_metadata_values(
        self, kind: str, group: str, records: Sequence[Mapping[str, Any]], *, create: bool = False
    ) -> PendoResponse:
        """``POST /metadata/{kind}/{group}/value``: set fields on many objects at once.

        ``records`` are ``{"visitorId" | "accountId": id, "values": {field: value}}``. Never
        cached; afterwards, cached reads that may show the old values are forgotten.
        """
        kind = checked_kind(kind)
        try:
            return self._send(
                "POST",
                f"/metadata/{kind}/{quote(group, safe='')}/value",
                params={"create": "true"} if create else None,
                body=list(records),
            )
        finally:
            # Even a failed call may have written part of the records.
            self._forget_after_write(kind, [r[f"{kind}Id"] for r in records])

    def verify_key(self) -> PendoResponse:
        """``GET /token/verify``: 200 when the key is valid and may write, 403 otherwise.

        Never cached: the answer must reflect the key as it is now.
        """
        return self._send("GET", "/token/verify", refresh=True)

    # -- cache ------------------------------------------------------------------------------

    def metadata_schema(self, kind: str) -> dict[str, dict[str, Any]]:
        """The metadata schema of ``kind`` (``{group: {field: definition}}``), fetched once."""
        kind = checked_kind(kind)
        if kind not in self._schemas:
            schema = self.get_metadata_schema(kind).json()
            self._schemas[kind] = schema if isinstance(schema, dict) else {}
        return self._schemas[kind]

    def _forget_after_write(self, kind: str, object_ids: Sequence[str]) -> None:
        paths = set()
        for object_id in object_ids:
            segment = _path_id(object_id)[0] if isinstance(object_id, str) and object_id else None
            if segment:
                paths.add(f"{urlsplit(self._api_url(f'/{kind}/{segment}')).path}")
        api = urlsplit(self._api_url("")).path
        # Aggregations and reports may read any metadata: forget them all.
        prefixes = [f"{api}/aggregation", f"{api}/report/", f"{api}/metadata/{kind}/"]
        http.forget_cached(self._session, self.base_url, paths=paths, prefixes=prefixes)
        self._schemas.pop(kind, None)

    def clear_cache(self, *, everything: bool = False) -> None:
        """Delete cached answers: the client's own (its key and host), or every one in its store.

        Parameters
        ----------
        everything : bool
            Also delete the answers other keys stored in the same cache file.

        Returns
        -------
        None

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> pn.clear_cache()
        >>> pn.cache_info().entries
        0
        """
        http.clear_cached(self._session, None if everything else self._namespace)
        self._schemas.clear()

    def cache_info(self) -> http.CacheInfo:
        """What the client's cache holds (entries, size, file) and its hits and misses so far.

        Returns
        -------
        CacheInfo
            ``enabled``, ``location``, ``entries``, ``size_bytes``, ``hits``, ``misses``.

        Examples
        --------
        >>> import pendo_nb as pn
        >>> _ = pn.connect(sandbox=True)
        >>> info = pn.cache_info()
        >>> info.hits >= 0
        True
        """
        return http.cache_info(self._session, self._namespace, hits=self._hits, misses=self._misses)

    def aggregation_cache_key(self, pipeline: Any) -> str | None:
        """The key under which the cache holds this aggregation's answer; None if it holds none.

        The key is a hash (it never contains the integration key). :mod:`pendo_nb.frame_cache`
        files converted windows under it, so they live exactly as long as the answer does.
        """
        if self._session.settings.disabled:
            return None
        body = http.encode_json(aggregation_envelope(pipeline))
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        url = self._api_url("/aggregation")
        request = requests.Request("POST", url, data=body, headers=headers)
        # prepared as _send's requests are, so the key is the one the session stored them under
        key = self._session.cache.create_key(self._session.prepare_request(request), verify=True)
        return key if http.cache_holds(self._session, key) else None


def checked_kind(kind: str) -> str:
    """``kind`` if it is ``"visitor"`` or ``"account"``; ``ValidationError`` otherwise."""
    if kind not in OBJECT_KINDS:
        raise ValidationError(f"kind must be 'visitor' or 'account', got {kind!r}")
    return kind
