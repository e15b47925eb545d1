"""The formula language of the master's derived columns (master/formulas.py): each construct of
its grammar becomes the Excel formula it promises, and a name the master lacks is a clear error."""

from __future__ import annotations

import pytest

from lagesrapport_xl.consolidate.tables import Column, Table
from lagesrapport_xl.master.formulas import FormulaError, FormulaRenderer, cached_result, named_cells
from lagesrapport_xl.master.placement import Placement


def table(key: str, sheet: str, columns: tuple[str, ...], rows: list[tuple], hidden: tuple[str, ...] = (),
          totals: dict | None = None) -> Table:
    return Table(key, sheet, key, key, tuple(Column(c, c) for c in columns), rows, (*columns, *hidden), totals)


# Deltagare: data rows 3-5 (A name, B actual, C planned), total row 6.
PEOPLE = Placement(
    table("people", "Deltagare", ("name", "actual", "planned"), [("a", 1, 2), ("b", 3, 4), ("c", 5, 6)],
          totals={"actual": 9, "planned": 12}),
    title_row=0, header_row=1, rows=3,
)
# Översikt, from column B: data rows 4-5 (B name, C actual); row 1 names people's row 3, row 2 none.
SUMMARY = Placement(
    table("summary", "Översikt", ("name", "actual"), [("a", None, 2), ("b", None, None)], hidden=("_row",)),
    title_row=0, header_row=2, rows=2, first_col=1,
)
# Om: the tolerance in B3.
ABOUT = Placement(table("about", "Om", ("label", "value"), [("Tolerans", 0.1, "tolerance")], hidden=("_name",)),
                  title_row=0, header_row=1, rows=1)
SPACED = Placement(table("spaced", "Mitt blad", ("x",), [(1,), (2,)]), title_row=0, header_row=1, rows=2)
PLACEMENTS = {p.table.key: p for p in (PEOPLE, SUMMARY, ABOUT, SPACED)}


@pytest.fixture
def renderer() -> FormulaRenderer:
    return FormulaRenderer(PLACEMENTS, named_cells(PLACEMENTS))


def hidden(placement: Placement, row: int):
    return lambda key: placement.table.value(row, key)


def test_own_cell_is_this_row_of_this_table(renderer: FormulaRenderer) -> None:
    assert renderer.render("{actual}/{planned}", PEOPLE, 0) == "=B3/C3"
    assert renderer.render("{actual}/{planned}", PEOPLE, 2) == "=B5/C5"
    assert renderer.render("N({actual})", SUMMARY, 1) == "=N(C5)"  # a table that starts further right


def test_own_cell_in_the_total_row_is_the_total_cell(renderer: FormulaRenderer) -> None:
    assert renderer.render('IF(N({planned})=0,"",{actual}/{planned})', PEOPLE, None) == '=IF(N(C6)=0,"",B6/C6)'


def test_a_template_of_own_cells_is_a_row_pattern(renderer: FormulaRenderer) -> None:
    template = 'IF({actual}>0,"{",{planned})'  # a brace without its pair is Excel text
    pattern = renderer.row_pattern(template, PEOPLE)
    assert pattern == '=IF(B{0}>0,"{{",C{0})'
    assert pattern.format(4) == renderer.render(template, PEOPLE, 1) == '=IF(B4>0,"{",C4)'
    assert renderer.row_pattern("{people.actual@}", SUMMARY) is None  # another table's rows: rendered


def test_column_is_another_tables_whole_data_range(renderer: FormulaRenderer) -> None:
    assert renderer.render("SUM({people.actual})", SUMMARY, 0) == "=SUM(Deltagare!$B$3:$B$5)"
    assert renderer.render("SUM({people.actual})", PEOPLE, 0) == "=SUM($B$3:$B$5)"  # same sheet: no prefix
    assert renderer.render("SUM({spaced.x})", PEOPLE, 0) == "=SUM('Mitt blad'!$A$3:$A$4)"
    assert renderer.row_pattern("{actual}*SUM({people.actual})", PEOPLE) == "=B{0}*SUM($B$3:$B$5)"


def test_row_cell_without_ref_is_the_same_data_row(renderer: FormulaRenderer) -> None:
    assert renderer.render("{people.actual@}", SUMMARY, 0) == "=Deltagare!B3"
    assert renderer.render("{people.actual@}", SUMMARY, 1) == "=Deltagare!B4"
    assert renderer.render("{people.actual@}", SUMMARY, None) is None  # no total formula


def test_row_cell_with_ref_is_the_row_this_row_names(renderer: FormulaRenderer) -> None:
    assert renderer.render("{people.actual@_row}", SUMMARY, 0, hidden(SUMMARY, 0)) == "=Deltagare!B5"
    assert renderer.render("{people.actual@_row}", SUMMARY, 1, hidden(SUMMARY, 1)) is None  # no such row: blank
    assert renderer.render("{people.actual@_row}", SUMMARY, None) is None
    # A hidden key no row has (no report 3 anywhere) is missing in every row, not an error.
    assert renderer.render("{people.actual@_row_3}", SUMMARY, 0, hidden(SUMMARY, 0)) is None


def test_named_is_an_absolute_cell_of_om(renderer: FormulaRenderer) -> None:
    assert named_cells(PLACEMENTS) == {"tolerance": "Om!$B$3"}
    assert renderer.render("ABS({actual})<={!tolerance}", PEOPLE, 0) == "=ABS(B3)<=Om!$B$3"
    assert renderer.row_pattern("ABS({actual})<={!tolerance}", PEOPLE) == "=ABS(B{0})<=Om!$B$3"


@pytest.mark.parametrize(
    ("template", "placement", "problem"),
    [
        ("SUM({nobody.actual})", PEOPLE, "no table 'nobody'"),
        ("{nobody.actual@}", SUMMARY, "no table 'nobody'"),
        ("{people.nothing}", SUMMARY, "no column 'nothing' in the table 'people'"),
        ("{nothing}*2", PEOPLE, "no column 'nothing' in the table 'people'"),
        ("{!nothing}", PEOPLE, "no named cell 'nothing'"),
        ("{actual@_row}", SUMMARY, "needs a table"),
    ],
)
def test_a_name_the_master_lacks_is_a_clear_error(
    renderer: FormulaRenderer, template: str, placement: Placement, problem: str
) -> None:
    with pytest.raises(FormulaError, match=problem) as raised:
        renderer.render(template, placement, 0, hidden(placement, 0))
    assert repr(template) in str(raised.value) and f"'{placement.table.key}'" in str(raised.value)
    with pytest.raises(FormulaError, match=problem):
        renderer.row_pattern(template, placement)


def test_the_cached_result_is_what_excel_stores() -> None:
    assert [cached_result(v) for v in (None, float("nan"), True, False, 0.5, "Ja")] == ["", "", "TRUE", "FALSE", 0.5,
                                                                                         "Ja"]
