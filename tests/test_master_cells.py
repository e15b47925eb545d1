"""The master's own cell writer (master/streaming.py) writes exactly the XML XlsxWriter writes.

write_master serialises the cells itself, row by row, instead of letting XlsxWriter keep 120 000
cells per 1 000 reports in memory. These tests hold it to XlsxWriter's own output for the same
cells (XlsxWriter's constant_memory mode, which writes inline strings as we do), to the escaping
of hostile text, and to the shared-string bookkeeping of the workbook it ends up in.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from openpyxl import load_workbook

from lagesrapport_xl.master.cells import write_value
from lagesrapport_xl.master.streaming import StreamingWorksheet
from lagesrapport_xl.master.writer import write_master

OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}

TEXTS = [
    "Rubrik",
    " inledande blanksteg",
    "avslutande radbrytning\n",
    "rader\noch tabb\t, CR\r, NUL\x00, vertikal tabb\x0b",
    "ser ut som Excels kod: _x0041_ och _x00e5_",
    "XML: & < > \" ' ]]>",
    "=HYPERLINK(\"http://example.invalid\")",
    "icke-tecken \ufffe och \uffff",
    "åäö ÅÄÖ – “citat” 😀",
    "",
]
NUMBERS = [0, 1, -3, 0.1, 1234.5, 1e20, 1 / 3, 2**53 + 1.0, 125000.0]
DATES = [dt.date(2022, 6, 30), dt.datetime(2021, 12, 10, 8, 30), dt.date(1900, 2, 28), dt.date(1900, 3, 1)]
FORMULAS = [
    ("=A1*2", 0.2),
    ("=A1*2", 7),
    ('=IF(A1>1,"Ja","Nej")', "Ja"),
    ("=1/0", "#DIV/0!"),
    ('=A1="x"', True),
    ('=IF(A1="","",1)', ""),
    ("=SUBTOTAL(109,B2:B9)", 1234.5),
    ('=SUMPRODUCT(--EXACT(A1:A3,"x"),B1:B3)', 0),
    ('=IF(A1<>"",A1&" & "&B1,"<tom>")', "a & b"),
]


def sheet_data(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    return re.search(r"<sheetData.*?(?:</sheetData>|/>)", xml, re.DOTALL).group(0)


def write_both(tmp_path: Path, heights: dict[int, float]) -> tuple[str, str]:
    """The same cells through XlsxWriter (constant_memory) and through StreamingWorksheet."""
    reference = xlsxwriter.Workbook(str(tmp_path / "xlsxwriter.xlsx"), {**OPTIONS, "constant_memory": True})
    ours = xlsxwriter.Workbook(str(tmp_path / "master.xlsx"), OPTIONS)
    sheets = [reference.add_worksheet("Blad"), ours.add_worksheet("Blad", worksheet_class=StreamingWorksheet)]
    formats = [
        [book.add_format(options) for options in ({"num_format": "0.0%"}, {"bold": True}, {"num_format": "yyyy-mm-dd"})]
        for book in (reference, ours)
    ]
    rows = [
        [("text", text) for text in TEXTS],
        [("number", number) for number in NUMBERS],
        [("date", date) for date in DATES],
        [("formula", formula) for formula in FORMULAS],
    ]
    for ws, (percent, bold, day) in zip(sheets, formats):
        row = 0
        for cells in rows:
            for repeat in range(2):  # once without a format, once with one
                row += 1
                if row in heights:
                    ws.set_row(row, heights[row])
                for col, (kind, value) in enumerate(cells):
                    formats = {"text": bold, "number": percent, "date": day, "formula": percent}
                    fmt = None if repeat == 0 else formats[kind]
                    if ws is sheets[0]:
                        write_reference(ws, row, col, kind, value, fmt)
                    else:
                        write_ours(ws, row, col, kind, value, fmt)
    reference.close()
    ours.close()
    return sheet_data(tmp_path / "xlsxwriter.xlsx"), sheet_data(tmp_path / "master.xlsx")


def write_reference(ws, row: int, col: int, kind: str, value, fmt) -> None:
    if kind == "text":
        ws.write_string(row, col, value, fmt)
    elif kind == "number":
        ws.write_number(row, col, value, fmt)
    elif kind == "date":
        stamp = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        ws.write_datetime(row, col, stamp, fmt)
    else:
        ws.write_formula(row, col, value[0], fmt, value[1])


def write_ours(ws, row: int, col: int, kind: str, value, fmt) -> None:
    if kind == "formula":
        ws.put_formula(row, col, value[0], fmt, value[1])
    else:  # the master's own path for values
        write_value(ws, row, col, value, {"text": "text", "number": "kr", "date": "date"}[kind], fmt)


@pytest.mark.parametrize("heights", [{}, {2: 30, 5: 409, 7: 12.75}], ids=["default-heights", "set-heights"])
def test_cells_are_written_exactly_as_xlsxwriter_writes_them(tmp_path: Path, heights: dict[int, float]) -> None:
    theirs, ours = write_both(tmp_path, heights)
    assert theirs.count("<c ") > 50
    assert ours == theirs


def test_a_text_that_looks_like_markup_stays_text(tmp_path: Path) -> None:
    """XlsxWriter's inline-string writer passes '<r>…</r>' through unescaped, as rich text XML;
    a coordinator's answer is never markup."""
    path = tmp_path / "master.xlsx"
    book = xlsxwriter.Workbook(str(path), OPTIONS)
    ws = book.add_worksheet("Blad", worksheet_class=StreamingWorksheet)
    answer = "<r><t>fet</t></r><r><rPr><b/></rPr><t>text</t></r>"
    ws.put_string(0, 0, answer)
    book.close()
    assert load_workbook(path)["Blad"]["A1"].value == answer


