"""Rolling a report forward: report 1 → the next period's template → filled as a coordinator does →
read as report 2, with the cumulative utfall carried; the register and a folder of earlier reports;
the rules that compare a report with the one before it, in a file and in a batch; bad input.

LibreOffice round trips are at the end (marked `libreoffice`).
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import sha256
from openpyxl import load_workbook

from lagesrapport_dev.examples import DEMO_INSATSER, report_answers
from lagesrapport_dev.fill import fill_workbook
from lagesrapport_xl.cli import main
from lagesrapport_xl.common.issues import Severity
from lagesrapport_xl.consolidate.batch import build_consolidation
from lagesrapport_xl.consolidate.statuses import Status
from lagesrapport_xl.form.spec import SpecError, load_spec
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.template.rollforward import (
    RollForwardError,
    next_period,
    roll_forward,
    roll_forward_register,
)
from lagesrapport_xl.template.writer import write_template

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "workbook_templates" / "examples"
NYTTIGA = DEMO_INSATSER[0]  # 36 months from 2021-01-01: six reports
SOURCES = ("fast", "openpyxl")


def typed_by_coordinator(answers: dict[str, Any], spec) -> dict[str, Any]:
    """What the coordinator types into a rolled-forward template: all but what it pre-fills or carries."""
    return {k: v for k, v in answers.items() if not spec.fields[k].prefill and k not in spec.carried}


def codes(result) -> list[str]:
    return [issue.code for issue in result.issues]


@pytest.fixture(scope="module")
def report_1(tmp_path_factory, spec) -> Path:
    """Report 1 of Nyttiga affärer, written as the demo set writes reports."""
    return write_template(tmp_path_factory.mktemp("r1") / "Nyttiga_rapport_1.xlsx", spec,
                          answers=report_answers(NYTTIGA, 1, spec))


@pytest.fixture(scope="module")
def rolled(report_1, tmp_path_factory, spec) -> Path:
    """The template for report 2, rolled forward from report 1."""
    path = tmp_path_factory.mktemp("r2") / "nasta.xlsx"
    roll_forward(report_1, path, spec)
    return path


@pytest.fixture()
def fill_rolled(rolled, tmp_path):
    """fill_rolled(changes) → report 2 typed into the rolled template (only this period's amounts)."""
    def _fill(changes: dict[str, Any] | None = None, name: str = "rapport_2.xlsx") -> Path:
        spec = load_spec(None)
        values = {**typed_by_coordinator(report_answers(NYTTIGA, 2, spec), spec), **(changes or {})}
        return fill_workbook(rolled, tmp_path / name, values)
    return _fill


# --- the next period ----------------------------------------------------------------------------


def test_the_next_period_starts_the_day_after_and_ends_six_months_later_or_at_the_insats_end():
    assert next_period(dt.date(2021, 6, 30), dt.date(2023, 12, 31)) == (dt.date(2021, 7, 1), dt.date(2021, 12, 31))
    assert next_period(dt.date(2021, 8, 30), dt.date(2023, 12, 31)) == (dt.date(2021, 8, 31), dt.date(2022, 2, 27))
    assert next_period(dt.date(2021, 6, 30), dt.date(2021, 10, 15)) == (dt.date(2021, 7, 1), dt.date(2021, 10, 15))


# --- the round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_report_1_rolled_forward_and_filled_reads_as_report_2_with_the_carried_cumulative(
    fill_rolled, report_1, spec, source
):
    expected = report_answers(NYTTIGA, 2, spec)  # the demo set's report 2: cumulative = sum of periods
    result = read_report(fill_rolled(), spec, source=source)
    assert result.issues == []
    answers = result.report.answers()
    assert {k: v for k, v in answers.items() if v is not None} == expected
    first = report_answers(NYTTIGA, 1, spec)
    for key, carried in spec.carried.items():
        assert answers[key] == first[key] + expected[carried.plus]  # carried + this period, computed
    assert answers["report_number"] == 2
    assert (answers["period_start"], answers["period_end"]) == (dt.date(2021, 7, 1), dt.date(2021, 12, 31))


