"""Rules across fields: what no single cell can show (periods, counts, budget consistency).

Each rule looks only at parsed values (None for an empty or unreadable answer) and stays silent
when a value it needs is missing: that answer already has its own problem, reported once.
Severities follow one principle: an error where the figures cannot all be true (an end before
its start, a cumulative utfall smaller than the utfall of the period it includes), a warning
where they are unusual but possible (a long period, spending over the grant, financing that
does not match costs, signing before the period ended).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..common.issues import Issue, Severity
from ..form.previous import Previous
from ..form.spec import FormSpec, cell_address

HALF_YEAR_DAYS = 182


@dataclass
class Findings:
    """Issues being collected for one workbook, placed at the cell each answer was read from."""

    spec: FormSpec
    places: dict[str, tuple[str | None, str | None]]  # field key → (sheet, cell) as read
    issues: list[Issue] = field(default_factory=list)

    def add(self, severity: Severity, code: str, key: str | None, message: str, value: Any = None,
            *, sheet: str | None = None, cell: str | None = None) -> None:
        label = None
        if key is not None:
            field_ = self.spec.fields[key]
            label = field_.label
            where_sheet, where_cell = self.places.get(key, (field_.sheet, field_.cell))
            sheet = sheet or where_sheet
            cell = cell or where_cell
        self.issues.append(Issue(severity, message, code, sheet, cell, key, label, value))

    def error(self, code: str, key: str | None, message: str, value: Any = None, **where: Any) -> None:
        self.add(Severity.ERROR, code, key, message, value, **where)

    def warning(self, code: str, key: str | None, message: str, value: Any = None, **where: Any) -> None:
        self.add(Severity.WARNING, code, key, message, value, **where)


def _date(value: dt.date) -> str:
    return value.isoformat()


def _kr(amount: Decimal) -> str:
    """1234567.5 → '1 234 567,50 kr' (no-break spaces), as amounts are written in Swedish."""
    whole = f"{amount:,.2f}" if amount != amount.to_integral_value() else f"{amount:,.0f}"
    return whole.replace(",", "\u00a0").replace(".", ",") + "\u00a0kr"


def check_rules(values: dict[str, Any], findings: Findings) -> None:
    """Every cross-field rule; results go into `findings`."""
    _periods(values, findings)
    _report_numbers(values, findings)
    _signed_date(values, findings)
    _budget_lines(values, findings)
    _financing_balance(values, findings)


def _periods(values: dict[str, Any], findings: Findings) -> None:
    for start_key, end_key, what in (
        ("initiative_start", "initiative_end", "insatsens totala tidsperiod"),
        ("period_start", "period_end", "rapportperioden"),
    ):
        start, end = values.get(start_key), values.get(end_key)
        if start and end and end < start:
            findings.error(
                "end_before_start", end_key,
                f"Slutdatumet {_date(end)} ligger före startdatumet {_date(start)} för {what}. "
                "Rätta datumen så att perioden slutar efter att den börjar.",
                end,
            )
    first, last = values.get("initiative_start"), values.get("initiative_end")
    start, end = values.get("period_start"), values.get("period_end")
    if first and start and start < first:
        findings.error(
            "period_outside_initiative", "period_start",
            f"Rapportperioden börjar {_date(start)}, före insatsens start {_date(first)}. "
            "Rapportperioden ska ligga inom insatsens totala tidsperiod.",
            start,
        )
    if last and end and end > last:
        findings.error(
            "period_outside_initiative", "period_end",
            f"Rapportperioden slutar {_date(end)}, efter insatsens slut {_date(last)}. "
            "Rapportperioden ska ligga inom insatsens totala tidsperiod.",
            end,
        )
    if start and end and end >= start:
        days = (end - start).days + 1
        tolerance = findings.spec.period_tolerance_days
        if abs(days - HALF_YEAR_DAYS) > tolerance:
            findings.warning(
                "period_length", "period_end",
                f"Rapportperioden är {days} dagar lång; en lägesrapport gäller normalt ett halvår "
                f"(cirka {HALF_YEAR_DAYS} dagar). Kontrollera datumen.",
                end,
            )


def _report_numbers(values: dict[str, Any], findings: Findings) -> None:
    number, total = values.get("report_number"), values.get("reports_total")
    if number is not None and total is not None and number > total:
        findings.error(
            "report_number_above_total", "report_number",
            f"Lägesrapport nr {number} är större än det totala antalet rapporter ({total}). "
            "Rätta numret eller det totala antalet.",
            number,
        )


def _signed_date(values: dict[str, Any], findings: Findings) -> None:
    signed, end = values.get("signed_date"), values.get("period_end")
    if signed and end and signed < end:
        findings.warning(
            "signed_before_period_end", "signed_date",
            f"Rapporten är daterad {_date(signed)}, före rapportperiodens slut {_date(end)}. "
            "Kontrollera datumet.",
            signed,
        )


def _budget_lines(values: dict[str, Any], findings: Findings) -> None:
    spec = findings.spec
    keys = spec.budget_keys
    for line in spec.budget.lines + spec.budget.financing:
        def key_of(column: str) -> str:  # also for a column RAR's configuration removed
            return keys.get((line.key, column)) or spec.budget_key(line.key, column)

        def amount(column: str) -> Decimal | None:
            key = key_of(column)
            return values.get(key) if key in spec.fields else None

        period, cumulative = amount("actual_period"), amount("actual_cumulative")
        granted = amount("budget_total")
        cumulative_key = key_of("actual_cumulative")
        if period is not None and cumulative is not None and cumulative < period:
            findings.error(
                "cumulative_below_period", cumulative_key,
                f"{line.label}: ackumulerat utfall sedan start ({_kr(cumulative)}) är mindre än utfallet "
                f"för perioden ({_kr(period)}), men det ackumulerade utfallet ska innehålla perioden. "
                "Rätta någon av siffrorna.",
                cumulative,
            )
        if granted is not None and cumulative is not None and cumulative > granted:
            findings.warning(
                "cumulative_above_granted", cumulative_key,
                f"{line.label}: ackumulerat utfall ({_kr(cumulative)}) är större än beviljad budget för "
                f"hela insatsen ({_kr(granted)}). Kontrollera siffrorna och förklara i kommentaren.",
                cumulative,
            )


def _financing_balance(values: dict[str, Any], findings: Findings) -> None:
    """Per amount column: the costs' sum and the financing's sum should be equal (the balance row)."""
    spec = findings.spec
    budget = spec.budget
    for column in budget.columns:
        if not column.is_input or column.type.name != "amount":
            continue
        keys = spec.budget_keys
        costs = [values.get(keys[line.key, column.key]) for line in budget.lines]
        funds = [values.get(keys[line.key, column.key]) for line in budget.financing]
        if all(v is None for v in costs + funds):
            continue
        cost_sum = sum((v for v in costs if v is not None), Decimal(0))
        fund_sum = sum((v for v in funds if v is not None), Decimal(0))
        if round(cost_sum - fund_sum) != 0:
            findings.warning(
                "financing_mismatch", None,
                f"{column.label}: kostnaderna är {_kr(cost_sum)} men finansieringen är {_kr(fund_sum)} "
                f"(skillnad {_kr(cost_sum - fund_sum)}). Kontrollera att finansieringen täcker kostnaderna.",
                cost_sum - fund_sum,
                sheet=budget_sheet(findings), cell=cell_address(budget.balance_row, column.col),
            )


def check_previous(values: dict[str, Any], previous: Previous, findings: Findings, *, rolled: bool) -> None:
    """This report against the one before it: cumulative utfall per line, report number, period.

    `rolled`: the file was rolled forward from `previous`, so its pre-filled, locked number must be
    the next one (anything else is an error). Otherwise `previous` is the report before it in a
    batch, and a gap in the numbers is a warning: a report may simply be missing from the folder.
    """
    spec = findings.spec
    number, before = values.get("report_number"), previous.report_number
    where = previous.named
    labels = {line.key: line.label for line in spec.budget.lines + spec.budget.financing}
    for key, earlier in previous.cumulative.items():
        now = values.get(key)
        if earlier is not None and now is not None and now < earlier:
            findings.warning(
                "cumulative_below_previous", key,
                f"{labels[spec.fields[key].line]}: ackumulerat utfall sedan start ({_kr(now)}) är mindre än "
                f"i föregående lägesrapport, {where}: {_kr(earlier)}. Det ackumulerade utfallet minskar "
                "normalt inte; kontrollera beloppet och förklara en rättelse i kommentaren.",
                now,
            )
    if number is None or before is None:
        return
    if rolled and number != before + 1:
        findings.error(
            "report_number_not_next", "report_number",
            f"Mallen fördes fram från lägesrapport {where}, så den här rapporten ska vara nr {before + 1}, "
            f"inte nr {number}. Numret är förifyllt och låst: mallen har ändrats eller förts fram från fel "
            "rapport. Be RAR om en ny mall.",
            number,
        )
    elif not rolled and number > before + 1:
        gap = f"nr {before + 1}" if number == before + 2 else f"nr {before + 1}–{number - 1}"
        findings.warning(
            "report_number_gap", "report_number",
            f"Närmast föregående lägesrapport för insatsen i sammanställningen är {where}; {gap} saknas. "
            "Kontrollera att alla rapporter har kommit in.",
            number,
        )
    start, end = values.get("period_start"), previous.period_end
    if number == before + 1 and start and end and start != end + dt.timedelta(days=1):
        findings.warning(
            "period_not_after_previous", "period_start",
            f"Rapportperioden börjar {_date(start)}, men föregående lägesrapport, {where}, slutade "
            f"{_date(end)}: perioden brukar börja dagen efter, {_date(end + dt.timedelta(days=1))}. "
            "Kontrollera datumen.",
            start,
        )


def budget_sheet(findings: Findings) -> str:
    """The budget sheet's name as found (it may have been renamed)."""
    for key, (sheet, _cell) in findings.places.items():
        if findings.spec.fields[key].group != "report" and sheet:
            return sheet
    return findings.spec.budget_sheet
