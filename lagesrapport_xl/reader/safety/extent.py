"""How far each sheet reaches, from its cells: python-calamine allocates the whole rectangle from A1
to the farthest cell, so a sheet past the limits is refused before any reader opens it; and how
many cells it has, since every cell costs time to scan (a sheet the form reads has at most a few
hundred; more is content pasted beside the form, refused as unused content). A quick
scan (sheet_scan.py) decides for the XML every writer produces; expat, a real XML parser, for
anything else, refusing malformed XML and any DTD.
"""

from __future__ import annotations

import functools
import re
import zipfile
from xml.parsers import expat

from ...common import catalogue as codes
from ...common.issues import Issue
from ..cells import column_number
from ..sheet_scan import SheetScan, scan_sheet
from .limits import Limits, count_text


class _Stop(Exception):
    """Ends an expat parse as soon as the answer is known."""


def _beyond(limits: Limits, rows: int, cols: int) -> bool:
    return rows > limits.max_sheet_rows or cols > limits.max_sheet_columns or rows * cols > limits.max_sheet_cells


def extent_problem(problem: Issue | tuple[int, int], part: str, limits: Limits, archive: zipfile.ZipFile) -> Issue:
    """An issue as it is, or (rows, cols) past a limit as the sheet's message."""
    return problem if isinstance(problem, Issue) else _sheet_problem(part, *problem, limits, archive)


def sheet_extent(data: bytes, limits: Limits, markup: int | None = None) -> Issue | tuple[int, int] | None:
    """None when the sheet's farthest cell is within the limits, else (rows, cols) or an Issue.

    The regular expressions decide for the XML every writer produces; anything they cannot vouch
    for is read by expat, which decides for every well-formed part.
    """
    return measure(data, limits, markup)[0]


def measure(
    data: bytes, limits: Limits, markup: int | None
) -> tuple[Issue | tuple[int, int] | None, SheetScan | None]:
    """sheet_extent's answer, and the scan it came from (None when expat decided)."""
    scanned = scan_sheet(data, markup)
    if scanned is None:
        return parsed_extent(data, limits), None
    if _beyond(limits, scanned.rows, scanned.cols):
        return (scanned.rows, scanned.cols), scanned
    return (too_many_cells(limits) if scanned.cells > limits.max_form_sheet_cells else None), scanned


def too_many_cells(limits: Limits) -> Issue:
    """More cells on a sheet the form reads than any report has: unused content (issue 21)."""
    return codes.UNUSED_CONTENT.issue(variant="cells", limit=count_text(limits.max_form_sheet_cells))


def parsed_extent(data: bytes, limits: Limits) -> Issue | tuple[int, int] | None:
    """sheet_extent by expat alone: None, (rows, cols) past a limit, or the Issue of a bad part."""
    return ParsedExtent(limits).feed(data, final=True)


class ParsedExtent:
    """The farthest cell as a real XML parser (expat) reads the `r` attributes of <row> and <c>,
    character references, comments and all; cells without `r` count on from the previous one, as
    spreadsheet readers place them. Malformed XML is refused: a lenient reader could find cells in
    it that no check saw."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.row = self.col = self.max_row = self.max_col = self.cells = 0
        self.problem: Issue | None = None
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self._start
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.EntityDeclHandler = self._doctype
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def feed(self, chunk: bytes, final: bool = False) -> Issue | tuple[int, int] | None:
        try:
            self.parser.Parse(chunk, final)
        except _Stop:
            pass
        except expat.ExpatError as exc:
            return codes.XML_DAMAGED.issue(reason=expat.ErrorString(exc.code), line=exc.lineno)
        if self.problem is not None:
            return self.problem
        return (self.max_row, self.max_col) if _beyond(self.limits, self.max_row, self.max_col) else None

    def _doctype(self, *_: object) -> None:
        self.problem = codes.XML_DTD.issue()
        raise _Stop

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        if name != "c" and name != "row":  # elements as written, prefixes included (no namespace pass)
            if not name.endswith((":c", ":row")):
                return
            name = name.rpartition(":")[2]
        row = col = 0
        for key, value in attributes.items():  # every r a parser might use; the farthest counts
            if key != "r" and key[-2:] != ":r":
                continue
            ref = _CELL_REF.fullmatch(value)
            if ref is None:
                self.problem = codes.XML_UNUSUAL.issue()
                raise _Stop
            row = max(row, int(ref.group(2) or 0))
            col = max(col, column_number(ref.group(1) or ""))
        if name == "row":
            self.row, self.col = row or self.row + 1, 0
            return
        self.col = col or self.col + 1
        self.row = row or self.row
        if self.row > self.max_row or self.col > self.max_col:
            self.max_row, self.max_col = max(self.row, self.max_row), max(self.col, self.max_col)
            if _beyond(self.limits, self.max_row, self.max_col):
                raise _Stop  # a hostile sheet can be long: stop at the first cell past a limit
        self.cells += 1
        if self.cells > self.limits.max_form_sheet_cells:  # and full: stop at the first cell too many
            self.problem = too_many_cells(self.limits)
            raise _Stop


_CELL_REF = re.compile(r"([A-Za-z]{1,3})?([0-9]{1,7})?")


@functools.lru_cache(maxsize=4096)
def _sheet_problem(part: str, rows: int, cols: int, limits: Limits, archive: zipfile.ZipFile) -> Issue:
    sheet = _sheet_names_by_part(archive).get(part)
    return codes.SHEET_TOO_LARGE.issue(
        sheet=sheet, variant="named" if sheet else "", sheet_name=sheet,
        rows=count_text(rows), cols=count_text(cols),
        max_rows=count_text(limits.max_sheet_rows), max_cols=count_text(limits.max_sheet_columns),
        max_cells=count_text(limits.max_sheet_cells),
    )


def _sheet_names_by_part(archive: zipfile.ZipFile) -> dict[str, str]:
    """'xl/worksheets/sheet2.xml' → 'Lägesrapport', for the message only (defusedxml refuses any DTD)."""
    from defusedxml import ElementTree

    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except Exception:  # noqa: BLE001 - the name is only for the message
        return {}
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    relationship = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    names = {}
    for sheet in workbook.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"):
        target = targets.get(sheet.get(relationship), "")
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        names[part] = sheet.get("name", "")
    return names
