"""What the web intake knows of each file and the file does not say itself: when it was received
through its insats' link, and RAR's review of it.

A folder alone can only rank copies of a report by what they say (the signing date) and by their
modification time. The intake knows what happened: which bytes came through which insats' link,
and when. Given its account (`Receipts`, read from the server's state folder by web/ and passed
down), the consolidation ranks by receipt instead (the latest received counts; a signing date after
the day of receipt is an error), shows RAR's review of each file on the Kontroll sheet, and with
`approved_only` builds the master's tables from the reports RAR has approved.

Keyed by SHA-256: the same bytes received again are received again, whatever the file is called.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

from ..form.spec import FormSpec
from ..reader.rules import signed_after_receipt
from .statuses import FileOutcome


class Review(str, Enum):
    """RAR's review of a counted report; the values are the Swedish texts shown everywhere."""

    NEW = "Ny"
    APPROVED = "Godkänd"
    SUPPLEMENT = "Komplettering begärd"


NOT_IN_MASTER = "inte med i sammanställningen (bara godkända rapporter)"


@dataclass(frozen=True)
class Receipts:
    """The intake's account: sha256 → the last time those bytes came through their insats' link
    (local time), sha256 → RAR's latest review of them (none: Ny), and each stored file's name in
    the inbox → the name the coordinator sent it under (the master names a file by what was sent,
    with the stored name beside it)."""

    received: Mapping[str, dt.datetime] = field(default_factory=dict)
    reviews: Mapping[str, Review] = field(default_factory=dict)
    approved_only: bool = False
    sent: Mapping[str, str] = field(default_factory=dict)  # read by the tables (tables/base.Context)

    def received_at(self, outcome: FileOutcome) -> dt.datetime | None:
        return self.received.get(outcome.facts.sha256 or "")

    def review_of(self, outcome: FileOutcome) -> Review | None:
        """The review of a counted report (Ny until RAR has said more), or of a file RAR reviewed."""
        review = self.reviews.get(outcome.facts.sha256 or "")
        if review is None and outcome.accepted:
            return Review.NEW
        return review

    def included(self, outcome: FileOutcome) -> bool:
        """Does a counted report go into the master's tables?"""
        return not self.approved_only or self.review_of(outcome) is Review.APPROVED

    def review_text(self, outcome: FileOutcome) -> str | None:
        """The Kontroll sheet's review column."""
        review = self.review_of(outcome)
        if review is None:
            return None
        if outcome.accepted and not self.included(outcome):
            return f"{review.value} – {NOT_IN_MASTER}"
        return review.value


def check_receipt_dates(outcomes: list[FileOutcome], receipts: Receipts, spec: FormSpec) -> None:
    """A report signed after the day it was received is an error (rules.signed_after_receipt):
    a date in the future must not make a file the latest. Files the intake never received (put in
    the folder by hand) are not checked: nothing says when they came."""
    for outcome in outcomes:
        received = receipts.received_at(outcome)
        signed = outcome.facts.signed_date
        if received is None or type(signed) is not dt.date or signed <= received.date():
            continue
        issue = signed_after_receipt(signed, received.date(), spec)
        outcome.result = replace(outcome.result, issues=[*outcome.result.issues, issue])  # rejected now


__all__ = ["NOT_IN_MASTER", "Receipts", "Review", "check_receipt_dates"]
