"""The bad-input corpus: every kind of broken, wrong or hostile file RAR can be sent, as a table.

Each `Case` builds its file from the real generated template (filled the way a person types, or
edited at the zip/XML level the way Excel, LibreOffice or an attacker would leave it) and states
the outcome it must get, a distinctive fragment of the Swedish message and, for answers, the
field whose cell the message must point at. Nothing here is a stored binary: every file is made
by code, the old formats by LibreOffice and the encrypted workbook by msoffcrypto-tool.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import tempfile
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Callable

from openpyxl import Workbook, load_workbook
from openpyxl.utils.cell import coordinate_from_string

from lagesrapport_dev.fill import fill_workbook
from lagesrapport_dev.libreoffice import LibreOffice
from lagesrapport_dev.samples import example_answers
from lagesrapport_xl.form.spec import FormSpec, default_spec
from lagesrapport_xl.template.writer import VERSION_PROPERTY, write_template

SPEC: FormSpec = default_spec()
REPORT = "rapport.xlsx"


@dataclass(frozen=True)
class Case:
    """One kind of bad input. `cell` is the field key whose cell the message must name."""

    name: str
    build: Callable[[Path], Path]
    expect: str  # accepted | warning | rejected | skipped
    message: str | None = None
    cell: str | None = None
    kind: str | None = None  # what safety.inspect_file must call the file (None: a readable workbook)
    group: str = "typed"  # typed | structure | file | hostile


# --- the real template and filled reports ------------------------------------------------------


@cache
def template_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return write_template(Path(folder) / "mall.xlsx", SPEC).read_bytes()


def answers(**changes: Any) -> dict[str, Any]:
    """The example report with some answers changed; None empties a cell."""
    values = example_answers(SPEC)
    values.update(changes)
    return values


def filled(tmp: Path, changes: dict[str, Any] | None = None, name: str = REPORT) -> Path:
    """The template with the example answers (changed) typed in, saved like Excel would."""
    template = tmp / "_mall.xlsx"
    if not template.exists():
        template.write_bytes(template_bytes())
    return fill_workbook(template, tmp / name, answers(**(changes or {})))


def typed(**changes: Any) -> Callable[[Path], Path]:
    return lambda tmp: filled(tmp, changes)


def first_field(type_name: str, required: bool | None = None) -> str:
    """The first field of a type in the form's order, so cases follow the spec, not fixed keys."""
    for field in SPEC.fields.values():
        if field.type.name == type_name and (required is None or field.required is required):
            return field.key
    raise LookupError(type_name)


def example(key: str) -> Any:
    return example_answers(SPEC)[key]


# --- zip and XML surgery -------------------------------------------------------------------------


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


@dataclass(frozen=True)
class Filler:
    """A part of `size` bytes of one repeated byte, written in chunks (never held in memory)."""

    size: int
    byte: bytes = b" "


def write_zip(path: Path, items: Any, method: int = zipfile.ZIP_DEFLATED) -> Path:
    """Write parts (a dict or a list of (name, bytes | Filler)) into a new zip archive."""
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in items.items() if isinstance(items, dict) else items:
            put(archive, name, data, method)
    return path


def put(archive: zipfile.ZipFile, name: str, data: bytes | Filler, method: int = zipfile.ZIP_DEFLATED) -> None:
    if isinstance(data, Filler):
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as stream:
            for _ in range(data.size // 2**20):
                stream.write(data.byte * 2**20)
    else:
        archive.writestr(name, data, compress_type=method)


def sheet_part(items: dict[str, bytes], sheet: str) -> str:
    """The zip part of a sheet, found through xl/workbook.xml and its relationships."""
    rel_id = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', items["xl/workbook.xml"].decode())
    if rel_id is None:
        rel_id = re.search(rf'<sheet [^>]*r:id="([^"]+)"[^>]*name="{re.escape(sheet)}"', items["xl/workbook.xml"].decode())
    rels = items["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'<Relationship [^>]*Id="{rel_id.group(1)}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rel_id.group(1)}"', rels
    )
    return target.group(1).lstrip("/") if target.group(1).startswith("/") else "xl/" + target.group(1)


def edited(
    tmp: Path,
    edit: Callable[[dict[str, bytes]], None],
    changes: dict[str, Any] | None = None,
    name: str = REPORT,
) -> Path:
    """A filled report whose zip parts `edit` changes in place (a dict part name → bytes)."""
    source = filled(tmp, changes, name="_filled.xlsx")
    items = parts(source)
    edit(items)
    return write_zip(tmp / name, items)


