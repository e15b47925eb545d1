"""Cell sources: the raw value of every named cell of a workbook, before any parsing.

Two sources read a file into the same `WorkbookCells` (cells.py), so the checking code never
knows where values came from and tests can demand identical results from both:

* `read_fast` (fast.py) – python-calamine for values (2–3 ms a report) plus the small XML parts
  read with defusedxml (workbook_xml.py): defined names and sheets from xl/workbook.xml, the
  version property from docProps/custom.xml, and the formula, error and stored number of each
  named cell, found in the sheet XML (calamine gives a formula's cached value and an error cell
  as "").
* `read_openpyxl` (openpyxl_source.py) – openpyxl, not `data_only`, so formulas are seen as
  formulas. The slow reference (about 50 ms), and the check on the fast one.

Both give every value through the same rules (shared.py).

Both take the zip parts safety has already inflated and checked (`parts`, from the reader), so
no part is inflated twice; what every report of a batch shares (workbook.xml, the names in it,
cell addresses) is parsed once and remembered by its bytes. A source raises nothing for a
damaged file: it returns WorkbookCells with one issue.
"""

from typing import Callable

from ..cells import WorkbookCells
from .fast import read_fast
from .openpyxl_source import read_openpyxl
from .shared import as_stored, clean_value, parse_name_target, raw_cell

__all__ = ["SOURCES", "as_stored", "clean_value", "parse_name_target", "raw_cell", "read_fast", "read_openpyxl"]

SOURCES: dict[str, Callable[..., WorkbookCells]] = {"fast": read_fast, "openpyxl": read_openpyxl}
