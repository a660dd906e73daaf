"""Every error pendo_nb raises, in one tree.

::

    PendoError                      base class: ``except pn.PendoError`` catches them all
    ├── ConfigurationError          no key, unknown region, no default client, bad connect() options
    ├── ValidationError             (also ValueError) an argument refused before any request is sent
    ├── PipelineError               (also ValueError) an aggregation pipeline refused while building
    │   └── UnknownNameError        (also AttributeError) pn.source.<name> or pn.agg.<name> that
    │                               does not exist: close matches and where the full list is
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

Warnings (``warnings.warn``, not raised)::

    FieldWarning                    (a UserWarning) a pipeline names a field its rows may not hold

An API error carries ``status``, ``method``, ``url``, ``request_id``, ``body`` (the start of Pendo's
answer) and ``hint`` (the likely cause). Request headers are never kept, so the integration key can
never appear in an error; any occurrence of the key in a body is masked as well.

In a notebook (IPython's ``_render_traceback_`` hook, honoured by every Jupyter front end), a
``PendoError`` shows as its class, its message, its hint and the request in a few lines, without
the frames inside pendo_nb: they are about the library, not about the cell. Set the environment
variable ``PENDO_NB_TRACEBACK=full`` (``%env PENDO_NB_TRACEBACK=full`` in a notebook) to get the
full traceback back, for debugging pendo_nb itself; it is read each time an error is shown.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

__all__ = [
    "PendoError",
    "ConfigurationError",
    "ValidationError",
    "PipelineError",
    "UnknownNameError",
    "FieldWarning",
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
    "html_page_summary",
]

#: How much of a response body an error keeps (an HTML page is summarised to its title instead).
BODY_PREVIEW_CHARS = 500
#: How much of a body is looked at to recognise an HTML page and find its title.
_HTML_SCAN_CHARS = 64 * 1024
#: Longest page title kept.
_TITLE_CHARS = 120


#: The environment variable that brings back full tracebacks in notebooks (value ``full``).
TRACEBACK_SWITCH = "PENDO_NB_TRACEBACK"
_PACKAGE_DIR = str(Path(__file__).resolve().parent)
# ANSI colours: Jupyter front ends render them in error outputs, as they do for IPython's own.
_RED, _GREY, _BOLD, _RESET = "\x1b[31m", "\x1b[90m", "\x1b[1m", "\x1b[0m"


class PendoError(Exception):
    """Base class of every error raised by pendo_nb."""

    def _render_traceback_(self) -> list[str]:
        """The lines IPython shows for this error: what, why, where; no library internals.

        Raising here makes IPython fall back to its full traceback, which is how the
        ``PENDO_NB_TRACEBACK=full`` switch works.
        """
        if os.environ.get(TRACEBACK_SWITCH, "").strip().lower() == "full":
            raise NotImplementedError("full traceback requested")
        lines = [f"{_RED}{_BOLD}{type(self).__name__}{_RESET}: {self._headline()}"]
        lines += self._detail_lines()
        hint = getattr(self, "hint", None)
        if hint:
            lines.append(f"  {_BOLD}hint{_RESET}: {hint}")
        footer = [part for part in (self._request_line(), self._raised_in()) if part]
        footer.append(f"full traceback: %env {TRACEBACK_SWITCH}=full")
        lines.append(f"{_GREY}  {' · '.join(footer)}{_RESET}")
        return lines

    def _headline(self) -> str:
        """The first line of the message: what went wrong."""
        return str(self).partition("\n")[0]

    def _detail_lines(self) -> list[str]:
        """Lines worth keeping under the headline (a caret under an expression, ...)."""
        # Blank lines only: leading spaces align a caret under an expression (PipelineError).
        rest = str(self).partition("\n")[2].strip("\n").rstrip()
        return rest.splitlines() if rest else []

    def _request_line(self) -> str:
        method, url = getattr(self, "method", None), getattr(self, "url", None)
        return f"{method} {url}" if method and url else ""

    def _raised_in(self) -> str:
        """Where the user's code called into pendo_nb: the frame before the first one inside."""
        caller = None
        traceback = self.__traceback__
        while traceback is not None:
            if traceback.tb_frame.f_code.co_filename.startswith(_PACKAGE_DIR):
                break
            caller = traceback
            traceback = traceback.tb_next
        if caller is None or traceback is None:
            return ""
        name = caller.tb_frame.f_code.co_name
        where = "the cell" if name == "<module>" else f"{name}()"
        return f"called from line {caller.tb_lineno} of {where}"


