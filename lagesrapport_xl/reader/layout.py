"""Where each answer is, worked out once per workbook layout (check.py's `_locate`).

Following each field's defined name (missing, broken, on another sheet, moved, renamed sheet,
two names on one cell) depends on nothing but the form specification, the sheet names and the
defined names; every report of a batch shares them, so the answer is computed once (0.3 ms a
report) and replayed. Those three are the key, compared in full (`==` on the names, whose
targets are values): a file whose names or sheets differ in anything gets an entry of its own,
never another layout's answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..common import catalogue as codes
from ..common.catalogue import Code
from ..form.spec import Field, FormSpec
from .cells import NameTarget

_KEEP = 32  # layouts remembered: a batch has one, or a few (LibreOffice-saved, an older template)


@dataclass(frozen=True)
class Layout:
    """What `_locate` makes of one layout: each field's place (sheet, cell as read; cell None when
    not found), the fields that failed, the located fields in the form's order with the lower-case
    name their raw cell is found by, and the issues to add, as Findings.add's arguments, in order."""

    places: dict[str, tuple[str | None, str | None]]
    failed: frozenset[str]
    located: tuple[tuple[str, str], ...]
    calls: tuple[tuple[Code, str | None, Any, dict[str, Any]], ...]


_known: list[tuple[FormSpec, tuple[str, ...], dict[str, NameTarget], Layout]] = []


def layout_of(
    spec: FormSpec, names: Mapping[str, NameTarget], sheets: Sequence[str], template_cells: Mapping[str, str]
) -> Layout:
    """The Layout of these lower-case defined names and sheets (`template_cells`: field key → its
    cell in the template, which belongs to `spec`), from the last few layouts seen or worked out."""
    sheet_names = tuple(sheets)
    for known_spec, known_sheets, known_names, layout in tuple(_known):  # a copy: threads may add
        if known_spec is spec and known_sheets == sheet_names and known_names == names:
            return layout
    layout = _work_out(spec, names, set(sheet_names), template_cells)
    _known.insert(0, (spec, sheet_names, dict(names), layout))
    del _known[_KEEP:]
    return layout


def _work_out(
    spec: FormSpec, names: Mapping[str, NameTarget], sheets: set[str], template_cells: Mapping[str, str]
) -> Layout:
    """Find each answer through its defined name; follow moved names, refuse broken ones."""
    places: dict[str, tuple[str | None, str | None]] = {}
    calls: list[tuple[Code, str | None, Any, dict[str, Any]]] = []
    failed: set[str] = set()
    located: list[tuple[str, str]] = []
    moved: dict[str, list[Field]] = defaultdict(list)
    renamed: dict[str, str] = {}
    lost: dict[str, list[Field]] = defaultdict(list)
    taken: dict[tuple[str, str], Field] = {}
    for field in spec.fields.values():
        target = names.get(field.key.lower())
        problem = _name_problem(field, target, sheets)
        places[field.key] = (field.sheet, None)
        if problem:
            code, parts = problem
            sheet_gone = code in (codes.NAME_MISSING, codes.NAME_REF, codes.NAME_SHEET_MISSING)
            if field.sheet not in sheets and sheet_gone:
                lost[field.sheet].append(field)
            else:
                calls.append((code, field.key, target.text if target else None, parts))
            failed.add(field.key)
            continue
        place = (target.sheet, target.cell)  # both set: _name_problem refused anything else
        if place in taken:
            calls.append((codes.NAME_CONFLICT, field.key, target.text,
                          {"name": field.key, "address": target.cell, "other": taken[place].label}))
            failed.add(field.key)
            continue
        taken[place] = field
        places[field.key] = place
        if target.sheet != field.sheet:
            renamed[field.sheet] = target.sheet
        if target.cell != template_cells[field.key]:
            moved[target.sheet].append(field)
        located.append((field.key, field.key.lower()))
    for expected, actual in renamed.items():
        calls.append((codes.SHEET_RENAMED, None, actual, {"sheet": actual, "expected": expected, "actual": actual}))
    for sheet, fields in lost.items():
        calls.append((codes.SHEET_MISSING, None, sheet, {"sheet": sheet, "sheet_name": sheet, "count": len(fields)}))
    for sheet, fields in moved.items():
        first = fields[0]
        found_at = places[first.key][1]
        calls.append((codes.STRUCTURE_CHANGED, None, None, {
            "sheet": sheet, "cell": found_at, "sheet_name": sheet, "count": len(fields), "example": first.label,
            "found_at": found_at, "template_at": first.cell,
        }))
    return Layout(places, frozenset(failed), tuple(located), tuple(calls))


def _name_problem(
    field: Field, target: NameTarget | None, sheets: set[str]
) -> tuple[Code, dict[str, str]] | None:
    """The code and the message's parts when the field's defined name cannot be followed safely."""

    def parts(**more: str) -> dict[str, str]:  # only for a problem: Field.cell is computed on each call
        return {"name": field.key, "template_cell": field.cell, "template_sheet": field.sheet, **more}

    if target is None:
        return codes.NAME_MISSING, parts()
    if "#REF!" in target.text.upper():
        return codes.NAME_REF, parts()
    if target.sheet is None or target.cell is None:
        return codes.NAME_RANGE, parts(target=target.text)
    if target.sheet not in sheets:
        return codes.NAME_SHEET_MISSING, parts(target_sheet=target.sheet)
    if target.sheet != field.sheet and field.sheet in sheets:
        return codes.NAME_ELSEWHERE, parts(target_sheet=target.sheet, target_cell=target.cell)
    return None
