"""The form specification: form.toml (plus RAR's optional override) turned into frozen objects.

Everything else in the package asks this module where a question sits, what it is called and
what it accepts. Cell positions are derived here from the layout order, so adding a question or a
budget line is one edit in form.toml and every cell below it moves consistently.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from .conditions import CONDITIONS
from .fieldtypes import FIELD_TYPES, FieldType

REPORT_FIRST_ROW = 4  # 0-based: rows 1–3 hold title, subtitle and the live status cell
LABEL_COL = 1  # column B: question texts and the wide answers of block questions
INLINE_COLS = (2, 3, 4)  # columns C, D, E: short answers side by side
STATUS_CELL = "B3"
BUDGET_HEADER_ROW = 4
BUDGET_FIRST_COL = 1  # column A holds the line labels
# Where a filled workbook says which form version it is: a defined name (a cell of the Data sheet)
# and a custom document property. The template writes both; every reader looks for both.
FORM_VERSION_NAME = "form_version"
VERSION_PROPERTY = "Lägesrapport formulärversion"
# A template rolled forward from the previous report keeps that report's facts on the hidden Data
# sheet, each under a workbook name `previous_<fact>` (not a form field: the reader fetches them
# when present and gives no issue when absent, as in every ordinary template).
PREVIOUS_PREFIX = "previous_"
PREVIOUS_FACTS = ("report_number", "period_end", "file", "sha256")


class SpecError(ValueError):
    """The specification (or RAR's override file) is inconsistent; the message says where."""


def col_letter(col: int) -> str:
    """0-based column index to Excel letters (0 → A, 27 → AB)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_address(row: int, col: int) -> str:
    return f"{col_letter(col)}{row + 1}"


@dataclass(frozen=True)
class Field:
    """One input cell of the template; its defined name is its key."""

    key: str
    label: str
    type: FieldType
    sheet: str
    row: int
    col: int
    required: bool | str = False
    hint: str = ""
    group: str = "report"  # report | budget | financing
    line: str | None = None
    column: str | None = None
    range_max: str | None = None
    prefill: bool = False

    @property
    def cell(self) -> str:
        return cell_address(self.row, self.col)

    @property
    def absolute(self) -> str:
        return f"${col_letter(self.col)}${self.row + 1}"

    @property
    def ref(self) -> str:
        """The defined name's target, e.g. 'Lägesrapport'!$C$5."""
        return f"'{self.sheet}'!{self.absolute}"

    @property
    def condition(self) -> str | None:
        return self.required if isinstance(self.required, str) else None


@dataclass(frozen=True)
class LayoutRow:
    row: int
    kind: str
    text: str = ""
    texts: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    lines: int = 1
    keep_with_next: bool = False  # printing: never end a page between this row and the next item


@dataclass(frozen=True)
class Condition:
    key: str
    when: str
    message: str
    excel: str  # the same condition as an Excel formula over the defined names


# When an instruction is shown (TemplateOptions, common/config.py): always, only in a template with
# the Validera button, only where rar.toml gives the upload address, or only where it does not.
INSTRUCTION_WHEN = ("", "excel_buttons", "upload_url", "no_upload_url")


@dataclass(frozen=True)
class Instruction:
    """A heading ("": go on under the one before) and paragraphs; `{upload_url}`: rar.toml's [template]."""

    heading: str
    text: str
    when: str = ""


@dataclass(frozen=True)
class BudgetLine:
    key: str
    label: str
    row: int
    group: str  # budget | financing


@dataclass(frozen=True)
class BudgetColumn:
    key: str
    label: str
    type: FieldType
    col: int
    formula: str | None = None
    prefill: bool = False
    carry_plus: str | None = None  # rolled forward: the previous report's value plus this column's

    @property
    def is_input(self) -> bool:
        return self.formula is None


@dataclass(frozen=True)
class Carried:
    """An input cell a rolled-forward template fills with a formula: the previous report's value
    (the workbook name `previous`, on the hidden Data sheet) plus this report's `plus` answer.
    The cell stays open; the reader computes the value itself from the two (check.py)."""

    key: str  # the field, e.g. budget_staff_actual_cumulative
    previous: str  # previous_budget_staff_actual_cumulative
    plus: str  # budget_staff_actual_period

    @property
    def formula(self) -> str:
        return f"=N({self.previous})+N({self.plus})"


@dataclass(frozen=True)
class BudgetLayout:
    title: str
    intro: str
    lines_heading: str
    financing_heading: str
    total_label: str
    header_row: int
    lines: tuple[BudgetLine, ...]
    lines_total_row: int
    financing_header_row: int
    financing: tuple[BudgetLine, ...]
    financing_total_row: int
    balance_row: int
    columns: tuple[BudgetColumn, ...]
    balance_label: str = "Kostnader minus finansiering (ska vara 0)"

    def column(self, key: str) -> BudgetColumn:
        return next(c for c in self.columns if c.key == key)


@dataclass(frozen=True, eq=False)  # hashed by identity: load_spec caches one object per config
class FormSpec:
    version: str
    title: str
    subtitle: str
    organisation: str
    report_sheet: str
    budget_sheet: str
    instructions_sheet: str
    data_sheet: str
    control_sheet: str  # open sheet for the Validera button's list of problems (not protected)
    period_tolerance_days: int
    fields: dict[str, Field]
    layout: tuple[LayoutRow, ...]
    conditions: dict[str, Condition]
    budget: BudgetLayout
    carried: dict[str, Carried]  # field key → the cell a rolled-forward template carries (carry_plus)
    instructions: tuple[Instruction, ...] = ()
    status_cell: str = STATUS_CELL
    fingerprint: str = ""  # SHA-256 of the merged form data: the parsed-report cache's key (consolidate/cache.py)

    @cached_property  # asked for every file read
    def previous_names(self) -> tuple[str, ...]:
        """Every `previous_*` name a rolled-forward template may have: the facts, then the carried values."""
        return tuple(PREVIOUS_PREFIX + fact for fact in PREVIOUS_FACTS) + tuple(
            c.previous for c in self.carried.values()
        )

    def field(self, key: str) -> Field:
        return self.fields[key]

    @property
    def report_fields(self) -> list[Field]:
        return [f for f in self.fields.values() if f.group == "report"]

    @property
    def budget_fields(self) -> list[Field]:
        return [f for f in self.fields.values() if f.group != "report"]

    def budget_key(self, line: str, column: str) -> str:
        """The defined name of a budget cell: budget_<line>_<column> or <financing>_<column>."""
        if any(f.key == line for f in self.budget.financing):
            return f"{line}_{column}"
        return f"budget_{line}_{column}"

    @cached_property  # asked for every line of every report: budget_key searches the financing lines
    def budget_keys(self) -> dict[tuple[str, str], str]:
        """(line, column) → defined name, for every cost and financing line and every column."""
        return {
            (line.key, column.key): self.budget_key(line.key, column.key)
            for line in self.budget.lines + self.budget.financing
            for column in self.budget.columns
        }

    @property
    def sheets(self) -> tuple[str, ...]:
        """The form's own sheets, all protected (the open control sheet comes after them)."""
        return (self.instructions_sheet, self.report_sheet, self.budget_sheet, self.data_sheet)


# --- loading -----------------------------------------------------------------------------------


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else (lists included) is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _field_type(name: str, where: str) -> FieldType:
    try:
        return FIELD_TYPES[name]
    except KeyError:
        known = ", ".join(sorted(FIELD_TYPES))
        raise SpecError(f"{where}: okänd typ ”{name}”. Kända typer: {known}.") from None


def _report_layout(data: dict[str, Any], sheet: str) -> tuple[tuple[LayoutRow, ...], dict[str, Field]]:
    field_data: dict[str, Any] = data.get("fields", {})
    conditions = data.get("conditions", {})
    rows: list[LayoutRow] = []
    fields: dict[str, Field] = {}
    row = REPORT_FIRST_ROW
    for number, item in enumerate(data.get("layout", []), start=1):
        kind = item.get("kind")
        keys = tuple(item.get("fields", ()))
        where = f"layout nr {number}"
        if kind not in {"heading", "columns", "inline", "block", "note"}:
            raise SpecError(f"{where}: okänd sorts rad ”{kind}”.")
        if kind in {"inline", "block"} and not keys:
            raise SpecError(f"{where}: raden saknar fält.")
        if kind == "block" and len(keys) != 1:
            raise SpecError(f"{where}: en block-rad har exakt ett fält.")
        if kind == "inline" and len(keys) > len(INLINE_COLS):
            raise SpecError(f"{where}: högst {len(INLINE_COLS)} fält på en rad.")
        text = item.get("text", "")
        if not text and keys:
            label = field_data.get(keys[0], {}).get("label", "")
            text = label if label.endswith(("?", ":")) else label + ":"
        layout_row = LayoutRow(
            row=row,
            kind=kind,
            text=text,
            texts=tuple(item.get("texts", ())),
            fields=keys,
            lines=int(item.get("lines", 1)),
            keep_with_next=bool(item.get("keep_with_next", kind in {"heading", "columns"})),
        )
        rows.append(layout_row)
        answer_row = row + 1 if kind == "block" else row
        for index, key in enumerate(keys):
            if key in fields:
                raise SpecError(f"{where}: fältet ”{key}” står två gånger i layouten.")
            if key not in field_data:
                raise SpecError(f"{where}: fältet ”{key}” saknas under [fields].")
            spec = field_data[key]
            required = spec.get("required", False)
            if isinstance(required, str) and required not in conditions:
                raise SpecError(f"fields.{key}: okänt villkor ”{required}” under required.")
            fields[key] = Field(
                key=key,
                label=spec["label"],
                type=_field_type(spec.get("type", ""), f"fields.{key}"),
                sheet=sheet,
                row=answer_row,
                col=LABEL_COL if kind == "block" else INLINE_COLS[index],
                required=required,
                hint=spec.get("hint", ""),
                range_max=spec.get("range_max"),
                prefill=bool(spec.get("prefill", False)),
            )
        row = answer_row + 1
    missing = sorted(set(field_data) - set(fields))
    if missing:
        raise SpecError(f"Fälten {', '.join(missing)} finns under [fields] men inte i layouten.")
    return tuple(rows), fields


def _cell_name(line: BudgetLine, column: str) -> str:
    """The defined name of a budget cell: budget_<line>_<column>, or <financing>_<column>."""
    return f"{line.key}_{column}" if line.group == "financing" else f"budget_{line.key}_{column}"


def _budget_layout(data: dict[str, Any], sheet: str, spec_fields: dict[str, Field]) -> BudgetLayout:
    budget = data.get("budget", {})
    columns = tuple(
        BudgetColumn(
            key=c["key"],
            label=c["label"],
            type=_field_type(c.get("type", ""), f"budget.columns {c['key']}"),
            col=BUDGET_FIRST_COL + index,
            formula=c.get("formula"),
            prefill=bool(c.get("prefill", False)),
            carry_plus=c.get("carry_plus"),
        )
        for index, c in enumerate(budget.get("columns", []))
    )
    if not columns:
        raise SpecError("budget.columns: budgeten saknar kolumner.")
    amounts = {c.key for c in columns if c.is_input and c.type.name == "amount"}
    for column in columns:
        if column.carry_plus and not {column.key, column.carry_plus} <= amounts:
            raise SpecError(
                f"budget.columns {column.key}: carry_plus kräver att både kolumnen och "
                f"”{column.carry_plus}” är belopp som fylls i."
            )

    def lines(items: list[dict[str, Any]], first_row: int, group: str) -> tuple[BudgetLine, ...]:
        return tuple(
            BudgetLine(key=item["key"], label=item["label"], row=first_row + i, group=group)
            for i, item in enumerate(items)
        )

    header_row = BUDGET_HEADER_ROW
    cost_lines = lines(budget.get("lines", []), header_row + 1, "budget")
    lines_total_row = header_row + 1 + len(cost_lines)
    financing_header_row = lines_total_row + 2
    financing = lines(budget.get("financing", []), financing_header_row + 1, "financing")
    financing_total_row = financing_header_row + 1 + len(financing)
    seen: set[str] = set()
    for line in cost_lines + financing:
        if line.key in seen:
            raise SpecError(f"budget: raden ”{line.key}” står två gånger.")
        seen.add(line.key)
        for column in columns:
            if not column.is_input:
                continue
            key = _cell_name(line, column.key)
            if key in spec_fields:
                raise SpecError(f"budget: namnet ”{key}” används redan av ett annat fält.")
            spec_fields[key] = Field(
                key=key,
                label=f"{line.label} – {column.label}",
                type=column.type,
                sheet=sheet,
                row=line.row,
                col=column.col,
                group=line.group,
                line=line.key,
                column=column.key,
                prefill=column.prefill,
            )
    return BudgetLayout(
        title=budget.get("title", "Budget"),
        intro=budget.get("intro", ""),
        lines_heading=budget.get("lines_heading", "Kostnader"),
        financing_heading=budget.get("financing_heading", "Finansiering"),
        total_label=budget.get("total_label", "Summa"),
        header_row=header_row,
        lines=cost_lines,
        lines_total_row=lines_total_row,
        financing_header_row=financing_header_row,
        financing=financing,
        financing_total_row=financing_total_row,
        balance_row=financing_total_row + 2,
        columns=columns,
        balance_label=budget.get("balance_label", "Kostnader minus finansiering (ska vara 0)"),
    )


def _carried(budget: BudgetLayout) -> dict[str, Carried]:
    """Per cost and financing line, each column with `carry_plus`: what a rolled template carries."""
    carried = {}
    for line in budget.lines + budget.financing:
        for column in budget.columns:
            if column.carry_plus:
                key = _cell_name(line, column.key)
                carried[key] = Carried(key, PREVIOUS_PREFIX + key, _cell_name(line, column.carry_plus))
    return carried


def build_spec(data: dict[str, Any]) -> FormSpec:
    form = data.get("form", {})
    report_sheet = form.get("report_sheet", "Lägesrapport")
    budget_sheet = form.get("budget_sheet", "Budget")
    layout, fields = _report_layout(data, report_sheet)
    budget = _budget_layout(data, budget_sheet, fields)
    taken = sorted(key for key in fields if key.startswith(PREVIOUS_PREFIX))
    if taken:
        raise SpecError(f"Fälten {', '.join(taken)}: namn som börjar med {PREVIOUS_PREFIX} är reserverade.")
    unknown = sorted(set(data.get("conditions", {})) - set(CONDITIONS))
    if unknown:
        raise SpecError(f"conditions: {', '.join(unknown)} saknar en regel i conditions.py.")
    conditions = {
        key: Condition(
            key=key, when=c.get("when", ""), message=c.get("message", ""), excel=c.get("excel", "FALSE")
        )
        for key, c in data.get("conditions", {}).items()
    }
    return FormSpec(
        version=str(form.get("version", "")),
        title=form.get("title", "Lägesrapport"),
        subtitle=form.get("subtitle", ""),
        organisation=form.get("organisation", ""),
        report_sheet=report_sheet,
        budget_sheet=budget_sheet,
        instructions_sheet=form.get("instructions_sheet", "Instruktioner"),
        data_sheet=form.get("data_sheet", "Data"),
        control_sheet=form.get("control_sheet", "Kontroll"),
        period_tolerance_days=int(form.get("period_tolerance_days", 45)),
        fields=fields,
        layout=layout,
        conditions=conditions,
        budget=budget,
        carried=_carried(budget),
        instructions=_instructions(data.get("instructions", [])),
        fingerprint=_fingerprint(data),
    )


def _instructions(items: list[dict[str, Any]]) -> tuple[Instruction, ...]:
    found = tuple(Instruction(i.get("heading", ""), i.get("text", ""), i.get("when", "")) for i in items)
    unknown = [f"nr {n}: ”{item.when}”" for n, item in enumerate(found, 1) if item.when not in INSTRUCTION_WHEN]
    if unknown:
        raise SpecError(f"instructions: okänt when ({'; '.join(unknown)}). Kända: {', '.join(INSTRUCTION_WHEN[1:])}.")
    return found


def _fingerprint(data: dict[str, Any]) -> str:
    """The same form data (form.toml and RAR's override, merged) gives the same digest, in any order."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@cache
def _default_data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("form.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def _load_spec_cached(config: str | None) -> FormSpec:
    data = _default_data()
    if config is not None:
        try:
            override = tomllib.loads(Path(config).read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"{config}: filen är inte giltig TOML ({exc}).") from None
        except OSError as exc:
            raise SpecError(f"{config}: filen kan inte läsas ({exc.strerror}).") from None
        data = _merge(data, override)
    return build_spec(data)


def load_spec(config: str | Path | None = None) -> FormSpec:
    """The default form, or the default with RAR's override file merged in."""
    return _load_spec_cached(None if config is None else str(Path(config).resolve()))


def default_spec() -> FormSpec:
    return load_spec(None)
