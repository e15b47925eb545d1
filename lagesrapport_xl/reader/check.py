"""Parse and check: from the raw named cells of one workbook to a `ReadResult`.

Independent of where the cells came from (a file via sources/, an open workbook via xlwings):
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
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from ..common import catalogue as codes
from ..common.catalogue import READER
from ..common.issues import Issue, kronor
from ..form.conditions import holds
from ..form.fieldtypes import ValueProblem, is_blank, parse_count, parse_text
from ..form.previous import Previous
from ..form.spec import FORM_VERSION_NAME, PREVIOUS_PREFIX, Carried, Field, FormSpec, default_spec
from .cells import RawCell, WorkbookCells, cell_index
from .answers import plain_answers
from .layout import layout_of
from .privacy import find_personal_data, privacy_parts
from .result import ReadResult
from .rules import Findings, check_previous, check_rules

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
    return _checked(cells, spec, True, file=file, sha256=sha256, size=size, modified=modified)[0]


def check_answers(
    cells: WorkbookCells, spec: FormSpec | None = None, **facts: Any
) -> tuple[ReadResult, dict[str, Any] | None]:
    """check_cells as a batch keeps a report: the result without its model, and the answers the
    model would hold (None when there is an error). The same issues; the model is only built when
    a value is not already of its field's type (answers.py), so a batch never waits for pydantic."""
    return _checked(cells, spec, False, **facts)


def _checked(
    cells: WorkbookCells, spec: FormSpec | None, model: bool, **facts: Any
) -> tuple[ReadResult, dict[str, Any] | None]:
    spec = spec or default_spec()
    result = ReadResult(**facts)
    try:
        check = _Check(cells, spec, result, model)
        check.run()
    except Exception as exc:  # noqa: BLE001 - a bug must not stop a batch; it is reported instead
        result.issues.append(codes.INTERNAL_ERROR.issue(f"{type(exc).__name__}: {exc}"))
        result.report = None
        return result, None
    return result, check.answers


