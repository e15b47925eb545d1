"""The named cells' values decoded from the sheet scan (sources/cell_values.py) against
python-calamine itself: the same value of the same type wherever the decoder answers, and a
decline (calamine reads the file) wherever calamine's versions or rules are not plain."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from corpus import CASES, Case

from lagesrapport_xl.form.spec import FORM_VERSION_NAME, FormSpec
from lagesrapport_xl.reader.cells import cell_index
from lagesrapport_xl.reader.safety import inspect_file
from lagesrapport_xl.reader.sources import fast
from lagesrapport_xl.reader.sources.cell_values import A_DATE, A_TIME, DATE, DURATION, OTHER, format_kind, named_values
from lagesrapport_xl.reader.sources.workbook_xml import workbook_parts


def decoded_and_calamine(path: Path, addresses: dict[str, list[str]]) -> tuple[Any, Any]:
    check = inspect_file(path, keep_parts=True)
    assert check.parts is not None
    _, _, _, paths = workbook_parts(check.parts)
    ours = named_values(check.parts, {sheet: (paths[sheet], wanted) for sheet, wanted in addresses.items()},
                        check.sheet_scans)
    theirs = fast._calamine_values(io.BytesIO(check.content), {s: {a: [a] for a in w} for s, w in addresses.items()})
    return ours, theirs


def assert_same(ours: Any, theirs: Any) -> None:
    assert ours.keys() == theirs.keys()
    for sheet, (values, ranges) in ours.items():
        expected, expected_ranges = theirs[sheet]
        assert ranges == expected_ranges, sheet
        for address, value in values.items():
            if value is A_TIME or value is A_DATE:  # a date-formatted number: only the kind is given
                kind = dt.time if value is A_TIME else dt.date
                assert isinstance(expected[address], kind), (address, expected[address])
            elif value in (None, ""):  # no value: calamine gives None beyond its rectangle, "" inside
                assert expected[address] in (None, ""), address
            else:
                assert (type(value), value) == (type(expected[address]), expected[address]), address


def named_workbook(path: Path) -> xlsxwriter.Workbook:
    """A workbook whose sheet Blad a defined name points at: only such sheets are scanned."""
    book = xlsxwriter.Workbook(path)
    book.define_name("lasning", "=Blad!$A$1")
    return book


def every_cell(path: Path) -> dict[str, list[str]]:
    """Every address up to the farthest cell of each worksheet, and some beyond."""
    check = inspect_file(path, keep_parts=True)
    _, _, _, paths = workbook_parts(check.parts)
    wanted = {}
    for sheet, part in paths.items():
        scan = check.sheet_scans[part]
        wanted[sheet] = [f"{letter}{row}" for letter in "ABCDEFGH" for row in range(1, scan.rows + 3)]
    return wanted


def test_plain_values_of_every_kind(tmp_path: Path) -> None:
    path = tmp_path / "kinds.xlsx"
    with named_workbook(path) as book:
        sheet = book.add_worksheet("Blad")
        formats = {code: book.add_format({"num_format": code}) for code in (
            "yyyy-mm-dd", "hh:mm", "#,##0 \"kr\"", "0.0%", "d/m/yyyy h:mm", "@", "mmm-yy", "General",
            "#,##0;[Red]-#,##0", "\"dag\" 0", "0\" år\"",
        )}
        row = 0
        for code, style in formats.items():
            for number in (0, 0.25, 1, 45000, 45000.5, -3, 2958465, 2958466, 1e20, 12345.678):
                sheet.write_number(row, 0, number, style)
                row += 1
        for text in ("Hej", "Smörgås & kaffe <3>", '"citat" och \'apostrof\'', "", "ny\nrad", "  mellanrum  "):
            sheet.write_string(row, 0, text)
            row += 1
        sheet.write_boolean(row, 0, True)
        sheet.write_boolean(row + 1, 0, False)
        sheet.write_blank(row + 2, 0, None, formats["yyyy-mm-dd"])
        sheet.write_rich_string(row + 3, 0, "fet ", book.add_format({"bold": True}), "och", " vanlig")
        sheet.merge_range("C1:D2", "sammanfogad")
        sheet.merge_range("C5:C9", 5)
    ours, theirs = decoded_and_calamine(path, every_cell(path))
    assert ours is not None
    assert_same(ours, theirs)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_every_corpus_file_reads_alike_decoded_and_by_calamine(case: Case, tmp_path: Path, spec: FormSpec) -> None:
    """Whatever the decoder answers is calamine's answer; where it declines, calamine reads."""
    path = case.build(tmp_path)
    check = inspect_file(path, keep_parts=True)
    if check.parts is None:
        return  # refused before any reading
    wanted = [*spec.fields, FORM_VERSION_NAME, *spec.previous_names]
    both = []
    for decode in (True, False):
        fast._decode_values = decode
        try:
            both.append(fast.read_fast(str(path), wanted, parts=check.parts, content=check.content,
                                       scans=check.sheet_scans))
        finally:
            fast._decode_values = True
    ours, theirs = both
    assert ours == theirs
    assert {k: type(c.value) for k, c in ours.cells.items()} == {k: type(c.value) for k, c in theirs.cells.items()}


