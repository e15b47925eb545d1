"""The Historik sheet: one row per insats, its reports side by side (participants and cumulative
utfall of report 1, 2, …), each taken from the per-report tables."""

from __future__ import annotations

from typing import Any

from .base import HISTORY, Column, Context, Row, Table, make_table


def history_table(ctx: Context, participants: Table, time_share: Table) -> Table:
    spec = ctx.spec
    by_insats: dict[Any, dict[int, int]] = {}
    for index, outcome in enumerate(ctx.reports):
        by_insats.setdefault(outcome.insats, {})[(outcome.answers or {})["report_number"]] = index
    top = max((number for numbers in by_insats.values() for number in numbers), default=0)
    columns = [
        Column("case_number", spec.fields["case_number"].label),
        Column("initiative_name", spec.fields["initiative_name"].label),
        Column("reports_total", spec.fields["reports_total"].label, "int"),
        Column("latest_report", "Senaste rapport nr", "int"),
    ]
    for number in range(1, top + 1):
        columns += [
            Column(f"actual_{number}", f"Nr {number}: faktiskt antal deltagare", "int",
                   formula=f"{{participants.total_actual@_row_{number}}}"),
            Column(f"cumulative_{number}", f"Nr {number}: ackumulerat utfall", "kr",
                   formula=f"{{time_share.actual_cumulative@_row_{number}}}"),
        ]
    rows = []
    for index in ctx.latest:
        latest = ctx.reports[index]
        answers = latest.answers or {}
        row: Row = {
            "case_number": answers.get("case_number"),
            "initiative_name": answers.get("initiative_name"),
            "reports_total": answers.get("reports_total"),
            "latest_report": answers.get("report_number"),
        }
        for number, source in sorted(by_insats[latest.insats].items()):
            row[f"_row_{number}"] = source
            row[f"actual_{number}"] = participants.value(source, "total_actual")
            row[f"cumulative_{number}"] = time_share.value(source, "actual_cumulative")
        rows.append(row)
    return make_table(
        "history", HISTORY, "Rapport för rapport, per insats", "historik", columns, rows
    )
