"""One insats as its link and RAR's page show it: its register row, its template for the coming
period, every upload through its links, the versions of its reports with their status and RAR's
review, and what changed since the version RAR asked to have completed.

The template is the one `lagesrapport template --register R --previous …` would write for the
insats, rolled forward from its latest report *RAR has approved* (template/rollforward.next_for_row),
else pre-filled from the register.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..common.config import TemplateOptions
from ..consolidate.receipts import Review
from ..consolidate.statuses import FileOutcome, Status
from ..form.previous import Previous
from ..reader.register import RegisterRow
from ..template.prefill import template_filename
from ..template.rollforward import RollForwardError, next_for_row
from ..template.writer import write_template
from . import review
from .diff import Change, version, version_changes
from .intake import Intake
from .keys import Insats
from .overview import Overview, register_rows
from .receipt import Outcome, Receipt

BLANK_TEMPLATE = "lagesrapport_mall.xlsx"  # the empty template's name, as the repository has it
NO_APPROVED = (
    "Insatsen har ingen rapport som RAR har godkänt ännu. Mallen är förifylld från RAR:s register, utan "
    "överfört ackumulerat utfall."
)


VERSION_TEXTS = {
    Status.ACCEPTED: "Gäller",
    Status.WARNINGS: "Gäller (med varningar)",
    Status.SUPERSEDED: "Ersatt av en senare uppladdning",
    Status.REJECTED: "Har fel, gäller inte",
    Status.SKIPPED: "Överhoppad",
}


def insatser(rows: list[RegisterRow]) -> list[tuple[Insats, RegisterRow]]:
    """Each insats of the register once, with its first row."""
    seen: dict[str, tuple[Insats, RegisterRow]] = {}
    for row in rows:
        insats = Insats.of(row.prefill)
        if insats is not None and insats.key not in seen:
            seen[insats.key] = (insats, row)
    return list(seen.values())


def find(intake: Intake, key: str) -> tuple[Insats, RegisterRow | None] | None:
    """The insats of an identity key: from the register when it has the insats, else (an insats
    whose link was issued from an earlier register) as the link knows it."""
    rows, _problems = register_rows(intake.settings)
    for insats, row in insatser(rows or []):
        if insats.key == key:
            return insats, row
    with intake.store.connect() as db:
        known = db.execute("SELECT case_number, initiative_name FROM insats_keys WHERE insats = ? ORDER BY id DESC",
                           (key,)).fetchone()
    if known is None:
        return None
    return Insats(key, known["case_number"], known["initiative_name"]), None


# --- the template for the coming period -------------------------------------------------------------


@dataclass(frozen=True)
class TemplatePlan:
    name: str
    prefill: dict[str, Any]
    previous: Previous | None
    notes: tuple[str, ...]


def approved_reports(intake: Intake, insats: Insats) -> list[FileOutcome]:
    """The insats' versions RAR has approved, with their full answers."""
    approved = review.current(intake.store)
    found: dict[str, FileOutcome] = {}
    for receipt in intake.uploads_of(insats.key):
        name = receipt.stored_name
        if name is None or name in found or receipt.outcome is not Outcome.RECEIVED:
            continue
        if approved.get(receipt.sha256 or "") is not Review.APPROVED:
            continue
        result, answers = version(intake, name)
        if answers is not None:
            found[name] = FileOutcome(name=name, result=result, answers=answers, status=Status.ACCEPTED)
    return list(found.values())


def template_plan(intake: Intake, insats: Insats, row: RegisterRow) -> TemplatePlan:
    """What the insats' template for the coming period holds, and its file name."""
    try:
        prefill, previous, notes = next_for_row(row, approved_reports(intake, insats), intake.settings.spec,
                                                none_note=NO_APPROVED)
    except RollForwardError as exc:  # its last report is approved: the register's own template
        prefill, previous, notes = row.prefill, None, [str(exc)]
    return TemplatePlan(template_filename(prefill, row.row, set()), prefill, previous, tuple(notes))


def write_plan(intake: Intake, plan: TemplatePlan, folder: Path, options: TemplateOptions) -> Path:
    return write_template(folder / plan.name, intake.settings.spec, prefill=plan.prefill, previous=plan.previous,
                          options=options)


