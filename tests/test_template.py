"""The generated template, reopened with openpyxl and read as XML: what a coordinator gets.

LibreOffice checks (recalculation, PDF, round trip) are in test_template_libreoffice.py.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path
from posixpath import dirname, join, normpath

import pytest
from openpyxl import load_workbook

from lagesrapport_xl.cli import main
from lagesrapport_xl.common.config import TemplateOptions
from lagesrapport_xl.form.control_sheet import (
    CONTROL_COLUMNS,
    CONTROL_NOT_CHECKED,
    CONTROL_NOT_CHECKED_NO_BUTTON,
    CONTROL_NOTE,
    CONTROL_NOTE_NO_BUTTON,
    CONTROL_TITLE,
)
from lagesrapport_xl.form.spec import VERSION_PROPERTY, col_letter, load_spec
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.template.button import BUTTON_NAME, BUTTON_TEXT
from lagesrapport_xl.template.page import page_capacity
from lagesrapport_xl.template.status import (
    INVALID_COUNT_NAMES,
    count_invalid,
    count_missing,
    invalid_test,
    sheet_statuses,
)
from lagesrapport_xl.template.writer import write_template

ROOT = Path(__file__).resolve().parents[1]
SHARED_FORM = ROOT / "docs" / "form"  # the original form and the field catalogue, kept in the repository
FIELDS_MD = SHARED_FORM / "FIELDS.md"
EXAMPLE_FORM = SHARED_FORM / "rar-lagesrapport-example.txt"
COMMITTED_TEMPLATE = ROOT / "workbook_templates" / "lagesrapport_mall.xlsx"
REGENERATE = (
    "Kör scripts/make-template (eller: lagesrapport template -o workbook_templates/lagesrapport_mall.xlsx)"
)


# --- what the contract documents say -------------------------------------------------------------


def fields_md_labels() -> dict[str, str]:
    """Every input key of FIELDS.md with its Swedish label; budget keys from lines × input columns."""
    text = FIELDS_MD.read_text(encoding="utf-8")
    report_part, budget_part = text.split('## Sheet "Budget"')
    labels: dict[str, str] = {}
    for line in report_part.splitlines():
        match = re.match(r"\| (`[a-z_]+`(?: / `[a-z_]+`)?) \| ([^|]+) \|", line)
        if match:
            for key in re.findall(r"`([a-z_]+)`", match.group(1)):
                labels[key] = match.group(2).strip()
    rows = re.findall(r"\| `([a-z_]+)` \| ([^|]+) \|(?: ([^|]+) \|)?", budget_part)
    lines = {key: label.strip() for key, label, kind in rows if not kind}
    columns = {key: label.strip() for key, label, kind in rows if kind and "input" in kind}
    financing = re.findall(r"`(financing_[a-z]+)`", budget_part)
    for line, line_label in lines.items():
        for column, column_label in columns.items():
            labels[f"budget_{line}_{column}"] = f"{line_label} – {column_label}"
    for key in financing:
        for column, column_label in columns.items():
            labels[f"{key}_{column}"] = column_label
    return labels


def example_question_lines() -> list[str]:
    """The form's own question lines plus the title, subtitle and table headings."""
    lines = [line.strip() for line in EXAMPLE_FORM.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [line for line in lines if line.endswith((":", "?"))]
    title, subtitle = lines[:2]
    return questions + [title, subtitle, "Kvinnor", "Män", "Planerat antal", "Faktiskt antal"]


# --- reading the template ------------------------------------------------------------------------


def texts(ws) -> set[str]:
    return {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}


def validation_of(ws, address: str):
    found = [dv for dv in ws.data_validations.dataValidation if address in dv.sqref]
    return found[0] if found else None


def cf_formulas(ws, address: str) -> list[str]:
    return [
        formula
        for cf in ws.conditional_formatting
        if address in cf.sqref
        for rule in cf.rules
        for formula in rule.formula
    ]


def sheet_part(archive: zipfile.ZipFile, sheet_name: str) -> str:
    """The worksheet XML part of a sheet, found through workbook.xml and its relationships."""
    workbook = archive.read("xl/workbook.xml").decode()
    rid = re.search(
        rf'<sheet name="{re.escape(sheet_name)}" sheetId="\d+" (?:state="\w+" )?r:id="(rId\d+)"', workbook
    )
    rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    target = re.search(rf'Id="{rid.group(1)}" Type="[^"]+" Target="([^"]+)"', rels).group(1)
    return normpath(join("xl", target))


def related(archive: zipfile.ZipFile, part: str, kind: str) -> list[str]:
    """Targets of one kind (drawing, hyperlink …) in a part's relationships."""
    rels = f"{dirname(part)}/_rels/{part.rsplit('/', 1)[1]}.rels"
    xml = archive.read(rels).decode()
    return re.findall(rf'Type="[^"]+/{kind}" Target="([^"]+)"', xml)


@pytest.fixture(scope="module")
def wb(template_path):
    return load_workbook(template_path)


UPLOAD_URL = "https://rapport.rar-sormland.se"


@pytest.fixture(scope="module")
def with_add_in(tmp_path_factory) -> Path:
    """A template made for RAR once it deploys xlwings, with its upload address: button and all."""
    options = TemplateOptions(upload_url=UPLOAD_URL, excel_buttons=True)
    return write_template(tmp_path_factory.mktemp("add-in") / "mall.xlsx", options=options)


@pytest.fixture(scope="module")
def cached(template_path):
    return load_workbook(template_path, data_only=True)


# --- locking -------------------------------------------------------------------------------------


def test_every_sheet_and_the_workbook_structure_are_protected(wb, spec):
    assert wb.sheetnames == [*spec.sheets, spec.control_sheet]
    for name in spec.sheets:
        assert wb[name].protection.sheet, name
        assert not wb[name].protection.password, "no password unless --password is given"
    assert wb.security is not None and wb.security.lockStructure


def test_the_control_sheet_is_open_for_the_validera_button(wb, spec, with_add_in):
    """The structure lock stops Excel from adding a sheet, so the template ships the open one; it
    names the button only in a template that has one."""
    control = wb[spec.control_sheet]
    assert not control.protection.sheet
    assert control.sheet_state == "visible"
    assert wb.sheetnames[-1] == spec.control_sheet
    assert [control["A1"].value, control["A2"].value, control["A3"].value] == [
        CONTROL_TITLE, CONTROL_NOT_CHECKED_NO_BUTTON, CONTROL_NOTE_NO_BUTTON
    ]
    assert "Validera" not in control["A2"].value and "skrivs inte ut" in control["A3"].value
    buttoned = load_workbook(with_add_in)[spec.control_sheet]
    assert [buttoned["A2"].value, buttoned["A3"].value] == [CONTROL_NOT_CHECKED, CONTROL_NOTE]
    assert "Validera" in buttoned["A2"].value and "skrivs inte ut" in buttoned["A3"].value
    assert not any(dn.destinations and next(iter(dn.destinations))[0] == spec.control_sheet
                   for dn in wb.defined_names.values())
    widths = [control.column_dimensions[chr(65 + i)].width for i in range(len(CONTROL_COLUMNS))]
    assert widths == pytest.approx([width for _header, width in CONTROL_COLUMNS], abs=1)


def test_the_control_sheet_prints_no_page_of_its_own(wb, spec):
    """Its print area is one cell right of the list, which nothing fills: printing the workbook
    gives the report, not a page saying "not checked yet" (LibreOffice: test_template_libreoffice)."""
    control = wb[spec.control_sheet]
    right_of_list = col_letter(len(CONTROL_COLUMNS))  # G
    assert control.print_area == f"'{spec.control_sheet}'!${right_of_list}$1"
    assert control.max_row == 3 and control.max_column <= len(CONTROL_COLUMNS)
    assert int(control.page_setup.paperSize) == int(control.PAPERSIZE_A4)


def test_a_kontroll_sheet_filled_with_junk_does_not_change_what_is_read(fill, answers, spec, tmp_path):
    """The reader reads named cells only: whatever a coordinator or the button puts on the open
    sheet — text, formulas, errors, merged cells, a copied-in question — does not matter."""
    clean = fill(answers)
    workbook = load_workbook(clean)
    junk = workbook[spec.control_sheet]
    junk["A1"] = "=1/0"
    junk["A2"] = "#N/A"
    junk["B5"] = "ca 40"
    junk["D9"] = spec.fields["women_actual"].label
    junk["E9"] = "=Lägesrapport!E23*2"
    junk.merge_cells("A20:F25")
    for row in range(30, 2030):
        junk.cell(row, 1, f"rad {row}")
    workbook.save(tmp_path / "skrap.xlsx")
    read_clean, read_junk = read_report(clean), read_report(tmp_path / "skrap.xlsx")
    assert read_junk.ok and read_junk.issues == read_clean.issues == []
    assert read_junk.values == read_clean.values
    assert read_junk.report.answers_json() == read_clean.report.answers_json()


def test_input_cells_are_unlocked_and_every_other_used_cell_is_locked(wb, spec):
    inputs = {(f.sheet, f.cell) for f in spec.fields.values()}
    checked_locked = 0
    for ws in (wb[name] for name in spec.sheets):
        for row in ws.iter_rows():
            for cell in row:
                if (ws.title, cell.coordinate) in inputs:
                    assert not cell.protection.locked, f"{ws.title}!{cell.coordinate}"
                elif cell.value is not None or cell.has_style:
                    assert cell.protection.locked, f"{ws.title}!{cell.coordinate} is open"
                    checked_locked += 1
    assert checked_locked > 100
    assert all(not wb[sheet][cell].protection.locked for sheet, cell in inputs)


def test_every_key_of_fields_md_has_a_defined_name_at_an_unlocked_cell(wb, spec):
    labels = fields_md_labels()
    assert len(labels) == 26 + 9 * 5 + 3 * 5
    for key in labels:
        assert key in wb.defined_names, key
        ((sheet, address),) = wb.defined_names[key].destinations
        assert address == spec.fields[key].absolute
        expected_sheet = spec.report_sheet if spec.fields[key].group == "report" else spec.budget_sheet
        assert sheet == expected_sheet, key
        assert not wb[sheet][address.replace("$", "")].protection.locked, key


def test_formula_columns_and_total_rows_of_the_budget_are_locked_formulas(wb, spec):
    ws = wb[spec.budget_sheet]
    budget = spec.budget
    for row in [line.row for line in budget.lines + budget.financing] + [
        budget.lines_total_row,
        budget.financing_total_row,
    ]:
        for column in budget.columns:
            cell = ws.cell(row + 1, column.col + 1)
            if not column.is_input or (
                row in (budget.lines_total_row, budget.financing_total_row) and column.type.name == "amount"
            ):
                assert isinstance(cell.value, str) and cell.value.startswith("="), cell.coordinate
                assert cell.protection.locked, cell.coordinate
    assert ws.cell(budget.lines_total_row + 1, 1).value == budget.total_label


def test_no_merged_cell_contains_an_input(wb, spec):
    for field in spec.fields.values():
        for merged in wb[field.sheet].merged_cells.ranges:
            assert field.cell not in merged, field.key


# --- the form's words ----------------------------------------------------------------------------


def test_every_question_of_the_example_form_appears_word_for_word(wb, spec):
    report = texts(wb[spec.report_sheet])
    for line in example_question_lines():
        assert line in report, line


def test_questions_are_in_the_forms_order(wb, spec):
    ws = wb[spec.report_sheet]
    rows = {c.value: c.row for c in ws["B"] if isinstance(c.value, str)}
    questions = [line for line in example_question_lines() if line in rows][:17]
    positions = [rows[q] for q in questions]
    assert positions == sorted(positions)


def test_every_label_of_fields_md_appears_as_text_or_input_prompt(wb, spec):
    everywhere = set().union(*(texts(ws) for ws in wb.worksheets))
    for key, label in fields_md_labels().items():
        field = spec.fields[key]
        dv = validation_of(wb[field.sheet], field.cell)
        prompt = dv.prompt if dv is not None else ""
        assert label in everywhere or label in prompt, key
    budget_text = texts(wb[spec.budget_sheet])
    for item in spec.budget.lines + spec.budget.financing:
        assert item.label in budget_text
    for column in spec.budget.columns:
        assert column.label in budget_text


def test_instructions_explain_filling_sending_next_steps_and_the_button(wb, spec, with_add_in):
    text = " ".join(texts(wb[spec.instructions_sheet]))
    for heading in ("Så fyller du i", "Så skickar du rapporten", "Vad händer sedan"):
        assert heading in text
    assert "utan några tillägg" in text  # the status cell works without any add-in
    # Without rar.toml's address and without the add-in: e-mail, and no word of a button.
    assert "via e-post" in text and "http" not in text
    assert "Validera" not in text and "xlwings" not in text
    # With both: the upload address (for sending and for checking first), the button, no e-mail.
    text = " ".join(texts(load_workbook(with_add_in)[spec.instructions_sheet]))
    assert text.count(UPLOAD_URL) == 2 and "ladda upp filen" in text and "via e-post" not in text
    assert "xlwings" in text and "Validera" in text and "Knappen skrivs inte ut" in text


def test_every_sheet_says_only_what_it_shows(wb, spec, template_path):
    """"se röda celler" where no cell can be red (issue 22): each box names red cells only on its
    own sheet, and every sheet that says red has a red rule; the instructions say what red means."""
    red_rules = {ws.title: any(cf_formulas(ws, field.cell) for field in spec.fields.values()
                               if field.sheet == ws.title) for ws in wb.worksheets[:3]}
    for sheet, status in sheet_statuses(spec, {}).items():
        assert ("röda celler" in status) == (sheet == spec.report_sheet)  # empty: all missing are there
        assert red_rules[sheet]
    budget_only = {spec.budget_key("staff", "budget_total"): "mycket"}
    statuses = sheet_statuses(spec, budget_only)
    assert "röda celler" in statuses[spec.budget_sheet] and "på bladet Budget" in statuses[spec.report_sheet]
    text = " ".join(texts(wb[spec.instructions_sheet]))
    assert "värde som mallen inte godtar" in text and "problem som mallen själv ser" in text


# --- validation and formats ----------------------------------------------------------------------

EXPECTED_VALIDATION = {
    # field type → (validation type, operator, formula1, formula2)
    "date": (
        "date",
        "between",
        str((dt.date(2000, 1, 1) - dt.date(1899, 12, 30)).days),
        str((dt.date(2100, 12, 31) - dt.date(1899, 12, 30)).days),
    ),
    "count": ("whole", "between", "0", "1000000"),
    "report_number": ("whole", "between", "1", "99"),
    "yes_no": ("list", None, '"Ja,Nej"', None),
    "amount": ("decimal", "between", "0", "1000000000"),
    "text": ("textLength", "lessThanOrEqual", "255", None),
    "long_text": ("textLength", "lessThanOrEqual", "32767", None),
}


def test_every_typed_input_has_validation_with_swedish_texts(wb, spec):
    for field in spec.fields.values():
        dv = validation_of(wb[field.sheet], field.cell)
        assert dv is not None, field.key
        kind, operator, formula1, formula2 = EXPECTED_VALIDATION[field.type.name]
        assert (dv.type, dv.formula1) == (kind, formula1), field.key
        if operator:
            assert (dv.operator or "between") == operator, field.key  # "between" is the default
        if formula2:
            assert dv.formula2 == formula2, field.key
        assert dv.showErrorMessage and dv.showInputMessage, field.key
        assert dv.errorStyle in (None, "stop")
        assert dv.promptTitle and dv.errorTitle == "Ogiltigt värde"
        assert field.label in dv.prompt or field.label[:200] in dv.prompt
        assert dv.error.startswith(field.label[:40]), field.key


def test_free_text_cells_are_text_formatted_and_keep_a_typed_formula_as_text(wb, spec, fill):
    text_fields = [f for f in spec.fields.values() if f.type.name in {"text", "long_text", "yes_no"}]
    assert len(text_fields) >= 14
    for field in text_fields:
        assert wb[field.sheet][field.cell].number_format == "@", field.key
    filled = load_workbook(fill({"activities": "=1+1", "initiative_name": "=SUMMA(A1)"}))
    assert filled[spec.report_sheet][spec.fields["activities"].cell].value == "=1+1"
    assert filled[spec.report_sheet][spec.fields["activities"].cell].data_type == "s"


def test_long_answers_are_wrapped_in_tall_cells(wb, spec):
    ws = wb[spec.report_sheet]
    blocks = {key: item for item in spec.layout if item.kind == "block" for key in item.fields}
    for field in spec.report_fields:
        cell = ws[field.cell]
        if field.type.name == "long_text":
            assert cell.alignment.wrap_text, field.key
            assert ws.row_dimensions[field.row + 1].height >= blocks[field.key].lines * 13, field.key
    assert ws.column_dimensions["B"].width >= 60


def test_dates_counts_and_amounts_have_swedish_number_formats(wb, spec):
    formats = {"date": "yyyy-mm-dd", "count": "0", "report_number": "0", "amount": '#,##0 "kr"'}
    for field in spec.fields.values():
        if field.type.name in formats:
            assert wb[field.sheet][field.cell].number_format == formats[field.type.name], field.key


# --- conditional questions and the live status ---------------------------------------------------


def test_required_cells_are_marked_red_and_conditional_reasons_turn_yellow(wb, spec):
    """Red first for a value the validation refuses (a paste it never saw), then red for a required
    answer that is empty, yellow for one a condition requires."""
    for field in spec.fields.values():
        formulas = cf_formulas(wb[field.sheet], field.cell)
        refused = invalid_test(field, field.cell)
        if refused is not None:
            assert formulas[0] == refused, field.key
            formulas = formulas[1:]
        blank = f"LEN(TRIM({field.cell}))=0"
        if field.required is True:
            assert formulas == [blank], field.key
        elif field.condition:
            condition = spec.conditions[field.condition].excel
            assert formulas == [f"AND({condition},{blank})", condition], field.key
        else:
            assert formulas == [], field.key
    conditional = {f.key for f in spec.fields.values() if f.condition}
    assert {"budget_deviation_reason", "below_plan_reason", "participant_outcomes"} <= conditional


def test_status_cell_and_missing_count_are_formulas_over_the_defined_names(wb, spec):
    status = wb[spec.report_sheet][spec.status_cell].value
    assert status.startswith("=IF(missing_count+invalid_report_count+(invalid_budget_count)=0")
    assert wb[spec.budget_sheet]["A3"].value.startswith("=IF(0+invalid_budget_count+(missing_count+invalid_report")
    count = wb[spec.data_sheet]["B2"].value
    for field in spec.fields.values():
        if field.required:
            assert f"LEN(TRIM({field.key}))=0" in count, field.key
    for condition in spec.conditions.values():
        assert condition.excel in count
    assert wb.defined_names["missing_count"].attr_text == f"'{spec.data_sheet}'!$B$2"
    for name, row, sheet in zip(INVALID_COUNT_NAMES, (3, 4), (spec.report_sheet, spec.budget_sheet)):
        assert wb.defined_names[name].attr_text == f"'{spec.data_sheet}'!$B${row}"
        formula = wb[spec.data_sheet][f"B{row}"].value
        assert len(formula) < 8192  # Excel's limit for one formula
        for field in spec.fields.values():
            refused = invalid_test(field, f"'{sheet}'!{field.cell}")
            assert (refused is not None and f"+({refused})" in formula) == (
                field.sheet == sheet and refused is not None), field.key


@pytest.mark.parametrize("case", ["empty", "complete", "budget_no", "below_plan", "individual"])
def test_cached_status_equals_count_missing(tmp_path, spec, answers, case):
    values = {
        "empty": {},
        "complete": answers,
        "budget_no": {**answers, "budget_on_track": "Nej", "budget_deviation_reason": None},
        "below_plan": {**answers, "men_actual": 2, "below_plan_reason": None},
        "individual": {
            **answers,
            "individual_oriented": "Ja",
            "participant_outcomes": None,
            "women_actual": None,
        },
    }[case]
    path = write_template(tmp_path / "t.xlsx", spec, answers=values)
    cached = load_workbook(path, data_only=True)
    expected = count_missing(spec, values)
    assert cached[spec.data_sheet]["B2"].value == expected
    statuses = sheet_statuses(spec, values)
    assert cached[spec.report_sheet][spec.status_cell].value == statuses[spec.report_sheet]
    assert cached[spec.budget_sheet]["A3"].value == statuses[spec.budget_sheet]
    required_total = sum(1 for f in spec.fields.values() if f.required is True)
    assert {"empty": required_total, "complete": 0, "individual": 2}.get(case, 1) == expected


def test_the_status_counts_what_the_validation_refuses_and_says_it_is_the_templates_view(tmp_path, spec, answers):
    """The kontrollkopia said "2 obligatoriska svar saknas" where the check listed 5 errors: the box
    now counts the refused values too, per sheet, and says that this is what the template sees."""
    pasted = {**answers, "women_actual": "ca 40", "men_actual": -1, "budget_on_track": "Kanske",
              "signed_date": "10.12.2021", "case_number": "x" * 300, "activities": None,
              spec.budget_key("travel", "actual_period"): "6 200 kr"}
    assert count_missing(spec, pasted) == 1
    assert count_invalid(spec, pasted, spec.report_sheet) == 5
    assert count_invalid(spec, pasted, spec.budget_sheet) == 1
    path = write_template(tmp_path / "t.xlsx", spec, answers=pasted)
    cached = load_workbook(path, data_only=True)
    assert [cached[spec.data_sheet][c].value for c in ("B2", "B3", "B4")] == [1, 5, 1]
    assert cached[spec.report_sheet][spec.status_cell].value == (
        "Mallen ser 7 problem: 1 obligatoriskt svar saknas och 5 värden godtas inte här (röda celler), "
        "1 på bladet Budget.")
    assert cached[spec.budget_sheet]["A3"].value == (
        "Mallen ser 7 problem: 1 värde godtas inte här (röda celler), 6 på bladet Lägesrapport.")
    assert cached[spec.report_sheet][spec.status_cell].value.startswith("Mallen ser")
    fine = {**answers, "women_actual": 0, spec.budget_key("travel", "actual_period"): Decimal("2.5")}
    assert count_invalid(spec, fine, spec.report_sheet) == count_invalid(spec, fine, spec.budget_sheet) == 0


def test_count_missing_follows_excel_not_the_reader(spec, answers):
    # Excel's ISNUMBER is false for text and TRIM(x)="Nej" ignores case: so does the cached count.
    text_count = {**answers, "women_actual": "2", "men_actual": 9, "below_plan_reason": None}
    assert count_missing(spec, text_count) == 0
    lower_case = {**answers, "budget_on_track": " nej ", "budget_deviation_reason": None}
    assert count_missing(spec, lower_case) == 1


# --- printing ------------------------------------------------------------------------------------


def test_a4_portrait_print_setup_with_titles_footer_and_page_numbers(wb, spec):
    for ws in wb.worksheets[:3]:
        assert str(ws.page_setup.paperSize) == "9", ws.title
        assert ws.page_setup.orientation == "portrait", ws.title
        assert 50 <= int(ws.page_setup.scale) <= 100, ws.title
        assert ws.print_title_rows, ws.title
        assert "&P" in ws.oddFooter.right.text and "&N" in ws.oddFooter.right.text
        assert ws.print_area
    assert wb[spec.report_sheet].print_title_rows == "$1:$2"


def test_page_breaks_never_separate_a_question_from_its_answer(wb, spec):
    ws = wb[spec.report_sheet]
    breaks = [b.id for b in ws.row_breaks.brk]  # a break before 0-based row `id`
    assert breaks, "the report is longer than one page"
    starts = {item.row for item in spec.layout}
    glued = {
        later.row
        for earlier, later in zip(spec.layout, spec.layout[1:], strict=False)
        if earlier.keep_with_next
    }
    for row in breaks:
        assert row in starts and row not in glued, row
    heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
    pages = [0, *breaks, max(heights)]
    capacity = page_capacity(int(ws.page_setup.scale))
    for first, after in zip(pages, pages[1:], strict=False):
        assert sum(heights.get(r + 1, 0) for r in range(first, after)) <= capacity


def test_every_row_of_the_report_has_an_explicit_height(wb, spec):
    ws = wb[spec.report_sheet]
    last = max(item.row for item in spec.layout) + (spec.layout[-1].kind == "block")
    for row in range(1, last + 2):
        assert ws.row_dimensions[row].height, row


# --- version stamp, button ----------------------------------------------------------------------


def test_form_version_is_stamped_on_the_hidden_sheet_and_as_document_property(wb, spec, template_path):
    data = wb[spec.data_sheet]
    assert data.sheet_state == "hidden"
    assert data["B1"].value == spec.version
    assert wb.defined_names["form_version"].attr_text == f"'{spec.data_sheet}'!$B$1"
    properties = {p.name: p.value for p in wb.custom_doc_props.props}
    assert properties[VERSION_PROPERTY] == spec.version


def test_without_the_add_in_the_template_has_no_button(template_path, spec):
    """The default (no add-in deployed): a button that does nothing is not drawn at all."""
    with zipfile.ZipFile(template_path) as archive:
        assert not [name for name in archive.namelist() if name.startswith("xl/drawings/")]
        assert related_or_none(archive, sheet_part(archive, spec.report_sheet), "drawing") == []


def related_or_none(archive: zipfile.ZipFile, part: str, kind: str) -> list[str]:
    rels = f"{dirname(part)}/_rels/{part.rsplit('/', 1)[1]}.rels"
    return related(archive, part, kind) if rels in archive.namelist() else []


def test_validera_button_is_a_named_non_printing_shape_right_of_the_print_area(with_add_in, spec):
    """At F1, linked to F1 (xlwings Lite binds a button through the cell under it), and outside
    the print area A:E, so that LibreOffice, which prints shapes whatever their flag, leaves it out."""
    with zipfile.ZipFile(with_add_in) as archive:
        sheet = sheet_part(archive, spec.report_sheet)
        (drawing_target,) = related(archive, sheet, "drawing")
        drawing_part = normpath(join(dirname(sheet), drawing_target))
        drawing = archive.read(drawing_part).decode()
        (link,) = related(archive, drawing_part, "hyperlink")
    assert drawing.count("<xdr:sp ") == 1
    assert f'name="{BUTTON_NAME}"' in drawing
    assert f"<a:t>{BUTTON_TEXT}</a:t>" in drawing
    anchor_from = re.search(r"<xdr:from><xdr:col>(\d+)</xdr:col>.*?<xdr:row>(\d+)</xdr:row>", drawing)
    anchor_to = re.search(r"<xdr:to><xdr:col>(\d+)</xdr:col>.*?<xdr:row>(\d+)</xdr:row>", drawing)
    assert anchor_from.groups() == ("5", "0")  # top-left in F1
    assert int(anchor_to.group(2)) <= 1  # within the two title rows
    assert "<a:hlinkClick" in drawing and link == f"#'{spec.report_sheet}'!F1"
    assert '<xdr:clientData fPrintsWithSheet="0"/>' in drawing
    print_area = load_workbook(with_add_in)[spec.report_sheet].print_area
    assert print_area.endswith(":$E$" + print_area.rsplit("$", 1)[1])  # columns A:E only


# --- pre-filled templates ------------------------------------------------------------------------


def test_prefilled_values_land_in_their_cells_locked_and_other_inputs_stay_open(tmp_path, spec):
    prefill = {
        "case_number": "2020-0042",
        "initiative_name": "Nyttiga affärer",
        "initiative_start": dt.date(2021, 1, 1),
        "report_number": 2,
        "women_planned_min": 8,
        "women_planned_max": 12,
        "budget_staff_budget_total": 1_800_000,
    }
    path = write_template(tmp_path / "prefilled.xlsx", spec, prefill=prefill)
    wb = load_workbook(path)
    for key, value in prefill.items():
        field = spec.fields[key]
        cell = wb[field.sheet][field.cell]
        expected = dt.datetime.combine(value, dt.time()) if isinstance(value, dt.date) else value
        assert cell.value == expected, key
        assert cell.protection.locked, key
        assert validation_of(wb[field.sheet], field.cell) is None, key
        assert cf_formulas(wb[field.sheet], field.cell) == [], key
    for field in spec.fields.values():
        if field.key not in prefill:
            assert not wb[field.sheet][field.cell].protection.locked, field.key
    cached = load_workbook(path, data_only=True)
    assert cached[spec.data_sheet]["B2"].value == count_missing(spec, prefill)


def test_only_prefillable_fields_can_be_prefilled(tmp_path, spec):
    with pytest.raises(KeyError, match="kan inte förifyllas"):
        write_template(tmp_path / "x.xlsx", spec, prefill={"activities": "Text"})
    with pytest.raises(KeyError, match="Okända fält"):
        write_template(tmp_path / "x.xlsx", spec, prefill={"no_such_field": 1})
    assert not (tmp_path / "x.xlsx").exists()


# --- reproducibility, committed artefact, command line ------------------------------------------


def test_output_is_byte_for_byte_reproducible(tmp_path, template_path):
    again = write_template(tmp_path / "again.xlsx")
    assert again.read_bytes() == template_path.read_bytes()


def test_committed_template_matches_the_code(template_path):
    assert COMMITTED_TEMPLATE.exists(), f"{COMMITTED_TEMPLATE} saknas. {REGENERATE}."
    if COMMITTED_TEMPLATE.read_bytes() == template_path.read_bytes():
        return
    # Different bytes may come from another zlib; the parts themselves must be identical.
    with zipfile.ZipFile(COMMITTED_TEMPLATE) as old, zipfile.ZipFile(template_path) as new:
        old_parts = {name: old.read(name) for name in old.namelist()}
        new_parts = {name: new.read(name) for name in new.namelist()}
    differing = sorted(n for n in old_parts.keys() | new_parts.keys() if old_parts.get(n) != new_parts.get(n))
    assert not differing, (
        f"Den incheckade mallen skiljer sig från koden i {', '.join(differing)}. {REGENERATE}."
    )


def test_the_package_names_write_template_and_its_light_modules_leave_xlsxwriter_unimported():
    """`lagesrapport_xl.template.write_template` is imported on first use, so importing the control
    workbook's defaults (the Excel layer does) costs no XlsxWriter."""
    import lagesrapport_xl.template as template

    assert template.write_template is write_template
    script = "import sys, lagesrapport_xl.template.control_workbook; print('xlsxwriter' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_cli_writes_the_template_with_a_password(tmp_path, capsys):
    target = tmp_path / "ut" / "mall.xlsx"
    assert main(["template", "-o", str(target), "--password", "hemligt"]) == 0
    assert "Mallen är skriven" in capsys.readouterr().out
    wb = load_workbook(target)
    spec = load_spec(None)
    assert all(wb[name].protection.password for name in spec.sheets)
    assert not wb[spec.control_sheet].protection.sheet  # open even then: the Validera button writes there
    assert wb.security.workbookPassword == wb.worksheets[0].protection.password


def test_cli_explains_missing_arguments_in_swedish(tmp_path, capsys):
    assert main(["template"]) == 2
    assert "Ange antingen -o" in capsys.readouterr().err
    assert main(["template", "-o", str(tmp_path / "a.xlsx"), "--register", "r.csv"]) == 2


def test_toml_override_changes_labels_and_budget_lines_without_code(tmp_path, capsys):
    config = tmp_path / "rar.toml"
    config.write_text(
        '[fields.activities]\nlabel = "Beskriv halvårets viktigaste aktiviteter"\n\n'
        '[[budget.lines]]\nkey = "staff"\nlabel = "Personal"\n\n'
        '[[budget.lines]]\nkey = "rent"\nlabel = "Hyra för lokaler"\n',
        encoding="utf-8",
    )
    target = tmp_path / "mall.xlsx"
    assert main(["template", "-o", str(target), "--config", str(config)]) == 0
    wb = load_workbook(target)
    spec = load_spec(config)
    assert "Beskriv halvårets viktigaste aktiviteter:" in texts(wb[spec.report_sheet])
    budget = texts(wb[spec.budget_sheet])
    assert {"Personal", "Hyra för lokaler"} <= budget and "Resor" not in budget
    assert "budget_rent_actual_period" in wb.defined_names
    assert "budget_travel_actual_period" not in wb.defined_names
    total = wb[spec.budget_sheet].cell(
        spec.budget.lines_total_row + 1, spec.budget.column("actual_period").col + 1
    )
    first, last = spec.budget.lines[0].row + 1, spec.budget.lines[-1].row + 1
    assert total.value == f"=SUM(D{first}:D{last})" and last == first + 1


def test_bad_override_is_refused_in_swedish(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text('[fields.activities]\ntype = "novel"\n', encoding="utf-8")
    assert main(["template", "-o", str(tmp_path / "m.xlsx"), "--config", str(config)]) == 2
    assert "okänd typ" in capsys.readouterr().err
    assert not (tmp_path / "m.xlsx").exists()


def test_cli_takes_the_upload_address_and_the_button_from_rar_toml_or_the_command_line(tmp_path, capsys):
    config = tmp_path / "rar.toml"
    config.write_text(f'[template]\nupload_url = "{UPLOAD_URL}"\nexcel_buttons = true\n', encoding="utf-8")
    spec = load_spec(None)

    def made(*args: str) -> tuple[str, bool]:
        target = tmp_path / f"mall{len(list(tmp_path.iterdir()))}.xlsx"
        assert main(["template", "-o", str(target), *args]) == 0
        with zipfile.ZipFile(target) as archive:
            button = any(name.startswith("xl/drawings/") for name in archive.namelist())
        return " ".join(texts(load_workbook(target)[spec.instructions_sheet])), button

    text, button = made("--config", str(config))
    assert UPLOAD_URL in text and button
    text, button = made("--config", str(config), "--no-excel-buttons")  # the command line wins
    assert UPLOAD_URL in text and not button and "Validera" not in text
    text, button = made("--excel-buttons")
    assert "via e-post" in text and button
    config.write_text('[template]\nupload_url = "rapport.rar.se"\nknappar = 1\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["template", "-o", str(tmp_path / "x.xlsx"), "--config", str(config)]) == 2
    assert "okända inställningar i [template]: knappar" in capsys.readouterr().err
    config.write_text('[template]\nupload_url = "rapport.rar.se"\n', encoding="utf-8")
    assert main(["template", "-o", str(tmp_path / "x.xlsx"), "--config", str(config)]) == 2
    assert "https://" in capsys.readouterr().err and not (tmp_path / "x.xlsx").exists()
