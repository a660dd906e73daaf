"""Snapshots: record a session against a real sandbox, stop it, replay without key or network."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import orjson
import pandas as pd
import pytest

import pendo_nb as pn
from pendo_nb.http import snapshot as snapshot_format
from pendo_nb.http.snapshot import read_snapshot
from pendo_nb.sandbox import Sandbox

TOP_VISITORS = (
    pn.source.events(app_id="*")
    .last(7, "days")
    .group("visitorId", events=pn.agg.sum("numEvents"))
    .sort("-events")
    .limit(5)
)
DAILY = pn.source.events(app_id="*").last(7, "days").group("day", events=pn.agg.sum("numEvents"))
ACCOUNT_NAMES = (
    pn.source.accounts().select(accountId="accountId", company="metadata.agent.name").limit(5)
)


def the_calls(client) -> dict[str, pd.DataFrame]:
    """Every kind of read a notebook makes, on ``client``."""
    top = TOP_VISITORS.run(client=client)
    visitor_id = top["visitorId"].iloc[0]
    visitor = client.visitor(visitor_id)
    listed = client.reports()
    report_id = listed.loc[listed["definition.type"] == "List", "id"].iloc[0]
    history = client.visitor_history(visitor_id, start="2026-10-28", end="2026-10-30")
    return {
        "top": top,
        "visitor": visitor,
        "account": client.account(visitor["accountIds"].iloc[0][0]),
        "history": history,
        "named_history": client.with_names(history),  # the catalogs replay like any read
        "reports": listed,
        "report": client.report(report_id),
        "report_csv": client.report_csv(report_id),
        "windows": client.aggregate(DAILY, windows="1D", progress=False),
        "pages": client.aggregate([{"source": {"accounts": None}}], page_size=10, progress=False),
        "accounts": ACCOUNT_NAMES.run(client=client),
        "dry_run": client.update_values(
            "visitor", [{"visitorId": visitor_id, "betaopt": True}], dry_run=True
        ),
    }


def record(path: Path, **options) -> tuple[dict[str, pd.DataFrame], Sandbox, str]:
    """Record the calls against a sandbox of their own, then stop it; also its host."""
    server = Sandbox(size="small")
    with server:
        host = server.url.split("://", 1)[1]
        client = pn.connect(sandbox=server, record=path, **options)
        frames = the_calls(client)
        client.close()
    return frames, server, host


def snapshot_bytes(path: Path) -> bytes:
    """Everything the file holds, its answers decompressed."""
    with zipfile.ZipFile(path) as archive:
        return b"\n".join(
            gzip.decompress(archive.read(n)) if n.endswith(".gz") else archive.read(n)
            for n in archive.namelist()
        )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    path = tmp_path_factory.mktemp("snapshots") / "review.pendo"
    return (path, *record(path))


def test_a_replay_returns_every_frame_as_recorded_with_the_server_gone(recorded, monkeypatch):
    path, frames, _, _ = recorded
    monkeypatch.delenv("PENDO_INTEGRATION_KEY", raising=False)
    client = pn.connect(replay=path)
    assert client.replaying == path
    replayed = the_calls(client)
    assert replayed.keys() == frames.keys()
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(replayed[name], frame, obj=name)
    assert replayed["windows"].attrs["windows"] == frames["windows"].attrs["windows"] == 7
    assert replayed["pages"].attrs["pages"] == frames["pages"].attrs["pages"]


def test_the_file_holds_no_key_no_host_and_no_headers(recorded):
    path, _, server, host = recorded
    content = snapshot_bytes(path)
    for secret in (server.key, server.read_only_key, host, "x-pendo-integration-key"):
        assert secret.encode() not in content
    assert b"127.0.0.1" not in content


def test_a_call_that_was_not_recorded_names_the_request_and_how_to_record(recorded):
    path, _, _, _ = recorded
    pn.connect(replay=path)
    with pytest.raises(pn.NotRecordedError) as caught:
        pn.visitor("someone-never-asked-for")
    error = caught.value
    assert isinstance(error, pn.PendoError)
    assert (error.method, error.path) == ("GET", "/visitor/someone-never-asked-for")
    assert "was not recorded in review.pendo" in str(error)
    assert "record=" in str(error)


def test_a_replay_is_read_only(recorded):
    path, frames, _, _ = recorded
    pn.connect(replay=path)
    visitor_id = frames["top"]["visitorId"].iloc[0]
    assert pn.can_write() is False
    with pytest.raises(pn.SnapshotError, match="read-only"):
        pn.update_values("visitor", [{"visitorId": visitor_id, "betaopt": True}])


def test_replay_wins_over_sandbox_and_key_when_set_in_the_environment(recorded, monkeypatch):
    path, frames, _, _ = recorded
    monkeypatch.setenv("PENDO_NB_REPLAY", str(path))
    client = pn.connect(sandbox=True)  # a notebook's own connect line, replayed unchanged
    assert client.replaying == path
    assert repr(client) == "<PendoClient replay=review.pendo>"
    pd.testing.assert_frame_equal(TOP_VISITORS.run(), frames["top"])


def test_snapshot_info_lists_what_was_recorded(recorded):
    path, _, _, _ = recorded
    info = pn.snapshot_info(path)
    assert list(info.columns) == ["method", "path", "request", "status", "bytes", "recorded_at"]
    assert {"/aggregation", "/report", "/metadata/schema/visitor"} <= set(info["path"])
    assert (info["bytes"] > 0).all()
    assert "events → group → sort → limit" in set(info["request"])
    assert info.attrs["format_version"] == snapshot_format.FORMAT_VERSION
    assert info.attrs["pseudonymized"] is False
    assert info.attrs["summary"]["answers"] == len(info)


def test_a_damaged_file_gives_a_clear_error(recorded, tmp_path):
    path, _, _, _ = recorded
    whole = path.read_bytes()

    truncated = tmp_path / "truncated.pendo"
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(pn.SnapshotError, match="truncated or damaged"):
        pn.connect(replay=truncated)

    not_a_zip = tmp_path / "notes.pendo"
    not_a_zip.write_text("hello")
    with pytest.raises(pn.SnapshotError, match="not a readable pendo_nb snapshot"):
        pn.snapshot_info(not_a_zip)

    with pytest.raises(pn.SnapshotError, match="no snapshot file"):
        pn.connect(replay=tmp_path / "missing.pendo")


def rewrite(source: Path, target: Path, change) -> None:
    """Copy a snapshot, letting ``change(name, data)`` alter each member."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            new.writestr(name, change(name, old.read(name)))