class ConfigurationError(PendoError):
    """The client cannot be set up as asked (no key, unknown region, no default client...)."""


class ValidationError(PendoError, ValueError):
    """An argument was refused before anything was sent; the message says which and why."""


class PipelineError(PendoError, ValueError):
    """An aggregation pipeline is invalid; raised while building it, naming the stage."""


class UnknownNameError(PipelineError, AttributeError):
    """``pn.source.<name>`` or ``pn.agg.<name>`` for a name that is not there.

    Also an ``AttributeError``, so ``hasattr`` and tab completion treat it as a missing attribute.
    """


class FieldWarning(UserWarning):
    """A pipeline step names a field that the rows reaching it may not hold.

    Such a field reads as null in Pendo, so the answer is silently wrong (a group key of None,
    sums of 0); the warning names the step, the field and the close matches among the fields
    the rows hold. Silence it with ``warnings.filterwarnings("ignore", category=pn.FieldWarning)``.
    """


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
        The start of the response body (at most ``BODY_PREVIEW_CHARS`` characters); for an HTML
        error page (a proxy's, a load balancer's), only its title, never the page.
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
        lines += [f"    {line}" for line in self._marked_expression()]
        if self.request_id:
            lines.append(f"  request id: {self.request_id}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def with_hint(
        self, hint: str, *, body: str | None = None, as_class: type[PendoAPIError] | None = None
    ) -> PendoAPIError:
        """The same answer with another hint, body or class: for callers that know the cause."""
        return (as_class or type(self))(
            self.status,
            method=self.method,
            url=self.url,
            body=self.body if body is None else body,
            request_id=self.request_id,
            hint=hint,
        )

    def _marked_expression(self) -> list[str]:
        """The expression the server pointed at, with a caret under the position (or nothing)."""
        return []

    def _headline(self) -> str:
        # Pendo's own sentence says what is wrong; the status line moves to the footer.
        first = self.body.splitlines()[0] if self.body else ""
        return first or f"{self.status} from Pendo"

    def _detail_lines(self) -> list[str]:
        return [f"    {line}" for line in self._marked_expression()]

    def _request_line(self) -> str:
        request = f"{self.status} from {self.method} {self.url}"
        return f"{request} (request id {self.request_id})" if self.request_id else request


class BadRequestError(PendoAPIError):
    """The request was refused as wrong (400, 402, 409, 422).

    ``position`` is the character position the engine pointed at, when its message names one.
    """

    @property
    def position(self) -> int | None:
        match = _POSITION.search(self.body)
        return int(match.group(1)) if match else None

    def _marked_expression(self) -> list[str]:
        # The engine ends its message with `at position N in "<expression>"` (sandbox and Pendo's
        # parser alike); the client-side PipelineError marks the spot the same way.
        match = _POSITION_IN.search(self.body)
        if not match:
            return []
        position, expression = int(match.group(1)), match.group(2)
        return [expression, " " * min(position, len(expression)) + "^"]


class AuthenticationError(PendoAPIError):
    """The key is missing, invalid, or belongs to another region (401, 403)."""


class WriteAccessError(PendoAPIError):
    """A write was refused because the key is read-only."""

    def _headline(self) -> str:
        # Pendo's body for this case reads "Key is invalid", which is wrong for a key that reads.
        return "this key may read but not write"


