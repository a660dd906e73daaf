"""Hostile snapshot files: bombs, lying manifests, thousands of members, odd member names.

Each is refused with a clear SnapshotError before it can cost more memory than its manifest
declares. The files are crafted byte by byte (zipfile would refuse to write most of them), and
the bombs are made of repeated deflate blocks, so a 2 GiB bomb takes 2 MB on disk and is built
without ever holding or writing its content.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import textwrap
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pendo_nb as pn
from pendo_nb.http.snapshot import MANIFEST, RecordedAnswer, read_snapshot, request_key
from pendo_nb.http.untrusted_files import (
    MAX_FILE_BYTES,
    MAX_MEMBERS,
    FileLimits,
    check_folder,
    file_limits,
)

STORED, DEFLATED = 0, 8
MIB = 1 << 20
BOMB_MIB = 2048  # 2 GiB unpacked

# -- crafting files ----------------------------------------------------------------------------


def zip_file(
    path: Path,
    members: list[tuple[str | bytes, bytes, int, int, int]],
    *,
    entries: int | None = None,
    directory_bytes: int | None = None,
    comment: bytes = b"",
) -> Path:
    """Write a ZIP archive as given: ``(name, data as stored, method, crc, size unpacked)`` per
    member; ``entries``/``directory_bytes`` override what the last record claims."""
    body, directory = bytearray(), bytearray()
    for name, data, method, crc, size in members:
        raw = name.encode() if isinstance(name, str) else name
        offset = len(body)
        body += struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, len(data), size, len(raw), 0
        )
        body += raw + data
        directory += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc, len(data), size,
            len(raw), 0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        directory += raw
    count = len(members) if entries is None else entries
    size = len(directory) if directory_bytes is None else directory_bytes
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, len(body), len(comment))
    path.write_bytes(bytes(body + directory + end + comment))
    return path


def stored(name: str | bytes, data: bytes) -> tuple[str | bytes, bytes, int, int, int]:
    return name, data, STORED, zlib.crc32(data), len(data)


def zeros_deflate(mib: int) -> bytes:
    """A raw deflate stream of ``mib`` MiB of zeros, about 1 KB per MiB.

    After a full flush the compressor starts afresh, so each MiB of zeros compresses to the same
    bytes: one block, repeated, then the final empty block.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * mib + b"\x03\x00"


def zeros_gzip(mib: int) -> bytes:
    """A gzip stream of ``mib`` MiB of zeros. Its trailer's CRC is left 0: a reader that gets
    that far has inflated it all already, which is the failure these tests look for."""
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + zeros_deflate(mib) + struct.pack("<2L", 0, (mib * MIB) & 0xFFFFFFFF)


def answer(number: int, content: bytes) -> RecordedAnswer:
    path = f"/visitor/v{number}"
    return RecordedAnswer(
        key=request_key("GET", path, None, None),
        method="GET",
        path=path,
        params={},
        request=None,
        status=200,
        content_type="application/json",
        content=content,
        recorded_at=datetime(2026, 10, 30, tzinfo=UTC),
    )


def manifest(entries: list[dict]) -> bytes:
    return json.dumps(
        {
            "format": "pendo_nb-snapshot",
            "version": 1,
            "created_by": "a stranger",
            "recorded_at": "2026-10-30T00:00:00+00:00",
            "pseudonymized": False,
            "summary": {},
            "entries": entries,
        }
    ).encode()


def snapshot(
    path: Path,
    answers: list[tuple[RecordedAnswer, bytes]],
    *,
    declared: dict[int, int] | None = None,
    extra: list[tuple[str | bytes, bytes, int, int, int]] = (),
) -> Path:
    """A snapshot holding ``(answer, member as stored)`` pairs; ``declared`` overrides the
    manifest's size of the answer at that position, ``extra`` adds members."""
    entries = [recorded.manifest_entry() for recorded, _ in answers]
    for position, size in (declared or {}).items():
        entries[position]["bytes"] = size
    members = [stored(MANIFEST, manifest(entries))]
    members += [
        stored(entry["member"], data) for entry, (_, data) in zip(entries, answers, strict=True)
    ]
    return zip_file(path, members + list(extra))


def honest(path: Path, *contents: bytes) -> Path:
    return snapshot(path, [(answer(n, c), zlib_gzip(c)) for n, c in enumerate(contents)])