class _Check:
    """One run of the checks over one workbook; fills `result`."""

    def __init__(self, cells: WorkbookCells, spec: FormSpec, result: ReadResult, model: bool = True):
        self.cells = cells
        self.model = model  # build the Report model (check_cells), or only its answers (check_answers)
        self.answers: dict[str, Any] | None = None
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
        self.findings.failed = frozenset(self.failed)
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
            base = {"form_version": version, "source_file": Path(self.result.file).name,
                    "source_sha256": self.result.sha256 or ""}
            if self.model:
                from .models import report_model  # pydantic: only where a model is asked for

                self.result.report = report_model(self.spec)(**self.values, **base)
                self.answers = self.result.report.answers()
            else:
                self.answers = plain_answers(self.spec, self.values, **base)

    def _form_version(self) -> str | None:
        """The version in Data!B1 (by its name) or the document property; None: not the template."""
        target = self.names.get(FORM_VERSION_NAME.lower())
        raw = self.raw_by_name.get(FORM_VERSION_NAME.lower()) if target and target.cell else None
        named = str(raw.value).strip() if raw and not raw.formula and not is_blank(raw.value) else None
        prop = (self.cells.form_version or "").strip() or None
        version = named or prop
        if version is None:
            self.findings.add(codes.NOT_TEMPLATE, None)
            return None
        if named and prop and named != prop:
            self.findings.add(
                codes.VERSION_MISMATCH, None, named,
                sheet=target.sheet if target else None, cell=target.cell if target else None,
                in_cell=named, in_property=prop,
            )
        self._compare_version(version)
        return version

    def _compare_version(self, version: str) -> None:
        found, known = _version_tuple(version), _version_tuple(self.spec.version)
        if found is None or known is None:
            self.findings.add(codes.VERSION_UNKNOWN, None, version, version=version)
            return
        width = max(len(found), len(known))
        found, known = found + (0,) * (width - len(found)), known + (0,) * (width - len(known))
        if found[0] != known[0]:
            self.findings.add(codes.VERSION_INCOMPATIBLE, None, version, version=version, known=self.spec.version,
                              variant="older" if found < known else "newer")
        elif found < known:
            self.findings.add(codes.VERSION_OLDER, None, version, version=version, known=self.spec.version)
        elif found > known:
            self.findings.add(codes.VERSION_NEWER, None, version, version=version, known=self.spec.version)

    def _hidden_sheets(self) -> None:
        for sheet in (self.spec.report_sheet, self.spec.budget_sheet):
            if sheet in self.cells.hidden_sheets:
                self.findings.add(codes.SHEET_HIDDEN, None, sheet=sheet, sheet_name=sheet)

    def _locate(self) -> None:
        """Find each answer through its defined name; follow moved names, refuse broken ones.
        Worked out once per layout of names and sheets (layout.py) and replayed here."""
        layout = layout_of(self.spec, self.names, self.cells.sheets, _template_cells(self.spec))
        self.findings.places.update(layout.places)
        self.failed.update(layout.failed)
        raw_by_name = self.raw_by_name
        self.raw = {key: raw_by_name.get(lower, _EMPTY) for key, lower in layout.located}
        for code, key, value, parts in layout.calls:
            self.findings.add(code, key, value, **parts)

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
            self.findings.add(codes.MERGED_CELLS, fields[0].key, text, variant="lost" if lost else "",
                              merged=text, first=first, lost=", ".join(lost))

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
        self.findings.add(codes.PREVIOUS_UNREADABLE, None, raw.formula or raw.error or raw.value,
                          sheet=target.sheet, cell=target.cell, name=name)
        return None

    def _parse(self) -> None:
        for key, raw in self.raw.items():
            field = self.spec.fields[key]
            if raw.formula:
                if _is_carried(raw.formula, self.spec.carried.get(key)):
                    continue  # the rolled-forward template's own formula: _carry computes it
                self.findings.add(codes.FORMULA_IN_CELL, key, raw.formula, formula=raw.formula)
            elif raw.error:
                self.findings.add(codes.CELL_ERROR, key, raw.error, error=raw.error, hint=field.type.hint)
            elif is_blank(raw.value):
                continue
            elif field.range_max and isinstance(raw.value, str) and _RANGE.fullmatch(raw.value.strip()):
                continue  # "8-12" in the planned-minimum cell: _ranges reads it with its partner
            else:
                try:
                    self.values[key] = field.type.parse(raw.value)
                except ValueProblem as problem:
                    self._invalid(key, raw.value, problem)
                else:
                    self._ore(key, raw.value)
                    continue
            self.failed.add(key)
        self._carry()

    def _ore(self, key: str, typed: Any) -> None:
        """An amount with öre ("2,5"): kept exactly as read (nothing is lost), but the template
        shows whole kronor, so the coordinator sees 3 kr where 2,50 kr was read: a warning."""
        amount = self.values[key]
        if self.spec.fields[key].type.name != "amount" or amount == amount.to_integral_value():
            return
        shown = amount.to_integral_value(rounding=ROUND_HALF_UP)  # as Excel shows '#,##0 "kr"'
        self.findings.add(codes.AMOUNT_HAS_ORE, key, typed, read=kronor(amount), shown=kronor(shown))

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
                self.findings.add(codes.CARRIED_MISSING, key, raw.formula, formula=raw.formula,
                                  previous=carried.previous)
            elif carried.plus not in self.failed and carried.previous not in self.previous_failed:
                before = self.previous.cumulative.get(key) if self.previous else None
                total = (before or Decimal(0)) + (self.values[carried.plus] or Decimal(0))  # N(blank) is 0
                try:
                    self.values[key] = field.type.parse(total)
                    continue
                except ValueProblem as problem:
                    self._invalid(key, total, problem)
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
                    self.findings.add(codes.INVALID_RANGE, low_key, raw, problem=problem.message)
                    self.failed.add(low_key)
                    continue
                typed_high = self.values[high_key]
                if typed_high is not None and typed_high != high:
                    self.findings.add(codes.RANGE_CONFLICT, low_key, raw, typed=raw.strip(),
                                      high_cell=self.findings.places[high_key][1], high=typed_high)
                    self.failed.add(low_key)
                    continue
                self.values[low_key], self.values[high_key] = low, high
            elif self.values[low_key] is None:  # one number alone means min = max
                self.values[low_key] = self.values[high_key]
            elif self.values[high_key] is None:
                self.values[high_key] = self.values[low_key]
            low, high = self.values[low_key], self.values[high_key]
            if low is not None and high is not None and low > high:
                self.findings.add(codes.RANGE_REVERSED, low_key, raw, low=low, high=high)
                self.failed.add(low_key)

    def _required(self) -> None:
        for field in self.spec.fields.values():
            if self.values[field.key] is not None or field.key in self.failed:
                continue
            if field.required is True:
                self.findings.add(codes.REQUIRED_MISSING, field.key, hint=field.type.when_missing)
            elif field.condition and holds(field.condition, self.values):
                condition = self.spec.conditions[field.condition].message
                self.findings.add(codes.REQUIRED_NOW, field.key, condition=condition, hint=field.type.when_missing)

    def _privacy(self) -> None:
        for field in self.spec.fields.values():
            value = self.values[field.key]
            if field.type.name in ("text", "long_text") and isinstance(value, str):
                hits = find_personal_data(value)
                if hits:
                    self.findings.add(codes.PERSONAL_DATA, field.key, ", ".join(h.masked for h in hits),
                                      **privacy_parts(hits))

    # --- helpers ---------------------------------------------------------------------------

    def _invalid(self, key: str, value: Any, problem: ValueProblem) -> None:
        """A value the field's type cannot read: invalid_<type>, in the type's own words."""
        self.findings.add(READER[f"invalid_{self.spec.fields[key].type.name}"], key, value, problem=problem.message)

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
