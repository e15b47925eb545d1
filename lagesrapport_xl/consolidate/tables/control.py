"""The Kontroll sheet's file list: every file found, its status and its problems in Swedish, and
the count of files per status (state_counts, which the register's counts share)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ...form.fieldtypes import MAX_CELL_TEXT
from ...form.spec import FormSpec
from ..receipts import Receipts
from ..statuses import STATUS_PLURAL, Facts, FileOutcome, Status
from .base import CONTROL, Column, Table, TableBuilder, make_table

LOCK_FILE_MESSAGE = (
    "Excel-låsfil (~$…): Excel skapar en sådan fil medan arbetsboken är öppen. Den är ingen rapport "
    "och har hoppats över."
)


def _problems_text(outcome: FileOutcome, facts: Facts) -> str:
    lines = []
    if outcome.status is Status.SUPERSEDED:
        lines.append(f"Ersatt av {outcome.superseded_by}. {outcome.superseded_reason}")
    if outcome.status is Status.SKIPPED and not facts.issues:
        lines.append(LOCK_FILE_MESSAGE)
    if facts.issues:  # only then the result is read (it may be on disk: SpooledOutcome)
        lines += [issue.describe() for issue in outcome.result.issues]
    text = "\n".join(lines)
    if len(text) > MAX_CELL_TEXT - 100:
        text = text[: MAX_CELL_TEXT - 100] + "\n… (fler problem: se lagesrapport validate)"
    return text


def shown(value: Any) -> str | None:
    """A possibly unparsed value (of a rejected file) as text for the Kontroll sheet."""
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value)
    return text[:255]


def control_tables(
    outcomes: list[FileOutcome], spec: FormSpec, receipts: Receipts | None = None
) -> tuple[Table, Table]:
    """The file list and its counts; with the web intake's `receipts`, RAR's review of each file."""
    columns = [
        Column("file", "Fil"),
        Column("status", "Status"),
        Column("case_number", spec.fields["case_number"].label),
        Column("initiative_name", spec.fields["initiative_name"].label),
        Column("report_number", spec.fields["report_number"].label),
        Column("errors", "Antal fel", "int"),
        Column("warnings", "Antal varningar", "int"),
        Column("problems", "Problem (blad!cell, fråga och vad som behöver rättas)", "long_text"),
        Column("superseded_by", "Ersatt av"),
        Column("form_version", "Formulärversion i filen"),
    ]
    if receipts is not None:
        columns.insert(2, Column("review", "Granskning (RAR)"))
    rows = TableBuilder(columns)
    for outcome in outcomes:
        facts = outcome.facts
        rows.add(
            {
                "file": outcome.name,
                "status": outcome.status.value,
                "case_number": shown(facts.case_number),
                "initiative_name": shown(facts.initiative_name),
                "report_number": shown(facts.report_number),
                "errors": facts.errors,
                "warnings": facts.warnings,
                "problems": _problems_text(outcome, facts),
                "superseded_by": outcome.superseded_by,
                "form_version": facts.form_version,
                "review": receipts.review_text(outcome) if receipts is not None else None,
            }
        )
    control = rows.table("control", CONTROL, "Alla filer som hittades", "kontroll")
    count_table = state_counts(
        "control_counts",
        "Antal filer per status",
        "kontroll_antal",
        (Column("found", "Filer som hittades", "int"), len(outcomes)),
        "control.status",
        [(f"count_{s.name.lower()}", STATUS_PLURAL[s], s.value, sum(1 for o in outcomes if o.status is s))
         for s in Status],
        "Summa (ska vara lika med antalet filer)",
    )
    return count_table, control


def state_counts(
    key: str,
    title: str,
    file_stem: str,
    whole: tuple[Column, int],
    column: str,
    states: Sequence[tuple[str, str, str, int]],
    check: str,
    extra: Sequence[tuple[str, str, str, int]] = (),
) -> Table:
    """A one-row table of the Kontroll sheet: how many rows there are (`whole`), how many of them
    are in each state — (key, header, the state's text, Python's count), a COUNTIF over `column`
    ("table.key") whose cached result is Python's count — and the states' sum, `check`, which must
    equal the whole. `extra` states are counted after the sum and are not part of it."""

    def counted(state_key: str, header: str, text: str, _count: int) -> Column:
        return Column(state_key, header, "int", formula=f'COUNTIF({{{column}}},"{text}")')

    keys = [state[0] for state in states]
    total = Column(
        "count_sum",
        check,
        "int",
        formula="+".join(f"{{{k}}}" for k in keys),
        compute=lambda r: sum(r[k] for k in keys),
    )
    columns = [whole[0], *(counted(*state) for state in states), total, *(counted(*state) for state in extra)]
    counts = {whole[0].key: whole[1], **{state[0]: state[3] for state in (*states, *extra)}}
    return make_table(key, CONTROL, title, file_stem, columns, [counts])
