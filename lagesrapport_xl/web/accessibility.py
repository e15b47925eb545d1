"""The accessibility statement (tillgänglighetsredogörelse) of the web intake.

DOS-lagen (lag 2018:1937 om tillgänglighet till digital offentlig service) requires a public
body's digital service to publish one, reachable from every page, with the fields Digg lists:
the body and the service, the compliance status (helt, delvis or inte förenlig), the content that
is not accessible and why (also what is claimed as a disproportionate burden, 12 §, and what the
law does not cover, 9 §), how to report shortcomings, the link to Digg's complaint form, the
assessment method, the date of the assessment and of the last review.

The texts are RAR's own: the `[web.accessibility]` table of rar.toml overrides each default here.
The defaults describe this product as it is tested (tests/test_web_a11y.py); RAR adds its
contact details, which the product cannot know.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

DIGG_REPORT_URL = "https://www.digg.se/tdosanmalan"
LAW = "lagen (2018:1937) om tillgänglighet till digital offentlig service"
COMPLIANCE = {"helt": "helt förenlig", "delvis": "delvis förenlig", "inte": "inte förenlig"}
MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
          "november", "december")
ASSESSED = dt.date(2026, 12, 7)  # the self-assessment the defaults describe

SHORTCOMINGS = (
    "Mallen för lägesrapporten, kontrollkopian och sammanställningen är Excel-arbetsböcker. De har inte "
    "granskats mot tillgänglighetskraven (EN 301 549) och har inte provats med skärmläsare. Fel och "
    "varningar i kontrollkopian står som text på bladet Kontroll, inte bara som färg i cellerna.",
    "Webbsidorna har provats automatiskt men inte med skärmläsare eller förstoringsprogram, och inte av "
    "användare med funktionsnedsättning. Automatiska prov hittar bara en del av de brister som kan finnas.",
)
METHOD = (
    "Självskattning (intern testning): varje webbsida i tjänsten provas automatiskt med verktyget axe-core "
    "i webbläsaren Chromium, i 1280 och 320 pixlars bredd, mot kriterierna i WCAG 2.1 nivå AA, och vid "
    "320 pixlar kontrolleras att ingen sida behöver rullas i sidled. Proven körs vid varje ändring av tjänsten."
)
ALTERNATIVE = (
    "Om du inte kan använda webbsidorna eller Excel-mallen kan du kontakta RAR:s kansli, så tar vi emot "
    "lägesrapporten på ett annat sätt, till exempel per telefon eller e-post."
)


@dataclass(frozen=True)
class Statement:
    """The statement's texts; `[web.accessibility]` names the same keys."""

    organisation: str = "Samordningsförbundet RAR i Sörmland"
    service: str = "Lägesrapport till RAR"
    compliance: str = "delvis"  # a key of COMPLIANCE
    shortcomings: tuple[str, ...] = SHORTCOMINGS  # content that does not meet the law, and why
    disproportionate: tuple[str, ...] = ()  # 12 §: adaptations claimed to be a disproportionate burden, and why
    out_of_scope: tuple[str, ...] = ()  # 9 §: content the law does not cover
    alternative: str = ALTERNATIVE  # how to get the service another way
    email: str = ""
    phone: str = ""
    contact_page: str = ""  # an address of RAR's own contact form or page
    method: str = METHOD
    assessed: dt.date = ASSESSED
    reviewed: dt.date = ASSESSED

    @property
    def compliance_text(self) -> str:
        return COMPLIANCE[self.compliance]

    @property
    def has_contact(self) -> bool:
        return bool(self.email or self.phone or self.contact_page)


KEYS = {f.name for f in fields(Statement)}


def swedish_date(day: dt.date) -> str:
    """7 december 2026."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{key} ska vara en text inom citattecken, inte {value!r}.")
    return value.strip()


def _texts(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValueError(f'{key} ska vara en lista med texter, t.ex. {key} = ["…", "…"], inte {value!r}.')
    return tuple(item.strip() for item in value)


def _date(key: str, value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{key} ska vara ett datum som 2026-12-07, inte {value!r}.")


def statement_from(table: Any) -> Statement:
    """The statement with `[web.accessibility]`'s values over the defaults; ValueError (Swedish,
    naming the key) for an unknown key or a value that cannot be used."""
    if table is None:
        return Statement()
    if not isinstance(table, dict):
        raise ValueError("accessibility ska vara en tabell: [web.accessibility].")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise ValueError(f"okända inställningar: {', '.join(unknown)}. Möjliga: {', '.join(sorted(KEYS))}.")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("shortcomings", "disproportionate", "out_of_scope"):
            values[key] = _texts(key, value)
        elif key in ("assessed", "reviewed"):
            values[key] = _date(key, value)
        else:
            values[key] = _text(key, value)
    for key in ("organisation", "service", "method"):
        if key in values and not values[key]:
            raise ValueError(f"{key} får inte vara tom.")
    if values.get("compliance", "delvis") not in COMPLIANCE:
        raise ValueError(f"compliance ska vara {', '.join(COMPLIANCE)}, inte {values['compliance']!r}.")
    email = values.get("email", "")
    if email and ("@" not in email or any(char.isspace() for char in email)):
        raise ValueError(f"email ska vara en e-postadress, inte {email!r}.")
    contact_page = values.get("contact_page", "")
    if contact_page and not contact_page.startswith(("https://", "http://")):
        raise ValueError(f"contact_page ska vara en webbadress som börjar med https://, inte {contact_page!r}.")
    compliance = values.get("compliance", Statement.compliance)
    if compliance == "helt" and "shortcomings" not in values:
        values["shortcomings"] = ()  # the defaults' shortcomings describe a service that is not
    statement = Statement(**values)
    if compliance == "helt" and statement.shortcomings:
        raise ValueError("compliance = \"helt\" men shortcomings räknar upp brister: ta bort dem eller välj \"delvis\".")
    if compliance != "helt" and not statement.shortcomings:
        raise ValueError(f"compliance = \"{compliance}\" kräver att bristerna och skälen räknas upp i shortcomings.")
    if statement.reviewed < statement.assessed:
        raise ValueError(
            f"reviewed ({statement.reviewed}) ligger före assessed ({statement.assessed}): redogörelsen ska "
            "ha uppdaterats efter den senaste bedömningen."
        )
    return statement
