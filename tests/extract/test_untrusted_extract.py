"""An extract from someone else is untrusted input: its folder and manifest are checked before
pyarrow opens any file, and each Parquet footer is compared with the manifest before any data
is read (pendo_nb.http.untrusted_files: the same rules as for snapshots)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import pendo_nb as pn
from pendo_nb.frames.extract_files import file_digest, parquet_footer
from pendo_nb.http.untrusted_files import MAX_FILE_BYTES_VARIABLE


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _rewrite_manifest(folder: Path, manifest: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))


def _opened_parquet_files(monkeypatch) -> list[tuple[str, str]]:
    """Record every Parquet file pyarrow is asked to read: (how, file), footer or data."""
    opened: list[tuple[str, str]] = []
    for name in ("read_metadata", "read_table", "ParquetFile"):
        real = getattr(pq, name)

        def spy(source, *args, real=real, name=name, **kwargs):
            opened.append((name, str(source)))
            return real(source, *args, **kwargs)

        monkeypatch.setattr(pq, name, spy)
    return opened


def test_an_honest_extract_declares_what_its_footers_say(small_extract):
    files = _manifest(small_extract)["files"]
    assert files
    for name, entry in files.items():
        footer = parquet_footer(small_extract / name)
        assert (footer.rows, footer.uncompressed_bytes) == (
            entry["rows"],
            entry["uncompressed_bytes"],
        )
        assert entry["uncompressed_bytes"] > 0
    assert len(pn.connect(local=small_extract).aggregate([{"source": {"accounts": None}}])) > 0


def test_a_planted_undeclared_file_is_refused_before_any_file_is_opened(extract_copy, monkeypatch):
    (extract_copy / "visitors" / "part-1.parquet").write_bytes(
        (extract_copy / "visitors" / "part-0.parquet").read_bytes()
    )
    opened = _opened_parquet_files(monkeypatch)
    with pytest.raises(
        pn.SnapshotError, match="holds visitors/part-1.parquet, which its manifest does not list"
    ):
        pn.connect(local=extract_copy)
    assert opened == []


def test_a_symlinked_file_is_refused_even_with_the_declared_content(extract_copy, tmp_path):
    """The link points at a file of the very size and checksum declared: a link is refused as
    such (it could point anywhere on the machine)."""
    victim = extract_copy / "accounts" / "part-0.parquet"
    elsewhere = tmp_path / "elsewhere.parquet"
    victim.rename(elsewhere)
    victim.symlink_to(elsewhere)
    with pytest.raises(
        pn.SnapshotError, match="accounts/part-0.parquet is a link or a special file"
    ):
        pn.connect(local=extract_copy)


def test_a_symlinked_manifest_is_refused(extract_copy, tmp_path):
    manifest = extract_copy / "manifest.json"
    elsewhere = tmp_path / "manifest.json"
    manifest.rename(elsewhere)
    manifest.symlink_to(elsewhere)
    with pytest.raises(pn.SnapshotError, match="manifest.json is a link or a special file"):
        pn.connect(local=extract_copy)


def test_a_manifest_declaring_more_than_the_limit_is_refused_unopened(extract_copy, monkeypatch):
    manifest = _manifest(extract_copy)
    name = "events/day=2026-10-26/part-0.parquet"
    manifest["files"][name]["bytes"] = 5 << 30
    _rewrite_manifest(extract_copy, manifest)
    opened = _opened_parquet_files(monkeypatch)
    with pytest.raises(pn.SnapshotError, match=f"declares more than 1,073,741,824 bytes .*{name}"):
        pn.connect(local=extract_copy)
    assert opened == []


def test_a_limit_set_in_the_environment_refuses_an_honest_extract_larger(
    small_extract, monkeypatch
):
    files = _manifest(small_extract)["files"]
    on_disk = sum(entry["bytes"] for entry in files.values())
    unpacked = sum(entry["uncompressed_bytes"] for entry in files.values())
    manifest_bytes = (small_extract / "manifest.json").stat().st_size
    monkeypatch.setenv(MAX_FILE_BYTES_VARIABLE, str(max(on_disk, manifest_bytes) + 1))
    assert unpacked > on_disk  # the files are compressed: what they unpack to counts too
    with pytest.raises(pn.SnapshotError, match="unpacked"):
        pn.connect(local=small_extract)
    monkeypatch.setenv(MAX_FILE_BYTES_VARIABLE, str(on_disk - 1))
    with pytest.raises(pn.SnapshotError, match=f"more than {on_disk - 1:,} bytes"):
        pn.connect(local=small_extract)
    monkeypatch.setenv(MAX_FILE_BYTES_VARIABLE, str(manifest_bytes - 1))
    with pytest.raises(pn.SnapshotError, match="a manifest takes at most"):
        pn.connect(local=small_extract)


def test_an_unpacked_size_past_the_limit_is_refused_unopened(extract_copy, monkeypatch):
    manifest = _manifest(extract_copy)
    manifest["files"]["visitors/part-0.parquet"]["uncompressed_bytes"] = 2 << 30
    _rewrite_manifest(extract_copy, manifest)
    opened = _opened_parquet_files(monkeypatch)
    with pytest.raises(pn.SnapshotError, match="reached at visitors/part-0.parquet unpacked"):
        pn.connect(local=extract_copy)
    assert opened == []


def test_a_footer_that_disagrees_with_the_manifest_is_refused_before_its_data_is_read(
    extract_copy, monkeypatch
):
    """A file replaced by another valid Parquet file, its size and checksum fixed in the
    manifest, but not its rows: the footer gives it away."""
    name = "visitors/part-0.parquet"
    path = extract_copy / name
    table = pq.read_table(path)
    pq.write_table(table.slice(0, table.num_rows - 1), path, compression="zstd")
    manifest = _manifest(extract_copy)
    size, digest = file_digest(path)
    manifest["files"][name].update(bytes=size, sha256=digest)
    _rewrite_manifest(extract_copy, manifest)
    opened = _opened_parquet_files(monkeypatch)
    with pytest.raises(
        pn.SnapshotError,
        match=f"{name}'s footer declares {table.num_rows - 1:,} rows .* where the manifest "
        f"declares {table.num_rows}",
    ):
        pn.connect(local=extract_copy)
    assert opened and {how for how, _ in opened} == {"read_metadata"}  # footers only


def test_a_manifest_that_is_a_heap_of_nested_lists_is_refused_unparsed(extract_copy):
    (extract_copy / "manifest.json").write_text("[" * 5000 + "]" * 5000)
    with pytest.raises(pn.SnapshotError, match="far more objects and lists than a manifest"):
        pn.connect(local=extract_copy)


def test_a_file_that_is_not_parquet_is_refused_with_its_name(extract_copy):
    name = "accounts/part-0.parquet"
    path = extract_copy / name
    path.write_bytes(b"x" * path.stat().st_size)
    manifest = _manifest(extract_copy)
    manifest["files"][name]["sha256"] = file_digest(path)[1]
    _rewrite_manifest(extract_copy, manifest)
    with pytest.raises(pn.SnapshotError, match="part-0.parquet is not a readable Parquet file"):
        pn.connect(local=extract_copy)
