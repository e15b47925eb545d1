"""Show a check's result inside the workbook: the sheet "Kontroll" and a message box.

The template's own sheets are protected, and writing into a protected sheet fails in Excel, so
nothing here touches them: every problem goes to the template's open control sheet (cleared and
rewritten on each run, so results never pile up) and the summary to `app.alert`. The template
ships that sheet because its structure is locked: Excel refuses to add one when the button is
clicked. Files from before that sheet existed get a new one where the workbook allows it, and the
problems in the message box in any case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import xlwings as xw

from ..common.issues import SEVERITY_SV, Issue, shown_value
from ..form.control_sheet import CONTROL_COLUMNS, CONTROL_TITLE
from ..form.spec import default_spec
from ..reader.result import ReadResult

CONTROL_SHEET = default_spec().control_sheet  # the template ships it open: Excel cannot add it later
TITLE = CONTROL_TITLE
ALERT_TITLE = "Validera lägesrapport"
HEADERS = tuple(header for header, _width in CONTROL_COLUMNS)
COLUMN_WIDTHS = tuple(width for _header, width in CONTROL_COLUMNS)
VALUE_CHARS = 80  # a long answer is shown by its beginning: enough to recognise it
ALERT_LINES = 10  # problems listed in the message box when the sheet cannot be written
REWRITTEN = "Bladet skrivs om varje gång du klickar på Validera."


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def summary_text(result: ReadResult) -> str:
    """One or two plain Swedish sentences for the message box."""
    errors, warnings = len(result.errors), len(result.warnings)
    if errors:
        text = f"{_count(errors, 'fel', 'fel')} hittades"
        if warnings:
            text += f" och {_count(warnings, 'varning', 'varningar')}"
        return text + ". Rätta felen innan du skickar rapporten till RAR."
    if warnings:
        return (
            f"Inga fel, men {_count(warnings, 'varning', 'varningar')}. "
            "Läs dem och rätta om det behövs; rapporten kan skickas till RAR."
        )
    return "Inga fel hittades. Rapporten kan skickas till RAR."


def as_text(value: Any, limit: int | None = None) -> str:
    """A value written as text: the apostrophe keeps '=1+1' or '2021-12-10' from being evaluated."""
    if value is None:
        return ""
    text = shown_value(value)  # an amount as the message writes it: '30 000 kr'
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return "'" + text if text else ""


def _issue_row(issue: Issue) -> list[str]:
    return [
        as_text(SEVERITY_SV[issue.severity]),
        as_text(issue.sheet),
        as_text(issue.cell),
        as_text(issue.label),
        as_text(issue.value, VALUE_CHARS),
        as_text(issue.message),
    ]


def control_rows(result: ReadResult, checked_at: dt.datetime) -> list[list[str]]:
    """The Kontroll sheet's content as one rectangle of text, headers and one row per problem."""
    width = len(HEADERS)
    rows = [
        [as_text(TITLE)],
        [as_text(summary_text(result))],
        [as_text(f"Kontrollerad {checked_at:%Y-%m-%d %H:%M}. {REWRITTEN}")],
        [],
    ]
    if result.issues:
        rows.append([as_text(h) for h in HEADERS])
        rows.extend(_issue_row(issue) for issue in result.issues)
    else:
        rows.append([as_text("Inga fel eller varningar.")])
    return [row + [""] * (width - len(row)) for row in rows]


def _existing_control_sheet(book: xw.Book) -> Any | None:
    for sheet in book.sheets:
        if sheet.name.casefold() == CONTROL_SHEET.casefold():
            return sheet
    return None


def _add_control_sheet(book: xw.Book) -> Any | None:
    """A new Kontroll sheet at the end; None when desktop Excel refuses it (structure locked)."""
    try:
        sheet = book.sheets.add(CONTROL_SHEET, after=book.sheets[len(book.sheets) - 1])
    except Exception:  # noqa: BLE001 - each engine raises its own error for a locked structure
        return None
    for column, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.range((1, column)).column_width = width
    return sheet


def alert_text(result: ReadResult, *, listed_in_sheet: bool) -> str:
    """The summary; the problems themselves too when they may not reach the Kontroll sheet."""
    text = summary_text(result)
    if not result.issues:
        return text
    if listed_in_sheet:
        return text + f" Se bladet {CONTROL_SHEET}."
    lines = [issue.describe() for issue in result.issues[:ALERT_LINES]]
    if len(result.issues) > ALERT_LINES:
        lines.append(f"… och {len(result.issues) - ALERT_LINES} till.")
    return text + "\n\n" + "\n".join(lines)


def _alert(book: xw.Book, result: ReadResult, *, listed_in_sheet: bool) -> None:
    mode = "critical" if result.errors else "info"
    book.app.alert(alert_text(result, listed_in_sheet=listed_in_sheet), title=ALERT_TITLE, mode=mode)


def _write(sheet: Any, result: ReadResult, checked_at: dt.datetime) -> None:
    sheet.range((1, 1)).value = control_rows(result, checked_at)
    if result.issues:  # a clean report leaves the coordinator where they are
        sheet.activate()


def show_result(book: xw.Book, result: ReadResult, checked_at: dt.datetime | None = None) -> None:
    """Rewrite the Kontroll sheet with `result` and show the summary in a message box.

    The template's open Kontroll sheet is rewritten and shown first, so the list is on screen
    behind the message box. When the sheet must first be added (a file from before the template
    had it), the message box comes first and lists the problems itself: a workbook whose structure
    is locked refuses a new sheet, and in xlwings Lite that refusal stops the actions after it, so
    the coordinator would otherwise see nothing. Desktop Excel reports a refused write at once
    (a coordinator may have protected the sheet): then the message box lists the problems too.
    """
    checked_at = checked_at or dt.datetime.now()
    sheet = _existing_control_sheet(book)
    if sheet is not None:
        try:
            sheet.clear_contents()  # the template's note and the previous run: nothing piles up
            _write(sheet, result, checked_at)
        except Exception:  # noqa: BLE001 - each engine raises its own error for a protected sheet
            _alert(book, result, listed_in_sheet=False)
            return
        _alert(book, result, listed_in_sheet=True)
        return
    _alert(book, result, listed_in_sheet=False)
    sheet = _add_control_sheet(book)
    if sheet is not None:
        _write(sheet, result, checked_at)
