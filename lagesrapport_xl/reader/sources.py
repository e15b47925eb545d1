"""Cell sources: the raw value of every named cell of a workbook, before any parsing.

Two sources read a file into the same `WorkbookCells` (cells.py), so the checking code never
knows where values came from and tests can demand identical results from both:

* `read_fast` – python-calamine for values (2–3 ms a report) plus the small XML parts read with
  defusedxml: defined names and sheets from xl/workbook.xml, the version property from
  docProps/custom.xml, and the formula, error and stored number of each named cell, found in
  the sheet XML (calamine gives a formula's cached value and an error cell as "").
* `read_openpyxl` – openpyxl, not `data_only`, so formulas are seen as formulas. The slow
  reference (about 50 ms), and the check on the fast one.

Both take the zip parts safety has already inflated and checked (`parts`, from the reader), so
no part is inflated twice; what every report of a batch shares (workbook.xml, the names in it,
cell addresses) is parsed once and remembered by its bytes. A source raises nothing for a
damaged file: it returns WorkbookCells with one issue.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import posixpath
import re
import warnings
import zipfile
from collections.abc import Collection, Mapping
from typing import Any, Callable, NamedTuple

from defusedxml import ElementTree as SafeET
from python_calamine import CalamineWorkbook

from ..common.issues import Issue, Severity
from ..form.spec import VERSION_PROPERTY, col_letter
from .cells import CellValue, NameTarget, RawCell, WorkbookCells, cell_index, normalise_number
from .sheet_scan import SheetScan, scan_sheet

Wanted = Collection[str] | None  # defined names to read (None: every single-cell name)

UNREADABLE_MESSAGE = (
    "Filen kunde inte läsas: den är skadad eller inte en riktig Excel-arbetsbok. Öppna den i Excel "
    "eller LibreOffice och spara den igen: Arkiv → Spara som → Excel-arbetsbok (.xlsx)."
)

# --- shared rules: both sources give every value through these ---------------------------------

_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
_SHEET_REF = re.compile(r"=?\s*(?:'((?:[^']|'')+)'|([^'!]+))!(.+)", re.DOTALL)
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


@functools.lru_cache(maxsize=4096)  # every report of a batch has the same ~90 names
def parse_name_target(text: str) -> NameTarget:
    """'Lägesrapport'!$C$5 → sheet and cell; a range, a constant or #REF! keeps cell None."""
    text = (text or "").strip()
    match = _SHEET_REF.fullmatch(text)
    if not match:
        return NameTarget(text=text)
    sheet = match.group(1).replace("''", "'") if match.group(1) is not None else match.group(2).strip()
    cell = _CELL_REF.fullmatch(match.group(3).strip())
    if not cell:
        return NameTarget(text=text, sheet=sheet)
    return NameTarget(text=text, sheet=sheet, cell=f"{cell.group(1).upper()}{int(cell.group(2))}")


def clean_value(value: Any) -> CellValue:
    """One representation per value: '' is empty, whole floats are int, midnight is a date."""
    if value == "" or value is None:
        return None
    if isinstance(value, dt.datetime) and value.time() == dt.time() and value.tzinfo is None:
        return value.date()
    return normalise_number(value)


# Excel shows numbers from 0 to 2 958 465 in a date-formatted cell as dates (1900-01-00 …
# 9999-12-31); outside that range it shows ##### and the readers disagree (calamine gives a time
# or the number, openpyxl a date of 1899 or #VALUE!). Inside it they round milliseconds
# differently. Both sources therefore derive dates and times from the stored number, one way.
_LAST_DATE_SERIAL = 2_958_465
_MS_PER_DAY = 86_400_000