def with_marker(key: str, replacement: bytes) -> Callable[[Path], Path]:
    """Type a marker into a text answer, then replace it in the sheet XML with crafted bytes."""
    marker = f"MARKÖR-{key}"

    def build(tmp: Path) -> Path:
        def edit(items: dict[str, bytes]) -> None:
            part = sheet_part(items, SPEC.field(key).sheet)
            assert marker.encode() in items[part]
            items[part] = items[part].replace(marker.encode(), replacement)

        return edited(tmp, edit, {key: marker})

    return build


def openpyxl_edit(edit: Callable[[Any], None], changes: dict[str, Any] | None = None) -> Callable[[Path], Path]:
    """Open a filled report in openpyxl, change its structure as a user would, save."""

    def build(tmp: Path) -> Path:
        source = filled(tmp, changes, name="_filled.xlsx")
        wb = load_workbook(source)
        edit(wb)
        wb.save(tmp / REPORT)
        return tmp / REPORT

    return build


def name_cell(wb: Any, key: str) -> tuple[str, str]:
    (sheet, address), = wb.defined_names[key].destinations
    return sheet, address.replace("$", "")


def set_name(wb: Any, key: str, text: str) -> None:
    wb.defined_names[key].attr_text = text


def quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


# --- structure changes as Excel makes them ----------------------------------------------------


def rename_sheet(sheet: str, new: str, names_follow: bool) -> Callable[[Any], None]:
    def edit(wb: Any) -> None:
        wb[sheet].title = new
        if names_follow:  # Excel rewrites every reference to a renamed sheet
            for defined in wb.defined_names.values():
                defined.attr_text = defined.attr_text.replace(quote(sheet) + "!", quote(new) + "!")

    return edit


def delete_sheet(sheet: str) -> Callable[[Any], None]:
    def edit(wb: Any) -> None:
        wb.remove(wb[sheet])
        for defined in wb.defined_names.values():  # Excel turns references to a deleted sheet into #REF!
            if defined.attr_text.startswith(quote(sheet) + "!"):
                defined.attr_text = "#REF!" + defined.attr_text.split("!", 1)[1]

    return edit


def insert_rows(key: str, count: int, unprotect: bool) -> Callable[[Any], None]:
    """Insert rows above a field's cell: the cells move down and Excel moves the names with them."""

    def edit(wb: Any) -> None:
        sheet, address = name_cell(wb, key)
        ws = wb[sheet]
        if unprotect:
            ws.protection.sheet = False
        row = coordinate_from_string(address)[1]
        for defined in wb.defined_names.values():
            for target_sheet, target in defined.destinations:
                column, target_row = coordinate_from_string(target.replace("$", ""))
                if target_sheet == sheet and target_row >= row:
                    defined.attr_text = f"{quote(sheet)}!${column}${target_row + count}"
        ws.insert_rows(row, count)

    return edit


def move_cell(key: str, rows_down: int) -> Callable[[Any], None]:
    """Cut and paste an answer cell: the value moves and Excel's name follows it."""

    def edit(wb: Any) -> None:
        sheet, address = name_cell(wb, key)
        ws = wb[sheet]
        source = ws[address]
        target = ws.cell(row=source.row + rows_down, column=source.column)
        target.value, source.value = source.value, None
        set_name(wb, key, f"{quote(sheet)}!${target.column_letter}${target.row}")

    return edit


def point_name_elsewhere(key: str, rows_down: int) -> Callable[[Any], None]:
    """Name Manager edited by hand: the name now points at another, empty cell of the same sheet."""

    def edit(wb: Any) -> None:
        sheet, address = name_cell(wb, key)
        cell = wb[sheet][address]
        set_name(wb, key, f"{quote(sheet)}!${cell.column_letter}${cell.row + rows_down}")

    return edit


def merge_with_right(key: str) -> Callable[[Any], None]:
    def edit(wb: Any) -> None:
        sheet, address = name_cell(wb, key)
        ws = wb[sheet]
        cell = ws[address]
        ws.protection.sheet = False
        ws.merge_cells(start_row=cell.row, start_column=cell.column, end_row=cell.row, end_column=cell.column + 1)

    return edit


def set_form_version(version: str | None) -> Callable[[Any], None]:
    """Change (or remove) both version stamps: the Data sheet cell and the document property."""

    def edit(wb: Any) -> None:
        sheet, address = name_cell(wb, "form_version")
        wb[sheet][address].value = version
        props = wb.custom_doc_props
        for prop in list(props):
            if prop.name == VERSION_PROPERTY:
                if version is None:
                    props.props.remove(prop)
                else:
                    prop.value = version

    return edit


