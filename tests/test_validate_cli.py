"""`lagesrapport validate`: exit codes, the JSON contract, the Swedish text, annotated copies."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from conftest import sha256
from lagesrapport_xl.annotate import write_annotated_copy
from lagesrapport_xl.cli import main
from lagesrapport_xl.issues import Issue, Severity
from lagesrapport_xl.reader import read_report
from lagesrapport_xl.result import ReadResult


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
        assert set(item) == {"file", "ok", "form_version", "report", "issues"}
    assert data[0]["ok"] is True and data[0]["form_version"] == "1.0"
    assert data[0]["report"]["period_end"] == "2021-11-30"  # ISO dates
    assert set(data[0]["report"]) == set(spec.fields)
    assert data[1]["report"] is None
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
    assert workbook.sheetnames == [*load_workbook(bad).sheetnames, "Kontroll"]
    assert workbook.active.title == "Kontroll"
    sheet = workbook["Kontroll"]
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

    # Everything else in the copy is the original, byte for byte: answers read back identically.
    assert read_report(copy).values == read_report(bad).values


def test_annotating_a_valid_file_and_a_file_that_has_a_kontroll_sheet(fill, answers, capsys, tmp_path):
    good = fill(answers, "bra.xlsx")
    run(capsys, "--annotate", str(tmp_path / "ut"), str(good))
    first = tmp_path / "ut" / "bra_kontroll.xlsx"
    assert "Inga fel och inga varningar" in load_workbook(first)["Kontroll"]["A3"].value
    run(capsys, "--annotate", str(tmp_path / "ut2"), str(first))  # already has a sheet "Kontroll"
    twice = tmp_path / "ut2" / "bra_kontroll_kontroll.xlsx"
    assert load_workbook(twice).sheetnames[-2:] == ["Kontroll", "Kontroll (2)"]
    with zipfile.ZipFile(twice) as archive:
        ids = re.findall(rb'Id="([^"]*)"', archive.read("xl/_rels/workbook.xml.rels"))
        parts = archive.namelist()
    assert len(ids) == len(set(ids)) and len(parts) == len(set(parts))


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