def as_stored(number: float | None, value: Any) -> Any:
    """The cell's value by one rule from the number the file stores (None: not a numeric cell).

    A number no date format can show is the number; a date or time (as the library saw the
    cell's format) is recomputed from it to the millisecond, with Excel's 1900 calendar.
    """
    if number is None:
        return value
    if not 0 <= number <= _LAST_DATE_SERIAL + 1:  # also NaN and infinity, which compare false
        return number
    days, millis = divmod(round(number * _MS_PER_DAY), _MS_PER_DAY)
    if days > _LAST_DATE_SERIAL:
        return number
    if not isinstance(value, (dt.date, dt.time)):
        return value
    time_of_day = dt.timedelta(milliseconds=millis)
    if isinstance(value, dt.time):
        return (dt.datetime.min + time_of_day).time()
    if days == 60:  # Excel's 1900-02-29, a day that never was: both libraries show 1900-02-28
        day = dt.datetime(1900, 2, 28)
    else:  # serial 1 is 1900-01-01; from serial 61 on, the fictitious 29 February shifts the count
        day = dt.datetime(1899, 12, 31 if days < 60 else 30) + dt.timedelta(days=days)
    return day + time_of_day


def raw_cell(value: Any, formula: str | None, error: str | None) -> RawCell:
    """The RawCell both sources give. An error cell has no value, and '=#N/A' (LibreOffice's way
    of storing a typed #N/A, which has no error constants) is the error itself, not a formula."""
    if error is not None and formula is not None and formula.strip().upper() == "=" + error.upper():
        formula = None
    return RawCell(None if error is not None else clean_value(value), formula, error)


def _wanted_names(names: dict[str, NameTarget], wanted: Wanted) -> dict[str, NameTarget]:
    """The single-cell names to read, matched without regard to case as Excel does."""
    if wanted is None:
        return {k: t for k, t in names.items() if t.cell}
    lowered = {k.lower(): k for k in names}
    chosen = {}
    for key in wanted:
        actual = lowered.get(key.lower())
        if actual is not None and names[actual].cell:
            chosen[actual] = names[actual]
    return chosen


_cell_position = functools.lru_cache(maxsize=4096)(cell_index)  # the same addresses in every report


def _merged_names(
    targets: dict[str, NameTarget], sheet: str, ranges: list[tuple[int, int, int, int]]
) -> dict[str, str]:
    """Names whose cell lies in a merged range of `sheet` (0-based first row, col, last row, col)."""
    merged: dict[str, str] = {}
    if not ranges:
        return merged
    for key, target in targets.items():
        if target.sheet != sheet:
            continue
        row, col = _cell_position(target.cell)
        for first_row, first_col, last_row, last_col in ranges:
            if first_row <= row <= last_row and first_col <= col <= last_col:
                merged[key] = f"{col_letter(first_col)}{first_row + 1}:{col_letter(last_col)}{last_row + 1}"
    return merged


def _failed(exc: BaseException) -> WorkbookCells:
    """One issue, the same from both sources (the libraries' exceptions differ, the file's fault does not)."""
    issue = Issue(Severity.ERROR, UNREADABLE_MESSAGE, "unreadable_file")
    return WorkbookCells(sheets=[], names={}, cells={}, issues=[issue])


# --- the fast source: calamine + defusedxml ----------------------------------------------------

_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_STRICT_REL_ID = "{http://purl.oclc.org/ooxml/officeDocument/relationships}id"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


Parts = Mapping[str, bytes]  # zip part name → its bytes, inflated
Scans = Mapping[str, SheetScan]  # sheet part name → its tags, as safety's scan found them


class _ArchiveParts:
    """An open zip archive read like the parts safety hands over (a missing part: KeyError)."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.names = set(archive.namelist())

    def __getitem__(self, name: str) -> bytes:
        return self.archive.read(name)

    def __contains__(self, name: object) -> bool:
        return name in self.names


def _workbook_parts(
    parts: Parts | zipfile.ZipFile,
) -> tuple[list[str], set[str], dict[str, NameTarget], dict[str, str]]:
    """Sheets in order, hidden sheets, workbook-scope names and sheet name → part path."""
    if isinstance(parts, zipfile.ZipFile):
        parts = _ArchiveParts(parts)
    sheets, hidden, names, paths = _parse_workbook(parts["xl/workbook.xml"], parts["xl/_rels/workbook.xml.rels"])
    return list(sheets), set(hidden), dict(names), dict(paths)


@functools.lru_cache(maxsize=16)  # a batch's reports share the template's workbook.xml byte for byte
def _parse_workbook(
    workbook: bytes, rels: bytes
) -> tuple[tuple[str, ...], frozenset[str], dict[str, NameTarget], dict[str, str]]:
    """_workbook_parts from the two parts' bytes (callers get copies: the cache keeps the originals)."""
    root = SafeET.fromstring(workbook)
    rels_root = SafeET.fromstring(rels)
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels_root if _local(rel.tag) == "Relationship"}
    sheets: list[str] = []
    hidden: set[str] = set()
    parts: dict[str, str] = {}
    names: dict[str, NameTarget] = {}
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "sheet":
            name = element.get("name", "")
            sheets.append(name)
            if element.get("state") in ("hidden", "veryHidden"):
                hidden.add(name)
            target = targets.get(element.get(_REL_ID) or element.get(_STRICT_REL_ID), "")
            if "worksheets/" in target:  # chart sheets and dialog sheets hold no answers
                path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
                parts[name] = posixpath.normpath(path)
        elif tag == "definedName" and element.get("localSheetId") is None:
            name = element.get("name", "")
            if name and not name.startswith("_xlnm."):
                names[name] = parse_name_target(element.text or "")
    return tuple(sheets), frozenset(hidden), names, parts


