"""The Översikt sheet: one row per accepted report, with the participants' and the time share's
figures taken from those sheets' tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...form.spec import FormSpec
from .base import OVERVIEW, SOURCE_FILE, SOURCE_KEYS, STORED_FILE, Column, Context, Table, TableBuilder

if TYPE_CHECKING:
    from ..statuses import FileOutcome


def _overview_columns(spec: FormSpec) -> list[Column]:
    f = spec.fields
    return [
        Column("case_number", f["case_number"].label),
        Column("initiative_name", f["initiative_name"].label),
        Column("initiative_start", f["initiative_start"].label, "date"),
        Column("initiative_end", f["initiative_end"].label, "date"),
        Column("period_start", f["period_start"].label, "date"),
        Column("period_end", f["period_end"].label, "date"),
        Column("report_number", f["report_number"].label, "int"),
        Column("reports_total", f["reports_total"].label, "int"),
        Column("budget_on_track", "Budget i linje (egen bedömning)", "flag"),
        Column(
            "budget_in_line_computed",
            "Budget i linje (beräknat från tidsandel)",
            "flag",
            formula="{time_share.computed_in_line@}",
        ),
        Column("planned_min", "Planerat antal deltagare (från)", "int", formula="{participants.total_planned_min@}"),
        Column("planned_max", "Planerat antal deltagare (till)", "int", formula="{participants.total_planned_max@}"),
        Column("actual", "Faktiskt antal deltagare", "int", formula="{participants.total_actual@}"),
        Column("warnings", "Antal varningar", "int"),
        Column("signed_date", f["signed_date"].label + " (underskrift)", "date"),
        SOURCE_FILE,
        STORED_FILE,
    ]


class OverviewRows:
    """The Översikt sheet: a row per report as the reports come (add), with the figures of the same
    report's rows on the Deltagare and Tidsandel sheets (added just before), then its table."""

    def __init__(self, ctx: Context, participants: TableBuilder, time_share: TableBuilder):
        self.ctx = ctx
        self.columns = _overview_columns(ctx.spec)
        self.keys = [c.key for c in self.columns]
        self.participants = participants
        self.time_share = time_share
        self.rows = TableBuilder(self.columns, SOURCE_KEYS)

    def add(self, index: int, outcome: FileOutcome, answers: dict[str, Any]) -> None:
        row = {key: answers.get(key) for key in self.keys if key in answers}
        row.update(
            budget_in_line_computed=self.time_share.latest("computed_in_line"),
            planned_min=self.participants.latest("total_planned_min"),
            planned_max=self.participants.latest("total_planned_max"),
            actual=self.participants.latest("total_actual"),
            warnings=outcome.facts.warnings,
        )
        row.update(self.ctx.source(outcome))
        self.rows.add(row)

    def table(self) -> Table:
        return self.rows.table(
            "overview",
            OVERVIEW,
            "Godkända lägesrapporter",
            "oversikt",
            note="En rad per godkänd rapport. Avvisade och ersatta filer finns på bladet Kontroll.",
        )
