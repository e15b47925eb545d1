"""An annotated COPY of a workbook: a "Kontroll" sheet listing every problem, linked to its cell.

The copy is made at the zip level: every part of the original is copied byte for byte and
only the new sheet and the four small entries that register it are added (workbook.xml,
its relationships, [Content_Types].xml, and which tab is selected). A load-and-save through
openpyxl would drop what it does not understand (extension validations, shapes, form controls),
so it is not used. The original file is only read.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from defusedxml import ElementTree as SafeET

from .issues import SEVERITY_SV, json_value
from .result import ReadResult

SHEET_TITLE = "Kontroll"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_TYPE = REL_NS + "/worksheet"
WORKSHEET_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
HEADERS = ("Typ", "Blad", "Cell", "Fråga", "Värde", "Meddelande")
WIDTHS = (10, 16, 10, 50, 30, 110)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")


class AnnotateError(Exception):
    """The copy cannot be made (the file is not a workbook we can extend); message in Swedish."""


def annotated_name(source: Path) -> str:
    return f"{source.stem}_kontroll{source.suffix or '.xlsx'}"


def write_annotated_copy(source: str | Path, result: ReadResult, outdir: str | Path) -> Path:
    """Write OUTDIR/<name>_kontroll.xlsx: the original plus a Kontroll sheet. Returns its path."""
    source = Path(source)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / annotated_name(source)
    if target.resolve() == source.resolve():  # never overwrite the original
        raise AnnotateError(
            "Ingen kontrollkopia: den skulle skriva över originalfilen. Välj en annan mapp."
        )
    if not zipfile.is_zipfile(source):
        raise AnnotateError("Ingen kontrollkopia: filen är inte en Excel-arbetsbok.")
    try:
        with zipfile.ZipFile(source) as archive:
            parts = {info.filename: (info, archive.read(info.filename)) for info in archive.infolist()}
        new_parts = _add_sheet(parts, result)
    except AnnotateError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged file gets no copy, and a message
        raise AnnotateError("Ingen kontrollkopia: filen är inte en läsbar Excel-arbetsbok.") from exc
    handle, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=target.suffix, dir=outdir)
    os.close(handle)
    try:
        with zipfile.ZipFile(tmp_name, "w", zipfile.ZIP_DEFLATED) as copy:
            for name, (info, data) in parts.items():
                copy.writestr(info, new_parts.pop(name, data))
            for name, data in new_parts.items():
                copy.writestr(name, data)
        os.replace(tmp_name, target)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return target


def _add_sheet(parts: dict[str, tuple[zipfile.ZipInfo, bytes]], result: ReadResult) -> dict[str, bytes]:
    """The changed and new parts (name → bytes) that add the Kontroll sheet as the active tab."""
    workbook = parts["xl/workbook.xml"][1]
    rels = parts["xl/_rels/workbook.xml.rels"][1]
    types = parts["[Content_Types].xml"][1]
    root = SafeET.fromstring(workbook)
    if root.tag != f"{{{MAIN_NS}}}workbook":
        raise AnnotateError("Ingen kontrollkopia: den kan bara göras av en vanlig Excel-arbetsbok (.xlsx).")
    sheets = [el for el in root.iter(f"{{{MAIN_NS}}}sheet")]
    names = {el.get("name", "") for el in sheets}
    title = SHEET_TITLE
    number = 2
    while title in names:
        title, number = f"{SHEET_TITLE} ({number})", number + 1
    sheet_id = max((int(el.get("sheetId", "0")) for el in sheets), default=0) + 1
    part = _free_name(set(parts), "xl/worksheets/kontroll{}.xml")
    rel_id = _free_name(set(re.findall(r'Id="([^"]*)"', rels.decode("utf-8"))), "rIdKontroll{}")
    text = workbook.decode("utf-8")
    prefix = _prefix_for(text, REL_NS)
    id_attr = f'{prefix}:id="{rel_id}"' if prefix else f'xmlns:rk="{REL_NS}" rk:id="{rel_id}"'

    def add_sheet(match: re.Match[str]) -> str:  # in the sheet list's own namespace prefix
        element = f"<{match.group(1) or ''}sheet name={quoteattr(title)} sheetId=\"{sheet_id}\" {id_attr}/>"
        return element + match.group(0)

    text, count = re.subn(r"</(\w+:)?sheets>", add_sheet, text, count=1)
    if count != 1:
        raise AnnotateError("Ingen kontrollkopia: arbetsboken saknar bladlista.")
    text = _select_tab(text, len(sheets))
    changed = {
        "xl/workbook.xml": text.encode("utf-8"),
        "xl/_rels/workbook.xml.rels": _insert_before(
            rels, "Relationships",
            f'<Relationship Id="{rel_id}" Type="{WORKSHEET_TYPE}" Target="/{part}"/>',
        ),
        "[Content_Types].xml": _insert_before(
            types, "Types", f'<Override PartName="/{part}" ContentType="{WORKSHEET_CONTENT}"/>'
        ),
        part: _sheet_xml(result, names).encode("utf-8"),
    }
    for name, (_info, data) in parts.items():  # exactly one selected tab: the new one
        if name.startswith("xl/worksheets/") and b'tabSelected="1"' in data:
            changed[name] = data.replace(b'tabSelected="1"', b'tabSelected="0"')
    return changed


def _free_name(taken: set[str], pattern: str) -> str:
    number = 1
    while pattern.format(number) in taken:
        number += 1
    return pattern.format(number)


def _prefix_for(text: str, namespace: str) -> str | None:
    match = re.search(r'xmlns:(\w+)="' + re.escape(namespace) + '"', text[: text.find(">") + 1])
    return match.group(1) if match else None


def _select_tab(text: str, index: int) -> str:
    """Open the copy on the Kontroll sheet (workbookView activeTab)."""
    def view(match: re.Match[str]) -> str:
        tag = re.sub(r'\sactiveTab="\d+"', "", match.group(0))
        return tag.replace(match.group(1), f'{match.group(1)} activeTab="{index}"', 1)

    return re.sub(r"<((?:\w+:)?workbookView)\b[^>]*>", view, text, count=1)


def _insert_before(data: bytes, element: str, xml: str) -> bytes:
    text = data.decode("utf-8")
    text, count = re.subn(rf"(</(?:\w+:)?{element}>)", lambda m: xml + m.group(1), text, count=1)
    if count != 1:
        raise AnnotateError(f"Ingen kontrollkopia: arbetsbokens del {element} saknas.")
    return text.encode("utf-8")


def _text(value: object) -> str:
    """XML text as OOXML wants it: control characters and literal _xHHHH_ escaped."""
    raw = "" if value is None else str(value)
    raw = _CONTROL.sub(lambda m: "_x005F_" if m.group(0) == "_" else f"_x{ord(m.group(0)):04X}_", raw)
    return escape(raw)


def _cell(ref: str, value: object) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'


def _sheet_xml(result: ReadResult, sheet_names: set[str]) -> str:
    errors, warnings = len(result.errors), len(result.warnings)
    warning_text = f"{warnings} {'varning' if warnings == 1 else 'varningar'}"
    if errors:
        verdict = f"{errors} fel och {warning_text}. Rätta felen och skicka filen till RAR igen."
    elif warnings:
        verdict = f"Inga fel, {warning_text}. Läs varningarna; rapporten kan skickas."
    else:
        verdict = "Inga fel och inga varningar. Rapporten kan skickas."
    lines: list[list[object]] = [
        ["Kontroll av lägesrapporten"],
        [f"Fil: {Path(result.file).name}" + (f" (SHA-256 {result.sha256})" if result.sha256 else "")],
        [verdict],
        ["Det här är en kopia för läsning. Originalfilen är oförändrad; gör rättelserna i den."],
        [],
        list(HEADERS),
    ]
    links: list[str] = []
    for issue in result.issues:
        row = len(lines) + 1
        lines.append([SEVERITY_SV[issue.severity], issue.sheet or "", issue.cell or "", issue.label or "",
                      json_value(issue.value), issue.message])
        if issue.sheet in sheet_names and issue.cell:
            location = "'" + issue.sheet.replace("'", "''") + "'!" + issue.cell
            links.append(f"<hyperlink ref=\"C{row}\" location={quoteattr(location)} "
                         f"display={quoteattr(issue.sheet + '!' + issue.cell)}/>")
    rows = []
    for number, values in enumerate(lines, start=1):
        cells = "".join(_cell(f"{chr(65 + col)}{number}", value) for col, value in enumerate(values)
                        if value not in (None, ""))
        rows.append(f'<row r="{number}">{cells}</row>')
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(WIDTHS, 1))
    hyperlinks = f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        '<pane ySplit="6" topLeftCell="A7" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        f"<cols>{cols}</cols><sheetData>{''.join(rows)}</sheetData>{hyperlinks}"
        '<pageMargins left="0.5" right="0.5" top="0.7" bottom="0.7" header="0.3" footer="0.3"/>'
        "</worksheet>"
    )
