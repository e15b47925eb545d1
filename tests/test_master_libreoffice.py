"""LibreOffice recalculates the master from scratch; every formula must give the Python figure.

The `libreoffice` fixture's profile forces a full recalculation on load, so the cached values our
writer stored cannot leak into the comparison.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook
from test_consolidate import ROOT, STARTED, known_files
from xlsxwriter.utility import xl_rowcol_to_cell

from lagesrapport_dev.examples import DEMO_REGISTER, ExampleFile, demo_files, write_examples
from lagesrapport_dev.libreoffice import LibreOffice
from lagesrapport_xl.consolidate.batch import Consolidation, consolidate
from lagesrapport_xl.form.spec import FormSpec
from lagesrapport_xl.master.placement import place_tables
from lagesrapport_xl.master.writer import write_master
from lagesrapport_xl.reader.register import read_register

TOLERANCE = 0.005


def python_figures(result: Consolidation) -> dict[tuple[str, str], Any]:
    """(sheet, cell) → the value Python computed, for every cell that holds a formula: the derived
    columns', and the links of the trail (a value taken from a report, a file name: trail.py)."""
    placements, _ = place_tables(result)
    figures: dict[tuple[str, str], Any] = {}
    for key, table in result.tables.items():
        place = placements[key]
        for column in table.columns:
            col = place.col(column.key)
            if column.formula or column.traced or column.kind == "link":
                for offset, value in enumerate(table.frame[column.key].tolist()):
                    figures[(table.sheet, xl_rowcol_to_cell(place.first_data_row + offset, col))] = value
            if table.totals is not None and column.key in table.totals:
                figures[(table.sheet, xl_rowcol_to_cell(place.total_row, col))] = table.totals[column.key]
    return figures


def agrees(calculated: Any, expected: Any) -> bool:
    if expected is None or expected is pd.NA or (isinstance(expected, float) and math.isnan(expected)):
        return calculated in (None, "")
    if hasattr(expected, "item"):
        expected = expected.item()
    if isinstance(expected, (int, float)):
        return isinstance(calculated, (int, float)) and abs(calculated - expected) <= TOLERANCE
    return calculated == expected


def recalculated_figures(result: Consolidation, tmp_path: Path, libreoffice: LibreOffice) -> dict[tuple[str, str], Any]:
    """Write the master, let LibreOffice recalculate it, and check every formula gives Python's
    figure; returns those figures of the cells that hold a formula."""
    info = write_master(result, tmp_path / "master.xlsx")
    figures = python_figures(result)
    blank = {cell for cell in figures if cell not in info.formulas}
    assert all(figures[cell] is None or pd.isna(figures[cell]) for cell in blank)  # refs to missing reports
    assert set(info.formulas) <= set(figures)

    recalculated = libreoffice.convert(info.path, "xlsx", tmp_path / "lo")[0]
    wb = load_workbook(recalculated, data_only=True)
    wrong = [
        (sheet, cell, info.formulas[(sheet, cell)], wb[sheet][cell].value, figures[(sheet, cell)])
        for sheet, cell in info.formulas
        if not agrees(wb[sheet][cell].value, figures[(sheet, cell)])
    ]
    assert not wrong, wrong[:10]
    return {cell: figures[cell] for cell in info.formulas}


@pytest.mark.libreoffice
def test_libreoffice_recalculation_agrees_with_every_formula(
    tmp_path: Path, spec: FormSpec, libreoffice: LibreOffice
) -> None:
    inbox = tmp_path / "inkorg"
    files = known_files(spec) + [ExampleFile(f"demo_{e.name}", e.answers) for e in demo_files(spec)]
    write_examples(inbox, files, spec)
    result = consolidate([inbox], spec=spec, workers=2, started=STARTED)
    formulas = recalculated_figures(result, tmp_path, libreoffice)
    assert len(formulas) > 1000
    # The branches that give "" in Excel were exercised, and so were Ja and Nej.
    values = list(formulas.values())
    assert any(v is None or (not isinstance(v, str) and pd.isna(v)) for v in values)
    assert {"Ja", "Nej"} <= {v for v in values if isinstance(v, str)}


@pytest.mark.libreoffice
def test_libreoffice_counts_the_register_as_python_does(tmp_path: Path, spec: FormSpec,
                                                         libreoffice: LibreOffice) -> None:
    """The register's counts on Kontroll are COUNTIF formulas over its state column: recalculated,
    they give the counts Python cached (the demo set against its register: every state, and two
    reports of an insats the register does not know)."""
    rows, _ = read_register(ROOT / "workbook_templates" / DEMO_REGISTER, spec)
    write_examples(tmp_path / "annan", known_files(spec)[:2], spec)
    result = consolidate([ROOT / "workbook_templates" / "examples", tmp_path / "annan"], spec=spec, workers=1,
                         started=STARTED, register=rows)
    formulas = recalculated_figures(result, tmp_path, libreoffice)
    placements, _ = place_tables(result)
    counts = placements["register_counts"]
    row = counts.first_data_row
    counted = {key: formulas[("Kontroll", xl_rowcol_to_cell(row, counts.col(key)))]
               for key in ("count_received", "count_rejected", "count_missing", "count_sum", "count_not_in_register")}
    assert counted == {"count_received": 4, "count_rejected": 1, "count_missing": 1, "count_sum": 6,
                       "count_not_in_register": 2}


@pytest.mark.libreoffice
def test_changing_the_tolerance_in_om_recalculates_tidsandel(tmp_path: Path, spec: FormSpec,
                                                              libreoffice: LibreOffice) -> None:
    """The tolerance is a cell of Om that the Tidsandel formulas read: RAR can try another one."""
    inbox = tmp_path / "inkorg"
    write_examples(inbox, demo_files(spec), spec)
    strict = consolidate([inbox], spec=spec, tolerance=0.0, workers=1, started=STARTED)
    loose = consolidate([inbox], spec=spec, tolerance=0.5, workers=1, started=STARTED)
    info = write_master(strict, tmp_path / "strikt.xlsx")
    # Edit only the tolerance cell (openpyxl keeps formulas), then let LibreOffice recalculate.
    placements, _ = place_tables(strict)
    about = placements["about"]
    row = about.first_data_row + strict["about"]["_name"].tolist().index("tolerance")
    wb = load_workbook(info.path)
    wb["Om"].cell(row=row + 1, column=about.col("value") + 1).value = 0.5
    edited = tmp_path / "edited" / "andrad.xlsx"
    edited.parent.mkdir()
    wb.save(edited)
    recalculated = libreoffice.convert(edited, "xlsx", tmp_path / "lo")[0]
    sheet = load_workbook(recalculated, data_only=True)["Tidsandel"]
    place = placements["time_share"]
    col = place.col("computed_in_line") + 1
    verdicts = [sheet.cell(row=place.first_data_row + 1 + i, column=col).value for i in range(len(loose["time_share"]))]
    assert verdicts == loose["time_share"]["computed_in_line"].tolist()
    assert verdicts != strict["time_share"]["computed_in_line"].tolist()