def test_a_rolled_report_rolls_forward_again_with_its_own_computed_cumulative(fill_rolled, spec, tmp_path):
    second = fill_rolled()
    following = roll_forward(second, tmp_path / "mall_3.xlsx", spec)
    expected = report_answers(NYTTIGA, 2, spec)
    assert following.previous.report_number == 2 and following.previous.file == second.name
    assert following.previous.cumulative == {key: expected[key] for key in spec.carried}
    third = read_report(tmp_path / "mall_3.xlsx", spec).values
    assert (third["report_number"], third["period_start"]) == (3, dt.date(2022, 1, 1))


def test_the_rolled_template_locks_what_is_known_and_carries_the_cumulative(rolled, report_1, spec):
    first = report_answers(NYTTIGA, 1, spec)
    wb = load_workbook(rolled)
    cached = load_workbook(rolled, data_only=True)

    def cell(book, name):
        ((sheet, address),) = book.defined_names[name].destinations
        return book[sheet][address.replace("$", "")]

    for key, field in spec.fields.items():
        target = cell(wb, key)
        if field.prefill:
            assert target.protection.locked, key
        elif key in spec.carried:
            assert not target.protection.locked, key  # a coordinator may still correct it
            assert target.value == spec.carried[key].formula
            assert cell(cached, key).value == float(first[key])  # XlsxWriter's cached result: nothing typed yet
            assert cell(wb, spec.carried[key].previous).value == float(first[key])
        else:
            assert not target.protection.locked and target.value is None, key
    assert cell(wb, "report_number").value == 2
    assert cell(wb, "previous_report_number").value == 1
    assert cell(wb, "previous_file").value == report_1.name
    assert cell(wb, "previous_sha256").value == sha256(report_1)
    assert cell(wb, "previous_period_end").value.date() == first["period_end"]
    assert wb[spec.data_sheet].sheet_state == "hidden" and wb[spec.data_sheet].protection.sheet


def test_an_ordinary_template_has_no_previous_facts_and_reads_without_a_word_about_them(fill, answers, spec):
    path = fill(answers)
    assert not [name for name in load_workbook(path).defined_names if name.startswith("previous_")]
    assert read_report(path, spec).issues == []


# --- what the coordinator may do to the carried cells ---------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_a_number_typed_over_the_formula_is_read_and_a_fall_below_the_previous_is_a_warning(
    fill_rolled, report_1, spec, source
):
    staff, travel = "budget_staff_actual_cumulative", "budget_travel_actual_cumulative"
    first = report_answers(NYTTIGA, 1, spec)
    lower, higher = first[staff] - 1000, first[travel] + 12_345
    changes = {staff: lower, "budget_staff_actual_period": Decimal(1000), travel: higher}
    result = read_report(fill_rolled(changes), spec, source=source)
    assert result.report.budget_staff_actual_cumulative == lower
    assert result.report.budget_travel_actual_cumulative == higher
    (warning,) = [i for i in result.issues if i.code == "cumulative_below_previous"]
    assert warning.severity is Severity.WARNING and warning.field == staff
    assert warning.cell == spec.fields[staff].cell and warning.sheet == spec.budget_sheet
    assert f"nr 1 ({report_1.name})" in warning.message
    assert "\u00a0".join(f"{first[staff]:,.0f}".split(",")) in warning.message  # the previous amount, in kronor


@pytest.mark.parametrize("formula", [
    "=N(previous_budget_staff_actual_cumulative)+N(budget_staff_actual_period)+1000",
    "=N(previous_budget_travel_actual_cumulative)+N(budget_travel_actual_period)",  # another line's
    "=budget_staff_actual_period*2",
])
def test_any_other_formula_in_a_carried_cell_is_an_error(fill_rolled, spec, formula):
    staff = "budget_staff_actual_cumulative"
    for source in SOURCES:
        result = read_report(fill_rolled({staff: formula}), spec, source=source)
        (error,) = result.errors
        assert (error.code, error.field, error.value) == ("formula_in_cell", staff, formula)


