"""`lagesrapport validate`: exit codes, the JSON contract, the Swedish text, annotated copies."""

from __future__ import annotations

import json
from decimal import Decimal
import posixpath
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import corpus
import pytest
from conftest import sha256
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from python_calamine import CalamineWorkbook

from lagesrapport_xl.cli import main
from lagesrapport_xl.common.issues import Issue, Severity
from lagesrapport_xl.reader.annotate import AnnotateError, write_annotated_copy
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.reader.result import ReadResult
from lagesrapport_xl.reader.safety import inspect_file
from lagesrapport_xl.form.control_sheet import CONTROL_NOT_CHECKED, CONTROL_NOTE


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["validate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_file_exits_0(fill, answers, capsys):
    code, out, _ = run(capsys, str(fill(answers)))
    assert code == 0
    assert "godkänd (formulärversion 1.0)" in out
    assert "Totalt 1 fil: 0 med fel." in out


def test_any_file_with_errors_exits_1(fill, answers, capsys):
    good, bad = fill(answers, "bra.xlsx"), fill({**answers, "women_actual": "ca 40"}, "dalig.xlsx")
    code, out, _ = run(capsys, str(good), str(bad))
    assert code == 1
    assert "dalig.xlsx: 1 fel, 0 varningar – rätta felen och skicka filen igen" in out
    assert "Fel Lägesrapport!E23 (Kvinnor – Faktiskt antal): ”ca 40” är inte ett heltal." in out
    assert "Totalt 2 filer: 1 med fel." in out


def test_warnings_alone_exit_0(fill, answers, capsys):
    code, out, _ = run(capsys, str(fill({**answers, "activities": "Ring 070-123 45 67"})))
    assert code == 0
    assert "godkänd (formulärversion 1.0), 1 varning" in out


def test_json_is_the_public_contract(fill, answers, spec, capsys):
    good, bad = fill(answers, "bra.xlsx"), fill({**answers, "period_end": "31.02.2025"}, "dalig.xlsx")
    code, out, _ = run(capsys, "--format", "json", str(good), str(bad))
    assert code == 1
    data = json.loads(out)
    assert [item["file"] for item in data] == [str(good), str(bad)]
    for item in data:
        assert set(item) == {"file", "ok", "form_version", "report", "values", "issues"}
    assert data[0]["ok"] is True and data[0]["form_version"] == "1.0"
    assert data[0]["report"]["period_end"] == "2021-11-30"  # ISO dates
    assert set(data[0]["report"]) == set(spec.fields)
    assert data[0]["values"] == data[0]["report"]
    assert data[1]["report"] is None
    assert data[1]["values"] == {k: v for k, v in data[0]["report"].items() if k != "period_end"}  # what was read
    (issue,) = data[1]["issues"]
    assert issue == {
        "severity": "error",
        "sheet": "Lägesrapport",
        "cell": spec.fields["period_end"].cell,
        "field": "period_end",
        "label": "Tidsperiod som rapporten avser (till)",
        "value": "31.02.2025",
        "message": "Datumet 31.02.2025 finns inte i kalendern. "
        "Skriv datumet som ÅÅÅÅ-MM-DD, t.ex. 2021-12-10.",
    }


def test_folder_means_every_file_in_it(fill, answers, capsys, tmp_path):
    fill(answers, "inkorg/a.xlsx")
    fill(answers, "inkorg/under/b.xlsx")
    (tmp_path / "inkorg" / "~$a.xlsx").write_bytes(b"\x0bAnna" + b" " * 160)
    code, out, _ = run(capsys, "--format", "json", str(tmp_path / "inkorg"))
    assert code == 0
    assert sorted(Path(item["file"]).name for item in json.loads(out)) == ["a.xlsx", "b.xlsx", "~$a.xlsx"]


def test_lock_file_is_skipped_not_an_error(capsys, tmp_path):
    lock = tmp_path / "~$rapport.xlsx"
    lock.write_bytes(b"\x0bAnna" + b" " * 160)
    code, out, _ = run(capsys, str(lock))
    assert code == 0
    assert "hoppas över" in out


def test_missing_file_is_an_error_for_that_file(capsys, tmp_path):
    code, out, _ = run(capsys, str(tmp_path / "finns_inte.xlsx"))
    assert code == 1
    assert "Filen finns inte" in out


@pytest.mark.parametrize("args", [[], ["--format", "xml", "x.xlsx"], ["--okänd", "x.xlsx"]])
def test_usage_errors_exit_2(capsys, args):
    with pytest.raises(SystemExit) as stopped:
        main(["validate", *args])
    assert stopped.value.code == 2


def test_bad_config_exits_2(capsys, tmp_path, fill, answers):
    config = tmp_path / "rar.toml"
    config.write_text("[fields.activities\n", encoding="utf-8")
    code, _, err = run(capsys, "--config", str(config), str(fill(answers)))
    assert code == 2
    assert "Fel i konfigurationen" in err


def test_console_script_exit_codes(fill, answers, tmp_path):
    good, bad = fill(answers, "bra.xlsx"), fill({**answers, "women_actual": "ca 40"}, "dalig.xlsx")
    command = [sys.executable, "-m", "lagesrapport_xl", "validate"]
    assert subprocess.run([*command, str(good)], capture_output=True).returncode == 0
    done = subprocess.run([*command, "--format", "json", str(good), str(bad)], capture_output=True, text=True)
    assert done.returncode == 1
    assert [item["ok"] for item in json.loads(done.stdout)] == [True, False]
    assert subprocess.run([*command], capture_output=True).returncode == 2


# --- annotated copies -------------------------------------------------------------------------


def test_annotate_writes_a_copy_with_a_kontroll_sheet(fill, answers, spec, capsys, tmp_path):
    bad = fill({**answers, "women_actual": "ca 40", "period_end": "31.02.2025",
                "activities": "Ring 070-123 45 67"}, "dalig.xlsx")
    before = sha256(bad)
    code, out, _ = run(capsys, "--annotate", str(tmp_path / "kontroll"), str(bad))
    assert code == 1
    copy = tmp_path / "kontroll" / "dalig_kontroll.xlsx"
    assert f"Kontrollkopia: {copy}" in out
    assert sha256(bad) == before  # the original is never modified

    workbook = load_workbook(copy)
    # The template's own open sheet is rewritten in place: same sheets, same order, opened on it.
    assert workbook.sheetnames == load_workbook(bad).sheetnames == [*spec.sheets, spec.control_sheet]
    assert workbook.active.title == spec.control_sheet
    assert [ws.title for ws in workbook.worksheets if ws.sheet_view.tabSelected] == [spec.control_sheet]
    sheet = workbook[spec.control_sheet]
    rows = [row for row in sheet.iter_rows(values_only=True) if row[0] in ("Fel", "Varning")]
    assert [(r[0], r[2]) for r in rows] == [
        ("Fel", spec.fields["period_end"].cell),
        ("Varning", spec.fields["activities"].cell),
        ("Fel", spec.fields["women_actual"].cell),
    ]
    assert rows[2][3] == spec.fields["women_actual"].label and rows[2][4] == "ca 40"
    links = {cell.value: cell.hyperlink.location for cell in sheet["C"] if cell.hyperlink}
    assert links[spec.fields["women_actual"].cell] == f"'Lägesrapport'!{spec.fields['women_actual'].cell}"
    assert "2 fel och 1 varning" in sheet["A3"].value
    texts = [v for row in sheet.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    assert CONTROL_NOT_CHECKED not in texts and CONTROL_NOTE not in texts  # the template's note is replaced
    assert load_workbook(bad)[spec.control_sheet].print_area  # the template prints no Kontroll page …
    assert not sheet.print_area  # … the copy is for reading and prints its list

    # Everything else in the copy is the original, byte for byte: answers read back identically.
    assert_consistent_package(copy)
    assert read_report(copy).values == read_report(bad).values
    assert read_report(copy).issues == read_report(bad).issues
    with zipfile.ZipFile(bad) as original, zipfile.ZipFile(copy) as annotated:
        kontroll_part = f"xl/worksheets/sheet{len(spec.sheets) + 1}.xml"
        assert annotated.namelist() == original.namelist()
        changed = {n for n in original.namelist() if original.read(n) != annotated.read(n)}
    report_part = f"xl/worksheets/sheet{spec.sheets.index(spec.report_sheet) + 1}.xml"  # tab unselected
    assert changed <= {kontroll_part, "xl/workbook.xml", report_part}


def test_annotating_a_valid_file_and_an_annotated_copy(fill, answers, spec, capsys, tmp_path):
    good = fill(answers, "bra.xlsx")
    run(capsys, "--annotate", str(tmp_path / "ut"), str(good))
    first = tmp_path / "ut" / "bra_kontroll.xlsx"
    assert "Inga fel och inga varningar" in load_workbook(first)[spec.control_sheet]["A3"].value
    run(capsys, "--annotate", str(tmp_path / "ut2"), str(first))  # its Kontroll sheet holds a list
    twice = tmp_path / "ut2" / "bra_kontroll_kontroll.xlsx"
    workbook = load_workbook(twice)
    assert workbook.sheetnames == [*spec.sheets, spec.control_sheet]  # rewritten, never piled up
    lines = [row[0] for row in workbook[spec.control_sheet].iter_rows(values_only=True) if row[0]]
    assert lines.count("Kontroll av lägesrapporten") == 1
    assert "Fil: bra_kontroll.xlsx" in lines[1]
    with zipfile.ZipFile(twice) as archive:
        ids = re.findall(rb'Id="([^"]*)"', archive.read("xl/_rels/workbook.xml.rels"))
        parts = archive.namelist()
    assert len(ids) == len(set(ids)) and len(parts) == len(set(parts))


def _without_control_sheet(path: Path, spec, target: Path) -> Path:
    """A report as the template wrote it before it had the open Kontroll sheet."""
    workbook = load_workbook(path)
    del workbook[spec.control_sheet]
    workbook.save(target)
    return target


def test_an_older_report_gets_a_kontroll_sheet_added(fill, answers, spec, capsys, tmp_path):
    older = _without_control_sheet(fill({**answers, "women_actual": "ca 40"}), spec, tmp_path / "aldre.xlsx")
    assert load_workbook(older).sheetnames == list(spec.sheets)
    code, _, _ = run(capsys, "--annotate", str(tmp_path / "ut"), str(older))
    assert code == 1
    workbook = load_workbook(tmp_path / "ut" / "aldre_kontroll.xlsx")
    assert workbook.sheetnames == [*spec.sheets, spec.control_sheet]
    assert workbook.active.title == spec.control_sheet
    (row,) = [r for r in workbook[spec.control_sheet].iter_rows(values_only=True) if r[0] == "Fel"]
    assert row[2] == spec.fields["women_actual"].cell and row[4] == "ca 40"


def test_another_workbooks_own_kontroll_sheet_is_left_alone(spec, capsys, tmp_path):
    """Not made from the template: its sheet "Kontroll" is its owner's; the list gets a new sheet."""
    other = Workbook()
    other.active.title = "Kontroll"
    other.active["A1"] = "RAR:s egen avstämning"
    other.save(tmp_path / "annan.xlsx")
    code, _, _ = run(capsys, "--annotate", str(tmp_path / "ut"), str(tmp_path / "annan.xlsx"))
    assert code == 1
    workbook = load_workbook(tmp_path / "ut" / "annan_kontroll.xlsx")
    assert workbook.sheetnames == ["Kontroll", "Kontroll (2)"]
    assert workbook["Kontroll"]["A1"].value == "RAR:s egen avstämning"
    assert workbook.active.title == "Kontroll (2)"
    assert workbook["Kontroll (2)"]["A1"].value == "Kontroll av lägesrapporten"


def test_a_kontroll_sheet_a_coordinator_filled_is_replaced_in_the_copy_only(
    fill, answers, spec, capsys, tmp_path
):
    """Junk, a comment and a formula on the open sheet: the copy's list replaces them cleanly."""
    report = load_workbook(fill(answers))
    junk = report[spec.control_sheet]
    junk["A1"], junk["B7"], junk["H40"] = "egna anteckningar", "=1/0", 42
    junk["A1"].comment = Comment("min kommentar", "Anna")
    junk.merge_cells("A5:F6")
    report.save(tmp_path / "ifylld.xlsx")
    before = sha256(tmp_path / "ifylld.xlsx")
    code, _, _ = run(capsys, "--annotate", str(tmp_path / "ut"), str(tmp_path / "ifylld.xlsx"))
    assert code == 0 and sha256(tmp_path / "ifylld.xlsx") == before
    copy = tmp_path / "ut" / "ifylld_kontroll.xlsx"
    sheet = load_workbook(copy)[spec.control_sheet]
    values = [v for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    assert values[0] == "Kontroll av lägesrapporten"
    assert "Inga fel och inga varningar. Rapporten kan skickas." in values
    assert not {"egna anteckningar", "=1/0", 42} & set(values)
    assert not sheet.merged_cells.ranges and sheet["A1"].comment is None
    assert_consistent_package(copy)
    with zipfile.ZipFile(tmp_path / "ifylld.xlsx") as original, zipfile.ZipFile(copy) as annotated:
        gone = set(original.namelist()) - set(annotated.namelist())
    # the old sheet's relationships went with its content, and the comment parts only they led to
    assert gone and all("comments" in n or "vmlDrawing" in n or n.endswith(".rels") for n in gone)


def assert_consistent_package(path: Path) -> None:
    """Every relationship and every content-type override names a part that is in the package."""
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        overrides = re.findall(r'PartName="/([^"]+)"', archive.read("[Content_Types].xml").decode())
        assert set(overrides) <= names
        for rels in (n for n in names if n.endswith(".rels")):
            folder = rels.rsplit("_rels/", 1)[0]
            found = re.findall(r'Target="([^"]+)"(?: TargetMode="(\w+)")?', archive.read(rels).decode())
            for target, mode in found:
                if mode != "External":
                    absolute = target.startswith("/")
                    path = target.lstrip("/") if absolute else posixpath.normpath(folder + target)
                    assert path in names, (rels, target)


def test_a_calculation_chain_is_dropped_with_the_old_sheet(fill, answers, spec, tmp_path):
    """Excel's calcChain.xml may list formulas of the old Kontroll content; Excel rebuilds it."""
    source = fill(answers)
    with_chain = tmp_path / "excel.xlsx"
    content_type = b"application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"
    rel_type = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(with_chain, "w") as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "[Content_Types].xml":
                override = b'<Override PartName="/xl/calcChain.xml" ContentType="' + content_type + b'"/>'
                data = data.replace(b"</Types>", override + b"</Types>")
            elif info.filename == "xl/_rels/workbook.xml.rels":
                relationship = b'<Relationship Id="rIdCalc" Type="' + rel_type + b'" Target="calcChain.xml"/>'
                data = data.replace(b"</Relationships>", relationship + b"</Relationships>")
            copy.writestr(info, data)
        main_ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        chain = f'<calcChain xmlns="{main_ns}"><c r="B7" i="{len(spec.sheets) + 1}"/></calcChain>'
        copy.writestr("xl/calcChain.xml", chain)
    annotated = write_annotated_copy(with_chain, read_report(with_chain), tmp_path / "ut")
    assert_consistent_package(with_chain)
    assert_consistent_package(annotated)
    with zipfile.ZipFile(annotated) as archive:
        assert "xl/calcChain.xml" not in archive.namelist()
        assert b"calcChain" not in archive.read("xl/_rels/workbook.xml.rels")
        assert b"calcChain" not in archive.read("[Content_Types].xml")
    assert read_report(annotated).values == read_report(with_chain).values


def test_no_copy_for_a_file_that_is_not_a_workbook(capsys, tmp_path):
    text = tmp_path / "rapport.csv"
    text.write_text("a;b\n", encoding="utf-8")
    code, out, _ = run(capsys, "--annotate", str(tmp_path / "ut"), str(text))
    assert code == 1
    assert "Ingen kontrollkopia" in out
    assert not (tmp_path / "ut" / "rapport_kontroll.csv").exists()


def test_annotated_text_is_stored_exactly(fill, answers, tmp_path):
    """Values go into the Kontroll sheet as OOXML text: never a formula, control characters and a
    literal _x000D_ escaped, so a spreadsheet program shows exactly the value that was found."""
    odd = ['=HYPERLINK("x")', "_x000D_ literal <&>", "kontroll\x01tecken\r\n", "\"citat\" 'apostrof'"]
    result = ReadResult(file="rapport.xlsx", issues=[
        Issue(Severity.ERROR, "Meddelande", "test", "Lägesrapport", "C5", value=value) for value in odd
    ])
    copy = write_annotated_copy(fill(answers), result, tmp_path / "ut")
    with CalamineWorkbook.from_path(copy) as workbook:
        rows = workbook.get_sheet_by_name("Kontroll").to_python()
    assert [row[4] for row in rows if row[0] == "Fel"] == odd


@pytest.mark.libreoffice
def test_libreoffice_opens_every_kind_of_annotated_copy(fill, answers, spec, tmp_path, libreoffice):
    """A spreadsheet program, not only openpyxl, reads the copies: rewritten, junk replaced, added."""
    wrong = {**answers, "women_actual": "ca 40"}
    report = fill(wrong, "mall.xlsx")
    junk = load_workbook(fill(wrong, "skrap.xlsx"))
    junk[spec.control_sheet]["A1"].comment = Comment("min kommentar", "Anna")
    junk[spec.control_sheet]["C3"] = "=1/0"
    junk.save(tmp_path / "skrap.xlsx")
    older = _without_control_sheet(fill(wrong, "x.xlsx"), spec, tmp_path / "aldre.xlsx")
    copies = [write_annotated_copy(path, read_report(path), tmp_path / "ut")
              for path in (report, tmp_path / "skrap.xlsx", older)]
    for saved in libreoffice.convert(copies, "xlsx", tmp_path / "lo"):
        workbook = load_workbook(saved)
        assert workbook.sheetnames == [*spec.sheets, spec.control_sheet], saved.name
        (row,) = [r for r in workbook[spec.control_sheet].iter_rows(values_only=True) if r[0] == "Fel"]
        assert row[2] == spec.fields["women_actual"].cell and row[4] == "ca 40", saved.name
        assert read_report(saved).values["women_actual"] == "ca 40"


HOSTILE = [case for case in corpus.CASES if case.group == "hostile"]


@pytest.mark.parametrize("case", HOSTILE, ids=lambda case: case.name)
def test_an_annotated_copy_only_of_what_the_safety_check_let_through(case, tmp_path, spec, capsys):
    """The copy is made from the parts the safety check inflated within its limits: a zip or XML
    bomb is refused here as well, with a message, and never inflated a second time; a hostile file
    the safety check lets through (the reader rejects it) gets its copy with the list."""
    path = case.build(tmp_path)
    result = read_report(path, spec)
    code, out, _ = run(capsys, "--annotate", str(tmp_path / "kopior"), str(path))
    assert code == 1
    if inspect_file(path).readable:
        copy = write_annotated_copy(path, result, tmp_path / "igen", spec)
        assert f"Kontrollkopia: {tmp_path / 'kopior' / copy.name}" in out
        assert read_report(copy, spec).to_json()["issues"] == result.to_json()["issues"]
        return
    with pytest.raises(AnnotateError) as refused:
        write_annotated_copy(path, result, tmp_path / "igen", spec)
    assert str(refused.value) in (
        "Ingen kontrollkopia: filen vägrades av säkerhetskontrollen (se felen ovan).",
        "Ingen kontrollkopia: filen är inte en Excel-arbetsbok.",
    )
    assert str(refused.value) in out
    assert not (tmp_path / "kopior").exists() and not (tmp_path / "igen").exists()


def test_the_kontroll_list_shows_an_amount_as_its_message_writes_it(fill, answers, spec, tmp_path):
    """Not "30000" in the Värde column beside "30 000 kr" in the message (issue 22)."""
    key = spec.budget_key("travel", "actual_cumulative")
    bad = fill({**answers, key: Decimal(3_000)})  # below the period's 6 200 kr: an error
    result = read_report(bad)
    copy = write_annotated_copy(bad, result, tmp_path / "kontroll")
    rows = [row for row in load_workbook(copy)[spec.control_sheet].iter_rows(values_only=True)
            if row[0] in ("Fel", "Varning") and row[2] == spec.fields[key].cell]
    assert rows and rows[0][4] == "3\u00a0000\u00a0kr" and "(3\u00a0000\u00a0kr)" in rows[0][5]


@pytest.mark.parametrize("case", [c for c in corpus.CASES if c.kind is None], ids=lambda c: c.name)
def test_the_copy_from_the_readers_own_check_is_the_copy_from_a_check_of_its_own(case, tmp_path):
    """The intake passes the check read_checked made (read.py) instead of inflating the file again:
    every part of the copy is the same as when write_annotated_copy checks the file itself."""
    from lagesrapport_xl.reader.read import read_checked

    source = case.build(tmp_path)
    result, check = read_checked(source)
    assert check is not None
    try:
        own = write_annotated_copy(source, result, tmp_path / "egen")
    except AnnotateError as exc:
        with pytest.raises(AnnotateError, match=re.escape(str(exc))):
            write_annotated_copy(source, result, tmp_path / "given", check=check)
        return
    given = write_annotated_copy(source, result, tmp_path / "given", check=check)
    with zipfile.ZipFile(own) as first, zipfile.ZipFile(given) as second:
        assert first.namelist() == second.namelist()
        assert all(first.read(name) == second.read(name) for name in first.namelist())
    assert read_report(given).values == result.values
