"""Write the locked Lägesrapport template (XlsxWriter), optionally pre-filled for one insats.

Everything comes from the form specification: texts, cell positions, validations, formats and
the Excel formulas of the conditions. XlsxWriter is used because it stores a cached value with
every formula, so a previewer shows the live status cell correctly before any recalculation, and
because its output is byte-for-byte reproducible (the committed template is checked for drift).

This module assembles the workbook: it checks the values, sets the document properties, adds the
sheets in order and lets each sheet's module write it (report_sheet, budget_sheet,
instructions_sheet, data_sheet, control_sheet), defines the workbook names, protects the sheets
and finally patches the package (package_patch).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import xlsxwriter

from ..common.atomic import atomic_path
from ..common.config import TemplateOptions
from ..common.xlsx_style import FONT
from ..form.fieldtypes import is_blank
from ..form.previous import Previous
from ..form.spec import (  # the version's name and property are re-exported: the template writes them
    FORM_VERSION_NAME,
    VERSION_PROPERTY,
    FormSpec,
    default_spec,
)
from .budget_sheet import write_budget_sheet
from .cells import CellValues
from .control_sheet import write_control_sheet
from .data_sheet import write_data_sheet, write_previous
from .formats import TemplateFormats
from .instructions_sheet import write_instructions
from .package_patch import patch_package
from .report_sheet import write_report_sheet
from .status import MISSING_COUNT_NAME, count_invalid, count_missing, sheet_statuses

FIXED_TIME = dt.datetime(2021, 12, 10)  # document timestamps: identical bytes for identical input
PROTECTION_OPTIONS = {
    "select_locked_cells": True,
    "select_unlocked_cells": True,
    "format_rows": True,  # a coordinator may make a row taller to read a long answer
    "format_columns": True,
}


def write_template(
    path: str | Path,
    spec: FormSpec | None = None,
    *,
    prefill: dict[str, Any] | None = None,
    answers: dict[str, Any] | None = None,
    password: str | None = None,
    previous: Previous | None = None,
    options: TemplateOptions | None = None,
) -> Path:
    """Write the template to `path` atomically (temporary file, then rename) and return the path.

    `prefill` maps field keys to Python values (str, int, Decimal, date); those cells are
    written and locked. `answers` are written into open input cells as they are given (a string
    stays a string), which makes filled example reports without a spreadsheet program.
    `previous` (rollforward.py) makes the template the next report after it: its facts go on the
    Data sheet and each carried cell (spec.carried) not among `answers` becomes its formula.
    `options` (rar.toml's [template], common/config.py): where the report is sent, and whether
    the Validera button is drawn (by default not: it needs the xlwings add-in).
    """
    spec = spec or default_spec()
    prefill = {k: v for k, v in (prefill or {}).items() if not is_blank(v)}
    answers = dict(answers or {})
    unknown = sorted((set(prefill) | set(answers)) - set(spec.fields))
    if unknown:
        raise KeyError(f"Okända fält: {', '.join(unknown)}")
    not_prefillable = sorted(k for k in prefill if not spec.fields[k].prefill)
    if not_prefillable:
        raise KeyError(f"Fälten kan inte förifyllas: {', '.join(not_prefillable)}")
    both = sorted(set(prefill) & set(answers))
    if both:
        raise KeyError(f"Fälten är både förifyllda och besvarade: {', '.join(both)}")
    with atomic_path(path) as tmp:
        _build(tmp, spec, prefill, answers, password, previous, options or TemplateOptions())
        patch_package(tmp)
    return Path(path)


def _build(
    path: Path,
    spec: FormSpec,
    prefill: dict[str, Any],
    answers: dict[str, Any],
    password: str | None,
    previous: Previous | None,
    options: TemplateOptions,
) -> None:
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            # Arial 10 as the workbook's default font: column widths are measured in its digits,
            # and LibreOffice has a metric-compatible Arial (Liberation Sans) but no Calibri.
            "default_format_properties": {"font_name": FONT, "font_size": 10, "font_scheme": "none"},
            "default_row_height": 17,
            "default_column_width": 64,
        },
    )
    wb.set_properties(
        {
            "title": f"{spec.title} – {spec.organisation}",
            "subject": "Lägesrapport till Samordningsförbundet RAR",
            "company": spec.organisation,
            "comments": f"Formulärversion {spec.version}. Genererad av lagesrapport_xl.",
            "created": FIXED_TIME,
        }
    )
    wb.set_custom_property(VERSION_PROPERTY, spec.version)
    wb.set_calc_mode("auto")
    fmts = TemplateFormats(wb)
    typed = {**answers, **prefill}
    sheets = (spec.report_sheet, spec.budget_sheet)
    counts = (count_missing(spec, typed), *(count_invalid(spec, typed, sheet) for sheet in sheets))
    statuses = sheet_statuses(spec, typed)
    carried = {k: c for k, c in spec.carried.items() if k not in answers} if previous is not None else {}
    cells = CellValues(prefill, answers, previous, carried)
    instructions = wb.add_worksheet(spec.instructions_sheet)
    report = wb.add_worksheet(spec.report_sheet)
    budget = wb.add_worksheet(spec.budget_sheet)
    data = wb.add_worksheet(spec.data_sheet)
    control = wb.add_worksheet(spec.control_sheet)
    write_instructions(instructions, spec, fmts, options)
    write_report_sheet(report, spec, fmts, cells, statuses[spec.report_sheet], options)
    write_budget_sheet(budget, spec, fmts, cells, statuses[spec.budget_sheet])
    count_names = write_data_sheet(data, spec, counts)
    if previous is not None:
        write_previous(wb, data, spec, fmts, previous)
    write_control_sheet(control, fmts, options.excel_buttons)
    for field in spec.fields.values():
        wb.define_name(field.key, f"={field.ref}")
    wb.define_name(FORM_VERSION_NAME, f"='{spec.data_sheet}'!$B$1")
    wb.define_name(MISSING_COUNT_NAME, f"='{spec.data_sheet}'!$B$2")
    for name, row in count_names:
        wb.define_name(name, f"='{spec.data_sheet}'!$B${row + 1}")
    for ws in (instructions, report, budget, data):
        ws.protect(password or "", PROTECTION_OPTIONS)
    report.activate()
    wb.close()
