"""The one place that builds HTTP: caching, retries, timeouts, pacing, key redaction.

:func:`build_session` returns a requests-cache ``CachedSession`` configured for Pendo. Every other
module sends requests through such a session and never configures HTTP itself.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import orjson
import platformdirs
import requests
import requests_cache
from requests.adapters import HTTPAdapter
from requests_cache.backends.base import BaseCache
from requests_cache.backends.sqlite import SQLiteDict
from requests_cache.cache_keys import create_key
from urllib3 import BaseHTTPResponse
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util.retry import Retry

from pendo_nb.http.cache_file import owner_only_dir, usable_cache_file
from pendo_nb.http.throttle import AdaptiveLimiter, shared_limiter

__all__ = [
    "KEY_HEADER",
    "CacheInfo",
    "RetryPolicy",
    "Timeouts",
    "build_session",
    "cache_dir",
    "cache_holds",
    "cache_info",
    "cache_namespace",
    "clear_cached",
    "encode_json",
    "failure_reason",
    "forget_cached",
    "read_streamed",
]

KEY_HEADER = "x-pendo-integration-key"

#: Statuses worth retrying: rate limited, or a server/gateway failure that Pendo says to retry.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

T = TypeVar("T")


def encode_json(value: Any) -> bytes:
    """Serialize a request body with sorted keys, so equal pipelines share one cache entry."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def cache_dir() -> Path:
    """The directory of the default cache: ``PENDO_NB_CACHE_DIR``, else the user cache dir."""
    configured = os.environ.get("PENDO_NB_CACHE_DIR")
    # The environment wins so tests, CI and shared machines can point the cache elsewhere.
    return Path(configured) if configured else Path(platformdirs.user_cache_dir("pendo_nb"))


