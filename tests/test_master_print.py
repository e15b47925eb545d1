"""The master prints readably (issue 22, point 2): every sheet's header rows on every page, the
trail's file and cell columns left out of the print area, and no text under 8 pt on paper — every
character of every page measured with pdfminer.six in the PDF real LibreOffice prints.

Three masters: the demo set with its register (every table, the register's too), 40 generated
reports (wide and long sheets) and three insatser with one report each (a Historik narrow enough
to be fitted to one page wide).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from pdftools import pages_of, smallest, text_of
from test_consolidate import ROOT, STARTED

from lagesrapport_dev.examples import DEMO_REGISTER, bulk_files, demo_files, write_examples
from lagesrapport_dev.libreoffice import LibreOffice
from lagesrapport_xl.consolidate.batch import consolidate
from lagesrapport_xl.consolidate.tables import SOURCE_CELLS, SOURCE_FILE, STORED_FILE
from lagesrapport_xl.form.spec import FormSpec
from lagesrapport_xl.master.printing import MIN_PRINTED_PT, MIN_SCALE, print_scale
from lagesrapport_xl.master.sheets import MASTER_SHEETS
from lagesrapport_xl.master.writer import write_master
from lagesrapport_xl.reader.register import read_register

TRAIL = {SOURCE_FILE.header, STORED_FILE.header, SOURCE_CELLS.header}
A4_LANDSCAPE_HEIGHT_PT = 595.3
HEADER_BAND_PT = 45  # the page header sits within the top margin (0.6 in)


@pytest.fixture(scope="module")
def masters(tmp_path_factory: pytest.TempPathFactory, spec: FormSpec) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("utskrift")
    register, _ = read_register(ROOT / "workbook_templates" / DEMO_REGISTER, spec)
    sets = {
        "demo": (demo_files(spec), register),
        "bulk": (bulk_files(40, spec), None),
        "smal": (bulk_files(3, spec, reports_per_insats=1), None),
    }
    written = {}
    for name, (files, rows) in sets.items():
        write_examples(folder / name, files, spec)
        result = consolidate([folder / name], spec=spec, workers=2, started=STARTED, register=rows)
        written[name] = write_master(result, folder / "ut" / f"{name}.xlsx").path
    return written


def print_columns(ws) -> tuple[int, int]:
    """The print area's last column and last row (1-based)."""
    _, _, last_col, last_row = range_boundaries(ws.print_area.split("!")[-1].replace("$", ""))
    return last_col, last_row


def test_the_print_area_leaves_out_the_trail_and_the_header_rows_repeat(masters) -> None:
    seen = {"fit": set(), "scale": set()}
    for name, path in masters.items():
        wb = load_workbook(path)
        kept = set()
        for sheet in MASTER_SHEETS:
            ws = wb[sheet.name]
            last_col, last_row = print_columns(ws)
            # Each table's trailing trail columns lie right of the print area, its other columns in it.
            ends = []
            for table in ws.tables.values():
                first = range_boundaries(table.ref)[0]
                names = [column.name for column in table.tableColumns]
                end = len(names)
                while end > 1 and names[end - 1] in TRAIL:
                    end -= 1
                ends.append(first + end - 1)
                assert all(first + i > last_col for i in range(end, len(names))), (name, sheet.name, table.name)
                kept |= {(sheet.name, get_column_letter(first + i), n) for i, n in enumerate(names[:end]) if n in TRAIL}
            assert last_col == max(ends), (name, sheet.name)
            # The header rows on every page; the frozen columns too where the columns go on over pages.
            frozen_col, frozen_row = range_boundaries(ws.freeze_panes)[:2] if ws.freeze_panes else (1, 1)
            if sheet.freeze_table:
                assert ws.print_title_rows.replace("$", "") == f"1:{frozen_row - 1}", (name, sheet.name)
            setup = ws.sheet_properties.pageSetUpPr
            if setup is not None and setup.fitToPage:
                seen["fit"].add(sheet.name)
                assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
            else:
                seen["scale"].add(sheet.name)
                assert ws.page_setup.scale == MIN_SCALE, (name, sheet.name)
                if sheet.freeze_cols:
                    assert ws.print_title_cols.replace("$", "") == f"A:{get_column_letter(sheet.freeze_cols)}"
                    assert frozen_col == sheet.freeze_cols + 1
            # A chart prints within the print area's rows, from a page of its own.
            for chart in ws._charts:
                assert chart.anchor.to.row + 1 <= last_row, (name, sheet.name)
                assert chart.anchor._from.row in {brk.id for brk in ws.row_breaks.brk}
        # The one trail column among others: Budget's sums per insats keep their stored file name
        # in column D, under "Kostnadsrad" of the tables above it (it names the row).
        assert kept == {("Budget", "D", STORED_FILE.header)}, (name, kept)
    assert seen["scale"] >= {"Översikt", "Deltagare", "Budget", "Tidsandel", "Texter", "Kontroll"}
    assert "Historik" in seen["fit"]  # three insatser with one report each: fitted to one page wide


def test_the_scale_is_fit_to_width_only_where_even_a_wide_layout_stays_readable() -> None:
    assert print_scale({0: 14, 1: 29, 2: 9, 3: 9, 4: 11, 5: 13}, 5) is None  # 85 characters wide
    assert print_scale({0: 14, 1: 29, 2: 60, 3: 60}, 3) == MIN_SCALE
    assert print_scale({}, 30) == MIN_SCALE  # 31 columns of the default width


def sheet_of(page) -> str | None:
    """The sheet the page header names: one line at the top, the title left and the sheet right
    (a chart cut by the page break may leave clipped text up there too, on lines of its own)."""
    lines: dict[float, list] = {}
    for c in page:
        if c.y0 > A4_LANDSCAPE_HEIGHT_PT - HEADER_BAND_PT:
            lines.setdefault(round(c.y0, 1), []).append(c)
    for line in lines.values():
        text = text_of(sorted(line, key=lambda c: c.x0))
        if "sammanställningavlägesrapporter" in text:
            return next((s.name for s in MASTER_SHEETS if text.endswith(s.name)), None)
    return None


@pytest.mark.libreoffice
def test_no_text_under_8_pt_on_any_printed_page(masters, libreoffice: LibreOffice, tmp_path: Path) -> None:
    pdfs = libreoffice.convert(list(masters.values()), "pdf", tmp_path)
    for pdf in pdfs:
        printed: dict[str, int] = {}
        for number, page in enumerate(pages_of(pdf), 1):
            assert page, f"{pdf.name} page {number} has no text"
            least = smallest(page)
            assert least.size >= MIN_PRINTED_PT - 0.01, (
                f"{pdf.name} page {number}: {least.get_text()!r} at {least.size:.2f} pt")
            sheet = sheet_of(page)
            assert sheet, f"{pdf.name} page {number}: no page header naming its sheet"
            printed[sheet] = printed.get(sheet, 0) + 1
            assert "Sida" in text_of(page)
        assert set(printed) == {sheet.name for sheet in MASTER_SHEETS}, (pdf.name, printed)