def zlib_gzip(content: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    return compressor.compress(content) + compressor.flush()


# -- bombs, measured in a process of their own -------------------------------------------------

# Opens each file given, and prints what each refusal said and the process's peak memory after
# it (ru_maxrss: KiB on Linux), from before the first on.
_OPEN_EACH = textwrap.dedent(
    """
    import json, resource, sys
    import pendo_nb as pn

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    before = peak()
    outcomes = []
    for path in sys.argv[1:]:
        try:
            pn.snapshot_info(path)
            error = None
        except pn.SnapshotError as exc:
            error = str(exc)
        outcomes.append({"path": path, "error": error, "peak": peak()})
    print(json.dumps({"before": before, "outcomes": outcomes}))
    """
)
# Runs _OPEN_EACH in a child of its own and adds that child's peak memory, read from here
# (RUSAGE_CHILDREN). A process started from pytest inherits pytest's peak as its own starting
# peak (the kernel keeps it across exec); started from this small launcher, it inherits little.
_LAUNCH = textwrap.dedent(
    """
    import json, resource, subprocess, sys
    child = subprocess.run([sys.executable, "-c", *sys.argv[1:]], capture_output=True, text=True)
    if child.returncode:
        sys.exit(child.stderr)
    measured = json.loads(child.stdout)
    measured["child_peak"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps(measured))
    """
)


def bombs(folder: Path) -> dict[str, tuple[Path, str]]:
    """Each bomb, and what its refusal says."""
    content = b'{"visitorId": "v0"}'
    small = answer(0, content)
    gzip_bomb = zeros_gzip(BOMB_MIB)
    deflate_bomb = zeros_deflate(BOMB_MIB)
    bomb_size = BOMB_MIB * MIB
    entry = small.manifest_entry()
    return {
        # The answer's gzip unpacks to 2 GiB; the manifest says 3 MB (enough for a gzip of
        # 2 MB, so it is inflated, streaming, until it passes 3 MB).
        "gzip answer, manifest lies": (
            snapshot(folder / "lying.pendo", [(small, gzip_bomb)], declared={0: 3_000_000}),
            "holds more than 3,000,000 bytes where its manifest declares 3,000,000",
        ),
        # The manifest says 19 bytes: no gzip of 19 bytes takes 2 MB, so it is not even opened.
        "gzip answer, manifest lies badly": (
            snapshot(folder / "lying-badly.pendo", [(small, gzip_bomb)]),
            "more than 19 bytes of content could need",
        ),
        # The manifest says 2 GiB: more than the limit, so nothing is inflated.
        "gzip answer, manifest honest": (
            snapshot(folder / "honest.pendo", [(small, gzip_bomb)], declared={0: bomb_size}),
            f"declares more than {MAX_FILE_BYTES:,} bytes of content",
        ),
        # The ZIP member itself is deflated to 2 GiB, its directory entry says 200 bytes: read
        # no further than that, it fails the directory's checksum.
        "zip member, directory lies": (
            zip_file(
                folder / "zip-lying.pendo",
                [
                    stored(MANIFEST, manifest([entry])),
                    (entry["member"], deflate_bomb, DEFLATED, 0, 200),
                ],
            ),
            "truncated or damaged: Bad CRC-32",
        ),
        "zip member, directory honest": (
            zip_file(
                folder / "zip-honest.pendo",
                [
                    stored(MANIFEST, manifest([entry])),
                    (entry["member"], deflate_bomb, DEFLATED, 0, bomb_size),
                ],
            ),
            f"declares {bomb_size:,} bytes",
        ),
        # A manifest of 1 MB that would parse into 130,000 dicts (~30 MB): counted first.
        "manifest, many objects": (
            zip_file(
                folder / "manifest-objects.pendo",
                [stored(MANIFEST, b"[" + b",".join([b'{"a":1}'] * 130_000) + b"]")],
            ),
            "holds 130,001 objects and lists, far more than 0 answers need",
        ),
        # The manifest is the bomb.
        "manifest, directory lies": (
            zip_file(folder / "manifest-lying.pendo", [(MANIFEST, deflate_bomb, DEFLATED, 0, 500)]),
            "truncated or damaged",
        ),
        "manifest, directory honest": (
            zip_file(
                folder / "manifest-honest.pendo", [(MANIFEST, deflate_bomb, DEFLATED, 0, bomb_size)]
            ),
            f"declares {bomb_size:,} bytes",
        ),
    }


def test_decompression_bombs_are_refused_in_bounded_memory(tmp_path):
    made = bombs(tmp_path)
    assert all(path.stat().st_size < 4 * MIB for path, _ in made.values())  # no GiBs on disk
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCH, _OPEN_EACH, *(str(path) for path, _ in made.values())],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ,
    )
    assert launched.returncode == 0, launched.stderr
    measured = json.loads(launched.stdout)
    for (kind, (_, expected)), outcome in zip(made.items(), measured["outcomes"], strict=True):
        assert outcome["error"] is not None, f"{kind}: opened"
        assert expected in outcome["error"], f"{kind}: {outcome['error']}"
    rise = measured["outcomes"][-1]["peak"] - measured["before"]
    peak = measured["child_peak"]
    print(
        f"peak RSS of the child {peak / MIB:.0f} MiB; the bombs raised it by {rise / MIB:.1f} MiB"
    )
    # Inflating any one bomb would take 2 GiB; reading them all within their declarations takes
    # a few chunks of 64 KiB, on top of what importing pendo_nb (pandas, pyarrow...) takes.
    assert rise < 64 * MIB
    assert peak < 300 * MIB


