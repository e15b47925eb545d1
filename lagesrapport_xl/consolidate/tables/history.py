"""The Historik sheet: one row per insats, its reports side by side (participants and cumulative
utfall of report 1, 2, …), each taken from the per-report tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import HISTORY, Column, Context, Row, Table, make_table

if TYPE_CHECKING:
    from ..statuses import FileOutcome


class HistoryRows:
    """The Historik sheet: which report of each insats is where in the per-report tables, and the
    latest report's identity (add), then its table."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.by_insats: dict[Any, dict[int, int]] = {}
        self.latest: dict[int, Row] = {}

    def add(self, index: int, outcome: FileOutcome, answers: dict[str, Any]) -> None:
        self.by_insats.setdefault(outcome.insats, {})[answers["report_number"]] = index

    def add_latest(self, index: int, outcome: FileOutcome, answers: dict[str, Any]) -> None:
        self.latest[index] = {
            "case_number": answers.get("case_number"),
            "initiative_name": answers.get("initiative_name"),
            "reports_total": answers.get("reports_total"),
            "latest_report": answers.get("report_number"),
        }

    def table(self, participants: Table, time_share: Table) -> Table:
        ctx, by_insats = self.ctx, self.by_insats
        spec = ctx.spec
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
            row: Row = dict(self.latest[index])
            for number, source in sorted(by_insats[ctx.reports[index].insats].items()):
                row[f"_row_{number}"] = source
                row[f"actual_{number}"] = participants.value(source, "total_actual")
                row[f"cumulative_{number}"] = time_share.value(source, "actual_cumulative")
            rows.append(row)
        return make_table(
            "history", HISTORY, "Rapport för rapport, per insats", "historik", columns, rows
        )
