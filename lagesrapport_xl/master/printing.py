"""How the master's sheets print (issue 22): A4 landscape, the header rows on every page, the
trail's file and cell columns left out, and no text under 8 pt on paper.

A sheet whose columns fit one page wide at 80 % or more, even as LibreOffice lays them out, is
fitted to one page wide; a wider sheet prints at 80 %, its columns continuing on further pages with
its key columns (the frozen ones) repeated on each.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ..consolidate.tables import SOURCE_CELLS, SOURCE_FILE, STORED_FILE
from .placement import Placement
from .sheets import MasterSheet

# The trail's columns: the file a row came from and its cells are links to follow on screen, not
# read on paper, and they are wide. Left out of the print area where they end a sheet's tables
# (the Budget sheet's sums per insats keep their "Sparad som" in column D, under "Kostnadsrad").
LEFT_OUT = frozenset({SOURCE_FILE.key, STORED_FILE.key, SOURCE_CELLS.key})

MIN_PRINTED_PT = 8  # no text smaller on paper
SMALLEST_PT = 10  # the master's smallest text: cells.py's base font (titles 13 pt, the charts' 10–11 pt)
MIN_SCALE = 100 * MIN_PRINTED_PT // SMALLEST_PT  # percent: 10 pt prints at 8 pt
# The page header and footer: Excel and LibreOffice shrink them with the sheet (LibreOffice ignores
# scaleWithDoc="0"), so at 10 pt they print at 8 pt or more too.
HEADER_PT = SMALLEST_PT

A4_LANDSCAPE_WIDTH_IN = 297 / 25.4
SIDE_MARGIN_IN = 0.4
PRINTABLE_PX = (A4_LANDSCAPE_WIDTH_IN - 2 * SIDE_MARGIN_IN) * 96  # at 100 %, 96 pixels an inch
DEFAULT_WIDTH = 8.43  # a column without a width of its own
# Fit to one page wide lets the program choose the scale from its own column widths. LibreOffice
# without Calibri's metric twin (Carlito; Debian's default install, this project's test machines)
# measures Excel's widths in DejaVu Sans digits, a third wider: fitting is left to the program only
# when even that width fits at MIN_SCALE.
WIDEST_LAYOUT = 4 / 3


def print_last_col(placements: list[Placement]) -> int:
    """The print area's last column: the last of the tables' columns that are not trailing file and
    cell columns (a table's own columns stay, were they all trail columns)."""
    last = 0
    for placement in placements:
        keys = [column.key for column in placement.table.columns]
        while len(keys) > 1 and keys[-1] in LEFT_OUT:
            keys.pop()
        last = max(last, placement.first_col + len(keys) - 1)
    return last


def column_pixels(widths: dict[int, float], last_col: int) -> float:
    """The printed width of columns A…last_col at 100 %: a column of width w is 7w + 5 pixels."""
    return sum(7 * widths.get(col, DEFAULT_WIDTH) + 5 for col in range(last_col + 1))


def print_scale(widths: dict[int, float], last_col: int) -> int | None:
    """None: the columns fit one page wide at MIN_SCALE or more, in any layout; else the fixed
    scale in percent that keeps the smallest text at MIN_PRINTED_PT."""
    fits = 100 * PRINTABLE_PX / (column_pixels(widths, last_col) * WIDEST_LAYOUT)
    return None if fits >= MIN_SCALE else MIN_SCALE


def print_setup(ws: Worksheet, layout: MasterSheet, placements: dict[str, Placement], widths: dict[int, float],
                last_row: int, title: str, chart_row: int | None = None) -> None:
    """A4 landscape, the sheet's header rows repeated on every page, its columns up to the trail's;
    one page wide when that is readable, else at MIN_SCALE with its frozen columns on every page.
    A chart (at `chart_row`, below the tables) starts a page of its own."""
    last_col = print_last_col([placements[key] for key in layout.keys(placements)])
    ws.set_paper(9)
    ws.set_landscape()
    scale = print_scale(widths, last_col)
    if scale is None:
        ws.fit_to_pages(1, 0)
    else:
        ws.set_print_scale(scale)
        if layout.freeze_cols:
            ws.repeat_columns(0, layout.freeze_cols - 1)
    ws.set_margins(left=SIDE_MARGIN_IN, right=SIDE_MARGIN_IN, top=0.6, bottom=0.6)
    ws.set_header(f"&L&{HEADER_PT}{title}&R&{HEADER_PT}&A")
    ws.set_footer(f"&L&{HEADER_PT}&F&RSida &P av &N")
    ws.print_area(0, 0, last_row, last_col)
    if layout.freeze_table:
        ws.repeat_rows(0, placements[layout.freeze_table].header_row)
    if chart_row is not None:
        ws.set_h_pagebreaks([chart_row])
