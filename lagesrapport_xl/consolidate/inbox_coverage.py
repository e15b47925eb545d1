"""Who has reported when RAR has no register: one row per insats and report number found in the
inbox, with the files placed in the rows as register_coverage places files in a register's rows.

`inbox_coverage` works it out for a batch. `InboxCoverage` keeps it from one build of RAR's page
to the next (consolidate/file_states.py): a row and the files placed in it depend only on the files
of the same insats (by case number or name), so a build works out again only the rows of the files
whose outcomes changed, and of every file linked to them, and sorts the rows. An upload then costs
the rows of its own insats, not the inbox (the page without a register took 0.4 s a build at 6 400
reports, most of it here). The answer is the batch's (tests/test_web_cache.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..reader.register import RegisterRow
from .coverage import (
    CoverageReport,
    Identity,
    PlacedFiles,
    RegisterCoverage,
    outcome_identity,
    register_coverage,
)
from .statuses import FileOutcome

RowKey = tuple[str, Any]  # (the case number, else the name; the report number)


def _row_of(outcome: FileOutcome) -> tuple[RowKey, dict[str, Any]] | None:
    """The row a file asks for (its key, and the row's values from the file), None when the file
    says nothing about its insats."""
    found = outcome_identity(outcome)
    if found is None:
        return None
    values = outcome.answers if outcome.answers is not None else outcome.result.values or {}
    dates = {k: values.get(k) for k in ("period_start", "period_end") if isinstance(values.get(k), dt.date)}
    return _key(found), {"case_number": values.get("case_number"), "initiative_name": values.get("initiative_name"),
                         "report_number": found.report_number, **dates}


def _key(found: Identity) -> RowKey:
    return (found.case_number or found.name or "", found.report_number)


def _order(key: RowKey, prefill: Mapping[str, Any]) -> tuple[Any, ...]:
    """Rows without a readable report number last (they fit any report of their insats), else by name."""
    return (key[1] is None, str(prefill["initiative_name"] or "").casefold(), key[0], key[1] or 0)


def _wanted_rows(outcomes: Iterable[FileOutcome]) -> list[tuple[RowKey, dict[str, Any]]]:
    """The rows `outcomes` ask for, in order, each with the values of the first file that asks for it."""
    rows: dict[RowKey, dict[str, Any]] = {}
    for outcome in outcomes:
        wanted = _row_of(outcome)
        if wanted is not None:
            rows.setdefault(*wanted)
    return sorted(rows.items(), key=lambda item: _order(*item))


def inbox_rows(outcomes: Iterable[FileOutcome]) -> list[RegisterRow]:
    """One pseudo register row per insats and report number among `outcomes` (by the files' own
    answers, or what could be read of a rejected file), so that register_coverage can decide the
    states as it does for RAR's register."""
    return [RegisterRow(index, prefill) for index, (_key, prefill) in enumerate(_wanted_rows(outcomes), start=1)]


def _links(found: Identity | None) -> list[tuple[str, str]]:
    """What ties a file to the rows it may be placed in and the files that ask for them: its row's
    key text, its case number and its name (_Candidates looks rows up by the last two)."""
    if found is None:
        return []
    links = [("rad", found.case_number or found.name or "")]
    if found.case_number:
        links.append(("dnr", found.case_number))
    if found.name:
        links.append(("namn", found.name))
    return links


@dataclasses.dataclass
class _Row:
    order: tuple[Any, ...]
    coverage: RegisterCoverage


class InboxCoverage:
    """inbox_coverage kept between builds; files are known by a key of the caller's (a path)."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.rows: dict[RowKey, _Row] = {}
        self.asks: dict[str, RowKey] = {}  # file → the row it asks for (every row has a file that asks for it)
        self.placed: dict[str, RowKey] = {}  # file → the row it is placed in
        self.links: dict[str, list[tuple[str, str]]] = {}  # file → its links
        self.linked: dict[tuple[str, str], set[str]] = {}  # link → files
        self.unmatched: set[str] = set()
        self.ordered: list[RowKey] | None = None  # the rows in the last report's order
        self.numbers: dict[RowKey, int] = {}  # row → its index in it
        self.worked = 0  # files whose rows the last update worked out again (tests)

    def update(self, outcomes: Mapping[str, FileOutcome], changed: Iterable[str] | None,
               order: Callable[[str], Any]) -> CoverageReport:
        """The coverage of `outcomes` (key → outcome), given that only the files `changed` (new,
        gone or decided again; None: any) differ from the last update's. `order(key)` is a file's
        place in the batch."""
        if changed is None:
            self._reset()
            changed = outcomes.keys()
        todo = self._linked_to(set(changed), outcomes)
        gone: dict[RowKey, tuple[Any, ...]] = {}
        for key in todo:  # their rows go: every file that asks for one of them is in `todo`
            asked = self.asks.pop(key, None)
            if asked is not None and asked in self.rows:
                gone[asked] = self.rows.pop(asked).order
            self.placed.pop(key, None)
            self.unmatched.discard(key)
        mine = sorted((key for key in todo if key in outcomes), key=order)
        wanted = _wanted_rows(outcomes[key] for key in mine)
        placed = PlacedFiles([RegisterRow(index, prefill) for index, (_key, prefill) in enumerate(wanted, start=1)])
        for key in mine:
            index = placed.place(key, outcomes[key])
            if index is not None:
                self.placed[key] = wanted[index][0]
                self.asks[key] = _key(placed.where[key][1])
        report = placed.report(outcomes, range(len(wanted)), order)
        came = {}
        for (row_key, prefill), coverage in zip(wanted, report.rows):
            self.rows[row_key] = _Row(_order(row_key, prefill), coverage)
            came[row_key] = self.rows[row_key].order
        self.unmatched |= placed.unmatched
        self.worked = len(mine)
        if came != gone or self.ordered is None:  # rows came, went or moved: sorted again
            self.ordered = sorted(self.rows, key=lambda row_key: self.rows[row_key].order)
            self.numbers = {row_key: index for index, row_key in enumerate(self.ordered)}
        for row_key in came if came == gone else self.ordered:
            row, number = self.rows[row_key], self.numbers[row_key] + 1
            if row.coverage.row != number:  # a new object only where the number is new
                row.coverage = dataclasses.replace(row.coverage, row=number)
        unmatched = tuple(outcomes[key].name for key in sorted(self.unmatched, key=order))
        return CoverageReport(tuple(self.rows[row_key].coverage for row_key in self.ordered), unmatched)

    def row_of(self, key: str) -> int | None:
        """The index of the row a file is placed in, in the last report."""
        row = self.placed.get(key)
        return self.numbers.get(row) if row is not None else None

    def _linked_to(self, changed: set[str], outcomes: Mapping[str, FileOutcome]) -> set[str]:
        """`changed` and every file tied to them, by their links before and after the change."""
        queue: list[tuple[str, str]] = []
        for key in changed:
            queue.extend(self._unlink(key))
            if key in outcomes:
                links = _links(outcome_identity(outcomes[key]))
                self.links[key] = links
                for link in links:
                    self.linked.setdefault(link, set()).add(key)
                queue.extend(links)
        todo, done = set(changed), set()
        while queue:
            link = queue.pop()
            if link in done:
                continue
            done.add(link)
            for key in self.linked.get(link, ()):
                if key not in todo:
                    todo.add(key)
                    queue.extend(self.links[key])
        return todo

    def _unlink(self, key: str) -> list[tuple[str, str]]:
        links = self.links.pop(key, [])
        for link in links:
            keys = self.linked.get(link)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.linked[link]
        return links

def inbox_coverage(outcomes: Sequence[FileOutcome]) -> CoverageReport:
    """The coverage of a batch without a register: register_coverage over inbox_rows, as RAR's page
    worked it out before InboxCoverage (tests/test_inbox_coverage.py holds the two to each other)."""
    return register_coverage(outcomes, inbox_rows(outcomes))
