"""An annotated COPY of a workbook: its "Kontroll" sheet lists every problem, linked to its cell.

A report made from the template already has that sheet (open, last, for the Validera button):
the copy rewrites that sheet part and keeps its name and place. Any other workbook (an older
template, a file RAR did not make) gets a new sheet. Either way the copy opens on the list.

The copy is made at the zip level: every part of the original is copied byte for byte except the
Kontroll sheet and the few small entries that register or show it (workbook.xml, its
relationships, [Content_Types].xml, which tab is selected). A load-and-save through openpyxl
would drop what it does not understand (extension validations, shapes, form controls), so it is
not used. The original file is only read.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from defusedxml import ElementTree as SafeET

from ..common.atomic import atomic_path
from ..common.issues import SEVERITY_SV, shown_value
from ..form.control_sheet import CONTROL_COLUMNS, CONTROL_TITLE
from ..form.spec import FORM_VERSION_NAME, FormSpec, default_spec
from .result import ReadResult
from .safety import READABLE_KINDS, FileCheck, inspect_file

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_TYPE = REL_NS + "/worksheet"
WORKSHEET_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CALC_CHAIN = "xl/calcChain.xml"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_SHEET_TAG = re.compile(r"<(?:\w+:)?sheet\b[^>]*>")
_TAB_SELECTED = re.compile(rb'tabSelected\s*=\s*["\'](?:1|true)["\']')


class AnnotateError(Exception):
    """The copy cannot be made (the file is not a workbook we can extend); message in Swedish."""


def annotated_name(source: Path) -> str:
    return f"{source.stem}_kontroll{source.suffix or '.xlsx'}"


def write_annotated_copy(
    source: str | Path, result: ReadResult, outdir: str | Path, spec: FormSpec | None = None, *,
    check: FileCheck | None = None,
) -> Path:
    """Write OUTDIR/<name>_kontroll.xlsx: the original with the list on its Kontroll sheet.
    `check`: safety's check of `source` with its parts kept (read.read_checked), if made already."""
    control_sheet = (spec or default_spec()).control_sheet
    source = Path(source)
    target = Path(outdir) / annotated_name(source)  # its folder is made when the copy is written
    if target.resolve() == source.resolve():  # never overwrite the original
        raise AnnotateError(
            "Ingen kontrollkopia: den skulle skriva över originalfilen. Välj en annan mapp."
        )
    # The safety check's limits hold for the copy too: a zip bomb or an XML bomb is never inflated
    # here, and the parts it did inflate are the ones copied.
    if check is None or check.parts is None:
        check = inspect_file(source, keep_parts=True)
    if not check.readable or check.parts is None or check.content is None:
        if check.kind in READABLE_KINDS:
            raise AnnotateError(
                "Ingen kontrollkopia: filen vägrades av säkerhetskontrollen (se felen ovan)."
            )
        raise AnnotateError("Ingen kontrollkopia: filen är inte en Excel-arbetsbok.")
    try:
        with zipfile.ZipFile(io.BytesIO(check.content)) as archive:
            parts = {info.filename: (info, check.parts[info.filename]) for info in archive.infolist()}
        new_parts, removed = _annotate(parts, result, control_sheet)
    except AnnotateError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged file gets no copy, and a message
        raise AnnotateError("Ingen kontrollkopia: filen är inte en läsbar Excel-arbetsbok.") from exc
    with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as copy:
        for name, (info, data) in parts.items():
            if name not in removed:
                copy.writestr(info, new_parts.pop(name, data))
        for name, data in new_parts.items():
            copy.writestr(name, data)
    return target


