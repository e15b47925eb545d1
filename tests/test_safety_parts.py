"""Unused parts that passed safety's checks are remembered by everything those checks read (the
directory's facts, the limits, the stored bytes) and not inflated again (reader/safety/archive.py,
`_passed`). A part of the same bytes whose directory lies, under other limits, or in a file
whose running totals differ must get exactly the verdict it gets when nothing is remembered
(hypothesis); and every corpus file reads the same after all the others as alone."""

from __future__ import annotations

import dataclasses
import io
import struct
import zipfile
from pathlib import Path

import corpus
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lagesrapport_xl.reader import layout
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.reader.safety import DEFAULT_LIMITS, archive, inspect_file

_CENTRAL = struct.Struct("<4s6H3L5H2L")  # a central directory record, before its name


def _verdict(path: Path, limits=DEFAULT_LIMITS) -> tuple:
    check = inspect_file(path, limits, keep_parts=True)
    return check.kind, check.issues, check.parts, check.skip, check.readable


def _outcome(path: Path) -> tuple:
    result = read_report(path)
    return result.issues, result.values, result.skipped, result.sha256, result.form_version


def _patched(content: bytes, part: str, field: str, value: int) -> bytes:
    """The archive with one fact of `part`'s central directory record changed (crc, size,
    compressed), or a byte of its local header's name (name)."""
    data = bytearray(content)
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(part)
    if field == "name":
        data[info.header_offset + 30] ^= value % 255 + 1
        return bytes(data)
    at = content.find(b"PK\x01\x02")
    while content[at + _CENTRAL.size : at + _CENTRAL.size + _CENTRAL.unpack_from(content, at)[10]] != part.encode():
        at = content.find(b"PK\x01\x02", at + 1)
        assert at >= 0
    offset = {"crc": 16, "compressed": 20, "size": 24}[field]
    struct.pack_into("<L", data, at + offset, value)
    return bytes(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    return corpus.filled(tmp_path_factory.mktemp("del"))


UNUSED = ["[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels", "xl/workbook.xml", "xl/styles.xml",
          "docProps/custom.xml", "docProps/app.xml", "xl/theme/theme1.xml"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(part=st.sampled_from(UNUSED), field=st.sampled_from(["crc", "size", "compressed", "name", "none"]),
       value=st.integers(0, 40_000), unused=st.sampled_from([None, 1_000, 20_000, 40_000, 60_000]),
       total=st.sampled_from([None, 10_000, 60_000, 100_000]), part_bytes=st.sampled_from([None, 500, 5_000]))
@example(part="xl/styles.xml", field="name", value=7, unused=None, total=None, part_bytes=None)
@example(part="xl/styles.xml", field="crc", value=7, unused=None, total=None, part_bytes=None)
@example(part="docProps/app.xml", field="size", value=100, unused=None, total=None, part_bytes=None)
@example(part="xl/theme/theme1.xml", field="compressed", value=100, unused=None, total=None, part_bytes=None)
def test_a_remembered_part_gets_the_verdict_it_gets_alone(report, tmp_path, part, field, value, unused, total,
                                                          part_bytes):
    content = report.read_bytes()
    if part not in zipfile.ZipFile(report).namelist():
        return
    changed = tmp_path / "andra.xlsx"
    changed.write_bytes(content if field == "none" else _patched(content, part, field, value))
    limits = dataclasses.replace(
        DEFAULT_LIMITS, **{k: v for k, v in (("max_unused_bytes", unused), ("max_uncompressed_bytes", total),
                                             ("max_part_bytes", part_bytes)) if v is not None})
    archive._passed.clear()
    alone = _verdict(changed, limits)
    _verdict(report)  # every part of the unchanged file remembered, under the default limits
    _verdict(report, limits)
    assert _verdict(changed, limits) == alone
    assert _verdict(changed, limits) == alone


def test_a_batch_inflates_the_shared_parts_once(report, tmp_path):
    archive._passed.clear()
    first = _verdict(report)
    remembered = dict(archive._passed)
    assert len(remembered) >= 8
    assert _verdict(report) == first
    assert archive._passed == remembered


def test_remembered_parts_are_few(report):
    archive._passed.clear()
    for number in range(archive._PASSED_KEEP + 3):
        _verdict(report, dataclasses.replace(DEFAULT_LIMITS, max_entries=500 + number))
    assert len(archive._passed) <= archive._PASSED_KEEP


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("korpus")
    files = []
    for case in corpus.CASES:
        folder = root / case.name
        folder.mkdir()
        files.append(case.build(folder))
    return files


def test_every_corpus_file_reads_after_the_others_as_alone(corpus_files):
    alone = {}
    for path in corpus_files:
        archive._passed.clear()
        layout._known.clear()
        alone[path] = _outcome(path)
    archive._passed.clear()
    layout._known.clear()
    for path in corpus_files + corpus_files[::-1]:
        assert _outcome(path) == alone[path], path.name
    assert archive._passed
