"""read_report on real files: the model, every problem with its cell, names followed or refused,
form versions, file kinds, and the two cell sources giving identical results."""

from __future__ import annotations

import dataclasses
import datetime as dt
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import sha256
from openpyxl import Workbook, load_workbook
from openpyxl.packaging.custom import StringProperty

from lagesrapport_xl.reader.sources import workbook_xml
from lagesrapport_xl.reader.cells import NameTarget, RawCell, WorkbookCells, cell_index
from lagesrapport_xl.reader.check import check_cells
from lagesrapport_xl.reader.models import budget_rows
from lagesrapport_xl.reader.answers import plain_answers
from lagesrapport_xl.reader.read import read_answers, read_report
from lagesrapport_xl.reader.sources import SOURCES, parse_name_target, read_fast, read_openpyxl
from lagesrapport_xl.template.writer import FORM_VERSION_NAME, VERSION_PROPERTY


def edit(path: Path, target: Path, change: Callable[[Any], None]) -> Path:
    """A changed copy made with openpyxl, as another program (or a person) changes a workbook."""
    workbook = load_workbook(path)
    change(workbook)
    workbook.save(target)
    return target


def codes(result) -> list[str]:
    return [issue.code for issue in result.issues]


def every_field(spec, values: dict[str, Any]) -> dict[str, Any]:
    """The model's answers for these values: every field, None where nothing was typed."""
    return {**dict.fromkeys(spec.fields), **values}


# --- a valid report ------------------------------------------------------------------------------


def test_valid_report_reads_into_the_model(fill, answers, spec):
    path = fill(answers, "Nyttiga_affarer_rapport_2.xlsx")
    before = sha256(path)
    result = read_report(path)
    assert result.ok and result.issues == []
    assert result.report.answers() == every_field(spec, answers)
    assert result.report.form_version == result.form_version == spec.version
    assert result.report.source_file == "Nyttiga_affarer_rapport_2.xlsx"
    assert result.report.source_sha256 == result.sha256 == before
    assert result.size == path.stat().st_size
    assert isinstance(result.modified, dt.datetime)
    assert sha256(path) == before  # only read, never written


def test_a_batch_keeps_the_answers_the_model_holds(fill, answers, spec):
    """read_answers, as a batch reads: the same result without the model, and its answers."""
    path = fill(answers, "Nyttiga_affarer_rapport_2.xlsx")
    with_model = read_report(path)
    kept, plain = read_answers(path)
    assert plain == with_model.report.answers() == every_field(spec, answers)
    assert list(plain) == list(with_model.report.answers())
    assert kept == dataclasses.replace(with_model, report=None)
    broken, none = read_answers(fill({**answers, "report_number": "två"}, "fel.xlsx"))
    assert none is None and broken.errors


def test_answers_of_another_type_are_left_to_the_model(spec):
    """Exact types come back as they are (pydantic returns the same objects); anything else is
    the model's to convert or refuse, as when every report built it."""
    amount = next(f.key for f in spec.fields.values() if f.type.name == "amount")
    base = {"form_version": spec.version, "source_file": "rapport.xlsx", "source_sha256": ""}
    values = {**dict.fromkeys(spec.fields), amount: Decimal("125.50")}
    kept = plain_answers(spec, values, **base)
    assert kept == values and kept[amount] is values[amount]
    converted = plain_answers(spec, {**values, amount: 125}, **base)
    assert type(converted[amount]) is Decimal and converted[amount] == 125
    with pytest.raises(ValueError):  # pydantic's ValidationError: the check reports an internal error
        plain_answers(spec, {**values, amount: Decimal("NaN")}, **base)


def test_budget_and_financing_rows_come_out_in_the_forms_order(fill, answers, spec):
    report = read_report(fill(answers)).report
    rows = budget_rows(report, spec)
    assert [r.key for r in rows] == [line.key for line in spec.budget.lines + spec.budget.financing]
    staff = rows[0]
    assert staff.values["actual_period"] == answers["budget_staff_actual_period"]
    assert rows[-1].group == "financing"


def test_json_contract(fill, answers):
    data = read_report(fill({**answers, "women_actual": "ca 40"})).to_json()
    assert set(data) == {"file", "ok", "form_version", "report", "values", "issues"}
    assert data["ok"] is False and data["report"] is None
    (issue,) = data["issues"]
    assert set(issue) == {"severity", "sheet", "cell", "field", "label", "value", "message"}
    assert issue["severity"] == "error" and issue["value"] == "ca 40"
    ok = read_report(fill(answers, "ok.xlsx")).to_json()
    assert ok["report"]["initiative_start"] == "2021-01-01"
    assert ok["report"]["budget_staff_budget_total"] == 1_800_000