def test_the_formula_is_recognised_whatever_its_case_and_spaces(fill_rolled, spec):
    staff = "budget_staff_actual_cumulative"
    typed = "= n( PREVIOUS_budget_staff_actual_cumulative ) + N(budget_staff_actual_period)"
    result = read_report(fill_rolled({staff: typed}), spec)
    assert result.issues == []
    assert result.report.budget_staff_actual_cumulative == report_answers(NYTTIGA, 2, spec)[staff]


def test_an_unreadable_period_leaves_the_cumulative_unknown_without_a_second_error(fill_rolled, spec):
    result = read_report(fill_rolled({"budget_staff_actual_period": "ca 40 000"}), spec)
    assert [(i.code, i.field) for i in result.errors] == [("invalid_amount", "budget_staff_actual_period")]
    assert result.values["budget_staff_actual_cumulative"] == spec.carried["budget_staff_actual_cumulative"].formula


# --- a rolled template that was changed -----------------------------------------------------------


def edited(path: Path, target: Path, change) -> Path:
    wb = load_workbook(path)
    change(wb)
    wb.save(target)
    return target


def named(wb, name: str):
    ((sheet, address),) = wb.defined_names[name].destinations
    return wb[sheet][address.replace("$", "")]


@pytest.mark.parametrize("source", SOURCES)
def test_a_tampered_report_number_is_an_error_naming_the_previous_file(fill_rolled, report_1, spec, tmp_path, source):
    path = edited(fill_rolled(), tmp_path / "nr3.xlsx", lambda wb: setattr(named(wb, "report_number"), "value", 3))
    result = read_report(path, spec, source=source)
    (error,) = result.errors
    assert (error.code, error.field, error.value) == ("report_number_not_next", "report_number", 3)
    assert report_1.name in error.message and "nr 2" in error.message


def test_a_period_that_does_not_follow_the_previous_is_a_warning(fill_rolled, spec, tmp_path):
    def later_start(wb):
        named(wb, "period_start").value = dt.datetime(2021, 8, 1)

    result = read_report(edited(fill_rolled(), tmp_path / "p.xlsx", later_start), spec)
    assert result.ok and codes(result) == ["period_not_after_previous"]
    assert "2021-07-01" in result.issues[0].message  # the day it should start


def test_a_changed_carried_value_is_an_error_and_the_cumulative_stays_unknown(fill_rolled, spec, tmp_path):
    def scribble(wb):
        named(wb, "previous_budget_staff_actual_cumulative").value = "mycket"

    for source in SOURCES:
        result = read_report(edited(fill_rolled(), tmp_path / "d.xlsx", scribble), spec, source=source)
        (error,) = result.errors
        assert (error.code, error.sheet, error.value) == ("previous_unreadable", spec.data_sheet, "mycket")
        assert result.values["budget_staff_actual_cumulative"] == spec.carried["budget_staff_actual_cumulative"].formula


def test_the_formula_without_its_carried_value_is_an_error(fill_rolled, spec, tmp_path):
    def drop(wb):
        del wb.defined_names["previous_budget_staff_actual_cumulative"]

    result = read_report(edited(fill_rolled(), tmp_path / "n.xlsx", drop), spec)
    assert [(i.code, i.field) for i in result.errors] == [("carried_missing", "budget_staff_actual_cumulative")]


# --- refusals -------------------------------------------------------------------------------------


def test_a_previous_report_with_errors_is_refused_with_every_error_and_no_file(tmp_path, spec):
    answers = {**report_answers(NYTTIGA, 1, spec), "activities": None, "men_actual": "ca 40"}
    broken = write_template(tmp_path / "trasig.xlsx", spec, answers=answers)
    target = tmp_path / "nasta.xlsx"
    with pytest.raises(RollForwardError) as refused:
        roll_forward(broken, target, spec)
    message = str(refused.value)
    assert "trasig.xlsx" in message and "(2 fel)" in message
    for error in read_report(broken, spec).errors:
        assert error.describe() in message
    assert not target.exists()


