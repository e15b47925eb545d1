"""The master workbook as written: sheets, tables, formats, cached values equal to the DataFrames,
formulas only from the program, user text kept as text, and the atomic write."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from test_consolidate import STARTED, known_files

from lagesrapport_dev.examples import ExampleFile, demo_files, write_examples
from lagesrapport_xl.consolidate.batch import Consolidation, consolidate
from lagesrapport_xl.consolidate.tables import SHEETS
from lagesrapport_xl.form.spec import FormSpec
from lagesrapport_xl.master import sizes
from lagesrapport_xl.master import writer as master_module
from lagesrapport_xl.master.formulas import FormulaRenderer, named_cells
from lagesrapport_xl.master.placement import place_tables
from lagesrapport_xl.master.sheets import LAYOUT, MASTER_SHEETS
from lagesrapport_xl.master.streaming import ESCAPED, escape_text, needs_escaping
from lagesrapport_xl.master.writer import MasterInfo, write_master

HOSTILE = {
    "activities": '=HYPERLINK("http://example.invalid")',
    "deviations": "+46 70 123 45 67",
    "upcoming_activities": "-Inga fler aktiviteter",
    "implementation_status": "@SUM(A1:A9)",
    "gender_comment": "http://example.invalid/rapport",
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, spec: FormSpec) -> tuple[Consolidation, MasterInfo]:
    folder = tmp_path_factory.mktemp("inkorg")
    files = known_files(spec)
    files.append(ExampleFile("elak_text.xlsx", {**demo_files(spec)[0].answers, **HOSTILE}))
    write_examples(folder, files, spec)
    (folder / "inte_en_rapport.txt").write_text("hej", encoding="utf-8")
    result = consolidate([folder], spec=spec, workers=2, started=STARTED)
    info = write_master(result, tmp_path_factory.mktemp("ut") / "sammanstallning.xlsx")
    return result, info


def table_cells(ws, placement_rows: tuple[int, int], first_col: int, width: int) -> list[list]:
    first, last = placement_rows
    return [
        [ws.cell(row=r + 1, column=first_col + c + 1).value for c in range(width)] for r in range(first, last + 1)
    ]


def same(cell, value) -> bool:
    """A cell of the master shows the DataFrame's value (blank for nothing)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return cell in (None, "")
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return isinstance(cell, (int, float)) and math.isclose(cell, value, rel_tol=1e-9, abs_tol=1e-6)
    if isinstance(value, dt.datetime):
        return cell == value
    if isinstance(value, dt.date):
        return isinstance(cell, dt.datetime) and cell.date() == value
    return cell == value


def test_sheets_tables_and_layout(written) -> None:
    result, info = written
    wb = load_workbook(info.path)
    assert wb.sheetnames == list(SHEETS)
    placements, _ = place_tables(result)
    for sheet in SHEETS:
        ws = wb[sheet]
        tables = {t.displayName: t for t in ws.tables.values()}
        for key in LAYOUT[sheet].tables:
            table, place = result.tables[key], placements[key]
            excel = tables[f"Tabell_{table.file_stem}"]
            assert excel.autoFilter is not None  # filters on every table
            headers = [ws.cell(row=place.header_row + 1, column=place.first_col + i + 1).value
                       for i in range(len(table.columns))]
            assert headers == [c.header for c in table.columns]
            for index, column in enumerate(table.columns):
                if column.kind in ("kr", "pct", "date"):
                    cell = ws.cell(row=place.first_data_row + 1, column=place.first_col + index + 1)
                    expected = {"kr": '#,##0 "kr"', "pct": "0.0%", "date": "yyyy-mm-dd"}[column.kind]
                    assert cell.number_format == expected, (sheet, column.key)
        freeze = LAYOUT[sheet].freeze_table
        if freeze:
            row = placements[freeze].first_data_row + 1
            assert ws.freeze_panes == f"{get_column_letter(LAYOUT[sheet].freeze_cols + 1)}{row}"
        assert ws.column_dimensions["B"].width >= 8
        assert ws.page_setup.orientation == "landscape"  # the rest of the print layout: test_master_print.py
    assert len(wb["Deltagare"]._charts) == 1 and len(wb["Budget"]._charts) == 1


def test_every_sheet_has_one_record_that_names_its_own_tables_and_columns(written) -> None:
    """sheets.py holds one record per sheet of the consolidation, in its order; what a record draws,
    links and highlights lies in its own tables' columns."""
    result, _ = written
    assert [sheet.name for sheet in MASTER_SHEETS] == list(SHEETS) and list(LAYOUT) == list(SHEETS)
    for sheet in MASTER_SHEETS:
        mine = {*sheet.tables, *sheet.optional}
        assert all(result.tables[key].sheet == sheet.name for key in sheet.keys(result.tables))
        used = [(h.table, h.column) for h in sheet.highlights]
        if sheet.chart is not None:
            used += [(sheet.chart.table, key) for key in (sheet.chart.categories, *(s.column for s in sheet.chart.series))]
        if sheet.jump is not None:
            assert sheet.jump.table in mine
        assert {key for key, _ in sheet.first_cols} <= mine and (sheet.freeze_table in mine or sheet.freeze_table is None)
        for key, column in used:
            assert key in mine, (sheet.name, key)
            if key in result.tables:
                result.tables[key].column(column)  # raises for a column the table lacks