def test_json_values_of_a_rejected_file_are_the_answers_that_parsed(fill, answers, spec):
    """An integrator shows what was read of a file with errors; the broken answers are left out
    (their raw value is in their issue), an empty one is null, and `report` stays null."""
    clean = read_report(fill(answers, "ok.xlsx")).to_json()
    assert clean["values"] == clean["report"] and len(clean["values"]) == len(spec.fields)
    broken = {
        "women_actual": "ca 40",  # not a number
        "budget_staff_actual_period": "=1+1",  # a formula
        "period_end": "31.02.2025",  # no such date
        "activities": None,  # required, empty: read, and empty
        "report_number": 7,  # read, but more than the total: a rule's error, not a reading error
    }
    data = read_report(fill({**answers, **broken})).to_json()
    assert data["ok"] is False and data["report"] is None
    unread = {"women_actual", "budget_staff_actual_period", "period_end"}
    assert data["values"] == {
        key: value for key, value in {**clean["report"], "activities": None, "report_number": 7}.items()
        if key not in unread
    }
    raw = {issue["field"]: issue["value"] for issue in data["issues"] if issue["field"] in unread}
    assert raw == {"women_actual": "ca 40", "budget_staff_actual_period": "=1+1", "period_end": "31.02.2025"}
    assert {"activities", "report_number"} <= {issue["field"] for issue in data["issues"]}


def test_json_values_of_a_file_that_is_not_the_form_are_empty(tmp_path):
    path = tmp_path / "anteckningar.xlsx"
    Workbook().save(path)
    data = read_report(path).to_json()
    assert data["values"] == {} and data["report"] is None and data["issues"]


def test_check_cells_works_on_cells_from_any_source(spec, answers):
    """The seam the xlwings adapter uses: WorkbookCells built without any file."""
    names = {key: NameTarget(field.ref, field.sheet, field.cell) for key, field in spec.fields.items()}
    names[FORM_VERSION_NAME] = NameTarget("'Data'!$B$1", "Data", "B1")
    cells = {key: RawCell(value) for key, value in answers.items()}
    cells[FORM_VERSION_NAME] = RawCell(spec.version)
    workbook = WorkbookCells(sheets=list(spec.sheets), names=names, cells=cells)
    result = check_cells(workbook, spec, file="open workbook")
    assert result.ok, [i.describe() for i in result.issues]
    assert result.report.answers() == every_field(spec, answers)
    cells["women_actual"] = RawCell("ca 40")
    assert [i.field for i in check_cells(workbook, spec).errors] == ["women_actual"]


# --- defined names ------------------------------------------------------------------------------


def test_name_target_parsing():
    text = "'Lägesrapport'!$C$5"
    assert parse_name_target(text) == NameTarget(text, "Lägesrapport", "C5")
    assert parse_name_target("Budget!B7") == NameTarget("Budget!B7", "Budget", "B7")
    assert parse_name_target("'It''s'!$A$1").sheet == "It's"
    assert parse_name_target("Budget!$B$7:$C$8").cell is None
    assert parse_name_target("#REF!").sheet is None
    assert parse_name_target("'Budget'!#REF!").cell is None
    assert parse_name_target('"konstant"').sheet is None


def test_missing_name_is_an_error_for_that_field_only(fill, answers, spec, tmp_path):
    path = edit(fill(answers), tmp_path / "utan_namn.xlsx", lambda wb: wb.defined_names.pop("women_actual"))
    result = read_report(path)
    (issue,) = result.errors
    assert (issue.code, issue.field, issue.sheet) == ("name_missing", "women_actual", spec.report_sheet)
    assert spec.fields["women_actual"].cell in issue.message
    assert result.report is None


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("#REF!", "name_ref"),
        ("'Lägesrapport'!#REF!", "name_ref"),
        ("'Lägesrapport'!$E$23:$E$24", "name_range"),
        ("'Finns inte'!$E$23", "name_sheet_missing"),
        ("'Budget'!$E$23", "name_elsewhere"),
        ("42", "name_range"),
    ],
)
def test_a_name_that_cannot_be_followed_is_an_error_never_a_guess(fill, answers, tmp_path, target, code):
    def point(wb):
        wb.defined_names["men_actual"].attr_text = target

    result = read_report(edit(fill(answers), tmp_path / "namn.xlsx", point))
    (issue,) = result.errors
    assert (issue.code, issue.field) == (code, "men_actual")
    assert result.values["men_actual"] is None


