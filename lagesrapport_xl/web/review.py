"""RAR's review of each counted report: Ny, Godkänd or Komplettering begärd, with who and when.

A review belongs to one version of a report (its bytes, by SHA-256): a new upload is a new version
and starts as Ny. "Komplettering begärd" needs a comment, which may point at questions (their
sheet and cell are shown to the coordinator with the question's text). Every change is a new row
(the table is append-only, store.py) and an audit row, in one transaction; the current state is a
version's latest row.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass

from ..consolidate.receipts import Review
from ..form.spec import FormSpec
from . import audit
from .store import Store

MAX_COMMENT = 4000


class ReviewError(ValueError):
    """A review that cannot be saved; the message is Swedish."""


@dataclass(frozen=True)
class Pointer:
    """A question the comment points at, as the coordinator finds it in the file."""

    field: str
    label: str
    sheet: str
    cell: str

    @property
    def where(self) -> str:
        return f"{self.sheet}!{self.cell}"


@dataclass(frozen=True)
class ReviewEntry:
    at: dt.datetime
    user: str
    state: Review
    comment: str
    pointers: tuple[Pointer, ...]
    sha256: str
    stored_name: str
    report_number: int | None


def pointers(spec: FormSpec, keys: list[str]) -> tuple[Pointer, ...]:
    """The questions chosen in the review form (field keys), in form order; unknown keys refused."""
    unknown = [key for key in keys if key not in spec.fields]
    if unknown:
        raise ReviewError("Frågan finns inte i formuläret. Ladda om sidan och välj igen.")
    chosen = set(keys)
    return tuple(Pointer(f.key, f.label, f.sheet, f.cell) for f in spec.fields.values() if f.key in chosen)


def save(store: Store, *, sha256: str, stored_name: str, insats: str | None, insats_title: str | None,
         report_number: int | None, state: Review, comment: str, chosen: tuple[Pointer, ...], user: str) -> None:
    """Record a review change (and its audit row)."""
    comment = comment.strip()
    if state is Review.SUPPLEMENT and not comment:
        raise ReviewError("Skriv vad som behöver kompletteras: en kommentar krävs när komplettering begärs.")
    if len(comment) > MAX_COMMENT:
        raise ReviewError(f"Kommentaren får vara högst {MAX_COMMENT} tecken.")
    now = time.time_ns()
    cells = json.dumps([p.__dict__ for p in chosen], ensure_ascii=False)
    with store.writing() as db:
        db.execute(
            "INSERT INTO reviews (at_ns, user_name, sha256, stored_name, insats, report_number, state, comment, cells) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (now, user, sha256, stored_name, insats, report_number, state.value, comment, cells),
        )
        detail = f"rapport nr {report_number}; {stored_name}"
        if comment:
            detail += f"; kommentar: {comment}"
        if chosen:
            detail += "; frågor: " + ", ".join(p.where for p in chosen)
        audit.record(db, "review", at_ns=now, user_name=user, insats=insats, insats_title=insats_title,
                     sha256=sha256, verdict=state.value, detail=detail)


def current(store: Store) -> dict[str, Review]:
    """sha256 → the latest review of that version (versions never reviewed are not listed: Ny)."""
    with store.connect() as db:
        rows = db.execute(
            "SELECT sha256, state FROM reviews WHERE id IN (SELECT MAX(id) FROM reviews GROUP BY sha256)").fetchall()
    return {row["sha256"]: Review(row["state"]) for row in rows}


def history(store: Store, *, insats: str | None = None, sha256: str | None = None) -> list[ReviewEntry]:
    """Every review change of an insats or of one version, oldest first."""
    where, args = ("insats = ?", (insats,)) if insats is not None else ("sha256 = ?", (sha256,))
    with store.connect() as db:
        rows = db.execute(f"SELECT * FROM reviews WHERE {where} ORDER BY id", args).fetchall()
    return [
        ReviewEntry(
            at=dt.datetime.fromtimestamp(row["at_ns"] / 1e9),
            user=row["user_name"],
            state=Review(row["state"]),
            comment=row["comment"],
            pointers=tuple(Pointer(**p) for p in json.loads(row["cells"])),
            sha256=row["sha256"],
            stored_name=row["stored_name"],
            report_number=row["report_number"],
        )
        for row in rows
    ]