@dataclass(frozen=True)
class Timeouts:
    """Connect and read timeouts in seconds.

    ``aggregation`` is the read timeout of aggregation requests: Pendo lets an aggregation run for
    up to 5 minutes, so it is never below 330 s.
    """

    connect: float = 10.0
    read: float = 60.0
    aggregation: float = 330.0

    @classmethod
    def coerce(cls, value: float | tuple[float, float] | Timeouts | None) -> Timeouts:
        """Accept a number (read timeout), a ``(connect, read)`` pair, or a ``Timeouts``."""
        if value is None:
            return cls()
        if isinstance(value, Timeouts):
            return value
        if isinstance(value, tuple):
            connect, read = value
        else:
            connect, read = min(float(value), cls.connect), float(value)
        if connect <= 0 or read <= 0:
            raise ValueError(f"timeouts must be positive, got connect={connect}, read={read}")
        return cls(connect=connect, read=read, aggregation=max(read, cls.aggregation))

    def for_request(self, *, aggregation: bool = False) -> tuple[float, float]:
        return (self.connect, self.aggregation if aggregation else self.read)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry 429, 5xx and dropped connections.

    Attributes
    ----------
    max_tries : int
        Attempts in all, the first included.
    max_seconds : float
        Give up once this much time has passed since the first attempt, or when the next wait
        (``Retry-After`` or backoff) would go beyond it.
    backoff : float
        First backoff in seconds; it doubles on each retry, plus up to ``backoff`` of jitter.
    backoff_max : float
        Longest single backoff.
    """

    max_tries: int = 5
    max_seconds: float = 120.0
    backoff: float = 1.0
    backoff_max: float = 30.0


# Each retry wait is announced here, at WARNING: with no logging set up, Python prints it (the
# message alone) on stderr, which a notebook shows under the cell, so a wait is never silent.
# No NullHandler on purpose; logging.getLogger("pendo_nb").setLevel("ERROR") silences them.
_log = logging.getLogger(__name__)


def _sleep(seconds: float) -> None:
    """Wait between retries (a seam for tests, which record waits instead of sleeping)."""
    time.sleep(seconds)


class _Tries:
    """The tries of one request, from its first attempt to its last: its retry budget's state.

    Made when the request first reaches the adapter, and passed explicitly to whatever sends it
    again: the adapter's retries (urllib3 sends each attempt once) and :func:`read_streamed`'s
    re-send of a body cut short, which gets them from the response. So the time budget counts
    from the first attempt, and the tries across re-sends, with no state kept per thread.
    """

    def __init__(self, adapter: _PendoAdapter, options: dict[str, Any]) -> None:
        # Counts the tries and computes the waits (backoff, Retry-After); it never sends.
        self.retry: Retry = adapter.counting
        self.max_seconds = adapter.max_seconds
        self.max_tries = adapter.max_tries
        self.limiter = adapter.limiter
        self.options = options  # how the request was sent (stream, timeout...): the same again
        self.started = time.monotonic()
        self.sent = self.started  # when the latest attempt went out: see answered()
        self.pace()

    def pace(self) -> None:
        """Wait for the limiter (if any) before an attempt goes out, and note when it went."""
        self.sent = self.limiter.acquire() if self.limiter is not None else time.monotonic()

    def answered(self, response: requests.Response) -> None:
        """Tell the limiter how the latest attempt was answered (when it went out tells it an
        old overload from a new one)."""
        if self.limiter is None:
            return
        retried = self.worth_retrying(response)
        retry_after = self.retry.get_retry_after(response.raw) if retried else None
        self.limiter.answer(self.sent, response.status_code, retry_after)

    def worth_retrying(self, response: requests.Response) -> bool:
        """Whether urllib3's rules retry this answer: :data:`RETRY_STATUSES`, and a 413 that
        says when to come back while tries remain."""
        method = response.request.method or ""
        has_retry_after = bool(response.headers.get("Retry-After"))
        return self.retry.is_retry(method, response.status_code, has_retry_after)

    def wait_for_next(
        self,
        request: requests.PreparedRequest,
        *,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        cut: bool = False,
    ) -> bool:
        """Count a failed try (an answer worth retrying, urllib3's ``response``, or an
        ``error``; ``cut``: in the body of an answer), announce the wait, wait before the next
        try and pace it; False, without waiting, once the tries or the time budget are spent."""
        try:
            retry = self.retry.increment(request.method, request.url, response, error)
        except MaxRetryError:
            return False
        retry_after = retry.get_retry_after(response) if response is not None else None
        # urllib3 retries the first failure at once; Pendo asks for a pause before any retry.
        backoff = max(retry.backoff_factor, retry.get_backoff_time())
        wait = retry_after if retry_after is not None else backoff
        if time.monotonic() - self.started + wait > self.max_seconds:
            return False  # waiting would overrun the budget: stop now
        self.retry = retry
        _log.warning(
            "%s; retrying in %s (attempt %d of %d)",
            _what_failed(request, response, error, cut),
            _seconds(wait),
            len(retry.history) + 1,
            self.max_tries,
        )
        if retry_after is None or self.limiter is None:
            # With a limiter, a Retry-After already pauses every worker there (see answered).
            _sleep(wait)
        self.pace()
        return True


# Where a streamed response keeps the tries of its request, for read_streamed's re-send.
_TRIES = "_pendo_nb_tries"


class _PendoAdapter(HTTPAdapter):
    """Sends each attempt once and retries here (429, 5xx, dropped connections, bodies cut
    short), each request with its own :class:`_Tries`; paces every attempt that goes out."""

    def __init__(self, *, policy: RetryPolicy, limiter: AdaptiveLimiter | None) -> None:
        # urllib3 tries once. Every method counts as retryable there, so any failure ends as
        # MaxRetryError (requests' ConnectionError), whatever its kind, as spent retries did.
        super().__init__(max_retries=Retry(0, allowed_methods=None, raise_on_status=False))
        self.counting = Retry(
            total=policy.max_tries - 1,
            status_forcelist=sorted(RETRY_STATUSES),
            # None = every method: aggregation POSTs are reads, and metadata writes set values
            # (setting the same values twice is harmless).
            allowed_methods=None,
            respect_retry_after_header=True,
            backoff_factor=policy.backoff,
            backoff_max=policy.backoff_max,
            backoff_jitter=policy.backoff,  # jitter spreads out clients retrying in step
        )
        self.max_seconds = policy.max_seconds
        self.max_tries = policy.max_tries
        self.limiter = limiter

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
        tries: _Tries | None = None,
    ) -> requests.Response:
        """Send ``request``, retrying it within its budget; ``tries``: those of a request sent
        before (a streamed body cut short), already paced for this attempt."""
        options = {
            "stream": stream, "timeout": timeout, "verify": verify, "cert": cert, "proxies": proxies
        }  # fmt: skip
        if tries is None:  # a new request: a new budget, and its first attempt paced
            tries = _Tries(self, options)
        while True:
            try:
                response = super().send(request, **options)
            except requests.ConnectionError as exc:
                if tries.wait_for_next(request, error=_urllib3_error(exc)):
                    continue
                raise
            if stream and not _read_whole(response):
                # read_streamed reads it as it arrives, and sends again if it is cut short.
                tries.answered(response)
                setattr(response, _TRIES, tries)
                return response
            try:
                # Read the body here: urllib3 retries nothing past the headers, so a body cut
                # short would escape as a bare error. One read, so a big answer is never held
                # twice; requests and requests-cache then use `_content`.
                body = response.raw.read(decode_content=True)
            except (ProtocolError, ReadTimeoutError) as exc:
                response.close()
                if tries.wait_for_next(request, error=exc, cut=True):
                    continue
                raise requests.ConnectionError(exc, request=request) from None
            response._content = body
            response._content_consumed = True  # type: ignore[attr-defined]  # untyped in the stubs
            tries.answered(response)
            retry = tries.worth_retrying(response)
            if retry and tries.wait_for_next(request, response=response.raw):
                continue
            return response  # the last 429/5xx is handed back: the error carries its body

    def resend(self, response: requests.Response, error: Exception) -> requests.Response:
        """Send the request of a streamed ``response`` whose body was cut short by ``error``
        again, as one more try of it; ``requests.ConnectionError`` once its budget is spent."""
        tries = getattr(response, _TRIES)
        assert isinstance(tries, _Tries)  # send() gives every streamed response its tries
        request = response.request
        if not tries.wait_for_next(request, error=error, cut=True):
            raise requests.ConnectionError(error, request=request)
        return self.send(request, tries=tries, **tries.options)


def _urllib3_error(exc: Exception) -> Exception:
    """The urllib3 error behind requests' ``ConnectionError`` (the reason urllib3 gave up)."""
    wrapped = exc.args[0] if isinstance(exc, requests.RequestException) and exc.args else None
    cause = wrapped if isinstance(wrapped, Exception) else exc
    return cause.reason if isinstance(cause, MaxRetryError) and cause.reason else cause


