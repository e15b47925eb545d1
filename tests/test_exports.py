"""CSV for Swedish Excel (BOM, semicolons, decimal comma, no formula injection) and JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from test_consolidate import STARTED
from test_master import HOSTILE

from lagesrapport_dev.examples import ExampleFile, demo_files, write_examples
from lagesrapport_xl.consolidate.batch import consolidate
from lagesrapport_xl.consolidate.exports import csv_safe, csv_value, write_csv, write_json
from lagesrapport_xl.form.spec import FormSpec


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory, spec: FormSpec):
    inbox = tmp_path_factory.mktemp("inkorg")
    files = demo_files(spec) + [ExampleFile("elak_text.xlsx", {**demo_files(spec)[4].answers, **HOSTILE,
                                                                 "case_number": "=1+1", "report_number": 5})]
    write_examples(inbox, files, spec)
    return consolidate([inbox], spec=spec, workers=1, started=STARTED)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234.5, "1234,5"),
        (0.1523456789123, "0,1523456789"),
        (2_580_000.0, "2580000"),
        (-13_000, "-13000"),
        (dt.date(2021, 12, 10), "2021-12-10"),
        (dt.datetime(2024, 1, 15, 9, 0), "2024-01-15 09:00"),
        (None, ""),
        (float("nan"), ""),
        (pd.NA, ""),
        ("Nyttiga affärer", "Nyttiga affärer"),
        ("=1+1", "'=1+1"),
        ("+46 70", "'+46 70"),
        ("-minus", "'-minus"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tflik", "'\tflik"),
        ("\rretur", "'\rretur"),
    ],
)
def test_csv_values(value, text) -> None:
    assert csv_value(value) == text


def test_csv_safe_leaves_ordinary_text() -> None:
    assert csv_safe("Fel Budget!D8: ”ca 40 000”") == "Fel Budget!D8: ”ca 40 000”"


def test_csv_files_open_in_swedish_excel(result, tmp_path: Path) -> None:
    paths = write_csv(result, tmp_path / "csv")
    assert sorted(p.name for p in paths) == sorted(f"{t.file_stem}.csv" for t in result.tables.values())
    for path, table in zip(paths, result.tables.values()):
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), path.name  # UTF-8 BOM: Excel reads å ä ö right
        text = raw.decode("utf-8-sig")
        header = next(csv.reader(io.StringIO(text), delimiter=";"))
        assert header == [c.header for c in table.columns]
        back = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert len(back) == len(table.frame)
        for column in table.columns:
            for written, value in zip(back[column.header], table.frame[column.key].tolist()):
                if isinstance(value, str):
                    assert written == csv_safe(value)
                elif isinstance(value, float) and not math.isnan(value):
                    assert float(written.replace(",", ".")) == pytest.approx(value, abs=1e-9)
    texts = pd.read_csv(tmp_path / "csv" / "texter.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert "'=HYPERLINK(\"http://example.invalid\")" in set(texts[result.tables["texts"].column("activities").header])
    overview = (tmp_path / "csv" / "oversikt.csv").read_text(encoding="utf-8-sig")
    assert "'=1+1" in overview and ";=1+1" not in overview
    assert "Hälsa och arbete Eskilstuna" in overview


def test_json_export(result, tmp_path: Path) -> None:
    path = write_json(result, tmp_path / "ut" / "sammanstallning.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["counts"] == result.counts
    assert document["tolerance"] == result.tolerance
    assert document["run_at"] == "2024-01-15T09:00:00"
    assert set(document["tables"]) == set(result.tables)
    for key, table in result.tables.items():
        exported = document["tables"][key]
        assert [c["key"] for c in exported["columns"]] == [c.key for c in table.columns]
        assert len(exported["rows"]) == len(table.frame)
    budget = document["tables"]["budget_by_initiative"]
    frame = result["budget_by_initiative"]
    assert [row["actual_cumulative"] for row in budget["rows"]] == pytest.approx(frame["actual_cumulative"].tolist())
    assert budget["totals"]["budget_total"] == pytest.approx(frame["budget_total"].sum())
    texts = document["tables"]["texts"]["rows"]
    assert HOSTILE["activities"] in {row["activities"] for row in texts}  # JSON is data: no prefix
    dates = {row["period_end"] for row in document["tables"]["overview"]["rows"]}
    assert all(len(d) == 10 and d[4] == "-" for d in dates)