def write_blank(intake: Intake, folder: Path, options: TemplateOptions) -> Path:
    """The empty template, as `lagesrapport template -o` writes it with the same rar.toml."""
    return write_template(folder / BLANK_TEMPLATE, intake.settings.spec, options=options)


# --- versions and reviews -------------------------------------------------------------------------


@dataclass
class ReportVersion:
    """One stored file of the insats (a version of one report), as RAR's page and the link show it."""

    receipt: Receipt  # its first receipt
    last_received: dt.datetime
    status: Status | None  # what the consolidation made of it (None: no longer in the inbox)
    superseded_reason: str = ""
    review: Review | None = None
    reviews: list[review.ReviewEntry] = field(default_factory=list)
    changes: list[Change] | None = None  # against the version before it, when there is one
    previous: Receipt | None = None  # the version of the same report received before it
    previous_review: Review | None = None

    @property
    def counts(self) -> bool:
        return self.status in (Status.ACCEPTED, Status.WARNINGS)

    @property
    def status_text(self) -> str:
        """What became of the version, in the words of the insats' page."""
        return VERSION_TEXTS.get(self.status, "Finns inte längre i RAR:s inkorg")

    @property
    def asked_to_complete(self) -> bool:
        """The version before this one was sent back (Komplettering begärd)."""
        return self.previous_review is Review.SUPPLEMENT


def versions(intake: Intake, insats: Insats, overview: Overview, *, with_changes: bool = False) -> list[ReportVersion]:
    """The insats' stored versions, newest first; with `with_changes`, what changed in each against
    the version of the same report received before it."""
    receipts = intake.uploads_of(insats.key)
    history = review.history(intake.store, insats=insats.key)
    current = overview.receipts.reviews if overview.receipts else {}
    first: dict[str, Receipt] = {}
    last: dict[str, dt.datetime] = {}
    for receipt in receipts:  # newest first: the last one seen is the first receipt
        if receipt.stored_name is None or receipt.outcome is Outcome.REFUSED:
            continue
        first[receipt.stored_name] = receipt
        last.setdefault(receipt.stored_name, receipt.received)
    found = []
    for name, receipt in first.items():
        outcome = overview.outcomes.get(name)
        entry = ReportVersion(
            receipt=receipt, last_received=last[name], status=outcome.status if outcome else None,
            superseded_reason=outcome.superseded_reason if outcome else "",
            review=current.get(receipt.sha256 or "") or (Review.NEW if outcome and outcome.accepted else None),
            reviews=[h for h in history if h.sha256 == receipt.sha256],
        )
        found.append(entry)
    found.sort(key=lambda v: v.last_received, reverse=True)
    for index, entry in enumerate(found):
        earlier = next((v for v in found[index + 1:] if v.receipt.report_number == entry.receipt.report_number), None)
        if earlier is None:
            continue
        entry.previous = earlier.receipt
        entry.previous_review = earlier.review
        if with_changes:
            entry.changes = version_changes(intake, earlier.receipt.stored_name or "", entry.receipt.stored_name or "")
    return found


@dataclass(frozen=True)
class ReportReview:
    """One report number of the insats: the version that counts (if any), its review, and every
    review of any of its versions, newest first (a comment on a superseded version stays visible)."""

    report_number: int | None
    counted: ReportVersion | None
    history: list[tuple[review.ReviewEntry, str]]  # (the review, the file name it was about)


def report_reviews(shown: list[ReportVersion]) -> list[ReportReview]:
    """The versions (newest first) grouped by report number, the newest report first."""
    numbers = list(dict.fromkeys(v.receipt.report_number for v in shown))
    grouped = []
    for number in numbers:
        mine = [v for v in shown if v.receipt.report_number == number]
        counted = next((v for v in mine if v.counts), None)
        history = sorted(((entry, v.receipt.file_name) for v in mine for entry in v.reviews),
                         key=lambda pair: pair[0].at, reverse=True)
        if counted is not None or history:
            grouped.append(ReportReview(number, counted, history))
    return grouped

