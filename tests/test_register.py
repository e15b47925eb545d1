"""Pre-filled templates from RAR's register: CSV in every encoding Swedish offices produce, Excel,
headings by key or label, bad rows reported by row and column, safe and unique file names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from lagesrapport_xl.cli import main
from lagesrapport_xl.common.issues import Severity
from lagesrapport_xl.form.spec import load_spec
from lagesrapport_xl.reader.register import RegisterError, read_register, register_columns
from lagesrapport_xl.template.prefill import template_filename, write_prefilled_templates

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CSV = ROOT / "workbook_templates" / "register_exempel.csv"
EXAMPLE_XLSX = ROOT / "workbook_templates" / "register_exempel.xlsx"

LABEL_HEADINGS = [
    "Diarienummer hos RAR",
    "Insatsens namn",
    "Total tidsperiod för insatsen (från)",
    "Total tidsperiod för insatsen (till)",
    "Tidsperiod som rapporten avser (från)",
    "Tidsperiod som rapporten avser (till)",
    "Lägesrapport nr",
    "Av totalt antal som skall skickas till RAR",
    "Kvinnor – Planerat antal (från–till)",
    "Män - Planerat antal (från-till)",  # typed with plain hyphens: still recognised
    "Personalkostnader (lön inkl. sociala avgifter)",
]
ROW_NYTTIGA = [
    "2020-0042",
    "Nyttiga affärer",
    "2021-01-01",
    "2023-12-31",
    "2021-06-01",
    "2021-11-30",
    "2",
    "6",
    "8-12",
    "8–12",
    "1 800 000",
]
ROW_STEGET = [
    "2022-0107",
    "Steget vidare",
    "220301",
    "31.12.2024",
    "20230901",
    "29/2/2024",
    "4",
    "6",
    "15",
    "10 - 15",
    "2400000 kr",
]
EXPECTED_NYTTIGA = {
    "case_number": "2020-0042",
    "initiative_name": "Nyttiga affärer",
    "initiative_start": dt.date(2021, 1, 1),
    "initiative_end": dt.date(2023, 12, 31),
    "period_start": dt.date(2021, 6, 1),
    "period_end": dt.date(2021, 11, 30),
    "report_number": 2,
    "reports_total": 6,
    "women_planned_min": 8,
    "women_planned_max": 12,
    "men_planned_min": 8,
    "men_planned_max": 12,
    "budget_staff_budget_total": Decimal(1_800_000),
}


def write_csv(path: Path, rows: list[list[str]], *, encoding: str, sep: str, bom: bool = False) -> Path:
    text = "\r\n".join(sep.join(row) for row in rows) + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


def cell(wb, spec, key):
    field = spec.fields[key]
    return wb[field.sheet][field.cell]


# --- reading CSV and Excel -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding, sep, bom",
    [
        ("utf-8", ";", True),
        ("utf-8", ";", False),
        ("cp1252", ";", False),
        ("utf-8", ",", True),
        ("cp1252", ",", False),
    ],
)
def test_csv_in_every_encoding_and_separator_gives_the_same_values(tmp_path, spec, encoding, sep, bom):
    rows = [LABEL_HEADINGS, ROW_NYTTIGA]
    if sep == ",":  # Excel quotes cells that contain the separator
        rows = [[f'"{c}"' if "," in c else c for c in row] for row in rows]
    path = write_csv(tmp_path / "register.csv", rows, encoding=encoding, sep=sep, bom=bom)
    valid, problems = read_register(path, spec)
    assert problems == []
    assert [r.prefill for r in valid] == [EXPECTED_NYTTIGA]
    assert valid[0].row == 2


def test_utf16_text_export_from_excel_is_read(tmp_path, spec):
    path = tmp_path / "register.txt"
    text = "\r\n".join("\t".join(r) for r in [LABEL_HEADINGS, ROW_NYTTIGA]) + "\r\n"
    path.write_bytes(text.encode("utf-16"))
    valid, problems = read_register(path, spec)
    assert problems == [] and valid[0].prefill == EXPECTED_NYTTIGA


def test_key_headings_and_every_accepted_date_form(tmp_path, spec):
    keys = [
        "case_number",
        "initiative_name",
        "initiative_start",
        "initiative_end",
        "period_start",
        "period_end",
        "report_number",
        "reports_total",
        "women_planned_min",
        "women_planned_max",
        "men_planned_min",
        "budget_staff_budget_total",
    ]
    row = [
        "2022-0107",
        "Steget vidare",
        "220301",
        "31.12.2024",
        "20230901",
        "29/2/2024",
        "4",
        "6",
        "15",
        "20",
        "10",
        "2400000 kr",
    ]
    valid, problems = read_register(
        write_csv(tmp_path / "r.csv", [keys, row], encoding="utf-8", sep=";"), spec
    )
    assert problems == []
    values = valid[0].prefill
    assert values["initiative_start"] == dt.date(2022, 3, 1)
    assert values["initiative_end"] == dt.date(2024, 12, 31)
    assert values["period_start"] == dt.date(2023, 9, 1)
    assert values["period_end"] == dt.date(2024, 2, 29)
    assert (values["women_planned_min"], values["women_planned_max"]) == (15, 20)
    assert (values["men_planned_min"], values["men_planned_max"]) == (10, 10)  # one number: from = to
    assert values["budget_staff_budget_total"] == Decimal(2_400_000)


def test_planned_range_in_one_column(tmp_path, spec):
    valid, problems = read_register(
        write_csv(tmp_path / "r.csv", [LABEL_HEADINGS, ROW_STEGET], encoding="utf-8", sep=";"), spec
    )
    assert problems == []
    values = valid[0].prefill
    assert (values["women_planned_min"], values["women_planned_max"]) == (15, 15)
    assert (values["men_planned_min"], values["men_planned_max"]) == (10, 15)


def test_excel_register_with_real_dates_and_numbers(tmp_path, spec):
    wb = Workbook()
    ws = wb.active
    ws.append(LABEL_HEADINGS)
    ws.append(
        [
            "2020-0042",
            "Nyttiga affärer",
            dt.datetime(2021, 1, 1),
            dt.datetime(2023, 12, 31),
            dt.date(2021, 6, 1),
            "2021-11-30",
            2,
            6.0,
            "8-12",
            8,
            1_800_000,
        ]
    )
    ws.append([None] * len(LABEL_HEADINGS))  # empty rows are skipped
    ws.append(
        [
            "2020-0043",
            "Andra insatsen",
            None,
            None,
            None,
            None,
            None,
            None,
            dt.datetime(2024, 12, 8),
            None,
            None,
        ]
    )
    path = tmp_path / "register.xlsx"
    wb.save(path)
    valid, problems = read_register(path, spec)
    assert [r.prefill for r in valid] == [{**EXPECTED_NYTTIGA, "men_planned_min": 8, "men_planned_max": 8}]
    (problem,) = problems
    assert (problem.row, problem.column) == (4, "Kvinnor – Planerat antal (från–till)")
    assert "Excel gör om" in problem.message and "Text" in problem.message


def test_the_example_registers_are_valid_and_agree(spec):
    from_csv, csv_problems = read_register(EXAMPLE_CSV, spec)
    from_xlsx, xlsx_problems = read_register(EXAMPLE_XLSX, spec)
    assert csv_problems == [] and xlsx_problems == []
    assert len(from_csv) >= 5
    assert [r.prefill for r in from_csv] == [r.prefill for r in from_xlsx]
    assert EXAMPLE_CSV.read_bytes().startswith(b"\xef\xbb\xbf")  # as Excel's "CSV UTF-8" writes it
    headings = EXAMPLE_CSV.read_text(encoding="utf-8-sig").splitlines()[0].split(";")
    assert headings == [heading for heading, _ in register_columns(spec)]


# --- bad rows and columns ------------------------------------------------------------------------------


def test_a_bad_row_is_reported_by_row_and_column_and_the_others_are_written(tmp_path, spec, capsys):
    bad = list(ROW_STEGET)
    bad[2] = "2021-13-01"  # no such month
    bad[8] = "ca 10"
    worse = list(ROW_NYTTIGA)
    worse[0] = "2020-0099"
    worse[4], worse[5] = "2021-12-01", "2021-06-30"  # ends before it starts
    path = write_csv(
        tmp_path / "r.csv", [LABEL_HEADINGS, ROW_NYTTIGA, bad, worse], encoding="utf-8", sep=";", bom=True
    )
    result = write_prefilled_templates(path, tmp_path / "ut", spec)
    assert [p.name for p in result.written] == ["2020-0042_Nyttiga_affarer_rapport_2.xlsx"]
    assert not result.ok
    where = {(p.row, p.column) for p in result.errors}
    assert where == {
        (3, "Total tidsperiod för insatsen (från)"),
        (3, "Kvinnor – Planerat antal (från–till)"),
        (4, "Tidsperiod som rapporten avser (från) / Tidsperiod som rapporten avser (till)"),
    }
    messages = " ".join(str(p) for p in result.errors)
    assert (
        "Rad 3, kolumn ”Total tidsperiod för insatsen (från)”: Datumet 2021-13-01 finns inte i kalendern"
        in messages
    )
    assert "”ca 10” är inte ett heltal" in messages
    assert "slutdatum ligger före startdatumet" in messages

    assert main(["template", "--register", str(path), "--out-dir", str(tmp_path / "cli")]) == 1
    out, err = capsys.readouterr()
    assert "1 förifyllda mallar skrivna" in out
    assert "Fel: Rad 3, kolumn ”Kvinnor – Planerat antal (från–till)”" in err
    assert "Raderna 3, 4 skrevs inte" in err


def test_unknown_and_non_prefillable_columns_are_warnings(tmp_path, spec):
    headings = ["Insatsens namn", "Anteckningar", "Beskriv kommande aktiviteter kopplat till målen", ""]
    path = write_csv(
        tmp_path / "r.csv", [headings, ["Nyttiga affärer", "Eva", "Text", "x"]], encoding="utf-8", sep=";"
    )
    result = write_prefilled_templates(path, tmp_path / "ut", spec)
    assert result.ok and len(result.written) == 1
    assert {(p.column, p.severity) for p in result.problems} == {
        ("Anteckningar", Severity.WARNING),
        ("Beskriv kommande aktiviteter kopplat till målen", Severity.WARNING),
    }


def test_the_contact_columns_are_read_for_the_utskick_and_never_prefilled(tmp_path, spec):
    headings = ["Diarienummer hos RAR", "Insatsens namn", "Kontaktperson", "E-post"]
    rows = [["2020-0042", "Nyttiga affärer", " Eva  Ek ", "eva.ek@flen.se"], ["2021-0007", "Steget", "Bo", "bo på flen"]]
    path = write_csv(tmp_path / "r.csv", [headings, *rows], encoding="utf-8", sep=";")
    found, problems = read_register(path, spec)
    assert [row.contact for row in found] == [{"contact_name": "Eva Ek", "contact_email": "eva.ek@flen.se"},
                                              {"contact_name": "Bo"}]
    assert [(p.row, p.column, p.severity) for p in problems] == [(3, "E-post", Severity.WARNING)]
    assert "contact_name" not in found[0].prefill and "Eva" not in str(found[0].prefill)
    result = write_prefilled_templates(path, tmp_path / "ut", spec)
    assert result.ok and len(result.written) == 2


def test_the_same_question_twice_is_refused(tmp_path, spec):
    path = write_csv(
        tmp_path / "r.csv", [["Insatsens namn", "initiative_name"], ["A", "B"]], encoding="utf-8", sep=";"
    )
    with pytest.raises(RegisterError, match="gäller samma fråga"):
        read_register(path, spec)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("register.xls", b"\xd0\xcf\x11\xe0", "måste vara en .xlsx- eller .csv-fil"),
        ("register.xlsx", b"not a zip", "kan inte öppnas"),
        ("register.csv", b"", "tomt"),
        ("register.csv", b"Namn;Telefon\r\nEva;123\r\n", "inga kolumner som känns igen"),
        ("register.csv", b"\x81\x8d\x8f\x90\x9d\xff\xfe\xfd", "varken UTF-8 eller Windows-1252"),
    ],
)
def test_unusable_registers_are_explained_in_swedish(tmp_path, spec, name, content, message, capsys):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RegisterError, match=message):
        read_register(path, spec)
    assert main(["template", "--register", str(path), "--out-dir", str(tmp_path / "ut")]) == 2
    assert "Registret kan inte användas" in capsys.readouterr().err


def test_missing_register_file(tmp_path, spec):
    with pytest.raises(RegisterError, match="finns inte"):
        read_register(tmp_path / "saknas.csv", spec)


# --- file names --------------------------------------------------------------------------------------


def test_file_names_are_safe_and_unique():
    used: set[str] = set()
    odd = {"case_number": "2020/0042", "initiative_name": 'Hälsa & arbete: "Flen"? <*>', "report_number": 3}
    assert template_filename(odd, 2, used) == "2020_0042_Halsa_arbete_Flen_rapport_3.xlsx"
    assert template_filename(odd, 3, used) == "2020_0042_Halsa_arbete_Flen_rapport_3_2.xlsx"
    upper = {**odd, "initiative_name": "HÄLSA & ARBETE: FLEN"}  # same name on a case-insensitive disk
    assert template_filename(upper, 4, used) == "2020_0042_HALSA_ARBETE_FLEN_rapport_3_3.xlsx"
    assert template_filename({}, 7, used) == "lagesrapport_rad_7.xlsx"
    assert template_filename({"initiative_name": "CON"}, 8, used) == "lagesrapport_CON.xlsx"
    long = template_filename({"initiative_name": "Å" * 300}, 9, used)
    assert len(long) < 80 and long.isascii()


def test_a_dash_in_the_name_stays_a_dash_in_the_file_name():
    """"Strängnäs–Eskilstuna" (an en dash, as Word and Excel write it) lost its dash (issue 22)."""
    used: set[str] = set()
    for dash in "-‐‑‒–—−":
        row = {"case_number": "2024-0003", "initiative_name": f"Samverkan Strängnäs{dash}Eskilstuna"}
        assert template_filename(row, 2, used).startswith("2024-0003_Samverkan_Strangnas-Eskilstuna")


# --- the pre-filled templates themselves ---------------------------------------------------------------


def test_prefilled_templates_have_locked_values_and_open_inputs(tmp_path, spec):
    result = write_prefilled_templates(EXAMPLE_CSV, tmp_path / "ut", spec)
    rows, _ = read_register(EXAMPLE_CSV, spec)
    assert result.ok and len(result.written) == len(rows)
    assert len({p.name for p in result.written}) == len(rows)
    for path, row in zip(result.written, rows, strict=True):
        wb = load_workbook(path)
        for key, value in row.prefill.items():
            target = cell(wb, spec, key)
            expected = dt.datetime.combine(value, dt.time()) if isinstance(value, dt.date) else value
            assert target.value == expected, (path.name, key)
            assert target.protection.locked, (path.name, key)
        for field in spec.fields.values():
            if field.key not in row.prefill:
                assert not cell(wb, spec, field.key).protection.locked, (path.name, field.key)
        assert all(wb[name].protection.sheet for name in spec.sheets) and wb.security.lockStructure
        assert not wb[spec.control_sheet].protection.sheet


def test_cli_writes_one_template_per_row_with_password_and_config(tmp_path, capsys):
    config = tmp_path / "rar.toml"
    config.write_text(
        '[[budget.lines]]\nkey = "staff"\nlabel = "Personal"\n\n'
        '[[budget.lines]]\nkey = "rent"\nlabel = "Hyra"\n',
        encoding="utf-8",
    )
    register = write_csv(
        tmp_path / "r.csv",
        [
            ["Insatsens namn", "Lägesrapport nr", "Hyra", "Personal"],
            ["Nyttiga affärer", "1", "50 000", "900 000"],
            ["Steget", "2", "", "1"],
        ],
        encoding="cp1252",
        sep=";",
    )
    args = [
        "template",
        "--register",
        str(register),
        "--out-dir",
        str(tmp_path / "ut"),
        "--config",
        str(config),
        "--password",
        "x",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "2 förifyllda mallar skrivna" in out and "Nyttiga_affarer_rapport_1.xlsx" in out
    spec = load_spec(config)
    wb = load_workbook(tmp_path / "ut" / "Nyttiga_affarer_rapport_1.xlsx")
    assert cell(wb, spec, "budget_rent_budget_total").value == 50_000
    assert cell(wb, spec, "budget_staff_budget_total").value == 900_000
    assert all(wb[name].protection.password for name in spec.sheets)


def test_cli_needs_an_out_dir_with_register(tmp_path, capsys):
    assert main(["template", "--register", str(EXAMPLE_CSV)]) == 2
    assert "--out-dir" in capsys.readouterr().err