@pytest.mark.parametrize("changes, why", [
    ({"report_number": 6}, "den sista"),  # 6 of 6
    ({"period_start": dt.date(2023, 7, 1), "period_end": dt.date(2023, 12, 31), "report_number": 5},
     "ingen nästa period"),  # the insats ends with this period although a sixth report was planned
])
def test_the_last_report_of_an_insats_has_no_next_template(tmp_path, spec, changes, why):
    last = write_template(tmp_path / "sista.xlsx", spec, answers={**report_answers(NYTTIGA, 6, spec), **changes})
    assert read_report(last, spec).ok
    with pytest.raises(RollForwardError, match=why):
        roll_forward(last, tmp_path / "nasta.xlsx", spec)
    assert not (tmp_path / "nasta.xlsx").exists()


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path, spec, report_1):
    text = tmp_path / "rapport.xlsx"
    text.write_text("Lägesrapport nr 1\n", encoding="utf-8")
    with pytest.raises(RollForwardError) as refused:
        roll_forward(text, tmp_path / "nasta.xlsx", spec)
    assert read_report(text, spec).errors[0].message in str(refused.value)
    lock = shutil.copy(report_1, tmp_path / "~$rapport_1.xlsx")  # Excel's lock file: skipped, not a report
    with pytest.raises(RollForwardError, match="är ingen lägesrapport som kan föras fram"):
        roll_forward(lock, tmp_path / "nasta.xlsx", spec)
    assert not (tmp_path / "nasta.xlsx").exists()


# --- the command ----------------------------------------------------------------------------------


