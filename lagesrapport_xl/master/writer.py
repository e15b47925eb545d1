"""Write the consolidated master workbook with XlsxWriter: write_master, and write_sheet for each
sheet of MASTER_SHEETS (sheets.py) — its tables, column widths, highlights, chart, frozen header
and print layout (printing.py).

Each table of the Consolidation becomes an Excel table on its sheet, tables stacked top to bottom
where placement.py puts them; table_writer.py writes their cells, through streaming.py's worksheet
(row by row into a temporary file, not kept in memory), with the formulas of formulas.py. The file
is written to a temporary file beside the target and moved into place, so a failure never damages
an old master; a helper process may write half the data rows meanwhile (split.py), and the largest
part is deflated in a thread while the others are zipped (zipping.py).
"""

from __future__ import annotations

import math
import os
from itertools import islice
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ..common.atomic import atomic_path
from ..common.memory import batch_gc
from ..consolidate.consolidation import Consolidation
from ..consolidate.tables import Table
from .cells import MasterFormats
from .chart_cache import quick_caches
from .formulas import FormulaRenderer, named_cells
from .placement import Placement, place_tables
from .printing import print_setup
from .sheets import LAYOUT, MASTER_SHEETS, Chart, MasterSheet
from .sizes import column_widths
from .split import Job, OwnRows, TableCost, prestart, split_rows
from .streaming import StreamingWorksheet
from .table_writer import MasterInfo, RowWriter, TableWriter, row_plan
from .trail import Links
from .zipping import quick_zip

CHART_ROW_PIXELS = 20


def write_sheet(
    wb: xlsxwriter.Workbook,
    sheet: str,
    consolidation: Consolidation,
    placements: dict[str, Placement],
    chart_rows: dict[str, int],
    fmts: MasterFormats,
    renderer: FormulaRenderer,
    info: MasterInfo,
    rows: RowWriter | None = None,
    widths: dict[int, float] | None = None,
) -> Worksheet:
    """One sheet, as its record in LAYOUT says: its tables, widths, highlights, chart, frozen
    header and print layout. `rows` writes the tables' data rows (default: here; see split.py);
    `widths`: the sheet's column widths, when worked out already (sheet_widths)."""
    rows = rows or OwnRows()
    layout = LAYOUT[sheet]
    ws = wb.add_worksheet(sheet, worksheet_class=StreamingWorksheet)
    mine = [placements[key] for key in layout.keys(placements)]
    widths = widths if widths is not None else column_widths(mine)
    for col, width in widths.items():
        ws.set_column(col, col, width)
    writer = TableWriter(ws, fmts, renderer, info, rows)
    jump = layout.jump_in(placements)
    for index, placement in enumerate(mine):
        link = None
        if index == 0 and jump is not None:
            row = placements[jump.table].title_row + 1
            link = (f"{quote_sheetname(sheet)}!A{row}", f"→ {jump.text}, från rad {row}")
        writer.table(placement, widths, link, chart=layout.charts(placement.table.key))
    _highlights(ws, layout, placements, fmts)
    last_row = max(p.last_row for p in mine)
    if layout.chart is not None:
        last_row = _chart(wb, ws, sheet, layout.chart, placements, chart_rows[sheet], int(sum(widths.values()) * 7))
    if layout.freeze_table:
        ws.freeze_panes(placements[layout.freeze_table].first_data_row, layout.freeze_cols)
    title = f"{consolidation.spec.organisation} – sammanställning av lägesrapporter"
    print_setup(ws, layout, placements, widths, last_row, title, chart_rows.get(sheet))
    return ws


def _column_range(placement: Placement, key: str) -> str:
    col = placement.col(key)
    return f"{xl_rowcol_to_cell(placement.first_data_row, col)}:{xl_rowcol_to_cell(placement.last_data_row, col)}"


def _highlights(ws: Worksheet, layout: MasterSheet, placements: dict[str, Placement], fmts: MasterFormats) -> None:
    """The sheet's conditional formats, in the record's order (a highlight of an optional table
    the consolidation lacks is left out)."""
    for highlight in layout.highlights:
        placement = placements.get(highlight.table)
        if placement is not None:
            ws.conditional_format(_column_range(placement, highlight.column), highlight.options(fmts.fills))


def _chart_height(placement: Placement, series: int) -> int:
    return min(2400, max(300, 22 * series * len(placement.table.rows) + 130))


def _chart(wb: xlsxwriter.Workbook, ws: Worksheet, sheet: str, drawn: Chart, placements: dict[str, Placement],
           row: int, width_px: int) -> int:
    """The sheet's bar chart per insats below the tables; returns the last row it covers."""
    placement = placements[drawn.table]
    first, last = placement.first_data_row, placement.last_data_row
    category = placement.col(drawn.categories)
    chart = quick_caches(wb.add_chart({"type": "bar"}))
    for series in drawn.series:
        col = placement.col(series.column)
        chart.add_series(
            {
                "name": series.name,
                "categories": [sheet, first, category, last, category],
                "values": [sheet, first, col, last, col],
                "fill": {"color": series.color},
                "gap": 60,
            }
        )
    chart.set_title({"name": drawn.title, "name_font": {"size": 11, "bold": True}})
    chart.set_x_axis({"num_format": drawn.axis_format,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "bottom"})
    height = _chart_height(placement, len(drawn.series))
    chart.set_size({"width": max(600, min(width_px, 1100)), "height": height})
    ws.insert_chart(row, 0, chart, {"object_position": 3})
    return row + math.ceil(height / CHART_ROW_PIXELS)


# --- the workbook ---------------------------------------------------------------------------------


WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def _open_workbook(path: str, consolidation: Consolidation) -> xlsxwriter.Workbook:
    wb = xlsxwriter.Workbook(path, WORKBOOK_OPTIONS)
    wb.set_properties(
        {
            "title": "Sammanställning av lägesrapporter",
            "subject": f"{consolidation.spec.title} – {consolidation.spec.organisation}",
            "company": consolidation.spec.organisation,
            "comments": f"Formulärversion {consolidation.spec.version}. Skapad av lagesrapport_xl.",
            "created": consolidation.started.replace(microsecond=0),
        }
    )
    wb.set_calc_mode("auto")
    return wb


def sheet_widths(placements: dict[str, Placement]) -> dict[str, dict[int, float]]:
    """Each sheet's column widths, from its tables' headers and contents."""
    return {sheet.name: column_widths([placements[key] for key in sheet.keys(placements)]) for sheet in MASTER_SHEETS}


def _row_costs(placements: dict[str, Placement]) -> list[TableCost]:
    """Each table's TableCost, in writing order. A cell costs 1, a long text 1 more per TEXT_CHARS
    characters it has on average; a table whose texts cost more than its cells carries long texts.
    A chart's table stays here (the chart takes the values it writes), and so does the Om table
    (each row makes its own format)."""
    costs = []
    for sheet, key, placement in _in_order(placements):
        columns = placement.table.columns
        texts = sum(_text_cost(placement.table, c.key) - 1 for c in columns if c.kind == "long_text")
        stays = sheet.charts(key) or any(c.kind == "auto" for c in columns)
        costs.append(TableCost(key, placement.rows * (len(columns) + texts), stays, texts > len(columns)))
    return costs


def _in_order(placements: dict[str, Placement]) -> list[tuple[MasterSheet, str, Placement]]:
    return [(sheet, key, placements[key]) for sheet in MASTER_SHEETS for key in sheet.keys(placements)]


# Characters of a long text that cost as much to write as one more cell (6 400 reports, one process:
# the Texter sheet's rows, 94 MB of XML, take 0.28 s of the 1.28 s all rows take; with 500 the tables
# a fresh helper is handed take 0.70 s to write and the rest 0.69 s)
TEXT_CHARS = 500
_SAMPLE = 200  # rows of a table whose texts are measured (its rows may be on disk)


def _text_cost(table: Table, key: str) -> int:
    """What one long text of the column costs on average, in cells, from the first _SAMPLE rows."""
    if key not in table.names:
        return 1
    at = table.names.index(key)
    sample = [row[at] for row in islice(table.rows, _SAMPLE)]
    chars = sum(len(value) for value in sample if isinstance(value, str))
    return 1 + round(chars / max(1, len(sample)) / TEXT_CHARS)


CELLS_PER_REPORT = 120  # the master's cells a report (_cells: 770 000 for 6 400 reports)


def prepare_helper(reports: int) -> None:
    """When a consolidation of about `reports` reports has been read, before its tables are built:
    start the helper that its master will have, if that is a fresh process (split.prestart)."""
    prestart(reports * CELLS_PER_REPORT)


def _cells(placements: dict[str, Placement]) -> int:
    """The data rows' cells, a long text as three: the size that decides the helper (split.py)."""
    return sum(placement.rows * sum(3 if c.kind == "long_text" else 1 for c in placement.table.columns)
               for _sheet, _key, placement in _in_order(placements))


def _build(path: Path, consolidation: Consolidation, info: MasterInfo, helper: bool | None) -> None:
    placements, chart_rows = place_tables(consolidation)
    wb = _open_workbook(str(path), consolidation)
    fmts = MasterFormats(wb)
    renderer = FormulaRenderer(placements, named_cells(placements))
    widths = sheet_widths(placements)

    def jobs(handed: frozenset[str]) -> list[Job]:  # the handed tables' rows, in writing order
        return [
            Job(row_plan(placements[key], widths[sheet.name], fmts, renderer, links=info.links),
                placements[key].table.rows)
            for sheet in MASTER_SHEETS
            for key in sheet.keys(placements)
            if key in handed
        ]

    rows = split_rows(_row_costs(placements), jobs, helper=helper, options=WORKBOOK_OPTIONS,
                      keep_formulas=info.keep_formulas, cells=_cells(placements))
    try:
        for sheet in MASTER_SHEETS:
            write_sheet(wb, sheet.name, consolidation, placements, chart_rows, fmts, renderer, info, rows,
                        widths[sheet.name])
        wb.worksheets()[0].activate()
    finally:
        try:
            with quick_zip():
                wb.close()  # the sheets take in the helper's rows here
        finally:
            rows.finish()


def write_master(
    consolidation: Consolidation, path: str | Path, *, keep_formulas: bool = True, helper: bool | None = None,
    files_folder: str | None = None,
) -> MasterInfo:
    """Write the master workbook atomically: a failure leaves any existing file at `path` untouched.

    Each amount and count taken from a report links to its source cell, each "Källfil" to the file
    (trail.py), relative to the master's folder: to each file where it was found, or with
    `files_folder` ("inkorg") to `files_folder/<stored name>`, for a master packed with its files.

    `keep_formulas=False`: the MasterInfo lists no formulas (the command line needs none of them).
    `helper`: whether a forked process writes half the data rows (split.py; None: decided by
    the master's size and the machine, True: wherever fork is safe, False: never). The file is
    the same either way.
    """
    links = Links(os.path.dirname(os.path.abspath(path)), files_folder)
    info = MasterInfo(Path(path), keep_formulas=keep_formulas, links=links)
    with atomic_path(path) as tmp, batch_gc():  # ~200 000 cells' short-lived objects: no scans
        _build(tmp, consolidation, info, helper)
    return info


__all__ = ["LAYOUT", "MasterInfo", "write_master", "write_sheet"]