def _custom_property(parts: Parts, name: str) -> str | None:
    try:
        data = parts["docProps/custom.xml"]
    except KeyError:
        return None
    return _property_value(data, name)


@functools.lru_cache(maxsize=16)  # the same few bytes in every report of a batch
def _property_value(data: bytes, name: str) -> str | None:
    for prop in SafeET.fromstring(data):
        if _local(prop.tag) == "property" and prop.get("name") == name:
            for value in prop:
                return value.text or ""
    return None


class _CellXml(NamedTuple):  # a tuple: made for every wanted cell of every report
    """What the sheet XML says about one cell, beyond what calamine gives."""

    formula: str | None = None
    error: str | None = None
    number: float | None = None  # the stored number of a numeric cell, before any date format


_NO_XML = _CellXml()  # a cell the sheet XML does not have, or says no more about (the one such value)


_NOT_XML = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])  # bytes no XML document may contain


def _well_formed_text(data: bytes) -> bytes:
    """calamine reads a raw control character that XML (and Excel, and openpyxl) refuse; so do we."""
    if len(data.translate(None, _NOT_XML)) != len(data):  # deleting them changed something
        raise ValueError("control character in XML")
    return data


def _scan_cells(
    parts: Parts, part: str, addresses: Collection[str], scans: Scans | None
) -> dict[str, _CellXml]:
    """Formula, error and stored number of each wanted cell of one sheet's XML. `scans`: the scans
    safety made of these bytes (FileCheck.sheet_scans; a sheet it left to expat is not there);
    None when safety did not look, and the sheet is scanned here."""
    data = _well_formed_text(parts[part])
    scanned = scans.get(part) if scans is not None else scan_sheet(data)
    found = _from_tags(data, scanned.tags, addresses) if scanned is not None else None
    if found is None:
        found = _scan_quick(data, addresses)
    return found if found is not None else _scan_full(data, addresses)


_ANY_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*+:)?c[\s/>]")
_CELL_ELEMENT = re.compile(
    rb'<((?:[A-Za-z_][\w.-]*:)?)c\s[^>]*?\br="([A-Z]{1,3}[0-9]{1,7})"[^>]*?(?:/>|>.*?</\1c>)', re.DOTALL
)

# The cell as Excel, LibreOffice and XlsxWriter write a plain one: r, s and t in this order, and
# a stored value or nothing. Such a cell needs none of the searches below.
_PLAIN_CELL = re.compile(
    rb'<c r="[A-Z]{1,3}[0-9]{1,7}"(?: s="[0-9]+")?(?: t="([a-z]+)")?(?:/>|><v>([^<&]*)</v></c>)'
)
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
_KIND_ATTR = re.compile(rb'\st="([^"]*)"')
_VALUE_TEXT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>([^<]*)</")