def test_rows_are_written_top_to_bottom(tmp_path: Path) -> None:
    book = xlsxwriter.Workbook(str(tmp_path / "master.xlsx"), OPTIONS)
    ws = book.add_worksheet("Blad", worksheet_class=StreamingWorksheet)
    ws.put_number(4, 0, 1)
    with pytest.raises(ValueError, match="top to bottom"):
        ws.put_number(3, 0, 2)
    book.close()


def test_every_shared_string_is_used_and_counted(tmp_path: Path, spec) -> None:
    """Headers, total labels and link texts refer to XlsxWriter's shared strings; nothing else does,
    and the table's counts agree with the cells that refer to it."""
    from test_consolidate import known_files

    from lagesrapport_dev.examples import write_examples
    from lagesrapport_xl.consolidate.batch import consolidate

    inbox = tmp_path / "inkorg"
    write_examples(inbox, known_files(spec), spec)
    info = write_master(consolidate([inbox], spec=spec, workers=1), tmp_path / "master.xlsx")
    with zipfile.ZipFile(info.path) as archive:
        sst = archive.read("xl/sharedStrings.xml").decode("utf-8")
        names = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        sheets = [archive.read(n).decode("utf-8") for n in names]
    count, unique = (int(v) for v in re.search(r'count="(\d+)" uniqueCount="(\d+)"', sst).groups())
    references = [int(i) for xml in sheets for i in re.findall(r'<c [^>]*t="s"[^>]*><v>(\d+)</v>', xml)]
    assert len(references) == count
    assert set(references) == set(range(unique))


@pytest.mark.parametrize("total_row", [True, False])
def test_a_long_table_is_declared_as_xlsxwriter_declares_it(tmp_path: Path, total_row: bool) -> None:
    """StreamingWorksheet.add_table hands XlsxWriter a table of one data row and then sets the real
    ranges: the table's part and the sheet's autofilter cells are those of XlsxWriter's own."""
    parts = []
    for name, kind in (("xlsxwriter", None), ("ours", StreamingWorksheet)):
        path = tmp_path / f"{name}-{total_row}.xlsx"
        wb = xlsxwriter.Workbook(str(path), OPTIONS)
        ws = wb.add_worksheet("Blad", worksheet_class=kind)
        options = {"name": "Tabell_lang", "style": "Table Style Light 9", "total_row": total_row,
                   "columns": [{"header": "Namn", "total_string": "Summa"},
                               {"header": "Belopp", "total_function": "=SUBTOTAL(109,C4:C203)"}]}
        assert ws.add_table(2, 1, 203 if total_row else 202, 2, options) == 0
        filters = dict(ws.filter_cells)
        wb.close()
        with zipfile.ZipFile(path) as package:
            parts.append((package.read("xl/tables/table1.xml"), filters))
    assert parts[0] == parts[1]
    assert b'ref="B3:C204"' in parts[0][0] if total_row else b'ref="B3:C203"' in parts[0][0]


def _chart_xml(path: Path, quick: bool) -> bytes:
    """chart1.xml of a bar chart over awkward cells: texts to escape, a control character, blanks,
    a text among the numbers; drawn from the cells XlsxWriter keeps, with or without quick_caches."""
    from lagesrapport_xl.master.chart_cache import quick_caches

    names = ["A & B <AB>", 'Citat "x"', None, "Tab\there", "_x0041_ kod", "Åsa\u0001", "vanlig"]
    values = [1.5, None, 3, "text", 0.1 + 0.2, -7, 1e21]
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Blad")
    for row, (name, value) in enumerate(zip(names, values)):
        if name is not None:
            ws.write_string(row, 0, name)
        if isinstance(value, str):
            ws.write_string(row, 1, value)
        elif value is not None:
            ws.write_number(row, 1, value)
    chart = wb.add_chart({"type": "bar"})
    if quick:
        chart = quick_caches(chart)
    chart.add_series({"categories": ["Blad", 0, 0, len(names) - 1, 0], "values": ["Blad", 0, 1, len(names) - 1, 1]})
    ws.insert_chart(10, 0, chart)
    wb.close()
    with zipfile.ZipFile(path) as packed:
        return packed.read("xl/charts/chart1.xml")


def test_a_charts_cached_values_are_written_exactly_as_xlsxwriter_writes_them(tmp_path: Path) -> None:
    mine = _chart_xml(tmp_path / "snabb.xlsx", quick=True)
    assert mine == _chart_xml(tmp_path / "xlsxwriter.xlsx", quick=False)
    assert b"<c:strCache>" in mine and b"<c:numCache>" in mine and b"A &amp; B &lt;AB&gt;" in mine
    assert b"_x005F_x0041_ kod" in mine and b"_x0001_" in mine