def edited(path: Path, target: Path, part: str, edit: Any) -> Path:
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            out.writestr(item, edit(data) if item.filename == part else data)
    return target


def strings_workbook(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "strings.xlsx"
    with named_workbook(path) as book:
        sheet = book.add_worksheet("Blad")
        for row in range(count):
            sheet.write_string(row, 0, f"text{row}")
    return path


# Shared string items as writers (and editors) leave them: what calamine makes of each is the answer.
ITEMS = {
    "plain": b"<si><t>enkel</t></si>",
    "preserved": b'<si><t xml:space="preserve">  luft  </t></si>',
    "entities": b"<si><t>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;</t></si>",
    "rich": b'<si><r><rPr><b/><sz val="11"/><rFont val="Calibri"/></rPr><t xml:space="preserve">fet </t></r>'
            b"<r><t>text</t></r></si>",
    "empty": b"<si><t></t></si>",
    "self-closed": b"<si/>",
    "unpreserved space": b"<si><t> kant </t></si>",
    "escape": b"<si><t>rad_x000D_ny</t></si>",
    "carriage return": b'<si><t xml:space="preserve">rad\r\nny</t></si>',
    "character reference": b"<si><t>&#228;</t></si>",
    "phonetic": b"<si><t>kanji</t><rPh sb=\"0\" eb=\"1\"><t>kana</t></rPh></si>",
}


@pytest.mark.parametrize("item", sorted(ITEMS))
def test_shared_strings_written_every_way(item: str, tmp_path: Path) -> None:
    source = strings_workbook(tmp_path, 3)

    def edit(data: bytes) -> bytes:
        return re.sub(rb"<si><t>text1</t></si>", lambda _: ITEMS[item], data)

    path = edited(source, tmp_path / "edited.xlsx", "xl/sharedStrings.xml", edit)
    ours, theirs = decoded_and_calamine(path, {"Blad": ["A1", "A2", "A3", "A4"]})
    declines = item in ("unpreserved space", "escape", "carriage return", "character reference", "phonetic")
    assert (ours is None) == declines
    if ours is not None:
        assert_same(ours, theirs)


@pytest.mark.parametrize("cell, declines", [
    (b'<c r="A2" t="d"><v>2024-01-31</v></c>', True),  # an ISO date
    (b'<c r="A2"><f>1+1</f><v>2</v></c>', True),  # a formula: more inside than a value
    (b'<c r="A2" t="inlineStr"><is><t>inne</t></is></c>', True),
    (b'<c r="A2" t="e"><v>#N/A</v></c>', False),
    (b'<c r="A2" t="e"><v>#GETTING_DATA</v></c>', True),  # an error older versions do not know
    (b'<c r="A2" t="str"><v>formelns text</v></c>', False),
    (b'<c r="A2" t="b"><v>1</v></c>', False),
    (b'<c r="A2"><v>1e5</v></c>', False),
    (b'<c r="A2"><v>inte ett tal</v></c>', True),
    (b'<c r="A2" s="0" t="s" s="0"><v>0</v></c>', True),  # a style twice: a parser refuses it
    (b'<c r="A2" t="s"><v>99</v></c>', True),  # no such shared string
    (b'<c r="A2"/>', False),
])
def test_cells_written_every_way(cell: bytes, declines: bool, tmp_path: Path) -> None:
    source = strings_workbook(tmp_path, 3)
    path = edited(source, tmp_path / "edited.xlsx", "xl/worksheets/sheet1.xml",
                  lambda data: re.sub(rb'<c r="A2"[^>]*>.*?</c>', lambda _: cell, data))
    try:
        ours, theirs = decoded_and_calamine(path, {"Blad": ["A1", "A2", "A3"]})
    except Exception:  # noqa: BLE001 - calamine refuses the file: the decoder must have declined
        check = inspect_file(path, keep_parts=True)
        _, _, _, paths = workbook_parts(check.parts)
        assert named_values(check.parts, {"Blad": (paths["Blad"], ["A2"])}, check.sheet_scans) is None
        return
    assert (ours is None) == declines
    if ours is not None:
        assert_same(ours, theirs)


@pytest.mark.parametrize("code, kind", [
    ("DD/MM/YY", DATE), ("H:MM:SS;@", DATE), ("#,##0\\ [$\\u20bd-46D]", OTHER), ('m"M"d"D";@', DATE),
    ("[h]:mm:ss", DURATION), ('"Y: "0.00"m";"Y: "-0.00"m";"Y: <num>m";@', OTHER), ('"$"#,##0_);[Red]("$"#,##0)', OTHER),
    ("[$-404]e\"\\xfc\"m\"\\xfc\"d\"\\xfc\"", DATE), ("0_ ;[Red]\\-0\\ ", OTHER), ("\\Y000000", OTHER),
    ('#,##0.0####" YMD"', OTHER), ("[h]", DURATION), ("[ss]", DURATION), ("[s].000", DURATION), ("[m]", DURATION),
    ("[Blue]\\+[h]:mm;[Red]\\-[h]:mm;[Green][h]:mm", DURATION), ("[>=100][Magenta][s].00", DURATION),
    ("[>=100][Magenta].00", OTHER), ("[>=100][Magenta]General", OTHER), ("ha/p\\\\m", DATE),
    ('#,##0.00\\ _M"H"_);[Red]#,##0.00\\ _M"S"_)', OTHER), ("yyyy-mm-dd", DATE), ('#,##0 "kr"', OTHER),
    ("YYYY\\-MM\\-DD", DATE), ("[$-41D]YYYY-MM-DD", DATE), ("0.0%", OTHER), ("@", OTHER),
])
def test_number_formats_as_calamine_reads_them(code: str, kind: str, tmp_path: Path) -> None:
    """calamine's own examples (formats.rs) and the template's and LibreOffice's formats: the kind
    format_kind gives is the kind of value python-calamine makes of a number in that format."""
    assert format_kind(code) == kind
    path = tmp_path / "format.xlsx"
    with named_workbook(path) as book:
        book.add_worksheet("Blad").write_number(0, 0, 45000.5, book.add_format({"num_format": code}))
    ours, theirs = decoded_and_calamine(path, {"Blad": ["A1"]})
    value = theirs["Blad"][0]["A1"]
    assert isinstance(value, {DATE: dt.datetime, DURATION: dt.timedelta, OTHER: float}[kind])
    if kind == DURATION:
        assert ours is None  # calamine's timedelta is left to calamine
    else:
        assert_same(ours, theirs)


def test_a_fill_in_a_format_is_left_to_calamine(tmp_path: Path) -> None:
    path = tmp_path / "fill.xlsx"
    with named_workbook(path) as book:
        book.add_worksheet("Blad").write_number(0, 0, 45000, book.add_format({"num_format": "#,##0*y"}))
    assert decoded_and_calamine(path, {"Blad": ["A1"]})[0] is None


def test_merged_ranges_and_addresses_beyond_the_cells(tmp_path: Path) -> None:
    path = tmp_path / "merged.xlsx"
    with named_workbook(path) as book:
        sheet = book.add_worksheet("Blad")
        sheet.merge_range("B2:C3", "ruta")
        sheet.merge_range("E10:E12", 7)
        sheet.write_number("A1", 1)
    wanted = ["A1", "B2", "C3", "E10", "E11", "Z99", "A20"]
    ours, theirs = decoded_and_calamine(path, {"Blad": wanted})
    assert_same(ours, theirs)
    assert ours["Blad"][1] == [(1, 1, 2, 2), (9, 4, 11, 4)]
    assert [cell_index(a) for a in ("B2", "C3")] == [(1, 1), (2, 2)]