def test_cached_values_equal_the_dataframes(written) -> None:
    """What pandas, previewers and e-mail viewers see (the stored values) is what Python computed."""
    result, info = written
    wb = load_workbook(info.path, data_only=True)
    placements, _ = place_tables(result)
    checked = 0
    for key, table in result.tables.items():
        place = placements[key]
        ws = wb[table.sheet]
        rows = table_cells(ws, (place.first_data_row, place.first_data_row + len(table.frame) - 1),
                           place.first_col, len(table.columns))
        for offset, row in enumerate(rows):
            for index, column in enumerate(table.columns):
                value = table.frame[column.key].iloc[offset]
                assert same(row[index], value), (table.sheet, key, column.key, offset, row[index], value)
                checked += 1
        if table.totals is not None:
            totals = table_cells(ws, (place.total_row, place.total_row), place.first_col, len(table.columns))[0]
            assert totals[0] == table.total_label
            for index, column in enumerate(table.columns):
                if column.key in table.totals:
                    assert same(totals[index], table.totals[column.key]), (key, column.key)
    assert checked > 2000
    overview = pd.read_excel(
        info.path, sheet_name="Översikt", header=placements["overview"].header_row, engine="openpyxl"
    )
    assert overview["Faktiskt antal deltagare"].tolist()[: len(result["overview"])] == pytest.approx(
        result["overview"]["actual"].astype(float).tolist(), nan_ok=True
    )


def test_every_formula_comes_from_the_program(written) -> None:
    _, info = written
    wb = load_workbook(info.path)
    found = {
        (ws.title, cell.coordinate): cell.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    }
    assert found == info.formulas
    assert len(found) > 500
    functions = {name for formula in found.values() for name in __import__("re").findall(r"([A-Z]+)\(", formula)}
    assert functions <= {"IF", "N", "AND", "OR", "ISNUMBER", "MAX", "MIN", "ABS", "SUMPRODUCT", "EXACT", "SUBTOTAL",
                         "COUNTIF", "HYPERLINK"}


def test_user_text_stays_text(written) -> None:
    result, info = written
    wb = load_workbook(info.path)
    ws = wb["Texter"]
    texts = [cell for row in ws.iter_rows() for cell in row if isinstance(cell.value, str)]
    for answer in HOSTILE.values():
        matches = [cell for cell in texts if cell.value == answer]
        assert matches, answer
        assert all(cell.data_type == "s" and cell.hyperlink is None for cell in matches)
    links = [cell.hyperlink.location for ws in wb.worksheets for row in ws.iter_rows() for cell in row
             if cell.hyperlink is not None]
    # Only our own jumps within the workbook ("→ Summor och diagram längre ned").
    assert links and all(link.split("!")[0].strip("'") in SHEETS for link in links), links