def failure_reason(error: Exception) -> str:
    """Why a request got no answer, in a few words (``connection refused``, ``the host name did
    not resolve``...), from requests' or urllib3's exception. Only the operating system's words
    and fixed text: never a URL or a header, so never the key."""
    cause = _urllib3_error(error)
    if isinstance(cause, NameResolutionError):
        return "the host name did not resolve"
    if isinstance(cause, NewConnectionError):  # refused, unreachable network...: the OS says
        system = cause.__cause__
        if isinstance(system, OSError) and system.strerror:
            return system.strerror.lower()
        return "no connection could be made"
    if isinstance(cause, ConnectTimeoutError | requests.ConnectTimeout):
        return "connecting timed out"
    if isinstance(cause, ReadTimeoutError):
        return "no answer within the read timeout"
    if isinstance(cause, ProxyError):
        return "the proxy failed"
    if isinstance(cause, SSLError):
        return "the TLS handshake failed"
    if isinstance(cause, ProtocolError):
        return "the connection dropped"
    return type(cause).__name__


def _what_failed(
    request: requests.PreparedRequest,
    response: BaseHTTPResponse | None,
    error: Exception | None,
    cut: bool,
) -> str:
    """The start of a retry's notice: who failed, and how."""
    host = urlsplit(request.url or "").netloc
    if response is not None:
        return f"Pendo ({host}) answered {response.status} {response.reason or ''}".rstrip()
    assert error is not None  # a try fails with an answer or with an error
    if cut:
        return f"Pendo's answer ({host}) was cut short ({failure_reason(error)})"
    return f"Pendo ({host}) did not answer ({failure_reason(error)})"


