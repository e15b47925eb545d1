"""The sheet "Instruktioner": the form's instructions (spec.instructions), heading by heading,
and the form version at the end, printable on A4 like the report."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ..form.spec import FormSpec
from .formats import TemplateFormats
from .page import TITLE_HEIGHT, print_scale, setup_print, text_height

INSTRUCTION_WIDTH = 92


def write_instructions(ws: Worksheet, spec: FormSpec, fmts: TemplateFormats) -> None:
    ws.set_column(0, 0, 2)
    ws.set_column(1, 1, INSTRUCTION_WIDTH)
    row = 0
    for index, (heading, text) in enumerate(spec.instructions):
        ws.write_string(row, 1, heading, fmts.title if index == 0 else fmts.heading)
        ws.set_row(row, TITLE_HEIGHT if index == 0 else 22)
        row += 1
        for paragraph in text.splitlines():
            if paragraph.strip():
                ws.write_string(row, 1, paragraph, fmts.paragraph)
                ws.set_row(row, text_height(paragraph, INSTRUCTION_WIDTH, minimum=15.0))
                row += 1
        row += 1
    ws.write_string(row, 1, f"Formulärversion {spec.version}", fmts.note)
    ws.print_area(0, 0, row, 1)
    setup_print(ws, spec, print_scale([2, INSTRUCTION_WIDTH]), repeat_to_row=0)
