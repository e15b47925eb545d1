"""The trail (issue 22): from any amount on the master's Budget sheet, and any count on its
Deltagare sheet, one click opens the report at the one cell it came from.

A finance officer's click is a link's target: each test reads every link target of those sheets'
figures, opens the linked file relative to the master's folder, reads the cell the link names and
finds the number the master shows. Beside the inbox (the command), elsewhere (a relative path
up and over), and unpacked from the web's zip.
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from xlsxwriter.utility import xl_rowcol_to_cell
from test_web_http import make_client, unpacked_master, web
from webtools import BROKEN, CORRECTED, FIRST, GOOD, WARNED, api_send, csrf_of, examples, login  # noqa: F401

from lagesrapport_dev.examples import demo_files, write_examples
from lagesrapport_xl.cli import main as cli_main
from lagesrapport_xl.consolidate.batch import consolidate
from lagesrapport_xl.consolidate.receipts import Receipts
from lagesrapport_xl.master.placement import place_tables
from lagesrapport_xl.master.writer import write_master
from lagesrapport_xl.web.overview import store_receipts

_LINK = re.compile(r'^=HYPERLINK\("((?:[^"]|"")*)",(.*)\)$')
_CELL = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!([A-Z]{1,3}[0-9]+)$")


def _workbook(path: Path, *, values: bool) -> Any:
    with warnings.catch_warnings():  # openpyxl skips the master's conditional-format extensions
        warnings.simplefilter("ignore", UserWarning)
        return load_workbook(path, data_only=values)


def link_target(formula: Any) -> tuple[str, str | None, str]:
    """(file path, sheet!cell or None, the shown argument) of a HYPERLINK formula."""
    found = _LINK.match(formula) if isinstance(formula, str) else None
    assert found, f"not a link: {formula!r}"
    target = found.group(1).replace('""', '"')
    path, _, place = target.partition("#")
    return unquote(path), place or None, found.group(2)


def open_cell(master: Path, formula: str, opened: dict[Path, Any]) -> Any:
    """Follow a figure's link as Excel does: the file relative to the master's folder, then the
    one cell named; its value."""
    path, place, _shown = link_target(formula)
    assert place is not None, formula
    cell = _CELL.match(place)
    assert cell, f"not one cell: {place}"  # never a range: one click, one cell
    sheet = (cell.group(1) or "").replace("''", "'") or cell.group(2)
    file = (master.parent / path).resolve()
    assert file.is_file(), f"{formula} points at {file}, which does not exist"
    if file not in opened:
        opened[file] = _workbook(file, values=True)
    return opened[file][sheet][cell.group(3)].value


def traced_cells(master: Path, consolidation: Any, table_keys: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(sheet, cell, column key) of every figure of the tables that was taken from a report."""
    placements, _ = place_tables(consolidation)
    cells = []
    for key in table_keys:
        table, place = consolidation.tables[key], placements[key]
        for column in table.columns:
            if not column.traced:
                continue
            col = place.col(column.key)
            for offset in range(len(table.rows)):
                if table.value(offset, column.key) is not None:
                    cells.append((table.sheet, xl_rowcol_to_cell(place.first_data_row + offset, col), column.key))
    return cells


def check_trail(master: Path, consolidation: Any) -> int:
    """Every amount of the Budget sheet and count of the Deltagare sheet: a link to one cell whose
    value, in the linked file, is the number the master shows (its cached value, which LibreOffice
    recalculates to the same: test_master_libreoffice). Every Källfil: a link to an existing file.
    Returns how many figures were followed."""
    formulas, shown = _workbook(master, values=False), _workbook(master, values=True)
    opened: dict[Path, Any] = {}
    cells = traced_cells(master, consolidation, ("budget", "financing", "participants"))
    assert {sheet for sheet, _, _ in cells} == {"Budget", "Deltagare"}
    for sheet, ref, key in cells:
        formula, value = formulas[sheet][ref].value, shown[sheet][ref].value
        source = open_cell(master, formula, opened)
        assert isinstance(value, (int, float)) and source == pytest.approx(value), (sheet, ref, key, formula, source)
        assert float(link_target(formula)[2]) == pytest.approx(value)  # the number in the formula, too
    for sheet in ("Budget", "Deltagare", "Översikt", "Tidsandel", "Texter"):
        links = [c.value for row in formulas[sheet].iter_rows() for c in row
                 if isinstance(c.value, str) and c.value.startswith("=HYPERLINK(") and "#" not in c.value]
        assert links, sheet  # each report's Källfil
        for formula in links:
            path, _place, _shown = link_target(formula)
            assert (master.parent / path).is_file(), formula
    return len(cells)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("spar") / "Inkorg"
    write_examples(folder, demo_files())
    return folder