def _from_tags(data: bytes, tags: list[tuple[bytes, ...]], addresses: Collection[str]) -> dict[str, _CellXml] | None:
    """The wanted cells from the sheet's tags as the shared scan found them (sheet_scan): a plain
    cell from its tag alone, one with more in it (a formula, an attribute more) as an element of
    its own. None for an address twice, or a cell that needs the whole sheet (a shared formula)."""
    cells = [tag for tag in tags if tag[0]]  # '' column: a <row> tag
    index = {tag[0] + tag[1]: tag for tag in cells}
    if len(index) != len(cells):
        return None
    found: dict[str, _CellXml] = {}
    for address in addresses:
        key = address.encode()
        tag = index.get(key)
        if tag is None:
            continue
        _, _, kind, other, ending, stored, _ = tag
        if not other and ending != b">":
            found[address] = _plain_values(kind, stored if ending != b"/>" else None)
            continue
        # The scan vouched that every <c of the sheet has r="…" first, inside <sheetData>, and that
        # each address is there once: the first '<c r="…"' is this cell.
        match = _CELL_ELEMENT.match(data, data.find(b'<c r="' + key + b'"'))
        facts = _element_facts(data, match) if match else None
        if facts is None:
            return None
        found[address] = facts
    return found


@functools.lru_cache(maxsize=4096)  # a batch repeats the same kinds and stored numbers
def _plain_values(kind: bytes, stored: bytes | None) -> _CellXml:
    return _cell_values(kind.decode() if kind else "n", stored.decode() if stored is not None else None, None)


def _scan_quick(data: bytes, addresses: set[str]) -> dict[str, _CellXml] | None:
    """Only the wanted cells, located by a pattern and each parsed on its own (0.5 ms, not 3 ms).

    Works on sheets as Excel, LibreOffice and openpyxl write them: every cell once, with its
    address in double quotes. Anything else (a cell without an address, an address twice, CDATA,
    a shared formula that needs its master cell) returns None: the whole sheet is parsed instead.
    """
    if b"<![CDATA[" in data:
        return None
    matches = list(_CELL_ELEMENT.finditer(data))
    elements = {match.group(2): match for match in matches}  # by the address's bytes (ASCII)
    if not len(elements) == len(matches) == len(_ANY_CELL.findall(data)):  # each cell once, each found
        return None
    found: dict[str, _CellXml] = {}
    for address in addresses:
        match = elements.get(address.encode())
        if match is None:
            continue
        facts = _element_facts(data, match)
        if facts is None:
            return None
        found[address] = facts
    return found


def _element_facts(data: bytes, match: re.Match[bytes]) -> _CellXml | None:
    """One cell element found by _CELL_ELEMENT; None when it needs the whole sheet (a shared formula)."""
    snippet = match.group(0)
    plain = _PLAIN_CELL.fullmatch(snippet)
    if plain:
        kind, stored = plain.groups()
        return _cell_values(kind.decode() if kind else "n", stored.decode() if stored is not None else None, None)
    if not _FORMULA_TAG.search(snippet) and b"&" not in snippet:  # the common case, no parsing
        kind = _KIND_ATTR.search(snippet[: snippet.find(b">")])
        stored = _VALUE_TEXT.search(snippet)
        return _cell_values(kind.group(1).decode() if kind else "n", stored.group(1).decode() if stored else None,
                            None)
    prefix = match.group(1)[:-1]
    if prefix:  # declare the prefix so the cell parses alone
        snippet = b"<w xmlns:" + prefix + b'="' + _namespace_of(data, prefix) + b'">' + snippet + b"</w>"
    element = SafeET.fromstring(snippet)
    cell = element if _local(element.tag) == "c" else element[0]
    formula_el = next((child for child in cell if _local(child.tag) == "f"), None)
    if formula_el is not None and formula_el.get("t") == "shared" and not formula_el.text:
        return None  # the formula text is in another cell
    return _cell_xml(cell, formula_el)


def _namespace_of(data: bytes, prefix: bytes) -> bytes:
    match = re.search(rb"xmlns:" + re.escape(prefix) + rb'="([^"]*)"', data)
    return match.group(1) if match else b"urn:unknown"


def _cell_xml(cell: Any, formula_el: Any) -> _CellXml:
    value_el = next((child for child in cell if _local(child.tag) == "v"), None)
    formula = None if formula_el is None else "=" + (formula_el.text or "")
    return _cell_values(cell.get("t", "n"), value_el.text if value_el is not None else None, formula)


