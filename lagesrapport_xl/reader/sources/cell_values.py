"""The named cells' values as python-calamine gives them, decoded from the sheet scan's tags.

calamine opens the archive again, parses the shared strings, the styles and each whole sheet, and
builds every sheet's rectangle of Python objects to give 87 values: a quarter of reading a report.
The sheet scan (sheet_scan.py) has already found every cell's tag, with its style, type and
stored value, so the wanted ones are decoded here by calamine's own rules (its xlsx reader:
shared strings, number formats, cell types; python-calamine's conversion to Python).

Only what those rules make plain is decoded; for anything else `named_values` gives None and
calamine reads the file as before: a cell with more inside than a stored value (a formula, an
inline string), an ISO date, an error calamine may not know, a number that is not plainly
written, a duration format or one with `*`, text with leading or trailing whitespace that is not
preserved, a carriage return or an `_x…_` escape (which calamine versions treat differently), a
shared string that is not plain or rich text, an unusual package or a 1904 workbook.
tests/test_cell_values.py compares both on every workbook the tests make.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from typing import Any

from defusedxml import ElementTree as SafeET

from ..sheet_scan import SheetScan, sheet_data_span
from .workbook_xml import local_name

Ranges = list[tuple[int, int, int, int]]  # merged ranges: 0-based first row, column, last row, column
Decoded = dict[str, tuple[dict[str, Any], Ranges]]  # sheet → (address → calamine's value, merged ranges)

# What a number format makes of a number (calamine's CellFormat, and UNKNOWN: not decoded here).
OTHER, DATE, DURATION, UNKNOWN = "other", "date", "duration", "unknown"
# A date-formatted number's value: only its kind matters, shared.as_stored derives the date itself.
A_TIME, A_DATE = dt.time(), dt.date(1900, 1, 1)

_DECLINE = object()
_YEAR_10000 = 2_958_466  # the first serial number past 9999-12-31
_NUMBER = re.compile(rb"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_ERRORS = frozenset({b"#DIV/0!", b"#N/A", b"#NAME?", b"#NULL!", b"#NUM!", b"#REF!", b"#VALUE!"})
_SHEET_PART = re.compile(r"xl/worksheets/[\w.-]+\.xml")
_STRINGS, _STYLES = "xl/sharedStrings.xml", "xl/styles.xml"


def named_values(
    parts: Mapping[str, bytes], sheets: Mapping[str, tuple[str, list[str]]], scans: Mapping[str, SheetScan]
) -> Decoded | None:
    """For each sheet (name → its part and the wanted addresses): every wanted address's value as
    calamine's to_python gives it (None for a cell without a value, where calamine gives None or "",
    which clean_value makes alike), and the sheet's merged ranges.
    None when anything is not plain (see above): then calamine reads the file."""
    if not _plain_package(parts.get("_rels/.rels", b""), parts["xl/workbook.xml"]) or not _names_exact(parts):
        return None
    formats = cell_formats(parts.get(_STYLES))
    if formats is None:
        return None
    strings: SharedStrings | None = None
    decoded: Decoded = {}
    for sheet, (part, addresses) in sheets.items():
        scanned = scans.get(part)
        if scanned is None or not _SHEET_PART.fullmatch(part):
            return None
        index = scanned.index
        if index is None:
            return None  # an address twice
        found: dict[str, Any] = {}
        for address in addresses:
            tag = index.get(address.encode())
            if tag is None:
                found[address] = None
                continue
            if tag[3] == b"s" and strings is None:
                strings = SharedStrings.of(parts.get(_STRINGS))
                if strings is None:
                    return None
            value = _value(tag, formats, strings)
            if value is _DECLINE:
                return None
            found[address] = value
        ranges = merged_ranges(parts[part])
        if ranges is None:
            return None
        decoded[sheet] = (found, ranges)
    return decoded


def _value(tag: tuple[bytes, ...], formats: tuple[str, ...], strings: SharedStrings | None) -> Any:
    _, _, style, kind, late_style, other, ending, stored, _ = tag
    if other or (style and late_style) or ending == b">":
        return _DECLINE  # more attributes, a style twice, or more inside than a value
    if ending == b"/>" or not stored:
        return "" if kind in (b"", b"n", b"s", b"b", b"e", b"str") else _DECLINE  # an empty cell
    if kind in (b"", b"n"):
        if not _NUMBER.fullmatch(stored):
            return _DECLINE
        style = style or late_style
        number_format = OTHER if not style or int(style) >= len(formats) else formats[int(style)]
        number = float(stored)
        if number_format == OTHER or (number_format == DATE and number >= _YEAR_10000):
            return number  # python-calamine gives no date past the year 9999
        return (A_TIME if number < 1.0 else A_DATE) if number_format == DATE else _DECLINE
    if kind == b"s":
        return strings.text(stored) if strings is not None and stored.isdigit() else _DECLINE
    if kind == b"str":
        return _text(stored, preserve=True)
    if kind == b"b":
        return stored != b"0"
    if kind == b"e":
        return "" if stored in _ERRORS else _DECLINE
    return _DECLINE


@functools.lru_cache(maxsize=16)  # the same two parts in every report of a batch
def _plain_package(rels: bytes, workbook: bytes) -> bool:
    """The workbook where calamine looks for it (xl/, by the package's relationships), and dates
    counted from 1900 (a 1904 workbook's dates calamine converts otherwise)."""
    targets = re.findall(rb'Target="([^"]*)"', rels)
    office = [t for t in targets if t.lstrip(b"/").lower().endswith(b"workbook.xml")]
    return office in ([b"xl/workbook.xml"], [b"/xl/workbook.xml"]) and b"date1904" not in workbook


def _names_exact(parts: Mapping[str, bytes]) -> bool:
    """calamine finds parts without regard to case; so must the parts found here."""
    for name in (_STRINGS, _STYLES):
        if name not in parts and any(part.lower() == name.lower() for part in parts):
            return False
    return True


@functools.lru_cache(maxsize=16)  # a batch's reports share the template's styles byte for byte
def cell_formats(styles: bytes | None) -> tuple[str, ...] | None:
    """What each cell style's number format makes of a number, by calamine's rules; None for a
    styles part written unlike the usual (then calamine decides)."""
    if styles is None:
        return ()
    if b"&#" in styles or _SPACED_CODE.search(styles):
        return None  # a parser normalises what calamine takes as written
    try:
        root = SafeET.fromstring(styles)
    except Exception:  # noqa: BLE001 - damaged: calamine decides (and refuses it)
        return None
    found = {local_name(e.tag): e for e in root}
    if len(found) != len(root) or any(local_name(e.tag) in ("numFmts", "cellXfs") for e in root.iter()
                                      if e not in (found.get("numFmts"), found.get("cellXfs"))):
        return None  # a part twice, or where calamine would read it otherwise
    custom: dict[str, str] = {}
    tags = list(found)
    if "numFmts" in found:
        if "cellXfs" in found and tags.index("numFmts") > tags.index("cellXfs"):
            return None
        for number_format in found["numFmts"].iter():
            if local_name(number_format.tag) == "numFmt":
                key, code = number_format.get("numFmtId"), number_format.get("formatCode")
                if key is not None and code is not None:
                    custom[key] = code
    kinds = []
    for xf in found["cellXfs"] if "cellXfs" in found else ():
        key = xf.get("numFmtId")
        if local_name(xf.tag) != "xf" or any(local_name(e.tag) == "xf" for e in xf.iter() if e is not xf):
            return None  # calamine counts every <xf> inside <cellXfs>, however deep
        if key is None:
            kinds.append(OTHER)
        elif key in custom:
            kinds.append(format_kind(custom[key]))
        else:
            kinds.append(_builtin_kind(key))
    return tuple(kinds)


def _builtin_kind(key: str) -> str:
    if not key.isdigit() or not key.isascii():
        return UNKNOWN
    return DATE if key in _BUILTIN_DATES else DURATION if key == "46" else OTHER


_SPACED_CODE = re.compile(rb"""(?:numFmtId|formatCode)\s*=\s*(?:"[^"]*[\t\n\r][^"]*"|'[^']*[\t\n\r][^']*')""")
_BUILTIN_DATES = frozenset({*map(str, range(14, 23)), "45", "47"})


def format_kind(code: str) -> str:
    """calamine's detect_custom_number_format: is a custom format a date, a duration or neither?
    UNKNOWN for a `*` (a fill), whose reading calamine has changed."""
    if "*" in code:
        return UNKNOWN
    escaped = quoted = ap = hms = False
    brackets, previous = 0, " "
    for char in code:
        if escaped:
            escaped = False
        elif char in "_\\":
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == ";":
            return OTHER  # the first section only
        elif char == "[":
            brackets += 1
        elif char == "]" and brackets == 1 and hms:
            return DURATION
        elif char == "]":
            brackets = max(0, brackets - 1)
        elif char in "aA" and not ap and brackets == 0:
            ap = True
        elif char in "pm/PM" and ap and brackets == 0:
            return DATE
        elif char in "dmhysDMHYS" and not ap and brackets == 0:
            return DATE
        elif not (hms and (char == previous or char.isascii() and char.lower() == previous.lower())):
            hms = previous == "[" and char in "mhsMHS"
        previous = char
    return OTHER


_RUN = rb'<r>(?:<rPr>(?:<[A-Za-z]++(?:\s++[A-Za-z]++="[^"<]*+")*+\s*+/>)*+</rPr>)?+<t(?: xml:space="preserve")?>[^<]*+</t></r>'
_ITEM = rb'<si>(?:<t>([^<]*+)</t>|<t xml:space="preserve">([^<]*+)</t>|((?:' + _RUN + rb")++)|)</si>|<si/>"
_ITEMS = re.compile(rb"\s*+(?:" + _ITEM + rb")")
_ALL_ITEMS = re.compile(rb"(?:\s*+(?:" + _ITEM + rb"))*+\s*+")
_SST_START = re.compile(rb'(?:\xef\xbb\xbf)?(?:<\?xml[^>]*\?>)?\s*<sst(?:\s+[A-Za-z:]+="[^"<]*")*\s*>')
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_RUN_TEXT = re.compile(rb'<t( xml:space="preserve")?>([^<]*)</t>')
_ENTITY = re.compile(rb"&(lt|gt|amp|quot|apos);")
_ENTITIES = {b"lt": b"<", b"gt": b">", b"amp": b"&", b"quot": b'"', b"apos": b"'"}
_TRIMMED = b" \t\r\n"


class SharedStrings:
    """The shared strings part, each item decoded when a cell asks for it."""

    def __init__(self, items: list[tuple[bytes, bytes, bytes]]):
        self.items = items

    @classmethod
    def of(cls, data: bytes | None) -> SharedStrings | None:
        """None for a part written otherwise than as plain and rich text items (or none at all)."""
        if data is None:
            return None
        start = _SST_START.match(data)
        declared = _ENCODING.search(data, 0, start.end()) if start else None
        if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
            return None
        end = data.rfind(b"</sst>")
        if start is None or end < start.end() or data[end + 6 :].strip():
            return None
        if not _ALL_ITEMS.fullmatch(data, start.end(), end):
            return None
        return cls(_ITEMS.findall(data, start.end(), end))

    def text(self, index: bytes) -> Any:
        number = int(index)
        if number >= len(self.items):
            return _DECLINE
        plain, preserved, runs = self.items[number]
        if runs:
            texts = [_text(text, preserve=bool(keep)) for keep, text in _RUN_TEXT.findall(runs)]
            return _DECLINE if _DECLINE in texts else "".join(texts)
        return _text(preserved, preserve=True) if preserved else _text(plain, preserve=False)


def _text(raw: bytes, *, preserve: bool) -> Any:
    """A text node as calamine gives it, or _DECLINE where calamine versions differ."""
    if b"\r" in raw or b"_x" in raw or (not preserve and raw and (raw[0] in _TRIMMED or raw[-1] in _TRIMMED)):
        return _DECLINE
    if b"&" in raw:
        replaced, count = _ENTITY.subn(lambda m: _ENTITIES[m.group(1)], raw)
        if count != raw.count(b"&"):
            return _DECLINE  # a character reference or another entity
        raw = replaced
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _DECLINE


_ANY_MERGE_CELL = re.compile(rb"<mergeCell(?!s)")
_MERGE_CELL = re.compile(rb'<mergeCell ref="([A-Z]{1,3})([0-9]{1,7}):([A-Z]{1,3})([0-9]{1,7})"\s*/>')


def merged_ranges(data: bytes) -> Ranges | None:
    """The sheet's merged ranges as calamine gives them; None for any written otherwise: a
    mergeCell before the end of the cells, or any the tail holds not written as Excel does."""
    span = sheet_data_span(data)
    cut = span[1] if span else 0
    if data.find(b"mergeCell", 0, cut) >= 0:
        return None
    ranges = _tail_ranges(data[cut:])
    return None if ranges is None else list(ranges)


@functools.lru_cache(maxsize=64)  # the template's part after the cells, in every report of a batch
def _tail_ranges(tail: bytes) -> tuple[tuple[int, int, int, int], ...] | None:
    """merged_ranges of the part from </sheetData> on (the whole sheet when it has none)."""
    if b"mergeCell" not in tail:
        return ()
    found = _MERGE_CELL.findall(tail)
    if len(found) != len(_ANY_MERGE_CELL.findall(tail)) or b":mergeCell" in tail:
        return None
    return tuple((int(r1) - 1, _column(c1), int(r2) - 1, _column(c2)) for c1, r1, c2, r2 in found)


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number - 1
