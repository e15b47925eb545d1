"""Write the locked Lägesrapport template (XlsxWriter), optionally pre-filled for one insats.

Everything comes from the form specification: texts, cell positions, validations, formats and
the Excel formulas of the conditions. XlsxWriter is used because it stores a cached value with
every formula, so a previewer shows the live status cell correctly before any recalculation.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from .conditions import holds
from .fieldtypes import ValueProblem, is_blank
from .spec import INLINE_COLS, Field, FormSpec, cell_address, col_letter, default_spec

FONT = "Arial"
INPUT_FILL = "#FFFFFF"
LOCKED_FILL = "#F2F2F2"
PREFILLED_FILL = "#E7E6E6"
MISSING_FILL = "#F8CBAD"
REQUIRED_NOW_FILL = "#FFE699"
BORDER_COLOR = "#8EA9DB"
FIXED_TIME = dt.datetime(2021, 12, 10)  # document timestamps: identical bytes for identical input
VERSION_PROPERTY = "Lägesrapport formulärversion"
FORM_VERSION_NAME = "form_version"
MISSING_COUNT_NAME = "missing_count"
PROTECTION_OPTIONS = {
    "select_locked_cells": True,
    "select_unlocked_cells": True,
    "format_rows": True,
    "format_columns": True,
}
REPORT_WIDTHS = {0: 2, 1: 78, 2: 14, 3: 14, 4: 14}
BUDGET_LABEL_WIDTH = 38
BUDGET_COMMENT_WIDTH = 26
BUDGET_AMOUNT_WIDTH = 14
POINTS_PER_LINE = 13.5


class _Formats:
    """All cell formats of the template, created once per workbook."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self._wb = wb
        self._cache: dict[tuple[Any, ...], Any] = {}
        base = {"font_name": FONT, "font_size": 10, "valign": "top"}
        self.base = base
        self.title = wb.add_format({**base, "bold": True, "font_size": 16})
        self.subtitle = wb.add_format({**base, "italic": True})
        self.status = wb.add_format({**base, "bold": True, "border": 1, "bg_color": "#FFF2CC", "text_wrap": True})
        self.heading = wb.add_format({**base, "bold": True, "font_size": 12, "text_wrap": True})
        self.question = wb.add_format({**base, "bold": True, "text_wrap": True})
        self.label = wb.add_format({**base, "text_wrap": True})
        self.column = wb.add_format({**base, "bold": True, "align": "center", "text_wrap": True})
        self.note = wb.add_format({**base, "italic": True, "text_wrap": True})
        self.paragraph = wb.add_format({**base, "text_wrap": True})
        self.header = wb.add_format(
            {**base, "bold": True, "text_wrap": True, "bg_color": "#D9E1F2", "border": 1, "valign": "bottom"}
        )
        self.total_label = wb.add_format({**base, "bold": True, "border": 1, "bg_color": LOCKED_FILL})
        self.line_label = wb.add_format({**base, "border": 1, "text_wrap": True})
        self.missing = wb.add_format({"bg_color": MISSING_FILL})
        self.required_now = wb.add_format({"bg_color": REQUIRED_NOW_FILL})
        self.warning = wb.add_format({"font_color": "#C00000", "bold": True})

    def cell(self, number_format: str, *, locked: bool, fill: str, wrap: bool = False, bold: bool = False):
        key = (number_format, locked, fill, wrap, bold)
        if key not in self._cache:
            self._cache[key] = self._wb.add_format(
                {
                    **self.base,
                    "num_format": number_format,
                    "locked": locked,
                    "bg_color": fill,
                    "border": 1,
                    "border_color": BORDER_COLOR if not locked else "#BFBFBF",
                    "text_wrap": wrap,
                    "bold": bold,
                }
            )
        return self._cache[key]

    def input(self, field: Field, prefilled: bool):
        return self.cell(
            field.type.number_format,
            locked=prefilled,
            fill=PREFILLED_FILL if prefilled else INPUT_FILL,
            wrap=field.type.wrap,
        )