def _cell_values(kind: str, stored: str | None, formula: str | None) -> _CellXml:
    """The facts of one cell; _NO_XML itself when there are none (a text: calamine's value is all)."""
    error = (stored or "") if kind == "e" else None
    number = _number(stored) if kind == "n" else None
    if formula is None and error is None and number is None:
        return _NO_XML
    return _CellXml(formula=formula, error=error, number=number)


def _scan_full(data: bytes, addresses: set[str]) -> dict[str, _CellXml]:
    """Every cell of the sheet, in order: cells without an address and shared formulas too."""
    found: dict[str, _CellXml] = {}
    shared: dict[str, tuple[str, str]] = {}  # si → (master address, formula text)
    pending: list[tuple[str, str]] = []  # (address, si) of wanted cells using a shared formula
    row, col = 0, 0
    for event, element in SafeET.iterparse(io.BytesIO(data), events=("start", "end")):
        tag = _local(element.tag)
        if event == "start":
            if tag == "row":
                row, col = int(element.get("r") or row + 1), 0
            elif tag == "c":
                given = element.get("r")
                col = cell_index(given)[1] + 1 if given else col + 1
            continue
        if tag == "row":
            element.clear()
        if tag != "c":
            continue
        address = element.get("r") or f"{col_letter(col - 1)}{row}"
        formula_el = next((child for child in element if _local(child.tag) == "f"), None)
        if formula_el is not None and formula_el.get("t") == "shared" and formula_el.get("si") is not None:
            if formula_el.text:
                shared[formula_el.get("si")] = (address, formula_el.text)
            elif address in addresses:
                pending.append((address, formula_el.get("si")))
        if address in addresses:
            found[address] = _cell_xml(element, formula_el)
    for address, si in pending:
        master = shared.get(si)
        if master:
            found[address] = found[address]._replace(formula=_translate(master[1], master[0], address))
    return found


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _translate(formula: str, origin: str, destination: str) -> str:
    """A shared formula as it reads in another cell (openpyxl's translator; rare, so imported late)."""
    from openpyxl.formula.translate import Translator

    return Translator("=" + formula, origin=origin).translate_formula(destination)


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
                found = _xml_facts(_ArchiveParts(archive), wanted, None)
        else:
            found = _xml_facts(parts, wanted, scans)
    except Exception as exc:  # noqa: BLE001 - any damage is reported, never raised
        return _failed(exc)
    sheets, hidden, names, version, targets, by_sheet, scanned = found
    try:
        cells, merged = _calamine_cells(path if content is None else io.BytesIO(content), by_sheet, scanned, targets)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - calamine refused or panicked (PanicException is no Exception)
        return read_openpyxl(path, wanted)  # the reference source decides about this file
    return WorkbookCells(sheets=sheets, names=names, cells=cells, hidden_sheets=hidden, form_version=version,
                         merged=merged)


def _xml_facts(parts: Parts, wanted: Wanted, scans: Scans | None) -> tuple[Any, ...]:
    """What read_fast takes from the XML: sheets, names, version, and each wanted cell's XML."""
    workbook, rels = parts["xl/workbook.xml"], parts["xl/_rels/workbook.xml.rels"]
    sheets, hidden, names, paths = _workbook_parts(parts)
    version = _custom_property(parts, VERSION_PROPERTY)
    targets, by_sheet = _placed(workbook, rels, None if wanted is None else tuple(wanted))
    scanned = {sheet: _scan_cells(parts, paths[sheet], addresses, scans) for sheet, addresses in by_sheet.items()}
    if "xl/sharedStrings.xml" in parts:
        _well_formed_text(parts["xl/sharedStrings.xml"])
    return sheets, hidden, names, version, targets, by_sheet, scanned


@functools.lru_cache(maxsize=16)  # the same for every report of a batch
def _placed(
    workbook: bytes, rels: bytes, wanted: tuple[str, ...] | None
) -> tuple[dict[str, NameTarget], dict[str, dict[str, list[str]]]]:
    """The wanted names' targets, and sheet → address → names for those on a worksheet.
    Shared by the reports of a batch: callers only read them."""
    _, _, names, paths = _parse_workbook(workbook, rels)
    targets = _wanted_names(names, wanted)
    by_sheet: dict[str, dict[str, list[str]]] = {}
    for key, target in targets.items():
        if target.sheet in paths:
            by_sheet.setdefault(target.sheet, {}).setdefault(target.cell, []).append(key)
    return targets, by_sheet


