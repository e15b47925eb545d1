"""Find personal data in free-text answers: personnummer, samordningsnummer, e-mail, phone numbers.

RAR must not receive personal data about participants in a Lägesrapport, and coordinators paste
text from case notes. Every hit becomes a warning that asks the coordinator to remove it; the
hit itself is shown masked, so the warning does not spread the data it warns about.

False positives are avoided where the form's own values look similar: dates (2021-12-10,
20211210) lack the four final digits, case numbers (2020-0042) have the wrong shape,
organisation numbers (556677-8899) have a "month" of 20 or more, and a personnummer must pass
the Luhn check and be a real date (day + 60 for a samordningsnummer).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_PNR = re.compile(r"(?<![\w+-])((?:19|20)?\d{6})([-+]?)(\d{4})(?![\w-])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
# +46 / 0046 / 0, then 7–9 more digits (the first never 0: no area code starts with 0) with
# spaces or hyphens between groups; not a stretch of a longer run of digit groups (an IBAN).
_PHONE = re.compile(
    r"(?<![\w+-])(?<!\d[ \u00a0])(?:\+46|0046|0)(?:[ \u00a0-]?\(0\))?[ \u00a0-]?[1-9]"
    r"(?:[ \u00a0-]?\d){6,8}(?![\w-]|[ \u00a0]\d)"
)
_DATE_LIKE = re.compile(r"\d{1,2}[-. ]\d{1,2}[-. ]\d{2,4}")


@dataclass(frozen=True)
class Hit:
    kind: str  # personnummer | samordningsnummer | e-post | telefonnummer
    start: int
    end: int
    masked: str

    @property
    def kind_sv(self) -> str:
        return {"e-post": "en e-postadress"}.get(self.kind, "ett " + self.kind)


def luhn_ok(digits: str) -> bool:
    """The Luhn check of Swedish personnummer, over the ten digits YYMMDDNNNC."""
    total = 0
    for index, char in enumerate(digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return total % 10 == 0


def _is_birth_date(date_digits: str) -> str | None:
    """'personnummer' or 'samordningsnummer' when YYMMDD / YYYYMMDD is a real date, else None."""
    year, month, day = (int(date_digits[:-4]), int(date_digits[-4:-2]), int(date_digits[-2:]))
    kind = "personnummer"
    if day > 60:
        day, kind = day - 60, "samordningsnummer"
    years = [year] if len(date_digits) == 8 else [1900 + year, 2000 + year]
    for candidate in years:
        try:
            dt.date(candidate, month, day)
        except ValueError:
            continue
        return kind
    return None


def _mask(text: str, keep: int = 2) -> str:
    """Keep the first `keep` characters, hide every other letter and digit."""
    return text[:keep] + re.sub(r"[0-9A-Za-zÅÄÖåäö]", "•", text[keep:])


_ASCII_DIGITS = b"0123456789"
_FEWEST_DIGITS = 8  # a phone number has at least 8 digits (0 + 7), a personnummer 10
# Eight digits with at most two other characters between neighbours ("+46 (0)70", "070-123"):
# the shape every phone number and personnummer above has, whatever else the text holds.
_DIGIT_CHAIN = re.compile(r"\d(?:\D{0,2}\d){7}")


def might_hold_personal_data(text: str) -> bool:
    """False only when no pattern above can match: no '@' and no chain of eight digits.

    Answers are long and almost never hold an identifier, and the full patterns cost about
    0.4 ms per 3 000 characters; this test costs a hundredth of that. It is a superset: an
    e-mail address needs '@', every other identifier eight digits close together.
    """
    if "@" in text:
        return True
    try:
        data = text.encode("latin-1")  # cheap, and the Latin-1 range has no digits but 0-9
    except UnicodeEncodeError:
        return _DIGIT_CHAIN.search(text) is not None  # other scripts have other digits: ask \d
    if len(data) - len(data.translate(None, _ASCII_DIGITS)) < _FEWEST_DIGITS:
        return False
    return _DIGIT_CHAIN.search(text) is not None


def find_personal_data(text: str) -> list[Hit]:
    """Every personal identifier in `text`, in order, without overlaps."""
    return _scan(text) if might_hold_personal_data(text) else []


def _scan(text: str) -> list[Hit]:
    """The full search, over any text."""
    hits: list[Hit] = []
    for match in _PNR.finditer(text):
        date_digits, last = match.group(1), match.group(3)
        kind = _is_birth_date(date_digits)
        if kind and luhn_ok(date_digits[-6:] + last):
            hits.append(Hit(kind, match.start(), match.end(), _mask(match.group(0), len(date_digits))))
    for match in _EMAIL.finditer(text):
        hits.append(Hit("e-post", match.start(), match.end(), _mask(match.group(0))))
    for match in _PHONE.finditer(text):
        if not _DATE_LIKE.fullmatch(match.group(0)):
            hits.append(Hit("telefonnummer", match.start(), match.end(), _mask(match.group(0), 3)))
    hits.sort(key=lambda h: (h.start, -h.end))
    kept: list[Hit] = []
    for hit in hits:
        if not kept or hit.start >= kept[-1].end:
            kept.append(hit)
    return kept


def privacy_parts(hits: list[Hit]) -> dict[str, str]:
    """The parts of the personal_data message (common/catalogue.py): the kinds found, the first hits masked."""
    kinds = []
    for hit in hits:
        if hit.kind_sv not in kinds:
            kinds.append(hit.kind_sv)
    found = ", ".join(kinds[:-1]) + (" och " if len(kinds) > 1 else "") + kinds[-1]
    shown = ", ".join(hit.masked for hit in hits[:3]) + (" …" if len(hits) > 3 else "")
    return {"found": found, "shown": shown}