def _write_value(ws: Worksheet, row: int, col: int, value: Any, fmt: Any) -> None:
    """Write a Python value as the cell type Excel would store for it; text is never a formula."""
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (dt.date, dt.datetime)):
        stamp = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        ws.write_datetime(row, col, stamp, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "Ja" if value else "Nej", fmt)
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, float(value), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


@dataclass(frozen=True)
class _CellValues:
    """What goes into the input cells: pre-filled values (locked) and answers (left open)."""

    prefill: dict[str, Any]
    answers: dict[str, Any]

    def get(self, key: str) -> tuple[Any, bool]:
        """(value, locked)."""
        if key in self.prefill:
            return self.prefill[key], True
        return self.answers.get(key), False

    def amount(self, field: Field) -> float:
        """The number Excel will compute with (text and blanks count as 0 in the cached totals)."""
        value, _ = self.get(field.key)
        try:
            return 0.0 if is_blank(value) else float(field.type.parse(value))
        except (ValueProblem, TypeError, ValueError):
            return 0.0


def _write_input(ws: Worksheet, field: Field, spec: FormSpec, fmts: _Formats, cells: _CellValues) -> None:
    value, locked = cells.get(field.key)
    _write_value(ws, field.row, field.col, value, fmts.input(field, locked))
    _add_input_rules(ws, field, spec, fmts, locked)


def _blank_test(name: str) -> str:
    return f"LEN(TRIM({name}))=0"


def missing_count_formula(spec: FormSpec) -> str:
    """Excel formula counting the required answers that are empty, conditions included."""
    terms = []
    for field in spec.fields.values():
        if field.required is True:
            terms.append(f"({_blank_test(field.key)})")
        elif field.condition:
            condition = spec.conditions[field.condition].excel
            terms.append(f"AND({condition},{_blank_test(field.key)})")
    return "=" + "+".join(f"IF({t},1,0)" for t in terms)


def _status_formula(cell: str) -> str:
    return (
        f'=IF({cell}=0,"Alla obligatoriska svar är ifyllda.",'
        f'IF({cell}=1,"1 obligatoriskt svar saknas – se röda celler.",'
        f'{cell}&" obligatoriska svar saknas – se röda celler."))'
    )


def status_text(missing: int) -> str:
    """The status cell's text for a given count; the same wording as the Excel formula."""
    if missing == 0:
        return "Alla obligatoriska svar är ifyllda."
    if missing == 1:
        return "1 obligatoriskt svar saknas – se röda celler."
    return f"{missing} obligatoriska svar saknas – se röda celler."


def count_missing(spec: FormSpec, values: dict[str, Any]) -> int:
    """Required answers that are empty, as the status formula counts them (its cached value)."""
    parsed: dict[str, Any] = {}
    for key, value in values.items():
        try:
            parsed[key] = None if is_blank(value) else spec.fields[key].type.parse(value)
        except ValueProblem:
            parsed[key] = value
    missing = 0
    for field in spec.fields.values():
        if not is_blank(values.get(field.key)):
            continue
        if field.required is True or (field.condition and holds(field.condition, parsed)):
            missing += 1
    return missing


def _setup_print(ws: Worksheet, spec: FormSpec, repeat_to_row: int) -> None:
    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.fit_to_pages(1, 0)  # one page wide, as many pages tall as needed
    ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    ws.repeat_rows(0, repeat_to_row)
    ws.set_header(f"&L&8{spec.organisation}&R&8{spec.title} (formulärversion {spec.version})")
    ws.set_footer("&L&8&A&RSida &P av &N")


