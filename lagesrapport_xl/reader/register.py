"""Pre-filled templates from RAR's register of insatser: one locked template per register row.

RAR keeps a list of the insatser it funds (case number, name, periods, report number, planned
participants, granted budget) in Excel. Each row becomes a template whose known answers are
already filled in and locked, so coordinators cannot contradict RAR's own records.

Column headings may be field keys (`initiative_name`) or the form's Swedish labels
("Insatsens namn"); a planned range can sit in one column ("8-12"). Two optional columns are not
questions of the form but RAR's own: the insats' contact person ("Kontaktperson") and e-mail
address ("E-post"), for the web intake's utskick list; they are never written into a template. Every value is parsed with
the same field types the reader uses. A bad row is reported with its row number and column and
left out; the other rows are still written.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..common.issues import Severity
from ..form.fieldtypes import ValueProblem, is_blank
from ..form.spec import FormSpec, default_spec

RANGE_PATTERN = re.compile(r"\s*(\S+?)\s*[-–—]\s*(\S+)\s*")


class RegisterError(ValueError):
    """The register cannot be used at all (unreadable, no known columns); the message is Swedish."""


@dataclass(frozen=True)
class RegisterProblem:
    """One problem in the register. `row` is the row number the user sees (headings are row 1)."""

    message: str
    row: int | None = None
    column: str | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"Rad {self.row}")
        if self.column is not None:
            where.append(f"kolumn ”{self.column}”")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


@dataclass(frozen=True)
class RegisterRow:
    """One insats of the register, parsed: field key → Python value for `write_template(prefill=)`,
    and the optional contact columns (CONTACT_KEYS → text)."""

    row: int
    prefill: dict[str, Any]
    contact: dict[str, str] = field(default_factory=dict)


# RAR's own optional columns: key → the headings that mean it (compared as normalise_heading does)
CONTACT_HEADINGS = {
    "contact_name": ("kontaktperson", "kontakt", "samordnare", "contact_name"),
    "contact_email": ("e-post", "epost", "e-postadress", "mejl", "mail", "kontaktpersonens e-post", "contact_email"),
}
CONTACT_KEYS = tuple(CONTACT_HEADINGS)
_EMAIL = re.compile(r"[^@\s;,<>]+@[^@\s;,<>]+\.[^@\s;,<>]+")


@dataclass
class RegisterResult:
    written: list[Path] = field(default_factory=list)
    problems: list[RegisterProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[RegisterProblem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _Column:
    """Where a register column goes: one field, or a planned range (min and max) in one cell."""

    heading: str
    keys: tuple[str, ...]
    prefillable: bool = True

    @property
    def is_range(self) -> bool:
        return len(self.keys) == 2


# --- headings ------------------------------------------------------------------------------------


def normalise_heading(text: Any) -> str:
    """Compare headings the way a person reads them: case, spaces, dashes and a final ':' ignored."""
    value = unicodedata.normalize("NFC", str(text or ""))
    value = re.sub(r"[‐‑‒–—−]", "-", value)
    value = re.sub(r"\s+", " ", value).strip().rstrip(":").strip()
    return value.casefold()


def heading_targets(spec: FormSpec) -> dict[str, tuple[tuple[str, ...], bool]]:
    """Normalised heading → (field keys, prefillable). Keys and labels both work.

    Labels shared by a planned range's two fields ("Kvinnor – Planerat antal (från–till)") mean
    the range in one cell. A budget line's label alone means its one pre-fillable column
    (the granted budget). Ambiguous labels are left out; the key always works.
    """
    by_label: dict[str, list[str]] = {}
    for f in spec.fields.values():
        by_label.setdefault(normalise_heading(f.label), []).append(f.key)
    targets: dict[str, tuple[tuple[str, ...], bool]] = {}
    ambiguous: set[str] = set()

    def add(heading: str, keys: tuple[str, ...]) -> None:
        prefillable = all(spec.fields[k].prefill for k in keys)
        if heading in targets and targets[heading][0] != keys:
            ambiguous.add(heading)
        targets[heading] = (keys, prefillable)

    for label, keys in by_label.items():
        if len(keys) == 1:
            add(label, (keys[0],))
        elif len(keys) == 2 and spec.fields[keys[0]].range_max == keys[1]:
            add(label, (keys[0], keys[1]))
        else:
            ambiguous.add(label)
    for line in spec.budget.lines + spec.budget.financing:
        columns = [c for c in spec.budget.columns if c.is_input and c.prefill]
        if len(columns) == 1:
            add(normalise_heading(line.label), (spec.budget_key(line.key, columns[0].key),))
    for heading in ambiguous:
        targets.pop(heading, None)
    for f in spec.fields.values():  # keys last: a key always means its own field
        targets[normalise_heading(f.key)] = ((f.key,), f.prefill)
    return targets


def _contact_columns(headings: list[Any]) -> dict[int, tuple[str, str]]:
    """index → (contact key, heading) of the optional contact columns; the first of each kind."""
    found: dict[int, tuple[str, str]] = {}
    for index, raw in enumerate(headings):
        heading = normalise_heading(raw)
        for key, names in CONTACT_HEADINGS.items():
            if heading in names and key not in {k for k, _ in found.values()}:
                found[index] = (key, str(raw).strip())
    return found


def _columns(headings: list[Any], spec: FormSpec) -> tuple[dict[int, _Column], list[RegisterProblem]]:
    targets = heading_targets(spec)
    columns: dict[int, _Column] = {}
    problems: list[RegisterProblem] = []
    claimed: dict[str, str] = {}
    contacts = _contact_columns(headings)
    for index, raw in enumerate(headings):
        heading = str(raw).strip() if raw is not None else ""
        if not heading or index in contacts:
            continue
        target = targets.get(normalise_heading(heading))
        if target is None:
            problems.append(
                RegisterProblem("Kolumnen känns inte igen och används inte.", 1, heading, Severity.WARNING)
            )
            continue
        keys, prefillable = target
        if not prefillable:
            problems.append(
                RegisterProblem(
                    "Frågan fylls i av insatsen själv och kan inte förifyllas; kolumnen används inte.",
                    1,
                    heading,
                    Severity.WARNING,
                )
            )
            continue
        for key in keys:
            if key in claimed:
                raise RegisterError(
                    f"Kolumnerna ”{claimed[key]}” och ”{heading}” gäller samma fråga ({key}). "
                    "Ta bort den ena."
                )
            claimed[key] = heading
        columns[index] = _Column(heading, keys)
    if not columns:
        known = ", ".join(f.label for f in spec.fields.values() if f.prefill and f.group == "report")
        raise RegisterError(f"Registret har inga kolumner som känns igen. Använd rubriker som: {known}.")
    return columns, problems


# --- reading the file ----------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"), else Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise RegisterError(
                "Filen är varken UTF-8 eller Windows-1252. Spara den som CSV UTF-8 eller som .xlsx."
            ) from None


def _delimiter(text: str) -> str:
    """The separator of the heading line: Swedish Excel writes ';', others ',' or tab."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    outside_quotes = re.sub(r'"[^"]*"', "", first)
    counts = {sep: outside_quotes.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ";"


def _csv_rows(path: Path) -> list[list[Any]]:
    text = _decode(path.read_bytes())
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))]
    except csv.Error as exc:
        raise RegisterError(f"CSV-filen kan inte läsas ({exc}).") from None


