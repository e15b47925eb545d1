"""The Excel entry points: "Validera" in the template and "Sammanställ" in RAR's control workbook.

- Desktop Excel with the xlwings add-in: `validera()` and `sammanstall()` find their workbook
  through `xw.Book.caller()` (RunPython, or "Run main" via the module the control-workbook
  command writes).
- xlwings Lite and xlwings Server: `validera_script(book)` is an `@script` bound to the
  template's button. (Outside those runtimes, on Linux and macOS, `xw.script` returns the
  function unchanged, so this module imports anywhere xlwings is installed.)

Nothing here lets an exception reach Excel as a Python traceback: a failure becomes a Swedish
message box.
"""

from __future__ import annotations

import xlwings as xw

from ..form.spec import col_letter, default_spec
from ..reader.result import ReadResult
from ..template.button import BUTTON_COL, BUTTON_NAME
from .adapter import check_book
from .control import ConsolidationRun, run_consolidation
from .feedback import ALERT_TITLE, show_result

# The template's Validera shape sits at the top of the report sheet, right of its print area.
BUTTON_CELL = f"{col_letter(BUTTON_COL)}1"
VALIDATE_BUTTON = f"[{BUTTON_NAME}]{default_spec().report_sheet}!{BUTTON_CELL}"
FAILED = (
    "Kontrollen kunde inte göras: {error}. Kontakta RAR om felet kvarstår; rapporten kan skickas ändå."
)


def validate_book(book: xw.Book) -> ReadResult | None:
    """Check the workbook and show the result in it; None when the check itself failed."""
    try:
        result = check_book(book, default_spec())
        show_result(book, result)
    except Exception as exc:  # noqa: BLE001 - Excel would show a traceback; a coordinator needs a sentence
        book.app.alert(FAILED.format(error=exc), title=ALERT_TITLE, mode="critical")
        return None
    return result


def validera() -> ReadResult | None:
    """Desktop add-in: RunPython "import lagesrapport_xl.excel as lx; lx.validera()"."""
    return validate_book(xw.Book.caller())


@xw.script(name="Validera", button=VALIDATE_BUTTON)
def validera_script(book: xw.Book) -> None:
    """Kontrollera lägesrapporten på samma sätt som RAR gör och lista det som behöver rättas."""
    validate_book(book)


def sammanstall() -> ConsolidationRun | None:
    """Desktop add-in only ("Run main" in the control workbook): read the inbox, write the master."""
    return run_consolidation(xw.Book.caller())
