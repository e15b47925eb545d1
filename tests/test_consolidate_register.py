"""`consolidate --register` on real files: the register's table and counts on the Kontroll sheet,
the JSON's `files` and `missing`, the CSV, the command's summary and exit codes, the demo register.

The inbox holds the demo set as the template writer stores typed answers, the rejected report as
LibreOffice saved it, a report of an insats the register does not know filled by openpyxl, and a
file that is no workbook at all.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from test_consolidate import ROOT, STARTED
from test_coverage import HEADINGS
from test_master import same, table_cells

from lagesrapport_dev.examples import DEMO_REGISTER, demo_files, write_demo_register, write_examples
from lagesrapport_dev.fill import fill_workbook
from lagesrapport_dev.libreoffice import LibreOffice
from lagesrapport_dev.samples import example_answers
from lagesrapport_xl.cli import main
from lagesrapport_xl.cli.consolidate_cmd import MAX_LISTED
from lagesrapport_xl.consolidate.batch import Consolidation, consolidate
from lagesrapport_xl.consolidate.coverage import Coverage
from lagesrapport_xl.consolidate.exports import tables_json, write_csv
from lagesrapport_xl.form.spec import FormSpec
from lagesrapport_xl.master.placement import place_tables
from lagesrapport_xl.master.writer import write_master
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.reader.register import read_register

REJECTED = "Halsa_och_arbete_Eskilstuna_rapport_3.xlsx"
UNKNOWN = "Okand_insats_rapport_1.xlsx"
REGISTER_LINES = [
    "2021-0007;Steget vidare Katrineholm;2;",  # sent twice: the corrected copy counts, the first is superseded
    "2022-0013;Hälsa och arbete Eskilstuna;3;",  # only a rejected file
    "2020-0042;Nyttiga affärer;5;",  # reports 1–4 came, 5 did not
    "2025-0001;Ny insats;1;",  # nothing at all
    "2021-0021;Unga vuxna i Flen;2;",
    ";Samverkansforum Vingåker;;2023-02-28",  # by name and period end
]
# The register table as the Kontroll sheet must show it: the file that counts, the state, case number,
# name, report number, period, rejected and superseded files, register row; then the files of no row.
EXPECTED_ROWS = [
    ["Steget_vidare_Katrineholm_rapport_2_rattad.xlsx", "Inkommen", "2021-0007", "Steget vidare Katrineholm", 2,
     None, None, None, "Steget_vidare_Katrineholm_rapport_2.xlsx", 2],
    [None, "Bara avvisade filer", "2022-0013", "Hälsa och arbete Eskilstuna", 3, None, None, REJECTED, None, 3],
    [None, "Saknas", "2020-0042", "Nyttiga affärer", 5, None, None, None, None, 4],
    [None, "Saknas", "2025-0001", "Ny insats", 1, None, None, None, None, 5],
    ["Unga_vuxna_i_Flen_rapport_2.xlsx", "Inkommen", "2021-0021", "Unga vuxna i Flen", 2, None, None, None, None, 6],
    ["Samverkansforum_Vingaker_rapport_2.xlsx", "Inkommen", None, "Samverkansforum Vingåker", None, None,
     dt.date(2023, 2, 28), None, None, 7],
    [UNKNOWN, "Inte i registret", "2019-0099", "Okänd insats", 1, dt.date(2021, 6, 1), dt.date(2021, 11, 30), None,
     None, None],
    ["anteckningar.xlsx", "Inte i registret", None, None, None, None, None, None, None, None],
]


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory, spec: FormSpec, template_path: Path,
          libreoffice: LibreOffice) -> Path:
    folder = tmp_path_factory.mktemp("inkorg")
    files = demo_files(spec)
    write_examples(folder, [f for f in files if f.name != REJECTED], spec)
    staged = write_examples(tmp_path_factory.mktemp("till_libreoffice"), [f for f in files if f.name == REJECTED], spec)
    (saved,) = libreoffice.convert(staged, "xlsx", folder)
    with zipfile.ZipFile(saved) as package:
        assert b"LibreOffice" in package.read("docProps/app.xml")
    fill_workbook(template_path, folder / UNKNOWN,
                  {**example_answers(spec), "case_number": "2019-0099", "initiative_name": "Okänd insats",
                   "report_number": 1})
    (folder / "anteckningar.xlsx").write_text("inte en arbetsbok", encoding="utf-8")
    return folder


def write_register(folder: Path, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "register.csv"
    path.write_text("\n".join([HEADINGS, *lines]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_register(tmp_path_factory.mktemp("register"), REGISTER_LINES)


@pytest.fixture(scope="module")
def result(inbox: Path, register: Path, spec: FormSpec) -> Consolidation:
    rows, problems = read_register(register, spec)
    assert problems == []
    return consolidate([inbox], spec=spec, workers=2, started=STARTED, register=rows)


def test_kontroll_shows_the_register_and_its_counts(result: Consolidation, tmp_path: Path) -> None:
    info = write_master(result, tmp_path / "sammanstallning.xlsx")
    placements, _ = place_tables(result)
    ws = load_workbook(info.path, data_only=True)["Kontroll"]
    table = placements["register"]
    cells = table_cells(ws, (table.first_data_row, table.last_data_row), table.first_col, len(table.table.columns))
    assert len(cells) == len(EXPECTED_ROWS)
    for shown, expected in zip(cells, EXPECTED_ROWS):
        assert all(same(cell, value) for cell, value in zip(shown, expected)), (shown, expected)
    counts = placements["register_counts"]
    header, values = table_cells(ws, (counts.header_row, counts.first_data_row), counts.first_col,
                                 len(counts.table.columns))
    assert dict(zip(header, values)) == {
        "Rader i registret": 6, "Inkomna": 3, "Bara avvisade filer": 1, "Saknas": 2,
        "Summa (ska vara lika med antalet rader i registret)": 6, "Filer som inte finns i registret": 2,
    }
    # The COUNTIF formulas count the state column of the register table.
    formulas = load_workbook(info.path)["Kontroll"]
    state = table.col("state") + 1
    first, last = table.first_data_row + 1, table.last_data_row + 1
    missing = formulas.cell(row=counts.first_data_row + 1, column=counts.col("count_missing") + 1).value
    letter = formulas.cell(row=1, column=state).column_letter
    assert missing == f'=COUNTIF(${letter}${first}:${letter}${last},"Saknas")'
    # The file list above is the same as without a register, and the first table links down here.
    assert [c.value for c in formulas["A"][placements["control"].first_data_row:placements["control"].last_data_row + 1]] \
        == [o.name for o in result.files]
    links = [cell.hyperlink.location for row in formulas.iter_rows() for cell in row if cell.hyperlink]
    assert links == [f"Kontroll!A{placements['register_counts'].title_row + 1}"]


def test_without_a_register_nothing_is_added(inbox: Path, spec: FormSpec, tmp_path: Path) -> None:
    plain = consolidate([inbox], spec=spec, workers=1, started=STARTED)
    assert plain.coverage is None and "register" not in plain.tables and "register_counts" not in plain.tables
    document = tables_json(plain)
    assert document["missing"] is None and len(document["files"]) == len(plain.files)
    ws = load_workbook(write_master(plain, tmp_path / "m.xlsx").path)["Kontroll"]
    assert [t.displayName for t in ws.tables.values()] == ["Tabell_kontroll_antal", "Tabell_kontroll"]


def test_json_has_every_file_with_what_was_read_and_who_is_missing(result: Consolidation, inbox: Path) -> None:
    document = json.loads(json.dumps(tables_json(result), ensure_ascii=False))  # as written to the file
    assert {"register", "register_counts"} <= set(document["tables"])
    assert len(document["tables"]["register"]["rows"]) == len(EXPECTED_ROWS)
    assert document["missing"] == [
        {"register_row": 3, "case_number": "2022-0013", "initiative_name": "Hälsa och arbete Eskilstuna",
         "report_number": 3, "period_start": None, "period_end": None, "state": "rejected", "rejected": [REJECTED]},
        {"register_row": 4, "case_number": "2020-0042", "initiative_name": "Nyttiga affärer", "report_number": 5,
         "period_start": None, "period_end": None, "state": "missing", "rejected": []},
        {"register_row": 5, "case_number": "2025-0001", "initiative_name": "Ny insats", "report_number": 1,
         "period_start": None, "period_end": None, "state": "missing", "rejected": []},
    ]
    files = {entry["file"]: entry for entry in document["files"]}
    assert list(files) == [o.name for o in result.files]
    # Each file as `validate --format json` reads it on its own: the same answers, once.
    for name, entry in files.items():
        alone = read_report(inbox / name).to_json()
        assert entry["issues"] == alone["issues"] and entry["form_version"] == alone["form_version"]
        assert entry["sha256"] == next(o.result.sha256 for o in result.files if o.name == name)
        if entry["status"] in ("accepted", "warnings"):
            assert entry["report"] == alone["report"] and entry["values"] is None
        else:
            assert entry["report"] is None and entry["values"] == alone["values"]
    rejected = files[REJECTED]
    assert rejected["status"] == "rejected" and rejected["ok"] is False
    assert "budget_premises_actual_period" not in rejected["values"]  # "ca 40 000": its issue has it
    assert rejected["values"]["activities"] is None and rejected["values"]["report_number"] == 3
    assert len(rejected["values"]) == len(result.spec.fields) - 1
    superseded = files["Steget_vidare_Katrineholm_rapport_2.xlsx"]
    assert superseded["status"] == "superseded" and superseded["ok"] is True
    assert superseded["superseded_by"] == "Steget_vidare_Katrineholm_rapport_2_rattad.xlsx"
    assert len(superseded["values"]) == len(result.spec.fields)  # a clean copy: all of it was read
    assert files["anteckningar.xlsx"]["values"] == {} and files["anteckningar.xlsx"]["status"] == "rejected"


def test_csv_has_the_register_tables(result: Consolidation, tmp_path: Path) -> None:
    names = {path.name for path in write_csv(result, tmp_path / "csv")}
    assert {"register.csv", "register_antal.csv"} <= names
    lines = (tmp_path / "csv" / "register.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Fil som gäller;Läge för perioden;")
    assert lines[3].startswith(";Saknas;2020-0042;Nyttiga affärer;5;")
    assert lines[-1].startswith("anteckningar.xlsx;Inte i registret;")


def test_the_summary_says_who_is_missing_and_the_exit_code_stays_0(
    inbox: Path, register: Path, tmp_path: Path, capsys
) -> None:
    code = main(["consolidate", str(inbox), "-o", str(tmp_path / "m.xlsx"), "--register", str(register),
                 "--json", str(tmp_path / "m.json")])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    expected = """Registret: 6 insatser
  Inkomna                      3
  Bara avvisade filer          1
  Saknas                       2