def set_version_cell_only(version: str) -> Callable[[Any], None]:
    def edit(wb: Any) -> None:
        sheet, address = name_cell(wb, "form_version")
        wb[sheet][address].value = version

    return edit


def drop_version(wb: Any) -> None:
    """Delete the hidden Data sheet, its names and the version property: no stamp is left."""
    sheet, _ = name_cell(wb, "form_version")
    wb.remove(wb[sheet])
    for key in [k for k, d in wb.defined_names.items() if d.attr_text.startswith(quote(sheet) + "!")]:
        del wb.defined_names[key]
    props = wb.custom_doc_props
    for prop in [p for p in props if p.name == VERSION_PROPERTY]:
        props.props.remove(prop)


def _bumped(position: int) -> str:
    """The form's version with one part raised: _bumped(0) is a new major version."""
    parts_ = [int(p) for p in SPEC.version.split(".")]
    parts_[position] += 1
    return ".".join(str(p) for p in parts_[: position + 1] + [0] * (len(parts_) - position - 1))


def remove_protection(items: dict[str, bytes]) -> None:
    for name in list(items):
        if name.startswith("xl/worksheets/"):
            items[name] = re.sub(rb"<sheetProtection[^>]*/>", b"", items[name])
    items["xl/workbook.xml"] = re.sub(rb"<workbookProtection[^>]*/>", b"", items["xl/workbook.xml"])