def _insert_row_like_excel(workbook, sheet: str, row: int) -> None:
    """Excel moves cells and every name below an inserted row; openpyxl moves only the cells."""
    workbook[sheet].insert_rows(row)
    for defined in workbook.defined_names.values():
        target = parse_name_target(defined.attr_text)
        if target.sheet == sheet and target.cell:
            letters = target.cell.rstrip("0123456789")
            number = int(target.cell[len(letters):])
            if number >= row:
                defined.attr_text = f"'{sheet}'!${letters}${number + 1}"


def test_inserted_rows_are_followed_with_a_warning(fill, answers, spec, tmp_path):
    insert_at = spec.fields["activities"].row  # 0-based row of the question = 1-based row above the answer
    path = edit(fill(answers), tmp_path / "ny_rad.xlsx",
                lambda wb: _insert_row_like_excel(wb, spec.report_sheet, insert_at))
    result = read_report(path)
    assert result.ok
    assert result.report.answers() == every_field(spec, answers)
    (warning,) = result.warnings
    assert warning.code == "structure_changed" and warning.sheet == spec.report_sheet
    assert "kontrollera" in warning.message
    moved = spec.fields["activities"]
    assert result.values["activities"] == answers["activities"]
    assert warning.cell == f"{moved.cell[0]}{moved.row + 2}"


def test_a_name_moved_onto_another_answer_is_refused(fill, answers, spec, tmp_path):
    def point(wb):
        wb.defined_names["men_actual"].attr_text = spec.fields["women_actual"].ref

    result = read_report(edit(fill(answers), tmp_path / "samma.xlsx", point))
    assert [(i.code, i.field) for i in result.errors] == [("name_conflict", "men_actual")]


def test_renamed_sheet_is_followed_with_a_warning(fill, answers, spec, tmp_path):
    def rename(wb):  # openpyxl does not move names with a renamed sheet; Excel does
        wb[spec.budget_sheet].title = "Ekonomi"
        for defined in wb.defined_names.values():
            defined.attr_text = defined.attr_text.replace(f"'{spec.budget_sheet}'!", "'Ekonomi'!")

    result = read_report(edit(fill(answers), tmp_path / "omdopt.xlsx", rename))
    assert result.ok
    assert result.report.answers() == every_field(spec, answers)
    assert codes(result) == ["sheet_renamed"]
    assert result.issues[0].sheet == "Ekonomi"


def test_deleted_sheet_is_one_error_not_one_per_answer(fill, answers, spec, tmp_path):
    def delete(wb):
        del wb[spec.budget_sheet]
        for defined in wb.defined_names.values():
            defined.attr_text = defined.attr_text.replace(f"'{spec.budget_sheet}'!", "#REF!")

    result = read_report(edit(fill(answers), tmp_path / "utan_budget.xlsx", delete))
    (issue,) = result.errors
    assert issue.code == "sheet_missing" and issue.sheet == spec.budget_sheet
    assert str(len(spec.budget_fields)) in issue.message


def test_hidden_report_sheet_is_a_warning(fill, answers, spec, tmp_path):
    def hide(wb):
        wb[spec.budget_sheet].sheet_state = "hidden"

    result = read_report(edit(fill(answers), tmp_path / "dold.xlsx", hide))
    assert result.ok and codes(result) == ["sheet_hidden"]


# --- form version -------------------------------------------------------------------------------


def _set_version(cell_value: Any, prop: str | None) -> Callable[[Any], None]:
    def change(wb):
        wb["Data"]["B1"].value = cell_value
        for item in list(wb.custom_doc_props):
            if item.name == VERSION_PROPERTY:
                wb.custom_doc_props.props.remove(item)
        if prop is not None:
            wb.custom_doc_props.append(StringProperty(name=VERSION_PROPERTY, value=prop))

    return change