def test_an_altered_answer_or_a_newer_format_is_refused(recorded, tmp_path):
    path, _, _, _ = recorded

    def alter_an_answer(name: str, data: bytes) -> bytes:
        if name.endswith(".gz"):
            return gzip.compress(gzip.decompress(data).replace(b"1", b"2"))
        return data

    tampered = tmp_path / "tampered.pendo"
    rewrite(path, tampered, alter_an_answer)
    with pytest.raises(pn.SnapshotError, match="does not match its checksum"):
        pn.connect(replay=tampered)

    def bump_version(name: str, data: bytes) -> bytes:
        if name == "snapshot.json":
            manifest = json.loads(data)
            manifest["version"] = snapshot_format.FORMAT_VERSION + 1
            return json.dumps(manifest).encode()
        return data

    newer = tmp_path / "newer.pendo"
    rewrite(path, newer, bump_version)
    with pytest.raises(pn.SnapshotError, match="newer pendo_nb"):
        pn.connect(replay=newer)


def test_a_failed_save_leaves_the_previous_file_whole(tmp_path, sandbox, monkeypatch):
    folder = tmp_path / "notebooks"
    path = folder / "review.pendo"
    client = pn.connect(sandbox=sandbox, record=path)
    TOP_VISITORS.run()
    client.finish_recording()
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    DAILY.run()
    monkeypatch.setattr(snapshot_format.zipfile.ZipFile, "writestr", crash)
    with pytest.raises(OSError, match="disk full"):
        client.finish_recording()
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert len(read_snapshot(path).answers) == 1
    assert [p.name for p in folder.iterdir()] == ["review.pendo"]  # no temporary file left


def test_pseudonymized_recordings_hide_people_and_keep_joins(tmp_path):
    plain_path, pseudo_path = tmp_path / "plain.pendo", tmp_path / "pseudo.pendo"
    plain, _, _ = record(plain_path)
    pseudo, _, _ = record(pseudo_path, pseudonymize=True, mask=["role"])

    # The real people of the plain recording appear nowhere in the pseudonymized one.
    real_values = {
        *plain["top"]["visitorId"],
        plain["visitor"]["metadata.agent.email"].iloc[0],
        plain["visitor"]["metadata.agent.name"].iloc[0],
        *plain["visitor"]["accountIds"].iloc[0],
        *plain["accounts"]["accountId"],
        *plain["accounts"]["company"],
        *plain["history"]["visitorId"],
    }
    content = snapshot_bytes(pseudo_path)
    leaked = sorted(value for value in real_values if value.encode() in content)
    assert leaked == []

    # What the notebook saw is what the file replays, and the fakes agree across answers.
    top_fake = pseudo["top"]["visitorId"].iloc[0]
    assert top_fake not in set(plain["top"]["visitorId"])
    assert pseudo["visitor"]["id"].iloc[0] == top_fake  # pn.visitor(fake) reached the real one
    assert pseudo["history"]["visitorId"].unique().tolist() == [top_fake]
    assert pseudo["account"]["id"].iloc[0] == pseudo["visitor"]["accountIds"].iloc[0][0]
    assert pseudo["dry_run"]["visitorId"].tolist() == [top_fake]
    # Numbers are untouched.
    assert pseudo["top"]["events"].tolist() == plain["top"]["events"].tolist()
    pd.testing.assert_frame_equal(pseudo["windows"], plain["windows"])
    # Masked fields are null, and the summary says what was replaced.
    assert pseudo["visitor"]["metadata.agent.role"].isna().all()
    manifest = orjson.loads(zipfile.ZipFile(pseudo_path).read("snapshot.json"))
    replaced = manifest["summary"]["replaced"]
    assert manifest["pseudonymized"] is True
    assert replaced["masked fields"] == ["role"]
    assert replaced["account ids"] >= 5 and replaced["names"] >= 1
    assert replaced["account names"] >= 5
    assert replaced["e-mail addresses"] >= 5  # the sandbox's visitor ids are e-mail addresses

    client = pn.connect(replay=pseudo_path)
    replayed = the_calls(client)
    for name, frame in pseudo.items():
        pd.testing.assert_frame_equal(replayed[name], frame, obj=name)


def test_the_closing_summary_says_what_was_replaced(tmp_path, sandbox):
    client = pn.connect(sandbox=sandbox, record=tmp_path / "s.pendo", pseudonymize=True)
    ACCOUNT_NAMES.run()
    summary = client.finish_recording()
    assert summary.startswith("Recorded 2 answers")  # the aggregation and the account schema
    assert "account ids 5," in summary and "account names 5," in summary
    assert "names 0," in summary  # account names are customers, not people
    assert "  company  " in summary and "  accountId  " in summary  # per field


def test_options_that_need_a_recording_are_refused_without_one(sandbox):
    with pytest.raises(pn.ConfigurationError, match="record="):
        pn.connect(sandbox=sandbox, pseudonymize=True)
