"""Lenient where people are predictable, strict where guessing would lie.

Each typed form goes into the real template the way a person types it (fill fixture), is saved
and read back; the parsers' own edge cases are also tested directly.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lagesrapport_xl.form.fieldtypes import (
    MAX_CELL_TEXT,
    ValueProblem,
    is_blank,
    parse_amount,
    parse_count,
    parse_date,
    parse_report_number,
    parse_text,
    parse_yes_no,
)
from lagesrapport_xl.reader.read import read_report

DEC_10 = dt.date(2021, 12, 10)

# (field key, what the person typed, what the reader must make of it)
LENIENT = [
    ("signed_date", "2021-12-10", DEC_10),
    ("signed_date", "211210", DEC_10),
    ("signed_date", "20211210", DEC_10),
    ("signed_date", "10/12/2021", DEC_10),
    ("signed_date", "10.12.2021", DEC_10),
    ("signed_date", " 2021-12-10 ", DEC_10),
    ("signed_date", dt.date(2021, 12, 10), DEC_10),  # a real Excel date
    ("signed_date", 211210, DEC_10),  # typed as a number into the date cell
    ("signed_date", 20211210, DEC_10),
    ("signed_date", 44540, DEC_10),  # an Excel date serial without a date format
    ("budget_on_track", "ja", "Ja"),
    ("budget_on_track", "JA", "Ja"),
    ("budget_on_track", "  Ja ", "Ja"),
    ("budget_on_track", "Ja.", "Ja"),
    ("individual_oriented", "ja.", "Ja"),
    ("budget_on_track", "NEJ", "Nej"),
    ("budget_on_track", "nej.", "Nej"),
    ("women_actual", "16", 16),
    ("women_actual", " 16 ", 16),
    ("women_actual", 16.0, 16),
    ("budget_staff_comment", "Inga avvikelser", "Inga avvikelser"),
    ("budget_staff_budget_total", "1 800 000 kr", Decimal(1_800_000)),
    ("budget_staff_budget_total", "1\u00a0800\u00a0000 kr", Decimal(1_800_000)),
    ("budget_staff_budget_total", "1\u202f800\u202f000", Decimal(1_800_000)),
    ("budget_staff_budget_total", "1800000", Decimal(1_800_000)),
    ("budget_travel_actual_period", "6 200,50 kr", Decimal("6200.50")),
    ("budget_travel_actual_period", "6\u00a0200,50\u00a0kr", Decimal("6200.50")),
    ("budget_travel_actual_period", "6200:-", Decimal(6200)),
    ("budget_travel_actual_period", 6200.5, Decimal("6200.5")),
]


@pytest.mark.parametrize(("key", "typed", "expected"), LENIENT, ids=[f"{k}={t!r}" for k, t, _ in LENIENT])
def test_each_lenient_form_reads_as_the_value_meant(fill, answers, spec, key, typed, expected):
    path = fill({**answers, key: typed})
    result = read_report(path)
    assert result.values[key] == expected
    assert not [i for i in result.issues if i.field == key and i.is_error]
    assert result.report is not None
    assert getattr(result.report, key) == expected


# (field key, typed guess, a fragment of the message that says what to do)
REFUSED = [
    ("women_actual", "ca 40", "Skriv ett heltal, t.ex. 12."),
    ("women_actual", "2,5", "Skriv ett heltal, t.ex. 12."),
    ("women_actual", 2.5, "Skriv ett heltal, t.ex. 12."),
    ("women_actual", "1.234", "Skriv ett heltal"),
    ("women_actual", "-3", "negativt"),
    ("report_number", 0, "minst 1"),
    ("report_number", "två", "Skriv ett heltal från 1"),
    ("period_end", "31.02.2025", "finns inte i kalendern"),
    ("period_end", "2021-13-01", "finns inte i kalendern"),
    ("period_end", "10/12/21", "ÅÅÅÅ-MM-DD"),
    ("period_end", "snart", "ÅÅÅÅ-MM-DD"),
    ("period_end", dt.datetime(2021, 11, 30, 14, 30), "klockslag"),
    ("period_end", "1999-12-31", "utanför"),
    ("budget_on_track", "Kanske", "Välj Ja eller Nej"),
    ("budget_on_track", "J", "Välj Ja eller Nej"),
    ("budget_staff_actual_period", "1.234", "kan läsas på två sätt"),
    ("budget_staff_actual_period", "1,234", "kan läsas på två sätt"),
    ("budget_staff_actual_period", "ca 40 000", "är inte ett belopp"),
    ("budget_staff_actual_period", "-500", "negativt"),
    ("budget_staff_actual_period", 12.345, "fler än två decimaler"),
]


@pytest.mark.parametrize(("key", "typed", "fragment"), REFUSED, ids=[f"{k}={t!r}" for k, t, _ in REFUSED])
def test_each_guess_is_refused_with_its_cell(fill, answers, spec, key, typed, fragment):
    path = fill({**answers, key: typed})
    result = read_report(path)
    assert result.report is None
    field = spec.fields[key]
    (issue,) = [i for i in result.issues if i.field == key]
    assert issue.is_error
    assert (issue.sheet, issue.cell, issue.label) == (field.sheet, field.cell, field.label)
    assert fragment in issue.message
    assert issue.value == typed  # the value as found, not a conversion of it
    assert "Error" not in issue.message and "Traceback" not in issue.message


def test_every_problem_is_reported_not_only_the_first(fill, answers, spec):
    wrong = {"women_actual": "ca 40", "men_actual": 2.5, "period_end": "31.02.2025",
             "budget_staff_actual_period": "1.234", "budget_on_track": "Kanske"}
    result = read_report(fill({**answers, **wrong}))
    assert {i.field for i in result.errors} >= set(wrong)
    cells = {(spec.fields[key].sheet, spec.fields[key].cell) for key in wrong}
    assert {(i.sheet, i.cell) for i in result.errors} >= cells


@pytest.mark.parametrize(
    ("typed_min", "typed_max", "expected"),
    [
        ("8-12", None, (8, 12)),
        ("8–12", None, (8, 12)),  # en dash, as Word and the form wrote it
        ("8 - 12", None, (8, 12)),
        ("8-12", 12, (8, 12)),
        (10, None, (10, 10)),  # one number alone: min = max
        (None, 10, (10, 10)),
        (8, 12, (8, 12)),
    ],
)
def test_planned_ranges(fill, answers, typed_min, typed_max, expected):
    typed = {"women_planned_min": typed_min, "women_planned_max": typed_max, "women_actual": 16}
    path = fill({**answers, **typed})
    result = read_report(path)
    assert result.ok, [i.describe() for i in result.issues]
    assert (result.report.women_planned_min, result.report.women_planned_max) == expected


@pytest.mark.parametrize(
    ("typed_min", "typed_max", "code"),
    [("12", 8, "range_reversed"), ("12-8", None, "range_reversed"), ("8-12", 10, "range_conflict")],
)
def test_impossible_ranges_are_errors_on_the_minimum_cell(fill, answers, spec, typed_min, typed_max, code):
    path = fill({**answers, "women_planned_min": typed_min, "women_planned_max": typed_max})
    result = read_report(path)
    (issue,) = [i for i in result.errors if i.code == code]
    assert issue.cell == spec.fields["women_planned_min"].cell
    assert issue.value == typed_min
    assert result.report is None


def test_formula_in_an_answer_cell_is_reported_with_the_formula(fill, answers, spec):
    result = read_report(fill({**answers, "men_actual": "=10+6", "budget_staff_actual_period": "=SUM(1,2)"}))
    by_field = {i.field: i for i in result.errors}
    assert by_field["men_actual"].value == "=10+6"
    assert "=10+6" in by_field["men_actual"].message
    assert by_field["men_actual"].cell == spec.fields["men_actual"].cell
    assert by_field["budget_staff_actual_period"].value == "=SUM(1,2)"
    assert result.values["men_actual"] == "=10+6"


def test_formula_typed_into_a_text_cell_stays_text(fill, answers):
    """The template formats free-text cells as Text, so '=…' typed there is an answer, not a formula."""
    result = read_report(fill({**answers, "deviations": "=inga avvikelser"}))
    assert result.ok
    assert result.report.deviations == "=inga avvikelser"


def test_error_value_in_a_cell_is_reported(fill, answers, spec):
    result = read_report(fill({**answers, "women_actual": "#N/A"}))
    (issue,) = [i for i in result.errors if i.field == "women_actual"]
    assert issue.code == "cell_error"
    assert "#N/A" in issue.message


# --- the parsers on their own ------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   ", "\u00a0", "\n\r\t"])
def test_blank(value):
    assert is_blank(value)


@pytest.mark.parametrize("value", ["x", 0, "0", False])
def test_not_blank(value):
    assert not is_blank(value)


def test_text_is_kept_exactly_as_typed():
    assert parse_text("  två rader\nmed mellanslag  ") == "  två rader\nmed mellanslag  "
    assert parse_text(12.0) == "12"
    assert parse_text(True) == "SANT"
    assert parse_text(dt.datetime(2021, 12, 10)) == "2021-12-10"
    with pytest.raises(ValueProblem, match="högst 32767"):
        parse_text("x" * (MAX_CELL_TEXT + 1))


@pytest.mark.parametrize(
    "value",
    [True, 1.5, float("nan"), float("inf"), "9" * 5000, "1e3", "12 st", "0x10", dt.date(2021, 1, 1), 10**7],
)
def test_counts_never_guess(value):
    with pytest.raises(ValueProblem) as caught:
        parse_count(value)
    assert "heltal" in caught.value.message or "orimligt" in caught.value.message


def test_count_thousands_with_spaces():
    assert parse_count("1 234") == 1234
    assert parse_count("1\u00a0234") == 1234


def test_report_number_bounds():
    assert parse_report_number("2") == 2
    for value in (0, 100, -1):
        with pytest.raises(ValueProblem):
            parse_report_number(value)


@pytest.mark.parametrize(
    "value",
    [True, float("nan"), float("-inf"), 1e300, "1.234,50", "kr", "", "12 34", "1 2345", dt.date(2021, 1, 1)],
)
def test_amounts_never_guess(value):
    with pytest.raises(ValueProblem):
        parse_amount(value)


def test_amount_forms():
    assert parse_amount("1 234,50 kr") == Decimal("1234.50")
    assert parse_amount("1234 SEK") == Decimal(1234)
    assert parse_amount("12 kronor") == Decimal(12)
    assert parse_amount(Decimal("10.5")) == Decimal("10.5")
    assert parse_amount(0) == Decimal(0)


@pytest.mark.parametrize("value", ["2000-01-01", "2100-12-31", "000101", "29.02.2024"])
def test_edge_dates(value):
    assert parse_date(value) in {dt.date(2000, 1, 1), dt.date(2100, 12, 31), dt.date(2024, 2, 29)}


@pytest.mark.parametrize("value", ["29.02.2023", "1999-12-31", "2101-01-01", 1.5, True, "10-12-2021", 123])
def test_dates_never_guess(value):
    with pytest.raises(ValueProblem) as caught:
        parse_date(value)
    assert "ÅÅÅÅ-MM-DD" in caught.value.message


@pytest.mark.parametrize("value", [" Ja", "ja.", "JA!", "\u00a0nej\u00a0", "Nej."])
def test_yes_no_forms(value):
    assert parse_yes_no(value) in {"Ja", "Nej"}


@pytest.mark.parametrize("value", ["Jaa", "yes", True, 1, "Ja och nej"])
def test_yes_no_refuses_others(value):
    with pytest.raises(ValueProblem, match="Välj Ja eller Nej"):
        parse_yes_no(value)
