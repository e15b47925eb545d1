"""The Kontroll sheet's register tables (with --register): each row of RAR's register with what
came in for its period (coverage.py), the files of no register row, and the count per state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..statuses import COVERAGE_PLURAL, Coverage
from .base import CONTROL, Column, Row, Table, make_table
from .control import shown, state_counts

if TYPE_CHECKING:
    from ..consolidation import Consolidation
    from ..coverage import CoverageReport

NOT_IN_REGISTER = "Inte i registret"  # in the register table: a file that belongs to no register row


def register_tables(c: Consolidation, coverage: CoverageReport) -> tuple[Table, Table]:
    """The register against the files (coverage.py): one row per register row with its state and
    files for the period, then each file that belongs to no register row, and the counts."""
    fields = c.spec.fields
    columns = [  # the first five line up with the file list above (Fil, Status, insats, nr)
        Column("file", "Fil som gäller"),
        Column("state", "Läge för perioden"),
        Column("case_number", fields["case_number"].label),
        Column("initiative_name", fields["initiative_name"].label),
        Column("report_number", fields["report_number"].label, "int"),
        Column("period_start", fields["period_start"].label, "date"),
        Column("period_end", fields["period_end"].label, "date"),
        Column("rejected", "Avvisade filer för perioden", "long_text"),
        Column("superseded", "Ersatta filer för perioden"),
        Column("register_row", "Rad i registret", "int"),
    ]
    rows: list[Row] = [
        {
            "file": row.accepted,
            "state": row.state.value,
            "case_number": row.case_number,
            "initiative_name": row.initiative_name,
            "report_number": row.report_number,
            "period_start": row.period_start,
            "period_end": row.period_end,
            "rejected": "\n".join(row.rejected) or None,
            "superseded": "\n".join(row.superseded) or None,
            "register_row": row.row,
        }
        for row in coverage.rows
    ]
    outcomes = {outcome.name: outcome for outcome in c.files}
    for name in coverage.unmatched:
        outcome = outcomes[name]
        parsed = outcome.answers if outcome.answers is not None else outcome.result.parsed_values
        read = outcome.answers if outcome.answers is not None else outcome.result.values
        rows.append(
            {
                "file": name,
                "state": NOT_IN_REGISTER,
                "case_number": shown(read.get("case_number")),
                "initiative_name": shown(read.get("initiative_name")),
                **{key: parsed.get(key) for key in ("report_number", "period_start", "period_end")},
            }
        )
    table = make_table(
        "register",
        CONTROL,
        "Registret: har varje insats rapporterat för perioden?",
        "register",
        columns,
        rows,
        note=(
            "En rad per rad i registret. Rapporten som väntas är registrets rapportnummer, annars "
            "rapportperiodens slutdatum, annars vilken rapport som helst från insatsen. Filer som inte "
            f"hör till någon insats i registret står sist: {NOT_IN_REGISTER}."
        ),
    )
    counts = state_counts(
        "register_counts",
        "Registret: antal insatser per läge",
        "register_antal",
        (Column("register_rows", "Rader i registret", "int"), len(coverage.rows)),
        "register.state",
        [(f"count_{s.name.lower()}", COVERAGE_PLURAL[s], s.value, coverage.count(s)) for s in Coverage],
        "Summa (ska vara lika med antalet rader i registret)",
        [("count_not_in_register", "Filer som inte finns i registret", NOT_IN_REGISTER, len(coverage.unmatched))],
    )
    return counts, table
