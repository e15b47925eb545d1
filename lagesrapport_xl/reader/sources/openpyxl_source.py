"""The reference source: openpyxl, not `data_only`, so formulas are seen as formulas (about 50 ms a
report). Slow, and the check on the fast one: tests demand the same WorkbookCells from both.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from typing import Any

from ...form.spec import VERSION_PROPERTY
from ..cells import WorkbookCells
from .shared import Wanted, as_stored, merged_names, parse_name_target, raw_cell, unreadable, wanted_names
from .workbook_xml import NO_XML, ArchiveParts, CellXml, Parts, Scans, scan_cells, workbook_parts

_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _openpyxl_value(cell: Any) -> tuple[Any, str | None, str | None]:
    """(value, formula, error) of an openpyxl cell loaded without data_only."""
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    value = cell.value
    if isinstance(value, ArrayFormula):
        return None, value.text if value.text.startswith("=") else "=" + value.text, None
    if isinstance(value, DataTableFormula):
        return None, "=", None
    if cell.data_type == "f":
        return None, value, None
    if cell.data_type == "e":
        return None, None, value
    if isinstance(value, str):  # openpyxl leaves OOXML escapes (_x000D_) in; calamine decodes them
        value = _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
    return value, None, None


def read_openpyxl(path: str, wanted: Wanted = None, parts: Parts | None = None,
                  content: bytes | None = None, scans: Scans | None = None) -> WorkbookCells:
    """openpyxl without data_only; a second, data_only load only when a wanted cell has a formula.

    The stored numbers of the wanted cells are read from the sheet XML as well (from `parts` when
    given, as read_fast does), so a number that no date format can show is given as the number,
    exactly as the fast source gives it (with safety's `scans`, as read_fast). `content` is
    accepted as read_fast accepts it; the reference source reads the file itself.
    """
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "extension is not supported": irrelevant for reading
            workbook = load_workbook(path, keep_links=False)
            sheets = list(workbook.sheetnames)
            hidden = {ws.title for ws in workbook.worksheets if ws.sheet_state in ("hidden", "veryHidden")}
            names = {
                name: parse_name_target(defined.attr_text or "")
                for name, defined in workbook.defined_names.items()
                if not name.startswith("_xlnm.")
            }
            version = next(
                (str(p.value) for p in workbook.custom_doc_props if p.name == VERSION_PROPERTY), None
            )
            worksheets = {ws.title for ws in workbook.worksheets}  # chart sheets hold no answers
            targets = wanted_names(names, wanted)
            found: dict[str, tuple[str, str, Any, str | None, str | None]] = {}
            for key, target in targets.items():
                if target.sheet in worksheets:
                    cell = workbook[target.sheet][target.cell]
                    found[key] = (target.sheet, target.cell, *_openpyxl_value(cell))
            merged: dict[str, str] = {}
            for sheet in {f[0] for f in found.values()}:
                ranges = [(r.min_row - 1, r.min_col - 1, r.max_row - 1, r.max_col - 1)
                          for r in workbook[sheet].merged_cells.ranges]
                merged.update(merged_names(targets, sheet, ranges))
            cached = _cached_values(path, found) if any(f[3] for f in found.values()) else {}
            numbers = _stored_numbers(path, found, parts, scans)
    except Exception:  # noqa: BLE001 - any damage is reported, never raised
        return unreadable()
    cells = {}
    for key, (sheet, address, value, formula, error) in found.items():
        if formula:
            value, error = cached.get(key, (None, None))
        xml = numbers.get(sheet, {}).get(address, NO_XML)
        if error == "#VALUE!" and xml.error is None and xml.number is not None:
            value, error = xml.number, None  # openpyxl's stand-in for a date it could not convert
        cells[key] = raw_cell(as_stored(xml.number, value), formula, error)
    return WorkbookCells(sheets=sheets, names=names, cells=cells, hidden_sheets=hidden, form_version=version,
                         merged=merged)


def _stored_numbers(
    path: str, found: dict[str, tuple[Any, ...]], parts: Parts | None, scans: Scans | None = None
) -> dict[str, dict[str, CellXml]]:
    """The sheet XML of the wanted cells: openpyxl turns stored numbers into dates without a way back."""
    by_sheet: dict[str, set[str]] = {}
    for sheet, address, *_rest in found.values():
        by_sheet.setdefault(sheet, set()).add(address)
    if parts is None:
        with zipfile.ZipFile(path) as archive:
            return _stored_numbers(path, found, ArchiveParts(archive))
    paths = workbook_parts(parts)[3]
    return {sheet: scan_cells(parts, paths[sheet], addresses, scans) for sheet, addresses in by_sheet.items()
            if sheet in paths}


def _cached_values(path: str, found: dict[str, tuple[Any, ...]]) -> dict[str, tuple[Any, str | None]]:
    """The stored results of formula cells (value, error), as a reader that does not calculate sees them."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, data_only=True, keep_links=False)
    results = {}
    for key, (sheet, address, _value, formula, _error) in found.items():
        if formula:
            cell = workbook[sheet][address]
            value, _, error = _openpyxl_value(cell)
            results[key] = (value, error)
    return results

