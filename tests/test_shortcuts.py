"""The reading shortcuts give exactly what the long way gives.

Speed comes from shortcuts: a cheap test before the personal-data patterns, the zip parts
inflated once by safety and handed to the reader, parsed workbook.xml kept for the next report of
the batch, a plain cell read without a parser. Each must agree with the way it replaces, on real
files and on generated input.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import corpus
from hypothesis import given
from hypothesis import strategies as st

from lagesrapport_xl.form.spec import FormSpec
from lagesrapport_xl.reader import privacy, sources
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.reader.safety import inspect_file
from lagesrapport_xl.reader.sources import workbook_xml
from lagesrapport_xl.template.writer import FORM_VERSION_NAME

# Digits (also other scripts' digits, which \d matches), the separators of phone numbers and
# personnummer, '@' and the letters and dots of e-mail addresses, and ordinary text.
PIECES = st.one_of(
    st.sampled_from("0123456789"),
    st.sampled_from(" \u00a0-+()@._"),
    st.sampled_from("\u0663\uff13\u0966"),
    st.sampled_from(["19", "20", "+46", "0046", "070", "811218-9876", "anna@example.se", "(0)", " kr", "\n"]),
    st.text(alphabet="abcåäö ABC", max_size=3),
)


@given(st.lists(PIECES, max_size=40).map("".join))
def test_the_cheap_test_lets_every_identifier_through(text: str) -> None:
    hits = privacy._scan(text)
    if hits:
        assert privacy.might_hold_personal_data(text), text
    assert privacy.find_personal_data(text) == hits


def test_the_cheap_test_passes_every_kind_of_identifier() -> None:
    for text in ("811218-9876", "198112189876", "070-123 45 67", "+46 (0)70-123 45 67", "0157-123 45",
                 "a@b.se", "\u0668\u0661\u0661\u0662\u0661\u0668-\u0669\u0668\u0667\u0666"):
        assert privacy.might_hold_personal_data(text), text
    for text in ("Vi har träffat 40 deltagare under våren.", "Budget 1 800 kr", "", "vecka 45-50"):
        assert not privacy.might_hold_personal_data(text), text


def test_safety_hands_over_the_parts_exactly_as_the_archive_holds_them(tmp_path: Path, libreoffice) -> None:
    filled = corpus.filled(tmp_path, {"activities": "x" * 40_000})  # a part larger than one chunk
    (saved,) = libreoffice.convert(filled, "xlsx", tmp_path / "lo")
    for path in (filled, saved):
        check = inspect_file(path, keep_parts=True)
        with zipfile.ZipFile(path) as archive:
            assert check.parts == {name: archive.read(name) for name in archive.namelist()}
        assert inspect_file(path).parts is None  # kept only when asked for


def test_refused_files_hand_over_nothing(tmp_path: Path) -> None:
    for case in corpus.CASES:
        if case.kind is None or case.group != "hostile":
            continue
        (tmp_path / case.name).mkdir()
        path = case.build(tmp_path / case.name)
        check = inspect_file(path, keep_parts=True)
        assert not check.readable and check.parts is None, case.name


def test_the_fast_source_reads_the_same_from_handed_parts(tmp_path: Path, spec: FormSpec, libreoffice) -> None:
    wanted = [*spec.fields, FORM_VERSION_NAME]
    filled = corpus.filled(tmp_path, {"women_actual": "ca 40", "men_actual": "=10+6"})
    (saved,) = libreoffice.convert(filled, "xlsx", tmp_path / "lo")
    for path in (filled, saved):
        check = inspect_file(path, keep_parts=True)
        parts, scans = check.parts, check.sheet_scans
        assert sources.read_fast(str(path), wanted, parts, scans=scans) == sources.read_fast(str(path), wanted)
        assert sources.read_fast(str(path), wanted, parts) == sources.read_fast(str(path), wanted)
        assert sources.read_openpyxl(str(path), wanted, parts, scans=scans) == sources.read_openpyxl(str(path), wanted)


def test_safety_scans_each_sheet_once_for_both_checks(tmp_path: Path, spec: FormSpec, libreoffice, monkeypatch) -> None:
    """The tags safety found to measure a sheet are the ones the fast source looks its cells up in:
    no sheet is scanned twice, and the cells are what the full parse of the sheet finds."""
    filled = corpus.filled(tmp_path, {"women_actual": "ca 40", "men_actual": "=10+6", "activities": "x" * 300})
    (saved,) = libreoffice.convert(filled, "xlsx", tmp_path / "lo")
    scanned: list[int] = []
    real_scan = workbook_xml.scan_sheet
    monkeypatch.setattr(workbook_xml, "scan_sheet", lambda data, *a: scanned.append(len(data)) or real_scan(data, *a))
    for path in (filled, saved):
        check = inspect_file(path, keep_parts=True)
        _sheets, _hidden, _names, paths = workbook_xml.workbook_parts(check.parts)
        form_sheets = [paths[sheet] for sheet in (spec.report_sheet, spec.budget_sheet, spec.data_sheet)]
        # Every sheet the form reads measured by the quick scan; the others are never parsed (issue 21).
        assert sorted(check.sheet_scans) == sorted(form_sheets)
        assert read_report(path, spec).to_json() == read_report(path, spec, source="openpyxl").to_json()
        for part, scan in check.sheet_scans.items():
            addresses = {f"{tag[0].decode()}{tag[1].decode()}" for tag in scan.tags if tag[0]}
            assert addresses and len(addresses) == len([tag for tag in scan.tags if tag[0]])
            from_scan = workbook_xml.scan_cells(check.parts, part, addresses, check.sheet_scans)
            assert from_scan == workbook_xml._scan_full(check.parts[part], addresses), (path.name, part)
    assert scanned == []  # the source never scanned a sheet itself


def test_a_remembered_workbook_is_handed_out_as_copies(tmp_path: Path) -> None:
    path = corpus.filled(tmp_path)
    with zipfile.ZipFile(path) as archive:
        first = workbook_xml.workbook_parts(archive)
        first[0].append("Extra")
        first[2].clear()
        first[3]["Extra"] = "xl/worksheets/extra.xml"
        again = workbook_xml.workbook_parts(archive)
    assert "Extra" not in again[0] and again[2] and "Extra" not in again[3]


def test_reports_of_one_batch_read_alike_whatever_was_read_before(tmp_path: Path, spec: FormSpec) -> None:
    """The caches (parsed workbook.xml, name targets, cell positions) carry nothing from one file to
    the next: the structure cases (renamed, hidden and deleted sheets, moved names …) read in one
    order and in the other give the same results."""
    cases = [case for case in corpus.CASES if case.group == "structure" and case.name != "libreoffice_saved"]
    for case in cases:
        (tmp_path / case.name).mkdir()
    paths = [case.build(tmp_path / case.name) for case in cases]
    assert len(paths) >= 8
    forward = {str(p): read_report(p, spec).to_json() for p in paths}
    backward = {str(p): read_report(p, spec).to_json() for p in reversed(paths)}
    assert forward == backward
    assert len({str(result["issues"]) for result in forward.values()}) >= 5  # they do differ