def _add_input_rules(ws: Worksheet, field: Field, spec: FormSpec, fmts: _Formats, prefilled: bool) -> None:
    """Validation, the red mark when a required answer is empty, the yellow mark when required now."""
    if field.type.validation and not prefilled:
        ws.data_validation(field.row, field.col, field.row, field.col, field.type.validation_options(field.label, field.hint))
    cell = field.cell
    blank = f"LEN(TRIM({cell}))=0"
    if field.required is True and not prefilled:
        ws.conditional_format(cell, {"type": "formula", "criteria": f"={blank}", "format": fmts.missing})
    elif field.condition:
        condition = spec.conditions[field.condition].excel
        ws.conditional_format(
            cell,
            {"type": "formula", "criteria": f"=AND({condition},{blank})", "format": fmts.missing, "stop_if_true": True},
        )
        ws.conditional_format(cell, {"type": "formula", "criteria": f"={condition}", "format": fmts.required_now})


def _write_column_headers(ws: Worksheet, row: int, texts: tuple[str, ...], fmts: _Formats) -> None:
    """Headers above the inline columns C, D, E; equal neighbouring texts span one merged header."""
    col = 0
    while col < len(texts):
        span = 1
        while col + span < len(texts) and texts[col + span] == texts[col]:
            span += 1
        first = INLINE_COLS[col]
        if texts[col] and span > 1:
            ws.merge_range(row, first, row, first + span - 1, texts[col], fmts.column)
        elif texts[col]:
            ws.write_string(row, first, texts[col], fmts.column)
        col += span


def _write_report_sheet(ws: Worksheet, spec: FormSpec, fmts: _Formats, cells: _CellValues, missing: int) -> None:
    for col, width in REPORT_WIDTHS.items():
        ws.set_column(col, col, width)
    ws.write_string(0, 1, spec.title, fmts.title)
    ws.write_string(1, 1, spec.subtitle, fmts.subtitle)
    ws.write_formula(2, 1, _status_formula(MISSING_COUNT_NAME), fmts.status, status_text(missing))
    ws.set_row(2, 28)
    for item in spec.layout:
        if item.kind == "heading":
            ws.write_string(item.row, 1, item.text, fmts.heading)
        elif item.kind == "note":
            ws.write_string(item.row, 1, item.text, fmts.note)
            ws.set_row(item.row, 24)
        elif item.kind == "columns":
            _write_column_headers(ws, item.row, item.texts, fmts)
        else:
            text_format = fmts.question if item.kind == "block" else fmts.label
            ws.write_string(item.row, 1, item.text, text_format)
            if item.kind == "inline" and len(item.text) > REPORT_WIDTHS[1]:
                ws.set_row(item.row, POINTS_PER_LINE * 2 + 2)
        for key in item.fields:
            field = spec.fields[key]
            _write_input(ws, field, spec, fmts, cells)
            if item.kind == "block":
                ws.set_row(field.row, max(item.lines * POINTS_PER_LINE + 4, 18))
    ws.freeze_panes(3, 0)
    last = max(r.row for r in spec.layout)
    ws.print_area(0, 0, last, 4)
    _setup_print(ws, spec, 2)


def _budget_formula(template: str, spec: FormSpec, row: int) -> str:
    def replace(match: re.Match[str]) -> str:
        return cell_address(row, spec.budget.column(match.group(1)).col)

    return "=" + re.sub(r"\{(\w+)\}", replace, template)


def _formula_value(column_key: str, values: dict[str, float]) -> Any:
    """Cached results of the two formula columns, matching their Excel formulas."""
    if column_key == "deviation_period":
        return values.get("budget_period", 0.0) - values.get("actual_period", 0.0)
    if column_key == "used_share":
        total = values.get("budget_total", 0.0)
        return "" if total == 0 else values.get("actual_cumulative", 0.0) / total
    return 0.0