def test_cli_rolls_a_report_forward(report_1, tmp_path, capsys):
    target = tmp_path / "mallar" / "nasta.xlsx"
    assert main(["template", "--from-report", str(report_1), "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert "lägesrapport nr 2 (2021-07-01–2021-12-31)" in out and report_1.name in out
    assert read_report(target).values["report_number"] == 2


def test_cli_refusals_and_usage(report_1, tmp_path, capsys, spec):
    broken = write_template(tmp_path / "trasig.xlsx", spec, answers={**report_answers(NYTTIGA, 1, spec),
                                                                       "activities": None})
    assert main(["template", "--from-report", str(broken), "-o", str(tmp_path / "x.xlsx")]) == 1
    assert "Ingen mall skrevs" in capsys.readouterr().err and not (tmp_path / "x.xlsx").exists()
    before = sha256(report_1)
    assert main(["template", "--from-report", str(report_1), "-o", str(report_1)]) == 2
    assert "skrivas över rapporten" in capsys.readouterr().err and sha256(report_1) == before
    for args in (["--from-report", str(report_1)], ["--from-report", str(report_1), "--out-dir", str(tmp_path)],
                 ["-o", str(tmp_path / "y.xlsx"), "--previous", str(tmp_path)]):
        assert main(["template", *args]) == 2
        assert "Ange antingen -o" in capsys.readouterr().err


# --- every insats of the register at once -----------------------------------------------------------


REGISTER_HEADINGS = ("Diarienummer hos RAR;Insatsens namn;Total tidsperiod för insatsen (från);"
                     "Total tidsperiod för insatsen (till);Lägesrapport nr;Av totalt antal som skall skickas till RAR;"
                     "Personalkostnader (lön inkl. sociala avgifter)")
REGISTER_ROWS = (
    "2020-0042;Nyttiga affärer;2021-01-01;2023-12-31;2;6;1 700 000",  # stale number; RAR cut the staff budget
    "2021-0007;Steget vidare Katrineholm;2021-09-01;2024-08-31;5;6;",  # RAR expects nr 5; the folder has nr 3
    "2022-0013;Hälsa och arbete Eskilstuna;2022-01-01;2023-12-31;;4;",  # nr 3 was rejected: nr 3 again
    "2022-0030;Samverkansforum Vingåker;2022-03-01;2024-02-29;;2;",  # RAR: only two reports, both in
    "2024-0099;Ny insats i Trosa;2024-03-01;2026-02-28;1;4;900 000",  # nothing reported yet
)


def test_register_and_previous_folder_roll_every_insats_forward(tmp_path, spec, capsys):
    register = tmp_path / "register.csv"
    register.write_text("\n".join((REGISTER_HEADINGS, *REGISTER_ROWS)) + "\n", encoding="utf-8-sig")
    inbox = tmp_path / "inkorg"
    shutil.copytree(EXAMPLES, inbox)
    out = tmp_path / "mallar"
    assert main(["template", "--register", str(register), "--previous", str(inbox), "--out-dir", str(out)]) == 1
    captured = capsys.readouterr()
    written = sorted(p.name for p in out.iterdir())
    assert written == [
        "2020-0042_Nyttiga_affarer_rapport_5.xlsx",
        "2021-0007_Steget_vidare_Katrineholm_rapport_5.xlsx",
        "2022-0013_Halsa_och_arbete_Eskilstuna_rapport_3.xlsx",
        "2024-0099_Ny_insats_i_Trosa_rapport_1.xlsx",
    ]
    assert "Fel: Rad 5: Lägesrapport nr 2 av 2 är den sista" in captured.err
    assert "Rad 5 skrevs inte" in captured.err

    def read(name):
        return read_report(out / name, spec).values

    nyttiga = read("2020-0042_Nyttiga_affarer_rapport_5.xlsx")
    fourth = read_report(inbox / "Nyttiga_affarer_rapport_4.xlsx", spec).report  # 9 months, to 2023-03-31
    assert (nyttiga["period_start"], nyttiga["period_end"]) == (dt.date(2023, 4, 1), dt.date(2023, 9, 30))
    assert nyttiga["budget_staff_budget_total"] == Decimal(1_700_000)  # the register's
    assert nyttiga["budget_travel_budget_total"] == fourth.budget_travel_budget_total  # the report's
    for key in spec.carried:  # nothing typed yet: the cumulative is what report 4 had
        assert nyttiga[key] == getattr(fourth, key), key
    assert "Rad 2: Registret anger lägesrapport nr 2, men nr 4 har redan kommit in" in captured.err

    steget = read("2021-0007_Steget_vidare_Katrineholm_rapport_5.xlsx")
    assert steget["report_number"] == 5 and steget["period_start"] is None  # the register's report, not rolled
    assert steget["budget_staff_actual_cumulative"] is None  # nothing carried past a missing report
    assert "Rad 3: Registret anger lägesrapport nr 5" in captured.err and "förs inte över" in captured.err

    halsa = read("2022-0013_Halsa_och_arbete_Eskilstuna_rapport_3.xlsx")
    assert halsa["report_number"] == 3 and halsa["period_start"] == dt.date(2023, 1, 1)
    second = read_report(inbox / "Halsa_och_arbete_Eskilstuna_rapport_2.xlsx", spec).report
    assert halsa["budget_staff_actual_cumulative"] == second.budget_staff_actual_cumulative

    new = read("2024-0099_Ny_insats_i_Trosa_rapport_1.xlsx")
    assert new["budget_staff_budget_total"] == Decimal(900_000) and new["budget_staff_actual_cumulative"] is None
    assert "Varning: Rad 6: Insatsen har ingen godkänd lägesrapport" in captured.err


def test_register_rows_match_reports_by_name_when_the_register_has_no_case_number(tmp_path, spec):
    register = tmp_path / "register.csv"
    register.write_text("Insatsens namn;Av totalt antal som skall skickas till RAR\n UNGA vuxna i  Flen ;4\n",
                        encoding="utf-8")
    result = roll_forward_register(register, EXAMPLES, tmp_path / "ut", spec, workers=1)
    assert result.ok and not result.problems
    (path,) = result.written
    values = read_report(path, spec).values
    assert (values["report_number"], values["case_number"]) == (3, "2021-0021")  # from the report


@pytest.mark.parametrize(
    "dates, expected, warned",
    [
        (";", (dt.date(2022, 1, 1), dt.date(2022, 6, 30)), False),  # no period stated: rolled forward
        ("2022-01-01;2022-06-30", (dt.date(2022, 1, 1), dt.date(2022, 6, 30)), False),  # the same: silent
        ("2022-01-01;2022-09-30", (dt.date(2022, 1, 1), dt.date(2022, 9, 30)), True),  # nine months
        (";2022-03-31", (dt.date(2022, 1, 1), dt.date(2022, 3, 31)), True),  # only the end stated
    ],
)
def test_the_register_period_of_the_same_report_wins_and_a_difference_is_said(
    tmp_path, spec, dates, expected, warned
):
    """Nyttiga affärer's report 2 (2021-07-01–2021-12-31) is in the folder: report 3 comes next."""
    register = tmp_path / "register.csv"
    register.write_text(
        "Diarienummer hos RAR;Lägesrapport nr;Tidsperiod som rapporten avser (från);"
        f"Tidsperiod som rapporten avser (till)\n2020-0042;3;{dates}\n",
        encoding="utf-8",
    )
    inbox = tmp_path / "inkorg"
    inbox.mkdir()
    for number in (1, 2):
        shutil.copy(EXAMPLES / f"Nyttiga_affarer_rapport_{number}.xlsx", inbox)
    result = roll_forward_register(register, inbox, tmp_path / "ut", spec, workers=1)
    assert result.ok
    (path,) = result.written
    values = read_report(path, spec).values
    assert (values["report_number"], values["period_start"], values["period_end"]) == (3, *expected)
    notes = [str(p) for p in result.problems]
    assert any("Mallen följer registret" in note and "2022-01-01–2022-06-30" in note for note in notes) == warned
    assert values["budget_staff_actual_cumulative"] == read_report(
        inbox / "Nyttiga_affarer_rapport_2.xlsx", spec
    ).values["budget_staff_actual_cumulative"]  # still carried: the register names the next report


def test_a_register_period_that_ends_before_the_rolled_start_is_an_error(tmp_path, spec):
    register = tmp_path / "register.csv"
    register.write_text(
        "Diarienummer hos RAR;Lägesrapport nr;Tidsperiod som rapporten avser (till)\n2020-0042;3;2021-12-01\n",
        encoding="utf-8",
    )
    inbox = tmp_path / "inkorg"
    inbox.mkdir()
    shutil.copy(EXAMPLES / "Nyttiga_affarer_rapport_2.xlsx", inbox)
    result = roll_forward_register(register, inbox, tmp_path / "ut", spec, workers=1)
    assert not result.written
    assert [p.row for p in result.errors] == [2] and "Rätta registrets datum" in str(result.errors[0])


# --- the same rules in a batch ----------------------------------------------------------------------


def results_of(tmp_path: Path, spec, reports: dict[str, dict[str, Any]]):
    return [read_report(write_template(tmp_path / name, spec, answers=answers), spec)
            for name, answers in reports.items()]


def test_a_batch_compares_each_report_with_the_one_before_it(tmp_path, spec):
    first, third = report_answers(NYTTIGA, 1, spec), report_answers(NYTTIGA, 3, spec)
    c = build_consolidation(results_of(tmp_path, spec, {"r1.xlsx": first, "r3.xlsx": third}), spec=spec)
    earlier, later = c.files
    assert earlier.status is Status.ACCEPTED and not earlier.result.issues
    assert later.status is Status.WARNINGS  # accepted before the comparison, without a warning
    (gap,) = later.result.issues
    assert (gap.code, gap.field, gap.severity) == ("report_number_gap", "report_number", Severity.WARNING)
    assert "nr 1 (r1.xlsx); nr 2 saknas" in gap.message  # not consecutive: nothing said about the dates

    staff = "budget_staff_actual_cumulative"
    second = {**report_answers(NYTTIGA, 2, spec), staff: Decimal(1000), "budget_staff_actual_period": Decimal(0)}
    later_start = {**report_answers(NYTTIGA, 3, spec), "period_start": dt.date(2022, 1, 15)}
    c = build_consolidation(results_of(tmp_path, spec, {"a.xlsx": first, "b.xlsx": second, "c.xlsx": later_start}),
                            spec=spec)
    below = [i for i in c.files[1].result.issues if i.code == "cumulative_below_previous"]
    assert [i.field for i in below] == [staff] and "nr 1 (a.xlsx)" in below[0].message
    (late,) = [i for i in c.files[2].result.issues if i.code == "period_not_after_previous"]
    assert "nr 2 (b.xlsx)" in late.message and "2022-01-01" in late.message
    assert all(o.status is not Status.REJECTED for o in c.files)  # the batch only ever warns


def test_a_batch_does_not_repeat_what_the_rolled_file_already_says(fill_rolled, report_1, spec):
    staff = "budget_staff_actual_cumulative"
    lower = read_report(fill_rolled({staff: Decimal(1000), "budget_staff_actual_period": Decimal(0)}), spec)
    assert [i.code for i in lower.issues].count("cumulative_below_previous") == 1
    c = build_consolidation([read_report(report_1, spec), lower], spec=spec)
    assert c.files[1].result.issues == lower.issues


def test_the_demo_batch_is_consistent_report_after_report():
    from lagesrapport_xl.consolidate.batch import consolidate

    c = consolidate(EXAMPLES, workers=1)
    new = {"cumulative_below_previous", "report_number_gap", "period_not_after_previous"}
    assert not [i for o in c.files for i in o.result.issues if i.code in new]


# --- the specification ----------------------------------------------------------------------------------


def test_what_carries_is_declared_in_the_spec(spec, tmp_path):
    assert spec.carried["financing_rar_actual_cumulative"].formula == (
        "=N(previous_financing_rar_actual_cumulative)+N(financing_rar_actual_period)"
    )
    assert len(spec.carried) == len(spec.budget.lines) + len(spec.budget.financing)
    config = tmp_path / "rar.toml"
    config.write_text('[[budget.columns]]\nkey = "actual_cumulative"\nlabel = "Ack"\ntype = "amount"\n'
                      'carry_plus = "comment"\n\n[[budget.columns]]\nkey = "comment"\nlabel = "K"\ntype = "text"\n',
                      encoding="utf-8")
    with pytest.raises(SpecError, match="carry_plus"):
        load_spec(config)


# --- LibreOffice ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_by_libreoffice(report_1, rolled, libreoffice, tmp_path_factory) -> dict[str, Path]:
    """Report 1 and a filled report 2 (typed by openpyxl: no cached results), each opened,
    recalculated and saved by LibreOffice, in one call."""
    spec = load_spec(None)
    folder = tmp_path_factory.mktemp("lo_in")
    filled = fill_workbook(rolled, folder / "rapport_2.xlsx", typed_by_coordinator(report_answers(NYTTIGA, 2, spec), spec))
    first = shutil.copy(report_1, folder / "rapport_1.xlsx")
    saved = libreoffice.convert([first, filled], "xlsx", tmp_path_factory.mktemp("lo_out"))
    return {"report_1": saved[0], "report_2": saved[1], "filled": filled}


@pytest.mark.libreoffice
def test_libreoffice_computes_the_carried_cumulative_as_python_does(saved_by_libreoffice, spec):
    saved, filled = saved_by_libreoffice["report_2"], saved_by_libreoffice["filled"]
    cached = load_workbook(saved, data_only=True)
    python = read_report(saved, spec, source="fast")
    assert python.issues == []
    for key in spec.carried:
        ((sheet, address),) = cached.defined_names[key].destinations
        assert Decimal(str(cached[sheet][address.replace("$", "")].value)) == python.values[key], key
    assert read_report(saved, spec, source="openpyxl").values == python.values
    assert read_report(filled, spec).report.answers() == python.report.answers()


@pytest.mark.libreoffice
def test_a_report_saved_by_libreoffice_rolls_forward_like_the_original(saved_by_libreoffice, rolled, spec, tmp_path):
    again = tmp_path / "nasta.xlsx"
    following = roll_forward(saved_by_libreoffice["report_1"], again, spec)
    original, from_lo = read_report(rolled, spec), read_report(again, spec)
    assert from_lo.values == original.values
    assert following.previous.report_number == 1 and following.previous.file == "rapport_1.xlsx"
