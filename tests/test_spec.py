"""The specification matches FIELDS.md and refuses inconsistent overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lagesrapport_xl.form.spec import SpecError, load_spec

FIELDS_MD = Path(__file__).resolve().parents[1] / "docs" / "form" / "FIELDS.md"  # the field catalogue, kept in the repository


def _fields_md_rows() -> dict[str, str]:
    """key → label of the Lägesrapport table in FIELDS.md (pairs like `a` / `b` share a label)."""
    rows = {}
    report_part = FIELDS_MD.read_text(encoding="utf-8").split('## Sheet "Budget"')[0]
    for line in report_part.splitlines():
        match = re.match(r"\| (`[a-z_]+`(?: / `[a-z_]+`)?) \| ([^|]+) \| ([^|]+) \|", line)
        if match and "key" not in match.group(1):
            for key in re.findall(r"`([a-z_]+)`", match.group(1)):
                rows[key] = match.group(2).strip()
    return rows


def test_every_field_of_fields_md_is_in_the_spec_word_for_word(spec):
    rows = _fields_md_rows()
    assert len(rows) == 26
    for key, label in rows.items():
        assert key in spec.fields, key
        assert spec.fields[key].label == label, key
    assert {f.key for f in spec.report_fields} == set(rows)


def test_budget_lines_and_columns_match_fields_md(spec):
    text = FIELDS_MD.read_text(encoding="utf-8")
    for line in spec.budget.lines:
        assert f"| `{line.key}` | {line.label} |" in text
    for column in spec.budget.columns:
        assert f"| `{column.key}` | {column.label} |" in text
    assert [f.key for f in spec.budget.financing] == ["financing_rar", "financing_own", "financing_other"]
    assert "budget_staff_actual_period" in spec.fields
    assert "financing_rar_budget_period" in spec.fields


def test_override_changes_label_and_budget_lines(tmp_path):
    config = tmp_path / "rar.toml"
    config.write_text(
        '[fields.activities]\nlabel = "Beskriv aktiviteterna"\n\n'
        '[[budget.lines]]\nkey = "staff"\nlabel = "Personal"\n\n'
        '[[budget.lines]]\nkey = "rent"\nlabel = "Hyra"\n',
        encoding="utf-8",
    )
    spec = load_spec(config)
    assert spec.fields["activities"].label == "Beskriv aktiviteterna"
    assert [line.key for line in spec.budget.lines] == ["staff", "rent"]
    assert "budget_rent_actual_period" in spec.fields
    assert "budget_travel_actual_period" not in spec.fields


@pytest.mark.parametrize(
    "override, message",
    [
        ('[fields.activities]\ntype = "novel"\n', "okänd typ"),
        ('[fields.activities]\nrequired = "when_it_rains"\n', "okänt villkor"),
        ('[fields.extra]\nlabel = "X"\ntype = "text"\n', "inte i layouten"),
        ("not toml = = =", "inte giltig TOML"),
        ('[[instructions]]\nheading = "X"\ntext = "Y"\nwhen = "ibland"\n', "okänt when"),
    ],
)
def test_bad_override_is_explained_in_swedish(tmp_path, override, message):
    config = tmp_path / "bad.toml"
    config.write_text(override, encoding="utf-8")
    with pytest.raises(SpecError, match=message):
        load_spec(config)


@pytest.mark.parametrize(
    "command",
    [
        ["template", "-o", "mall.xlsx"],
        ["validate", "rapport.xlsx"],
        ["consolidate", "inkorg", "-o", "master.xlsx"],
        ["control-workbook", "-o", "kontroll.xlsx"],
    ],
)
def test_every_command_explains_a_bad_config_file_with_exit_code_2(tmp_path, capsys, command):
    from lagesrapport_xl.cli import main

    config = tmp_path / "rar.toml"
    config.write_text("inte = = toml", encoding="utf-8")
    (tmp_path / "inkorg").mkdir()
    (tmp_path / "rapport.xlsx").write_bytes(b"")
    paths = [str(tmp_path / part) if part.endswith((".xlsx", "inkorg")) else part for part in command]
    assert main([*paths, "--config", str(config)]) == 2
    assert "Fel i konfigurationen" in capsys.readouterr().err
    assert not (tmp_path / "mall.xlsx").exists() and not (tmp_path / "master.xlsx").exists()
