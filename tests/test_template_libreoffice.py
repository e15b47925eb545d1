"""LibreOffice is the ground truth: it recalculates the template's formulas, prints it to PDF and
saves it back to xlsx. All files go through one LibreOffice start per kind (start-up is slow)."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from lagesrapport_dev.fill import fill_workbook
from lagesrapport_dev.samples import example_answers
from lagesrapport_xl.form.control_sheet import CONTROL_COLUMNS, CONTROL_NOTE, CONTROL_TITLE
from lagesrapport_xl.form.spec import default_spec
from lagesrapport_xl.reader.register import read_register
from lagesrapport_xl.common.config import TemplateOptions
from lagesrapport_xl.template.status import count_invalid, count_missing, sheet_statuses
from lagesrapport_xl.template.writer import write_template

pytestmark = pytest.mark.libreoffice

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CSV = ROOT / "workbook_templates" / "register_exempel.csv"


def status_cases(spec) -> dict[str, dict[str, Any]]:
    """Values typed into the empty template, one file each; the three conditional cases included."""
    full = example_answers(spec)  # budget Nej, men below plan, individinriktad Ja — all answered
    return {
        "empty": {},
        "complete": full,
        "budget_no_reason_missing": {**full, "budget_deviation_reason": None},
        "budget_yes_reason_not_needed": {**full, "budget_on_track": "Ja", "budget_deviation_reason": None},
        "below_plan_reason_missing": {**full, "below_plan_reason": None},
        "at_plan_reason_not_needed": {**full, "men_actual": 8, "below_plan_reason": None},
        "individual_answers_missing": {
            **full,
            "participant_outcomes": None,
            "women_actual": None,
            "men_actual": None,
        },
        "not_individual": {
            **full,
            "individual_oriented": "Nej",
            "participant_outcomes": None,
            "women_actual": None,
            "men_actual": None,
        },
        "lower_case_nej_pasted": {**full, "budget_on_track": " nej", "budget_deviation_reason": None},
        "only_spaces": {**full, "activities": "   ", "chair_name": " "},
        "formula_typed_as_text": {**full, "activities": "=1+1"},
        # values the validation would refuse, pasted past it: the boxes count them per sheet
        "refused_values": {**full, "women_actual": "ca 40", "men_actual": -1, "reports_total": 2.5,
                           "budget_on_track": "Kanske", "signed_date": "10.12.2021", "case_number": "x" * 300,
                           "budget_travel_actual_period": "6 200 kr", "activities": None},
        "refused_on_the_budget_only": {**full, "budget_staff_budget_total": "mycket",
                                       "budget_travel_actual_cumulative": 1_000_000_001},
    }


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory, spec, template_path, libreoffice):
    """name → (values, LibreOffice-recalculated workbook with cached values)."""
    source = tmp_path_factory.mktemp("typed")
    cases = status_cases(spec)
    files = [fill_workbook(template_path, source / f"{name}.xlsx", values) for name, values in cases.items()]
    out = libreoffice.convert(files, "xlsx", tmp_path_factory.mktemp("recalculated"))
    return {
        name: (cases[name], load_workbook(path, data_only=True))
        for name, path in zip(cases, out, strict=True)
    }


@pytest.mark.parametrize("case", list(status_cases(default_spec())))
def test_status_cell_counts_like_python_after_recalculation(recalculated, spec, case):
    values, wb = recalculated[case]
    expected = count_missing(spec, values)
    assert wb[spec.data_sheet]["B2"].value == expected
    refused = [count_invalid(spec, values, sheet) for sheet in (spec.report_sheet, spec.budget_sheet)]
    assert [wb[spec.data_sheet]["B3"].value, wb[spec.data_sheet]["B4"].value] == refused
    statuses = sheet_statuses(spec, values)
    assert wb[spec.report_sheet][spec.status_cell].value == statuses[spec.report_sheet]
    assert wb[spec.budget_sheet]["A3"].value == statuses[spec.budget_sheet]
    assert refused == {"refused_values": [6, 1], "refused_on_the_budget_only": [0, 2]}.get(case, [0, 0])
    required = sum(1 for f in spec.fields.values() if f.required is True)
    assert expected == {
        "empty": required,
        "complete": 0,
        "budget_yes_reason_not_needed": 0,
        "at_plan_reason_not_needed": 0,
        "individual_answers_missing": 3,
        "not_individual": 0,
        "only_spaces": 2,
        "formula_typed_as_text": 0,
        "refused_on_the_budget_only": 0,
    }.get(case, 1)


def test_a_formula_typed_into_a_text_cell_stays_text(recalculated, spec):
    _, wb = recalculated["formula_typed_as_text"]
    assert wb[spec.report_sheet][spec.fields["activities"].cell].value == "=1+1"


def test_budget_totals_and_formula_columns_compute(recalculated, spec):
    values, wb = recalculated["complete"]
    ws = wb[spec.budget_sheet]
    budget = spec.budget
    col = {c.key: c.col + 1 for c in budget.columns}
    staff = budget.lines[0].row + 1
    assert ws.cell(staff, col["deviation_period"]).value == 300_000 - 254_000
    assert ws.cell(staff, col["used_share"]).value == pytest.approx(498_000 / 1_800_000)
    total = sum(v for k, v in values.items() if k.startswith("budget_") and k.endswith("_actual_period"))
    assert ws.cell(budget.lines_total_row + 1, col["actual_period"]).value == total
    for column in ("budget_total", "budget_period", "actual_period", "actual_cumulative"):
        assert ws.cell(budget.balance_row + 1, col[column]).value == 0


# --- pre-filled templates: cached values agree with a recalculation ------------------------------------


def test_prefilled_templates_cached_values_equal_libreoffice(tmp_path, spec, libreoffice):
    rows, problems = read_register(EXAMPLE_CSV, spec)
    assert problems == []
    answers = {"activities": "Text", "budget_on_track": "Nej", "individual_oriented": "Ja", "women_actual": 3}
    files = [
        write_template(tmp_path / "in" / f"rad{row.row}.xlsx", spec, prefill=row.prefill) for row in rows
    ]
    files.append(
        write_template(tmp_path / "in" / "with_answers.xlsx", spec, prefill=rows[0].prefill, answers=answers)
    )
    converted = libreoffice.convert(files, "xlsx", tmp_path / "out")
    for original, recalculated in zip(files, converted, strict=True):
        cached = load_workbook(original, data_only=True)
        fresh = load_workbook(recalculated, data_only=True)
        for sheet, address in [
            (spec.data_sheet, "B2"),
            (spec.data_sheet, "B3"),
            (spec.data_sheet, "B4"),
            (spec.report_sheet, spec.status_cell),
            (spec.budget_sheet, "A3"),
        ]:
            assert cached[sheet][address].value == fresh[sheet][address].value, (original.name, address)
        for row in fresh[spec.budget_sheet].iter_rows():
            for cell in row:
                before = cached[spec.budget_sheet][cell.coordinate].value
                if isinstance(cell.value, (int, float)) or isinstance(before, (int, float)):
                    assert before == pytest.approx(cell.value), (original.name, cell.coordinate)
    with_answers = load_workbook(converted[-1], data_only=True)
    assert (
        with_answers[spec.data_sheet]["B2"].value == count_missing(spec, {**rows[0].prefill, **answers}) > 0
    )


# --- round trip xlsx → xlsx ----------------------------------------------------------------------------


def test_round_trip_keeps_names_protection_and_validation(tmp_path, spec, template_path, libreoffice):
    (copy,) = libreoffice.convert([template_path], "xlsx", tmp_path)
    before, after = load_workbook(template_path), load_workbook(copy)
    assert after.sheetnames == before.sheetnames
    assert after[spec.data_sheet].sheet_state == "hidden"
    assert after[spec.data_sheet]["B1"].value == spec.version
    # LibreOffice keeps the workbook protection element but resets its flags (NOTES.md)
    with zipfile.ZipFile(copy) as archive:
        assert "<workbookProtection" in archive.read("xl/workbook.xml").decode()
    for name in spec.sheets:
        assert after[name].protection.sheet, name
    # the open control sheet stays open, visible and last: the Validera button writes there
    assert not after[spec.control_sheet].protection.sheet
    assert after[spec.control_sheet].sheet_state == "visible" and after.sheetnames[-1] == spec.control_sheet
    assert after[spec.control_sheet].print_area == before[spec.control_sheet].print_area
    for key in [*spec.fields, "form_version", "missing_count"]:
        assert after.defined_names[key].destinations and list(after.defined_names[key].destinations) == list(
            before.defined_names[key].destinations
        ), key
    for field in spec.fields.values():
        ws_before, ws_after = before[field.sheet], after[field.sheet]
        assert not ws_after[field.cell].protection.locked, field.key
        (old,) = [dv for dv in ws_before.data_validations.dataValidation if field.cell in dv.sqref]
        new = [dv for dv in ws_after.data_validations.dataValidation if field.cell in dv.sqref]
        assert len(new) == 1, field.key
        assert new[0].type == old.type and new[0].showErrorMessage, field.key
        assert (new[0].formula1 or "").lstrip("=") == old.formula1, (
            field.key
        )  # LibreOffice drops a leading "="
        assert new[0].prompt == old.prompt, field.key
    for item in spec.layout:
        assert after[spec.report_sheet].cell(item.row + 1, 2).protection.locked


# --- printing ---------------------------------------------------------------------------------------


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [page for page in text.split("\f") if page.strip()]


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]


@pytest.fixture(scope="module")
def printed(tmp_path_factory, spec, libreoffice):
    """The example report, each long answer marked, printed to PDF by LibreOffice."""
    answers = example_answers(spec)
    for item in spec.layout:
        if item.kind == "block":
            answers[item.fields[0]] = f"SVAR-{item.fields[0]} " + str(answers[item.fields[0]])
    source = write_template(tmp_path_factory.mktemp("print") / "rapport.xlsx", spec, answers=answers)
    (pdf,) = libreoffice.convert([source], "pdf", tmp_path_factory.mktemp("pdf"))
    return source, pdf


def pages_of(pages: list[str], sheet: str) -> list[str]:
    """Pages whose footer names the sheet (the footer prints &A at its left)."""
    return [
        page
        for page in pages
        if re.search(rf"^\s*{sheet}\s+Sida \d+ av \d+\s*$", page.strip().splitlines()[-1])
    ]


def test_pdf_is_a4_portrait_and_paginated_as_designed(printed, spec):
    source, pdf = printed
    sizes = page_sizes(pdf)
    pages = pdf_pages(pdf)
    assert len(sizes) == len(pages) >= 3
    for width, height in sizes:
        assert width == pytest.approx(595.3, abs=1) and height == pytest.approx(841.9, abs=1)
    breaks = load_workbook(source)[spec.report_sheet].row_breaks.brk
    report = pages_of(pages, spec.report_sheet)
    assert len(report) == len(breaks) + 1  # no page added by LibreOffice: nothing spilled sideways
    assert len(pages_of(pages, spec.instructions_sheet)) == 1
    assert len(pages_of(pages, spec.budget_sheet)) == 1
    assert len(pages) == len(report) + 2  # the open Kontroll sheet prints no page of its own
    assert not any(CONTROL_TITLE in page or CONTROL_NOTE[:40] in page for page in pages)
    for number, page in enumerate(pages, start=1):
        assert f"Sida {number} av {len(pages)}" in page


def test_every_printed_page_holds_the_left_and_right_columns(printed, spec):
    _, pdf = printed
    pages = pdf_pages(pdf)
    for page in pages_of(pages, spec.report_sheet):
        assert spec.subtitle in page  # column B, on the repeated title rows
    report_text = "\n".join(pages_of(pages, spec.report_sheet))
    assert re.search(r"Kvinnor\s+8\s+12\s+16", report_text)  # columns B to E on one line
    assert re.search(r"Män\s+8\s+12\s+0", report_text)
    assert re.search(r"Lägesrapport nr: Av totalt antal som skall skickas till RAR:\s+2\s+6", report_text)
    (budget,) = pages_of(pages, spec.budget_sheet)
    assert "Kostnader" in budget and "Kommentar" in budget
    # one cost line across every column: amounts, both formula columns
    assert re.search(r"Resor\s+60.000 kr\s+10.000 kr\s+6.200 kr\s+11.900 kr\s+3.800 kr\s+19[.,]8\s?%", budget)
    (instructions,) = pages_of(pages, spec.instructions_sheet)
    assert "Formulärversion 1.0" in instructions


def test_no_question_is_printed_on_another_page_than_its_answer(printed, spec):
    _, pdf = printed
    pages = pages_of(pdf_pages(pdf), spec.report_sheet)
    for item in spec.layout:
        if item.kind != "block":
            continue
        question = " ".join(item.text.split()[:4])
        marker = f"SVAR-{item.fields[0]}"
        with_question = [i for i, page in enumerate(pages) if question in " ".join(page.split())]
        with_answer = [i for i, page in enumerate(pages) if marker in page]
        assert with_question and with_question == with_answer, item.text


def test_a_checked_kontroll_sheet_is_not_printed_with_the_report(tmp_path, spec, template_path, libreoffice):
    """After Validera has written its list (values from A1, as the button writes them), printing
    the whole workbook still gives the report's pages only; the list stays a working aid on screen."""
    filled = fill_workbook(template_path, tmp_path / "rapport.xlsx", example_answers(spec))
    workbook = load_workbook(filled)
    control = workbook[spec.control_sheet]
    for row in control.iter_rows():
        for cell in row:
            cell.value = None
    rows = [[CONTROL_TITLE], ["1 fel hittades."], [], [header for header, _width in CONTROL_COLUMNS]]
    rows += [["Fel", spec.report_sheet, f"E{n}", "Fråga", "ca 40", "LISTRAD ej heltal."] for n in range(60)]
    for values in rows:
        control.append(values)
    workbook.save(filled)
    unchecked = write_template(tmp_path / "tom.xlsx", spec, answers=example_answers(spec))
    checked_pdf, unchecked_pdf = libreoffice.convert([filled, unchecked], "pdf", tmp_path / "pdf")
    checked, plain = pdf_pages(checked_pdf), pdf_pages(unchecked_pdf)
    assert len(checked) == len(plain) and "LISTRAD" not in "".join(checked)


def test_the_validera_button_is_never_printed(tmp_path, spec, libreoffice):
    """LibreOffice prints shapes whatever their non-printing flag: the button sits right of the
    print area, so the printed report has no "Validera" on any page (it printed on every page when
    it sat over the repeated title rows)."""
    options = TemplateOptions(upload_url="https://rapport.rar-sormland.se", excel_buttons=True)
    source = write_template(tmp_path / "rapport.xlsx", spec, answers=example_answers(spec), options=options)
    (pdf,) = libreoffice.convert([source], "pdf", tmp_path / "pdf")
    pages = pdf_pages(pdf)
    report = pages_of(pages, spec.report_sheet)
    assert len(report) >= 2 and not any("Validera" in page for page in report)
    (instructions,) = pages_of(pages, spec.instructions_sheet)
    assert "Knappen Validera" in instructions  # the sheet that explains it prints, the shape does not
    assert "https://rapport.rar-sormland.se" in instructions