class NotFoundError(PendoAPIError):
    """The object does not exist (404)."""


class RateLimitError(PendoAPIError):
    """Too many requests (429), still refused after the allowed retries."""


class ServerError(PendoAPIError):
    """Pendo failed (5xx) or gave up on a long call (408), after the allowed retries."""


_POSITION_IN = re.compile(r'position (\d+) in "(.*)"\s*$', re.M)
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
    page = html_page_summary(body)
    preview = body[:BODY_PREVIEW_CHARS].strip() if page is None else page
    if secret:
        preview = preview.replace(secret, "***")
    if status >= 500:
        cls: type[PendoAPIError] = ServerError
    elif status == 403 and is_write:
        cls = WriteAccessError
    else:
        cls = _CLASS_FOR_STATUS.get(status, PendoAPIError)
    hint = _hint(cls, status, preview, host=host, key_host=key_host)
    if page is not None:
        # Pendo's API answers in JSON or plain text: a web page came from something in between,
        # and the usual hint (a refused key, a malformed request...) may not be the cause.
        hint = (
            f"Pendo's API does not answer with web pages: a proxy, firewall or load balancer "
            f"between here and {host or 'Pendo'} sent this one, or base_url is not Pendo's API"
            + (f". Otherwise: {hint}" if hint else "")
        )
    return cls(status, method=method, url=url, body=preview, request_id=request_id, hint=hint)


def html_page_summary(body: str) -> str | None:
    """For an HTML page, a one-line summary with its title; None for any other body.

    An error page from a proxy, a gateway or a load balancer is a whole HTML document: pasted
    into an error or a warning it would bury the message, so it is summarised.

    Parameters
    ----------
    body : str
        A response body.

    Returns
    -------
    str or None

    Examples
    --------
    >>> html_page_summary("<html><head><title>502 Bad Gateway</title></head>...</html>")
    "an HTML page titled '502 Bad Gateway'"
    >>> html_page_summary('{"message": "not found"}') is None
    True
    """
    head = body[:_HTML_SCAN_CHARS].lstrip("\ufeff \t\r\n")
    if not _HTML_START.match(head):
        return None
    reader = _TitleReader()
    reader.feed(head)
    reader.close()
    title = " ".join("".join(reader.title or reader.heading).split())
    if len(title) > _TITLE_CHARS:
        title = title[: _TITLE_CHARS - 1] + "…"
    return f"an HTML page titled {title!r}" if title else "an HTML page with no title"


# A document starts with a doctype, a comment or one of the tags that open a page.
_HTML_START = re.compile(r"<(?:!doctype\s+html|!--|html|head|body|title|h1)\b", re.I)


class _TitleReader(HTMLParser):
    """Collects the text of the page's <title>, and of its first <h1> for a page without one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: list[str] = []
        self.heading: list[str] = []
        self._inside: list[str] | None = None
        self._seen: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("title", "h1") and tag not in self._seen:
            self._seen.add(tag)
            self._inside = self.title if tag == "title" else self.heading

    def handle_endtag(self, tag: str) -> None:
        if tag in ("title", "h1"):
            self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside is not None:
            self._inside.append(data)


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
        return (
            "Pendo is rate limiting this key: wait and retry, or cap the client's pace with "
            "connect(rate_limit=...)"
        )
    if cls is BadRequestError:
        # The body already says what is wrong: the hint says where and what to do, not it again.
        position = _POSITION.search(body)
        if position:
            return (
                f"fix the expression at character {position.group(1)}; pipelines built with "
                "pn.source... check expressions before anything is sent"
            )
        return "Pendo refused the request as malformed: the body above says which part"
    if cls is ServerError and status == 408:
        return "the call exceeded Pendo's 5-minute limit: send fewer rows per call (chunk_size)"
    if cls is ServerError:
        return "Pendo failed on its side: retry later, or split a big aggregation into shorter runs"
    return None