def _seconds(wait: float) -> str:
    return f"{wait:.2g} s" if wait < 10 else f"{wait:.0f} s"


def _read_whole(response: requests.Response) -> bool:
    """Whether the adapter reads a streamed answer whole: an error, which becomes an exception
    holding its body."""
    return response.status_code >= 400


#: Bytes per chunk handed to the reader of a streamed body (:func:`read_streamed`).
STREAM_CHUNK_BYTES = 1 << 20


def read_streamed(
    session: requests.Session,
    send: Callable[[], requests.Response],
    read: Callable[[Iterator[bytes]], T],
) -> tuple[requests.Response, T | None]:
    """Send a request with ``send()`` (which must pass ``stream=True``) and ``read`` its body as
    it arrives, in chunks of up to :data:`STREAM_CHUNK_BYTES`.

    Returns the response and what ``read`` returned, or ``None`` for an error answer (status
    400 or more), whose body is read whole (``response.content``) so it can be reported. A body
    cut short is retried as the session retries any (within the same budget): the request is
    sent again and ``read`` starts over on the new body, so it must keep nothing from a body it
    did not finish. Once the budget is spent, ``requests.ConnectionError``.
    """
    response = send()
    while True:
        if _read_whole(response):
            return response, None
        try:
            return response, read(response.raw.stream(STREAM_CHUNK_BYTES, decode_content=True))
        except (ProtocolError, ReadTimeoutError) as exc:
            cut = exc
        finally:
            # A body read to its end has given its connection back to the pool already; one
            # left unfinished (cut, or an error in `read`) takes its connection down with it.
            response.close()
        adapter = session.get_adapter(response.request.url or "")
        assert isinstance(adapter, _PendoAdapter)  # build_session mounts it for every URL
        response = adapter.resend(response, cut)


def cache_namespace(key: str, base_url: str) -> str:
    """The prefix of a client's cache keys: a hash of its key and host (never the key itself)."""
    return hashlib.sha256(f"{key}\n{base_url}".encode()).hexdigest()[:16]


def _namespaced_key_fn(namespace: str) -> Callable[..., str]:
    """Cache keys prefixed by the namespace: one key's answers never serve another."""

    def key_fn(request: requests.PreparedRequest, **kwargs: Any) -> str:
        return f"{namespace}-{hashlib.sha256(create_key(request, **kwargs).encode()).hexdigest()}"

    return key_fn


def _only_reads(response: requests.Response) -> bool:
    """Cache GETs and aggregation POSTs (reads); never a write."""
    request = response.request
    return request.method == "GET" or (
        request.method == "POST" and urlsplit(request.url or "").path.endswith("/aggregation")
    )


DEFAULT_RETRY = RetryPolicy()


