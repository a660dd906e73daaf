"""Sharing an extract: pn.scan_for_leaks(folder, client=live) reads its manifest and every
text cell of its Parquet files (JSON text field by field); a pseudonymized extract says per
field what was replaced, masked or kept, as a recording does."""

from __future__ import annotations

import json
import shutil

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pendo_nb as pn
from pendo_nb.frames.extract_files import write_parquet


@pytest.fixture(scope="module")
def shared_extract(sandbox, tmp_path_factory):
    """A pseudonymized extract of the shared sandbox's last days."""
    folder = tmp_path_factory.mktemp("leaks") / "shared"
    client = pn.PendoClient(sandbox.key, base_url=sandbox.url, cache=False, tz="UTC")
    pn.extract(folder, "2026-10-28", pseudonymize=True, client=client, progress=False)
    client.close()
    return folder


@pytest.fixture
def live(sandbox):
    client = pn.PendoClient(sandbox.key, base_url=sandbox.url, cache=False, tz="UTC")
    yield client
    client.close()


def test_a_pseudonymized_extract_scans_clean(shared_extract, live):
    found = pn.scan_for_leaks(shared_extract, client=live)
    assert list(found.columns) == ["where", "request", "field", "kind", "value", "count"]
    assert found.empty, found.head(10)


def test_a_real_e_mail_planted_in_a_parquet_file_is_found(shared_extract, live, sandbox, tmp_path):
    """One visitor's e-mail written back into the visitors file (its manifest entry fixed, so
    the extract is whole and opens): the scan names the file, the field and the value."""
    subscription = sandbox.subscription
    real = next(v for v in subscription.visitors.values() if "email" in v["metadata"]["agent"])
    email = real["metadata"]["agent"]["email"]
    folder = tmp_path / "planted"
    shutil.copytree(shared_extract, folder)
    name = "visitors/part-0.parquet"
    table = pq.read_table(folder / name)
    objects = [orjson.loads(text) for text in table.column("json").to_pylist()]
    objects[0]["metadata"]["agent"]["email"] = email
    texts = pa.array([orjson.dumps(obj).decode() for obj in objects], pa.string())
    table = table.set_column(table.schema.get_field_index("json"), "json", texts)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][name].update(vars(write_parquet(table, folder / name)))
    (folder / "manifest.json").write_text(json.dumps(manifest))

    found = pn.scan_for_leaks(folder, client=live)
    rows = set(found[["where", "request", "field", "kind", "value"]].itertuples(index=False))
    assert (name, "visitors", "metadata.agent.email", "e-mail address", email) in rows
    assert set(found["where"]) == {name}
    assert pn.connect(local=folder) is not None  # a whole extract: only the scan tells


def test_an_extract_taken_without_pseudonymize_is_full_of_real_values(small_extract, live):
    found = pn.scan_for_leaks(small_extract, client=live)
    assert {"visitor id", "account id", "e-mail address"} <= set(found["kind"])
    assert "visitors/part-0.parquet" in set(found["where"])
    assert any(where.startswith("events/day=") for where in found["where"])
    assert (found["count"] > 0).all()


def test_a_folder_that_is_not_a_whole_extract_is_refused(extract_copy, live, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(pn.SnapshotError, match="not a local extract"):
        pn.scan_for_leaks(empty, client=live)
    (extract_copy / "notes.txt").write_text("planted")
    with pytest.raises(pn.SnapshotError, match="which its manifest does not list"):
        pn.scan_for_leaks(extract_copy, client=live)


def test_a_pseudonymized_extract_says_per_field_what_was_replaced_masked_or_kept(
    sandbox, tmp_path, capsys
):
    client = pn.PendoClient(sandbox.key, base_url=sandbox.url, cache=False, tz="UTC")
    folder = tmp_path / "masked"
    taken = pn.extract(folder, "2026-10-31", mask=["role"], client=client, progress=True)
    client.close()
    fields = taken.attrs["summary"]["replaced"]["fields"]
    assert taken.attrs["pseudonymized"] is True
    assert fields["visitorId"]["replaced"] > 0 and fields["visitorId"]["kept"] == 0
    assert fields["metadata.agent.email"]["replaced"] > 0
    assert fields["metadata.agent.role"]["masked"] > 0
    assert fields["metadata.agent.role"]["replaced"] == fields["metadata.agent.role"]["kept"] == 0
    assert any(counts["kept"] > 0 for counts in fields.values())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["summary"] == taken.attrs["summary"]
    printed = capsys.readouterr().out
    assert "Pseudonymized (known values)" in printed and "Masked fields: role" in printed
    email = fields["metadata.agent.email"]["replaced"]
    assert "metadata.agent.email" in printed and f"{email:,} /" in printed
    role_values = pq.read_table(folder / "visitors/part-0.parquet").column("json").to_pylist()
    assert all(orjson.loads(text)["metadata"]["agent"].get("role") is None for text in role_values)


def test_an_extract_taken_as_is_has_no_pseudonymization_summary(small_extract):
    manifest = json.loads((small_extract / "manifest.json").read_text())
    assert manifest["pseudonymized"] is False and "summary" not in manifest