3 av registrets 6 insatser har ingen godkänd rapport för perioden (2 saknas, 1 har bara avvisade filer; se bladet Kontroll):
  2022-0013 Hälsa och arbete Eskilstuna, rapport nr 3: Bara avvisade filer (Halsa_och_arbete_Eskilstuna_rapport_3.xlsx)
  2020-0042 Nyttiga affärer, rapport nr 5: Saknas
  2025-0001 Ny insats, rapport nr 1: Saknas
Filer som inte hör till någon insats i registret: 2
  Okand_insats_rapport_1.xlsx
  anteckningar.xlsx
"""
    assert expected in out, out
    assert json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))["missing"][0]["register_row"] == 3


def test_a_long_list_of_missing_insatser_is_cut(inbox: Path, tmp_path: Path, capsys) -> None:
    lines = [f"2030-{n:04d};Tyst insats {n};1;" for n in range(1, MAX_LISTED + 3)]
    register = write_register(tmp_path, lines)
    assert main(["consolidate", str(inbox), "-o", str(tmp_path / "m.xlsx"), "--register", str(register)]) == 0
    out = capsys.readouterr().out
    assert f"{MAX_LISTED + 2} av registrets {MAX_LISTED + 2} insatser har ingen godkänd rapport" in out
    assert f"  2030-{MAX_LISTED:04d} Tyst insats {MAX_LISTED}, rapport nr 1: Saknas" in out
    assert f"Tyst insats {MAX_LISTED + 1}," not in out and "  … och 2 till." in out


def test_register_problems_are_printed_and_a_bad_row_is_named(inbox: Path, tmp_path: Path, capsys) -> None:
    register = write_register(tmp_path, [*REGISTER_LINES[:2], "2020-0042;Nyttiga affärer;fem;"])
    inside = tmp_path / "inkorg"
    shutil.copytree(inbox, inside)
    shutil.copy(register, inside / "register.csv")  # kept beside the reports: not read as one
    assert main(["consolidate", str(inside), "-o", str(tmp_path / "m.xlsx"), "--register",
                 str(inside / "register.csv")]) == 0
    out, err = capsys.readouterr()
    assert "Fel: Rad 4, kolumn ”Lägesrapport nr”: " in err
    assert "Rad 4 i registret används inte, så de insatserna bevakas inte; rätta registret och kör igen." in err
    assert "Registret: 2 insatser" in out
    assert f"Filer som hittades          {len(list(inbox.iterdir()))}" in out  # the register is no report


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Registret kan inte användas: Registret"),  # no such file
        ("Namn;Telefon\nAnna;070\n", "Registret kan inte användas: Registret har inga kolumner som känns igen"),
    ],
)
def test_an_unusable_register_stops_the_command(content, message, inbox: Path, tmp_path: Path, capsys) -> None:
    register = tmp_path / "register.csv"
    if content is not None:
        register.write_text(content, encoding="utf-8")
    assert main(["consolidate", str(inbox), "-o", str(tmp_path / "m.xlsx"), "--register", str(register)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m.xlsx").exists()


def test_the_demo_register_is_current_and_shows_every_state(tmp_path: Path, spec: FormSpec) -> None:
    committed = ROOT / "workbook_templates" / DEMO_REGISTER
    examples = ROOT / "workbook_templates" / "examples"
    assert not (examples / DEMO_REGISTER).exists()  # consolidate reads every file of that folder
    assert write_demo_register(tmp_path / DEMO_REGISTER, spec).read_bytes() == committed.read_bytes(), (
        "Exempelregistret är inaktuellt: kör scripts/make-examples"
    )
    rows, problems = read_register(committed, spec)
    assert problems == []
    coverage = consolidate([examples], spec=spec, workers=1, register=rows).coverage
    assert [(r.initiative_name, r.report_number, r.state) for r in coverage.rows] == [
        ("Nyttiga affärer", 4, Coverage.RECEIVED),
        ("Steget vidare Katrineholm", 3, Coverage.RECEIVED),
        ("Hälsa och arbete Eskilstuna", 3, Coverage.REJECTED),
        ("Unga vuxna i Flen", 2, Coverage.RECEIVED),
        ("Samverkansforum Vingåker", 2, Coverage.RECEIVED),
        ("Vägen till jobb Gnesta", 1, Coverage.MISSING),
    ]
    assert coverage.unmatched == ()