@pytest.mark.parametrize(
    ("cell_value", "prop", "code", "ok"),
    [
        ("1.0", "1.0", None, True),
        (None, "1.0", None, True),  # the property alone is enough
        ("1.0", None, None, True),
        ("1.1", "1.1", "version_newer", True),
        ("1.0", "1.1", "version_mismatch", True),
        ("0.9", "0.9", "version_incompatible", False),
        ("2.0", "2.0", "version_incompatible", False),
        ("okänd", "okänd", "version_unknown", False),
        (None, None, "not_template", False),
    ],
)
def test_form_version(fill, answers, tmp_path, cell_value, prop, code, ok):
    result = read_report(edit(fill(answers), tmp_path / "version.xlsx", _set_version(cell_value, prop)))
    assert result.ok is ok
    assert codes(result) == ([code] if code else [])
    if code:
        assert result.issues[0].message


def test_older_minor_version_is_a_warning(fill, answers, spec):
    path = fill(answers)
    newer = dataclasses.replace(spec, version="1.3")  # this program knows a newer form
    result = read_report(path, newer)
    assert result.ok and codes(result) == ["version_older"]
    assert "1.0" in result.issues[0].message and "1.3" in result.issues[0].message


def test_a_workbook_that_is_not_the_template(tmp_path):
    workbook = Workbook()
    workbook.active["A1"] = "Lägesrapport"
    workbook.save(tmp_path / "egen.xlsx")
    result = read_report(tmp_path / "egen.xlsx")
    assert codes(result) == ["not_template"]
    assert "inte RAR:s Lägesrapport-mall" in result.issues[0].message


# --- file kinds ---------------------------------------------------------------------------------


def _as_xlsm(source: Path, target: Path) -> Path:
    """The same workbook with a (never run) VBA project, as Excel saves a macro workbook."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml")
            new.writestr(info, data)
        new.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 not run")
    return target


def test_xlsm_is_read_and_its_macros_ignored(fill, answers, spec, tmp_path):
    path = _as_xlsm(fill(answers), tmp_path / "rapport.xlsm")
    before = sha256(path)
    result = read_report(path)
    assert result.ok
    assert result.report.answers() == every_field(spec, answers)
    (warning,) = result.warnings
    assert "makron" in warning.message.lower() and "ignoreras" in warning.message
    assert sha256(path) == before


def test_excel_lock_file_is_skipped_without_error(fill, answers, tmp_path):
    lock = tmp_path / "~$rapport.xlsx"
    lock.write_bytes(b"\x0bAnna Andersson" + b" " * 150)
    result = read_report(lock)
    assert result.skipped and not result.errors and not result.ok


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("rapport.csv", "Insatsens namn;Nyttiga affärer\n".encode(), "Excel-arbetsbok (.xlsx)"),
        ("rapport.xlsx", "Insatsens namn;Nyttiga affärer\n".encode(), "Excel-arbetsbok (.xlsx)"),
        ("rapport.xlsx", b"", "tom"),
    ],
)
def test_other_files_get_a_clear_message(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_bytes(content)
    result = read_report(path)
    assert not result.ok and result.report is None
    assert any(fragment in i.message for i in result.errors)


def test_missing_file_is_an_error_not_a_crash(tmp_path):
    result = read_report(tmp_path / "finns_inte.xlsx")
    assert codes(result) == ["file_unreadable"]


# --- two sources, one result --------------------------------------------------------------------

VARIANTS: dict[str, dict[str, Any]] = {
    "valid": {},
    "lenient": {
        "signed_date": "10.12.2021", "period_end": "211130", "period_start": 20210601,
        "budget_on_track": " nej.", "women_planned_min": "8–12", "women_planned_max": None,
        "budget_travel_actual_period": "6\u00a0200 kr", "budget_staff_comment": "Lön: 1 234,50 kr",
    },
    "errors": {
        "women_actual": "ca 40", "men_actual": 2.5, "period_end": "31.02.2025",
        "budget_staff_actual_period": "1.234", "initiative_name": None, "budget_on_track": "kanske",
    },
    "formulas_and_errors": {
        "men_actual": "=10+6", "women_actual": "#N/A", "budget_staff_budget_total": "=1/0",
    },
    "text": {
        "activities": "  två\nrader\tmed tab  ", "deviations": "=inte en formel", "gender_comment": "😀 عربى",
    },
    "dates_out_of_range": {"signed_date": -5, "period_end": 2958466, "period_start": 1e12},
    "rules": {"period_end": dt.date(2021, 5, 1), "report_number": 7, "budget_staff_actual_cumulative": 1},
    "empty": None,
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_both_sources_give_identical_results(fill, answers, template_path, spec, variant):
    changes = VARIANTS[variant]
    path = template_path if changes is None else fill({**answers, **changes}, f"{variant}.xlsx")
    wanted = [*spec.fields, FORM_VERSION_NAME]
    assert read_fast(str(path), wanted) == read_openpyxl(str(path), wanted)
    fast, reference = read_report(path), read_report(path, source="openpyxl")
    assert fast.to_json() == reference.to_json()
    assert fast.values == reference.values
    assert fast.issues or variant in ("valid", "lenient", "text")


def test_unknown_source_is_a_programming_error(fill, answers):
    with pytest.raises(ValueError):
        read_report(fill(answers), source="pandas")


def test_damaged_workbook_is_reported_by_both_sources(fill, answers, tmp_path):
    path = tmp_path / "skadad.xlsx"
    with zipfile.ZipFile(fill(answers)) as old, zipfile.ZipFile(path, "w") as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = data[: len(data) // 2]  # cut in the middle: not well-formed XML
            new.writestr(info, data)
    fast, reference = (read_report(path, source=source) for source in SOURCES)
    assert not fast.ok and fast.report is None and fast.errors
    assert fast.to_json() == reference.to_json()


# --- sheet XML as other programs may write it: the fast source's full parse --------------------

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def rewrite_sheet(
    source: Path, target: Path, sheet: str, change: Callable[[Any], None], prefix: str = ""
) -> Path:
    """Copy a workbook with one sheet's XML changed (parsed and written again by ElementTree)."""
    ET.register_namespace(prefix, MAIN_NS)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        part = workbook_xml.workbook_parts(old)[3][sheet]
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == part:
                root = ET.fromstring(data)
                change(root)
                data = ET.tostring(root, xml_declaration=True, encoding="UTF-8")
            new.writestr(info, data)
    return target