def _write_budget_sheet(ws: Worksheet, spec: FormSpec, fmts: _Formats, cells: _CellValues, missing: int) -> None:
    budget = spec.budget
    ws.set_column(0, 0, BUDGET_LABEL_WIDTH)
    for column in budget.columns:
        width = BUDGET_COMMENT_WIDTH if column.type.name == "text" else BUDGET_AMOUNT_WIDTH
        ws.set_column(column.col, column.col, width)
    last_col = max(c.col for c in budget.columns)
    ws.write_string(0, 0, budget.title, fmts.title)
    ws.write_string(1, 0, budget.intro, fmts.subtitle)
    ws.merge_range(2, 0, 2, 3, "", fmts.status)
    ws.write_formula(2, 0, _status_formula(MISSING_COUNT_NAME), fmts.status, status_text(missing))
    ws.set_row(2, 28)

    totals: dict[str, dict[str, float]] = {"budget": {}, "financing": {}}
    for group, heading, header_row, lines, total_row in (
        ("budget", budget.lines_heading, budget.header_row, budget.lines, budget.lines_total_row),
        ("financing", budget.financing_heading, budget.financing_header_row, budget.financing, budget.financing_total_row),
    ):
        ws.write_string(header_row, 0, heading, fmts.header)
        for column in budget.columns:
            ws.write_string(header_row, column.col, column.label, fmts.header)
        ws.set_row(header_row, 42)
        for line in lines:
            ws.write_string(line.row, 0, line.label, fmts.line_label)
            values: dict[str, float] = {}
            for column in budget.columns:
                if column.is_input:
                    field = spec.fields[spec.budget_key(line.key, column.key)]
                    _write_input(ws, field, spec, fmts, cells)
                    if column.type.name == "amount":
                        values[column.key] = cells.amount(field)
                else:
                    fmt = fmts.cell(column.type.number_format, locked=True, fill=LOCKED_FILL)
                    cached = _formula_value(column.key, values)
                    ws.write_formula(line.row, column.col, _budget_formula(column.formula, spec, line.row), fmt, cached)
            for key, value in values.items():
                totals[group][key] = totals[group].get(key, 0.0) + value
        ws.write_string(total_row, 0, budget.total_label, fmts.total_label)
        first, last = lines[0].row if lines else total_row, total_row - 1
        for column in budget.columns:
            fmt = fmts.cell(column.type.number_format, locked=True, fill=LOCKED_FILL, bold=True)
            if column.type.name == "amount" and column.is_input:
                letter = col_letter(column.col)
                ws.write_formula(
                    total_row, column.col, f"=SUM({letter}{first + 1}:{letter}{last + 1})", fmt, totals[group].get(column.key, 0.0)
                )
            elif column.formula:
                ws.write_formula(
                    total_row,
                    column.col,
                    _budget_formula(column.formula, spec, total_row),
                    fmt,
                    _formula_value(column.key, totals[group]),
                )
            else:
                ws.write_blank(total_row, column.col, None, fmt)

    ws.write_string(budget.balance_row, 0, "Kostnader minus finansiering (ska vara 0)", fmts.total_label)
    for column in budget.columns:
        if column.type.name == "amount" and column.is_input:
            letter = col_letter(column.col)
            cell = f"{letter}{budget.balance_row + 1}"
            fmt = fmts.cell(column.type.number_format, locked=True, fill=LOCKED_FILL, bold=True)
            cached = totals["budget"].get(column.key, 0.0) - totals["financing"].get(column.key, 0.0)
            ws.write_formula(
                budget.balance_row,
                column.col,
                f"={letter}{budget.lines_total_row + 1}-{letter}{budget.financing_total_row + 1}",
                fmt,
                cached,
            )
            ws.conditional_format(cell, {"type": "formula", "criteria": f"=ROUND({cell},0)<>0", "format": fmts.warning})
    ws.freeze_panes(budget.header_row + 1, 1)
    ws.print_area(0, 0, budget.balance_row, last_col)
    _setup_print(ws, spec, budget.header_row)
    ws.repeat_rows(budget.header_row, budget.header_row)