# -- lying manifests ---------------------------------------------------------------------------


def test_an_answer_longer_or_shorter_than_declared_is_refused(tmp_path):
    content = b'{"visitorId": "v0", "metadata": {}}'
    member = zlib_gzip(content)
    longer = snapshot(tmp_path / "longer.pendo", [(answer(0, content), member)], declared={0: 10})
    with pytest.raises(pn.SnapshotError, match="holds more than 10 bytes where its manifest"):
        pn.snapshot_info(longer)
    shorter = snapshot(tmp_path / "short.pendo", [(answer(0, content), member)], declared={0: 99})
    with pytest.raises(pn.SnapshotError, match=f"holds {len(content)} bytes where its manifest"):
        pn.connect(replay=shorter)


def test_a_manifest_size_that_is_not_a_size_is_refused(tmp_path):
    content = b"[]"
    for size in (-1, "12", 1.5, None):
        path = snapshot(
            tmp_path / "odd.pendo", [(answer(0, content), zlib_gzip(content))], declared={0: size}
        )
        with pytest.raises(pn.SnapshotError, match="declares a size of"):
            pn.snapshot_info(path)


def test_a_compressed_member_far_larger_than_its_content_is_refused_unopened(tmp_path):
    content = b"[]"
    padded = zip_file(
        tmp_path / "padded.pendo",
        [
            stored(MANIFEST, manifest([answer(0, content).manifest_entry()])),
            stored(answer(0, content).manifest_entry()["member"], bytes(MIB)),
        ],
    )
    with pytest.raises(pn.SnapshotError, match="more than 2 bytes of content could need"):
        pn.snapshot_info(padded)


def test_data_after_an_answers_gzip_stream_is_refused(tmp_path):
    content = b"[1]"
    for after in (zlib_gzip(b"[2]"), b"\x00" * 10):
        path = snapshot(
            tmp_path / "after.pendo", [(answer(0, content), zlib_gzip(content) + after)]
        )
        with pytest.raises(pn.SnapshotError, match="more data after its gzip stream"):
            pn.snapshot_info(path)


def test_a_manifest_and_members_that_disagree_are_refused(tmp_path):
    content = b"[]"
    recorded = answer(0, content)
    entry = recorded.manifest_entry()
    missing = zip_file(tmp_path / "missing.pendo", [stored(MANIFEST, manifest([entry]))])
    with pytest.raises(pn.SnapshotError, match="which the file lacks"):
        pn.snapshot_info(missing)
    twice = zip_file(
        tmp_path / "twice.pendo",
        [stored(MANIFEST, manifest([entry, entry])), stored(entry["member"], zlib_gzip(content))],
    )
    with pytest.raises(pn.SnapshotError, match="lists answers/.* twice"):
        pn.snapshot_info(twice)
    elsewhere = {**entry, "member": "answers/" + "0" * 64 + ".gz"}
    misnamed = zip_file(
        tmp_path / "misnamed.pendo",
        [stored(MANIFEST, manifest([elsewhere])), stored(elsewhere["member"], zlib_gzip(content))],
    )
    with pytest.raises(pn.SnapshotError, match="names no answer member"):
        pn.snapshot_info(misnamed)


# -- members: how many, what they are called ---------------------------------------------------