def test_a_failed_write_leaves_the_old_master_untouched(written, tmp_path: Path, monkeypatch) -> None:
    result, _ = written
    target = tmp_path / "sammanstallning.xlsx"
    write_master(result, target)
    before = target.read_bytes()
    real = master_module.write_sheet

    def failing(wb, sheet, *args, **kwargs):
        if sheet == "Budget":
            raise OSError("disken är full")
        return real(wb, sheet, *args, **kwargs)

    monkeypatch.setattr(master_module, "write_sheet", failing)
    with pytest.raises(OSError, match="disken är full"):
        write_master(result, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["sammanstallning.xlsx"]  # no temporary file left


def test_master_without_any_accepted_report(tmp_path: Path, spec: FormSpec) -> None:
    inbox = tmp_path / "inkorg"
    inbox.mkdir()
    (inbox / "trasig.xlsx").write_bytes(b"PK\x03\x04 not really")
    (inbox / "~$rapport.xlsx").write_bytes(b"\x04Anna" + b" " * 50)
    result = consolidate([inbox], spec=spec, workers=1)
    info = write_master(result, tmp_path / "master.xlsx")
    wb = load_workbook(info.path, data_only=True)
    assert wb.sheetnames == list(SHEETS)
    control = {row[0]: row[1] for row in wb["Kontroll"].iter_rows(values_only=True) if row[0] in
               ("trasig.xlsx", "~$rapport.xlsx")}
    assert control == {"trasig.xlsx": "Avvisad", "~$rapport.xlsx": "Överhoppad"}
    assert result.counts["found"] == 2 and len(result["overview"]) == 0


def test_row_patterns_give_the_formulas_render_gives(written) -> None:
    """The shortcut for formulas that only name their own row writes what the general path writes."""
    consolidation, _ = written
    placements, _ = place_tables(consolidation)
    renderer = FormulaRenderer(placements, named_cells(placements))
    compared = 0
    for placement in placements.values():
        table = placement.table
        for column in table.columns:
            if not column.formula:
                continue
            pattern = renderer.row_pattern(column.formula, placement)
            for offset in range(len(table.rows)):
                general = renderer.render(column.formula, placement, offset, lambda key, o=offset: table.value(o, key))
                if pattern is not None:
                    assert pattern.format(placement.first_data_row + offset + 1) == general, column.key
                    compared += 1
    assert compared > 50


@pytest.mark.parametrize(
    "text", ["vanlig text", "a & b", "<tag>", "x > y", "_x0041_", "ctrl\x01", "tab\tok", "ny\nrad", "\ufffe", "å\x1f",
             "\r", "\x0b", "\ud800 ensam surrogat", "_", "x_", "_X0041_"],
)
@pytest.mark.parametrize("padding", ["", "Svensk fritext med åäö. " * 10, "En – annan – sort ’text’. " * 10],
                         ids=["short", "long-latin1", "long-ucs2"])
def test_the_escape_shortcut_agrees_with_the_escapes(text: str, padding: str) -> None:
    """string_xml skips escaping only for text that escaping would leave unchanged: a short text
    (one expression) and a long one (its own passes), of one byte a character or more."""
    from xlsxwriter.xmlwriter import XMLwriter

    for whole in (text + padding, padding + text, padding + text + padding):
        escaped = XMLwriter()._escape_data(escape_text(whole))
        assert needs_escaping(whole) == (escaped != whole), repr(whole[:40])


# Pieces a text is made of: plain prose in and beyond Latin-1, and everything escaping acts on.
_PIECES = st.sampled_from(["Svensk text med åäö. ", "– ’citat’ ", "🙂", "&", "<", ">", "_x0041_", "_x", "_",
                           "\x01", "\x1f", "\t", "\n", "\r", "\ufffe", "\uffff", "\ud800", "x" * 150])


@given(st.lists(_PIECES, min_size=1, max_size=40).map("".join))
@settings(max_examples=300, deadline=None)
def test_the_escape_shortcut_agrees_with_the_escapes_on_any_text(text: str) -> None:
    """Over texts of any length made of those pieces, long ones (the free texts' own passes) and
    short ones alike: a text said to need no escaping is left as it is by the escapes, and a long
    text is judged exactly as the expression judges a short one (a lone "_x" is sent the slow way)."""
    from xlsxwriter.xmlwriter import XMLwriter

    for whole in (text, "x" * 200 + text, text + "ö" * 200, "– " * 100 + text):
        assert needs_escaping(whole) == (ESCAPED.search(whole) is not None), repr(whole[-60:])
        if not needs_escaping(whole):
            assert XMLwriter()._escape_data(escape_text(whole)) == whole


def _counted_height(values: tuple, wrapped: tuple) -> float | None:
    """row_height as it was before its shortcut: every text split into its lines."""
    lines = max((sizes._lines(values[at], width) for at, width in wrapped if isinstance(values[at], str)), default=1)
    return min(sizes.MAX_ROW_HEIGHT, sizes.POINTS_PER_LINE * lines + 3) if lines > 1 else None


@pytest.mark.parametrize("width", [8, 48, 60])
def test_a_long_texts_row_is_as_tall_as_its_lines_make_it(width: float) -> None:
    """row_height's shortcut (a text long enough for the tallest row is not split into lines) gives
    the height the lines give, at its edge too: texts of lines and breaks of every kind and length."""
    per_line = int(width * 1.3)
    edge = sizes._CAP_LINES * (per_line + 2)
    words = "Projektet har under perioden genomfört workshops med deltagarna och "
    texts = [words * (edge // len(words) + 1)]
    for size in (edge - 1, edge, edge + 1, per_line * sizes._CAP_LINES, per_line * (sizes._CAP_LINES - 1)):
        for newline in ("", "\n", "\r\n", "\u2028", "\n\n"):
            text = (newline.join([words[:per_line]] * (size // per_line + 1)) if newline else texts[0])[:size]
            texts.append(text)
    texts += ["\r\n" * (edge // 2), "\n" * (sizes._CAP_LINES - 2), "kort", ""]
    for text in texts:
        values, wrapped = (text, None, "x" * 5), ((0, width), (1, width), (2, width))
        assert sizes.row_height(values, wrapped) == _counted_height(values, wrapped), (len(text), repr(text[:20]))
