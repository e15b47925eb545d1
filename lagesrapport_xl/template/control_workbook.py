"""RAR's control workbook: where the inbox folder and the master file are chosen and a run reported.

A RAR user opens it in desktop Excel with the xlwings add-in and clicks "Run main": the add-in
runs `main()` of the Python file with the workbook's own name in the same folder, which this
module writes beside the workbook. That needs no VBA, so the workbook stays a plain .xlsx.
Every cell the code reads or writes has a defined name; the code never uses addresses.

This module must not import xlwings: it is part of the core and runs on any machine.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from pathlib import Path

from ..common.atomic import atomic_path
from ..form.spec import FormSpec, default_spec

SHEET = "Sammanställning"
INBOX_NAME = "inkorg"
OUTPUT_NAME = "utfil"
CONFIG_NAME = "konfiguration"
DEFAULT_INBOX = "Inkorg"
DEFAULT_OUTPUT = "Sammanställning lägesrapporter.xlsx"


@dataclass(frozen=True)
class ControlCell:
    """One named cell: an input RAR types into, or a result the run writes."""

    name: str
    label: str
    kind: str  # input | result


INPUTS = (
    ControlCell(INBOX_NAME, "Mapp med inkomna rapporter (.xlsx)", "input"),
    ControlCell(OUTPUT_NAME, "Huvudarbetsbok som skrivs", "input"),
    ControlCell(CONFIG_NAME, "RAR:s konfigurationsfil (.toml, lämna tomt för standardblanketten)", "input"),
)
RESULT_TIME = "resultat_tid"
RESULT_FILES = "resultat_filer"
RESULT_ACCEPTED = "resultat_godkanda"
RESULT_REJECTED = "resultat_med_fel"
RESULT_SUPERSEDED = "resultat_ersatta"
RESULT_SKIPPED = "resultat_overhoppade"
RESULT_MASTER = "resultat_huvudfil"
RESULT_MESSAGE = "resultat_meddelande"
RESULTS = (
    ControlCell(RESULT_TIME, "Senast körd", "result"),
    ControlCell(RESULT_FILES, "Filer i mappen", "result"),
    ControlCell(RESULT_ACCEPTED, "Godkända rapporter (även med varningar)", "result"),
    ControlCell(RESULT_REJECTED, "Avvisade rapporter (med fel)", "result"),
    ControlCell(RESULT_SUPERSEDED, "Ersatta av en nyare kopia av samma rapport", "result"),
    ControlCell(RESULT_SKIPPED, "Överhoppade filer (Excels låsfiler ~$…)", "result"),
    ControlCell(RESULT_MASTER, "Ny huvudarbetsbok", "result"),
    ControlCell(RESULT_MESSAGE, "Meddelande", "result"),
)

INSTRUCTIONS = (
    "Så gör du",
    "1. Skriv mappen där de inkomna lägesrapporterna ligger och filnamnet för huvudarbetsboken i de vita "
    "cellerna. En sökväg utan enhet eller / räknas från mappen där den här arbetsboken ligger.",
    "2. Klicka på Run main på fliken xlwings. Python-filen {script} måste ligga i samma mapp som den här "
    "arbetsboken (kommandot lagesrapport control-workbook skriver båda).",
    "3. Resultatet av körningen skrivs i de grå cellerna nedan. Rapporter med fel finns listade i "
    "huvudarbetsboken tillsammans med cell och meddelande.",
    "Fungerar bara i Excel för Windows eller Mac med xlwings-tillägget och Python installerat. "
    "xlwings Lite och Excel på webben kan inte läsa filer i en mapp.",
)
INSTRUCTIONS_ROW = 3  # 0-based
FIRST_INPUT_ROW = INSTRUCTIONS_ROW + len(INSTRUCTIONS) + 1


def script_name(workbook: str | Path) -> str:
    """The Python file "Run main" imports: the workbook's name, so it must be a module name."""
    return Path(workbook).stem + ".py"


