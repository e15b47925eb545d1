"""Parse and check: from the raw named cells of one workbook to a `ReadResult`.

Independent of where the cells came from (a file via sources.py, an open workbook via xlwings):
everything here looks only at `WorkbookCells`. The order of work is the order a person would
fix things in: is this the form at all (version), can every answer be found (defined names),
can every answer be read (field types), is every required answer there, do the answers agree
with each other (rules.py), and is there personal data in the free text (privacy.py).
Every problem is collected; nothing stops at the first.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..common.issues import Issue, Severity
from ..form.conditions import holds
from ..form.fieldtypes import ValueProblem, is_blank, parse_count, parse_text
from ..form.previous import Previous
from ..form.spec import FORM_VERSION_NAME, PREVIOUS_PREFIX, Carried, Field, FormSpec, default_spec
from .cells import NameTarget, RawCell, WorkbookCells, cell_index
from .models import report_model
from .privacy import find_personal_data, privacy_message
from .result import ReadResult
from .rules import Findings, check_previous, check_rules

NEW_TEMPLATE = "Fyll i svaren i en ny, oförändrad mall från RAR."
_EMPTY = RawCell(None)  # a located cell the source had nothing for
_RANGE = re.compile(r"(\d+)[\s\u00a0]*[-‐‑‒–—−][\s\u00a0]*(\d+)")


def check_cells(
    cells: WorkbookCells,
    spec: FormSpec | None = None,
    *,
    file: str = "",
    sha256: str | None = None,
    size: int | None = None,
    modified: dt.datetime | None = None,
) -> ReadResult:
    """Every problem of one workbook, and the Report model when there is no error."""
    spec = spec or default_spec()
    result = ReadResult(file=file, sha256=sha256, size=size, modified=modified)
    try:
        _Check(cells, spec, result).run()
    except Exception as exc:  # noqa: BLE001 - a bug must not stop a batch; it is reported instead
        result.issues.append(
            Issue(
                Severity.ERROR,
                "Filen kunde inte kontrolleras på grund av ett fel i programmet. Skicka filen till "
                "RAR:s kansli så att felet kan rättas.",
                "internal_error",
                value=f"{type(exc).__name__}: {exc}",
            )
        )
        result.report = None
    return result


class _Check:
    """One run of the checks over one workbook; fills `result`."""

    def __init__(self, cells: WorkbookCells, spec: FormSpec, result: ReadResult):
        self.cells = cells
        self.spec = spec
        self.result = result
        self.names = {name.lower(): target for name, target in cells.names.items()}
        self.raw_by_name = {name.lower(): raw for name, raw in cells.cells.items()}
        self.findings = Findings(spec, {})
        self.raw: dict[str, RawCell] = {}  # field key → raw cell, for fields that could be located
        self.values: dict[str, Any] = dict.fromkeys(spec.fields)
        self.failed: set[str] = set()  # fields with an error of their own (not found, unreadable)
        self.previous: Previous | None = None  # what a rolled-forward file carries of the report before
        self.previous_failed: set[str] = set()  # previous_* names whose cell cannot be read

    # --- the steps -------------------------------------------------------------------------

    def run(self) -> None:
        source_issues = list(self.cells.issues)
        if any(issue.is_error for issue in source_issues):
            self.result.issues = source_issues
            return
        version = self._form_version()
        self.result.form_version = version
        if version is None and not any(key.lower() in self.names for key in self.spec.fields):
            self.result.issues = source_issues + self.findings.issues
            return
        self._hidden_sheets()
        self._locate()
        self._merged_cells()
        self.previous = self._previous()
        self._parse()
        self._ranges()
        self._required()
        check_rules(self.values, self.findings)
        if self.previous is not None:
            check_previous(self.values, self.previous, self.findings, rolled=True)
        self._privacy()
        self.result.issues = source_issues + self._in_reading_order(self.findings.issues)
        self.result.values = {
            key: self.values[key] if key not in self.failed or key not in self.raw else self._shown(key)
            for key in self.spec.fields
        }
        if self.failed:  # else the default: one empty set shared by every clean report of a batch
            self.result.unread = frozenset(self.failed)
        if not self.result.errors:
            model = report_model(self.spec)
            self.result.report = model(
                **self.values,
                form_version=version,
                source_file=Path(self.result.file).name,
                source_sha256=self.result.sha256 or "",
            )

    def _form_version(self) -> str | None:
        """The version in Data!B1 (by its name) or the document property; None: not the template."""
        target = self.names.get(FORM_VERSION_NAME.lower())
        raw = self.raw_by_name.get(FORM_VERSION_NAME.lower()) if target and target.cell else None
        named = str(raw.value).strip() if raw and not raw.formula and not is_blank(raw.value) else None
        prop = (self.cells.form_version or "").strip() or None
        version = named or prop
        if version is None:
            self.findings.error(
                "not_template", None,
                "Filen är inte RAR:s Lägesrapport-mall: formulärversionen saknas. Fyll i mallen från "
                "RAR och skicka den filen.",
            )
            return None
        if named and prop and named != prop:
            self.findings.warning(
                "version_mismatch", None,
                f"Filen anger två olika formulärversioner ({named} och {prop}). Mallen har ändrats; "
                f"kontrollera svaren. {NEW_TEMPLATE}",
                named,
                sheet=target.sheet if target else None, cell=target.cell if target else None,
            )
        self._compare_version(version)
        return version

    def _compare_version(self, version: str) -> None:
        found, known = _version_tuple(version), _version_tuple(self.spec.version)
        if found is None or known is None:
            self.findings.error(
                "version_unknown", None,
                f"Formulärversionen ”{version}” känns inte igen. {NEW_TEMPLATE}", version,
            )
            return
        width = max(len(found), len(known))
        found, known = found + (0,) * (width - len(found)), known + (0,) * (width - len(known))
        if found[0] != known[0]:
            older = found < known
            self.findings.error(
                "version_incompatible", None,
                f"Filen är gjord med formulärversion {version}, men programmet läser version "
                f"{self.spec.version}. "
                + (f"Mallen är för gammal. {NEW_TEMPLATE}" if older
                   else "Uppdatera programmet lagesrapport_xl för att läsa den."),
                version,
            )
        elif found < known:
            self.findings.warning(
                "version_older", None,
                f"Filen är gjord med en äldre mall (formulärversion {version}; den nya är "
                f"{self.spec.version}). Svaren har lästs, men använd den nya mallen nästa gång.",
                version,
            )
        elif found > known:
            self.findings.warning(
                "version_newer", None,
                f"Filen är gjord med formulärversion {version}, nyare än programmets "
                f"{self.spec.version}. Svaren har lästs; uppdatera lagesrapport_xl.",
                version,
            )

    def _hidden_sheets(self) -> None:
        for sheet in (self.spec.report_sheet, self.spec.budget_sheet):
            if sheet in self.cells.hidden_sheets:
                self.findings.warning(
                    "sheet_hidden", None,
                    f"Bladet ”{sheet}” är dolt. Svaren har lästs, men visa bladet igen "
                    "(högerklicka på en bladflik → Ta fram).",
                    sheet=sheet,
                )

    def _locate(self) -> None:
        """Find each answer through its defined name; follow moved names, refuse broken ones."""
        sheets = set(self.cells.sheets)
        template_cells = _template_cells(self.spec)
        moved: dict[str, list[Field]] = defaultdict(list)
        renamed: dict[str, str] = {}
        lost: dict[str, list[Field]] = defaultdict(list)
        taken: dict[tuple[str, str], Field] = {}
        for field in self.spec.fields.values():
            target = self.names.get(field.key.lower())
            problem = self._name_problem(field, target, sheets)
            self.findings.places[field.key] = (field.sheet, None)
            if problem:
                sheet_gone = problem[0] in ("name_missing", "name_ref", "name_sheet_missing")
                if field.sheet not in sheets and sheet_gone:
                    lost[field.sheet].append(field)
                else:
                    self.findings.error(problem[0], field.key, problem[1], target.text if target else None)
                self.failed.add(field.key)
                continue
            place = (target.sheet, target.cell)  # both set: _name_problem refused anything else
            if place in taken:
                self.findings.error(
                    "name_conflict", field.key,
                    f"Namnet ”{field.key}” pekar på samma cell ({target.cell}) som frågan "
                    f"”{taken[place].label}”, så svaret kan inte läsas säkert. {NEW_TEMPLATE}",
                    target.text,
                )
                self.failed.add(field.key)
                continue
            taken[place] = field
            self.findings.places[field.key] = place
            if target.sheet != field.sheet:
                renamed[field.sheet] = target.sheet
            if target.cell != template_cells[field.key]:
                moved[target.sheet].append(field)
            self.raw[field.key] = self.raw_by_name.get(field.key.lower(), _EMPTY)
        for expected, actual in renamed.items():
            self.findings.warning(
                "sheet_renamed", None,
                f"Bladet ”{expected}” har bytt namn till ”{actual}”. Svaren har lästs från "
                f"”{actual}”; byt gärna tillbaka namnet till ”{expected}”.",
                actual, sheet=actual,
            )
        for sheet, fields in lost.items():
            self.findings.error(
                "sheet_missing", None,
                f"Bladet ”{sheet}” saknas i filen (borttaget eller omdöpt), så {len(fields)} svar kan "
                f"inte läsas. {NEW_TEMPLATE}",
                sheet, sheet=sheet,
            )
        for sheet, fields in moved.items():
            first = fields[0]
            self.findings.warning(
                "structure_changed", None,
                f"Bladet ”{sheet}” har ändrats (rader eller kolumner har lagts till, tagits bort eller "
                f"flyttats): {len(fields)} svar står inte där mallen har dem, t.ex. ”{first.label}” i "
                f"{self.findings.places[first.key][1]} i stället för {first.cell}. Svaren har lästs där "
                "de står nu; kontrollera dem och använd en oförändrad mall nästa gång.",
                sheet=sheet, cell=self.findings.places[first.key][1],
            )

    def _merged_cells(self) -> None:
        """Merged input cells: Excel keeps only the upper-left value, so say which answer is empty."""
        merged = {name.lower(): text for name, text in self.cells.merged.items()}
        by_range: dict[tuple[str, str], list[Field]] = defaultdict(list)
        for field in self.spec.fields.values():
            text = merged.get(field.key.lower())
            if text and field.key in self.raw:
                by_range[(self.findings.places[field.key][0], text)].append(field)
        for (sheet, text), fields in by_range.items():
            first = text.split(":")[0]
            lost = [f"”{f.label}” ({self.findings.places[f.key][1]})" for f in fields
                    if self.findings.places[f.key][1] != first]
            self.findings.warning(
                "merged_cells", fields[0].key,
                f"Cellerna {text} är sammanfogade, så bara värdet i {first} finns kvar"
                + (f" och {', '.join(lost)} läses som tom" if lost else "")
                + ". Dela upp cellerna (Start → Sammanfoga och centrera → Dela upp celler) och "
                "kontrollera svaren.",
                text,
            )

    def _name_problem(
        self, field: Field, target: NameTarget | None, sheets: set[str]
    ) -> tuple[str, str] | None:
        """(code, message) when the field's defined name cannot be followed safely."""

        def expected() -> str:  # composed only for a problem: Field.cell is computed on each call
            return f"(i mallen cell {field.cell} på bladet {field.sheet})"

        if target is None:
            return ("name_missing",
                    f"Svaret hittas inte: namnet ”{field.key}” {expected()} saknas i filen. {NEW_TEMPLATE}")
        if "#REF!" in target.text.upper():
            return ("name_ref",
                    f"Svaret hittas inte: cellen som namnet ”{field.key}” pekade på {expected()} har "
                    f"tagits bort. {NEW_TEMPLATE}")
        if target.sheet is None or target.cell is None:
            return ("name_range",
                    f"Namnet ”{field.key}” {expected()} pekar inte på en enda cell utan på "
                    f"”{target.text}”, så svaret kan inte läsas säkert. {NEW_TEMPLATE}")
        if target.sheet not in sheets:
            return ("name_sheet_missing",
                    f"Namnet ”{field.key}” {expected()} pekar på bladet ”{target.sheet}”, som inte "
                    f"finns. {NEW_TEMPLATE}")
        if target.sheet != field.sheet and field.sheet in sheets:
            return ("name_elsewhere",
                    f"Namnet ”{field.key}” {expected()} pekar på ett annat blad ({target.sheet}!"
                    f"{target.cell}), så svaret kan inte läsas säkert. {NEW_TEMPLATE}")
        return None

    def _previous(self) -> Previous | None:
        """The previous report's facts a rolled-forward template keeps on its Data sheet (the
        `previous_*` names); None for every other file, without an issue. The cells are hidden
        and locked, so one that cannot be read means the file was changed: an error, and the
        fact is left out."""
        if not any(name.lower() in self.raw_by_name for name in self.spec.previous_names):
            return None

        def fact(key: str) -> Any:  # report_number and period_end read as those fields; file, sha256 as text
            field = self.spec.fields.get(key)
            return self._previous_value(PREVIOUS_PREFIX + key, field.type.parse if field else parse_text)

        cumulative = {key: self._previous_value(c.previous, self.spec.fields[key].type.parse)
                      for key, c in self.spec.carried.items()}
        file = fact("file") or ""
        return Previous(file, fact("report_number"), fact("period_end"), cumulative, fact("sha256"))

    def _previous_value(self, name: str, parse: Any) -> Any:
        raw = self.raw_by_name.get(name.lower())
        if raw is None or (raw.formula is None and raw.error is None and is_blank(raw.value)):
            return None
        if not raw.formula and not raw.error:
            try:
                return parse(raw.value)
            except ValueProblem:
                pass
        target = self.names[name.lower()]
        self.previous_failed.add(name)
        self.findings.error(
            "previous_unreadable", None,
            f"Värdet från föregående lägesrapport ({name}) kan inte läsas: den dolda, låsta cellen har "
            "ändrats. Be RAR om en ny mall, framförd från föregående rapport.",
            raw.formula or raw.error or raw.value, sheet=target.sheet, cell=target.cell,
        )
        return None

    def _parse(self) -> None:
        for key, raw in self.raw.items():
            field = self.spec.fields[key]
            if raw.formula:
                if _is_carried(raw.formula, self.spec.carried.get(key)):
                    continue  # the rolled-forward template's own formula: _carry computes it
                self.findings.error(
                    "formula_in_cell", key,
                    f"Cellen innehåller formeln {raw.formula}. Skriv själva svaret i cellen, inte en "
                    "formel.",
                    raw.formula,
                )
            elif raw.error:
                self.findings.error(
                    "cell_error", key,
                    f"Cellen visar felet {raw.error}. Skriv ett giltigt svar. {field.type.hint}",
                    raw.error,
                )
            elif is_blank(raw.value):
                continue
            elif field.range_max and isinstance(raw.value, str) and _RANGE.fullmatch(raw.value.strip()):
                continue  # "8-12" in the planned-minimum cell: _ranges reads it with its partner
            else:
                try:
                    self.values[key] = field.type.parse(raw.value)
                except ValueProblem as problem:
                    self.findings.error(f"invalid_{field.type.name}", key, problem.message, raw.value)
                else:
                    continue
            self.failed.add(key)
        self._carry()

    def _carry(self) -> None:
        """Each carried cell that still holds the template's formula: the previous report's amount
        plus this period's, computed here. The file's cached result is never used (a file saved
        by openpyxl has none, and a cached number proves nothing)."""
        for key, carried in self.spec.carried.items():
            raw = self.raw.get(key)
            if raw is None or not _is_carried(raw.formula, carried):
                continue
            field = self.spec.fields[key]
            if carried.previous.lower() not in self.raw_by_name:
                self.findings.error(
                    "carried_missing", key,
                    f"Cellen innehåller formeln {raw.formula}, men värdet från föregående lägesrapport "
                    f"({carried.previous}) saknas i filen. Skriv det ackumulerade utfallet som ett belopp, "
                    "eller be RAR om en ny mall.",
                    raw.formula,
                )
            elif carried.plus not in self.failed and carried.previous not in self.previous_failed:
                before = self.previous.cumulative.get(key) if self.previous else None
                total = (before or Decimal(0)) + (self.values[carried.plus] or Decimal(0))  # N(blank) is 0
                try:
                    self.values[key] = field.type.parse(total)
                    continue
                except ValueProblem as problem:
                    self.findings.error(f"invalid_{field.type.name}", key, problem.message, total)
            self.failed.add(key)  # unknown: the added cell or the carried value has its own error

    def _ranges(self) -> None:
        """Planned participants: '8-12' in the minimum cell, one number alone, min ≤ max."""
        for field in self.spec.fields.values():
            if not field.range_max or field.key in self.failed or field.range_max in self.failed:
                continue
            low_key, high_key = field.key, field.range_max  # both located and readable here
            raw = self.raw[low_key].value
            match = _RANGE.fullmatch(raw.strip()) if isinstance(raw, str) else None
            if match:
                try:
                    low, high = parse_count(match.group(1)), parse_count(match.group(2))
                except ValueProblem as problem:
                    self.findings.error("invalid_range", low_key, problem.message, raw)
                    self.failed.add(low_key)
                    continue
                typed_high = self.values[high_key]
                if typed_high is not None and typed_high != high:
                    self.findings.error(
                        "range_conflict", low_key,
                        f"Cellen innehåller intervallet {raw.strip()}, men till-cellen "
                        f"({self.findings.places[high_key][1]}) innehåller {typed_high}. Skriv det "
                        "lägsta antalet här och det högsta i till-cellen.",
                        raw,
                    )
                    self.failed.add(low_key)
                    continue
                self.values[low_key], self.values[high_key] = low, high
            elif self.values[low_key] is None:  # one number alone means min = max
                self.values[low_key] = self.values[high_key]
            elif self.values[high_key] is None:
                self.values[high_key] = self.values[low_key]
            low, high = self.values[low_key], self.values[high_key]
            if low is not None and high is not None and low > high:
                self.findings.error(
                    "range_reversed", low_key,
                    f"Planerat antal från ({low}) är större än till ({high}). Skriv det lägsta antalet "
                    "först och det högsta sist.",
                    raw,
                )
                self.failed.add(low_key)

    def _required(self) -> None:
        for field in self.spec.fields.values():
            if self.values[field.key] is not None or field.key in self.failed:
                continue
            if field.required is True:
                self.findings.error(
                    "required_missing", field.key,
                    f"Frågan är obligatorisk men svaret saknas. {field.type.hint}",
                )
            elif field.condition and holds(field.condition, self.values):
                self.findings.error(
                    "required_now", field.key,
                    f"{self.spec.conditions[field.condition].message} {field.type.hint}",
                )

    def _privacy(self) -> None:
        for field in self.spec.fields.values():
            value = self.values[field.key]
            if field.type.name in ("text", "long_text") and isinstance(value, str):
                hits = find_personal_data(value)
                if hits:
                    self.findings.warning(
                        "personal_data", field.key, privacy_message(hits), ", ".join(h.masked for h in hits)
                    )

    # --- helpers ---------------------------------------------------------------------------

    def _shown(self, key: str) -> Any:
        """The value as found, for a field that could not be read: its formula, error or raw value."""
        raw = self.raw[key]
        return raw.formula or raw.error or raw.value

    def _in_reading_order(self, issues: list[Issue]) -> list[Issue]:
        """File-level problems first, then by sheet and cell, top to bottom (stable)."""
        order = {sheet: index for index, sheet in enumerate(self.cells.sheets)}

        def key(issue: Issue) -> tuple[int, int, int, int]:
            if issue.cell is None:
                return (0, 0, 0, 0)
            try:
                row, col = cell_index(issue.cell)
            except ValueError:
                row, col = 0, 0
            return (1, order.get(issue.sheet or "", len(order)), row, col)

        return sorted(issues, key=key)


def _is_carried(formula: str | None, carried: Carried | None) -> bool:
    """Is `formula` the rolled-forward template's own formula for this cell? Compared as Excel
    reads formulas (case and spaces aside); any other formula is the coordinator's and an error."""
    if not formula or carried is None:
        return False
    return _formula_text(formula) == _formula_text(carried.formula)


def _formula_text(formula: str) -> str:
    return "".join(formula.removeprefix("=").split()).casefold()


@functools.cache  # FormSpec hashes by identity: one small dict per specification
def _template_cells(spec: FormSpec) -> dict[str, str]:
    """Field key → its cell in the template ('C9'); Field.cell computes it on every call."""
    return {key: field.cell for key, field in spec.fields.items()}


def _version_tuple(text: str) -> tuple[int, ...] | None:
    if not re.fullmatch(r"\d{1,6}(?:\.\d{1,6}){0,3}", text):
        return None
    return tuple(int(part) for part in text.split("."))
