"""What pn.extract writes, how it resumes and extends, and how a damaged extract is refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import pendo_nb as pn
from pendo_nb.pulls.extracts.manifest import FORMAT_VERSION

ROOT = Path(__file__).parents[2]


def _client(server) -> pn.PendoClient:
    return pn.PendoClient(server.key, base_url=server.url, cache=False, tz="UTC")


def _requested_days(client) -> list[str]:
    """Wrap the client's post_aggregation to record the first day of each event-source body."""
    days: list[str] = []
    send = client.post_aggregation

    def counting(body, **kwargs):
        step = body["request"]["pipeline"][0] if isinstance(body, dict) else body[0]
        source = step.get("source", {})
        series = source.get("timeSeries")
        if series and "events" in source:
            days.append(pd.Timestamp(series["first"], unit="ms").date().isoformat())
        return send(body, **kwargs)

    client.post_aggregation = counting
    return days


def _contents(folder: Path) -> dict[str, pd.DataFrame]:
    """Every day file's rows (the manifest's pull times aside, what an extract holds)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    return {
        name: pq.read_table(folder / name).to_pandas()
        for name in sorted(manifest["files"])
        if "/day=" in name
    }


def _same_extract(a: Path, b: Path) -> None:
    left, right = _contents(a), _contents(b)
    assert list(left) == list(right)
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], obj=name)


def test_files_are_hive_partitioned_parquet_any_tool_reads(sandbox, tmp_path):
    taken = pn.extract(tmp_path / "x", "2026-10-20", "2026-10-27", client=_client(sandbox),
                       progress=False)  # fmt: skip
    assert set(taken.columns) == {"source", "days", "rows", "bytes"}
    events = taken.set_index("source").loc["events"]
    assert events["days"] == 7 and events["rows"] > 0
    manifest = json.loads((tmp_path / "x" / "manifest.json").read_text())
    assert manifest["version"] == FORMAT_VERSION and manifest["complete"]
    assert manifest["grain"] == "day" and manifest["timezone"] == "UTC"
    assert (tmp_path / "x/events/day=2026-10-20/part-0.parquet").is_file()
    # pandas reads the whole folder, the partition key as a column
    frame = pd.read_parquet(tmp_path / "x" / "events")
    assert len(frame) == events["rows"] and frame["day"].nunique() == 7
    assert str(frame["firstTime"].dtype).startswith("datetime64[ms, UTC]")
    visitors = pd.read_parquet(tmp_path / "x" / "visitors")
    assert {"visitorId", "json"} <= set(visitors.columns)
    assert json.loads(visitors["json"][0])["visitorId"] == visitors["visitorId"][0]


def test_interrupted_extract_resumes_and_equals_an_uninterrupted_one(sandbox, tmp_path):
    target = tmp_path / "interrupted"
    code = (
        "import sys, pendo_nb as pn\n"
        "c = pn.PendoClient(sys.argv[1], base_url=sys.argv[2], cache=False, tz='UTC')\n"
        "pn.extract(sys.argv[3], '2026-10-01', grain='hour', workers=1, progress=False,"
        " client=c)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", code, sandbox.key, sandbox.url, str(target)], env=env
    )
    deadline = time.monotonic() + 120
    manifest = target / "manifest.json"
    try:
        while time.monotonic() < deadline and child.poll() is None:
            if manifest.is_file() and len(json.loads(manifest.read_text())["days"]) >= 4:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the extract finished before it could be interrupted"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    halfway = json.loads(manifest.read_text())
    assert not halfway["complete"] and 4 <= len(halfway["days"]) < 32
    with pytest.raises(pn.SnapshotError, match="unfinished"):
        pn.connect(local=target)

    client = _client(sandbox)
    requested = _requested_days(client)
    pn.extract(target, "2026-10-01", grain="hour", progress=False, client=client)
    done_before = {day for day, entry in halfway["days"].items()
                   if entry["end_ms"] + 2 * 86_400_000 <= entry["pulled_at_ms"]}  # fmt: skip
    assert done_before and not done_before & set(requested)  # resumed, not started over

    whole = tmp_path / "whole"
    pn.extract(whole, "2026-10-01", grain="hour", progress=False, client=_client(sandbox))
    _same_extract(target, whole)


def test_extending_pulls_only_new_days_and_the_unsettled_tail(sandbox, tmp_path):
    target = tmp_path / "x"
    pn.extract(target, "2026-10-10", "2026-10-25", client=_client(sandbox), progress=False)
    client = _client(sandbox)
    requested = _requested_days(client)
    # The sandbox's clock is 2026-11-01T12:00Z: with 8 days to settle, Oct 24 (ended Oct 25)
    # had not settled when it was pulled, Oct 23 had.
    taken = pn.extract(target, "2026-10-10", client=client, progress=False, settle_days=8)
    new_days = [f"2026-10-{d}" for d in range(25, 32)] + ["2026-11-01"]
    assert sorted(set(requested)) == ["2026-10-24", *new_days]
    assert taken.attrs["first_day"] == "2026-10-10" and taken.attrs["last_day"] == "2026-11-01"
    fresh = tmp_path / "fresh"
    pn.extract(fresh, "2026-10-10", client=_client(sandbox), progress=False)
    _same_extract(target, fresh)


def test_truncated_file_is_refused(extract_copy):
    copy = extract_copy
    victim = copy / "events/day=2026-10-26/part-0.parquet"
    victim.write_bytes(victim.read_bytes()[:-100])
    with pytest.raises(pn.SnapshotError, match="part-0.parquet holds .* bytes where its manifest"):
        pn.connect(local=copy)


def test_tampered_file_is_refused(extract_copy):
    copy = extract_copy
    victim = copy / "visitors/part-0.parquet"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(pn.SnapshotError, match="events|visitors"):
        pn.connect(local=copy)


def test_missing_file_is_refused(extract_copy):
    copy = extract_copy
    (copy / "accounts/part-0.parquet").unlink()
    with pytest.raises(pn.SnapshotError, match="lists accounts/part-0.parquet, which the folder"):
        pn.connect(local=copy)


def test_newer_format_is_refused(extract_copy):
    copy = extract_copy
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["version"] = FORMAT_VERSION + 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(pn.SnapshotError, match="newer"):
        pn.connect(local=copy)


def test_not_an_extract_is_refused(tmp_path):
    with pytest.raises(pn.SnapshotError, match="not a local extract"):
        pn.connect(local=tmp_path)


def test_extending_with_another_grain_is_refused(extract_copy, sandbox):
    copy = extract_copy
    with pytest.raises(pn.SnapshotError, match="grain"):
        pn.extract(copy, "2026-10-25", grain="hour", client=_client(sandbox), progress=False)


def test_sources_left_out_are_refused_by_name(sandbox, tmp_path):
    folder = tmp_path / "events-only"
    taken = pn.extract(folder, "2026-10-28", sources=["events"], client=_client(sandbox),
                       progress=False)  # fmt: skip
    assert "pageEvents" not in set(taken["source"])
    local = pn.connect(local=folder)
    days = {"period": "dayRange", "first": "now()", "count": -2}
    assert len(local.aggregate([{"source": {"events": None, "timeSeries": days}}])) > 0
    for source in ("pageEvents", "guideEvents"):
        with pytest.raises(pn.BadRequestError, match=f"holds no {source} rows"):
            local.aggregate([{"source": {source: None, "timeSeries": days}}])
    with pytest.raises(pn.SnapshotError, match="same sources"):
        pn.extract(folder, "2026-10-28", sources=["events", "pageEvents"],
                   client=_client(sandbox), progress=False)  # fmt: skip


def test_bad_arguments_are_refused(sandbox, tmp_path):
    client = _client(sandbox)
    with pytest.raises(pn.ValidationError, match="grain"):
        pn.extract(tmp_path, "2026-10-25", grain="week", client=client)
    with pytest.raises(pn.ValidationError, match="sources"):
        pn.extract(tmp_path, "2026-10-25", sources=["visitorHistory"], client=client)
