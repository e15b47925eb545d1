"""The master workbook: the consolidation's tables written with XlsxWriter, with formulas that carry
their computed values, charts, highlights, print set-up, and a helper process for the larger half
of the rows.

sheets.py says what each sheet holds (one record per sheet); placement.py where every table goes;
formulas.py the formula language of derived columns; writer.py writes the workbook, sheet by
sheet, table_writer.py the tables, streaming.py the cells; split.py runs the helper.

Imports consolidate/ and common/; nothing below imports it.
"""

from .writer import LAYOUT, MasterInfo, write_master, write_sheet

__all__ = ["LAYOUT", "MasterInfo", "write_master", "write_sheet"]