def test_more_members_than_allowed_are_refused_before_the_directory_is_read(tmp_path):
    members = [stored(f"answers/{n:064x}.gz", b"") for n in range(MAX_MEMBERS + 1)]
    path = zip_file(tmp_path / "many.pendo", [stored(MANIFEST, manifest([])), *members])
    with pytest.raises(pn.SnapshotError, match=f"holds {MAX_MEMBERS + 2:,} members"):
        pn.snapshot_info(path)


def test_thousands_of_members_the_manifest_does_not_list_are_refused_unread(tmp_path):
    content = b"[]"
    one_mib = zeros_gzip(1)
    unlisted = [stored(f"answers/{n:064x}.gz", one_mib) for n in range(3_000)]
    path = snapshot(
        tmp_path / "unlisted.pendo", [(answer(0, content), zlib_gzip(content))], extra=unlisted
    )
    with pytest.raises(pn.SnapshotError, match="holds 3,000 member.s. its manifest does not"):
        pn.snapshot_info(path)


def test_a_directory_larger_than_its_entries_need_is_refused(tmp_path):
    path = honest(tmp_path / "big-directory.pendo", b"[]")
    whole = path.read_bytes()
    end = bytearray(whole[-22:])
    struct.pack_into("<L", end, 12, 50 * MIB)  # the directory's size, as the last record says
    path.write_bytes(whole[:-22] + bytes(end))
    with pytest.raises(pn.SnapshotError, match="its directory takes 52,428,800 bytes"):
        pn.snapshot_info(path)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("/etc/passwd", "is an absolute path"),
        ("C:/Windows/win.ini", "is an absolute path"),
        ("../outside.gz", "'..' part"),
        ("answers/../../outside.gz", "'..' part"),
        ("answers/./x.gz", "'.' or '..' part"),
        ("answers//x.gz", "an empty"),
        ("answers\\x.gz", "backslash"),
        (b"answers/x.gz\x00../../etc/passwd", "NUL"),
        ("answers/line\nbreak.gz", "control character"),
        ("answers/" + "x" * 300 + ".gz", "characters long"),
        ("a/b/c/d/e/f.gz", "levels deep"),
        ("", "is empty"),
    ],
)
def test_odd_member_names_are_refused_before_anything_is_read(tmp_path, name, problem):
    path = zip_file(
        tmp_path / "odd.pendo", [stored(MANIFEST, manifest([])), stored(name, zeros_gzip(1))]
    )
    with pytest.raises(pn.SnapshotError, match="holds a member named .* refused unopened") as error:
        pn.snapshot_info(path)
    assert problem in str(error.value)


def test_a_member_named_twice_is_refused(tmp_path):
    path = zip_file(
        tmp_path / "twice.pendo", [stored(MANIFEST, manifest([])), stored(MANIFEST, b"{}")]
    )
    with pytest.raises(pn.SnapshotError, match="appears twice"):
        pn.snapshot_info(path)


@pytest.mark.parametrize("name", ["answers/notes.txt", "inner.zip", "answers/x/y.gz", "run.py"])
def test_members_a_snapshot_never_holds_are_refused(tmp_path, name):
    path = zip_file(tmp_path / "extra.pendo", [stored(MANIFEST, manifest([])), stored(name, b"")])
    with pytest.raises(pn.SnapshotError, match="not part of a pendo_nb snapshot"):
        pn.snapshot_info(path)


def test_encrypted_or_exotically_compressed_members_are_refused(tmp_path):
    bzip2 = zip_file(tmp_path / "bzip2.pendo", [(MANIFEST, b"BZh9", 12, 0, 4)])
    with pytest.raises(pn.SnapshotError, match="compression method 12"):
        pn.snapshot_info(bzip2)
    path = zip_file(tmp_path / "locked.pendo", [stored(MANIFEST, b"{}")])
    whole = bytearray(path.read_bytes())
    directory = whole.index(b"PK\x01\x02")
    struct.pack_into("<H", whole, directory + 8, 1)  # the "encrypted" flag
    path.write_bytes(bytes(whole))
    with pytest.raises(pn.SnapshotError, match="is encrypted"):
        pn.snapshot_info(path)