def test_the_commands_master_beside_the_inbox_links_every_figure_to_its_cell(inbox: Path) -> None:
    master = inbox.parent / "sammanstallning.xlsx"
    assert cli_main(["consolidate", str(inbox), "-o", str(master), "-q"]) == 0
    consolidation = consolidate([inbox], workers=1)
    followed = check_trail(master, consolidation)
    assert followed >= 9 * 4 * 5  # five insatser × the cost lines × four amounts, at least
    budget = _workbook(master, values=False)["Budget"]
    header = [c.value for c in next(row for row in budget.iter_rows() if row[0].value == "Diarienummer hos RAR")]
    assert header[-3:] == ["Källfil", "Sparad som", "Celler i källfilen"]
    first = next(row for row in budget.iter_rows() if row[0].value == "2022-0013")
    assert link_target(first[-3].value)[0] == "Inkorg/Halsa_och_arbete_Eskilstuna_rapport_2.xlsx"
    assert first[-2].value == "Halsa_och_arbete_Eskilstuna_rapport_2.xlsx"
    assert re.fullmatch(r"Budget!B\d+, C\d+, D\d+, E\d+", first[-1].value)  # each amount's cell, not a range


def test_a_master_written_elsewhere_links_up_and_over(inbox: Path, tmp_path: Path) -> None:
    consolidation = consolidate([inbox], workers=1)
    master = tmp_path / "ekonomi" / "ar" / "sammanstallning.xlsx"
    master.parent.mkdir(parents=True)
    write_master(consolidation, master)
    check_trail(master, consolidation)
    formula = _workbook(master, values=False)["Budget"]["E4"].value
    assert link_target(formula)[0].startswith("../../")


def test_the_file_is_named_as_sent_and_a_hostile_name_stays_text(inbox: Path, tmp_path: Path) -> None:
    stored = "Halsa_och_arbete_Eskilstuna_rapport_2.xlsx"
    hostile = 'Budget "hälsa", 2022")&HYPERLINK("http://x.se".xlsx'
    receipts = Receipts(sent={stored: hostile})
    consolidation = consolidate([inbox], workers=1, receipts=receipts)
    master = inbox.parent / "med_namn.xlsx"
    write_master(consolidation, master)
    check_trail(master, consolidation)
    shown = _workbook(master, values=True)["Budget"]
    row = next(row for row in shown.iter_rows() if row[0].value == "2022-0013")
    assert [c.value for c in row[-3:-1]] == [hostile, stored]
    formula = _workbook(master, values=False)["Budget"][row[-3].coordinate].value
    assert link_target(formula) == (f"Inkorg/{stored}", None, '"{}"'.format(hostile.replace('"', '""')))


def test_the_master_buttons_zip_holds_the_files_its_links_open(tmp_path: Path, examples) -> None:  # noqa: F811
    client = make_client(tmp_path)
    for name in (FIRST, CORRECTED, BROKEN, GOOD, WARNED):
        assert api_send(client, examples[name].read_bytes(), f"Skickad {name}", name).status_code in (200, 201)
    login(client)
    answer = client.post("/rar/sammanstallning", data={"csrf_token": csrf_of(client.get("/rar").text),
                                                       "urval": "alla"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    unpacked = tmp_path / "uppackad"
    master = unpacked_master(answer.content, unpacked)
    page = client.get("/rar").text  # RAR's page gives the same trail: the name sent, the stored name …
    assert f">Skickad {WARNED}</a>" in page and "sparad som" in page and "kontrollkopia" in page
    receipts = store_receipts(web(client).store)
    moved = tmp_path / "flyttad"
    shutil.move(str(web(client).settings.inbox), moved)  # the zip stands alone: nothing on the server is needed
    consolidation = consolidate([moved], workers=1, receipts=receipts)
    inside = sorted(p.name for p in (unpacked / "inkorg").iterdir())
    counted = sorted(o.name for o in consolidation.files if o.accepted)
    assert inside == counted  # the counted files: no rejected file, no superseded copy … beside the master
    assert check_trail(master, consolidation) > 0
    budget = _workbook(master, values=True)["Budget"]
    sent = {row[-3].value for row in budget.iter_rows() if isinstance(row[-3].value, str)}
    assert f"Skickad {WARNED}" in sent  # the name the coordinator sent, with the stored name beside it
