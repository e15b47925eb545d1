"""The Deltagare sheet: planned and actual participants per report (women, men, total and shares
of the plan), and each insats' latest report for the chart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...form.conditions import holds
from ...form.spec import FormSpec
from .base import (
    CELLS,
    PARTICIPANTS,
    SOURCE_FILE,
    STORED_FILE,
    TRACE_KEYS,
    Column,
    Context,
    Row,
    Table,
    TableBuilder,
    blank,
    id_columns,
    make_table,
    n,
    sheet_cell,
)

if TYPE_CHECKING:
    from ..statuses import FileOutcome


def _group_label(spec: FormSpec, key: str, fallback: str) -> str:
    """'Kvinnor' / 'Män': the text of the form row that holds the field."""
    return next((r.text for r in spec.layout if key in r.fields and r.text), fallback).rstrip(":")


def _participant_columns(spec: FormSpec) -> list[Column]:
    """Women, men and total: planned range, actual, % of the planned minimum and of the midpoint."""
    columns: list[Column] = []
    groups = [
        ("women", _group_label(spec, "women_actual", "Kvinnor")),
        ("men", _group_label(spec, "men_actual", "Män")),
        ("total", "Totalt"),
    ]
    for group, label in groups:
        lo, hi, act = f"{group}_planned_min", f"{group}_planned_max", f"{group}_actual"
        if group == "total":
            columns += [
                Column(
                    lo,
                    f"{label} planerat från",
                    "int",
                    formula='IF(AND({women_planned_min}="",{men_planned_min}=""),"",'
                    "N({women_planned_min})+N({men_planned_min}))",
                    compute=lambda r: _sum_or_blank(r["women_planned_min"], r["men_planned_min"]),
                ),
                Column(
                    hi,
                    f"{label} planerat till",
                    "int",
                    formula='IF(AND({women_planned_min}="",{women_planned_max}="",{men_planned_min}="",'
                    '{men_planned_max}=""),"",IF({women_planned_max}="",N({women_planned_min}),'
                    '{women_planned_max})+IF({men_planned_max}="",N({men_planned_min}),{men_planned_max}))',
                    compute=lambda r: _total_max(r),
                ),
                Column(
                    act,
                    f"{label} faktiskt",
                    "int",
                    formula='IF(AND({women_actual}="",{men_actual}=""),"",N({women_actual})+N({men_actual}))',
                    compute=lambda r: _sum_or_blank(r["women_actual"], r["men_actual"]),
                ),
            ]
        else:
            columns += [  # each from one cell of the report: traced
                Column(lo, f"{label} planerat från", "int", traced=True),
                Column(hi, f"{label} planerat till", "int", traced=True),
                Column(act, f"{label} faktiskt", "int", traced=True),
            ]
        columns += [
            Column(
                f"{group}_pct_min",
                f"{label} faktiskt i % av planerat från",
                "pct",
                formula=f'IF(OR({{{act}}}="",N({{{lo}}})=0),"",{{{act}}}/{{{lo}}})',
                compute=lambda r, act=act, lo=lo: None if blank(r[act]) or n(r[lo]) == 0 else n(r[act]) / n(r[lo]),
            ),
            Column(
                f"{group}_pct_mid",
                f"{label} faktiskt i % av planerat mittvärde",
                "pct",
                formula=f'IF(OR({{{act}}}="",N({{{lo}}})+N({{{hi}}})=0),"",'
                f'{{{act}}}/((N({{{lo}}})+IF({{{hi}}}="",N({{{lo}}}),N({{{hi}}})))/2))',
                compute=lambda r, act=act, lo=lo, hi=hi: _pct_mid(r[act], r[lo], r[hi]),
            ),
        ]
    columns.append(
        Column(
            "below_plan",
            "Under planerat antal",
            "flag",
            formula="IF(OR(AND(ISNUMBER({women_actual}),ISNUMBER({women_planned_min}),"
            "{women_actual}<{women_planned_min}),AND(ISNUMBER({men_actual}),ISNUMBER({men_planned_min}),"
            '{men_actual}<{men_planned_min})),"Ja","Nej")',
            compute=lambda r: "Ja" if holds("below_plan", r) else "Nej",
        )
    )
    return columns


def _sum_or_blank(*values: Any) -> Any:
    return None if all(blank(v) for v in values) else sum(n(v) for v in values)


def _total_max(row: Row) -> Any:
    keys = ("women_planned_min", "women_planned_max", "men_planned_min", "men_planned_max")
    if all(blank(row[k]) for k in keys):
        return None
    women = n(row["women_planned_min"]) if blank(row["women_planned_max"]) else row["women_planned_max"]
    men = n(row["men_planned_min"]) if blank(row["men_planned_max"]) else row["men_planned_max"]
    return women + men


def _pct_mid(actual: Any, low: Any, high: Any) -> float | None:
    if blank(actual) or n(low) + n(high) == 0:
        return None
    top = n(low) if blank(high) else n(high)
    return n(actual) / ((n(low) + top) / 2)


KEYS = ("women_planned_min", "women_planned_max", "women_actual", "men_planned_min", "men_planned_max", "men_actual")


class ParticipantRows:
    """The Deltagare sheet: a row per report as the reports come (add), then its tables."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        columns = _participant_columns(ctx.spec)
        self.rows = TableBuilder([
            *id_columns(ctx.spec),
            Column("period_end", ctx.spec.fields["period_end"].label, "date"),
            *columns,
            SOURCE_FILE,
            STORED_FILE,
        ], hidden=TRACE_KEYS)
        fields = ctx.spec.fields  # every report's counts sit in the same cells: one tuple for all rows
        self.cells = tuple(sheet_cell(fields[c.key].sheet, fields[c.key].cell) for c in columns if c.traced)

    def add(self, index: int, outcome: FileOutcome, answers: dict[str, Any]) -> None:
        self.rows.add({**self.ctx.identity(outcome, answers), "period_end": answers.get("period_end"),
                       **{k: answers.get(k) for k in KEYS}, CELLS: self.cells})

    def tables(self) -> tuple[Table, Table]:
        ctx = self.ctx
        main = self.rows.table(
            "participants", PARTICIPANTS, "Planerat och faktiskt antal deltagare, per insats och rapport", "deltagare"
        )
        latest_columns = [
            *id_columns(ctx.spec),
            Column("planned_min", "Planerat från", "int", formula="{participants.total_planned_min@_row}"),
            Column("planned_max", "Planerat till", "int", formula="{participants.total_planned_max@_row}"),
            Column("actual", "Faktiskt", "int", formula="{participants.total_actual@_row}"),
        ]
        latest_rows = []
        for index in ctx.latest:
            latest_rows.append(
                {
                    **ctx.identity(ctx.reports[index], _identity(main, index)),
                    "planned_min": main.value(index, "total_planned_min"),
                    "planned_max": main.value(index, "total_planned_max"),
                    "actual": main.value(index, "total_actual"),
                    "_row": index,
                }
            )
        latest = make_table(
            "participants_latest",
            PARTICIPANTS,
            "Senaste rapporten per insats (underlag för diagrammet)",
            "deltagare_senaste",
            latest_columns,
            latest_rows,
        )
        return main, latest


def _identity(table: Table, index: int) -> dict[str, Any]:
    """A report's case number, name and number, as its row of a per-report table holds them."""
    return {key: table.value(index, key) for key in ("case_number", "initiative_name", "report_number")}