def _annotate(
    parts: dict[str, tuple[zipfile.ZipInfo, bytes]], result: ReadResult, control_sheet: str
) -> tuple[dict[str, bytes], set[str]]:
    """The changed or new parts (name → bytes) and the parts to leave out of the copy.

    The Kontroll sheet is rewritten only in a file made from the template (it carries the form
    version): another workbook's "Kontroll" is its owner's and stays as it is.
    """
    workbook = parts["xl/workbook.xml"][1]
    root = SafeET.fromstring(workbook)
    if root.tag != f"{{{MAIN_NS}}}workbook":
        raise AnnotateError("Ingen kontrollkopia: den kan bara göras av en vanlig Excel-arbetsbok (.xlsx).")
    sheets = list(root.iter(f"{{{MAIN_NS}}}sheet"))
    names = [el.get("name", "") for el in sheets]
    index = next((i for i, name in enumerate(names) if name.casefold() == control_sheet.casefold()), None)
    from_template = any(el.get("name") == FORM_VERSION_NAME for el in root.iter(f"{{{MAIN_NS}}}definedName"))
    part = _sheet_part(parts, sheets[index]) if from_template and index is not None else None
    if part is not None:
        changed, removed = _replace_sheet(parts, index, part, result, set(names))
    else:
        changed, removed = _add_sheet(parts, control_sheet, result, set(names)), set()
        index = len(sheets)
    text = changed.get("xl/workbook.xml", workbook).decode("utf-8")
    changed["xl/workbook.xml"] = _select_tab(text, index).encode("utf-8")
    for name, (_info, data) in parts.items():  # exactly one selected tab: the Kontroll sheet
        if name != part and name.startswith("xl/worksheets/") and _TAB_SELECTED.search(data):
            changed[name] = _TAB_SELECTED.sub(b'tabSelected="0"', data)  # Excel writes "1", LibreOffice "true"
    return changed, removed


def _rels_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _relationships(parts: dict[str, tuple[zipfile.ZipInfo, bytes]], rels: str) -> list[tuple[str, str, str]]:
    """(Id, Type, zip path of the target) of a relationships part's internal relationships."""
    source_folder = posixpath.dirname(posixpath.dirname(rels))  # xl/_rels/workbook.xml.rels → xl
    found = []
    for rel in SafeET.fromstring(parts[rels][1]):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(source_folder, target)
        found.append((rel.get("Id", ""), rel.get("Type", ""), posixpath.normpath(path)))
    return found


def _sheet_part(parts: dict[str, tuple[zipfile.ZipInfo, bytes]], sheet: Any) -> str | None:
    """The zip path of a sheet's worksheet part; None for a chart sheet or a dangling entry."""
    rel_id = sheet.get(f"{{{REL_NS}}}id") or sheet.get(
        "{http://purl.oclc.org/ooxml/officeDocument/relationships}id"
    )
    for found_id, kind, path in _relationships(parts, "xl/_rels/workbook.xml.rels"):
        if found_id == rel_id and kind.endswith("/worksheet"):
            return path if path in parts else None
    return None


def _orphans(parts: dict[str, tuple[zipfile.ZipInfo, bytes]], rels: str) -> set[str]:
    """A dropped relationships part and every part that only it led to (comments, drawings …)."""
    dropped: set[str] = set()
    todo = [rels]
    while todo:
        current = todo.pop()
        dropped.add(current)
        for _id, _kind, target in _relationships(parts, current):
            if target not in parts or target in dropped:
                continue
            others = (name for name in parts if name.endswith(".rels") and name not in dropped)
            if any(target == path for other in others for _i, _k, path in _relationships(parts, other)):
                continue
            dropped.add(target)
            if _rels_of(target) in parts:
                todo.append(_rels_of(target))
    return dropped


def _replace_sheet(
    parts: dict[str, tuple[zipfile.ZipInfo, bytes]], index: int, part: str, result: ReadResult,
    sheet_names: set[str],
) -> tuple[dict[str, bytes], set[str]]:
    """The existing Kontroll sheet's part rewritten with the list; its name and place are kept.

    What its old content brought along goes with it: its relationships and the parts only they
    led to (a coordinator's comments or pictures), and the calculation chain, which may list the
    old content's formulas (Excel rebuilds it). The sheet's print area (the template prints no
    Kontroll page) goes too: the copy is for reading, on screen or on paper.
    """
    removed = _orphans(parts, _rels_of(part)) if _rels_of(part) in parts else set()
    workbook_rels = parts["xl/_rels/workbook.xml.rels"][1]
    if CALC_CHAIN in parts:
        removed.add(CALC_CHAIN)
        workbook_rels = _drop_element(workbook_rels, "Relationship", "Target", "calcChain.xml")
    types = parts["[Content_Types].xml"][1]
    for name in removed:
        types = _drop_element(types, "Override", "PartName", "/" + name, whole=True)
    text = parts["xl/workbook.xml"][1].decode("utf-8")
    return {
        part: _sheet_xml(result, sheet_names).encode("utf-8"),
        "xl/workbook.xml": _drop_print_area(_show_sheet(text, index), index).encode("utf-8"),
        "xl/_rels/workbook.xml.rels": workbook_rels,
        "[Content_Types].xml": types,
    }, removed


