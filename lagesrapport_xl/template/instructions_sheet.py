"""The sheet "Instruktioner": the form's instructions (spec.instructions), heading by heading,
and the form version at the end, printable on A4 like the report.

What a template says depends on how it is made (TemplateOptions): where to send the report (the
upload address from rar.toml, e-mail only without one) and whether there is a Validera button.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ..common.config import TemplateOptions
from ..form.spec import FormSpec, Instruction
from .formats import TemplateFormats
from .page import TITLE_HEIGHT, print_scale, setup_print, text_height

INSTRUCTION_WIDTH = 92


def _shown(item: Instruction, options: TemplateOptions) -> bool:
    return {
        "": True,
        "excel_buttons": options.excel_buttons,
        "upload_url": options.upload_url is not None,
        "no_upload_url": options.upload_url is None,
    }[item.when]


def instruction_blocks(spec: FormSpec, options: TemplateOptions) -> list[tuple[str, list[str]]]:
    """(heading, paragraphs) as this template shows them: a part without a heading goes on under
    the heading before it."""
    blocks: list[tuple[str, list[str]]] = []
    for item in spec.instructions:
        if not _shown(item, options):
            continue
        paragraphs = [p for p in item.text.replace("{upload_url}", options.upload_url or "").splitlines() if p.strip()]
        if item.heading or not blocks:
            blocks.append((item.heading, paragraphs))
        else:
            blocks[-1][1].extend(paragraphs)
    return blocks


def write_instructions(ws: Worksheet, spec: FormSpec, fmts: TemplateFormats, options: TemplateOptions) -> None:
    ws.set_column(0, 0, 2)
    ws.set_column(1, 1, INSTRUCTION_WIDTH)
    row = 0
    for index, (heading, paragraphs) in enumerate(instruction_blocks(spec, options)):
        ws.write_string(row, 1, heading, fmts.title if index == 0 else fmts.heading)
        ws.set_row(row, TITLE_HEIGHT if index == 0 else 22)
        row += 1
        for paragraph in paragraphs:
            ws.write_string(row, 1, paragraph, fmts.paragraph)
            ws.set_row(row, text_height(paragraph, INSTRUCTION_WIDTH, minimum=15.0))
            row += 1
        row += 1
    ws.write_string(row, 1, f"Formulärversion {spec.version}", fmts.note)
    ws.print_area(0, 0, row, 1)
    setup_print(ws, spec, print_scale([2, INSTRUCTION_WIDTH]), repeat_to_row=0)