def _calamine_cells(
    file: str | io.BytesIO, by_sheet: dict[str, dict[str, list[str]]], scanned: dict[str, dict[str, _CellXml]],
    targets: dict[str, NameTarget],
) -> tuple[dict[str, RawCell], dict[str, str]]:
    cells: dict[str, RawCell] = {}
    merged: dict[str, str] = {}
    opened = CalamineWorkbook.from_path(file) if isinstance(file, str) else CalamineWorkbook.from_filelike(file)
    with opened as workbook:
        for sheet, addresses in by_sheet.items():
            data = workbook.get_sheet_by_name(sheet)
            rows = data.to_python(skip_empty_area=False)
            facts = scanned[sheet]
            height = len(rows)
            for address, keys in addresses.items():
                row, col = _cell_position(address)
                line = rows[row] if row < height else ()
                value = line[col] if col < len(line) else None
                xml = facts.get(address, _NO_XML)
                if xml is _NO_XML:  # a plain value: what raw_cell(as_stored(…)) gives it
                    cell = RawCell(clean_value(value))
                else:
                    cell = raw_cell(as_stored(xml.number, value), xml.formula, xml.error)
                for key in keys:
                    cells[key] = cell
            if data.merged_cell_ranges:
                ranges = [(r1, c1, r2, c2) for (r1, c1), (r2, c2) in data.merged_cell_ranges]
                merged.update(_merged_names({k: targets[k] for keys in addresses.values() for k in keys}, sheet,
                                            ranges))
    return cells, merged


# --- the reference source: openpyxl ------------------------------------------------------------


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
            targets = _wanted_names(names, wanted)
            found: dict[str, tuple[str, str, Any, str | None, str | None]] = {}
            for key, target in targets.items():
                if target.sheet in worksheets:
                    cell = workbook[target.sheet][target.cell]
                    found[key] = (target.sheet, target.cell, *_openpyxl_value(cell))
            merged: dict[str, str] = {}
            for sheet in {f[0] for f in found.values()}:
                ranges = [(r.min_row - 1, r.min_col - 1, r.max_row - 1, r.max_col - 1)
                          for r in workbook[sheet].merged_cells.ranges]
                merged.update(_merged_names(targets, sheet, ranges))
            cached = _cached_values(path, found) if any(f[3] for f in found.values()) else {}
            numbers = _stored_numbers(path, found, parts, scans)
    except Exception as exc:  # noqa: BLE001 - any damage is reported, never raised
        return _failed(exc)
    cells = {}
    for key, (sheet, address, value, formula, error) in found.items():
        if formula:
            value, error = cached.get(key, (None, None))
        xml = numbers.get(sheet, {}).get(address, _NO_XML)
        if error == "#VALUE!" and xml.error is None and xml.number is not None:
            value, error = xml.number, None  # openpyxl's stand-in for a date it could not convert
        cells[key] = raw_cell(as_stored(xml.number, value), formula, error)
    return WorkbookCells(sheets=sheets, names=names, cells=cells, hidden_sheets=hidden, form_version=version,
                         merged=merged)


def _stored_numbers(
    path: str, found: dict[str, tuple[Any, ...]], parts: Parts | None, scans: Scans | None = None
) -> dict[str, dict[str, _CellXml]]:
    """The sheet XML of the wanted cells: openpyxl turns stored numbers into dates without a way back."""
    by_sheet: dict[str, set[str]] = {}
    for sheet, address, *_rest in found.values():
        by_sheet.setdefault(sheet, set()).add(address)
    if parts is None:
        with zipfile.ZipFile(path) as archive:
            return _stored_numbers(path, found, _ArchiveParts(archive))
    paths = _workbook_parts(parts)[3]
    return {sheet: _scan_cells(parts, paths[sheet], addresses, scans) for sheet, addresses in by_sheet.items()
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


SOURCES: dict[str, Callable[..., WorkbookCells]] = {"fast": read_fast, "openpyxl": read_openpyxl}
