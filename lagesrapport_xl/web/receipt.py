"""The receipt: what a coordinator is told of one upload, and what the log keeps of it (as JSON).

An upload is either *submitted* (through its insats' link: stored in the inbox when it is RAR's
form) or only *checked* (the open page "Kontrollera din fil", the API without a key: the same
check and the same receipt, but nothing reaches RAR). The verdict and the advice say which.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..common.issues import Severity, shown_value
from ..reader.safety import size_text  # sizes as safety's own messages write them: '20 MB', '51 kB'


class Outcome(str, Enum):
    RECEIVED = "received"  # RAR's form without errors (warnings allowed): in the inbox if submitted
    HAS_ERRORS = "has_errors"  # RAR's form with errors: in the inbox if submitted, rejected until corrected
    REFUSED = "refused"  # not in the inbox


VERDICTS = {
    Outcome.RECEIVED: "RAR har tagit emot rapporten.",
    Outcome.HAS_ERRORS: "RAR har tagit emot filen, men den har fel som måste rättas.",
    Outcome.REFUSED: "Filen togs inte emot.",
}
CHECK_VERDICTS = {
    Outcome.RECEIVED: "Filen är kontrollerad: inga fel.",
    Outcome.HAS_ERRORS: "Filen är kontrollerad: den har fel som måste rättas.",
    Outcome.REFUSED: "Filen kunde inte kontrolleras.",
}
NOT_SENT = (
    "Filen har inte skickats till RAR: den här sidan kontrollerar bara. Skicka rapporten från din insats "
    "egen sida (länken i RAR:s utskick)."
)

# Messages for uploads that never reach the reader.
NO_FILE = "Ingen fil kom med. Välj din ifyllda Lägesrapport (.xlsx) och tryck Skicka."
BAD_FORM = "Uppladdningen gick inte att läsa. Välj filen igen och tryck Skicka."
STORAGE_FAILED = "RAR:s server kunde inte spara filen just nu. Försök igen om en stund; kvarstår felet, kontakta RAR:s kansli."
EXPIRED_FORM = (
    "Sidan har varit öppen för länge eller kom inte från RAR:s webbplats, så filen togs inte emot. "
    "Ladda om sidan och skicka filen igen."
)
BAD_KEY = (
    "Länken gäller inte (den är fel, eller RAR har återkallat den och skickat en ny). Ingenting togs emot. "
    "Använd länken i RAR:s senaste utskick, eller fråga RAR:s kansli."
)


# Uploads a limit stopped before they were read (web/limits.py): the receipt says to wait, not to fix the file.
LIMIT_CODES = ("too_many_uploads", "too_many_for_link", "too_many_bytes")
LIMIT_ADVICE = ("För många uppladdningar på kort tid: RAR:s server tog inte emot filen och läste den inte. "
                "Vänta och försök igen; hur länge står nedan.")


def too_large_message(limit_bytes: int) -> str:
    return (
        f"Filen är större än {size_text(limit_bytes)} och togs inte emot. En ifylld Lägesrapport är högst "
        "några hundra kB: kontrollera att du har valt rätt fil."
    )


def shown_values(result: Any) -> tuple[str, ...]:
    """Each issue's value as the lists show it beside its message (common/issues.shown_value)."""
    return tuple(shown_value(issue.value) for issue in result.issues)


@dataclass(frozen=True)
class Receipt:
    """What the coordinator is told, and what the log keeps of it (as JSON)."""

    token: str
    received: dt.datetime  # local time, with its offset
    file_name: str
    outcome: Outcome
    result: dict[str, Any]  # ReadResult.to_json(): every issue, as `validate --format json`
    size: int | None = None
    sha256: str | None = None
    stored_name: str | None = None  # its file in the inbox (never shown to coordinators: see app.py)
    case_number: str | None = None
    initiative_name: str | None = None
    report_number: int | None = None
    already_received: dt.datetime | None = None  # these bytes came before and were stored then
    supersedes: tuple[str, ...] = ()  # earlier uploads of the same insats and report it replaces
    superseded_by: str | None = None  # a stored upload that counts instead
    superseded_reason: str = ""
    annotated: bool = False  # an annotated copy can be downloaded
    code: str | None = None  # why it was refused, for statistics
    submitted: bool = True  # through an insats' link (False: only checked, nothing reached RAR)
    insats: str | None = None  # the link's insats, as RAR's register names it
    shown: tuple[str, ...] = ()  # each issue's value as the receipt lists it: '30 000 kr' where the JSON has 30000

    @property
    def verdict(self) -> str:
        return (VERDICTS if self.submitted else CHECK_VERDICTS)[self.outcome]

    @property
    def advice(self) -> str:
        """What to do now, in one or two plain sentences."""
        if self.code in LIMIT_CODES:
            return LIMIT_ADVICE
        if not self.submitted:
            return NOT_SENT
        if self.outcome is Outcome.REFUSED:
            return "Ingen rapport har lämnats in till RAR. Läs varför nedan, åtgärda det och skicka filen igen."
        if self.outcome is Outcome.HAS_ERRORS:
            return (
                "Filen är sparad hos RAR, men rapporten räknas inte som inkommen förrän felen är rättade. "
                "Rätta felen i din fil (listan nedan; kontrollkopian visar dem i Excel) och skicka den igen."
            )
        warnings = self.count(Severity.WARNING)
        if warnings:
            return (
                f"Kontrollen hittade inga fel men {warnings} {'varning' if warnings == 1 else 'varningar'}. "
                "Rapporten räknas som inkommen. Läs varningarna: stämmer något inte, rätta filen och skicka den igen."
            )
        return "Kontrollen hittade inga fel. Rapporten räknas som inkommen; du behöver inte göra något mer."

    @property
    def issues(self) -> list[dict[str, Any]]:
        return self.result.get("issues", [])

    def count(self, severity: Severity) -> int:
        return sum(1 for issue in self.issues if issue["severity"] == severity.value)

    def to_json(self) -> dict[str, Any]:
        """The receipt as the log and the API keep it. Its fields one level deep, not asdict's deep
        copy of the whole result (8 % of the server's interpreter under uploads, by py-spy): the
        result is only encoded, never changed."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["outcome"] = self.outcome.value
        data["verdict"] = self.verdict
        for key in ("received", "already_received"):
            data[key] = data[key].isoformat() if data[key] else None
        data["supersedes"] = list(self.supersedes)
        data["shown"] = list(self.shown)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Receipt:
        values = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        values["outcome"] = Outcome(values["outcome"])
        values["supersedes"] = tuple(values.get("supersedes", ()))
        values["shown"] = tuple(values.get("shown", ()))
        for key in ("received", "already_received"):
            values[key] = dt.datetime.fromisoformat(values[key]) if values.get(key) else None
        return cls(**values)
