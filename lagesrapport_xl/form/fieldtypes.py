"""Every kind of answer, declared once: Excel validation, number format, parser and Swedish texts.

Fields in form.toml refer to these by name (like XLSForm's question types), so the template's
dropdowns and the reader's messages can never disagree about what a cell accepts.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

EXCEL_EPOCH = dt.date(1899, 12, 30)
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
MAX_CELL_TEXT = 32_767  # Excel's limit for the text of one cell
MAX_AMOUNT = Decimal(1_000_000_000)
MAX_COUNT = 1_000_000  # the template's validation limit for numbers of participants
MAX_REPORT_NUMBER = 99
MAX_NUMBER_TEXT = 40  # longer "numbers" are refused before int() (Python refuses > 4300 digits)

# Every kind of space a keyboard, Word or a bank statement puts between digit groups.
_SPACES = "\u0020\u00a0\u2007\u2009\u202f\t"


class ValueProblem(ValueError):
    """A value that cannot be read without guessing; `message` is plain Swedish for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def is_blank(value: Any) -> bool:
    """Empty cells and cells holding only spaces count as not answered."""
    return value is None or (isinstance(value, str) and value.strip(_SPACES + "\r\n") == "")


def _shown(value: Any) -> str:
    """The value as the user would recognise it in a message (Swedish decimal comma, SANT)."""
    if isinstance(value, bool):
        return "SANT" if value else "FALSKT"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            value = int(value)
        else:
            value = (f"{value:g}" if abs(value) >= 1e15 else repr(value)).replace(".", ",")
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


# --- parsers ---------------------------------------------------------------------------------


def parse_text(value: Any) -> str:
    """Text as typed. Never trimmed: leading spaces or line breaks are the coordinator's own."""
    if isinstance(value, bool):  # a logical value in a text answer: what Swedish Excel shows
        return "SANT" if value else "FALSKT"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if len(text) > MAX_CELL_TEXT:
        raise ValueProblem(
            f"Texten är {len(text)} tecken lång; en cell rymmer högst {MAX_CELL_TEXT}. Korta svaret."
        )
    return text


_DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?"), "ymd"),
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), "ymd"),
    (re.compile(r"(\d{2})(\d{2})(\d{2})"), "yymmdd"),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), "dmy"),
    (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})"), "dmy"),
]
DATE_HINT = "Skriv datumet som ÅÅÅÅ-MM-DD, t.ex. 2021-12-10."


def _make_date(year: int, month: int, day: int, typed: str) -> dt.date:
    try:
        value = dt.date(year, month, day)
    except ValueError:
        raise ValueProblem(f"Datumet {typed} finns inte i kalendern. {DATE_HINT}") from None
    return _check_date_range(value, typed)


def _check_date_range(value: dt.date, typed: str) -> dt.date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueProblem(
            f"Datumet {typed} ligger utanför {EARLIEST_DATE.year}–{LATEST_DATE.year}. {DATE_HINT}"
        )
    return value


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time():
            raise ValueProblem(f"Cellen innehåller ett klockslag ({_shown(value)}). {DATE_HINT}")
        value = value.date()
    if isinstance(value, dt.date):
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            typed = _typed_digits(value)
            if typed is not None:
                return typed
        return _check_date_range(value, value.isoformat())
    if isinstance(value, bool):
        raise ValueProblem(f"{_shown(value)} är inte ett datum. {DATE_HINT}")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not value.is_integer():
            raise ValueProblem(f"{_shown(value)} är inte ett datum. {DATE_HINT}")
        number = int(value)
        digits = str(number)
        if len(digits) in (6, 8):  # typed as 211210 or 20211210 into a number cell
            return parse_date(digits)
        serial_min = (EARLIEST_DATE - EXCEL_EPOCH).days
        serial_max = (LATEST_DATE - EXCEL_EPOCH).days
        if serial_min <= number <= serial_max:  # an Excel date without a date format
            return EXCEL_EPOCH + dt.timedelta(days=number)
        raise ValueProblem(f"{_shown(value)} är inte ett datum. {DATE_HINT}")
    text = str(value).strip(_SPACES)
    for pattern, order in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        a, b, c = (int(g) for g in match.groups())
        if order == "ymd":
            return _make_date(a, b, c, text)
        if order == "yymmdd":
            return _make_date(2000 + a, b, c, text)
        return _make_date(c, b, a, text)
    raise ValueProblem(f"”{_shown(value)}” är inte ett datum. {DATE_HINT}")


def _typed_digits(value: dt.date) -> dt.date | None:
    """211210 typed into a date cell is stored as day number 211210 and shown as 2478-04-08;
    the person meant the digits they typed. Only a valid date in range is taken."""
    serial = (value - EXCEL_EPOCH).days
    if len(str(serial)) != 6:
        return None
    try:
        return parse_date(str(serial))
    except ValueProblem:
        return None