def test_an_archive_comment_or_a_zip64_directory_is_refused(tmp_path):
    commented = zip_file(tmp_path / "comment.pendo", [stored(MANIFEST, b"{}")], comment=b"hi")
    with pytest.raises(pn.SnapshotError, match="truncated or damaged"):
        pn.snapshot_info(commented)
    plain = zip_file(tmp_path / "plain.pendo", [stored(MANIFEST, b"{}")]).read_bytes()
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1)
    zip64 = tmp_path / "zip64.pendo"
    zip64.write_bytes(plain[:-22] + locator + plain[-22:])
    with pytest.raises(pn.SnapshotError, match="ZIP64"):
        pn.snapshot_info(zip64)


# -- the limit, settable -----------------------------------------------------------------------


def test_the_overall_limit_is_set_by_max_bytes_or_the_environment(tmp_path, monkeypatch):
    content = b"[" + b"0," * 500_000 + b"0]"  # 1 MB, unpacked
    path = honest(tmp_path / "one-mb.pendo", content, b"[]")
    assert pn.snapshot_info(path)["bytes"].sum() == len(content) + 2
    with pytest.raises(pn.SnapshotError, match="declares more than 500,000 bytes.*max_bytes="):
        pn.snapshot_info(path, max_bytes=500_000)
    monkeypatch.setenv("PENDO_NB_MAX_FILE_BYTES", "500kB")
    with pytest.raises(pn.SnapshotError, match="PENDO_NB_MAX_FILE_BYTES"):
        pn.connect(replay=path)
    assert len(pn.snapshot_info(path, max_bytes=2_000_000)) == 2  # the argument wins
    monkeypatch.setenv("PENDO_NB_MAX_FILE_BYTES", "2 MiB")
    assert len(read_snapshot(path).answers) == 2


@pytest.mark.parametrize(
    ("text", "size"),
    [("12345", 12345), ("500MB", 500_000_000), ("2GiB", 2 << 30), ("4 gib", 4 << 30), ("3k", 3000)],
)
def test_the_limit_reads_sizes_with_units(monkeypatch, text, size):
    monkeypatch.setenv("PENDO_NB_MAX_FILE_BYTES", text)
    assert file_limits().max_bytes == size


@pytest.mark.parametrize("text", ["lots", "-5", "0", "1.5GB", "5 iB"])
def test_a_limit_that_is_not_a_size_says_so(monkeypatch, text):
    monkeypatch.setenv("PENDO_NB_MAX_FILE_BYTES", text)
    with pytest.raises(pn.ConfigurationError, match="PENDO_NB_MAX_FILE_BYTES=.* is not a size"):
        file_limits()


def test_max_bytes_must_be_a_positive_number(tmp_path):
    path = honest(tmp_path / "small.pendo", b"[]")
    for bad in (0, -1, "1GB", True):
        with pytest.raises(pn.ValidationError, match="max_bytes"):
            pn.snapshot_info(path, max_bytes=bad)


def test_an_honest_crafted_file_opens_and_its_checksum_still_counts(tmp_path):
    content = b'[{"visitorId": "v0"}]'
    path = honest(tmp_path / "fine.pendo", content)
    snapshot_read = read_snapshot(path)
    (only,) = snapshot_read.answers.values()
    assert only.content == content
    assert hashlib.sha256(only.content).hexdigest() == only.manifest_entry()["sha256"]


# -- a folder from someone else (an extract) ---------------------------------------------------


def extract_folder(root: Path) -> dict[str, int]:
    """A folder laid out like an extract, and what its manifest would declare."""
    files = {
        "events/day=2026-10-30/part-0.parquet": b"PAR1" + bytes(100) + b"PAR1",
        "visitors/part-0.parquet": b"PAR1" + bytes(50) + b"PAR1",
    }
    for relative, data in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    (root / "extract.json").write_text("{}")
    return {relative: len(data) for relative, data in files.items()}


def check(root: Path, declared: dict, **limits) -> None:
    check_folder(root, declared, limits=FileLimits(**limits), unsized=["extract.json"])


def test_a_folder_that_holds_what_its_manifest_declares_passes(tmp_path):
    declared = extract_folder(tmp_path)
    check(tmp_path, declared)