def build_session(
    key: str,
    base_url: str,
    *,
    cache: bool | str | os.PathLike[str] | BaseCache = True,
    expire_after: float | timedelta | None = 3600,
    retry: RetryPolicy = DEFAULT_RETRY,
    rate_limit: float | Literal["auto"] | None = "auto",
) -> requests_cache.CachedSession:
    """Build the HTTP session of one client.

    Parameters
    ----------
    key : str
        The integration key, sent in ``x-pendo-integration-key`` and never stored.
    base_url : str
        Scheme and host (and port) the client talks to; it namespaces the cache with the key.
    cache : bool, path or requests_cache backend
        ``True``: SQLite file in :func:`cache_dir`; a path: SQLite file there; a backend object:
        used as is; ``False``: no caching.
    expire_after : float, timedelta or None
        How long a cached answer stays fresh (seconds); ``None`` keeps answers until cleared.
        One hour by default: Pendo's data lags by 15 minutes or more anyway.
    retry : RetryPolicy
        Retries of 429 (honouring ``Retry-After``), 500/502/503/504 and dropped connections.
    rate_limit : "auto", float or None
        How requests are paced (:mod:`pendo_nb.http.throttle`): ``"auto"`` (default) starts a
        remote host at 10/s, grows while answers are healthy and backs off on 429/503, and
        never paces a loopback host (the local sandbox) until it pushes back; a number does the
        same but never goes above that many requests per second; ``None`` paces nothing
        (``Retry-After`` is still honoured, per request).
    """
    session = requests_cache.CachedSession(
        **_backend_options(cache),
        expire_after=-1 if expire_after is None else expire_after,
        # POST is cached for aggregations, which are reads; _only_reads keeps writes out.
        allowable_methods=("GET", "POST"),
        filter_fn=_only_reads,
        # Remove the key from what is stored, and from cache keys (the namespace replaces it).
        ignored_parameters=[KEY_HEADER],
        key_fn=_namespaced_key_fn(cache_namespace(key, base_url)),
        # Pendo sends no cache headers worth obeying; freshness is ours to decide.
        cache_control=False,
        # Only complete answers are worth reusing.
        allowable_codes=(200,),
    )
    adapter = _PendoAdapter(policy=retry, limiter=_limiter(key, base_url, rate_limit))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers[KEY_HEADER] = key
    session.headers["Accept"] = "application/json"
    session.headers["User-Agent"] = "pendo_nb (+https://github.com/pendo_nb)"
    return session


def _limiter(
    key: str, base_url: str, rate_limit: float | Literal["auto"] | None
) -> AdaptiveLimiter | None:
    if rate_limit is None:
        return None
    if rate_limit == "auto":
        return shared_limiter(cache_namespace(key, base_url), base_url, None)
    if isinstance(rate_limit, bool) or not isinstance(rate_limit, int | float) or rate_limit <= 0:
        raise ValueError(
            f"rate_limit must be 'auto', None or positive (requests per second), got {rate_limit!r}"
        )
    return shared_limiter(cache_namespace(key, base_url), base_url, float(rate_limit))


# Write-ahead logging: readers never block the writer, and a commit appends to the log instead of
# syncing the database (a rollback-journal commit costs 20-50 ms here, and clients in several
# threads or kernels share one file). A crash loses at most the last answers, never the file.
# JSON rows (orjson, binary bodies in base64), never pickle: reading a cache file someone else
# wrote cannot run their code; a row that does not parse is a miss, fetched again and replaced.
_SQLITE = {"backend": "sqlite", "wal": True, "serializer": "orjson"}
_NO_CACHE = {"backend": "memory", "disabled": True}


def _sqlite_file(path: Path) -> dict[str, Any]:
    """SQLite options for ``path`` once checked (:mod:`pendo_nb.http.cache_file`), or no cache."""
    checked = usable_cache_file(path)
    return {"cache_name": str(checked), **_SQLITE} if checked else dict(_NO_CACHE)


