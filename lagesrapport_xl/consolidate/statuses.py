"""What became of each file of a batch: its Status, and which report counts for each insats.

Owns the states the Kontroll sheet, the exports, the command line and the web intake show (Status
for a file, Coverage for a row of RAR's register), FileOutcome, the rule for "the same insats"
(`normalise`, `assign_insats_keys`, also used by coverage.py) and the decisions: which copy of a
report wins (`decide_statuses`) and what a report's predecessor in the batch says about it
(`compare_with_earlier`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from ..form.previous import Previous
from ..form.spec import FormSpec
from ..reader.result import ReadResult
from ..reader.rules import Findings, check_previous


class Status(str, Enum):
    """What became of one input file; the values are the Swedish texts of the Kontroll sheet."""

    ACCEPTED = "Godkänd"
    WARNINGS = "Godkänd med varningar"
    SUPERSEDED = "Ersatt"
    REJECTED = "Avvisad"
    SKIPPED = "Överhoppad"


STATUS_PLURAL = {
    Status.ACCEPTED: "Godkända",
    Status.WARNINGS: "Godkända med varningar",
    Status.SUPERSEDED: "Ersatta (dubbletter)",
    Status.REJECTED: "Avvisade",
    Status.SKIPPED: "Överhoppade (låsfiler)",
}


class Coverage(str, Enum):
    """What one row of RAR's register got for its period (coverage.py); the values are the
    Swedish texts of the Kontroll sheet."""

    RECEIVED = "Inkommen"
    REJECTED = "Bara avvisade filer"
    MISSING = "Saknas"


COVERAGE_PLURAL = {
    Coverage.RECEIVED: "Inkomna",
    Coverage.REJECTED: "Bara avvisade filer",
    Coverage.MISSING: "Saknas",
}


@dataclass
class FileOutcome:
    """One input file and what became of it."""

    name: str  # relative path shown in the master
    result: ReadResult  # without its model (see parallel.read_one)
    answers: dict[str, Any] | None  # the validated answers of an error-free report
    status: Status = Status.REJECTED
    superseded_by: str | None = None
    superseded_reason: str = ""
    insats: tuple[str, str] | None = None  # ("dnr" | "namn", normalised text)

    @property
    def accepted(self) -> bool:
        return self.status in (Status.ACCEPTED, Status.WARNINGS)


def normalise(text: Any, *, squeeze: bool = False) -> str:
    """Case and whitespace do not make another insats: ' 2020-0042 ' and '2020-0042' are equal."""
    words = str(text).split()
    return ("" if squeeze else " ").join(words).casefold()


def assign_insats_keys(outcomes: list[FileOutcome]) -> None:
    """Case number when given, else the name; a name that belongs to exactly one case number in the
    batch is counted as that case number (a coordinator who left the number out)."""
    by_name: dict[str, set[str]] = {}
    for outcome in outcomes:
        if outcome.answers is None:
            continue
        case, name = outcome.answers.get("case_number"), outcome.answers.get("initiative_name")
        if case and name:
            by_name.setdefault(normalise(name), set()).add(normalise(case, squeeze=True))
    for outcome in outcomes:
        if outcome.answers is None:
            continue
        case, name = outcome.answers.get("case_number"), outcome.answers.get("initiative_name") or ""
        if case:
            outcome.insats = ("dnr", normalise(case, squeeze=True))
        elif len(by_name.get(normalise(name), ())) == 1:
            outcome.insats = ("dnr", next(iter(by_name[normalise(name)])))
        else:
            outcome.insats = ("namn", normalise(name))


def _recency(outcome: FileOutcome) -> tuple[dt.date, dt.datetime, str]:
    answers = outcome.answers or {}
    return (
        answers.get("signed_date") or dt.date.min,
        outcome.result.modified or dt.datetime.min,
        outcome.name,
    )


Received = Mapping[str, dt.datetime]  # sha256 → when the web intake last received those bytes


def _received(outcome: FileOutcome, received: Received) -> tuple[dt.datetime, str]:
    """When a file came: the intake's receipt time, or (a file put in the folder by hand) its
    modification time; the name settles a tie."""
    when = received.get(outcome.result.sha256 or "") or outcome.result.modified or dt.datetime.min
    return when, outcome.name


def decide_statuses(outcomes: list[FileOutcome], received: Received | None = None) -> None:
    """Set each file's status. Among error-free reports of the same insats and report number the
    latest signature date wins, then the latest modification time (then the file name, so that the
    choice never depends on the order of reading).

    With `received` (the web intake's receipt times, consolidate/receipts.py) what happened
    decides instead of what the file says: the latest received wins."""
    for outcome in outcomes:
        if outcome.result.skipped:
            outcome.status = Status.SKIPPED
        elif outcome.answers is None or not outcome.result.ok:
            outcome.status = Status.REJECTED
        else:
            outcome.status = Status.WARNINGS if outcome.result.warnings else Status.ACCEPTED
    assign_insats_keys(outcomes)
    groups: dict[tuple[Any, ...], list[FileOutcome]] = {}
    for outcome in outcomes:
        if outcome.accepted:
            groups.setdefault((outcome.insats, outcome.answers["report_number"]), []).append(outcome)
    for group in groups.values():
        if len(group) < 2:
            continue
        if received is None:
            winner = max(group, key=_recency)
        else:
            winner = max(group, key=lambda o: _received(o, received))
        for loser in group:
            if loser is winner:
                continue
            loser.status = Status.SUPERSEDED
            loser.superseded_by = winner.name
            if received is None:
                loser.superseded_reason = _superseded_reason(loser, winner)
            else:
                loser.superseded_reason = _superseded_by_receipt(loser, winner, received)


def compare_with_earlier(outcomes: list[FileOutcome], spec: FormSpec) -> None:
    """Each accepted report against the accepted report before it of the same insats in the batch
    (the highest lower number), by the rules a rolled-forward file is checked with against the
    report it carries (rules.check_previous): a warning on the later report names the earlier file.
    A rule the file's own check already gave for the same answer is not repeated."""
    by_insats: dict[Any, list[FileOutcome]] = {}
    for outcome in outcomes:
        if outcome.accepted:
            by_insats.setdefault(outcome.insats, []).append(outcome)
    for reports in by_insats.values():
        reports.sort(key=lambda o: o.answers["report_number"])
        for earlier, later in zip(reports, reports[1:]):
            findings = Findings(spec, {})
            previous = Previous.of(earlier.answers, spec, earlier.name)
            check_previous(later.answers, previous, findings, rolled=False)
            given = {(issue.code, issue.field) for issue in later.result.issues}
            new = [issue for issue in findings.issues if (issue.code, issue.field) not in given]
            if new:
                later.result = replace(later.result, issues=[*later.result.issues, *new])
                later.status = Status.WARNINGS  # accepted still: check_previous warns in a batch


def _superseded_reason(loser: FileOutcome, winner: FileOutcome) -> str:
    new, old = _recency(winner), _recency(loser)
    number = (loser.answers or {}).get("report_number")
    if new[0] != old[0]:
        why = f"den har ett senare underskriftsdatum ({new[0].isoformat()} mot {old[0].isoformat()})"
    elif new[1] != old[1]:
        why = "den har samma underskriftsdatum men ändrades senare"
    else:
        why = "båda har samma datum; filnamnet avgjorde"
    return f"Samma insats och lägesrapport nr {number} finns i {winner.name}, som gäller eftersom {why}."


def _superseded_by_receipt(loser: FileOutcome, winner: FileOutcome, received: Received) -> str:
    number = (loser.answers or {}).get("report_number")
    new, old = _received(winner, received), _received(loser, received)

    def when(outcome: FileOutcome, moment: dt.datetime) -> str:
        how = "togs emot" if outcome.result.sha256 in received else "ändrades (lades inte in genom servern)"
        return f"{how} {moment:%Y-%m-%d %H:%M:%S}"

    why = (f"den {when(winner, new[0])}, den här filen {when(loser, old[0])}" if new[0] != old[0]
           else "båda togs emot samtidigt; filnamnet avgjorde")
    return (f"Samma insats och lägesrapport nr {number} finns i {winner.name}, som gäller eftersom den senast "
            f"mottagna gäller: {why}.")