def test_a_folder_whose_files_differ_from_their_declaration_is_refused(tmp_path):
    declared = extract_folder(tmp_path)
    with pytest.raises(
        pn.SnapshotError, match="holds more than 10 bytes where its manifest declares 10:"
    ):
        check(tmp_path, {**declared, "events/day=2026-10-30/part-0.parquet": 10})
    with pytest.raises(pn.SnapshotError, match="visitors/part-0.parquet, which its manifest does"):
        check(tmp_path, {k: v for k, v in declared.items() if not k.startswith("visitors")})
    with pytest.raises(pn.SnapshotError, match="lists accounts/part-0.parquet, which the folder"):
        check(tmp_path, {**declared, "accounts/part-0.parquet": 5})
    with pytest.raises(pn.SnapshotError, match="declares more than 100 bytes"):
        check(tmp_path, declared, max_bytes=100)
    with pytest.raises(pn.SnapshotError, match="'..' part"):
        check(tmp_path, {**declared, "../outside.parquet": 5})


def test_links_and_too_many_entries_in_a_folder_are_refused(tmp_path):
    declared = extract_folder(tmp_path)
    with pytest.raises(pn.SnapshotError, match="more than 3 entries"):
        check(tmp_path, declared, max_members=3)
    secret = tmp_path.parent / "secret.txt"
    secret.write_text("not yours")
    link = tmp_path / "visitors" / "part-1.parquet"
    link.symlink_to(secret)
    with pytest.raises(pn.SnapshotError, match="part-1.parquet is a link or a special file"):
        check(tmp_path, {**declared, "visitors/part-1.parquet": 9})


# -- any damage at all -------------------------------------------------------------------------

_DAMAGED = honest(
    Path(tempfile.mkdtemp(prefix="pendo-nb-hostile-")) / "whole.pendo",
    b'[{"visitorId": "v0", "numEvents": 3}]',
    b'{"id": "a0", "metadata": {"agent": {"name": "Acme"}}}',
).read_bytes()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.lists(
        st.tuples(st.integers(0, len(_DAMAGED) - 1), st.integers(0, 255)), min_size=1, max_size=4
    ),
    cut=st.integers(0, len(_DAMAGED)),
)
def test_any_damage_is_a_snapshot_error_or_a_file_that_still_checks_out(tmp_path, changes, cut):
    data = bytearray(_DAMAGED)
    for position, value in changes:
        data[position] = value
    path = tmp_path / "damaged.pendo"
    path.write_bytes(bytes(data[: max(cut, len(data) - cut)]))
    try:
        read_snapshot(path)
    except pn.SnapshotError:
        pass  # and never zlib.error, UnicodeDecodeError, KeyError... from a crafted file


_NAMES = [MANIFEST, answer(0, b"[]").manifest_entry()["member"], "answers/x.gz", b"\xff\xfe.gz"]


@settings(max_examples=300, deadline=None)
@given(
    members=st.lists(
        st.tuples(
            st.sampled_from(_NAMES),
            st.one_of(st.binary(max_size=64), st.just(zlib_gzip(b"[]")), st.just(b"\xff" * 50)),
            st.sampled_from([STORED, DEFLATED, 12, 99]),
            st.integers(0, 0xFFFFFFFF),
            st.integers(0, 200),
        ),
        max_size=4,
    ),
    flags=st.sampled_from([0, 0x1, 0x8, 0x800]),
)
def test_any_crafted_archive_is_a_snapshot_error_never_another_exception(members, flags):
    folder = Path(tempfile.mkdtemp(prefix="pendo-nb-crafted-"))
    path = zip_file(folder / "crafted.pendo", members)
    whole = bytearray(path.read_bytes())
    start = 0
    while (start := whole.find(b"PK\x01\x02", start)) >= 0:
        struct.pack_into("<H", whole, start + 8, flags)
        start += 4
    path.write_bytes(bytes(whole))
    try:
        read_snapshot(path)
    except pn.SnapshotError:
        pass
    finally:
        path.unlink()
        folder.rmdir()


def test_a_bad_deflate_stream_or_a_name_that_is_not_its_encoding_is_a_snapshot_error(tmp_path):
    garbage = zip_file(tmp_path / "garbage.pendo", [(MANIFEST, b"\xff" * 50, DEFLATED, 0, 100)])
    with pytest.raises(pn.SnapshotError, match="truncated or damaged: Error -3"):
        pn.snapshot_info(garbage)
    path = zip_file(tmp_path / "name.pendo", [stored(b"answers/\xff\xfe.gz", b"")])
    whole = bytearray(path.read_bytes())
    struct.pack_into("<H", whole, whole.index(b"PK\x01\x02") + 8, 0x800)  # "names are UTF-8"
    path.write_bytes(bytes(whole))
    with pytest.raises(pn.SnapshotError, match="truncated or damaged: 'utf-8' codec"):
        pn.snapshot_info(path)