def not_the_template(tmp: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Blad1"
    ws.append(["Insats", "Deltagare", "Kostnad"])
    ws.append(["Nyttiga affärer", 16, 254000])
    wb.save(tmp / REPORT)
    return tmp / REPORT


# --- macros, external links --------------------------------------------------------------------

_CT_MACRO = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def add_macros(items: dict[str, bytes]) -> None:
    items["xl/vbaProject.bin"] = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504  # an (empty) VBA storage
    ct = items["[Content_Types].xml"]
    ct = re.sub(rb'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main\+xml"',
                b'ContentType="' + _CT_MACRO + b'"', ct)
    items["[Content_Types].xml"] = ct.replace(
        b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'
    )
    items["xl/_rels/workbook.xml.rels"] = items["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
        b'Target="vbaProject.bin"/></Relationships>',
    )


def add_external_link(items: dict[str, bytes]) -> None:
    items["xl/externalLinks/externalLink1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        b'<externalBook r:id="rId1"><sheetNames><sheetName val="Blad1"/></sheetNames></externalBook></externalLink>'
    )
    items["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'externalLinkPath" Target="file:///C:/Users/anna/budget.xlsx" TargetMode="External"/></Relationships>'
    )
    items["[Content_Types].xml"] = items["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>',
    )
    items["xl/_rels/workbook.xml.rels"] = items["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdExt1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>',
    )
    items["xl/workbook.xml"] = re.sub(
        rb"(</sheets>)", rb'\1<externalReferences><externalReference r:id="rIdExt1"/></externalReferences>',
        items["xl/workbook.xml"],
    )


# --- other file formats --------------------------------------------------------------------------


@cache
def converted(fmt: str) -> bytes:
    """The example report converted by LibreOffice (xlsx, xls, ods, csv), as bytes."""
    with tempfile.TemporaryDirectory() as folder:
        folder_path = Path(folder)
        source = filled(folder_path)
        (produced,) = LibreOffice(folder_path / "profile").convert(source, fmt, folder_path / "out")
        return produced.read_bytes()


def libreoffice_file(fmt: str) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / REPORT
        path.write_bytes(converted(fmt))
        return path

    return build


def raw(data: bytes, name: str = REPORT) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        (tmp / name).write_bytes(data)
        return tmp / name

    return build


def encrypted(tmp: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    source = filled(tmp, name="_filled.xlsx")
    output = io.BytesIO()
    with source.open("rb") as handle:
        OOXMLFile(handle).encrypt("hemligt", output)
    return raw(output.getvalue())(tmp)


def truncated(tmp: Path) -> Path:
    data = filled(tmp, name="_filled.xlsx").read_bytes()
    return raw(data[: len(data) * 3 // 5])(tmp)


def lock_file(tmp: Path) -> Path:
    """Excel's owner file beside an open workbook: the user's name, padded, 165 bytes."""
    user = "Anna Andersson"
    data = bytes([len(user)]) + user.encode("latin-1").ljust(53, b" ") + b"\x00\x00"
    data += user.encode("utf-16-le") + " ".encode("utf-16-le") * 40
    return raw(data[:165], name="~$" + REPORT)(tmp)


def xlsb(tmp: Path) -> Path:
    return write_zip(tmp / REPORT, {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'content-types"><Override PartName="/xl/workbook.bin" ContentType="application/vnd.ms-excel.sheet.'
        b'binary.macroEnabled.main"/></Types>',
        "xl/workbook.bin": bytes.fromhex("8301 0018 0000") + b"\x00" * 64,
        "xl/worksheets/sheet1.bin": bytes.fromhex("8101 0093 0100") + b"\x00" * 64,
    })


def docx(tmp: Path) -> Path:
    return write_zip(tmp / REPORT, {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.wordprocessingml.document.main+xml"/></Types>',
        "word/document.xml": b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
        b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>L\xc3\xa4gesrapport</w:t></w:r></w:p></w:body>'
        b"</w:document>",
    })


PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
HTML = "<html><body><table><tr><td>Insatsens namn</td><td>Nyttiga affärer</td></tr></table></body></html>".encode()


# --- hostile archives and XML ----------------------------------------------------------------------

_LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)
    )
    + b"]>"
)


def inject_dtd(part: str, dtd: bytes, reference: bytes, where: bytes) -> Callable[[dict[str, bytes]], None]:
    """Put a DTD after the XML declaration of a part and an entity reference into one element."""

    def edit(items: dict[str, bytes]) -> None:
        data = items[part]
        declaration_end = data.index(b"?>") + 2 if data.startswith(b"<?xml") else 0
        data = data[:declaration_end] + dtd + data[declaration_end:]
        items[part] = data.replace(where, where + reference, 1)

    return edit


def custom_part_edit(edit: Callable[[dict[str, bytes]], None]) -> Callable[[Path], Path]:
    return lambda tmp: edited(tmp, edit)


def add_parts(extra: dict[str, Any], method: int = zipfile.ZIP_DEFLATED) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        items = list(parts(filled(tmp, name="_filled.xlsx")).items())
        path = write_zip(tmp / REPORT, items)
        with zipfile.ZipFile(path, "a", method) as archive:
            for name, data in extra.items():
                put(archive, name, data, method)
        return path

    return build


def duplicate_entry(tmp: Path) -> Path:
    items = list(parts(filled(tmp, name="_filled.xlsx")).items())
    workbook = dict(items)["xl/workbook.xml"]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name we want
        return write_zip(tmp / REPORT, items + [("xl/workbook.xml", workbook)])


def patched_entry(part: str, *, declared_size: int | None = None, flags: int | None = None) -> Callable[[Path], Path]:
    """Rewrite one entry's header fields in both the local header and the central directory:
    a size that lies (the stream inflates to far more) or the zip-encryption flag."""

    def build(tmp: Path) -> Path:
        path = tmp / REPORT
        items = parts(filled(tmp, name="_filled.xlsx"))
        if declared_size is not None:
            items[part] = Filler(80 * 2**20)  # 80 MB that compress to 80 kB, declared as 2 kB
        write_zip(path, items)
        data = bytearray(path.read_bytes())
        name = part.encode()
        local = _find_header(data, b"PK\x03\x04", name, 30, 26)
        central = _find_header(data, b"PK\x01\x02", name, 46, 28)
        if declared_size is not None:
            struct.pack_into("<I", data, local + 22, declared_size)
            struct.pack_into("<I", data, central + 24, declared_size)
        if flags is not None:
            for offset in (local + 6, central + 8):
                struct.pack_into("<H", data, offset, struct.unpack_from("<H", data, offset)[0] | flags)
        path.write_bytes(bytes(data))
        return path

    return build


def _find_header(data: bytearray, signature: bytes, name: bytes, fixed: int, name_length_at: int) -> int:
    start = 0
    while True:
        offset = data.index(signature, start)
        length = struct.unpack_from("<H", data, offset + name_length_at)[0]
        if bytes(data[offset + fixed : offset + fixed + length]) == name:
            return offset
        start = offset + 4


def zeros_part(megabytes: int, count: int = 1) -> dict[str, Filler]:
    return {f"xl/media/fyllnad{i}.xml": Filler(megabytes * 2**20) for i in range(count)}


def sparse_far_cell(tmp: Path) -> Path:
    """One extra cell at XFD1048576: tiny on disk, but a reader that allocates the used range
    (python-calamine) would need 17 billion cells and abort the process."""

    def edit(items: dict[str, bytes]) -> None:
        part = sheet_part(items, SPEC.report_sheet)
        items[part] = items[part].replace(
            b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
        )

    return edited(tmp, edit)


def million_rows(tmp: Path) -> Path:
    """A sheet with a million used rows (digits that do not compress well, so no size limit fires)."""

    def edit(items: dict[str, bytes]) -> None:
        part = sheet_part(items, SPEC.budget_sheet)
        rows = b"".join(b"<row><c><v>%d</v></c></row>" % (i * 7919 % 1000003) for i in range(1_000_000))
        items[part] = items[part].replace(b"<sheetData>", b"<sheetData>" + rows, 1)

    return edited(tmp, edit)


def many_entries(tmp: Path) -> Path:
    extra = {f"customXml/item{i}.xml": b"<a/>" for i in range(5000)}
    return add_parts(extra)(tmp)


def utf16_part(items: dict[str, bytes]) -> None:
    text = items["docProps/app.xml"].decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    items["docProps/app.xml"] = text.encode("utf-16")


def raw_control_character(tmp: Path) -> Path:
    return with_marker(first_field("long_text", True), b"Aktivitet\x01 med styrtecken")(tmp)


# --- the table ------------------------------------------------------------------------------------

COUNT = first_field("count", False)  # a planned count: no condition depends on it being present
ACTUAL = "women_actual"
YES_NO = first_field("yes_no")
LONG = first_field("long_text", True)
DATE = "signed_date"
AMOUNT = SPEC.budget_key(SPEC.budget.lines[0].key, "actual_period")
NUMBER = first_field("report_number")
RANGE_MIN = next(f.key for f in SPEC.fields.values() if f.range_max)
RANGE_MAX = SPEC.field(RANGE_MIN).range_max
SIGNED: dt.date = example(DATE)


def _kronor(amount: Decimal, space: str = " ") -> str:
    return f"{int(amount):,}".replace(",", space) + " kr"


TYPED: list[Case] = [
    Case("valid_report", typed(), "accepted"),
    Case("count_text", typed(**{ACTUAL: "många"}), "rejected", "är inte ett heltal", ACTUAL),
    Case("count_about", typed(**{ACTUAL: "ca 40"}), "rejected", "är inte ett heltal", ACTUAL),
    Case("count_with_unit", typed(**{ACTUAL: "16 st"}), "rejected", "är inte ett heltal", ACTUAL),
    Case("count_negative", typed(**{COUNT: -3}), "rejected", "kan inte vara negativt", COUNT),
    Case("count_negative_text", typed(**{COUNT: "-3"}), "rejected", "kan inte vara negativt", COUNT),
    Case("count_decimal", typed(**{ACTUAL: 2.5}), "rejected", "är inte ett heltal", ACTUAL),
    Case("count_decimal_comma", typed(**{ACTUAL: "2,5"}), "rejected", "är inte ett heltal", ACTUAL),
    Case("count_thousands_dot", typed(**{ACTUAL: "1.234"}), "rejected", "är inte ett heltal", ACTUAL),
    Case("count_formula", typed(**{ACTUAL: "=10+6"}), "rejected", "formel", ACTUAL),
    Case("count_excel_error", typed(**{ACTUAL: "#N/A"}), "rejected", "#N/A", ACTUAL),
    Case("count_as_text_accepted", typed(**{ACTUAL: f" {example(ACTUAL)} "}), "accepted"),
    Case("report_number_zero", typed(**{NUMBER: 0}), "rejected", "minst 1", NUMBER),
    Case("report_number_over_total", typed(report_number=7, reports_total=6), "rejected", "större än det totala"),
    Case("amount_text", typed(**{AMOUNT: "ungefär 5000"}), "rejected", "är inte ett belopp", AMOUNT),
    Case("amount_ambiguous_dot", typed(**{AMOUNT: "254.000"}), "rejected", "kan läsas på två sätt", AMOUNT),
    Case("amount_negative", typed(**{AMOUNT: -500}), "rejected", "kan inte vara negativt", AMOUNT),
    Case("amount_three_decimals", typed(**{AMOUNT: 12.345}), "rejected", "fler än två decimaler", AMOUNT),
    Case("amount_absurd", typed(**{AMOUNT: 5_000_000_000}), "rejected", "orimligt stort", AMOUNT),
    Case("amount_with_kr_and_spaces", typed(**{AMOUNT: _kronor(example(AMOUNT))}), "accepted"),
    Case("amount_with_no_break_spaces", typed(**{AMOUNT: _kronor(example(AMOUNT), "\u00a0")}), "accepted"),
    Case("date_impossible", typed(**{DATE: "2021-02-30"}), "rejected", "finns inte i kalendern", DATE),
    Case("date_impossible_dotted", typed(**{DATE: "31.02.2025"}), "rejected", "finns inte i kalendern", DATE),
    Case("date_words", typed(**{DATE: "i höstas"}), "rejected", "är inte ett datum", DATE),
    Case("date_out_of_range", typed(**{DATE: dt.date(1999, 12, 31)}), "rejected", "ligger utanför", DATE),
    Case("date_with_time", typed(**{DATE: dt.datetime.combine(SIGNED, dt.time(14, 30))}), "rejected", "klockslag", DATE),
    Case("date_huge_negative_number", typed(**{DATE: -10**12}), "rejected", "är inte ett datum", DATE),
    Case("date_yymmdd", typed(**{DATE: SIGNED.strftime("%y%m%d")}), "accepted"),
    Case("date_yyyymmdd", typed(**{DATE: SIGNED.strftime("%Y%m%d")}), "accepted"),
    Case("date_slashes", typed(**{DATE: SIGNED.strftime("%d/%m/%Y")}), "accepted"),
    Case("date_dots", typed(**{DATE: SIGNED.strftime("%d.%m.%Y")}), "accepted"),
    Case("date_serial_number", typed(**{DATE: (SIGNED - dt.date(1899, 12, 30)).days}), "accepted"),
    Case("end_before_start", typed(initiative_end=dt.date(2020, 12, 31)), "rejected", "ligger före startdatumet"),
    Case("period_end_before_start", typed(period_end=dt.date(2021, 5, 1)), "rejected", "ligger före startdatumet"),
    Case("period_outside_total", typed(period_start=dt.date(2020, 6, 1)), "rejected", "före insatsens start"),
    Case("period_far_from_half_year", typed(period_end=dt.date(2022, 5, 31)), "warning", "dagar lång"),
    Case("signed_before_period_end", typed(**{DATE: dt.date(2021, 11, 1)}), "warning", "före rapportperiodens slut"),
    Case("range_reversed", typed(**{RANGE_MIN: 12, RANGE_MAX: 8}), "rejected", "är större än till", RANGE_MIN),
    Case("range_typed_in_one_cell", typed(**{RANGE_MIN: "8-12", RANGE_MAX: None}), "accepted"),
    Case("range_en_dash_with_spaces", typed(**{RANGE_MIN: "8 – 12", RANGE_MAX: 12}), "accepted"),
    Case("range_conflicts_with_max", typed(**{RANGE_MIN: "8-12", RANGE_MAX: 15}), "rejected",
         "innehåller intervallet", RANGE_MIN),
    Case("required_blank", typed(**{LONG: None}), "rejected", "obligatorisk men svaret saknas", LONG),
    Case("required_only_spaces", typed(**{LONG: "   \n  "}), "rejected", "obligatorisk men svaret saknas", LONG),
    Case("yes_no_case_spaces_dot", typed(**{YES_NO: f"  {str(example(YES_NO)).upper()}. "}), "accepted"),
    Case("yes_no_english", typed(**{YES_NO: "Yes"}), "rejected", "är inte Ja eller Nej", YES_NO),
    Case("yes_no_letter", typed(**{YES_NO: "J"}), "rejected", "är inte Ja eller Nej", YES_NO),
    Case("yes_no_boolean", typed(**{YES_NO: True}), "rejected", "är inte Ja eller Nej", YES_NO),
    Case("budget_no_without_reason", typed(budget_on_track="Nej", budget_deviation_reason=None), "rejected",
         "svarat Nej på frågan", "budget_deviation_reason"),
    Case("individual_without_outcomes", typed(individual_oriented="Ja", participant_outcomes=None), "rejected",
         "individinriktad", "participant_outcomes"),
    Case("below_plan_without_reason", typed(below_plan_reason=None), "rejected", "under det planerade",
         "below_plan_reason"),
    Case("text_32767_characters", typed(**{LONG: "a" * 32_767}), "accepted"),
    Case("text_32767_emoji_and_accents", typed(**{LONG: ("Åsa 😀 é " * 4096)[:32_767]}), "accepted"),
    Case("text_right_to_left", typed(**{LONG: "\u200fتقرير الحالة – שלום – Läget är bra"}), "accepted"),
    Case("text_starting_with_equals", typed(**{LONG: "=HYPERLINK(\"http://example.invalid\")"}), "accepted"),
    Case("text_over_cell_limit", with_marker(LONG, b"x" * 40_000), "rejected", "en cell rymmer högst", LONG),
    Case("text_escaped_control_character", with_marker(LONG, b"Rad ett_x0007_ och _x000B_tv\xc3\xa5"), "accepted"),
    Case("personal_identity_number", typed(**{LONG: "Deltagaren 19811218-9876 har fått arbete."}), "warning",
         "personuppgifter", LONG),
]

STRUCTURE: list[Case] = [
    Case("libreoffice_saved", libreoffice_file("xlsx"), "accepted", group="structure"),
    Case("sheet_renamed_names_follow", openpyxl_edit(rename_sheet(SPEC.report_sheet, "Rapport", True)),
         "warning", "har bytt namn till", group="structure"),
    Case("sheet_renamed_names_broken", openpyxl_edit(rename_sheet(SPEC.report_sheet, "Rapport", False)),
         "rejected", "saknas i filen", group="structure"),
    Case("sheet_deleted", openpyxl_edit(delete_sheet(SPEC.budget_sheet)), "rejected", "saknas i filen",
         group="structure"),
    Case("sheet_hidden", openpyxl_edit(lambda wb: setattr(wb[SPEC.budget_sheet], "sheet_state", "hidden")),
         "warning", "är dolt", group="structure"),
    Case("sheet_added", openpyxl_edit(lambda wb: wb.create_sheet("Anteckningar").append(["egen anteckning"])),
         "accepted", group="structure"),
    Case("name_deleted", openpyxl_edit(lambda wb: wb.defined_names.pop(LONG)), "rejected", "saknas i filen", LONG,
         group="structure"),
    Case("name_renamed", openpyxl_edit(lambda wb: wb.defined_names.add(_renamed(wb, LONG, "aktiviteter"))),
         "rejected", "saknas i filen", LONG, group="structure"),
    Case("name_points_to_empty_cell", openpyxl_edit(point_name_elsewhere(LONG, 40)), "rejected",
         "obligatorisk men svaret saknas", LONG, group="structure"),
    Case("name_ref_error", openpyxl_edit(lambda wb: set_name(wb, LONG, "#REF!")), "rejected", "har tagits bort",
         LONG, group="structure"),
    Case("name_to_range", openpyxl_edit(lambda wb: set_name(wb, COUNT, _range_of(wb, COUNT))), "rejected",
         "pekar inte på en enda cell", COUNT, group="structure"),
    Case("name_to_missing_sheet", openpyxl_edit(lambda wb: set_name(wb, COUNT, "'Finns inte'!$C$5")),
         "rejected", "som inte finns", COUNT, group="structure"),
    Case("cell_cut_and_pasted", openpyxl_edit(move_cell(LONG, 60)), "warning", "har ändrats (rader",
         group="structure"),
    Case("rows_inserted_unprotected", openpyxl_edit(insert_rows(LONG, 2, unprotect=True)), "warning",
         "har ändrats (rader", group="structure"),
    Case("protection_removed", custom_part_edit(remove_protection), "accepted", group="structure"),
    Case("merged_input_cells", openpyxl_edit(merge_with_right(RANGE_MIN)), "warning", "sammanfog",
         group="structure"),
    Case("form_version_older", openpyxl_edit(set_form_version("0.9")), "rejected", "för gammal",
         group="structure"),
    Case("form_version_newer_minor", openpyxl_edit(set_form_version(_bumped(1))), "warning",
         "nyare än programmets", group="structure"),
    Case("form_version_newer_major", openpyxl_edit(set_form_version(_bumped(0))), "rejected",
         "Uppdatera programmet", group="structure"),
    Case("form_version_unknown", openpyxl_edit(set_form_version("okänd")), "rejected", "känns inte igen",
         group="structure"),
    Case("form_version_stamps_differ", openpyxl_edit(set_version_cell_only(_bumped(1))), "warning",
         "två olika formulärversioner", group="structure"),
    Case("form_version_missing", openpyxl_edit(drop_version), "rejected", "formulärversionen saknas",
         group="structure"),
    Case("not_the_template", not_the_template, "rejected", "inte RAR:s Lägesrapport-mall", group="structure"),
]


def _renamed(wb: Any, key: str, new: str) -> Any:
    defined = wb.defined_names.pop(key)
    defined.name = new
    return defined


def _range_of(wb: Any, key: str) -> str:
    sheet, address = name_cell(wb, key)
    cell = wb[sheet][address]
    return f"{quote(sheet)}!${cell.column_letter}${cell.row}:${cell.column_letter}${cell.row + 1}"


FILES: list[Case] = [
    Case("empty_file", raw(b""), "rejected", "Filen är tom", kind="empty", group="file"),
    Case("xls_renamed", libreoffice_file("xls"), "rejected", "gamla Excel-formatet", kind="xls", group="file"),
    Case("ods_renamed", libreoffice_file("ods"), "rejected", "OpenDocument", kind="ods", group="file"),
    Case("csv_renamed", libreoffice_file("csv"), "rejected", "textfil", kind="csv", group="file"),
    Case("xlsb_renamed", xlsb, "rejected", "binär Excel-arbetsbok", kind="xlsb", group="file"),
    Case("docx_renamed", docx, "rejected", "Word-dokument", kind="docx", group="file"),
    Case("pdf_renamed", raw(PDF), "rejected", "är en PDF", kind="pdf", group="file"),
    Case("html_renamed", raw(HTML), "rejected", "webbsida", kind="html", group="file"),
    Case("binary_noise", raw(bytes(range(256)) * 8), "rejected", "känns inte igen", kind="unknown", group="file"),
    Case("truncated_zip", truncated, "rejected", "ofullständig eller skadad", kind="truncated", group="file"),
    Case("zip_without_workbook", lambda tmp: write_zip(tmp / REPORT, {"rapport.txt": "Se bifogad fil".encode()}),
         "rejected", "zip-arkiv utan Excel-arbetsbok", kind="zip", group="file"),
    Case("encrypted_workbook", encrypted, "rejected", "lösenordsskyddad", kind="encrypted", group="file"),
    Case("xlsm_with_macros", custom_part_edit(add_macros), "warning", "makron", kind="xlsm", group="file"),
    Case("external_links", custom_part_edit(add_external_link), "warning", "länkar till andra filer", group="file"),
    Case("excel_lock_file", lock_file, "skipped", "låsfil", kind="lock_file", group="file"),
]

HOSTILE: list[Case] = [
    Case("billion_laughs", custom_part_edit(inject_dtd("docProps/custom.xml", _LAUGHS, b"&lol9;", b"<vt:lpwstr>")),
         "rejected", "DTD/ENTITY", group="hostile"),
    Case("quadratic_blowup", custom_part_edit(inject_dtd(
        "docProps/app.xml", b'<!DOCTYPE p [<!ENTITY a "' + b"A" * 100_000 + b'">]>', b"&a;" * 20_000,
        b"<Application>")), "rejected", "DTD/ENTITY", group="hostile"),
    Case("external_entity_xxe", custom_part_edit(inject_dtd(
        "xl/workbook.xml", b'<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', b"&xxe;",
        b'<definedName name="activities">')), "rejected", "DTD/ENTITY", group="hostile"),
    Case("zip_bomb_ratio", add_parts(zeros_part(20)), "rejected", "zip-bomb", group="hostile"),
    Case("zip_bomb_huge_part", add_parts(zeros_part(40)), "rejected", "zip-bomb", group="hostile"),
    Case("zip_bomb_many_parts", add_parts(zeros_part(15, 5)), "rejected", "zip-bomb", group="hostile"),
    Case("zip_bomb_lying_size", patched_entry("docProps/app.xml", declared_size=2048), "rejected",
         "ofullständig eller skadad", group="hostile"),
    Case("thousands_of_entries", many_entries, "rejected", "delar", group="hostile"),
    Case("path_traversal", add_parts({"../../../tmp/evil.sh": b"echo"}), "rejected", "ogiltig sökväg",
         group="hostile"),
    Case("absolute_path", add_parts({"/etc/cron.d/evil": b"* * * * *"}), "rejected", "ogiltig sökväg",
         group="hostile"),
    Case("duplicate_entries", duplicate_entry, "rejected", "samma del två gånger", group="hostile"),
    Case("zip_encrypted_entry", patched_entry("docProps/app.xml", flags=0x1), "rejected", "krypterade",
         group="hostile"),
    Case("bzip2_compression", add_parts({"docProps/extra.xml": b"<a/>" * 100}, zipfile.ZIP_BZIP2), "rejected",
         "komprimering", group="hostile"),
    Case("utf16_xml_part", custom_part_edit(utf16_part), "rejected", "teckenkodning", group="hostile"),
    Case("raw_control_character", raw_control_character, "rejected", "skadad", group="hostile"),
    Case("far_away_cell", sparse_far_cell, "rejected", "rad 1\u00a0048\u00a0576", group="hostile"),
    Case("million_rows", million_rows, "rejected", "1\u00a0000\u00a0000", group="hostile"),
]


CASES: list[Case] = TYPED + STRUCTURE + FILES + HOSTILE
