"""The Tidsandel sheet: is each report's cumulative utfall in line with the budget, given the share
of the insats' period that has passed (within the tolerance of the Om sheet)?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import (
    SOURCE_CELLS,
    SOURCE_FILE,
    SOURCE_KEYS,
    STORED_FILE,
    TIME_SHARE,
    Column,
    Context,
    Row,
    Table,
    TableBuilder,
    blank,
    id_columns,
    n,
    ratio,
    share_formula,
)
from .budget import report_sum

if TYPE_CHECKING:
    from ..statuses import FileOutcome


def _time_share_columns(ctx: Context) -> list[Column]:
    spec = ctx.spec
    tol = ctx.tolerance
    f = spec.fields
    granted_label = spec.budget.column("budget_total").label
    cumulative_label = spec.budget.column("actual_cumulative").label
    columns = [
        *id_columns(spec),
        Column("initiative_start", f["initiative_start"].label, "date"),
        Column("initiative_end", f["initiative_end"].label, "date"),
        Column("period_end", f["period_end"].label, "date"),
        Column(
            "total_days",
            "Insatsens längd (dagar)",
            "days",
            formula="{initiative_end}-{initiative_start}+1",
            compute=lambda r: (r["initiative_end"] - r["initiative_start"]).days + 1,
        ),
        Column(
            "elapsed_share",
            "Förfluten tid vid rapportperiodens slut (%)",
            "pct",
            formula='IF(N({total_days})<=0,"",MAX(0,MIN(1,({period_end}-{initiative_start}+1)/{total_days})))',
            compute=_elapsed_share,
        ),
        Column("granted", f"{granted_label}, summa", "kr"),
        Column(
            "expected",
            "Förväntat utfall efter tidsandel",
            "kr",
            formula='IF({elapsed_share}="","",{granted}*{elapsed_share})',
            compute=lambda r: None if blank(r["elapsed_share"]) else n(r["granted"]) * r["elapsed_share"],
        ),
        Column("actual_cumulative", f"{cumulative_label}, summa", "kr"),
        Column(
            "deviation",
            "Avvikelse (utfall − förväntat), kr",
            "kr",
            formula='IF({expected}="","",{actual_cumulative}-{expected})',
            compute=lambda r: None if blank(r["expected"]) else n(r["actual_cumulative"]) - r["expected"],
        ),
        Column(
            "deviation_pct",
            "Avvikelse, % av förväntat",
            "pct",
            formula=share_formula("deviation", "expected"),
            compute=lambda r: ratio(r["deviation"], r["expected"]),
        ),
        Column(
            "computed_in_line",
            "I linje enligt siffrorna",
            "flag",
            formula='IF({expected}="","",IF(N({expected})=0,IF(N({actual_cumulative})=0,"Ja","Nej"),'
            'IF(ABS({deviation})<={!tolerance}*{expected},"Ja","Nej")))',
            compute=lambda r: _in_line(r, tol),
        ),
        Column("budget_on_track", "I linje enligt rapporten (egen bedömning)", "flag"),
        Column(
            "disagrees",
            "Egen bedömning avviker från siffrorna",
            "flag",
            formula='IF(OR({computed_in_line}="",{budget_on_track}=""),"",'
            'IF({computed_in_line}={budget_on_track},"Nej","Ja"))',
            compute=lambda r: None
            if blank(r["computed_in_line"]) or blank(r["budget_on_track"])
            else ("Nej" if r["computed_in_line"] == r["budget_on_track"] else "Ja"),
        ),
        SOURCE_FILE,
        STORED_FILE,
        SOURCE_CELLS,
    ]
    return columns


class TimeShareRows:
    """The Tidsandel sheet: a row per report as the reports come (add), then its table."""

    def __init__(self, ctx: Context):
        spec = ctx.spec
        self.ctx = ctx
        self.spec = spec
        self.rows = TableBuilder(_time_share_columns(ctx), SOURCE_KEYS)
        cost_cells = {
            key: [spec.fields[spec.budget_key(line.key, key)].cell for line in spec.budget.lines]
            for key in ("budget_total", "actual_cumulative")
        }
        self.source = ", ".join(f"{spec.budget_sheet}!{cells[0]}:{cells[-1]}" for cells in cost_cells.values() if cells)

    def add(self, index: int, outcome: FileOutcome, answers: dict[str, Any]) -> None:
        self.rows.add(
            {
                **self.ctx.identity(outcome, answers),
                "initiative_start": answers.get("initiative_start"),
                "initiative_end": answers.get("initiative_end"),
                "period_end": answers.get("period_end"),
                "granted": report_sum(self.spec, answers, "budget_total"),
                "actual_cumulative": report_sum(self.spec, answers, "actual_cumulative"),
                "budget_on_track": answers.get("budget_on_track"),
                "source": self.source,
            }
        )

    def table(self) -> Table:
        return self.rows.table(
            "time_share",
            TIME_SHARE,
            "Ligger det ekonomiska utfallet i linje med budget, utifrån den tid som gått?",
            "tidsandel",
            note=(
                "Förväntat utfall = beviljad budget × andel av insatsens totala period som gått vid "
                "rapportperiodens slut (hela dagar, 0–100 %). I linje om ackumulerat utfall avviker högst "
                "toleransen (bladet Om) från det förväntade."
            ),
        )


def _elapsed_share(row: Row) -> float | None:
    total = row["total_days"]
    if n(total) <= 0:
        return None
    elapsed = (row["period_end"] - row["initiative_start"]).days + 1
    return max(0.0, min(1.0, elapsed / total))


def _in_line(row: Row, tolerance: float) -> str | None:
    expected = row["expected"]
    if blank(expected):
        return None
    if n(expected) == 0:
        return "Ja" if n(row["actual_cumulative"]) == 0 else "Nej"
    return "Ja" if abs(row["deviation"]) <= tolerance * expected else "Nej"
