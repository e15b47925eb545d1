"""The hidden sheet "Data": the form version the reader checks, the live counts the status boxes
show (empty required answers, refused values per sheet), and in a rolled-forward template the previous report's facts and carried
values under the workbook names `previous_*` (spec.previous_names) that the carried formulas use.
"""

from __future__ import annotations

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from ..form.previous import Previous
from ..form.spec import PREVIOUS_PREFIX, FormSpec
from .cells import write_value
from .formats import TemplateFormats
from .status import INVALID_COUNT_NAMES, invalid_count_formula, missing_count_formula

PREVIOUS_HEADING = "Föregående lägesrapport (mallen är framförd från den)"
PREVIOUS_LABELS = {
    "report_number": "Lägesrapport nr",
    "period_end": "Rapportperiodens slut",
    "file": "Fil",
    "sha256": "Filens kontrollsumma (SHA-256)",
}
PREVIOUS_FIRST_ROW = 6  # 0-based, below the version, the three counts and the heading
COUNT_ROWS = (1, 2, 3)  # 0-based: missing_count (B2), then INVALID_COUNT_NAMES (B3, B4)


def write_data_sheet(ws: Worksheet, spec: FormSpec, counts: tuple[int, int, int]) -> list[tuple[str, int]]:
    """The hidden helper sheet: the form version for the reader and the live counts (cached:
    `counts`, missing answers and each sheet's refused values). Returns (name, row) of the counts."""
    ws.write_string(0, 0, "Formulärversion")
    ws.write_string(0, 1, spec.version)
    rows = [
        ("Saknade obligatoriska svar", missing_count_formula(spec)),
        (f"Värden som inte godtas, bladet {spec.report_sheet}", invalid_count_formula(spec, spec.report_sheet)),
        (f"Värden som inte godtas, bladet {spec.budget_sheet}", invalid_count_formula(spec, spec.budget_sheet)),
    ]
    for row, (label, formula), cached in zip(COUNT_ROWS, rows, counts):
        ws.write_string(row, 0, label)
        ws.write_formula(row, 1, formula, None, cached)
    ws.set_column(0, 0, 30)
    ws.hide()
    return list(zip(INVALID_COUNT_NAMES, COUNT_ROWS[1:]))


def write_previous(
    wb: xlsxwriter.Workbook, ws: Worksheet, spec: FormSpec, fmts: TemplateFormats, previous: Previous
) -> None:
    """A rolled-forward template's facts of the previous report, on the Data sheet under the
    workbook names `previous_<fact>` and `previous_<carried cell>` (spec.previous_names)."""
    ws.write_string(PREVIOUS_FIRST_ROW - 1, 0, PREVIOUS_HEADING)
    facts = {
        "report_number": previous.report_number,
        "period_end": previous.period_end,
        "file": previous.file,
        "sha256": previous.sha256,
    }
    rows = [(PREVIOUS_PREFIX + fact, PREVIOUS_LABELS[fact], value, spec.fields.get(fact))
            for fact, value in facts.items()]
    rows += [(c.previous, spec.fields[key].label, previous.cumulative.get(key), spec.fields[key])
             for key, c in spec.carried.items()]
    for row, (name, label, value, field) in enumerate(rows, start=PREVIOUS_FIRST_ROW):
        number_format = field.type.number_format if field is not None else "@"
        ws.write_string(row, 0, label)
        write_value(ws, row, 1, value, fmts.locked(number_format))
        wb.define_name(name, f"='{spec.data_sheet}'!$B${row + 1}")
