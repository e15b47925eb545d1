"""A complete, valid report: the December 2021 example form ("Nyttiga affärer"), as field values.

Tests, example files and the benchmark start from it and change what they need.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from lagesrapport_xl.form.spec import FormSpec, default_spec

_BUDGET = {
    # line: (granted total, budget for the period, utfall for the period, cumulative utfall)
    "staff": (1_800_000, 300_000, 254_000, 498_000),
    "services": (240_000, 40_000, 12_500, 30_500),
    "premises": (120_000, 20_000, 20_000, 40_000),
    "travel": (60_000, 10_000, 6_200, 11_900),
    "equipment": (30_000, 5_000, 3_100, 8_400),
    "participants": (90_000, 15_000, 9_800, 9_800),
    "training": (60_000, 10_000, 0, 2_000),
    "other": (30_000, 5_000, 4_350, 7_150),
    "indirect": (150_000, 25_000, 22_000, 47_000),
}


def example_answers(spec: FormSpec | None = None) -> dict[str, Any]:
    """Field key → Python value for a complete report that passes every rule."""
    spec = spec or default_spec()
    values: dict[str, Any] = {
        "case_number": "2020-0042",
        "initiative_name": "Nyttiga affärer",
        "initiative_start": dt.date(2021, 1, 1),
        "initiative_end": dt.date(2023, 12, 31),
        "period_start": dt.date(2021, 6, 1),
        "period_end": dt.date(2021, 11, 30),
        "report_number": 2,
        "reports_total": 6,
        "activities": (
            "Affärsrådgivning, coaching till sociala företag i nätverket, ca 40 rådgivningstillfällen.\n"
            "Genomfört en nätverksträff för sociala företag i länet kring nuläge och behov."
        ),
        "deviations": "De tänkta insatserna med deltagare har förändrats då rekryteringen inte fungerat.",
        "budget_on_track": "Nej",
        "budget_deviation_reason": (
            "Projektet har inte nyttjat hela löneutrymmet eftersom kommunikatören slutade i projektet."
        ),
        "women_planned_min": 8,
        "women_planned_max": 12,
        "women_actual": 16,
        "men_planned_min": 8,
        "men_planned_max": 12,
        "men_actual": 0,
        "below_plan_reason": "Insatsen riktas i stället till utrikes födda kvinnor, i samarbete med Nyköpings kommun.",
        "gender_comment": "Fokus på utrikes födda kvinnor, vars arbetslöshet är betydligt högre än mäns.",
        "upcoming_activities": "Affärsprogram för utrikes födda kvinnor november 2021–januari 2022.",
        "individual_oriented": "Ja",
        "participant_outcomes": "Insatserna är precis påbörjade; en kvinna har fått arbete.",
        "implementation_status": "Nätverket för sociala företag är etablerat och drivs vidare i ordinarie verksamhet.",
        "chair_name": "Anna Andersson",
        "signed_date": dt.date(2021, 12, 10),
    }
    columns = ("budget_total", "budget_period", "actual_period", "actual_cumulative")
    sums = dict.fromkeys(columns, 0)
    for line in spec.budget.lines:
        figures = _BUDGET.get(line.key, (0, 0, 0, 0))
        for column, amount in zip(columns, figures):
            values[spec.budget_key(line.key, column)] = Decimal(amount)
            sums[column] += amount
    # Financing: RAR pays everything but a tenth of own co-financing.
    for financing in spec.budget.financing:
        share = {"financing_rar": Decimal("0.9"), "financing_own": Decimal("0.1")}.get(financing.key, Decimal(0))
        for column in columns:
            values[spec.budget_key(financing.key, column)] = (Decimal(sums[column]) * share).quantize(Decimal(1))
    return values
