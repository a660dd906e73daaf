"""read_aggregation on a local Dask cluster of processes, against the sandbox."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest

import pendo_nb as pn
from pendo_nb.errors import PipelineError

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from pendo_nb.dask import ClientSettings, read_aggregation  # noqa: E402

TEN_DAYS = [
    {
        "source": {
            "events": None,
            "timeSeries": {"period": "dayRange", "first": "now()", "count": -10},
        }
    },
    {"filter": "numEvents > 1"},
]


def test_partitions_are_windows_fetched_by_workers(sandbox, make_client, tmp_path, monkeypatch):
    worker_caches = tmp_path / "worker-caches"
    monkeypatch.setenv("PENDO_NB_CACHE_DIR", str(worker_caches))  # the workers inherit it
    client = make_client(sandbox.url, sandbox.key)
    expected = pn.aggregate(TEN_DAYS, client=client)
    with (
        distributed.LocalCluster(
            processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        ddf = read_aggregation(TEN_DAYS, windows="1D", client=client)
        assert ddf.npartitions == 10
        graph = ddf.__dask_graph__()
        shown = [
            repr(ddf),
            str(ddf.dask),
            repr(dict(graph)),
            *(str(task) for task in graph.values()),
        ]
        assert not [text for text in shown if sandbox.key in text]

        # pn.aggregate's dtypes, not Dask's string conversion (string[pyarrow] for str)
        assert ddf.dtypes.to_dict() == expected.dtypes.to_dict()
        computed = ddf.compute()
        assert computed["visitorId"].value_counts().dtype == "int64"
        by = list(expected.columns)
        pd.testing.assert_frame_equal(
            computed[by].sort_values(by).reset_index(drop=True),
            expected.sort_values(by).reset_index(drop=True),
        )
        ddf.to_parquet(tmp_path / "events")
    back = pd.read_parquet(tmp_path / "events")
    assert len(back) == len(expected)
    assert sorted(back["visitorId"]) == sorted(expected["visitorId"])
    # the workers cached in their own files (named after the worker), not in the caller's
    names = {path.name for path in worker_caches.glob("*.sqlite")}
    assert names and names <= {"dask-worker-0.sqlite", "dask-worker-1.sqlite"}


def test_settings_hide_the_key_but_carry_it(client, sandbox):
    settings = ClientSettings.from_client(client)
    assert sandbox.key not in repr(settings) and sandbox.key not in str(settings)
    assert sandbox.key not in str(dask.base.tokenize(settings))
    assert settings.__dask_tokenize__() == ClientSettings.from_client(client).__dask_tokenize__()
    revived = pickle.loads(pickle.dumps(settings))
    assert revived.key == sandbox.key  # the workers need it to make their client


def test_partials_that_need_combining_are_refused(client):
    by_visitor = [
        TEN_DAYS[0],
        {"group": {"group": ["visitorId"], "fields": {"n": {"sum": "numEvents"}}}},
    ]
    with pytest.raises(PipelineError, match="each partition must stand on its own"):
        read_aggregation(by_visitor, windows="1D", client=client)


def test_a_snapshot_replays_through_dask_and_dask_refuses_to_record(sandbox, tmp_path):
    path = tmp_path / "pull.pendo"
    recording = pn.connect(sandbox=sandbox, record=path, cache=False)
    expected = pn.aggregate(TEN_DAYS, windows="1D", progress=False)
    with pytest.raises(pn.ConfigurationError, match="cannot record"):
        read_aggregation(TEN_DAYS, windows="1D")  # its workers' answers would not be recorded
    recording.finish_recording()

    pn.connect(replay=path)
    with dask.config.set(scheduler="synchronous"):
        computed = read_aggregation(TEN_DAYS, windows="1D").compute()
    by = list(expected.columns)
    pd.testing.assert_frame_equal(
        computed[by].sort_values(by).reset_index(drop=True),
        expected.sort_values(by).reset_index(drop=True),
    )
