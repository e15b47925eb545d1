"""The Översikt sheet: one row per accepted report, with the participants' and the time share's
figures taken from those sheets' tables."""

from __future__ import annotations

from ...form.spec import FormSpec
from .base import OVERVIEW, SOURCE_FILE, Column, Context, Table, make_table


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
    ]


def overview_table(ctx: Context, participants: Table, time_share: Table) -> Table:
    columns = _overview_columns(ctx.spec)
    rows = []
    for index, outcome in enumerate(ctx.reports):
        answers = outcome.answers or {}
        row = {c.key: answers.get(c.key) for c in columns if c.key in answers}
        row.update(
            budget_in_line_computed=time_share.value(index, "computed_in_line"),
            planned_min=participants.value(index, "total_planned_min"),
            planned_max=participants.value(index, "total_planned_max"),
            actual=participants.value(index, "total_actual"),
            warnings=len(outcome.result.warnings),
            source_file=outcome.name,
        )
        rows.append(row)
    return make_table(
        "overview",
        OVERVIEW,
        "Godkända lägesrapporter",
        "oversikt",
        columns,
        rows,
        note="En rad per godkänd rapport. Avvisade och ersatta filer finns på bladet Kontroll.",
    )
