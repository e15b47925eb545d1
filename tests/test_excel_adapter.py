"""The Excel layer, tested through xlwings' own remote workbook (no Excel on Linux).

Each test fills the real generated template the way a coordinator does, saves it, builds the JSON
that xlwings' Excel client sends for that file, runs the entry point on `xw.Book(json=…)` and
asserts on the actions xlwings would send back to Excel: the values written into the template's
open Kontroll sheet (or the sheet added to an older file), the message box. xlwings' remote
engine needs a licence key; `XLWINGS_LICENSE_KEY=noncommercial` (PolyForm Noncommercial 1.0.0)
is set here, inside the test process only.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import subprocess
import sys
import warnings
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from lagesrapport_xl.excel.payload import OFFICE_JS, VBA, book_payload
from lagesrapport_xl.reader.check import check_cells
from lagesrapport_xl.reader.sources import read_fast

LICENCE = {"XLWINGS_LICENSE_KEY": "noncommercial"}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def xw():
    """xlwings with its remote engine, which registers only when the licence key is set at import."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in LICENCE.items():
            mp.setenv(key, value)
        import xlwings

        if "remote" not in [engine.name for engine in xlwings.engines]:  # imported earlier without the key
            from xlwings.main import Engine
            from xlwings.pro import _xlremote

            xlwings.engines.add(Engine(impl=_xlremote.engine))
        yield xlwings
        if hasattr(xlwings.Book, "_mock_caller"):
            del xlwings.Book._mock_caller


def remote_book(xw: Any, path: Path, client: str = OFFICE_JS) -> Any:
    """The workbook as xlwings Lite / Server / the VBA client sees it: JSON, so it goes through json."""
    return xw.Book(json=json.loads(json.dumps(book_payload(path, client=client))))


def actions(book: Any) -> list[dict[str, Any]]:
    return book.json()["actions"]


def apply_actions(payload: dict[str, Any], done: list[dict[str, Any]]) -> dict[str, Any]:
    """What Excel's client does with the actions that change sheets and values (for re-runs)."""
    payload = copy.deepcopy(payload)
    sheets = payload["sheets"]
    for action in done:
        if action["func"] == "addSheet":
            index, name = action["args"]
            sheets.insert(index, {"name": name, "values": [[""]], "visibility": "Visible"})
        elif action["func"] == "sheetClearContents":
            sheets[action["sheet_position"]]["values"] = [[""]]
        elif action["func"] == "setValues":
            grid = sheets[action["sheet_position"]]["values"]
            top, left = action["start_row"], action["start_column"]
            for r, row in enumerate(action["values"]):
                while len(grid) <= top + r:
                    grid.append([""] * len(grid[0]))
                for c, value in enumerate(row):
                    for line in grid:
                        line.extend([""] * (left + c + 1 - len(line)))
                    grid[top + r][left + c] = value.removeprefix("'") if isinstance(value, str) else value
    return payload


def kontroll_rows(payload: dict[str, Any]) -> list[list[Any]]:
    sheet = next(s for s in payload["sheets"] if s["name"] == "Kontroll")
    return [row for row in sheet["values"] if any(v != "" for v in row)]


def written_values(done: list[dict[str, Any]]) -> list[list[str]]:
    return [row for a in done if a["func"] == "setValues" for row in a["values"]]


def the_alert(done: list[dict[str, Any]]) -> str:
    (alert,) = [a for a in done if a["func"] == "alert"]
    return alert["args"][0]


def assert_only_kontroll_is_written(done: list[dict[str, Any]], spec: Any, *, added: bool = False) -> None:
    """Writing into a protected sheet fails in real Excel: every action with a sheet is on Kontroll.

    The template ships Kontroll open, after its own sheets, so nothing is added (a locked structure
    refuses it); only a file from before that sheet existed gets one added, in the same place.
    """
    kontroll = len(spec.sheets)
    added_sheets = [a["args"] for a in done if a["func"] == "addSheet"]
    assert added_sheets == ([[kontroll, spec.control_sheet]] if added else [])
    for action in done:
        if action["func"] != "addSheet" and action["sheet_position"] is not None:
            assert action["sheet_position"] == kontroll, action