_WHOLE = re.compile(r"\d{1,3}(?:[" + _SPACES + r"]\d{3})+|\d+")
COUNT_HINT = "Skriv ett heltal, t.ex. 12."


def _whole_number(value: Any, hint: str) -> int:
    """A whole number of any sign from a cell; never rounds, never reads '1.234' or 'ca 40'."""
    if isinstance(value, bool) or isinstance(value, (dt.date, dt.time, dt.timedelta)):
        raise ValueProblem(f"{_shown(value)} är inte ett heltal. {hint}")
    if isinstance(value, float):
        if not value.is_integer():  # also nan and inf
            raise ValueProblem(f"{_shown(value)} är inte ett heltal. {hint}")
        value = int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip(_SPACES)
    sign = 1
    if text.startswith(("-", "−")):
        sign, text = -1, text[1:].strip(_SPACES)
    if len(text) > MAX_NUMBER_TEXT or not _WHOLE.fullmatch(text):
        if "," in text and _WHOLE.fullmatch(text.replace(",", "")):
            raise ValueProblem(
                f"”{_shown(value)}” är inte ett heltal (antal har inga decimaler). {hint}"
            )
        raise ValueProblem(f"”{_shown(value)}” är inte ett heltal. {hint}")
    return sign * int(re.sub(f"[{_SPACES}]", "", text))


def parse_count(value: Any) -> int:
    """A whole number of participants, 0 to MAX_COUNT."""
    number = _whole_number(value, COUNT_HINT)
    if number < 0:
        raise ValueProblem(f"Antalet kan inte vara negativt ({_shown(value)}). {COUNT_HINT}")
    if number > MAX_COUNT:
        raise ValueProblem(f"Antalet {_shown(value)} är orimligt stort. {COUNT_HINT}")
    return number


REPORT_NUMBER_HINT = "Skriv ett heltal från 1, t.ex. 2."


def parse_report_number(value: Any) -> int:
    number = _whole_number(value, REPORT_NUMBER_HINT)
    if number < 1:
        raise ValueProblem("Numret måste vara minst 1. Skriv t.ex. 1 för den första rapporten.")
    if number > MAX_REPORT_NUMBER:
        raise ValueProblem(
            f"Numret {_shown(value)} är för stort (högst {MAX_REPORT_NUMBER}). {REPORT_NUMBER_HINT}"
        )
    return number


_YES = {"ja"}
_NO = {"nej"}
YES_NO_HINT = "Välj Ja eller Nej i listan."


def parse_yes_no(value: Any) -> str:
    if isinstance(value, str):
        word = value.strip(_SPACES + ".!").lower()
        if word in _YES:
            return "Ja"
        if word in _NO:
            return "Nej"
    raise ValueProblem(f"”{_shown(value)}” är inte Ja eller Nej. {YES_NO_HINT}")


_AMOUNT = re.compile(
    r"(?P<sign>[-−])?(?P<int>\d{1,3}(?:[" + _SPACES + r"]\d{3})+|\d+)(?:,(?P<dec>\d{1,2}))?"
)
_CURRENCY = re.compile(r"[" + _SPACES + r"]*(?:kr\.?|kronor|sek|:-)$", re.IGNORECASE)
_THREE_DECIMALS = re.compile(r"\d,\d{3}(?!\d)")  # "1,234": a thousands comma or three decimals?
AMOUNT_HINT = "Skriv beloppet i kronor, t.ex. 1 234 eller 1 234,50."


