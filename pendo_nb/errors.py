"""Every error pendo_nb raises, in one tree.

::

    PendoError                      base class: ``except pn.PendoError`` catches them all
    ├── ConfigurationError          no key, unknown region, no default client, bad connect() options
    ├── ValidationError             (also ValueError) an argument refused before any request is sent
    ├── PipelineError               (also ValueError) an aggregation pipeline refused while building
    ├── PendoConnectionError        no HTTP answer: connection refused/reset, DNS, TLS
    │   └── PendoTimeoutError       no answer within the timeout
    ├── SnapshotError               a snapshot is unreadable, altered or newer; a write in replay
    │   └── NotRecordedError        a replayed notebook asked for an answer that was not recorded
    └── PendoAPIError               Pendo answered with an error status
        ├── BadRequestError         400/402/409/422: the request is wrong (message, position)
        ├── AuthenticationError     401, 403: missing, invalid, or wrong-region key
        ├── WriteAccessError        403 on a write, or a key without write access
        ├── NotFoundError           404
        ├── RateLimitError          429 (after the retries allowed by the session)
        └── ServerError             408, 5xx (after retries)

An API error carries ``status``, ``method``, ``url``, ``request_id``, ``body`` (the start of Pendo's
answer) and ``hint`` (the likely cause). Request headers are never kept, so the integration key can
never appear in an error; any occurrence of the key in a body is masked as well.
"""

from __future__ import annotations

import re

__all__ = [
    "PendoError",
    "ConfigurationError",
    "ValidationError",
    "PipelineError",
    "PendoConnectionError",
    "PendoTimeoutError",
    "SnapshotError",
    "NotRecordedError",
    "PendoAPIError",
    "BadRequestError",
    "AuthenticationError",
    "WriteAccessError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "error_for_status",
]

#: How much of a response body an error keeps (a 5xx can be a whole HTML page).
BODY_PREVIEW_CHARS = 500


class PendoError(Exception):
    """Base class of every error raised by pendo_nb."""


class ConfigurationError(PendoError):
    """The client cannot be set up as asked (no key, unknown region, no default client...)."""


class ValidationError(PendoError, ValueError):
    """An argument was refused before anything was sent; the message says which and why."""


class PipelineError(PendoError, ValueError):
    """An aggregation pipeline is invalid; raised while building it, naming the stage."""


class PendoConnectionError(PendoError):
    """No HTTP answer at all (after the retries allowed by the session)."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(message)
        self.method = method
        self.url = url


class PendoTimeoutError(PendoConnectionError):
    """The server did not answer within the timeout."""


class SnapshotError(PendoError):
    """A snapshot cannot be used: unreadable, altered or newer file, or a write while replaying."""


class NotRecordedError(SnapshotError):
    """A replayed session was asked for an answer its snapshot does not hold.

    ``method`` and ``path`` name the request (the path is under ``/api/v1``).
    """

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class PendoAPIError(PendoError):
    """Pendo answered with an error status.

    Attributes
    ----------
    status : int
        The HTTP status code.
    method : str
        The HTTP method of the request that failed.
    url : str
        Its URL (the key travels in a header and is never part of it).
    request_id : str or None
        The server's request id, when it sent one; quote it to Pendo support.
    body : str
        The start of the response body (at most ``BODY_PREVIEW_CHARS`` characters).
    hint : str or None
        The likely cause and what to try.
    """

    def __init__(
        self,
        status: int,
        *,
        method: str,
        url: str,
        body: str = "",
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.body = body
        self.request_id = request_id
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [f"{self.status} from {self.method} {self.url}"]
        if self.body:
            lines.append(f"  body: {self.body}")
        if self.request_id:
            lines.append(f"  request id: {self.request_id}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class BadRequestError(PendoAPIError):
    """The request was refused as wrong (400, 402, 409, 422).

    ``position`` is the character position the engine pointed at, when its message names one.
    """

    @property
    def position(self) -> int | None:
        match = _POSITION.search(self.body)
        return int(match.group(1)) if match else None


class AuthenticationError(PendoAPIError):
    """The key is missing, invalid, or belongs to another region (401, 403)."""


class WriteAccessError(PendoAPIError):
    """A write was refused because the key is read-only."""


class NotFoundError(PendoAPIError):
    """The object does not exist (404)."""


class RateLimitError(PendoAPIError):
    """Too many requests (429), still refused after the allowed retries."""


class ServerError(PendoAPIError):
    """Pendo failed (5xx) or gave up on a long call (408), after the allowed retries."""


_POSITION = re.compile(r"(?:position|pos\.?|column|character|char|offset)\s*:?\s*(\d+)", re.I)

_CLASS_FOR_STATUS: dict[int, type[PendoAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: BadRequestError,
    403: AuthenticationError,
    404: NotFoundError,
    408: ServerError,
    409: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}


def error_for_status(
    status: int,
    *,
    method: str,
    url: str,
    body: str,
    request_id: str | None = None,
    is_write: bool = False,
    host: str = "",
    key_host: str | None = None,
    secret: str | None = None,
) -> PendoAPIError:
    """Build the error for an HTTP error answer: pick the class from the status, add a hint.

    Parameters
    ----------
    status, method, url, body, request_id
        What the server answered (``body`` may be long; only its start is kept).
    is_write : bool
        The request changes data, so a 403 most likely means a read-only key.
    host : str
        The host the client talks to.
    key_host : str, optional
        The host the key's region suffix points to (``<uuid>.eu`` -> ``app.eu.pendo.io``).
    secret : str, optional
        The integration key, masked wherever it appears in the body.
    """
    preview = body[:BODY_PREVIEW_CHARS].strip()
    if secret:
        preview = preview.replace(secret, "***")
    if status >= 500:
        cls: type[PendoAPIError] = ServerError
    elif status == 403 and is_write:
        cls = WriteAccessError
    else:
        cls = _CLASS_FOR_STATUS.get(status, PendoAPIError)
    hint = _hint(cls, status, preview, host=host, key_host=key_host)
    return cls(status, method=method, url=url, body=preview, request_id=request_id, hint=hint)


def _hint(
    cls: type[PendoAPIError], status: int, body: str, *, host: str, key_host: str | None
) -> str | None:
    if cls is AuthenticationError:
        if key_host and key_host != host:
            return (
                f"the key's region suffix points to {key_host}, but this client talks to {host}: "
                "keys only work in their own region (connect with that region or base_url)"
            )
        return (
            f"the key was refused by {host}: check it (Pendo shows a key only once) and that "
            "this is your subscription's region (us, us1, eu, jpn, au)"
        )
    if cls is WriteAccessError:
        return (
            "this key is probably read-only: writes need a key created with 'Allow Write Access' "
            "(Settings > Integrations > Integration Keys)"
        )
    if cls is RateLimitError:
        return "Pendo is rate limiting this key: lower connect(rate_limit=...) or wait and retry"
    if cls is BadRequestError:
        position = _POSITION.search(body)
        where = f" at character {position.group(1)}" if position else ""
        return f"Pendo refused the request{where}: {body.splitlines()[0] if body else status}"
    if cls is ServerError and status == 408:
        return "the call exceeded Pendo's 5-minute limit: send fewer rows per call (chunk_size)"
    if cls is ServerError:
        return "Pendo failed on its side: retry later, or split a big aggregation into shorter runs"
    return None