def _no_cell_addresses(root) -> None:
    """Write every row's cells positionally, without r="…" (allowed by the file format)."""
    for row in root.iter(f"{{{MAIN_NS}}}row"):
        cells = {cell_index(c.get("r"))[1]: c for c in row.findall(f"{{{MAIN_NS}}}c")}
        for cell in cells.values():
            row.remove(cell)
            del cell.attrib["r"]
        for col in range(max(cells, default=-1) + 1):
            row.append(cells.get(col, ET.Element(f"{{{MAIN_NS}}}c")))


def _shared_formula(spec) -> Callable[[Any], None]:
    """women_actual and men_actual filled down from one formula, as Excel stores it."""
    first, second = spec.fields["women_actual"].cell, spec.fields["men_actual"].cell

    def change(root) -> None:
        for cell in root.iter(f"{{{MAIN_NS}}}c"):
            if cell.get("r") in (first, second):
                for child in list(cell):
                    cell.remove(child)
                cell.attrib.pop("t", None)
                formula = ET.SubElement(cell, f"{{{MAIN_NS}}}f", t="shared", si="0")
                if cell.get("r") == first:
                    formula.set("ref", f"{first}:{second}")
                    formula.text = spec.fields["women_planned_min"].cell + "+1"
                ET.SubElement(cell, f"{{{MAIN_NS}}}v").text = "9"

    return change


@pytest.mark.parametrize(
    ("variant", "full_parse"), [("prefixed", False), ("positional", True), ("shared_formula", True)]
)
def test_sheet_xml_variants_read_the_same_both_ways(
    fill, answers, spec, tmp_path, monkeypatch, variant, full_parse
):
    full_parses = []
    original_full = workbook_xml._scan_full
    monkeypatch.setattr(workbook_xml, "_scan_full", lambda *a: full_parses.append(a) or original_full(*a))
    source = fill({**answers, "women_actual": "ca 40", "men_actual": "=10+6"})
    target = tmp_path / f"{variant}.xlsx"
    if variant == "prefixed":
        path = rewrite_sheet(source, target, spec.report_sheet, lambda root: None, prefix="x")
    elif variant == "positional":
        path = rewrite_sheet(source, target, spec.report_sheet, _no_cell_addresses)
    else:
        path = rewrite_sheet(source, target, spec.report_sheet, _shared_formula(spec))
    fast = read_report(path)
    assert bool(full_parses) is full_parse
    assert fast.to_json() == read_report(path, source="openpyxl").to_json()
    errors = {i.field: i.value for i in fast.errors}
    if variant == "shared_formula":  # the second cell's formula is translated from the first
        assert errors == {"women_actual": "=" + spec.fields["women_planned_min"].cell + "+1",
                          "men_actual": "=" + spec.fields["men_planned_min"].cell + "+1"}
    else:
        assert errors == {"women_actual": "ca 40", "men_actual": "=10+6"}
    unchanged = set(spec.fields) - {"women_actual", "men_actual"}
    assert {k: fast.values[k] for k in unchanged} == {k: every_field(spec, answers)[k] for k in unchanged}