def check_workbook_name(workbook: str | Path) -> None:
    """Refuse a name that Python cannot import (the add-in runs `import <name>`)."""
    stem = Path(workbook).stem
    if not stem.isidentifier() or keyword.iskeyword(stem):
        raise ValueError(
            f"Filnamnet ”{Path(workbook).name}” fungerar inte med Run main: använd bara bokstäver, "
            "siffror och understreck och börja med en bokstav, t.ex. rar_sammanstallning.xlsx."
        )


def script_text(workbook: str | Path) -> str:
    """The companion module that xlwings' "Run main" runs (main() in a file named like the workbook)."""
    name = Path(workbook).name
    return f'''"""Sammanställ lägesrapporter från kontrollarbetsboken {name}.

xlwings-tillägget kör main() när du klickar på Run main på fliken xlwings i Excel.
Filen skrevs av `lagesrapport control-workbook`; ändra den inte.
"""

from lagesrapport_xl.excel import sammanstall


def main():
    sammanstall()


if __name__ == "__main__":
    # Kör utan knappen: öppna {name} i Excel och kör den här filen med Python.
    import xlwings as xw

    xw.Book({name!r}).set_mock_caller()
    main()
'''


def _write_workbook(path: Path, spec: FormSpec, inputs: tuple[str, ...], script: str) -> None:
    import xlsxwriter  # here: the command line imports this module for its defaults alone

    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    base = {"font_name": "Arial", "font_size": 10, "valign": "top"}
    title = wb.add_format({**base, "bold": True, "font_size": 16})
    heading = wb.add_format({**base, "bold": True, "font_size": 12})
    paragraph = wb.add_format({**base, "text_wrap": True})
    label = wb.add_format({**base, "bold": True, "text_wrap": True})
    field = {**base, "border": 1, "border_color": "#8EA9DB", "locked": False, "text_wrap": True}
    input_format = wb.add_format({**field, "bg_color": "#FFFFFF"})
    result_format = wb.add_format({**field, "bg_color": "#F2F2F2"})
    ws = wb.add_worksheet(SHEET)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 72)
    ws.set_row(0, 24)
    ws.write_string(0, 0, "Sammanställning av lägesrapporter", title)
    ws.write_string(1, 0, spec.organisation, paragraph)
    for offset, text in enumerate(INSTRUCTIONS):
        row = INSTRUCTIONS_ROW + offset
        ws.merge_range(row, 0, row, 1, text.format(script=script), heading if offset == 0 else paragraph)
        if offset:
            ws.set_row(row, 40)
    row = FIRST_INPUT_ROW
    for cell, value in zip(INPUTS, inputs, strict=True):
        ws.write_string(row, 0, cell.label, label)
        ws.write_string(row, 1, value, input_format)
        wb.define_name(cell.name, f"='{SHEET}'!$B${row + 1}")
        row += 1
    row += 1
    ws.write_string(row, 0, "Resultat av senaste körningen", heading)
    row += 1
    for cell in RESULTS:
        ws.write_string(row, 0, cell.label, label)
        ws.write_blank(row, 1, None, result_format)
        wb.define_name(cell.name, f"='{SHEET}'!$B${row + 1}")
        if cell.name == RESULT_MESSAGE:
            ws.set_row(row, 44)  # a sentence or two, wrapped
        row += 1
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True})
    ws.activate()
    wb.close()


def write_control_workbook(
    path: str | Path,
    *,
    inbox: str = DEFAULT_INBOX,
    output: str = DEFAULT_OUTPUT,
    config: str | Path | None = None,
    spec: FormSpec | None = None,
    with_script: bool = True,
) -> list[Path]:
    """Write the control workbook (and the "Run main" module beside it); returns the files written.

    `config` is RAR's override file, written into the workbook so that a run reads the reports
    with the same form as the templates were made from.
    """
    path = Path(path)
    if with_script:
        check_workbook_name(path)
    spec = spec or default_spec()
    inputs = (str(inbox), str(output), str(config or ""))
    with atomic_path(path) as tmp:
        _write_workbook(tmp, spec, inputs, script_name(path))
    written = [path]
    if with_script:
        script = path.with_name(script_name(path))
        with atomic_path(script) as tmp:
            tmp.write_text(script_text(path), encoding="utf-8")
        written.append(script)
    return written
