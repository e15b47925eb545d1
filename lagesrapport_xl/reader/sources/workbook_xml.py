"""What the fast source reads from the workbook's XML itself, with defusedxml: the sheets, defined
names and hidden sheets in xl/workbook.xml, the version property in docProps/custom.xml, and for
each named cell what calamine does not give: its formula, its error and the number it stores.
The openpyxl source reads the stored numbers here too, so that both derive dates alike.

The named cells are found with a pattern and parsed one by one (or taken from the tags safety's
scan already found, sheet_scan.py); a sheet written in any other way is parsed in full.
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import zipfile
from collections.abc import Collection, Mapping
from typing import Any, NamedTuple

from defusedxml import ElementTree as SafeET

from ...form.spec import col_letter
from ..cells import NameTarget, cell_index
from ..sheet_scan import SheetScan, scan_sheet
from .shared import parse_name_target

_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_STRICT_REL_ID = "{http://purl.oclc.org/ooxml/officeDocument/relationships}id"


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


Parts = Mapping[str, bytes]  # zip part name → its bytes, inflated
Scans = Mapping[str, SheetScan]  # sheet part name → its tags, as safety's scan found them


class ArchiveParts:
    """An open zip archive read like the parts safety hands over (a missing part: KeyError)."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.names = set(archive.namelist())

    def __getitem__(self, name: str) -> bytes:
        return self.archive.read(name)

    def __contains__(self, name: object) -> bool:
        return name in self.names


def workbook_parts(
    parts: Parts | zipfile.ZipFile,
) -> tuple[list[str], set[str], dict[str, NameTarget], dict[str, str]]:
    """Sheets in order, hidden sheets, workbook-scope names and sheet name → part path."""
    if isinstance(parts, zipfile.ZipFile):
        parts = ArchiveParts(parts)
    sheets, hidden, names, paths = parse_workbook(parts["xl/workbook.xml"], parts["xl/_rels/workbook.xml.rels"])
    return list(sheets), set(hidden), dict(names), dict(paths)


@functools.lru_cache(maxsize=16)  # a batch's reports share the template's workbook.xml byte for byte
def parse_workbook(
    workbook: bytes, rels: bytes
) -> tuple[tuple[str, ...], frozenset[str], dict[str, NameTarget], dict[str, str]]:
    """workbook_parts from the two parts' bytes (callers get copies: the cache keeps the originals)."""
    root = SafeET.fromstring(workbook)
    rels_root = SafeET.fromstring(rels)
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels_root if local_name(rel.tag) == "Relationship"}
    sheets: list[str] = []
    hidden: set[str] = set()
    parts: dict[str, str] = {}
    names: dict[str, NameTarget] = {}
    for element in root.iter():
        tag = local_name(element.tag)
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


def custom_property(parts: Parts, name: str) -> str | None:
    try:
        data = parts["docProps/custom.xml"]
    except KeyError:
        return None
    return _property_value(data, name)


@functools.lru_cache(maxsize=16)  # the same few bytes in every report of a batch
def _property_value(data: bytes, name: str) -> str | None:
    for prop in SafeET.fromstring(data):
        if local_name(prop.tag) == "property" and prop.get("name") == name:
            for value in prop:
                return value.text or ""
    return None


class CellXml(NamedTuple):  # a tuple: made for every wanted cell of every report
    """What the sheet XML says about one cell, beyond what calamine gives."""

    formula: str | None = None
    error: str | None = None
    number: float | None = None  # the stored number of a numeric cell, before any date format


NO_XML = CellXml()  # a cell the sheet XML does not have, or says no more about (the one such value)


_NOT_XML = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])  # bytes no XML document may contain


def well_formed_text(data: bytes) -> bytes:
    """calamine reads a raw control character that XML (and Excel, and openpyxl) refuse; so do we."""
    if len(data.translate(None, _NOT_XML)) != len(data):  # deleting them changed something
        raise ValueError("control character in XML")
    return data


def scan_cells(
    parts: Parts, part: str, addresses: Collection[str], scans: Scans | None
) -> dict[str, CellXml]:
    """Formula, error and stored number of each wanted cell of one sheet's XML. `scans`: the scans
    safety made of these bytes (FileCheck.sheet_scans; a sheet it left to expat is not there);
    None when safety did not look, and the sheet is scanned here."""
    data = well_formed_text(parts[part])
    scanned = scans.get(part) if scans is not None else scan_sheet(data)
    found = _from_tags(data, scanned, addresses) if scanned is not None else None
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


def _from_tags(data: bytes, scanned: SheetScan, addresses: Collection[str]) -> dict[str, CellXml] | None:
    """The wanted cells from the sheet's tags as the shared scan found them (sheet_scan): a plain
    cell from its tag alone, one with more in it (a formula, an attribute more) as an element of
    its own. None for an address twice, or a cell that needs the whole sheet (a shared formula)."""
    index = scanned.index
    if index is None:
        return None
    found: dict[str, CellXml] = {}
    for address in addresses:
        key = address.encode()
        tag = index.get(key)
        if tag is None:
            continue
        _, _, _, kind, _, other, ending, stored, _ = tag
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
def _plain_values(kind: bytes, stored: bytes | None) -> CellXml:
    return _cell_values(kind.decode() if kind else "n", stored.decode() if stored is not None else None, None)


def _scan_quick(data: bytes, addresses: set[str]) -> dict[str, CellXml] | None:
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
    found: dict[str, CellXml] = {}
    for address in addresses:
        match = elements.get(address.encode())
        if match is None:
            continue
        facts = _element_facts(data, match)
        if facts is None:
            return None
        found[address] = facts
    return found


def _element_facts(data: bytes, match: re.Match[bytes]) -> CellXml | None:
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
    cell = element if local_name(element.tag) == "c" else element[0]
    formula_el = next((child for child in cell if local_name(child.tag) == "f"), None)
    if formula_el is not None and formula_el.get("t") == "shared" and not formula_el.text:
        return None  # the formula text is in another cell
    return _cell_xml(cell, formula_el)


def _namespace_of(data: bytes, prefix: bytes) -> bytes:
    match = re.search(rb"xmlns:" + re.escape(prefix) + rb'="([^"]*)"', data)
    return match.group(1) if match else b"urn:unknown"


def _cell_xml(cell: Any, formula_el: Any) -> CellXml:
    value_el = next((child for child in cell if local_name(child.tag) == "v"), None)
    formula = None if formula_el is None else "=" + (formula_el.text or "")
    return _cell_values(cell.get("t", "n"), value_el.text if value_el is not None else None, formula)


def _cell_values(kind: str, stored: str | None, formula: str | None) -> CellXml:
    """The facts of one cell; NO_XML itself when there are none (a text: calamine's value is all)."""
    error = (stored or "") if kind == "e" else None
    number = _number(stored) if kind == "n" else None
    if formula is None and error is None and number is None:
        return NO_XML
    return CellXml(formula=formula, error=error, number=number)


def _scan_full(data: bytes, addresses: set[str]) -> dict[str, CellXml]:
    """Every cell of the sheet, in order: cells without an address and shared formulas too."""
    found: dict[str, CellXml] = {}
    shared: dict[str, tuple[str, str]] = {}  # si → (master address, formula text)
    pending: list[tuple[str, str]] = []  # (address, si) of wanted cells using a shared formula
    row, col = 0, 0
    for event, element in SafeET.iterparse(io.BytesIO(data), events=("start", "end")):
        tag = local_name(element.tag)
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
        formula_el = next((child for child in element if local_name(child.tag) == "f"), None)
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

