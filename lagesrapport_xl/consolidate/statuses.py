"""What became of each file of a batch: its Status, and which report counts for each insats.

Owns the states the Kontroll sheet, the exports, the command line and the web intake show (Status
for a file, Coverage for a row of RAR's register), FileOutcome (and SpooledOutcome, whose result
and answers wait on disk), the rule for "the same insats" (`normalise`, `assign_insats_keys`, also
used by coverage.py) and the decisions: which copy of a report wins (`decide_statuses`) and what a
report's predecessor in the batch says about it (`compare_with_earlier`). The decisions read a
file's Facts, never more, except `compare_with_earlier`, which reads each report's answers once.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields, replace
from enum import Enum
from typing import Any, NamedTuple

from ..common.issues import Severity
from ..common.memory import Spool
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


class Facts(NamedTuple):
    """What the batch's decisions, the sorting and the Kontroll and Om tables need of a file: a few
    hundred bytes, kept in memory when its result and answers are on disk (SpooledOutcome)."""

    answered: bool  # read without errors: it has answers
    skipped: bool
    ok: bool
    errors: int
    warnings: int
    issues: int
    case_number: Any  # as read: the answer, else the value read of a file with errors
    initiative_name: Any
    report_number: Any
    signed_date: Any  # an answer only
    form_version: str | None
    size: int | None
    modified: dt.datetime | None
    sha256: str | None


def _result_facts(result: ReadResult) -> dict[str, Any]:
    errors = warnings = 0
    for issue in result.issues:
        if issue.severity is Severity.ERROR:
            errors += 1
        elif issue.severity is Severity.WARNING:
            warnings += 1
    return {
        "skipped": result.skipped, "ok": not result.skipped and not errors, "errors": errors,
        "warnings": warnings, "issues": len(result.issues), "form_version": result.form_version,
        "size": result.size, "modified": result.modified, "sha256": result.sha256,
    }


def facts_of(result: ReadResult, answers: dict[str, Any] | None) -> Facts:
    read = answers if answers is not None else result.values or {}
    return Facts(
        answered=answers is not None, case_number=read.get("case_number"),
        initiative_name=read.get("initiative_name"), report_number=read.get("report_number"),
        signed_date=answers.get("signed_date") if answers is not None else None, **_result_facts(result),
    )


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

    @classmethod
    def with_facts(
        cls, name: str, result: ReadResult, answers: dict[str, Any] | None, facts: Facts | None
    ) -> FileOutcome:
        """An outcome whose Facts were worked out before (RAR's page keeps them between builds).
        Made without the dataclass's __init__, whose assignments each pass through __setattr__
        (0.3 s for the 6 400 files of a page build)."""
        outcome = cls.__new__(cls)
        outcome.__dict__.update(_OUTCOME_DEFAULTS, name=name, result=result, answers=answers)
        if facts is not None:
            outcome.__dict__["_known_facts"] = facts
        return outcome

    @property
    def facts(self) -> Facts:
        """The file's Facts, worked out once (again after a new result or answers)."""
        facts = self.__dict__.get("_known_facts")
        if facts is None:
            facts = self.__dict__["_known_facts"] = facts_of(self.result, self.answers)
        return facts

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("result", "answers"):
            self.__dict__.pop("_known_facts", None)
        super().__setattr__(name, value)

    def compared(self, spec: FormSpec) -> dict[str, Any] | None:
        """What compare_with_earlier reads of the answers (compared_keys): here, all of them."""
        return self.answers


_OUTCOME_DEFAULTS = {f.name: f.default for f in fields(FileOutcome) if f.default is not MISSING}


class SpooledOutcome(FileOutcome):
    """A FileOutcome whose result and answers wait in a Spool (a temporary file) and are read again
    at every use; only its Facts stay in memory. A batch of 32 000 reports holds about 1 kB a file
    instead of 30 (consolidate/batch.py). Replacing the result spools the new one. It pickles as a
    plain FileOutcome."""

    def __init__(self, spool: Spool, name: str, result: ReadResult, answers: dict[str, Any] | None, spec: FormSpec):
        self._spool = spool
        self._facts = facts_of(result, answers)
        super().__init__(name=name, result=result, answers=answers)
        compared = None if answers is None else {key: answers.get(key) for key in compared_keys(spec)}
        self._compared = None if compared is None else spool.put(compared)

    @property  # type: ignore[override]
    def result(self) -> ReadResult:
        return self._spool.get(self._result)

    @result.setter
    def result(self, result: ReadResult) -> None:
        self._result = self._spool.put(result)
        self._facts = self._facts._replace(**_result_facts(result))

    @property  # type: ignore[override]
    def answers(self) -> dict[str, Any] | None:
        return None if self._answers is None else self._spool.get(self._answers)

    @answers.setter
    def answers(self, answers: dict[str, Any] | None) -> None:
        self._answers = None if answers is None else self._spool.put(answers)

    @property
    def facts(self) -> Facts:
        return self._facts

    def compared(self, spec: FormSpec) -> dict[str, Any] | None:
        return None if self._compared is None else self._spool.get(self._compared)

    def __reduce__(self) -> tuple[Any, ...]:
        return FileOutcome, (self.name, self.result, self.answers, self.status, self.superseded_by,
                             self.superseded_reason, self.insats)


def normalise(text: Any, *, squeeze: bool = False) -> str:
    """Case and whitespace do not make another insats: ' 2020-0042 ' and '2020-0042' are equal."""
    if isinstance(text, str):
        return _normalised(text, squeeze)
    return _normalise(str(text), squeeze)


def _normalise(text: str, squeeze: bool) -> str:
    return ("" if squeeze else " ").join(text.split()).casefold()


# The same names and case numbers come back on every build of RAR's page (consolidate/file_states.py):
# 6 400 reports normalise 35 000 texts a build.
_normalised = functools.lru_cache(maxsize=1 << 16)(_normalise)


def insats_texts(facts: Facts) -> tuple[str | None, str | None]:
    """A file's case number and name as assign_insats_keys compares them: None where the file gives
    none, else normalised (a text of spaces becomes ""). RAR's page links files by the same texts
    (consolidate/file_states.py), so the two cannot come to differ."""
    case = normalise(facts.case_number, squeeze=True) if facts.case_number else None
    name = normalise(facts.initiative_name) if facts.initiative_name else None
    return case, name


def assign_insats_keys(outcomes: list[FileOutcome]) -> None:
    """Case number when given, else the name; a name that belongs to exactly one case number in the
    batch is counted as that case number (a coordinator who left the number out)."""
    answered = [(outcome, insats_texts(facts)) for outcome in outcomes for facts in [outcome.facts] if facts.answered]
    by_name: dict[str, set[str]] = {}
    for _outcome, (case, name) in answered:
        if case is not None and name is not None:
            by_name.setdefault(name, set()).add(case)
    for outcome, (case, name) in answered:
        if case is not None:
            outcome.insats = ("dnr", case)
        elif len(by_name.get(name or "", ())) == 1:
            outcome.insats = ("dnr", next(iter(by_name[name or ""])))
        else:
            outcome.insats = ("namn", name or "")


def _recency(outcome: FileOutcome) -> tuple[dt.date, dt.datetime, str]:
    facts = outcome.facts
    return facts.signed_date or dt.date.min, facts.modified or dt.datetime.min, outcome.name


Received = Mapping[str, dt.datetime]  # sha256 → when the web intake last received those bytes


def _received(outcome: FileOutcome, received: Received) -> tuple[dt.datetime, str]:
    """When a file came: the intake's receipt time, or (a file put in the folder by hand) its
    modification time; the name settles a tie."""
    when = received.get(outcome.facts.sha256 or "") or outcome.facts.modified or dt.datetime.min
    return when, outcome.name


def decide_statuses(outcomes: list[FileOutcome], received: Received | None = None) -> None:
    """Set each file's status. Among error-free reports of the same insats and report number the
    latest signature date wins, then the latest modification time (then the file name, so that the
    choice never depends on the order of reading).

    With `received` (the web intake's receipt times, consolidate/receipts.py) what happened
    decides instead of what the file says: the latest received wins."""
    for outcome in outcomes:
        facts = outcome.facts
        if facts.skipped:
            outcome.status = Status.SKIPPED
        elif not facts.answered or not facts.ok:
            outcome.status = Status.REJECTED
        else:
            outcome.status = Status.WARNINGS if facts.warnings else Status.ACCEPTED
    assign_insats_keys(outcomes)
    groups: dict[tuple[Any, ...], list[FileOutcome]] = {}
    for outcome in outcomes:
        if outcome.accepted:
            groups.setdefault((outcome.insats, outcome.facts.report_number), []).append(outcome)
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


Compared = dict  # (earlier sha256, later sha256) → the later report's findings against the earlier


def compare_with_earlier(outcomes: list[FileOutcome], spec: FormSpec, compared: Compared | None = None) -> None:
    """Each accepted report against the accepted report before it of the same insats in the batch
    (the highest lower number), by the rules a rolled-forward file is checked with against the
    report it carries (rules.check_previous): a warning on the later report names the earlier file.
    A rule the file's own check already gave for the same answer is not repeated. Each report's
    answers are read once (they may be on disk: SpooledOutcome).

    `compared` keeps the findings of each pair of contents from one call to the next (RAR's page is
    built again after every upload, and most pairs are the same); without it nothing is kept."""
    by_insats: dict[Any, list[FileOutcome]] = {}
    for outcome in outcomes:
        if outcome.accepted:
            by_insats.setdefault(outcome.insats, []).append(outcome)
    kept: Compared = {}
    for reports in by_insats.values():
        if len(reports) < 2:
            continue
        reports.sort(key=lambda o: o.facts.report_number)
        earlier, earlier_answers = reports[0], None
        for later in reports[1:]:
            pair = (earlier.facts.sha256, later.facts.sha256, earlier.name)
            found = compared.get(pair) if compared is not None and None not in pair[:2] else None
            later_answers = None
            if found is None:
                if earlier_answers is None:
                    earlier_answers = earlier.compared(spec)
                later_answers = later.compared(spec)
                findings = Findings(spec, {})
                check_previous(later_answers, Previous.of(earlier_answers, spec, earlier.name), findings, rolled=False)
                found = findings.issues
            kept[pair] = found
            if found:
                result = later.result
                given = {(issue.code, issue.field) for issue in result.issues}
                new = [issue for issue in found if (issue.code, issue.field) not in given]
                if new:
                    later.result = replace(result, issues=[*result.issues, *new])
                    later.status = Status.WARNINGS  # accepted still: check_previous warns in a batch
            earlier, earlier_answers = later, later_answers
    if compared is not None:
        compared.clear()
        compared.update(kept)


@functools.cache
def compared_keys(spec: FormSpec) -> tuple[str, ...]:
    """The answers check_previous reads of a report and of the one before it."""
    return ("report_number", "period_start", "period_end", *spec.carried)


def _superseded_reason(loser: FileOutcome, winner: FileOutcome) -> str:
    new, old = _recency(winner), _recency(loser)
    number = loser.facts.report_number
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
        how = "togs emot" if outcome.facts.sha256 in received else "ändrades (lades inte in genom servern)"
        return f"{how} {moment:%Y-%m-%d %H:%M:%S}"

    why = (f"den {when(winner, new[0])}, den här filen {when(loser, old[0])}" if new[0] != old[0]
           else "båda togs emot samtidigt; filnamnet avgjorde")
    return (f"Samma insats och lägesrapport nr {number} finns i {winner.name}, som gäller eftersom den senast "
            f"mottagna gäller: {why}.")

