"""Which insatser of RAR's register have reported for the period, and which have not.

RAR's register (reader/register.py) lists every insats it funds, with the report it expects next
(report number and period). A consolidation (batch.py) knows every file and what became of it
(statuses.py). `register_coverage` puts the two side by side: for each register row the files of that
insats for that period, and one state — received, only rejected files, or missing — so that the
Kontroll sheet, the JSON, the command's summary and the web intake's RAR page all say the same.

Matching follows the consolidation's own rule for "the same insats" (statuses.normalise):
the case number when both sides have one, otherwise the name; case and spaces never matter.
A rejected file is matched by what could be read of it (`ReadResult.values`); a file of which
nothing could be read belongs to no insats and is listed as unmatched.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .statuses import Coverage, FileOutcome, Status, normalise

if TYPE_CHECKING:
    from ..reader.register import RegisterRow


@dataclass(frozen=True)
class Identity:
    """What a file or a register row says about which insats and which report it is."""

    case_number: str | None  # normalised (no spaces, case-folded), None when not given
    name: str | None  # normalised, None when not given
    report_number: int | None
    period_end: dt.date | None

    def same_insats(self, other: Identity) -> bool:
        if self.case_number and other.case_number:
            return self.case_number == other.case_number
        return bool(self.name) and self.name == other.name


@dataclass(frozen=True)
class RegisterCoverage:
    """One register row and the files of its insats for its period.

    `accepted` is the file that counts (at most one: the consolidation has superseded the
    others), `superseded` and `rejected` the other files for the same period, `other_periods`
    the insats' files for other reports (earlier ones, or a later one when the register is stale).
    """

    row: int
    case_number: str | None
    initiative_name: str | None
    report_number: int | None
    period_start: dt.date | None
    period_end: dt.date | None
    state: Coverage
    accepted: str | None = None
    superseded: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    other_periods: tuple[str, ...] = ()

    @property
    def reported(self) -> bool:
        return self.state is Coverage.RECEIVED


@dataclass(frozen=True)
class CoverageReport:
    """Every register row's coverage, in register order, and the files that match no row."""

    rows: tuple[RegisterCoverage, ...]
    unmatched: tuple[str, ...]  # files (not lock files) that belong to no insats of the register

    def count(self, state: Coverage) -> int:
        return sum(1 for row in self.rows if row.state is state)

    @property
    def missing(self) -> tuple[RegisterCoverage, ...]:
        """Rows without an accepted report for the period: missing, or only rejected files."""
        return tuple(row for row in self.rows if not row.reported)


# --- identities ------------------------------------------------------------------------------


def _text(value: Any, *, squeeze: bool = False) -> str | None:
    if value is None or isinstance(value, (dict, list, tuple)):
        return None
    text = normalise(value, squeeze=squeeze)
    return text or None


def _number(value: Any) -> int | None:
    """A report number as parsed, or as a rejected file's raw text shows it ('3', ' 3 ', 3.0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def identity(values: dict[str, Any]) -> Identity:
    """The identity of parsed answers, a rejected file's values or a register row's prefill."""
    found = (values.get("case_number"), values.get("initiative_name"), values.get("report_number"),
             values.get("period_end"))
    try:  # the types are part of the key: 1 and True (or 1.0) are equal keys but not equal answers
        return _identity(*found, tuple(map(type, found)))
    except TypeError:  # a value that cannot be a key (a rejected file's odd cell): not kept
        return _identity.__wrapped__(*found, ())


@functools.lru_cache(maxsize=1 << 15)  # RAR's page asks again for the same files after every upload
def _identity(case_number: Any, name: Any, report_number: Any, period_end: Any, _types: tuple) -> Identity:
    return Identity(
        case_number=_text(case_number, squeeze=True),
        name=_text(name),
        report_number=_number(report_number),
        period_end=_date(period_end),
    )


def outcome_identity(outcome: FileOutcome) -> Identity | None:
    """A file's identity from its answers (accepted) or its values (rejected); None when the file
    says nothing about its insats (unreadable, a lock file)."""
    if outcome.status is Status.SKIPPED:
        return None
    found = identity(outcome.answers if outcome.answers is not None else outcome.result.values or {})
    return found if found.case_number or found.name else None


def for_period(row: Identity, file: Identity) -> bool:
    """Is a file of the insats the report the register row expects? The report number when the
    register gives one, else the period's end date, else any report of the insats."""
    if row.report_number is not None:
        return file.report_number == row.report_number
    if row.period_end is not None:
        return file.period_end == row.period_end
    return True


# --- the coverage ----------------------------------------------------------------------------


def register_coverage(outcomes: Sequence[FileOutcome], rows: Sequence[RegisterRow]) -> CoverageReport:
    """For each register row: its files for the period among a consolidation's `outcomes` (its
    `files`) and its state (see Coverage).

    A file that could belong to two rows (two register rows of the same insats) is counted for
    the first row whose period it fits, else for the first row of its insats. The rows are looked
    up by case number and name, so the work grows with files plus rows, not files times rows.
    """
    placed = PlacedFiles(rows)
    for index, outcome in enumerate(outcomes):
        placed.place(index, outcome)
    return placed.report(list(outcomes), range(len(placed.rows)))