def _add_sheet(
    parts: dict[str, tuple[zipfile.ZipInfo, bytes]], control_sheet: str, result: ReadResult,
    sheet_names: set[str],
) -> dict[str, bytes]:
    """The changed and new parts that add a Kontroll sheet after the last one."""
    workbook = parts["xl/workbook.xml"][1]
    rels = parts["xl/_rels/workbook.xml.rels"][1]
    types = parts["[Content_Types].xml"][1]
    sheets = list(SafeET.fromstring(workbook).iter(f"{{{MAIN_NS}}}sheet"))
    title = control_sheet
    number = 2
    while title.casefold() in {name.casefold() for name in sheet_names}:
        title, number = f"{control_sheet} ({number})", number + 1
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
    return {
        "xl/workbook.xml": text.encode("utf-8"),
        "xl/_rels/workbook.xml.rels": _insert_before(
            rels, "Relationships",
            f'<Relationship Id="{rel_id}" Type="{WORKSHEET_TYPE}" Target="/{part}"/>',
        ),
        "[Content_Types].xml": _insert_before(
            types, "Types", f'<Override PartName="/{part}" ContentType="{WORKSHEET_CONTENT}"/>'
        ),
        part: _sheet_xml(result, sheet_names | {title}).encode("utf-8"),
    }


def _show_sheet(text: str, index: int) -> str:
    """The sheet entry at `index` without a hidden state: the copy opens on it."""
    tags = list(_SHEET_TAG.finditer(text))
    tag = tags[index]
    shown = re.sub(r'\sstate="[^"]*"', "", tag.group(0))
    return text[: tag.start()] + shown + text[tag.end():]


def _drop_print_area(text: str, index: int) -> str:
    """Remove the print area that belongs to the sheet at `index` (a sheet-scoped built-in name)."""
    def keep(match: re.Match[str]) -> str:
        tag = match.group(1)
        local = re.search(r'\blocalSheetId="(\d+)"', tag)
        name = re.search(r'\bname="([^"]*)"', tag)
        if local and name and int(local.group(1)) == index and name.group(1) == "_xlnm.Print_Area":
            return ""
        return match.group(0)

    return re.sub(r"(<(?:\w+:)?definedName\b[^>]*>).*?</(?:\w+:)?definedName>", keep, text, flags=re.S)


def _drop_element(data: bytes, element: str, attribute: str, value: str, *, whole: bool = False) -> bytes:
    """Remove the empty element whose attribute ends with (`whole`: equals) `value`."""
    prefix = "" if whole else '[^"]*'
    pattern = rf'<(?:\w+:)?{element}\b[^>]*\b{attribute}="{prefix}{re.escape(escape(value))}"[^>]*/>'
    return re.sub(pattern, "", data.decode("utf-8")).encode("utf-8")


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
        [CONTROL_TITLE],
        [f"Fil: {Path(result.file).name}" + (f" (SHA-256 {result.sha256})" if result.sha256 else "")],
        [verdict],
        ["Det här är en kopia för läsning. Originalfilen är oförändrad; gör rättelserna i den."],
        [],
        [header for header, _width in CONTROL_COLUMNS],
    ]
    links: list[str] = []
    for issue in result.issues:
        row = len(lines) + 1
        lines.append([SEVERITY_SV[issue.severity], issue.sheet or "", issue.cell or "", issue.label or "",
                      shown_value(issue.value), issue.message])
        if issue.sheet in sheet_names and issue.cell:
            location = "'" + issue.sheet.replace("'", "''") + "'!" + issue.cell
            links.append(f"<hyperlink ref=\"C{row}\" location={quoteattr(location)} "
                         f"display={quoteattr(issue.sheet + '!' + issue.cell)}/>")
    rows = []
    for number, values in enumerate(lines, start=1):
        cells = "".join(_cell(f"{chr(65 + col)}{number}", value) for col, value in enumerate(values)
                        if value not in (None, ""))
        rows.append(f'<row r="{number}">{cells}</row>')
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                   for i, (_header, w) in enumerate(CONTROL_COLUMNS, 1))
    hyperlinks = f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        '<pane ySplit="6" topLeftCell="A7" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        f"<cols>{cols}</cols><sheetData>{''.join(rows)}</sheetData>{hyperlinks}"
        '<pageMargins left="0.5" right="0.5" top="0.7" bottom="0.7" header="0.3" footer="0.3"/>'
        '<pageSetup paperSize="9" orientation="landscape" fitToHeight="0"/>'
        "</worksheet>"
    )
