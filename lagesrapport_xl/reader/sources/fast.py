"""The fast source, the default: python-calamine's values, workbook_xml.py for names, the version
and each named cell's formula, error and stored number (calamine gives a formula's cached value
and an error cell as ""). The values are decoded from safety's sheet scan by calamine's rules
(cell_values.py, about 0.5 ms a report) unless the file is written in a way those rules leave
to calamine (1.1 ms). A file calamine refuses or panics on is handed to the openpyxl source, the
reference, which decides about it.
"""

from __future__ import annotations

import functools
import io
import zipfile
from typing import Any

from python_calamine import CalamineWorkbook

from ...form.spec import VERSION_PROPERTY
from ..cells import NameTarget, RawCell, WorkbookCells
from .cell_values import Decoded, named_values
from .openpyxl_source import read_openpyxl
from .shared import Wanted, as_stored, cell_position, clean_value, merged_names, raw_cell, unreadable, wanted_names
from .workbook_xml import (
    NO_XML,
    ArchiveParts,
    CellXml,
    Parts,
    Scans,
    custom_property,
    parse_workbook,
    scan_cells,
    well_formed_text,
    workbook_parts,
)


_decode_values = True  # False: calamine gives every value (tests compare both ways)


def read_fast(path: str, wanted: Wanted = None, parts: Parts | None = None,
              content: bytes | None = None, scans: Scans | None = None) -> WorkbookCells:
    """calamine values, defusedxml names, formulas and errors: the default source.

    `parts`: the file's zip parts as safety inflated and checked them (FileCheck.parts), so that
    they are not inflated again; without them the archive is opened here. `content`: the file's
    bytes as safety read them (FileCheck.content), so that calamine parses those very bytes.
    `scans`: safety's scans of the sheets among those parts (FileCheck.sheet_scans).
    """
    try:
        if parts is None:
            with zipfile.ZipFile(path) as archive:
                found = _xml_facts(ArchiveParts(archive), wanted, None)
        else:
            found = _xml_facts(parts, wanted, scans)
    except Exception:  # noqa: BLE001 - any damage is reported, never raised
        return unreadable()
    sheets, hidden, names, version, (targets, by_sheet, merged_memo), scanned, paths = found
    decoded = None
    if parts is not None and scans is not None and _decode_values and len(set(sheets)) == len(sheets):
        try:  # calamine's values without calamine
            decoded = named_values(parts, {sheet: (paths[sheet], list(by_sheet[sheet])) for sheet in by_sheet}, scans)
        except Exception:  # noqa: BLE001 - whatever the decoder did not foresee, calamine reads
            decoded = None
    if decoded is None:
        try:
            decoded = _calamine_values(path if content is None else io.BytesIO(content), by_sheet)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: BLE001 - calamine refused or panicked (PanicException is no Exception)
            return read_openpyxl(path, wanted)  # the reference source decides about this file
    cells, merged = _named_cells(decoded, by_sheet, scanned, targets, merged_memo)
    return WorkbookCells(sheets=sheets, names=names, cells=cells, hidden_sheets=hidden, form_version=version,
                         merged=merged)


def _xml_facts(parts: Parts, wanted: Wanted, scans: Scans | None) -> tuple[Any, ...]:
    """What read_fast takes from the XML: sheets, names, version, and each wanted cell's XML."""
    workbook, rels = parts["xl/workbook.xml"], parts["xl/_rels/workbook.xml.rels"]
    sheets, hidden, names, paths = workbook_parts(parts)
    version = custom_property(parts, VERSION_PROPERTY)
    placed = _placed(workbook, rels, None if wanted is None else tuple(wanted))
    scanned = {sheet: scan_cells(parts, paths[sheet], addresses, scans) for sheet, addresses in placed[1].items()}
    if "xl/sharedStrings.xml" in parts:
        well_formed_text(parts["xl/sharedStrings.xml"])
    return sheets, hidden, names, version, placed, scanned, paths


@functools.lru_cache(maxsize=16)  # the same for every report of a batch
def _placed(
    workbook: bytes, rels: bytes, wanted: tuple[str, ...] | None
) -> tuple[dict[str, NameTarget], dict[str, dict[str, list[str]]], dict[Any, dict[str, str]]]:
    """The wanted names' targets, sheet → address → names for those on a worksheet, and a memo of
    the merged names by sheet and merged ranges (_named_cells fills it: what merged_names makes
    of these targets). Shared by the reports of a batch: callers only read the first two."""
    _, _, names, paths = parse_workbook(workbook, rels)
    targets = wanted_names(names, wanted)
    by_sheet: dict[str, dict[str, list[str]]] = {}
    for key, target in targets.items():
        if target.sheet in paths:
            by_sheet.setdefault(target.sheet, {}).setdefault(target.cell, []).append(key)
    return targets, by_sheet, {}


def _calamine_values(file: str | io.BytesIO, by_sheet: dict[str, dict[str, list[str]]]) -> Decoded:
    """What cell_values.named_values gives, from calamine: each wanted address's value, and the
    sheet's merged ranges."""
    decoded: Decoded = {}
    opened = CalamineWorkbook.from_path(file) if isinstance(file, str) else CalamineWorkbook.from_filelike(file)
    with opened as workbook:
        for sheet, addresses in by_sheet.items():
            data = workbook.get_sheet_by_name(sheet)
            rows = data.to_python(skip_empty_area=False)
            height = len(rows)
            found = {}
            for address in addresses:
                row, col = cell_position(address)
                line = rows[row] if row < height else ()
                found[address] = line[col] if col < len(line) else None
            ranges = [(r1, c1, r2, c2) for (r1, c1), (r2, c2) in data.merged_cell_ranges or ()]
            decoded[sheet] = (found, ranges)
    return decoded


def _named_cells(
    decoded: Decoded, by_sheet: dict[str, dict[str, list[str]]], scanned: dict[str, dict[str, CellXml]],
    targets: dict[str, NameTarget], memo: dict[Any, dict[str, str]],
) -> tuple[dict[str, RawCell], dict[str, str]]:
    """Each wanted name's RawCell from its cell's value and XML facts, and its merged range (by
    `memo`, _placed's for these targets: a batch's sheets have the template's merged ranges)."""
    cells: dict[str, RawCell] = {}
    merged: dict[str, str] = {}
    for sheet, addresses in by_sheet.items():
        found, ranges = decoded[sheet]
        facts = scanned[sheet]
        for address, keys in addresses.items():
            value = found[address]
            xml = facts.get(address, NO_XML)
            if xml is NO_XML:  # a plain value: what raw_cell(as_stored(…)) gives it
                cell = RawCell(clean_value(value))
            else:
                cell = raw_cell(as_stored(xml.number, value), xml.formula, xml.error)
            for key in keys:
                cells[key] = cell
        if ranges:
            key = (sheet, tuple(ranges))
            names = memo.get(key)
            if names is None:
                if len(memo) >= 64:
                    memo.clear()
                names = memo[key] = merged_names({k: targets[k] for keys in addresses.values() for k in keys},
                                                 sheet, ranges)
            merged.update(names)
    return cells, merged
