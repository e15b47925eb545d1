"""LibreOffice is the ground truth for "a file saved by another program": a report filled, opened
and saved by LibreOffice must read exactly like the file it came from."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from conftest import sha256
from openpyxl import load_workbook

from lagesrapport_dev.fill import fill_workbook
from lagesrapport_dev.samples import example_answers
from lagesrapport_xl.reader.annotate import write_annotated_copy
from lagesrapport_xl.reader.read import read_report

pytestmark = pytest.mark.libreoffice

VARIANTS: dict[str, dict[str, Any]] = {
    "valid": {},
    "lenient": {
        "signed_date": "10.12.2021", "period_end": "211130", "period_start": 20210601,
        "budget_on_track": " nej.", "women_planned_min": "8–12", "women_planned_max": None,
        "budget_travel_actual_period": "6\u00a0200 kr", "budget_travel_comment": "  två\nrader  ",
    },
    "errors": {
        "women_actual": "ca 40", "men_actual": "=10+6", "period_end": "31.02.2025", "initiative_name": None,
        "budget_staff_actual_period": "1.234", "budget_staff_budget_total": "#N/A", "report_number": 7,
    },
    "texts": {
        "activities": "Åtta träffar – “citat” och ’apostrof’ 😀 עברית\n\tindrag\n" * 300,
        "deviations": "=inte en formel", "gender_comment": "x" * 32_767, "chair_name": "  Anna Andersson ",
    },
}


@pytest.fixture(scope="module")
def round_trip(template_path, libreoffice, tmp_path_factory) -> dict[str, tuple[Path, Path, str]]:
    """variant → (file filled by openpyxl, the same file saved by LibreOffice, hash before)."""
    source = tmp_path_factory.mktemp("filled")
    originals = {
        name: fill_workbook(template_path, source / f"{name}.xlsx", {**example_answers(), **changes})
        for name, changes in VARIANTS.items()
    }
    hashes = {name: sha256(path) for name, path in originals.items()}
    converted = libreoffice.convert(list(originals.values()), "xlsx", tmp_path_factory.mktemp("saved_by_lo"))
    return {name: (originals[name], saved, hashes[name]) for name, saved in zip(originals, converted)}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_file_saved_by_libreoffice_reads_like_the_original(round_trip, variant):
    original, saved, before = round_trip[variant]
    first, again = read_report(original), read_report(saved)
    assert again.values == first.values
    assert [i.to_json() for i in again.issues] == [i.to_json() for i in first.issues]
    assert again.form_version == first.form_version == "1.0"
    if first.report is not None:
        assert again.report.answers() == first.report.answers()
    assert sha256(original) == before  # neither reading nor converting touched the original


def test_json_values_of_a_rejected_file_saved_by_libreoffice(round_trip, spec):
    """`values` holds exactly the answers that parsed, the same before and after LibreOffice saved
    the file: the broken ones are left out, the empty required one is null, `report` stays null."""
    clean = read_report(round_trip["valid"][0]).to_json()["report"]
    unread = {"women_actual", "men_actual", "period_end", "budget_staff_actual_period", "budget_staff_budget_total"}
    expected = {k: v for k, v in {**clean, "initiative_name": None, "report_number": 7}.items() if k not in unread}
    for path in round_trip["errors"][:2]:
        data = read_report(path).to_json()
        assert data["report"] is None
        assert data["values"] == expected, path
        assert {i["field"] for i in data["issues"]} >= unread | {"initiative_name"}
    for path in round_trip["valid"][:2]:  # a clean file: values and report alike
        data = read_report(path).to_json()
        assert data["values"] == data["report"] == clean


def test_the_round_trip_keeps_the_lenient_forms_meaning(round_trip):
    report = read_report(round_trip["lenient"][1]).report
    assert report.signed_date == dt.date(2021, 12, 10)
    assert (report.women_planned_min, report.women_planned_max) == (8, 12)
    assert report.budget_on_track == "Nej"
    assert report.budget_travel_comment == "  två\nrader  "


def test_formulas_stay_formulas_after_libreoffice(round_trip, spec):
    result = read_report(round_trip["errors"][1])
    by_field = {i.field: i for i in result.errors}
    assert by_field["men_actual"].value == "=10+6"
    assert by_field["men_actual"].cell == spec.fields["men_actual"].cell


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_both_sources_agree_on_files_saved_by_libreoffice(round_trip, variant):
    saved = round_trip[variant][1]
    assert read_report(saved).to_json() == read_report(saved, source="openpyxl").to_json()


def test_an_ods_file_gets_a_save_as_xlsx_message(round_trip, libreoffice, tmp_path):
    (ods,) = libreoffice.convert(round_trip["valid"][0], "ods", tmp_path)
    result = read_report(ods)
    assert not result.ok and result.report is None
    assert any("Spara som" in i.message and ".xlsx" in i.message for i in result.errors)


def test_libreoffice_opens_the_annotated_copy(round_trip, libreoffice, spec, tmp_path):
    original = round_trip["errors"][0]
    result = read_report(original)
    copy = write_annotated_copy(original, result, tmp_path / "kontroll")
    (reopened,) = libreoffice.convert(copy, "xlsx", tmp_path / "lo")
    sheet = load_workbook(reopened)["Kontroll"]
    rows = [row for row in sheet.iter_rows(values_only=True) if row[0] in ("Fel", "Varning")]
    assert len(rows) == len(result.issues)
    assert [row[2] for row in rows] == [issue.cell for issue in result.issues]
    links = [cell.hyperlink.location for cell in sheet["C"] if cell.hyperlink]
    assert f"Lägesrapport!{spec.fields['women_actual'].cell}" in [link.replace("'", "") for link in links]
    # The answers survive in LibreOffice's copy of the annotated copy.
    assert read_report(reopened).values == result.values


def test_the_annotated_copy_of_a_libreoffice_saved_report_selects_only_the_kontroll_tab(round_trip, spec, tmp_path):
    """LibreOffice writes tabSelected="true" (Excel "1"): the copy must clear either, or it opens
    with two tabs selected and a change would land on both sheets."""
    import re
    import zipfile

    saved = round_trip["errors"][1]
    with zipfile.ZipFile(saved) as archive:
        assert any(b'tabSelected="true"' in archive.read(n) for n in archive.namelist() if "worksheets/" in n)
    copy = write_annotated_copy(saved, read_report(saved), tmp_path / "kontroll")
    with zipfile.ZipFile(copy) as archive:
        selected = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")
                    and re.search(rb'tabSelected="(1|true)"', archive.read(n))]
    book = load_workbook(copy)
    assert len(selected) == 1
    assert [ws.title for ws in book.worksheets if ws.sheet_view.tabSelected] == [spec.control_sheet]