def _write_instructions(ws: Worksheet, spec: FormSpec, fmts: _Formats) -> None:
    ws.set_column(0, 0, 2)
    ws.set_column(1, 1, 100)
    row = 0
    for index, (heading, text) in enumerate(spec.instructions):
        ws.write_string(row, 1, heading, fmts.title if index == 0 else fmts.heading)
        row += 1
        for paragraph in text.splitlines():
            if paragraph.strip():
                ws.write_string(row, 1, paragraph, fmts.paragraph)
                ws.set_row(row, POINTS_PER_LINE * (1 + len(paragraph) // 95) + 3)
                row += 1
        row += 1
    ws.write_string(row, 1, f"Formulärversion {spec.version}", fmts.note)
    ws.print_area(0, 0, row, 1)
    _setup_print(ws, spec, 0)


def _write_data_sheet(ws: Worksheet, spec: FormSpec, fmts: _Formats, missing: int) -> None:
    ws.write_string(0, 0, "Formulärversion")
    ws.write_string(0, 1, spec.version)
    ws.write_string(1, 0, "Saknade obligatoriska svar")
    ws.write_formula(1, 1, missing_count_formula(spec), None, missing)
    ws.set_column(0, 0, 30)
    ws.hide()


def _lock_structure(path: Path) -> None:
    """Add <workbookProtection lockStructure="1"> to xl/workbook.xml (XlsxWriter has no API for it).

    The password hash is copied from the sheets' own protection element, which XlsxWriter wrote
    with the same legacy algorithm that the workbook element uses.
    """
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info.filename)) for info in source.infolist()]
    parts = dict((info.filename, data) for info, data in items)
    sheets = b"".join(data for name, data in parts.items() if name.startswith("xl/worksheets/"))
    hash_match = re.search(rb'<sheetProtection password="([0-9A-F]+)"', sheets)
    attributes = b' lockStructure="1"'
    if hash_match:
        attributes += b' workbookPassword="' + hash_match.group(1) + b'"'
    workbook = parts["xl/workbook.xml"]
    workbook, count = re.subn(rb"(<workbookPr[^>]*/>)", rb"\1<workbookProtection" + attributes + b"/>", workbook, count=1)
    if count != 1:  # pragma: no cover - XlsxWriter always writes workbookPr
        raise RuntimeError("xl/workbook.xml saknar workbookPr")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            target.writestr(info, workbook if info.filename == "xl/workbook.xml" else data)


def write_template(
    path: str | Path,
    spec: FormSpec | None = None,
    *,
    prefill: dict[str, Any] | None = None,
    answers: dict[str, Any] | None = None,
    password: str | None = None,
) -> Path:
    """Write the template to `path` atomically (temporary file, then rename) and return the path.

    `prefill` maps field keys to Python values (str, int, Decimal, date); those cells are
    written and locked. `answers` are written into open input cells as they are given (a string
    stays a string), which makes filled example reports without a spreadsheet program.
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
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".xlsx", dir=target.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        _build(tmp, spec, prefill, answers, password)
        _lock_structure(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _build(path: Path, spec: FormSpec, prefill: dict[str, Any], answers: dict[str, Any], password: str | None) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
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
    fmts = _Formats(wb)
    missing = count_missing(spec, {**answers, **prefill})
    cells = _CellValues(prefill, answers)
    instructions = wb.add_worksheet(spec.instructions_sheet)
    report = wb.add_worksheet(spec.report_sheet)
    budget = wb.add_worksheet(spec.budget_sheet)
    data = wb.add_worksheet(spec.data_sheet)
    _write_instructions(instructions, spec, fmts)
    _write_report_sheet(report, spec, fmts, cells, missing)
    _write_budget_sheet(budget, spec, fmts, cells, missing)
    _write_data_sheet(data, spec, fmts, missing)
    for field in spec.fields.values():
        wb.define_name(field.key, f"={field.ref}")
    wb.define_name(FORM_VERSION_NAME, f"='{spec.data_sheet}'!$B$1")
    wb.define_name(MISSING_COUNT_NAME, f"='{spec.data_sheet}'!$B$2")
    for ws in (instructions, report, budget, data):
        ws.protect(password or "", PROTECTION_OPTIONS)
    report.activate()
    wb.close()
