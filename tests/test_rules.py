"""Rules across fields, each shown to fire on a real filled file, at the right cell and severity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lagesrapport_xl.form.spec import cell_address
from lagesrapport_xl.reader.read import read_report


def issue_for(result, code: str):
    found = [i for i in result.issues if i.code == code]
    assert len(found) == 1, [i.describe() for i in result.issues]
    return found[0]


def at(spec, key: str) -> tuple[str, str]:
    field = spec.fields[key]
    return field.sheet, field.cell


@pytest.mark.parametrize(
    ("changes", "code", "key", "severity"),
    [
        ({"initiative_end": dt.date(2020, 12, 31)}, "end_before_start", "initiative_end", "error"),
        ({"period_end": dt.date(2021, 5, 31)}, "end_before_start", "period_end", "error"),
        ({"period_start": dt.date(2020, 12, 1), "period_end": dt.date(2021, 5, 31)},
         "period_outside_initiative", "period_start", "error"),
        ({"period_start": dt.date(2023, 9, 1), "period_end": dt.date(2024, 2, 29),
          "signed_date": dt.date(2024, 3, 1)}, "period_outside_initiative", "period_end", "error"),
        ({"report_number": 7}, "report_number_above_total", "report_number", "error"),
        ({"period_end": dt.date(2022, 5, 31), "signed_date": dt.date(2022, 6, 10)},
         "period_length", "period_end", "warning"),
        ({"period_end": dt.date(2021, 8, 31)}, "period_length", "period_end", "warning"),
        ({"signed_date": dt.date(2021, 11, 1)}, "signed_before_period_end", "signed_date", "warning"),
        ({"budget_travel_actual_cumulative": Decimal(6000)}, "cumulative_below_period",
         "budget_travel_actual_cumulative", "error"),
        ({"budget_travel_actual_cumulative": Decimal(70_000)}, "cumulative_above_granted",
         "budget_travel_actual_cumulative", "warning"),
    ],
)
def test_each_rule_fires_at_its_cell(fill, answers, spec, changes, code, key, severity):
    result = read_report(fill({**answers, **changes}))
    issue = issue_for(result, code)
    assert (issue.sheet, issue.cell, issue.field) == (*at(spec, key), key)
    assert issue.severity.value == severity
    assert result.ok is (severity == "warning")
    assert issue.message.endswith(".")


def test_valid_example_fires_no_rule(fill, answers):
    assert read_report(fill(answers)).issues == []


def test_period_of_exactly_half_a_year_or_within_tolerance_is_fine(fill, answers, spec):
    for end in (dt.date(2021, 11, 30), dt.date(2022, 1, 10), dt.date(2021, 10, 20)):
        result = read_report(fill({**answers, "period_end": end, "signed_date": dt.date(2022, 1, 31)}))
        assert "period_length" not in [i.code for i in result.issues], end


def test_cumulative_above_granted_is_a_warning_only(fill, answers):
    extra = Decimal(70_000) - answers["budget_travel_actual_cumulative"]
    financed = answers["financing_rar_actual_cumulative"] + extra  # keep financing = costs
    result = read_report(fill({**answers, "budget_travel_actual_cumulative": Decimal(70_000),
                               "financing_rar_actual_cumulative": financed}))
    assert result.ok
    assert [i.code for i in result.issues] == ["cumulative_above_granted"]


def test_financing_that_does_not_match_costs_is_a_warning_on_the_balance_row(fill, answers, spec):
    result = read_report(fill({**answers, "financing_own_actual_period": Decimal(0)}))
    assert result.ok
    issue = issue_for(result, "financing_mismatch")
    column = spec.budget.column("actual_period")
    assert (issue.sheet, issue.cell) == (spec.budget_sheet, cell_address(spec.budget.balance_row, column.col))
    assert column.label in issue.message
    assert issue.value == answers["financing_own_actual_period"]


def test_required_answers(fill, answers, spec):
    required = [f.key for f in spec.fields.values() if f.required is True]
    result = read_report(fill({**answers, **dict.fromkeys(required)}))
    missing = [i for i in result.errors if i.code == "required_missing"]
    assert sorted(i.field for i in missing) == sorted(required)
    for issue in missing:
        assert (issue.sheet, issue.cell) == at(spec, issue.field)
        assert "obligatorisk" in issue.message


def test_only_spaces_is_not_an_answer(fill, answers, spec):
    result = read_report(fill({**answers, "activities": "   \n  "}))
    assert [(i.code, i.field) for i in result.errors] == [("required_missing", "activities")]


@pytest.mark.parametrize(
    ("changes", "required_key", "fragment"),
    [
        ({"budget_on_track": "Nej", "budget_deviation_reason": None}, "budget_deviation_reason", "Nej"),
        ({"men_actual": 3, "below_plan_reason": None}, "below_plan_reason", "under det planerade"),
        ({"individual_oriented": "Ja", "participant_outcomes": None}, "participant_outcomes",
         "individinriktad"),
        ({"individual_oriented": "Ja", "women_actual": None}, "women_actual", "individinriktad"),
        ({"individual_oriented": "Ja", "men_actual": None}, "men_actual", "individinriktad"),
    ],
)
def test_conditionally_required_answers(fill, answers, spec, changes, required_key, fragment):
    result = read_report(fill({**answers, **changes}))
    issue = issue_for(result, "required_now")
    assert (issue.field, issue.sheet, issue.cell) == (required_key, *at(spec, required_key))
    assert fragment in issue.message


@pytest.mark.parametrize(
    "changes",
    [
        {"budget_on_track": "Ja", "budget_deviation_reason": None},
        {"individual_oriented": "Nej", "participant_outcomes": None, "women_actual": None, "men_actual": None,
         "below_plan_reason": None},
        {"men_actual": 8, "women_actual": 12, "below_plan_reason": None},
    ],
)
def test_conditions_that_do_not_hold_require_nothing(fill, answers, changes):
    result = read_report(fill({**answers, **changes}))
    assert result.ok, [i.describe() for i in result.issues]


def test_below_plan_uses_the_minimum_of_a_typed_range(fill, answers):
    result = read_report(fill({**answers, "women_planned_min": "20-25", "women_planned_max": None,
                               "women_actual": 16, "men_actual": 8, "below_plan_reason": None}))
    assert [(i.code, i.field) for i in result.errors] == [("required_now", "below_plan_reason")]


def test_rules_stay_silent_when_a_value_they_need_is_unreadable(fill, answers):
    result = read_report(fill({**answers, "period_start": "snart", "report_number": "två"}))
    assert sorted(i.code for i in result.issues) == ["invalid_date", "invalid_report_number"]


# --- budget completeness (issue 22.3) -----------------------------------------------------------


def _amount_keys(spec, lines) -> list[str]:
    return [spec.budget_key(line.key, column.key) for line in lines for column in spec.budget.columns
            if column.is_input and column.type.name == "amount"]


def test_a_report_without_any_budget_figure_is_refused_with_an_error_per_line(fill, answers, spec):
    """The session's finding: every budget cell empty and "Ja" on the budget question was godkänd."""
    lines = spec.budget.lines + spec.budget.financing
    blank = {key: None for key in _amount_keys(spec, lines)}
    result = read_report(fill({**answers, **blank, "budget_on_track": "Ja", "budget_deviation_reason": None}))
    assert not result.ok and result.report is None
    empty = [i for i in result.issues if i.code == "budget_empty"]
    assert [i.field for i in empty] == [spec.budget_key(line.key, "budget_total") for line in lines]
    for issue, line in zip(empty, lines):
        assert issue.severity.value == "error" and issue.sheet == spec.budget_sheet
        assert line.label in issue.message and "0" in issue.message
        assert issue.label == spec.fields[issue.field].label  # the list's "Fråga" is the cell's
    assert {i.code for i in result.issues} == {"budget_empty"}  # no financing warning on top


