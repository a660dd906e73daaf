"""``connect()`` and the default client: the last client made, which the functions use.

:func:`connect` makes a :class:`~pendo_nb.api.client.PendoClient` (for Pendo, or for the
offline sandbox it starts) and keeps it as the default client; :func:`resolve` is how every
public function and widget picks its client.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import Any, Literal

from pendo_nb.api.client import PendoClient
from pendo_nb.errors import ConfigurationError, SnapshotError
from pendo_nb.http.session import RetryPolicy, Timeouts
from pendo_nb.pulls.extracts import read_manifest, verify_files

__all__ = ["connect", "resolve"]

_default_client: PendoClient | None = None
_shared_sandbox: Any = None  # the in-process sandbox started by connect(sandbox=True)
_extract_sandboxes: dict[tuple[Path, str], Any] = {}  # connect(local=...): one per extract
_lock = threading.Lock()


def connect(
    key: str | None = None,
    *,
    region: str | None = None,
    base_url: str | None = None,
    sandbox: Any = False,
    cache: Any = True,
    expire_after: float | None = 3600,
    timeout: float | tuple[float, float] | Timeouts | None = None,
    rate_limit: float | Literal["auto"] | None = "auto",
    retry: RetryPolicy | None = None,
    tz: str | None = None,
    record: str | os.PathLike[str] | None = None,
    pseudonymize: bool | Literal["strict"] = False,
    mask: tuple[str, ...] | list[str] = (),
    keep: tuple[str, ...] | list[str] = (),
    replay: str | os.PathLike[str] | None = None,
    local: str | os.PathLike[str] | None = None,
) -> PendoClient:
    """Connect to Pendo (or the offline sandbox) and make this the default client.

    Parameters
    ----------
    key : str, optional
        Integration key; default ``PENDO_INTEGRATION_KEY``. Never shown: ``repr`` masks it.
    region : {"us", "us1", "eu", "jpn", "au"}, optional
        Default ``PENDO_REGION``, else the key's suffix (``<uuid>.eu``), else ``"us"``.
    base_url : str, optional
        Any other host, e.g. a proxy; default ``PENDO_BASE_URL``. Overrides ``region``.
    sandbox : bool or pendo_nb.sandbox.Sandbox
        ``True`` starts (or reuses) an in-process sandbox with demo data and connects to it with
        its demo key; a running ``Sandbox`` object connects to that one.
    cache : bool, path or requests_cache backend
        ``True`` (default): a SQLite file in the user cache directory (``PENDO_NB_CACHE_DIR``
        overrides it); a path: a SQLite file there; ``False``: no cache.
    expire_after : float or None
        Seconds a cached answer stays fresh (default one hour); ``None``: until cleared.
    timeout : float or (connect, read)
        Seconds; aggregations always get at least 330 s to read (Pendo's cap is 5 minutes).
    rate_limit : "auto", float or None
        ``"auto"`` (default): start at 10 requests per second, grow while answers are healthy,
        back off on 429/503 and honour ``Retry-After`` (the local sandbox is never paced until
        it pushes back); a number: the same, never above that rate; ``None``: no pacing.
    retry : RetryPolicy, optional
        Retries of 429/5xx/dropped connections (default: 5 tries within 120 s).
    tz : str, optional
        Time zone of datetime columns: default the sandbox's ``timezone`` with ``sandbox=``,
        else ``"UTC"``. Period buckets (``day``, ``week``...) come as zone-less dates on this
        zone's clock: make it your subscription's time zone, to which Pendo aligns them.
    record : path, optional
        Also write every answer this session uses into a snapshot file (default
        ``PENDO_NB_RECORD``), so the notebook can be replayed without a key. The file never
        holds the key, the host or request headers; it is rewritten atomically as answers come.
        ``client.finish_recording()`` saves it and says what it holds.
    pseudonymize : bool or "strict"
        While recording, replace visitor and account ids, e-mail addresses, their local parts,
        person and account names with stable fake values wherever they appear (any field, any
        depth, inside longer texts, whatever the case), in the file and in what the notebook
        sees (fakes passed back are sent as the real values; the mapping never leaves memory).
        ``"strict"`` also replaces every other text that comes from visitor or account metadata,
        free-text poll answers and what a pipeline computes from them, except ``keep`` fields
        and known-safe kinds (catalog names, browsers, operating systems).
    mask : list of str
        While recording, metadata fields (by name) whose values become null.
    keep : list of str
        With ``pseudonymize="strict"``: fields (by name, e.g. ``"plan"``, or dotted path) kept
        as sent.
    replay : path, optional
        Answer every call from a snapshot file (default ``PENDO_NB_REPLAY``): no key, no network,
        no writes. It takes precedence over ``sandbox``, ``key`` and ``record``, so a notebook
        that connects to the sandbox or to Pendo replays unchanged when ``PENDO_NB_REPLAY`` is set.
    local : path, optional
        Answer every read from a local extract written by :func:`pendo_nb.extract` (default
        ``PENDO_NB_LOCAL``): the sandbox's engine runs in this process over the extract's files,
        so any pipeline within its days and grain is answered offline; ``now()`` is the moment
        the extract was taken; writes raise :class:`~pendo_nb.errors.SnapshotError`. It takes
        precedence over ``sandbox``, ``key`` and ``record`` (``replay`` wins over it), so a
        notebook's own ``connect(...)`` line opens the extract when ``PENDO_NB_LOCAL`` is set.
        A truncated, altered, unfinished or newer extract raises ``SnapshotError``.

    Returns
    -------
    PendoClient

    Examples
    --------
    >>> import pendo_nb as pn
    >>> client = pn.connect(sandbox=True)            # no key needed
    >>> client = pn.connect(key="...", region="eu")  # doctest: +SKIP
    >>> client = pn.connect(sandbox=True, record="review.pendo")  # doctest: +SKIP
    >>> client = pn.connect(replay="review.pendo")   # doctest: +SKIP
    >>> client = pn.connect(local="october")         # doctest: +SKIP
    """
    global _default_client
    replay = replay or os.environ.get("PENDO_NB_REPLAY") or None
    if replay:
        client = PendoClient(None, cache=False, timeout=timeout, tz=tz or "UTC", replay=replay)
        _default_client = client
        return client
    local = local or os.environ.get("PENDO_NB_LOCAL") or None
    if local:
        client = _local_client(Path(local).expanduser(), timeout, tz)
        _default_client = client
        return client
    record = record or os.environ.get("PENDO_NB_RECORD") or None
    if sandbox is not False and sandbox is not None:
        if key or base_url or region:
            raise ConfigurationError("connect(sandbox=...) takes no key, region or base_url")
        server = _running_sandbox() if sandbox is True else sandbox
        # `url` is looked up on the type: reading it on a sandbox that is not running raises.
        looks_like_sandbox = hasattr(type(server), "url") and hasattr(server, "start")
        if not (looks_like_sandbox and hasattr(server, "key")):
            raise ConfigurationError(
                f"sandbox must be True or a pendo_nb.sandbox.Sandbox, got {type(server).__name__}"
            )
        server.start()  # a configured sandbox not yet started is started (no-op if running)
        key, base_url = server.key, server.url
        # Its buckets are aligned to its subscription's zone: read them on that clock.
        tz = tz or server.subscription.timezone.key
    key = key or os.environ.get("PENDO_INTEGRATION_KEY")
    if not key:
        raise ConfigurationError(
            "no integration key: pass connect(key=...), set PENDO_INTEGRATION_KEY, "
            "or try the offline sandbox with connect(sandbox=True)"
        )
    client = PendoClient(
        key,
        region=region,
        base_url=base_url or os.environ.get("PENDO_BASE_URL"),
        cache=cache,
        expire_after=expire_after,
        timeout=timeout,
        rate_limit=rate_limit,
        retry=retry or RetryPolicy(),
        tz=tz or "UTC",
        record=record,
        pseudonymize=pseudonymize,
        mask=tuple(mask),
        keep=tuple(keep),
    )
    # Marked here, where it is known, rather than guessed from a loopback host and a demo key.
    client.is_sandbox = sandbox is not False and sandbox is not None
    _default_client = client
    return client


def _running_sandbox() -> Any:
    """The process-wide demo sandbox, started on first use and stopped at exit."""
    global _shared_sandbox
    with _lock:
        if _shared_sandbox is None:
            # Imported on first use: most sessions never start a sandbox, and importing it
            # costs more than the rest of the library.
            from pendo_nb.sandbox import Sandbox

            server = Sandbox(size="demo")
            server.start()
            atexit.register(server.stop)
            _shared_sandbox = server
        return _shared_sandbox


def _local_client(folder: Path, timeout: Any, tz: str | None) -> PendoClient:
    """A client of the sandbox serving the extract in ``folder`` (checked whole first), with
    its read-only key."""
    manifest = read_manifest(folder)
    assert manifest is not None  # read_manifest raises for a folder without one
    verify_files(folder, manifest)
    server = _extract_sandbox(folder.resolve(), manifest["taken_at"])
    client = PendoClient(
        server.read_only_key,
        base_url=server.url,
        cache=False,
        timeout=timeout,
        tz=tz or manifest["timezone"],
    )
    client.local_extract = folder
    return client


def _extract_sandbox(folder: Path, taken_at: str) -> Any:
    """The in-process sandbox serving ``folder`` (one per extract and version; stopped at exit)."""
    with _lock:
        key = (folder, taken_at)
        if key not in _extract_sandboxes:
            # Imported on first use, as for connect(sandbox=True): most sessions never need it.
            from pendo_nb.sandbox import ExtractUnreadable, Sandbox

            try:
                server = Sandbox.from_extract(folder)
            except ExtractUnreadable as error:
                raise SnapshotError(str(error)) from None
            server.start()
            atexit.register(server.stop)
            _extract_sandboxes[key] = server
        return _extract_sandboxes[key]


def _reset_default_client() -> None:
    """Forget the default client (tests call this after each test)."""
    global _default_client
    client, _default_client = _default_client, None
    if client is not None:
        client.close()


def resolve(client: PendoClient | None) -> PendoClient:
    """``client`` if given (checked), else the default client; ``ConfigurationError`` if none."""
    if client is not None:
        if not isinstance(client, PendoClient):
            raise TypeError(f"client must be a PendoClient, got {type(client).__name__}")
        return client
    if _default_client is None:
        raise ConfigurationError(
            "not connected: call pn.connect(...) first (pn.connect(sandbox=True) needs no key)"
        )
    return _default_client
