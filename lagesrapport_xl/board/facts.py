"""What the board reads, taken from the Consolidation's tables: one InsatsFacts per insats (its
latest counted report) and the register's insatser that have no report for the period.

Only the tables' public API is used (`Table.values`, `Table.value`, column keys), and rows are
joined on what the coordinator wrote (diarienummer, insatsens namn, rapportnummer), not on the
master's row numbers or file columns, so the master's layout can change under it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..consolidate.consolidation import Consolidation
from ..consolidate.statuses import FileOutcome
from ..consolidate.tables import Table

Key = tuple[str, str, int]  # (diarienummer, insatsens namn, rapportnummer)


@dataclass(frozen=True)
class Participants:
    """One group's planned range and actual count (Kvinnor, Män, Totalt)."""

    label: str
    planned_min: int | None
    planned_max: int | None
    actual: int | None


@dataclass(frozen=True)
class BudgetLine:
    label: str
    granted: float | None  # beviljad budget för hela insatsen
    cumulative: float | None  # ackumulerat utfall sedan start


@dataclass(frozen=True)
class Text:
    question: str  # the form's question, word for word (the Texter sheet's header)
    answer: str


@dataclass
class InsatsFacts:
    """One insats as its latest counted report tells it."""

    case_number: str
    name: str
    report_number: int | None
    reports_total: int | None
    period_start: dt.date | None
    period_end: dt.date | None
    status: str  # the file's status, and RAR's review when the intake's account is known
    participants: list[Participants] = field(default_factory=list)
    below_plan: bool = False
    budget_lines: list[BudgetLine] = field(default_factory=list)
    granted: float | None = None
    cumulative: float | None = None
    used_share: float | None = None  # ackumulerat utfall / beviljad budget
    elapsed_share: float | None = None  # förfluten tid vid periodens slut
    own_assessment: str | None = None  # Ja/Nej: budgeten i linje, enligt samordnaren
    computed_assessment: str | None = None  # Ja/Nej: enligt siffrorna och tidsandelen
    texts: list[Text] = field(default_factory=list)
    signed: dt.date | None = None


@dataclass(frozen=True)
class MissingInsats:
    """A register row without a counted report for its period."""

    case_number: str
    name: str
    report_number: int | None
    period_end: dt.date | None
    state: str  # Saknas | Bara avvisade filer


@dataclass
class BoardFacts:
    insatser: list[InsatsFacts]
    missing: list[MissingInsats] | None  # None: no register was given
    tolerance: float
    reports_counted: int
    approved_only: bool = False


def _key(case_number: Any, name: Any, number: Any) -> Key:
    return (str(case_number or ""), str(name or ""), int(number or 0))


def _rows(table: Table | None) -> Iterable[tuple[Key, int]]:
    if table is None:
        return []
    cases, names, numbers = table.values("case_number"), table.values("initiative_name"), table.values("report_number")
    return [(_key(c, n, r), i) for i, (c, n, r) in enumerate(zip(cases, names, numbers))]


class _Report:
    """One table's rows by report: `get(key, column)` is None where the table, the report or the
    column is missing (a master without a sheet, a report without participants)."""

    def __init__(self, table: Table | None):
        self.table = table
        self.rows: dict[Key, list[int]] = {}
        for key, row in _rows(table):
            self.rows.setdefault(key, []).append(row)

    def row(self, key: Key) -> int | None:
        rows = self.rows.get(key)
        return rows[0] if rows else None

    def get(self, key: Key, column: str) -> Any:
        row = self.row(key)
        return None if self.table is None or row is None else self.table.value(row, column)


