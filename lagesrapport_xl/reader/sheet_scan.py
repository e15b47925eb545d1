"""One pass over a worksheet's XML, shared by safety and the fast source.

Safety needs each sheet's farthest cell (a sheet of a billion cells is refused before any library
allocates it); the fast source needs the type, stored value and shape of the wanted cells. Both
read the same <row> and <c> tags of <sheetData>, so one regular expression finds them once for
both (0.2 ms a report instead of two passes of 0.25 ms each). It vouches only for XML as every
writer produces it; for anything else `scan_sheet` gives None and each caller asks its parser.
"""

from __future__ import annotations

import functools
import operator
import re
from typing import NamedTuple

from .cells import column_number

TAG_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*+:)?(?:row|c)[\s/>]")  # every <row> and <c>, prefixed too

# Attributes after r="…", none of them another r (prefixed or not). Possessive quantifiers: each
# branch is decided by its first byte, so a long odd tag fails in linear time.
_OTHER_ATTRIBUTES = rb"""(?:\s++(?!(?:[A-Za-z_][\w.-]*+:)?r\s*=)[A-Za-z_][\w.:-]*+\s*=\s*(?:"[^"]*+"|'[^']*+'))*+"""

# Every tag of <sheetData> as writers make it: a <row r="…"> (no groups), or a <c r="…"> with
# s and t where Excel, LibreOffice and XlsxWriter put them, giving (column, row, style, type,
# style, other attributes, ending, stored value; the style stands before or after the type, as
# written); `ending` is '/>', '><v>…</v></c>' or '>' (more inside: a formula, an inline string).
# Anything else that starts a <row> or <c> is captured as `odd` (without its '<'). The '<' every
# branch starts with stands outside the branches: then the engine leaps from one '<' to the next
# (a report's cells in 0.30 ms instead of 0.44 ms).
_SHEET_TAG = re.compile(
    rb'<(?:c r="([A-Z]{1,3})(\d{1,7})"(?: s="(\d+)")?(?: t="([a-z]+)")?(?: s="(\d+)")?(' + _OTHER_ATTRIBUTES
    + rb")\s*(/>|><v>([^<&]*)</v></c>|>)"
    rb'|row r="\d{1,7}"' + _OTHER_ATTRIBUTES + rb"\s*/?>"
    rb"|((?:[A-Za-z_][\w.-]*+:)?(?:row|c)[\s/>]))"
)


class SheetScan(NamedTuple):
    """The farthest cell (1-based row and column; 0, 0 for no cell) and every tag in order, as
    _SHEET_TAG found it: (column, row, style, type, style, other attributes, ending, stored value,
    odd), bytes, '' where absent; a <row> tag has '' for its column. Plain tuples: a report has
    1 500 of them."""

    rows: int
    cols: int
    tags: list[tuple[bytes, ...]]
    cells: int = 0  # how many of the tags are cells
    index: dict[bytes, tuple[bytes, ...]] | None = None  # address (b"C5") → its cell's tag; None: one twice


def markup_counts(data: bytes) -> tuple[int, int]:
    """How many '<!' (comments, CDATA, DTDs) and '<?' (processing instructions, the prolog) the
    data holds. '!' and '?' are rare in XML, so each is found by memchr and the byte before it looked
    at: 20 µs for a report's 134 kB, where bytes.count(b"<!") takes 110 µs and a regular
    expression 80 µs. Data full of them (a text of exclamation marks) is counted by bytes.count."""
    counts = []
    for mark in (b"!", b"?"):
        count = seen = 0
        at = data.find(mark, 1)
        while at > 0:
            seen += 1
            if seen > _MANY_MARKS:
                count = data.count(b"<" + mark)
                break
            if data[at - 1] == 0x3C:  # '<'
                count += 1
            at = data.find(mark, at + 1)
        counts.append(count)
    return counts[0], counts[1]


_MANY_MARKS = 256


def sheet_data_span(data: bytes) -> tuple[int, int] | None:
    """Where a sheet's cells lie: from the first <sheetData to the last </sheetData> (which covers
    any second one), or None when there is no such pair. The rest, most of a sheet's bytes
    (validations, formatting), is only searched for strays."""
    start, end = data.find(b"<sheetData"), data.rfind(b"</sheetData>")
    return (start, end) if 0 <= start < end else None


@functools.lru_cache(maxsize=64)  # the part after the cells: the template's, in every report of a batch
def _tag_in_tail(tail: bytes) -> bool:
    """Is there a <row> or <c> after </sheetData>? The tail (validations, formatting) is most of a
    sheet's bytes: looked up by them (10 µs), searched once (70 µs)."""
    return TAG_START.search(tail) is not None


def scan_sheet(data: bytes, markup: int | None = None) -> SheetScan | None:
    """Every cell tag of a sheet and its farthest cell, or None when the XML is not as writers make
    it: comments, CDATA or processing instructions (then a '<' need not start a tag), a <row> or
    <c> outside <sheetData>, or one without r="…" first and once. Then a tag means the same to the
    expression as to any parser. `markup`: how many '<!' and '<?' the data holds, when the caller
    has counted them already (safety, for its DTD test)."""
    prolog = 1 if data.startswith((b"<?xml", b"\xef\xbb\xbf<?xml")) else 0
    if (sum(markup_counts(data)) if markup is None else markup) > prolog:
        return None
    span = sheet_data_span(data)
    start, end = span or (0, 0)
    if TAG_START.search(data, 0, start) or (_tag_in_tail(data[end:]) if span else TAG_START.search(data)):
        return None  # a cell or row outside <sheetData>: a parser places it
    tags = _SHEET_TAG.findall(data, start, end)
    if not tags:
        return SheetScan(0, 0, [])
    columns, rows, *_, odd = zip(*tags)
    if any(odd):
        return None  # a tag without r, with r elsewhere or twice, or written oddly
    cells = len(tags) - columns.count(b"")  # '' column and row: a <row> tag
    if not cells:
        return SheetScan(0, 0, tags)
    index = dict(zip(map(operator.add, columns, rows), tags))  # in C: a report's 1 500 tags in 0.05 ms
    index.pop(b"", None)
    return SheetScan(max(map(int, filter(None, rows))), max(column_number(c.decode()) for c in set(columns) if c),
                     tags, cells, index if len(index) == cells else None)