def parse_amount(value: Any) -> Decimal:
    """Kronor. '1 234 kr', '1 234,50 kr', '1234:-' are read; '1.234' is refused, never guessed."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise ValueProblem(f"{_shown(value)} är inte ett belopp. {AMOUNT_HINT}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueProblem(f"{_shown(value)} är inte ett belopp. {AMOUNT_HINT}")
    if isinstance(value, str):
        amount = _amount_from_text(value)
    else:  # repr keeps the float as typed: 1234.5 stays 1234.5, not 1234.4999…
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if amount < 0:
        raise ValueProblem(f"Beloppet kan inte vara negativt ({_shown(value)}). {AMOUNT_HINT}")
    if amount > MAX_AMOUNT:
        raise ValueProblem(f"Beloppet {_shown(value)} är orimligt stort. {AMOUNT_HINT}")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueProblem(
            f"{_shown(value)} har fler än två decimaler. Avrunda till hela kronor eller ören."
        )
    return amount


def _amount_from_text(value: str) -> Decimal:
    text = _CURRENCY.sub("", value.strip(_SPACES)).strip(_SPACES)
    match = _AMOUNT.fullmatch(text) if len(text) <= MAX_NUMBER_TEXT else None
    if not match:
        if "." in text or _THREE_DECIMALS.search(text):
            raise ValueProblem(
                f"”{_shown(value)}” kan läsas på två sätt. Använd mellanslag mellan tusental och "
                f"komma för ören. {AMOUNT_HINT}"
            )
        raise ValueProblem(f"”{_shown(value)}” är inte ett belopp. {AMOUNT_HINT}")
    digits = re.sub(f"[{_SPACES}]", "", match["int"])
    amount = Decimal(digits + ("." + match["dec"] if match["dec"] else ""))
    return -amount if match["sign"] else amount


# --- the registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldType:
    """One kind of answer. `validation` is XlsxWriter's data_validation options (no texts)."""

    name: str
    python_type: type
    parse: Callable[[Any], Any]
    number_format: str
    validation: dict[str, Any]
    input_title: str
    hint: str
    error_title: str = "Ogiltigt värde"
    wrap: bool = False
    example: Any = None
    missing_hint: str = ""  # what to do when a required answer is empty, where `hint` says how to type

    @property
    def when_missing(self) -> str:
        """The sentence after "the answer is missing": how to type it, or for free text just where."""
        return self.missing_hint or self.hint

    def validation_options(self, label: str, extra_hint: str = "") -> dict[str, Any]:
        """The full data_validation options for one cell, Swedish prompt and error included."""
        message = f"{label}\n{extra_hint or self.hint}".strip()
        options = dict(self.validation)
        options.update(
            input_title=self.input_title[:32],
            input_message=message[:255],
            error_title=self.error_title[:32],
            error_message=f"{label}: {self.hint}"[:255],
            error_type="stop",
        )
        return options


FIELD_TYPES: dict[str, FieldType] = {
    t.name: t
    for t in [
        FieldType(
            name="text",
            python_type=str,
            parse=parse_text,
            number_format="@",
            validation={"validate": "length", "criteria": "<=", "value": 255},
            input_title="Text",
            hint="Skriv en kort text (högst 255 tecken).",
            missing_hint="Skriv svaret i cellen.",
            example="Nyttiga affärer",
        ),
        FieldType(
            name="long_text",
            python_type=str,
            parse=parse_text,
            number_format="@",
            validation={"validate": "length", "criteria": "<=", "value": MAX_CELL_TEXT},
            input_title="Fritext",
            hint="Skriv fritt. Radbrytning i cellen: Alt+Enter (Mac: Ctrl+Option+Enter).",
            missing_hint="Skriv svaret i cellen.",
            wrap=True,
            example="Vi har genomfört åtta träffar.",
        ),
        FieldType(
            name="date",
            python_type=dt.date,
            parse=parse_date,
            number_format="yyyy-mm-dd",
            validation={
                "validate": "date",
                "criteria": "between",
                "minimum": EARLIEST_DATE,
                "maximum": LATEST_DATE,
            },
            input_title="Datum",
            hint=DATE_HINT,
            example=dt.date(2021, 12, 10),
        ),
        FieldType(
            name="count",
            python_type=int,
            parse=parse_count,
            number_format="0",
            validation={"validate": "integer", "criteria": "between", "minimum": 0, "maximum": MAX_COUNT},
            input_title="Antal",
            hint="Skriv ett heltal, 0 eller större, t.ex. 12.",
            example=12,
        ),
        FieldType(
            name="report_number",
            python_type=int,
            parse=parse_report_number,
            number_format="0",
            validation={
                "validate": "integer", "criteria": "between", "minimum": 1, "maximum": MAX_REPORT_NUMBER
            },
            input_title="Nummer",
            hint=REPORT_NUMBER_HINT,
            example=2,
        ),
        FieldType(
            name="yes_no",
            python_type=str,
            parse=parse_yes_no,
            number_format="@",
            validation={"validate": "list", "source": ["Ja", "Nej"]},
            input_title="Ja eller Nej",
            hint=YES_NO_HINT,
            example="Ja",
        ),
        FieldType(
            name="amount",
            python_type=Decimal,
            parse=parse_amount,
            number_format='#,##0 "kr"',
            validation={
                "validate": "decimal",
                "criteria": "between",
                "minimum": 0,
                "maximum": int(MAX_AMOUNT),
            },
            input_title="Belopp i kronor",
            hint="Skriv beloppet i hela kronor, 0 eller större, t.ex. 125000.",
            example=Decimal(125000),
        ),
        FieldType(
            name="share",
            python_type=float,
            parse=float,
            number_format="0.0%",
            validation={},
            input_title="Andel",
            hint="Räknas ut automatiskt.",
        ),
    ]
}