# --- a filled workbook with answers of every awkward kind ---------------------------------------


def awkward_answers(answers: dict[str, Any], spec: Any) -> dict[str, Any]:
    """Typed text that looks like a date, a formula or an error, and values that cannot be read."""
    answers = dict(answers)
    answers.update(
        case_number="2021-12-10",  # a Text cell: stays text
        initiative_name="2021-12-10T00:00:00",  # ISO-looking text: stays text
        deviations="=1+1",  # a Text cell keeps a typed formula as text
        chair_name="#N/A",  # text, not an error, in a Text cell
        women_actual="ca 40",  # text in a number cell
        men_actual=3.5,
        period_end="31/11/2021",  # no such date
        signed_date=dt.datetime(2021, 12, 10, 14, 30),  # a time in a date cell
        report_number=0,
    )
    answers[spec.budget_key(spec.budget.lines[0].key, "actual_period")] = "1.234"
    answers[spec.budget_key(spec.budget.lines[1].key, "budget_period")] = Decimal("12.5")
    return answers


def test_remote_payload_gives_the_file_readers_cells(xw, fill, answers, spec):
    path = fill(awkward_answers(answers, spec))
    from lagesrapport_xl.excel.adapter import book_cells

    remote = book_cells(remote_book(xw, path), spec)
    file = read_fast(str(path))
    assert remote.sheets == file.sheets
    assert remote.hidden_sheets == file.hidden_sheets == {spec.data_sheet}
    assert remote.cells["form_version"].value == file.form_version == spec.version
    places = {k: (t.sheet, t.cell) for k, t in file.names.items()}
    assert {k: (t.sheet, t.cell) for k, t in remote.names.items()} == places
    without_formulas = {k for k, c in file.cells.items() if c.formula is None}
    assert set(spec.fields) <= without_formulas
    assert {k: remote.cells[k] for k in without_formulas} == {k: file.cells[k] for k in without_formulas}
    assert remote.cells["case_number"].value == "2021-12-10"
    assert remote.cells["initiative_name"].value == "2021-12-10T00:00:00"
    assert remote.cells["chair_name"].error is None
    assert remote.cells["initiative_start"].value == dt.date(2021, 1, 1)


def _empty(answers: dict[str, Any], spec: Any) -> dict[str, Any]:
    return dict.fromkeys(spec.fields)


def _conditions(answers: dict[str, Any], spec: Any) -> dict[str, Any]:
    return dict(answers, budget_deviation_reason="  ", below_plan_reason=None, participant_outcomes=None,
                women_planned_min="8-12", women_planned_max=None, women_actual=3)


def _cross_field(answers: dict[str, Any], spec: Any) -> dict[str, Any]:
    line = spec.budget.lines[0].key
    return dict(answers, period_start=dt.date(2022, 6, 1), reports_total=1,
                activities="Kontakt: anna.andersson@example.se, 070-123 45 67",
                **{spec.budget_key(line, "actual_cumulative"): Decimal(1)})


