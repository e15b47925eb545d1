"""Rules across fields: what no single cell can show (periods, counts, budget consistency).

Each rule looks only at parsed values (None for an empty or unreadable answer) and stays silent
when a value it needs is missing: that answer already has its own problem, reported once.
Severities (declared with the messages in common/catalogue.py) follow one principle: an error
where the figures cannot all be true (an end before its start, a cumulative utfall smaller than
the utfall of the period it includes) or where the report lacks what it exists to tell (a budget
line with a budget but no utfall, a budget with no figures at all: 0 is an answer, blank is not),
a warning where they are unusual but possible (a long period, spending over the grant, financing
that does not match costs, signing before the period ended).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..common import catalogue as codes
from ..common.catalogue import Code
from ..common.issues import Issue, kronor
from ..form.previous import Previous
from ..form.spec import FormSpec, cell_address

HALF_YEAR_DAYS = 182
BUDGETED = ("budget_total", "budget_period")  # a line with either has a budget
ACTUALS = ("actual_period", "actual_cumulative")  # … and must then say its utfall (0 is an answer)


@dataclass
class Findings:
    """Issues being collected for one workbook, placed at the cell each answer was read from."""

    spec: FormSpec
    places: dict[str, tuple[str | None, str | None]]  # field key → (sheet, cell) as read
    issues: list[Issue] = field(default_factory=list)
    failed: frozenset[str] = frozenset()  # answers with a problem of their own (unreadable, not found)

    def add(self, code: Code, key: str | None, value: Any = None, *, sheet: str | None = None,
            cell: str | None = None, label: str | None = None, variant: str = "", **parts: Any) -> None:
        """`code`'s issue, at the answer `key` (as read) unless `sheet` and `cell` say otherwise;
        `label` names the place ("Fråga") where no answer's label does."""
        if key is not None:
            field_ = self.spec.fields[key]
            label = field_.label
            where_sheet, where_cell = self.places.get(key, (field_.sheet, field_.cell))
            sheet = sheet or where_sheet
            cell = cell or where_cell
        self.issues.append(
            code.issue(value, sheet=sheet, cell=cell, field=key, label=label, variant=variant, **parts)
        )


def _date(value: dt.date) -> str:
    return value.isoformat()


def check_rules(values: dict[str, Any], findings: Findings) -> None:
    """Every cross-field rule; results go into `findings`."""
    _periods(values, findings)
    _report_numbers(values, findings)
    _signed_date(values, findings)
    _budget_complete(values, findings)
    _budget_lines(values, findings)
    _financing_balance(values, findings)


def _periods(values: dict[str, Any], findings: Findings) -> None:
    for start_key, end_key, period in (
        ("initiative_start", "initiative_end", "initiative"),
        ("period_start", "period_end", "period"),
    ):
        start, end = values.get(start_key), values.get(end_key)
        if start and end and end < start:
            findings.add(codes.END_BEFORE_START, end_key, end, variant=period, end=_date(end), start=_date(start))
    first, last = values.get("initiative_start"), values.get("initiative_end")
    start, end = values.get("period_start"), values.get("period_end")
    if first and start and start < first:
        findings.add(codes.PERIOD_OUTSIDE_INITIATIVE, "period_start", start, variant="start",
                     date=_date(start), bound=_date(first))
    if last and end and end > last:
        findings.add(codes.PERIOD_OUTSIDE_INITIATIVE, "period_end", end, variant="end",
                     date=_date(end), bound=_date(last))
    if start and end and end >= start:
        days = (end - start).days + 1
        tolerance = findings.spec.period_tolerance_days
        if abs(days - HALF_YEAR_DAYS) > tolerance:
            findings.add(codes.PERIOD_LENGTH, "period_end", end, days=days, usual=HALF_YEAR_DAYS)


def _report_numbers(values: dict[str, Any], findings: Findings) -> None:
    number, total = values.get("report_number"), values.get("reports_total")
    if number is not None and total is not None and number > total:
        findings.add(codes.REPORT_NUMBER_ABOVE_TOTAL, "report_number", number, number=number, total=total)


def _signed_date(values: dict[str, Any], findings: Findings) -> None:
    signed, end = values.get("signed_date"), values.get("period_end")
    if signed and end and signed < end:
        findings.add(codes.SIGNED_BEFORE_PERIOD_END, "signed_date", signed, signed=_date(signed), end=_date(end))


def signed_after_receipt(signed: dt.date, received: dt.date, spec: FormSpec) -> Issue:
    """The error for a report signed after the day RAR received it (the web intake knows that day;
    the file alone does not, so this is no rule of check_rules)."""
    findings = Findings(spec, {})
    findings.add(codes.SIGNED_AFTER_RECEIPT, "signed_date", signed, signed=_date(signed), received=_date(received))
    return findings.issues[0]


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
            findings.add(codes.CUMULATIVE_BELOW_PERIOD, cumulative_key, cumulative,
                         line=line.label, cumulative=kronor(cumulative), period=kronor(period))
        if granted is not None and cumulative is not None and cumulative > granted:
            findings.add(codes.CUMULATIVE_ABOVE_GRANTED, cumulative_key, cumulative,
                         line=line.label, cumulative=kronor(cumulative), granted=kronor(granted))


