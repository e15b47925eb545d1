"""The Excel layer (xlwings): the "Validera" button of the template and RAR's "Sammanställ".

Optional: `pip install "lagesrapport_xl[excel]"` brings xlwings, pinned to one exact version
because xlwings' Excel-side client must match it. This subpackage is the only place that imports
xlwings; the rest of lagesrapport_xl works without it. It may import every layer below it but
web/ and cli/. See docs/excel.md.
"""

from .adapter import book_cells, check_book
from .entry import sammanstall, validate_book, validera, validera_script
from .feedback import CONTROL_SHEET, show_result

__all__ = [
    "CONTROL_SHEET",
    "book_cells",
    "check_book",
    "sammanstall",
    "show_result",
    "validate_book",
    "validera",
    "validera_script",
]
