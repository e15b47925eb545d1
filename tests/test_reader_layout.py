"""The answers' places are worked out once per layout of names and sheets (reader/layout.py) and
replayed: a file of another layout must never get a layout seen before (hypothesis), and real
files of different layouts, read one after another, are each located and checked as alone."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lagesrapport_xl.form.spec import default_spec
from lagesrapport_xl.reader import layout
from lagesrapport_xl.reader.cells import RawCell, WorkbookCells
from lagesrapport_xl.reader.check import check_cells
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.reader.sources import parse_name_target

SPEC = default_spec()
KEYS = list(SPEC.fields)
SHEETS = list(dict.fromkeys(field.sheet for field in SPEC.fields.values()))
OTHER_SHEETS = ["Ekonomi", "Blad1", "Instruktioner"]
KINDS = ["template"] * 6 + ["missing", "ref", "range", "moved", "elsewhere", "conflict", "lower"]


def _target_text(kind: str, key: str, sheets: dict[str, str], draw: Any) -> str | None:
    field = SPEC.fields[key]
    sheet = sheets.get(field.sheet, field.sheet)  # a renamed sheet takes its names along, as in Excel
    letters, row = field.cell.rstrip("0123456789"), int(field.cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    if kind == "missing":
        return None
    if kind == "ref":
        return "#REF!"
    if kind == "range":
        return f"'{sheet}'!${letters}${row}:${letters}${row + 1}"
    if kind == "moved":
        return f"'{sheet}'!${letters}${row + draw(st.integers(1, 3))}"
    if kind == "elsewhere":
        return f"'{draw(st.sampled_from(SHEETS + OTHER_SHEETS))}'!${letters}${row}"
    if kind == "conflict":
        other = SPEC.fields[draw(st.sampled_from(KEYS))]
        return f"'{sheets.get(other.sheet, other.sheet)}'!{other.cell}"
    return f"'{sheet}'!${letters}${row}"


@st.composite
def layouts(draw) -> tuple[list[str], dict[str, str]]:
    """Sheets (template sheets kept, renamed or deleted; others added) and each field's name
    (the template's, missing, broken, a range, moved, on another sheet, on another answer's cell,
    or written in lower case)."""
    sheets: dict[str, str] = {}
    order: list[str] = []
    for sheet in SHEETS:
        fate = draw(st.sampled_from(["keep"] * 4 + ["rename", "delete"]))
        if fate == "delete":
            sheets[sheet] = "#gone"
            continue
        sheets[sheet] = draw(st.sampled_from(OTHER_SHEETS)) if fate == "rename" else sheet
        order.append(sheets[sheet])
    order += draw(st.lists(st.sampled_from(OTHER_SHEETS), max_size=2))
    names: dict[str, str] = {}
    for key in KEYS:
        kind = draw(st.sampled_from(KINDS))
        text = _target_text(kind, key, sheets, draw)
        if text is not None:
            names[key.lower() if kind == "lower" else key] = text
    return order, names


def _changed(draw, order: list[str], names: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """A layout one step from another: the same names with other sheets, or one name otherwise."""
    if draw(st.booleans()):
        return draw(st.permutations(order + draw(st.lists(st.sampled_from(OTHER_SHEETS), max_size=1)))), names
    key = draw(st.sampled_from(KEYS))
    changed = {k: v for k, v in names.items() if k.lower() != key.lower()}
    kind = draw(st.sampled_from(KINDS))
    text = _target_text(kind, key, {}, draw)
    if text is not None:
        changed[key] = text
    return order, changed


def _cells(order: list[str], names: dict[str, str]) -> WorkbookCells:
    targets = {name: parse_name_target(text) for name, text in names.items()}
    values = {name: RawCell(f"svar {name}") for name, target in targets.items() if target.cell}
    return WorkbookCells(sheets=list(order), names=targets, cells=values, form_version=SPEC.version)


def _outcome(order: list[str], names: dict[str, str]) -> tuple[Any, ...]:
    result = check_cells(_cells(order, names), SPEC, file="rapport.xlsx")
    return result.issues, result.values, result.unread


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=layouts(), data=st.data())
def test_a_layout_seen_before_never_stands_in_for_another(first, data):
    second = _changed(data.draw, *first)
    layout._known.clear()
    alone = _outcome(*second)  # worked out with nothing remembered
    layout._known.clear()
    _outcome(*first)
    assert _outcome(*second) == alone  # after another layout one step away
    assert _outcome(*second) == alone  # and again, from what is remembered
    assert _outcome(*first) == _outcome(*first)


def test_a_batch_of_one_layout_is_worked_out_once(fill, answers, spec):
    layout._known.clear()
    first = read_report(fill(answers, "a.xlsx"))
    second = read_report(fill({**answers, "activities": "Något annat"}, "b.xlsx"))
    assert first.ok and second.ok
    assert len(layout._known) == 1


def test_remembered_layouts_are_few():
    layout._known.clear()
    for number in range(layout._KEEP + 5):
        _outcome(SHEETS + [f"Blad{number}"], {key: SPEC.fields[key].ref for key in KEYS})
    assert len(layout._known) == layout._KEEP


@pytest.mark.parametrize("renamed_first", [True, False])
def test_files_of_different_layouts_read_one_after_another(fill, answers, spec, tmp_path, renamed_first):
    """A renamed sheet, a moved name and a deleted name, between plain reports, in either order."""
    from openpyxl import load_workbook

    def edited(name: str, change) -> Any:
        workbook = load_workbook(fill(answers))
        change(workbook)
        workbook.save(tmp_path / name)
        return tmp_path / name

    def rename(wb):
        wb[spec.budget_sheet].title = "Ekonomi"
        for defined in wb.defined_names.values():
            defined.attr_text = defined.attr_text.replace(f"'{spec.budget_sheet}'!", "'Ekonomi'!")

    def conflict(wb):
        wb.defined_names["men_actual"].attr_text = spec.fields["women_actual"].ref

    plain = fill(answers, "vanlig.xlsx")
    files = {"renamed": edited("omdopt.xlsx", rename), "conflict": edited("samma.xlsx", conflict),
             "missing": edited("utan.xlsx", lambda wb: wb.defined_names.pop("women_actual")), "plain": plain}
    expected = {"renamed": ["sheet_renamed"], "conflict": ["name_conflict"], "missing": ["name_missing"], "plain": []}
    order = ["renamed", "plain", "conflict", "plain", "missing", "plain"]
    if not renamed_first:
        order.reverse()
    layout._known.clear()
    alone = {}
    for kind, path in files.items():
        layout._known.clear()
        alone[kind] = read_report(path)
    layout._known.clear()
    for kind in order:
        result = read_report(files[kind])
        assert [issue.code for issue in result.issues] == expected[kind]
        assert (result.issues, result.values, result.unread) == (
            alone[kind].issues, alone[kind].values, alone[kind].unread)