def test_merged_input_cells_are_a_warning_that_names_the_lost_answer(fill, answers, spec, tmp_path):
    low, high = spec.fields["women_planned_min"], spec.fields["women_planned_max"]

    def merge(wb):
        wb[spec.report_sheet].merge_cells(f"{low.cell}:{high.cell}")

    filled = fill({**answers, "women_planned_min": "8-12", "women_planned_max": None})
    path = edit(filled, tmp_path / "sammanfogad.xlsx", merge)
    result = read_report(path)
    assert result.ok and (result.report.women_planned_min, result.report.women_planned_max) == (8, 12)
    (warning,) = result.warnings
    assert (warning.code, warning.cell) == ("merged_cells", low.cell)
    assert warning.value == f"{low.cell}:{high.cell}"
    assert f"”{high.label}” ({high.cell}) läses som tom" in warning.message
    assert read_report(path, source="openpyxl").to_json() == result.to_json()


def test_a_number_calamine_cannot_turn_into_a_date_is_read_by_the_reference_source(fill, answers, spec):
    """python-calamine panics on a huge negative number in a date cell; the file is still read."""
    path = fill({**answers, "signed_date": -(10**12)})
    fast, reference = read_report(path), read_report(path, source="openpyxl")
    assert fast.to_json() == reference.to_json()
    (issue,) = fast.errors
    assert issue.field == "signed_date" and "är inte ett datum" in issue.message


def test_raw_control_character_in_the_sheet_xml_is_refused_by_both_sources(fill, answers, spec, tmp_path):
    source = fill({**answers, "activities": "MARKÖR"})
    target = tmp_path / "styrtecken.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info, old.read(info.filename).replace("MARKÖR".encode(), b"Aktivitet\x01"))
    for read in (read_fast, read_openpyxl):  # each source refuses it on its own …
        assert [i.code for i in read(str(target)).issues] == ["unreadable_file"], read.__name__
    fast, reference = (read_report(target, source=source) for source in SOURCES)  # … and so does the reader
    assert fast.report is None and "skadad" in fast.errors[0].message
    assert fast.to_json() == reference.to_json()


def test_a_folder_is_an_error_not_a_crash(tmp_path):
    folder = tmp_path / "mapp.xlsx"
    folder.mkdir()
    result = read_report(folder)
    assert result.errors and result.report is None


def test_an_amount_with_ore_is_read_exactly_with_a_warning(fill, answers, spec):
    """"2,5" in a kronor cell: the template shows 3 kr, the reader reads 2,50 kr. Nothing is
    rounded away (finance trusts only the number typed), but the coordinator is told."""
    key = spec.budget_key("equipment", "budget_period")
    result = read_report(fill({**answers, key: "2,5"}))
    assert result.values[key] == Decimal("2.5")
    (issue,) = [i for i in result.issues if i.code == "amount_has_ore"]
    assert issue.severity.value == "warning" and issue.field == key and issue.value == "2,5"
    assert "2,50\u00a0kr" in issue.message and "3\u00a0kr" in issue.message and "hela kronor" in issue.message
    whole = read_report(fill({**answers, key: "5 000,00 kr"}))
    assert "amount_has_ore" not in codes(whole)


def test_a_missing_answer_says_what_to_do_not_how_to_break_lines(fill, answers, spec):
    result = read_report(fill({**answers, "activities": None, "chair_name": None, "signed_date": None}))
    messages = {i.field: i.message for i in result.issues if i.code == "required_missing"}
    assert messages["activities"] == "Frågan är obligatorisk men svaret saknas. Skriv svaret i cellen."
    assert messages["chair_name"] == "Frågan är obligatorisk men svaret saknas. Skriv svaret i cellen."
    assert "ÅÅÅÅ-MM-DD" in messages["signed_date"]  # a typed answer keeps its typing hint
    assert not any("Alt+Enter" in text for text in messages.values())