@pytest.mark.parametrize("missing", [("actual_period",), ("actual_cumulative",),
                                     ("actual_period", "actual_cumulative")])
def test_a_line_with_a_budget_but_no_utfall_is_an_error_naming_what_is_missing(fill, answers, spec, missing):
    cleared = {spec.budget_key("travel", column): None for column in missing}
    result = read_report(fill({**answers, **cleared}))
    issue = issue_for(result, "budget_actual_missing")
    assert issue.severity.value == "error" and not result.ok
    assert issue.field == spec.budget_key("travel", missing[0])
    assert (issue.sheet, issue.cell) == at(spec, issue.field)
    assert issue.message.startswith("Resor: ")
    for column in missing:
        assert spec.budget.column(column).label in issue.message


def test_zero_is_an_utfall_and_a_line_without_any_figure_is_not_required(fill, answers, spec):
    zeros = {spec.budget_key("training", c): Decimal(0) for c in ("actual_period", "actual_cumulative")}
    unused = {key: None for key in _amount_keys(spec, [line for line in spec.budget.lines if line.key == "other"])}
    changed = {**answers, **zeros, **unused}
    for column in ("budget_total", "budget_period", "actual_period", "actual_cumulative"):  # keep the balance
        changed[spec.budget_key("financing_rar", column)] -= answers[spec.budget_key("other", column)]
    result = read_report(fill(changed))
    codes = [i.code for i in result.issues]
    assert "budget_actual_missing" not in codes and "budget_empty" not in codes


def test_each_line_with_a_budget_and_no_utfall_has_its_own_error(fill, answers, spec):
    cleared = {spec.budget_key(line.key, "actual_period"): None for line in spec.budget.lines[:3]}
    result = read_report(fill({**answers, **cleared}))
    found = [i for i in result.issues if i.code == "budget_actual_missing"]
    assert [i.field for i in found] == list(cleared)


def test_an_unreadable_utfall_has_its_own_error_only_and_other_lines_are_still_judged(fill, answers, spec):
    key = spec.budget_key("travel", "actual_period")
    other = spec.budget_key("staff", "actual_cumulative")
    result = read_report(fill({**answers, key: "ca 6 000", spec.budget_key("travel", "actual_cumulative"): None,
                               other: None}))
    assert [i.code for i in result.issues if i.field == key] == ["invalid_amount"]
    assert [i.field for i in result.issues if i.code == "budget_actual_missing"] == [other]


def test_financing_left_blank_is_one_warning_not_one_per_column(fill, answers, spec):
    blank = {key: None for key in _amount_keys(spec, spec.budget.financing)}
    result = read_report(fill({**answers, **blank}))
    assert result.ok
    issue = issue_for(result, "financing_mismatch")
    first = spec.budget_key(spec.budget.financing[0].key, "budget_total")
    assert (issue.field, issue.label) == (first, spec.fields[first].label)
    assert spec.budget.financing_heading in issue.message and spec.budget.balance_label in issue.message


def test_a_balance_warning_names_its_row_and_column_as_the_question(fill, answers, spec):
    result = read_report(fill({**answers, "financing_own_actual_period": Decimal(0)}))
    issue = issue_for(result, "financing_mismatch")
    column = spec.budget.column("actual_period")
    assert issue.label == f"{spec.budget.balance_label} – {column.label}"
