"""Dask: a long aggregation as a ``dask.dataframe`` with one partition per time window.

Needs the optional extra ``pendo_nb[dask]``. The windows are planned here (the exactness check and
the boundaries, as for ``pn.aggregate(p, windows=...)``); each partition is fetched lazily by a
Dask worker with a client made with the same settings as the caller's, so a cluster can pull and
process a year of events for a large subscription::

    ddf = read_aggregation(pipeline, windows="1D")
    ddf.to_parquet("events/")

The integration key travels to the workers inside :class:`ClientSettings`, whose ``repr`` masks
it and whose Dask token leaves it out, so it never shows in the task graph, the dashboard or a
log. Each worker keeps its own cache file (``dask-worker-<name>.sqlite`` in its cache directory),
so a partition recomputed on the same worker is read from its cache, and its own rate limit (the
caller's): a cluster of N workers may send up to N times the client's ``rate_limit``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pendo_nb.api.client import PendoClient
from pendo_nb.api.connect import resolve
from pendo_nb.errors import ConfigurationError, PipelineError
from pendo_nb.frames.parts import concat_parts, conform_to
from pendo_nb.http.cache_policy import CachePolicy
from pendo_nb.http.session import cache_dir
from pendo_nb.pulls.frame_cache import FrameCache
from pendo_nb.pulls.windows import Window, WindowedPull, plan_pull

try:
    import dask
    import dask.dataframe as dd
except ImportError as exc:  # the optional extra is not installed
    raise ImportError("pendo_nb.dask needs Dask: pip install 'pendo_nb[dask]'") from exc

__all__ = ["ClientSettings", "read_aggregation"]


@dataclass(frozen=True)
class ClientSettings:
    """What a worker needs to make the same client as the caller's. The key is never shown.

    Parameters
    ----------
    key : str
        The integration key (masked in ``repr``, left out of the Dask token).
    base_url : str
        The host the client talks to.
    options : dict[str, Any]
        The other :class:`~pendo_nb.PendoClient` options (timeout, rate limit, retry,
        time zone, cache expiry); ``cache`` says whether workers cache at all.
    """

    key: str = field(repr=False)
    base_url: str
    options: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_client(cls, client: PendoClient) -> ClientSettings:
        """The settings of an existing client."""
        options = dict(client._options)  # noqa: SLF001 - the client keeps them for this purpose
        options.pop("region", None)
        options.pop("base_url", None)
        # A worker cannot share this process's cache object or file: it keeps its own file.
        options["cache"] = options.get("cache") is not False
        return cls(client._key, client.base_url, options)  # noqa: SLF001

    def __repr__(self) -> str:
        return f"ClientSettings(base_url={self.base_url!r}, key=****)"

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        # Equal settings give equal tokens without the key's text entering the graph.
        return ("pendo_nb.ClientSettings", self.base_url, self._key_digest())

    def _key_digest(self) -> str:
        return hashlib.sha256(f"{self.key}\n{self.base_url}".encode()).hexdigest()[:16]

    def client(self) -> PendoClient:
        """This process's client for these settings (made once per worker process)."""
        digest = self._key_digest()
        with _clients_lock:
            client = _clients.get(digest)
            if client is None:
                options = dict(self.options)
                options["cache"] = _worker_cache_file() if options.get("cache") else False
                client = PendoClient(self.key, base_url=self.base_url, **options)
                _clients[digest] = client
            return client


_clients: dict[str, PendoClient] = {}
_clients_lock = threading.Lock()


def _worker_cache_file() -> str:
    """This worker's own cache file (its Dask name when it runs under a Dask worker)."""
    try:
        from distributed import get_worker

        name = str(get_worker().name)
    except (ImportError, ValueError):
        name = str(os.getpid())
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return str(cache_dir() / f"dask-worker-{safe}.sqlite")


