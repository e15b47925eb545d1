"""What the sheet scan and the merged ranges decide from a sheet's tail (the part from
</sheetData> on: the template's validations and formatting, the same in every report) is
remembered by the tail's bytes. The answers must be those of searching each sheet whole, as the
two functions did before (kept here as the oracle), for sheets written every way (hypothesis),
whatever tails were seen before; and the shared strings' item count the same with its shortcut."""

from __future__ import annotations

import operator

from hypothesis import given, settings
from hypothesis import strategies as st

from lagesrapport_xl.reader.cells import column_number
from lagesrapport_xl.reader.safety.archive import _STRING_ITEM, _more_items
from lagesrapport_xl.reader.sheet_scan import (
    _SHEET_TAG,
    TAG_START,
    SheetScan,
    markup_counts,
    scan_sheet,
    sheet_data_span,
)
from lagesrapport_xl.reader.sources.cell_values import _ANY_MERGE_CELL, _MERGE_CELL, _column, merged_ranges


def old_merged_ranges(data: bytes):
    span = sheet_data_span(data)
    tail = data[span[1] :] if span else data
    if b"mergeCell" not in tail:
        return [] if b"mergeCell" not in data else None
    found = _MERGE_CELL.findall(tail)
    if len(found) != len(_ANY_MERGE_CELL.findall(tail)) or b":mergeCell" in data or b"mergeCell" in data[: len(data) - len(tail)]:
        return None
    return [(int(r1) - 1, _column(c1), int(r2) - 1, _column(c2)) for c1, r1, c2, r2 in found]


def old_scan_sheet(data: bytes, markup: int | None = None):
    prolog = 1 if data.startswith((b"<?xml", b"\xef\xbb\xbf<?xml")) else 0
    if (sum(markup_counts(data)) if markup is None else markup) > prolog:
        return None
    start, end = sheet_data_span(data) or (0, 0)
    if TAG_START.search(data, 0, start) or TAG_START.search(data, end):
        return None
    tags = _SHEET_TAG.findall(data, start, end)
    if not tags:
        return SheetScan(0, 0, [])
    columns, rows, *_, odd = zip(*tags)
    if any(odd):
        return None
    cells = len(tags) - columns.count(b"")
    if not cells:
        return SheetScan(0, 0, tags)
    index = dict(zip(map(operator.add, columns, rows), tags))
    index.pop(b"", None)
    return SheetScan(max(map(int, filter(None, rows))), max(column_number(c.decode()) for c in set(columns) if c),
                     tags, cells, index if len(index) == cells else None)


PIECES = [
    b'<mergeCells count="1">', b"</mergeCells>", b'<mergeCell ref="A1:B2"/>', b'<mergeCell ref="C3:D30" />',
    b'<mergeCell ref="A1"/>', b"<x:mergeCell ref=\"A1:B2\"/>", b"<mergeCellz/>", b"mergeCell",
    b'<c r="A1"/>', b'<row r="2">', b"</row>", b'<x:c r="B2"/>', b"<cfRule/>", b"<col/>", b"<rows/>",
    b'<dataValidation sqref="B5"><formula1>0</formula1></dataValidation>', b"<pageMargins/>",
    b"<sheetData>", b"</sheetData>", b"<sheetData/>", b" ", b"\n", b"<!-- c -->",
]
CELLS = [b'<row r="1">', b'<c r="A1" t="s"><v>0</v></c>', b'<c r="B1"/>', b"</row>", b'<c r="C2" s="3"><v>5</v></c>']

sheets = st.builds(
    lambda head, cells, tail, closed: (b'<?xml version="1.0"?><worksheet>' + b"".join(head) + b"<sheetData>"
                                      + b"".join(cells) + (b"</sheetData>" if closed else b"") + b"".join(tail)
                                      + b"</worksheet>"),
    st.lists(st.sampled_from(PIECES), max_size=4),
    st.lists(st.sampled_from(CELLS), max_size=6),
    st.lists(st.sampled_from(PIECES), max_size=8),
    st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(sheets, min_size=1, max_size=4))
def test_a_remembered_tail_answers_as_the_whole_sheet_would(datas):
    for data in datas + datas[::-1]:  # each tail seen again, after others
        assert merged_ranges(data) == old_merged_ranges(data)
        assert scan_sheet(data) == old_scan_sheet(data)


def test_the_same_tail_after_other_cells_is_looked_up(tmp_path):
    tail = b'</sheetData><mergeCells count="1"><mergeCell ref="B3:C3"/></mergeCells></worksheet>'
    first = b'<worksheet><sheetData><row r="1"><c r="A1"/></row>' + tail
    second = b'<worksheet><sheetData><row r="2"><c r="B2"/></row>' + tail
    moved = b'<worksheet><mergeCells><mergeCell ref="B3:C3"/></mergeCells><sheetData><row r="2"><c r="B2"/></row>' + tail
    assert merged_ranges(first) == merged_ranges(second) == [(2, 1, 2, 2)]
    assert merged_ranges(moved) is None  # a mergeCell among or before the cells: calamine decides
    assert scan_sheet(second).rows == 2
    assert scan_sheet(second + b'<c r="Z9"/>') is None  # a cell after the sheet's cells


@given(st.lists(st.sampled_from([b"<si><t>a</t></si>", b"<si/>", b"<x:si>", b"<t>", b"<", b"<sst>", b"b"]),
                max_size=30), st.integers(0, 12))
def test_the_shared_strings_items_are_counted_as_before(pieces, limit):
    data = b"".join(pieces)
    assert _more_items(data, limit) == (len(_STRING_ITEM.findall(data)) > limit)