def _xlsx_rows(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook  # only needed for Excel registers
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise RegisterError(
            f"Excel-filen kan inte öppnas ({exc}). Spara registret som .xlsx eller .csv."
        ) from None
    try:
        return [list(row) for row in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()


def _raw_rows(path: Path) -> list[list[Any]]:
    if not path.is_file():
        raise RegisterError(f"Registret {path} finns inte.")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return _xlsx_rows(path)
    if suffix in {".csv", ".txt"}:
        return _csv_rows(path)
    raise RegisterError(
        f"Registret måste vara en .xlsx- eller .csv-fil, inte {suffix or 'en fil utan filändelse'}."
    )


# --- parsing the rows --------------------------------------------------------------------------


def _parse_range(value: Any, column: _Column, spec: FormSpec) -> dict[str, Any]:
    low_field, high_field = (spec.fields[k] for k in column.keys)
    if isinstance(value, (dt.date, dt.datetime)):
        raise ValueProblem(
            f"Cellen innehåller ett datum ({value:%Y-%m-%d}): Excel gör om t.ex. 8-12 till ett datum. "
            "Formatera kolumnen som Text och skriv intervallet igen, t.ex. 8-12."
        )
    match = RANGE_PATTERN.fullmatch(value) if isinstance(value, str) else None
    try:
        if match:
            low, high = low_field.type.parse(match.group(1)), high_field.type.parse(match.group(2))
        else:
            low = high = low_field.type.parse(value)
    except ValueProblem as exc:
        raise ValueProblem(f"{exc.message} Ett intervall skrivs som två heltal, t.ex. 8-12.") from None
    if low > high:
        raise ValueProblem(
            f"Intervallet börjar med {low} men slutar med {high}. Skriv det minsta talet först."
        )
    return {low_field.key: low, high_field.key: high}


_ORDER_RULES = (
    # (earlier, later, message when later < earlier)
    ("initiative_start", "initiative_end", "Insatsens slutdatum ligger före startdatumet."),
    ("period_start", "period_end", "Rapportperiodens slutdatum ligger före startdatumet."),
    ("initiative_start", "period_start", "Rapportperioden börjar före insatsen."),
    ("period_end", "initiative_end", "Rapportperioden slutar efter insatsen."),
    ("report_number", "reports_total", "Rapportens nummer är större än det totala antalet rapporter."),
)


def _check_row(
    values: dict[str, Any], spec: FormSpec, headings: dict[str, str], row: int
) -> list[RegisterProblem]:
    """The order rules between pre-filled values: a locked cell must never contradict another."""
    rules = list(_ORDER_RULES)
    rules += [
        (f.key, f.range_max, "Planerat antal: från-talet är större än till-talet.")
        for f in spec.fields.values()
        if f.range_max
    ]
    problems = []
    for earlier, later, message in rules:
        if earlier in values and later in values and values[later] < values[earlier]:
            columns = " / ".join(dict.fromkeys([headings[earlier], headings[later]]))
            problems.append(RegisterProblem(message, row, columns))
    return problems


def _complete_ranges(values: dict[str, Any], spec: FormSpec) -> None:
    """One planned number alone means from = to (FIELDS.md), so no half range is locked."""
    for f in spec.fields.values():
        if f.range_max and (f.key in values) != (f.range_max in values):
            number = values.get(f.key, values.get(f.range_max))
            values[f.key] = values[f.range_max] = number


def _parse_row(cells: list[Any], number: int, columns: dict[int, _Column], spec: FormSpec):
    values: dict[str, Any] = {}
    problems: list[RegisterProblem] = []
    headings: dict[str, str] = {}
    for index, column in columns.items():
        raw = cells[index] if index < len(cells) else None
        for key in column.keys:
            headings[key] = column.heading
        if is_blank(raw):
            continue
        value = raw.strip() if isinstance(raw, str) else raw
        try:
            if column.is_range:
                values.update(_parse_range(value, column, spec))
            else:
                values[column.keys[0]] = spec.fields[column.keys[0]].type.parse(value)
        except ValueProblem as exc:
            problems.append(RegisterProblem(exc.message, number, column.heading))
    if not problems:
        _complete_ranges(values, spec)
        problems = _check_row(values, spec, headings, number)
    return values, problems


def read_register(
    path: str | Path, spec: FormSpec | None = None
) -> tuple[list[RegisterRow], list[RegisterProblem]]:
    """The register's valid rows and every problem found; raises RegisterError if unusable."""
    spec = spec or default_spec()
    rows = _raw_rows(Path(path))
    header_index = next((i for i, r in enumerate(rows) if any(not is_blank(c) for c in r)), None)
    if header_index is None:
        raise RegisterError("Registret är tomt.")
    columns, problems = _columns(rows[header_index], spec)
    contacts = _contact_columns(rows[header_index])
    problems = [RegisterProblem(p.message, header_index + 1, p.column, p.severity) for p in problems]
    valid: list[RegisterRow] = []
    for offset, cells in enumerate(rows[header_index + 1 :], start=header_index + 2):
        if all(is_blank(c) for c in cells):
            continue
        values, row_problems = _parse_row(list(cells), offset, columns, spec)
        contact, notes = _parse_contact(list(cells), offset, contacts)
        problems.extend(row_problems + notes)
        if not row_problems:
            valid.append(RegisterRow(offset, values, contact))
    return valid, problems


def _parse_contact(
    cells: list[Any], number: int, contacts: dict[int, tuple[str, str]]
) -> tuple[dict[str, str], list[RegisterProblem]]:
    """The row's contact person and e-mail as text; an address that is not one is a warning."""
    contact: dict[str, str] = {}
    problems = []
    for index, (key, heading) in contacts.items():
        raw = cells[index] if index < len(cells) else None
        if is_blank(raw):
            continue
        text = " ".join(str(raw).split())
        if key == "contact_email" and not _EMAIL.fullmatch(text):
            problems.append(RegisterProblem(
                f"”{text[:80]}” är ingen e-postadress; utskickslistan får ingen adress för raden.", number, heading,
                Severity.WARNING))
            continue
        contact[key] = text
    return contact, problems


# --- file names and writing ----------------------------------------------------------------------


# --- an Excel register with the right headings ------------------------------------------------------


def register_columns(spec: FormSpec) -> list[tuple[str, tuple[str, ...]]]:
    """(heading, field keys) of every pre-fillable answer, in form order, as RAR's register has them.

    Headings are the labels a person recognises; a planned range is one column, a budget line
    is headed by its own label when that is unambiguous.
    """
    targets = heading_targets(spec)
    columns: list[tuple[str, tuple[str, ...]]] = []
    seen: set[str] = set()
    for f in spec.fields.values():
        if not f.prefill or f.key in seen:
            continue
        keys = (f.key, f.range_max) if f.range_max else (f.key,)
        heading = f.label
        if f.line is not None:
            line = next(x for x in spec.budget.lines + spec.budget.financing if x.key == f.line)
            if targets.get(normalise_heading(line.label), ((),))[0] == keys:
                heading = line.label
        if targets.get(normalise_heading(heading), ((),))[0] != keys:
            heading = f.key
        columns.append((heading, keys))
        seen.update(keys)
    return columns
