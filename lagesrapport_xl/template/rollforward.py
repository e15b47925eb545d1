"""Roll a Lägesrapport forward: the next period's template, pre-filled from the previous report.

From a report read without errors, the next report is number + 1 for the period after the
previous one (six months, never past the insats' end). Its template has what RAR knows pre-filled
and locked — every field form.toml marks `prefill`, taken from the previous report — and carries
the previous report's cumulative utfall (spec.carried): each such cell adds this period's amount
to the carried one, so the coordinator types only the period. What is carried sits on the hidden
Data sheet as a `Previous` (rules.py), which the reader compares the new report with.

With RAR's register and a folder of earlier reports, every register row gets the template after
its insats' latest accepted report there, matched by the rule the consolidation and the coverage
use (coverage.identity). The register is the authority for what it states; the period and the
number come from rolling forward, unless the register states a later report; for the same report
the register's period wins (with a warning when it differs).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common.config import TemplateOptions
from ..common.issues import Severity
from ..consolidate.batch import consolidate
from ..consolidate.consolidation import Consolidation
from ..consolidate.coverage import identity
from ..consolidate.statuses import FileOutcome
from ..form.previous import Previous
from ..form.spec import FormSpec, default_spec
from ..reader.read import read_report
from ..reader.register import RegisterProblem, RegisterResult, RegisterRow, read_register
from ..template.prefill import write_row_templates
from .writer import write_template

ROLLED = ("report_number", "period_start", "period_end")  # computed by rolling forward, never copied
PERIOD_MONTHS = 6


class RollForwardError(ValueError):
    """No next template can be made from this report; the message is Swedish and says why."""


@dataclass(frozen=True)
class NextReport:
    """The next report's pre-filled values and what its template carries (None: nothing)."""

    prefill: dict[str, Any]
    previous: Previous | None


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it is shorter (31 Aug + 6 → 28 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_period(previous_end: dt.date, initiative_end: dt.date) -> tuple[dt.date, dt.date]:
    """The day after the previous period, to six months later less a day, capped at the insats' end."""
    start = previous_end + dt.timedelta(days=1)
    return start, min(add_months(start, PERIOD_MONTHS) - dt.timedelta(days=1), initiative_end)


def next_report(
    answers: dict[str, Any],
    spec: FormSpec | None = None,
    *,
    file: str,
    sha256: str | None = None,
    authority: dict[str, Any] | None = None,
) -> NextReport:
    """The report after `answers` (a report without errors, read from `file`).

    `authority` (a register row's values) wins for everything it states but the number and the
    period, which are rolled forward. Raises RollForwardError when there is no next report.
    """
    spec = spec or default_spec()
    facts = {**answers, **{k: v for k, v in (authority or {}).items() if k not in ROLLED}}
    number, total = answers["report_number"], facts["reports_total"]
    end, last = answers["period_end"], facts["initiative_end"]
    insats = facts.get("initiative_name") or file
    if number >= total:
        raise RollForwardError(
            f"Lägesrapport nr {number} av {total} är den sista för {insats} ({file}): det finns ingen "
            "nästa rapport att göra en mall för."
        )
    if end >= last:
        raise RollForwardError(
            f"Rapportperioden i lägesrapport nr {number} ({file}) slutar {end.isoformat()}, när insatsen "
            f"{insats} slutar ({last.isoformat()}): det finns ingen nästa period."
        )
    start, stop = next_period(end, last)
    known = [key for key, field in spec.fields.items() if field.prefill and key not in ROLLED]
    prefill = {key: facts.get(key) for key in known}
    prefill.update(report_number=number + 1, period_start=start, period_end=stop)
    return NextReport(prefill, Previous.of(answers, spec, file, sha256))


def roll_forward(
    report: str | Path, output: str | Path, spec: FormSpec | None = None, *, password: str | None = None,
    options: TemplateOptions | None = None,
) -> NextReport:
    """Write the next period's template after `report` to `output`; refuse a report with errors."""
    spec = spec or default_spec()
    result = read_report(report, spec)
    if result.report is None:  # errors, or a file that is no report at all (an Excel lock file)
        listing = "".join(f"\n  {issue.describe()}" for issue in result.errors or result.issues)
        why = (f"kan inte föras fram till nästa period förrän rapporten är rättad ({len(result.errors)} fel)"
               if result.errors else "är ingen lägesrapport som kan föras fram")
        raise RollForwardError(f"{Path(report).name} {why}:{listing}")
    following = next_report(result.report.answers(), spec, file=Path(report).name, sha256=result.sha256)
    write_template(output, spec, prefill=following.prefill, previous=following.previous, password=password,
                   options=options)
    return following


# --- every insats of the register ----------------------------------------------------------------


def roll_forward_register(
    register: str | Path,
    previous: str | Path | Iterable[str | Path],
    out_dir: str | Path,
    spec: FormSpec | None = None,
    *,
    password: str | None = None,
    workers: int | None = None,
    options: TemplateOptions | None = None,
) -> RegisterResult:
    """One template per register row: the next after its insats' latest accepted report among
    `previous` (folders or files, read as a consolidation reads them), else the register's own
    pre-filled template with a warning. A row without a next report is an error, and no file."""
    spec = spec or default_spec()
    rows, problems = read_register(register, spec)
    batch = consolidate(previous, spec=spec, workers=workers)
    result = RegisterResult(problems=list(problems))
    planned = []
    for row in rows:
        try:
            prefill, carried, notes = _row_report(row, batch, spec)
        except RollForwardError as exc:
            result.problems.append(RegisterProblem(str(exc), row.row))
            continue
        result.problems.extend(RegisterProblem(note, row.row, severity=Severity.WARNING) for note in notes)
        planned.append((row.row, prefill, carried))
    write_row_templates(result, out_dir, spec, planned, password=password, options=options)
    return result


def _row_report(
    row: RegisterRow, batch: Consolidation, spec: FormSpec
) -> tuple[dict[str, Any], Previous | None, list[str]]:
    """(prefill, what is carried, warnings) of one register row's template."""
    return next_for_row(row, batch.files, spec)


def next_for_row(
    row: RegisterRow, reports: Iterable[FileOutcome], spec: FormSpec, *, none_note: str | None = None
) -> tuple[dict[str, Any], Previous | None, list[str]]:
    """(prefill, what is carried, warnings) of the template after the insats' latest accepted
    report among `reports` (the web intake passes the reports RAR has approved); the register's
    own pre-filled template, with `none_note` or the default warning, when there is none."""
    wanted = identity(row.prefill)
    mine = [o for o in reports if o.accepted and identity(o.answers).same_insats(wanted)]
    if not mine:
        return row.prefill, None, [none_note or (
            "Insatsen har ingen godkänd lägesrapport bland de tidigare rapporterna. Mallen är förifylld "
            "från registret, utan överfört ackumulerat utfall."
        )]
    latest = max(mine, key=lambda o: (o.answers["report_number"], o.name))
    number = latest.answers["report_number"]
    following = next_report(latest.answers, spec, file=latest.name, sha256=latest.result.sha256,
                            authority=row.prefill)
    rolled, stated = following.prefill["report_number"], row.prefill.get("report_number")
    if stated is not None and stated > rolled:
        prefill = {k: v for k, v in following.prefill.items() if k not in ROLLED} | row.prefill
        return prefill, None, [
            f"Registret anger lägesrapport nr {stated}, men den senaste godkända rapporten för insatsen är "
            f"nr {number} ({latest.name}). Mallen följer registret; ackumulerat utfall förs inte över, "
            f"eftersom rapporten före nr {stated} saknas."
        ]
    notes = []
    if stated is not None and stated < rolled:
        notes.append(
            f"Registret anger lägesrapport nr {stated}, men nr {number} har redan kommit in "
            f"({latest.name}). Mallen gäller nr {rolled}; uppdatera registret."
        )
    prefill = following.prefill
    if stated == rolled:  # the register's period for this very report wins over the rolled one
        prefill, note = _register_period(following.prefill, row.prefill, latest.name, number)
        notes += [note] if note else []
    return prefill, following.previous, notes


def _register_period(
    rolled: dict[str, Any], stated: dict[str, Any], file: str, number: int
) -> tuple[dict[str, Any], str | None]:
    """The rolled prefill with the period the register states for the same report, and a warning
    when the two differ (the reader then also warns if the period does not follow the previous)."""
    period = {key: stated[key] for key in ("period_start", "period_end") if stated.get(key) is not None}
    merged = rolled | period
    if merged["period_start"] == rolled["period_start"] and merged["period_end"] == rolled["period_end"]:
        return rolled, None

    def shown(values: dict[str, Any]) -> str:
        return f"{values['period_start']:%Y-%m-%d}–{values['period_end']:%Y-%m-%d}"

    if merged["period_end"] < merged["period_start"]:
        raise RollForwardError(
            f"Registret anger rapportperioden till {merged['period_end']:%Y-%m-%d} för lägesrapport nr "
            f"{rolled['report_number']}, men perioden efter nr {number} ({file}) börjar "
            f"{merged['period_start']:%Y-%m-%d}. Rätta registrets datum."
        )
    return merged, (
        f"Registret anger rapportperioden {shown(merged)} för lägesrapport nr {rolled['report_number']}; "
        f"efter nr {number} ({file}) hade den varit {shown(rolled)}. Mallen följer registret."
    )


__all__ = ["NextReport", "RollForwardError", "add_months", "next_for_row", "next_period", "next_report",
           "roll_forward", "roll_forward_register"]