def _line_amounts(findings: Findings, line_key: str) -> dict[str, str]:
    """Column → field key of a line's amount answers (the columns RAR's configuration has)."""
    spec = findings.spec
    return {
        column.key: key for column in spec.budget.columns
        if column.is_input and column.type.name == "amount"
        and (key := spec.budget_keys[line_key, column.key]) in spec.fields
    }


def _budget_complete(values: dict[str, Any], findings: Findings) -> None:
    """Every line with a budget says its utfall (0 when there was none); a budget without a single
    figure is refused line by line, so the coordinator sees each row to fill. A line whose amount
    could not be read has its own error and is judged when it can be read."""
    spec = findings.spec
    lines = spec.budget.lines + spec.budget.financing
    amounts = {line.key: _line_amounts(findings, line.key) for line in lines}
    every_key = [key for keys in amounts.values() for key in keys.values()]
    failed = findings.failed.intersection(every_key)
    if every_key and not failed and all(values.get(key) is None for key in every_key):
        for line in lines:
            first = next(iter(amounts[line.key].values()), None)
            if first is not None:
                findings.add(codes.BUDGET_EMPTY, first, line=line.label)
        return
    for line in lines:
        keys = amounts[line.key]
        if failed.intersection(keys.values()):
            continue
        budgeted = any(values.get(keys[column]) is not None for column in BUDGETED if column in keys)
        missing = [column for column in ACTUALS if column in keys and values.get(keys[column]) is None]
        if budgeted and missing:
            labels = " och ".join(f"”{spec.budget.column(column).label}”" for column in missing)
            findings.add(codes.BUDGET_ACTUAL_MISSING, keys[missing[0]], line=line.label, missing=labels)


def _financing_balance(values: dict[str, Any], findings: Findings) -> None:
    """Per amount column: the costs' sum and the financing's sum should be equal (the balance row).
    Financing left wholly blank beside costs is one warning, not one per column."""
    spec = findings.spec
    budget = spec.budget
    keys = spec.budget_keys
    amount_columns = [c for c in budget.columns if c.is_input and c.type.name == "amount"]
    funding = [keys[line.key, c.key] for line in budget.financing for c in amount_columns]
    spent = [keys[line.key, c.key] for line in budget.lines for c in amount_columns]
    if funding and all(values.get(k) is None for k in funding) and any(values.get(k) is not None for k in spent):
        if not findings.failed.intersection(funding):
            findings.add(codes.FINANCING_MISMATCH, funding[0], variant="blank",
                         heading=budget.financing_heading, balance=budget.balance_label)
        return
    for column in amount_columns:
        costs = [values.get(keys[line.key, column.key]) for line in budget.lines]
        funds = [values.get(keys[line.key, column.key]) for line in budget.financing]
        if all(v is None for v in costs + funds):
            continue
        cost_sum = sum((v for v in costs if v is not None), Decimal(0))
        fund_sum = sum((v for v in funds if v is not None), Decimal(0))
        if round(cost_sum - fund_sum) != 0:
            findings.add(
                codes.FINANCING_MISMATCH, None, cost_sum - fund_sum,
                sheet=budget_sheet(findings), cell=cell_address(budget.balance_row, column.col),
                label=f"{budget.balance_label} – {column.label}", column=column.label, costs=kronor(cost_sum),
                funds=kronor(fund_sum), difference=kronor(cost_sum - fund_sum),
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
            findings.add(codes.CUMULATIVE_BELOW_PREVIOUS, key, now, line=labels[spec.fields[key].line],
                         now=kronor(now), previous=where, earlier=kronor(earlier))
    if number is None or before is None:
        return
    if rolled and number != before + 1:
        findings.add(codes.REPORT_NUMBER_NOT_NEXT, "report_number", number,
                     previous=where, next=before + 1, number=number)
    elif not rolled and number > before + 1:
        findings.add(codes.REPORT_NUMBER_GAP, "report_number", number,
                     variant="one" if number == before + 2 else "several",
                     previous=where, first=before + 1, last=number - 1)
    start, end = values.get("period_start"), previous.period_end
    if number == before + 1 and start and end and start != end + dt.timedelta(days=1):
        findings.add(codes.PERIOD_NOT_AFTER_PREVIOUS, "period_start", start, start=_date(start), previous=where,
                     end=_date(end), expected=_date(end + dt.timedelta(days=1)))


def budget_sheet(findings: Findings) -> str:
    """The budget sheet's name as found (it may have been renamed)."""
    for key, (sheet, _cell) in findings.places.items():
        if findings.spec.fields[key].group != "report" and sheet:
            return sheet
    return findings.spec.budget_sheet
