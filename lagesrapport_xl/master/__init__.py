"""The master workbook: the consolidation's tables written with XlsxWriter, with formulas that carry
their computed values, charts, highlights, print set-up, and a helper process for the larger half
of the rows.

Imports consolidate/ and common/; nothing below imports it.
"""

from .writer import LAYOUT, MasterInfo, write_master, write_sheet

__all__ = ["LAYOUT", "MasterInfo", "write_master", "write_sheet"]