def _read_window(
    window: Window, *, pull: WindowedPull, settings: ClientSettings, schema: pd.DataFrame
) -> pd.DataFrame:
    """One partition: a window's rows fetched on the worker (halved there if it fails)."""
    client = settings.client()
    frames, _ = pull.fetch_halving(client, window, store=FrameCache(client))
    partition = conform_to(concat_parts(frames), schema)
    partition.attrs = {}  # provenance holds datetimes, which Parquet metadata cannot store
    return partition


def read_aggregation(
    pipeline: Any,
    windows: str = "1D",
    client: PendoClient | None = None,
    *,
    cache_policy: CachePolicy | None = None,
) -> dd.DataFrame:
    """A ``dask.dataframe`` of an aggregation, one partition per time window.

    Parameters
    ----------
    pipeline : Pipeline, list of dict, or dict
        An aggregation whose source has a ``timeSeries``; as for :func:`pendo_nb.aggregate`.
    windows : str
        Window size: ``"1H"``, ``"1D"`` (default), ``"7D"``, ``"1W"``, ``"1M"``.
    client : PendoClient, optional
        Default: the last client made by :func:`pendo_nb.connect`. Workers make their own with
        the same settings and key, each with its own cache file.
    cache_policy : pendo_nb.cache_policy.CachePolicy, optional
        How long windows stay cached (closed ones long, open ones briefly).

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy: nothing but the first window (for the columns and dtypes) is fetched until it is
        computed. Partitions follow the windows in time order.

    Raises
    ------
    PipelineError
        Splitting the pipeline would not be exact, or its windows' rows would have to be
        combined (a group without the period bucket, ``reduce``, ``count``, a trailing sort):
        partitions must stand on their own here. Group by the period bucket, or combine in Dask
        (``ddf.groupby(...).sum()``).

    Examples
    --------
    >>> import pendo_nb as pn
    >>> from pendo_nb.dask import read_aggregation
    >>> _ = pn.connect(sandbox=True)
    >>> p = pn.source.events().last(30, "days")
    >>> read_aggregation(p, windows="1D").npartitions  # doctest: +SKIP
    30
    """
    c = resolve(client)
    if c.recording is not None:
        # Workers make clients of their own, whose answers this client's recording never sees.
        raise ConfigurationError(
            "read_aggregation cannot record a snapshot (its workers fetch the windows): record "
            "the same pull with pn.aggregate(pipeline, windows=...); a replay works with both"
        )
    pull = plan_pull(pipeline, c, windows, cache_policy)
    if pull is None:  # windows="auto" on a pipeline whose windows would not be exact
        raise PipelineError(
            "read_aggregation: this pipeline cannot be split into exact windows; name a window "
            'length (windows="1D"), or read it whole with pn.aggregate(pipeline)'
        )
    plan = pull.plan
    if plan.keys is not None or plan.sort or plan.limit is not None:
        raise PipelineError(
            "read_aggregation: this pipeline's windows give partial results that must be "
            "combined (a group or reduce without the period bucket, a count, or a trailing "
            "sort/limit), but each partition must stand on its own; group by the period bucket, "
            "or leave the combining step out and do it in Dask (e.g. ddf.groupby(...).sum())"
        )
    first, _ = pull.fetch_halving(c, pull.windows[0], store=FrameCache(c))
    meta = concat_parts(first).iloc[:0]
    meta.attrs = {}
    # Dask's own string conversion (dataframe.convert-string) would turn the text columns into
    # string[pyarrow], whose missing value is NA; partitions keep pn.aggregate's dtypes instead.
    with dask.config.set({"dataframe.convert-string": False}):
        frame: dd.DataFrame = dd.from_map(
            _read_window,
            list(pull.windows),
            pull=pull,
            settings=ClientSettings.from_client(c),
            schema=meta,  # from_map keeps `meta` for itself
            meta=meta,
            label="pendo-window",
            enforce_metadata=False,
        )
    return frame