VARIANTS = {
    "awkward": awkward_answers, "empty": _empty, "conditions": _conditions, "cross_field": _cross_field,
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_validera_finds_the_same_issues_as_the_file_reader(xw, fill, answers, spec, variant):
    path = fill(VARIANTS[variant](answers, spec))
    from lagesrapport_xl.excel.adapter import check_book

    via_excel = check_book(remote_book(xw, path), spec)
    via_file = check_cells(read_fast(str(path)), spec, file=str(path))
    assert via_excel.issues == via_file.issues
    assert via_excel.errors  # every variant is wrong in several ways
    assert via_excel.values == via_file.values


def test_validera_script_lists_every_problem_on_kontroll_and_alerts(xw, fill, answers, spec):
    from lagesrapport_xl.excel.entry import validera_script

    path = fill(awkward_answers(answers, spec))
    book = remote_book(xw, path)
    validera_script(book)  # on Linux @script returns the function itself
    done = actions(book)
    assert_only_kontroll_is_written(done, spec)
    expected = check_cells(read_fast(str(path)), spec, file=str(path))
    rows = written_values(done)
    issue_rows = [r for r in rows if r[0] in ("'Fel", "'Varning")]
    assert len(issue_rows) == len(expected.issues)
    for issue, row in zip(expected.issues, issue_rows):
        assert row[1:4] == [f"'{issue.sheet}" if issue.sheet else "", f"'{issue.cell}" if issue.cell else "",
                            f"'{issue.label}" if issue.label else ""]
        assert row[5] == "'" + issue.message
    # The template's open sheet: cleared, rewritten from A1 and shown, then the message box.
    assert [a["func"] for a in done] == ["sheetClearContents", "setValues", "activateSheet", "alert"]
    (write,) = [a for a in done if a["func"] == "setValues"]
    assert (write["start_row"], write["start_column"]) == (0, 0)
    after = kontroll_rows(apply_actions(book_payload(path), done))
    assert after[0][0] == "Kontroll av lägesrapporten" and len(after) == len(rows) - 1  # the blank row
    text = the_alert(done)
    assert text == f"{len(expected.errors)} fel hittades och {len(expected.warnings)} varningar. " \
                   f"Rätta felen innan du skickar rapporten till RAR. Se bladet {spec.control_sheet}."
    assert done[-1]["args"][3] == "critical"


def older_file(path: Path, spec: Any) -> Path:
    """The same report in a template from before the open Kontroll sheet existed."""
    workbook = load_workbook(path)
    del workbook[spec.control_sheet]
    target = path.with_name("aldre_" + path.name)
    workbook.save(target)
    return target


def test_an_older_file_gets_the_problems_in_the_message_box_before_a_sheet_is_added(xw, fill, answers, spec):
    """Its locked structure may refuse the new sheet, and in xlwings Lite that refusal stops every
    action after it: the message box comes first and lists the problems itself."""
    from lagesrapport_xl.excel.entry import validera_script

    path = older_file(fill(awkward_answers(answers, spec)), spec)
    book = remote_book(xw, path)
    validera_script(book)
    done = actions(book)
    assert_only_kontroll_is_written(done, spec, added=True)
    assert [a["func"] for a in done][:2] == ["alert", "addSheet"]
    expected = check_cells(read_fast(str(path)), spec, file=str(path))
    text = the_alert(done)
    assert text.startswith(f"{len(expected.errors)} fel hittades")
    assert expected.issues[0].describe() in text.split("\n")
    assert done[0]["args"][3] == "critical"
    issue_rows = [r for r in written_values(done) if r[0] in ("'Fel", "'Varning")]
    assert len(issue_rows) == len(expected.issues)


def test_a_refused_write_still_shows_every_problem(xw, fill, answers, spec, monkeypatch):
    """Desktop Excel raises at once when the sheet cannot be written (a coordinator protected it)."""
    from lagesrapport_xl.excel.entry import validate_book

    answers["women_actual"] = "ca 40"
    book = remote_book(xw, fill(answers))

    def refuse(sheet: Any) -> None:
        raise RuntimeError("Bladet är skyddat")

    monkeypatch.setattr(xw.Sheet, "clear_contents", refuse)
    result = validate_book(book)
    assert result is not None and len(result.errors) == 1
    done = actions(book)
    assert [a["func"] for a in done] == ["alert"]
    assert result.errors[0].describe() in the_alert(done).split("\n")


def test_a_complete_report_gets_a_clean_bill(xw, fill, answers, spec):
    from lagesrapport_xl.excel.entry import validate_book

    book = remote_book(xw, fill(answers))
    result = validate_book(book)
    assert result is not None and result.ok and not result.warnings
    done = actions(book)
    assert_only_kontroll_is_written(done, spec)
    assert the_alert(done) == "Inga fel hittades. Rapporten kan skickas till RAR."
    assert ["'Inga fel eller varningar."] + [""] * 5 in written_values(done)


def test_running_again_replaces_the_previous_result(xw, fill, answers, spec):
    from lagesrapport_xl.excel.entry import validera_script

    wrong = fill(awkward_answers(answers, spec), name="fel.xlsx")
    first_payload = json.loads(json.dumps(book_payload(wrong)))
    first = xw.Book(json=first_payload)
    validera_script(first)
    after_first = apply_actions(first_payload, actions(first))
    many = len(kontroll_rows(after_first))

    after_first_fixed = copy.deepcopy(after_first)  # the coordinator corrects every answer …
    corrected = json.loads(json.dumps(book_payload(fill(answers, name="rätt.xlsx"))))
    for sheet, fixed in zip(after_first_fixed["sheets"], corrected["sheets"]):
        sheet["values"] = fixed["values"]
    second = xw.Book(json=after_first_fixed)  # … and clicks Validera again
    validera_script(second)
    done = actions(second)
    sheet_actions = [a["func"] for a in done if a["func"] in ("addSheet", "sheetClearContents")]
    assert sheet_actions == ["sheetClearContents"]
    assert_only_kontroll_is_written(done, spec)
    rows = kontroll_rows(apply_actions(after_first_fixed, done))
    assert len(rows) == 4 < many  # title, summary, time, "no problems": nothing left from the first run
    assert rows[-1][0] == "Inga fel eller varningar."
    assert the_alert(done) == "Inga fel hittades. Rapporten kan skickas till RAR."


def test_desktop_entry_uses_the_calling_book(xw, fill, answers, spec):
    from lagesrapport_xl.excel import validera

    answers["budget_on_track"] = "Nej"
    answers["budget_deviation_reason"] = None
    book = remote_book(xw, fill(answers), client=VBA)
    book.set_mock_caller()
    try:
        result = validera()
    finally:
        del xw.Book._mock_caller
    assert result is not None and [i.field for i in result.errors] == ["budget_deviation_reason"]
    done = actions(book)
    assert_only_kontroll_is_written(done, spec)
    text = the_alert(done)
    assert text.startswith("1 fel hittades.") and text.endswith(f"Se bladet {spec.control_sheet}.")
    (issue_row,) = [r for r in written_values(done) if r[0] == "'Fel"]
    assert issue_row[2] == "'" + result.errors[0].cell and issue_row[5] == "'" + result.errors[0].message


def test_an_unexpected_failure_becomes_a_swedish_message(xw, fill, answers, spec):
    from lagesrapport_xl.excel.entry import validate_book

    payload = json.loads(json.dumps(book_payload(fill(answers))))
    payload["names"] = [dict(n, sheet_index=99) if n["name"] == "activities" else n for n in payload["names"]]
    book = xw.Book(json=payload)
    assert validate_book(book) is None
    (alert,) = actions(book)
    assert alert["func"] == "alert" and alert["args"][0].startswith("Kontrollen kunde inte göras:")


def test_the_button_binds_to_the_templates_shape(tmp_path, spec):
    """@script(button="[btnValidera]Lägesrapport!F1") names the real shape and the cell it sits on,
    in a template made for the add-in (the default template has no button)."""
    from lagesrapport_xl.common.config import TemplateOptions
    from lagesrapport_xl.excel.entry import VALIDATE_BUTTON
    from lagesrapport_xl.template.writer import write_template

    template_path = write_template(tmp_path / "mall.xlsx", spec, options=TemplateOptions(excel_buttons=True))
    with zipfile.ZipFile(template_path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        sheet_names = re.findall(r'<sheet name="([^"]+)"', workbook)
        sheet_index = sheet_names.index(spec.report_sheet) + 1
        rels = archive.read(f"xl/worksheets/_rels/sheet{sheet_index}.xml.rels").decode()
        drawing = re.search(r'Target="\.\./drawings/(drawing\d+\.xml)"', rels).group(1)
        xml = archive.read(f"xl/drawings/{drawing}").decode()
    name = re.search(r'<xdr:cNvPr id="\d+" name="([^"]+)"', xml).group(1)
    anchor = re.search(r"<xdr:from><xdr:col>(\d+)</xdr:col><xdr:colOff>\d+</xdr:colOff><xdr:row>(\d+)<", xml)
    col, row = int(anchor.group(1)), int(anchor.group(2))
    assert VALIDATE_BUTTON == f"[{name}]{spec.report_sheet}!{chr(65 + col)}{row + 1}"
    assert VALIDATE_BUTTON == "[btnValidera]Lägesrapport!F1"


SERVER_RUN = """
import asyncio, json, sys
import xlwings as xw
from xlwings.server import custom_scripts_meta, custom_scripts_call
from lagesrapport_xl.excel import entry
from lagesrapport_xl.excel.payload import book_payload

(meta,) = [m for m in custom_scripts_meta(entry) if m["function_name"] == "validera_script"]
book = xw.Book(json=json.loads(json.dumps(book_payload(sys.argv[1]))))
result = asyncio.run(custom_scripts_call(entry, "validera_script", typehint_to_value={xw.Book: book}))
print(json.dumps({"meta": meta, "actions": result.json()["actions"]}))
"""


def test_the_script_runs_as_xlwings_server_and_lite_call_it(fill, answers, spec):
    """With the real @script decorator (XLWINGS_ON_SERVER), as the server calls a button's script."""
    path = fill(answers)
    env = {**os.environ, **LICENCE, "XLWINGS_ON_SERVER": "true"}
    done = subprocess.run(
        [sys.executable, "-c", SERVER_RUN, str(path)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["meta"]["button"] == "[btnValidera]Lägesrapport!F1"
    assert out["meta"]["name"] == "Validera"
    assert the_alert(out["actions"]) == "Inga fel hittades. Rapporten kan skickas till RAR."
    assert_only_kontroll_is_written(out["actions"], spec)


BLOCKED_IMPORT = """
import importlib, pkgutil, sys
sys.modules["xlwings"] = None  # any `import xlwings` now raises ImportError
import lagesrapport_xl
from lagesrapport_xl.cli import build_parser
names = [m.name for m in pkgutil.walk_packages(lagesrapport_xl.__path__, "lagesrapport_xl.")]
core = [n for n in names if not n.startswith("lagesrapport_xl.excel") and not n.endswith("__main__")]
for name in core:
    importlib.import_module(name)
build_parser()
try:
    import lagesrapport_xl.excel
except ImportError:
    print("excel needs xlwings")
print(len(core), "modules")
"""


def test_the_core_never_imports_xlwings():
    command = [sys.executable, "-c", BLOCKED_IMPORT]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    assert "excel needs xlwings" in lines
    assert int(lines[-2].split()[0]) >= 20


@pytest.mark.libreoffice
def test_a_typed_formula_is_seen_by_the_file_reader_only(xw, fill, answers, spec, libreoffice, tmp_path):
    """The remote payload carries values, not formulas (docs/excel.md says so): "=10+6" reads as 16."""
    answers["women_actual"] = "=10+6"  # a number cell: the formula is kept as a formula
    saved = libreoffice.convert(fill(answers), "xlsx", tmp_path / "lo")[0]  # recalculated: cached 16
    from lagesrapport_xl.excel.adapter import book_cells

    file = read_fast(str(saved))
    remote = book_cells(remote_book(xw, saved), spec)
    assert file.cells["women_actual"].formula == "=10+6"
    assert file.cells["women_actual"].value == remote.cells["women_actual"].value == 16
    assert remote.cells["women_actual"].formula is None
    file_issues = {i.field for i in check_cells(file, spec).issues}
    remote_issues = {i.field for i in check_cells(remote, spec).issues}
    assert "women_actual" in file_issues and "women_actual" not in remote_issues


@pytest.mark.libreoffice
def test_a_rolled_forward_report_reads_the_same_through_excel(xw, spec, libreoffice, tmp_path):
    """The payload has the carried cells' values as the spreadsheet computed them, not their formulas:
    the same report as the file reader's, which computes them itself from the carried values."""
    from lagesrapport_dev.examples import DEMO_INSATSER, report_answers
    from lagesrapport_dev.fill import fill_workbook
    from lagesrapport_xl.excel.adapter import book_cells, check_book
    from lagesrapport_xl.template.rollforward import roll_forward
    from lagesrapport_xl.template.writer import write_template

    insats = DEMO_INSATSER[0]
    first = write_template(tmp_path / "rapport_1.xlsx", spec, answers=report_answers(insats, 1, spec))
    roll_forward(first, tmp_path / "mall_2.xlsx", spec)
    typed = {k: v for k, v in report_answers(insats, 2, spec).items()
             if not spec.fields[k].prefill and k not in spec.carried}
    filled = fill_workbook(tmp_path / "mall_2.xlsx", tmp_path / "rapport_2.xlsx", typed)
    saved = libreoffice.convert(filled, "xlsx", tmp_path / "lo")[0]  # recalculated: cached results
    remote = book_cells(remote_book(xw, saved), spec)
    assert all(remote.cells[key].formula is None for key in spec.carried)
    via_excel = check_book(remote_book(xw, saved), spec)
    via_file = check_cells(read_fast(str(saved)), spec, file=str(saved))
    assert via_excel.issues == via_file.issues == []
    assert via_excel.values == via_file.values


def test_kontroll_values_are_text_and_short():
    from lagesrapport_xl.excel.feedback import as_text

    assert as_text("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert as_text(dt.date(2021, 12, 10)) == "'2021-12-10"
    assert as_text(Decimal("1234.50")) == "'1\u00a0234,50\u00a0kr"  # as the messages write amounts
    assert as_text(None) == ""
    long = as_text("x" * 500, 80)
    assert len(long) == 81 and long.endswith("…")


def test_without_a_kontroll_sheet_the_message_box_lists_the_problems(fill, answers, spec):
    from lagesrapport_xl.excel.feedback import ALERT_LINES, alert_text

    answers.update({field.key: None for field in spec.report_fields})
    result = check_cells(read_fast(str(fill(answers))), spec)
    assert len(result.issues) > ALERT_LINES
    text = alert_text(result, listed_in_sheet=False)
    assert text.count("\nFel ") + text.count("\nVarning ") == ALERT_LINES
    assert text.endswith(f"… och {len(result.issues) - ALERT_LINES} till.")
    assert text.startswith(f"{len(result.errors)} fel hittades.")


def test_desktop_values_follow_the_file_readers_rules(xw):
    """Desktop Excel hands over typed values and formulas; they become the same RawCells."""
    from lagesrapport_xl.excel.adapter import raw_cell
    from lagesrapport_xl.reader.cells import RawCell

    desktop = {"remote": False, "text_cell": False}
    assert raw_cell(dt.datetime(2021, 12, 10), "2021-12-10", **desktop) == RawCell(dt.date(2021, 12, 10))
    afternoon = dt.datetime(2021, 12, 10, 14, 30)
    assert raw_cell(afternoon, None, **desktop) == RawCell(afternoon)
    assert raw_cell(16.0, "=10+6", **desktop) == RawCell(16, "=10+6")
    assert raw_cell("#DIV/0!", "=1/0", **desktop) == RawCell(None, "=1/0", "#DIV/0!")
    assert raw_cell("=1+1", "=1+1", remote=False, text_cell=True) == RawCell("=1+1")  # typed text
    assert raw_cell("#N/A", "#N/A", remote=False, text_cell=True) == RawCell("#N/A")
    assert raw_cell(None, "", **desktop) == RawCell(None)
    # The same encodings from a remote client; only the clients' exact timestamp is a date.
    remote = {"remote": True, "text_cell": False}
    assert raw_cell("2021-12-10T00:00:00.000Z", **remote) == RawCell(dt.date(2021, 12, 10))
    assert raw_cell("2021-12-10", **remote) == RawCell("2021-12-10")
    assert raw_cell("2021-12-10T00:00:00", **remote) == RawCell("2021-12-10T00:00:00")
    assert raw_cell("2021-02-30T00:00:00.000Z", **remote) == RawCell("2021-02-30T00:00:00.000Z")
    assert raw_cell("", **remote) == RawCell(None)
    assert raw_cell(5306.0, **remote) == RawCell(5306)


def test_the_excel_extra_pins_the_tested_xlwings_exactly(xw):
    """The VBA client refuses a Python package of another version: one exact pin, the tested one."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["optional-dependencies"]["excel"] == [f"xlwings=={xw.__version__}"]
    assert not any("xlwings" in dependency for dependency in project["dependencies"])


# --- the whole bad-input corpus through the Excel path --------------------------------------------

# Where the remote payload cannot carry what the file holds (docs/excel.md): codes only the file
# reader reports, codes only the Excel path reports. Strict: a difference that disappears fails.
REMOTE_DIFFERENCES = {
    # openpyxl stored the typed formula without a result: the payload has an empty cell
    "count_formula": ({"formula_in_cell"}, {"required_now"}),
    # Office.js lists only names that are ranges, so a broken name arrives as no name at all
    "name_ref_error": ({"name_ref"}, {"name_missing"}),
    "name_to_missing_sheet": ({"name_sheet_missing"}, {"name_missing"}),
    # the payload carries no merge areas: RAR's file reader reports merged input cells
    "merged_input_cells": ({"merged_cells"}, set()),
    # the document property is not part of the payload: only the Data!B1 stamp is seen
    "form_version_stamps_differ": ({"version_mismatch"}, set()),
    # a date serial Excel shows as #####: no client can encode it (JavaScript's Date fails), and
    # openpyxl reads it as #VALUE!; the file readers give the stored number
    "date_huge_negative_number": ({"invalid_date"}, {"cell_error"}),
}


def _readable_workbooks() -> list[Any]:
    from corpus import CASES

    return [pytest.param(c, id=c.name) for c in CASES if c.kind is None and c.group in ("typed", "structure")]


@pytest.mark.parametrize("case", _readable_workbooks())
def test_every_corpus_workbook_gets_the_same_issues_through_excel(xw, case, tmp_path, spec):
    from lagesrapport_xl.excel.adapter import check_book
    from lagesrapport_xl.reader.sources import read_openpyxl

    path = case.build(tmp_path)
    via_file = check_cells(read_openpyxl(str(path)), spec)  # the reference source: no calamine panic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl on the out-of-range date of one case
        via_excel = check_book(remote_book(xw, path), spec)
    where = lambda result: [(i.severity, i.code, i.field, i.cell) for i in result.issues]  # noqa: E731
    if case.name not in REMOTE_DIFFERENCES:
        if case.name == "name_to_range":  # same problem; the message quotes the reference xlwings' way
            assert where(via_excel) == where(via_file)
        else:
            assert via_excel.issues == via_file.issues
        assert via_excel.ok == via_file.ok
        return
    only_file, only_excel = REMOTE_DIFFERENCES[case.name]
    assert {i.code for i in via_file.issues} - {i.code for i in via_excel.issues} == only_file
    assert {i.code for i in via_excel.issues} - {i.code for i in via_file.issues} == only_excel