class PlacedFiles:
    """Each file's register row, kept by a key of the caller's (a position, a path), so that RAR's
    page can move the few files an upload changed and rebuild only their rows
    (consolidate/file_states.py) where register_coverage places every file each time."""

    def __init__(self, rows: Sequence[RegisterRow]):
        self.rows = rows
        self.wanted = [identity(row.prefill) for row in rows]
        self.candidates = _Candidates(self.wanted)
        self.where: dict[Any, tuple[int, Identity]] = {}  # key → (row index, the file's identity)
        self.mine: dict[int, set[Any]] = {}  # row index → keys of its files
        self.unmatched: set[Any] = set()  # keys of files (not lock files) that belong to no row
        self.coverage: list[RegisterCoverage] = []

    def place(self, key: Any, outcome: FileOutcome) -> int | None:
        """Put a file in its row (or among the unmatched); the row's index."""
        found = outcome_identity(outcome)
        same = self.candidates.of(found) if found is not None else []
        if not same:
            if outcome.status is not Status.SKIPPED:
                self.unmatched.add(key)
            return None
        fitting = [index for index in same if for_period(self.wanted[index], found)]  # type: ignore[arg-type]
        index = (fitting or same)[0]
        self.where[key] = (index, found)  # type: ignore[assignment]
        self.mine.setdefault(index, set()).add(key)
        return index

    def remove(self, key: Any) -> int | None:
        """Take a file out; the index of the row it was in."""
        self.unmatched.discard(key)
        placed = self.where.pop(key, None)
        if placed is None:
            return None
        self.mine[placed[0]].discard(key)
        return placed[0]

    def report(self, outcomes: Any, rows: Iterable[int], order: Callable[[Any], Any] | None = None) -> CoverageReport:
        """The rows `rows` worked out again (the others as the last report had them) from
        `outcomes[key]`; `order` gives a key's place among the files (register_coverage: the key)."""
        if not self.coverage:
            self.coverage = [None] * len(self.rows)  # type: ignore[list-item]
        for index in rows:
            keys = sorted(self.mine.get(index, ()), key=order)
            self.coverage[index] = self._row(index, [(outcomes[key], self.where[key][1]) for key in keys])
        unmatched = tuple(outcomes[key].name for key in sorted(self.unmatched, key=order))
        return CoverageReport(tuple(self.coverage), unmatched)

    def _row(self, index: int, files: list[tuple[FileOutcome, Identity]]) -> RegisterCoverage:
        want = self.wanted[index]
        period = [outcome for outcome, found in files if for_period(want, found)]
        accepted = [o.name for o in period if o.accepted]
        rejected = tuple(o.name for o in period if o.status is Status.REJECTED)
        if accepted:
            state = Coverage.RECEIVED
        elif rejected:
            state = Coverage.REJECTED
        else:
            state = Coverage.MISSING
        prefill = self.rows[index].prefill
        return RegisterCoverage(
            row=self.rows[index].row,
            case_number=prefill.get("case_number"),
            initiative_name=prefill.get("initiative_name"),
            report_number=prefill.get("report_number"),
            period_start=prefill.get("period_start"),
            period_end=prefill.get("period_end"),
            state=state,
            accepted=accepted[0] if accepted else None,
            superseded=tuple(o.name for o in period if o.status is Status.SUPERSEDED),
            rejected=rejected,
            other_periods=tuple(o.name for o, found in files if not for_period(want, found)),
        )


class _Candidates:
    """The register rows of a file's insats, in register order, as Identity.same_insats decides:
    by case number when both have one, else by name."""

    def __init__(self, wanted: Sequence[Identity]):
        self.by_case: dict[str, list[int]] = {}
        self.by_name: dict[str, list[int]] = {}  # every row, by name
        self.by_name_only: dict[str, list[int]] = {}  # rows without a case number, by name
        for index, want in enumerate(wanted):
            if want.case_number:
                self.by_case.setdefault(want.case_number, []).append(index)
            if want.name:
                self.by_name.setdefault(want.name, []).append(index)
                if not want.case_number:
                    self.by_name_only.setdefault(want.name, []).append(index)

    def of(self, found: Identity) -> list[int]:
        if not found.case_number:
            return self.by_name.get(found.name or "", [])
        by_name = self.by_name_only.get(found.name or "", [])
        return sorted([*self.by_case.get(found.case_number, []), *by_name])


__all__ = [
    "Coverage",
    "CoverageReport",
    "Identity",
    "PlacedFiles",
    "RegisterCoverage",
    "for_period",
    "identity",
    "outcome_identity",
    "register_coverage",
]