def _number(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def _count(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _status(outcome: FileOutcome | None, consolidation: Consolidation) -> str:
    if outcome is None:
        return ""
    text = outcome.status.value
    receipts = consolidation.receipts
    if receipts is not None:
        review = receipts.review_of(outcome)
        if review is not None:
            text += f"; RAR:s granskning: {review.value}"
    return text


def _outcomes(consolidation: Consolidation) -> dict[Key, FileOutcome]:
    found: dict[Key, FileOutcome] = {}
    for outcome in consolidation.files:
        if outcome.accepted and outcome.answers:
            a = outcome.answers
            found[_key(a.get("case_number"), a.get("initiative_name"), a.get("report_number"))] = outcome
    return found


def _participants(table: Table | None, row: int | None) -> list[Participants]:
    if table is None or row is None:
        return []
    groups = (("women", "Kvinnor"), ("men", "Män"), ("total", "Totalt"))
    return [
        Participants(label, _count(table.value(row, f"{g}_planned_min")), _count(table.value(row, f"{g}_planned_max")),
                     _count(table.value(row, f"{g}_actual")))
        for g, label in groups
    ]


def _texts(table: Table | None, row: int | None) -> list[Text]:
    if table is None or row is None:
        return []
    texts = []
    for column in table.columns:
        if column.kind != "long_text":
            continue
        answer = table.value(row, column.key)
        if answer is not None and str(answer).strip():
            texts.append(Text(column.header, str(answer).strip()))
    return texts


def board_facts(consolidation: Consolidation) -> BoardFacts:
    """The facts of every insats with a counted report, in the master's order, and (with a
    register) who is missing."""
    tables = consolidation.tables
    overview, per_insats = _Report(tables.get("overview")), _Report(tables.get("budget_by_initiative"))
    participants, time_share = _Report(tables.get("participants")), _Report(tables.get("time_share"))
    texts, budget = _Report(tables.get("texts")), _Report(tables.get("budget"))
    outcomes = _outcomes(consolidation)
    latest = list(per_insats.rows)  # one row per insats: its latest report
    if not latest:  # no budget table: every insats by its latest report number
        newest: dict[tuple[str, str], Key] = {}
        for key in overview.rows:
            newest[key[:2]] = max(newest.get(key[:2], key), key, key=lambda k: k[2])
        latest = list(newest.values())
    insatser = []
    for key in latest:
        facts = InsatsFacts(
            case_number=key[0], name=key[1], report_number=key[2] or None,
            reports_total=_count(overview.get(key, "reports_total")),
            period_start=overview.get(key, "period_start"), period_end=overview.get(key, "period_end"),
            status=_status(outcomes.get(key), consolidation),
            participants=_participants(participants.table, participants.row(key)),
            below_plan=participants.get(key, "below_plan") == "Ja",
            granted=_number(per_insats.get(key, "budget_total")),
            cumulative=_number(per_insats.get(key, "actual_cumulative")),
            used_share=_number(per_insats.get(key, "used_share")),
            elapsed_share=_number(per_insats.get(key, "elapsed_share")),
            own_assessment=overview.get(key, "budget_on_track"),
            computed_assessment=overview.get(key, "budget_in_line_computed"),
            texts=_texts(texts.table, texts.row(key)),
            signed=overview.get(key, "signed_date"),
        )
        if facts.elapsed_share is None:
            facts.elapsed_share = _number(time_share.get(key, "elapsed_share"))
        if budget.table is not None:
            facts.budget_lines = [
                BudgetLine(str(budget.table.value(r, "line")), _number(budget.table.value(r, "budget_total")),
                           _number(budget.table.value(r, "actual_cumulative")))
                for r in budget.rows.get(key, [])
            ]
        insatser.append(facts)
    missing = None
    if consolidation.coverage is not None:
        missing = [
            MissingInsats(row.case_number or "", row.initiative_name or f"Rad {row.row} i registret",
                          row.report_number, row.period_end, row.state.value)
            for row in consolidation.coverage.missing
        ]
    receipts = consolidation.receipts
    return BoardFacts(
        insatser=insatser, missing=missing, tolerance=consolidation.tolerance,
        reports_counted=len(overview.rows), approved_only=bool(receipts is not None and receipts.approved_only),
    )