def _backend_options(cache: bool | str | os.PathLike[str] | BaseCache) -> dict[str, Any]:
    if cache is False or cache is None:
        # A disabled in-memory cache keeps one session type (and its per-call options) everywhere.
        return dict(_NO_CACHE)
    if cache is True:
        # pendo_nb's own folder: owner-only, even if an older version made it open to others.
        return _sqlite_file(owner_only_dir(cache_dir(), tighten=True) / "http_cache.sqlite")
    if isinstance(cache, BaseCache):
        return {"backend": cache}
    if isinstance(cache, (str, os.PathLike)):
        path = Path(cache)
        owner_only_dir(path.parent)  # folders it makes are owner-only; existing ones are kept
        return _sqlite_file(path)
    raise TypeError(f"cache must be True, False, a path or a requests_cache backend, got {cache!r}")


def forget_cached(
    session: requests_cache.CachedSession,
    base_url: str,
    *,
    paths: Iterable[str] = (),
    prefixes: Iterable[str] = (),
) -> int:
    """Delete cached answers of ``base_url`` whose path is in ``paths`` or starts with a prefix.

    Used after a write, for every key's entries: another key of the same subscription would
    otherwise keep serving the old values. Returns how many entries were deleted.
    """
    if session.settings.disabled:
        return 0
    exact, starts = set(paths), tuple(prefixes)
    origin = urlsplit(base_url).netloc
    doomed = []
    for response in session.cache.filter(valid=True, expired=True):
        url = urlsplit(response.request.url or "")
        if url.netloc == origin and (url.path in exact or (starts and url.path.startswith(starts))):
            doomed.append(response.cache_key)
    if doomed:
        session.cache.delete(*doomed)
    return len(doomed)


@dataclass(frozen=True)
class CacheInfo:
    """What a client's cache holds and how it served this client.

    ``entries`` counts this client's answers (its key and host); ``size_bytes`` is the size of
    the whole store, which other keys may share; ``hits`` and ``misses`` count this client's
    requests since it was made.
    """

    enabled: bool
    location: str | None
    entries: int
    size_bytes: int | None
    hits: int
    misses: int


def _own_keys(session: requests_cache.CachedSession, namespace: str) -> list[str]:
    return [k for k in session.cache.responses.keys() if k.startswith(f"{namespace}-")]


_CACHE_KEY = re.compile(r"[\w-]+")


def cache_holds(session: requests_cache.CachedSession, key: str) -> bool:
    """Whether the cache holds an answer under ``key``, without reading the answer.

    requests-cache's own ``contains`` deserializes the whole stored answer, which for a window
    of a big pull means parsing megabytes of JSON only to learn that it is there.
    """
    responses = session.cache.responses
    if isinstance(responses, SQLiteDict) and _CACHE_KEY.fullmatch(key):
        with responses.connection() as connection:
            # The key is checked above (a hash): written into the query as requests-cache's own
            # reads do, since placeholders misbehave under concurrency on newer Pythons.
            found = connection.execute(
                f"SELECT 1 FROM {responses.table_name} WHERE key='{key}'"
            ).fetchone()
        return found is not None
    return bool(session.cache.contains(key))


def clear_cached(session: requests_cache.CachedSession, namespace: str | None = None) -> None:
    """Delete the answers cached under ``namespace``, or (``None``) everything in the store."""
    if session.settings.disabled:
        return
    if namespace is None:
        session.cache.clear()
    else:
        session.cache.delete(*_own_keys(session, namespace))


def cache_info(
    session: requests_cache.CachedSession, namespace: str, *, hits: int, misses: int
) -> CacheInfo:
    """Describe the cache of ``session`` for one namespace; the caller counts hits and misses."""
    if session.settings.disabled:
        return CacheInfo(False, None, 0, None, hits, misses)
    location = getattr(session.cache, "db_path", None)
    size = None
    if location and Path(location).exists():
        # With write-ahead logging, recent answers sit in the -wal file until a checkpoint.
        files = (Path(location), Path(f"{location}-wal"))
        size = sum(path.stat().st_size for path in files if path.exists())
    entries = len(_own_keys(session, namespace))
    return CacheInfo(True, str(location) if location else None, entries, size, hits, misses)
