"""Which earlier uploads a received report supersedes, as the upload is logged: consolidate's rule
(decide_statuses with the receipt order: the latest received counts) applied to the rows of the
log, inside the upload's write transaction.

Only the rows of the report's own insats are decided on — those of its link's insats (the log's
index `by_insats`), and rows without a link by case number, or by name and the case numbers that
name goes with, as assign_insats_keys groups them — so the transaction's work does not grow with
the inbox (issue 21: with 6 400 reports in it, deciding among every row made uploads queue for the
log's write lock).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from typing import Any

from ..consolidate.statuses import FileOutcome, Status, decide_statuses, normalise
from ..reader.result import ReadResult

IDENTITY = ("case_number", "initiative_name", "report_number", "signed_date")
_RECEIVED = (
    "SELECT stored_name, sha256, case_number, initiative_name, report_number, signed_date FROM uploads "
    "WHERE outcome = 'received' AND duplicate_of IS NULL AND stored_name IS NOT NULL AND stored_name != ?"
)


def supersession(db: sqlite3.Connection, name: str, sha256: str | None, answers: Mapping[str, Any],
                 now: int, insats: str | None = None) -> tuple[tuple[str, ...], str | None, str]:
    """(the stored names the new file `name` supersedes, the one that supersedes it or None, why).
    `insats`: the link's insats (keys.Insats.key) the file came through: the rows of that link's
    uploads, found by the log's index, and the rows without a link that name the same insats."""
    case = normalise(answers.get("case_number") or "", squeeze=True)
    title = normalise(answers.get("initiative_name") or "")
    if insats is None:
        own, others = [], db.execute(_RECEIVED, (name,)).fetchall()
    else:
        own = db.execute(_RECEIVED + " AND insats = ?", (name, insats)).fetchall()
        others = db.execute(_RECEIVED + " AND insats IS NULL", (name,)).fetchall()
    rows = own + [row for row in others if _same_insats(row, case, title)]
    cases = {normalise(row["case_number"], squeeze=True) for row in rows if row["case_number"]}
    if not case and cases:  # a name without a case number: the name's case numbers bring their files
        rows = own + [row for row in others if _same_insats(row, case, title, cases)]
    outcomes = [
        FileOutcome(
            name=row["stored_name"],
            result=ReadResult(file=row["stored_name"], sha256=row["sha256"]),
            answers={
                "case_number": row["case_number"],
                "initiative_name": row["initiative_name"],
                "report_number": row["report_number"],
                "signed_date": dt.date.fromisoformat(row["signed_date"]) if row["signed_date"] else None,
            },
        )
        for row in rows
    ]
    new = FileOutcome(name=name, result=ReadResult(file=name, sha256=sha256),
                      answers={key: answers.get(key) for key in IDENTITY})
    order = {**_receipt_order_of(db, {row["sha256"] for row in rows}), sha256 or "": dt.datetime.fromtimestamp(now / 1e9)}
    decide_statuses([*outcomes, new], order)
    supersedes = tuple(o.name for o in outcomes if o.superseded_by == new.name)
    if new.status is Status.SUPERSEDED:
        return supersedes, new.superseded_by, new.superseded_reason
    return supersedes, None, ""


def _same_insats(row: sqlite3.Row, case: str, title: str, cases: frozenset[str] | set[str] = frozenset()) -> bool:
    """Could the row be of the insats with this case number or name (decide_statuses decides)?"""
    row_case = normalise(row["case_number"], squeeze=True) if row["case_number"] else ""
    row_title = normalise(row["initiative_name"]) if row["initiative_name"] else ""
    return bool((case and row_case == case) or (title and row_title == title) or (row_case and row_case in cases))


def _receipt_order_of(db: sqlite3.Connection, shas: set[str]) -> dict[str, dt.datetime]:
    """intake.receipt_order for these contents only (the log's index by_sha finds them)."""
    found: dict[str, dt.datetime] = {}
    wanted = sorted(shas)
    for at in range(0, len(wanted), 500):
        part = wanted[at : at + 500]
        rows = db.execute(
            "SELECT sha256, MAX(received_ns) AS last FROM uploads WHERE stored_name IS NOT NULL AND outcome != 'refused' "
            f"AND sha256 IN ({','.join('?' * len(part))}) GROUP BY sha256", part).fetchall()
        found.update({row["sha256"]: dt.datetime.fromtimestamp(row["last"] / 1e9) for row in rows})
    return found
