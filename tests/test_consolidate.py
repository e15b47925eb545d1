"""The consolidation of real files: every table checked against an independent pandas computation,
every file accounted for in Kontroll, duplicates, broken files, and the demo set."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import sha256

import lagesrapport_xl
from lagesrapport_dev.examples import ExampleFile, bulk_files, demo_files, write_examples
from lagesrapport_xl.consolidate.batch import consolidate
from lagesrapport_xl.consolidate.inputs import InputError, find_input_files
from lagesrapport_xl.consolidate.statuses import Status
from lagesrapport_xl.form.spec import FormSpec
from lagesrapport_xl.master.writer import write_master
from lagesrapport_xl.reader import read as reader

STARTED = dt.datetime(2024, 1, 15, 9, 0)
TOLERANCE = 0.15
ROOT = Path(__file__).resolve().parents[1]


def known_files(spec: FormSpec) -> list[ExampleFile]:
    """15 valid reports of 5 insatser (one not individual-oriented), with the odd cases people make:
    a planned range given as one number, a period budget of 0, an actual count below plan."""
    files = bulk_files(15, spec, reports_per_insats=3)
    files[4].answers["women_planned_max"] = None
    odd = files[5].answers  # the latest report of its insats: it reaches the Budget sheet
    odd[spec.budget_key("training", "budget_period")] = Decimal(0)
    odd[spec.budget_key("training", "actual_period")] = Decimal(0)
    files[7].answers["men_actual"] = 0
    files[7].answers.setdefault("below_plan_reason", "Svårt att nå män.")
    return files


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, spec: FormSpec) -> tuple[Path, list[ExampleFile]]:
    folder = tmp_path_factory.mktemp("inkorg")
    files = known_files(spec)
    write_examples(folder, files, spec)
    return folder, files


@pytest.fixture(scope="module")
def result(batch: tuple[Path, list[ExampleFile]], spec: FormSpec):
    folder, _ = batch
    return consolidate([folder], spec=spec, tolerance=TOLERANCE, workers=2, started=STARTED)


# --- the independent computation -------------------------------------------------------------


def answers_frame(files: list[ExampleFile]) -> pd.DataFrame:
    frame = pd.DataFrame([{**f.answers, "source_file": f.name} for f in files])
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, Decimal)).any():
            frame[column] = frame[column].map(lambda v: np.nan if v is None else float(v))
    return frame


def latest(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("report_number").groupby("case_number").tail(1)


def close(actual: pd.Series, expected: pd.Series) -> None:
    """Equal numbers (NaN where nothing can be computed), compared by value."""
    a = pd.to_numeric(pd.Series(list(actual)), errors="coerce").astype(float).to_numpy()
    e = pd.to_numeric(pd.Series(list(expected)), errors="coerce").astype(float).to_numpy()
    np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-6, equal_nan=True)


def by_file(frame: pd.DataFrame, keys: list[str] | None = None) -> pd.DataFrame:
    return frame.sort_values(keys or ["source_file"]).reset_index(drop=True)


def test_every_file_accepted_and_counted(result, batch) -> None:
    _, files = batch
    counts = result.counts
    assert counts["found"] == counts["accepted"] + counts["warnings"] == 15, [
        (o.name, [i.describe() for i in o.result.issues]) for o in result.files if o.result.errors
    ]
    # The period budget set to 0 unbalances that report's financing: a warning, still accepted.
    assert files[5].name in {o.name for o in result.files if o.status is Status.WARNINGS}
    assert sorted(result["overview"]["source_file"]) == sorted(f.name for f in files)


def test_overview_matches_answers(result, batch) -> None:
    _, files = batch
    expected = by_file(answers_frame(files))
    actual = by_file(result["overview"])
    for key in ("case_number", "initiative_name", "report_number", "reports_total", "budget_on_track"):
        assert actual[key].tolist() == expected[key].tolist()
    for key in ("initiative_start", "initiative_end", "period_start", "period_end", "signed_date"):
        assert actual[key].tolist() == expected[key].tolist()
    planned_min = expected["women_planned_min"].fillna(0) + expected["men_planned_min"].fillna(0)
    both_blank = expected["women_planned_min"].isna() & expected["men_planned_min"].isna()
    close(actual["planned_min"], planned_min.mask(both_blank))
    actual_total = (expected["women_actual"].fillna(0) + expected["men_actual"].fillna(0)).mask(
        expected["women_actual"].isna() & expected["men_actual"].isna()
    )
    close(actual["actual"], actual_total)
    warnings = {o.name: len(o.result.warnings) for o in result.files}
    assert actual["warnings"].tolist() == [warnings[name] for name in actual["source_file"]]


def test_participants_match_pandas(result, batch) -> None:
    _, files = batch
    e = by_file(answers_frame(files))
    a = by_file(result["participants"])
    for group in ("women", "men"):
        low, high, act = e[f"{group}_planned_min"], e[f"{group}_planned_max"], e[f"{group}_actual"]
        close(a[f"{group}_actual"], act)
        close(a[f"{group}_pct_min"], (act / low).where(low > 0))
        top = high.fillna(low)  # one number alone means min = max
        close(a[f"{group}_pct_mid"], (act / ((low + top) / 2)).where((low.fillna(0) + high.fillna(0)) > 0))
    low = e["women_planned_min"].fillna(0) + e["men_planned_min"].fillna(0)
    high = e["women_planned_max"].fillna(e["women_planned_min"]).fillna(0) + e["men_planned_max"].fillna(
        e["men_planned_min"]
    ).fillna(0)
    act = e["women_actual"].fillna(0) + e["men_actual"].fillna(0)
    none = e["women_actual"].isna() & e["men_actual"].isna()
    close(a["total_planned_min"], low.mask(none))
    close(a["total_planned_max"], high.mask(none))
    close(a["total_pct_min"], (act / low).where(low > 0).mask(none))
    below = (e["women_actual"] < e["women_planned_min"]) | (e["men_actual"] < e["men_planned_min"])
    assert a["below_plan"].tolist() == np.where(below, "Ja", "Nej").tolist()
    assert "Ja" in a["below_plan"].tolist() and "Nej" in a["below_plan"].tolist()
    assert a["women_pct_mid"].notna().any() and a["women_pct_min"].isna().any()


def budget_long(files: list[ExampleFile], spec: FormSpec, lines: Any) -> pd.DataFrame:
    rows = []
    for f in files:
        for line in lines:
            row = {"source_file": f.name, "case_number": f.answers["case_number"], "line": line.label,
                   "report_number": f.answers["report_number"]}
            for column in ("budget_total", "budget_period", "actual_period", "actual_cumulative"):
                value = f.answers.get(spec.budget_key(line.key, column))
                row[column] = float(value) if value is not None else 0.0
            rows.append(row)
    return pd.DataFrame(rows)


def test_budget_tables_match_pandas(result, batch, spec: FormSpec) -> None:
    _, files = batch
    long = budget_long(files, spec, spec.budget.lines)
    newest = latest(answers_frame(files))["source_file"]
    long = long[long["source_file"].isin(newest)]
    long = long.assign(
        deviation=long["budget_period"] - long["actual_period"],
        deviation_pct=(long["budget_period"] - long["actual_period"]) / long["budget_period"].where(long["budget_period"] != 0),
        used_share=long["actual_cumulative"] / long["budget_total"].where(long["budget_total"] != 0),
    )
    detail = result["budget"]
    assert len(detail) == len(long) == 5 * len(spec.budget.lines)
    merged = detail.merge(long, on=["source_file", "line"], suffixes=("", "_expected"), validate="1:1")
    for key in ("budget_total", "budget_period", "actual_period", "actual_cumulative", "deviation", "deviation_pct",
                "used_share"):
        close(merged[key], merged[f"{key}_expected"])
    assert detail["deviation_pct"].isna().sum() == 1  # the period budget of 0
    # Each amount names its one cell in the coordinator's file, in the order of the columns.
    amounts = ("budget_total", "budget_period", "actual_period", "actual_cumulative")
    for row in merged.itertuples():
        line = next(x for x in spec.budget.lines if x.label == row.line)
        cells = [spec.fields[spec.budget_key(line.key, key)].cell for key in amounts]
        assert row.source == f"{spec.budget_sheet}!{cells[0]}, " + ", ".join(cells[1:])

    sums = ["budget_total", "budget_period", "actual_period", "actual_cumulative", "deviation"]
    per_insats = long.groupby("source_file")[sums].sum().reset_index()
    actual = by_file(result["budget_by_initiative"])
    for key in sums:
        close(actual[key], by_file(per_insats)[key])
    close(actual["used_share"], by_file(per_insats)["actual_cumulative"] / by_file(per_insats)["budget_total"])

    per_line = long.groupby("line", sort=False)[sums].sum().reset_index()
    actual = result["budget_by_line"]
    assert actual["line"].tolist() == [line.label for line in spec.budget.lines]
    for key in sums:
        close(actual[key], per_line.set_index("line").loc[actual["line"], key])

    totals = result.tables["budget"].totals
    for key in sums:
        assert totals[key] == pytest.approx(long[key].sum())
    assert totals["used_share"] == pytest.approx(long["actual_cumulative"].sum() / long["budget_total"].sum())
    assert result.tables["budget_by_line"].totals["budget_total"] == pytest.approx(long["budget_total"].sum())

    financing = budget_long(files, spec, spec.budget.financing)
    financing = financing[financing["source_file"].isin(newest)]
    merged = result["financing"].merge(financing, on=["source_file", "line"], suffixes=("", "_expected"))
    assert len(merged) == 5 * len(spec.budget.financing)
    for key in ("budget_total", "actual_cumulative"):
        close(merged[key], merged[f"{key}_expected"])


def test_time_share_matches_pandas(result, batch, spec: FormSpec) -> None:
    _, files = batch
    e = by_file(answers_frame(files))
    start, end, period_end = (pd.to_datetime(e[k]) for k in ("initiative_start", "initiative_end", "period_end"))
    share = (((period_end - start).dt.days + 1) / ((end - start).dt.days + 1)).clip(0, 1)
    granted = sum(e[spec.budget_key(line.key, "budget_total")].fillna(0) for line in spec.budget.lines)
    spent = sum(e[spec.budget_key(line.key, "actual_cumulative")].fillna(0) for line in spec.budget.lines)
    expected = granted * share
    in_line = np.where((spent - expected).abs() <= TOLERANCE * expected, "Ja", "Nej")
    a = by_file(result["time_share"])
    close(a["elapsed_share"], share)
    close(a["expected"], expected)
    close(a["deviation"], spent - expected)
    close(a["deviation_pct"], (spent - expected) / expected)
    assert a["computed_in_line"].tolist() == in_line.tolist()
    assert a["disagrees"].tolist() == np.where(in_line == e["budget_on_track"], "Nej", "Ja").tolist()
    assert result["overview"].set_index("source_file").loc[a["source_file"], "budget_in_line_computed"].tolist() == (
        in_line.tolist()
    )


def test_tolerance_changes_the_verdict(batch, spec: FormSpec) -> None:
    folder, _ = batch
    strict = consolidate([folder], spec=spec, tolerance=0.0, workers=1, started=STARTED)
    loose = consolidate([folder], spec=spec, tolerance=5.0, workers=1, started=STARTED)
    assert set(strict["time_share"]["computed_in_line"]) == {"Nej"}
    assert set(loose["time_share"]["computed_in_line"]) == {"Ja"}
    assert strict["about"].set_index("_name").loc["tolerance", "value"] == 0.0


def test_texts_and_history(result, batch, spec: FormSpec) -> None:
    _, files = batch
    e = by_file(answers_frame(files))
    texts = by_file(result["texts"])
    long_fields = [f.key for f in spec.report_fields if f.type.name == "long_text"]
    assert [c.key for c in result.tables["texts"].columns][3:-2] == long_fields  # then Källfil, Sparad som
    for key in long_fields:
        assert texts[key].fillna("").tolist() == e[key].fillna("").tolist()
    history = result["history"].set_index("case_number")
    e = e.assign(total=(e["women_actual"].fillna(0) + e["men_actual"].fillna(0)).mask(
        e["women_actual"].isna() & e["men_actual"].isna()))
    spent = sum(e[spec.budget_key(line.key, "actual_cumulative")].fillna(0) for line in spec.budget.lines)
    e = e.assign(spent=spent)
    for row in e.itertuples():
        close(pd.Series([history.loc[row.case_number, f"actual_{row.report_number}"]]), pd.Series([row.total]))
        assert history.loc[row.case_number, f"cumulative_{row.report_number}"] == pytest.approx(row.spent)
    assert len(history) == 5 and (history["latest_report"] == 3).all()


def test_parallel_reading_equals_in_process(result, batch, spec: FormSpec) -> None:
    folder, _ = batch
    single = consolidate([folder], spec=spec, tolerance=TOLERANCE, workers=1, started=STARTED)
    for key, table in result.tables.items():
        pd.testing.assert_frame_equal(table.frame, single.tables[key].frame, check_dtype=True)


def test_progress_reports_every_file(batch, spec: FormSpec) -> None:
    folder, _ = batch
    calls: list[tuple[int, int]] = []
    consolidate([folder], spec=spec, workers=2, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (15, 15)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_meanwhile_runs_once_while_other_processes_read(batch, spec: FormSpec) -> None:
    """The hook the command uses to import the master's writer on the idle core: called once, in
    this process, after the files went to the workers and before the last one is read."""
    folder, _ = batch
    for workers in (1, 2):
        events: list[Any] = []
        consolidate([folder], spec=spec, workers=workers, meanwhile=lambda: events.append(("meanwhile", os.getpid())),
                    progress=lambda done, total: events.append(done))
        assert events.count(("meanwhile", os.getpid())) == 1 and len(events) > 1
        if workers == 1:
            assert events[0] == ("meanwhile", os.getpid())  # alone: before the first file
        assert events[-1] == 15


def test_reading_never_imports_the_writers() -> None:
    """`validate` and the reading workers start without XlsxWriter, openpyxl or pandas (0.05–0.5 s each)."""
    code = (
        "import sys, lagesrapport_xl, lagesrapport_xl.reader.read, lagesrapport_xl.consolidate.batch, lagesrapport_xl.cli;"
        "lagesrapport_xl.cli.build_parser();"
        "print(sorted(m for m in ('xlsxwriter', 'openpyxl', 'pandas') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
    assert callable(lagesrapport_xl.write_template)  # still there, imported on first use


def test_a_batch_reads_without_pydantic(batch) -> None:
    """pydantic and the Report class take 0.15–0.2 s before the first file can be read; a batch
    keeps answers, not models, so neither the command nor its readers import it (reader/answers.py)."""
    folder, files = batch
    code = (
        "import sys; from lagesrapport_xl.consolidate.batch import consolidate;"
        "c = consolidate([sys.argv[1]], workers=1);"
        "print(len(c.files), 'pydantic' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True,
                         check=True)
    assert run.stdout.split() == [str(len(files)), "False"]


# --- a messy inbox: every file exactly once in Kontroll ------------------------------------------


def messy_inbox(folder: Path, spec: FormSpec, template_path: Path) -> dict[str, Status]:
    """Good files, broken files, non-workbooks, a lock file and duplicates, in nested folders."""
    demo = demo_files(spec)
    good, other, third = demo[0].answers, demo[3].answers, demo[7].answers
    write_examples(folder, [ExampleFile("bra.xlsx", good), ExampleFile("annan.xlsx", other)], spec)
    write_examples(folder / "2024" / "mars", [ExampleFile("nested.xlsx", third)], spec)
    # The same report twice: a later signature date wins, whatever the case number's case and spaces.
    again = {**good, "case_number": f"  {good['case_number'].lower()} ", "signed_date": good["signed_date"] + dt.timedelta(days=3)}
    write_examples(folder, [ExampleFile("bra_igen.xlsx", again)], spec)
    # A rejected but real workbook: a required answer missing.
    write_examples(folder, [ExampleFile("saknar_svar.xlsx", {**other, "activities": None, "report_number": 9})], spec)
    (folder / "trasig.xlsx").write_bytes((folder / "bra.xlsx").read_bytes()[:700])
    (folder / "tom.xlsx").write_bytes(b"")
    (folder / "anteckningar.txt").write_text("Ring Anna om rapporten.\n", encoding="utf-8")
    (folder / "bild.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (folder / "~$bra.xlsx").write_bytes(b"\x0bAnna Andersson" + b"\x20" * 40 + b"\0" * 110)
    return {
        "bra.xlsx": Status.SUPERSEDED,
        "bra_igen.xlsx": Status.ACCEPTED,
        "annan.xlsx": Status.ACCEPTED,
        os.path.join("2024", "mars", "nested.xlsx"): Status.ACCEPTED,
        "saknar_svar.xlsx": Status.REJECTED,
        "trasig.xlsx": Status.REJECTED,
        "tom.xlsx": Status.REJECTED,
        "anteckningar.txt": Status.REJECTED,
        "bild.png": Status.REJECTED,
        ".DS_Store": Status.REJECTED,
        "~$bra.xlsx": Status.SKIPPED,
    }


def test_kontroll_has_every_file_once(tmp_path: Path, spec: FormSpec, template_path: Path) -> None:
    inbox = tmp_path / "inkorg"
    expected = messy_inbox(inbox, spec, template_path)
    before = {p: sha256(p) for p in inbox.rglob("*") if p.is_file()}
    result = consolidate([inbox], spec=spec, workers=2)
    write_master(result, tmp_path / "master.xlsx")
    control = result["control"]
    assert sorted(control["file"]) == sorted(expected)
    assert control["file"].is_unique
    statuses = dict(zip(control["file"], control["status"]))
    assert statuses == {name: status.value for name, status in expected.items()}
    counts = result["control_counts"].iloc[0]
    assert counts["found"] == len(expected) == counts["count_sum"]
    assert counts["count_skipped"] == 1 and counts["count_superseded"] == 1
    problems = dict(zip(control["file"], control["problems"]))
    assert "Ersatt av bra_igen.xlsx" in problems["bra.xlsx"]
    assert "senare underskriftsdatum" in problems["bra.xlsx"]
    assert "låsfil" in problems["~$bra.xlsx"].lower()
    assert "Lägesrapport!" in problems["saknar_svar.xlsx"]  # the cell of the missing answer
    for name, status in expected.items():
        if status is Status.REJECTED:
            assert problems[name].startswith("Fel"), (name, problems[name])
    assert {p: sha256(p) for p in inbox.rglob("*") if p.is_file()} == before  # inputs untouched


def test_duplicate_with_same_date_latest_modification_wins(tmp_path: Path, spec: FormSpec) -> None:
    answers = demo_files(spec)[0].answers
    paths = write_examples(tmp_path, [ExampleFile("a.xlsx", answers), ExampleFile("b.xlsx", answers)], spec)
    os.utime(paths[0], (2_000_000_000, 2_000_000_000))  # a.xlsx changed later
    os.utime(paths[1], (1_900_000_000, 1_900_000_000))
    result = consolidate([tmp_path], spec=spec, workers=1)
    outcome = {o.name: o for o in result.files}
    assert outcome["a.xlsx"].status is Status.ACCEPTED
    assert outcome["b.xlsx"].status is Status.SUPERSEDED and outcome["b.xlsx"].superseded_by == "a.xlsx"
    assert "ändrades senare" in outcome["b.xlsx"].superseded_reason


def test_duplicates_by_name_when_case_number_is_missing(tmp_path: Path, spec: FormSpec) -> None:
    base = demo_files(spec)[0].answers
    files = [
        ExampleFile("utan_dnr.xlsx", {**base, "case_number": None, "initiative_name": "Nyttiga  AFFÄRER"}),
        ExampleFile("med_dnr.xlsx", {**base, "signed_date": base["signed_date"] + dt.timedelta(days=1)}),
        ExampleFile("bara_namn_1.xlsx", {**base, "case_number": None, "initiative_name": "Ny insats", "report_number": 2}),
        ExampleFile("bara_namn_2.xlsx", {**base, "case_number": None, "initiative_name": " ny  Insats",
                                         "report_number": 2, "signed_date": base["signed_date"] + dt.timedelta(days=2)}),
    ]
    write_examples(tmp_path, files, spec)
    result = consolidate([tmp_path], spec=spec, workers=1)
    status = {o.name: (o.status, o.superseded_by) for o in result.files}
    # A name that belongs to exactly one case number in the batch counts as that case number.
    assert status["utan_dnr.xlsx"] == (Status.SUPERSEDED, "med_dnr.xlsx")
    assert status["bara_namn_1.xlsx"] == (Status.SUPERSEDED, "bara_namn_2.xlsx")
    assert status["med_dnr.xlsx"][0] is status["bara_namn_2.xlsx"][0] is Status.ACCEPTED


def test_a_crash_in_one_file_is_that_files_rejection(tmp_path: Path, spec: FormSpec, monkeypatch) -> None:
    write_examples(tmp_path, bulk_files(10, spec), spec)
    victim = sorted(tmp_path.glob("*.xlsx"))[3]
    real = reader.read_answers  # what read_one calls

    def flaky(path, *args, **kwargs):
        if Path(path).name == victim.name:
            raise ZeroDivisionError("division by zero")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(reader, "read_answers", flaky)
    for workers in (1, 2):  # in this process, and in forked worker processes
        result = consolidate([tmp_path], spec=spec, workers=workers)
        outcome = {o.name: o for o in result.files}
        assert outcome[victim.name].status is Status.REJECTED
        message = outcome[victim.name].result.errors[0].message
        assert "fel i programmet" in message and "ZeroDivisionError" in message and "kunde inte läsas" in message
        assert outcome[victim.name].result.sha256 == sha256(victim)
        assert result.counts["accepted"] == 9


def test_a_worker_process_that_dies_costs_only_its_file(tmp_path: Path, spec: FormSpec, monkeypatch) -> None:
    write_examples(tmp_path, bulk_files(12, spec), spec)
    victim = sorted(tmp_path.glob("*.xlsx"))[5]
    real = reader.read_answers  # what read_one calls

    def fatal(path, *args, **kwargs):
        if Path(path).name == victim.name:
            os._exit(1)  # what the operating system does to a process that runs out of memory
        return real(path, *args, **kwargs)

    monkeypatch.setattr(reader, "read_answers", fatal)
    result = consolidate(str(tmp_path), spec=spec, workers=2)  # a single folder as a plain string
    outcome = {o.name: o for o in result.files}
    assert outcome[victim.name].status is Status.REJECTED
    assert "avslutades oväntat" in outcome[victim.name].result.errors[0].message
    assert result.counts["found"] == 12 and result.counts["accepted"] + result.counts["warnings"] == 11


def test_inputs_that_do_not_exist_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Hittar inte"):
        consolidate([tmp_path / "finns-inte"])


def test_files_named_directly_and_outputs_left_out(tmp_path: Path, spec: FormSpec) -> None:
    paths = write_examples(tmp_path / "in", demo_files(spec)[:2], spec)
    master = tmp_path / "in" / "sammanstallning.xlsx"
    master.write_bytes(b"old master")
    found = find_input_files([tmp_path / "in", paths[0]], exclude=[master])
    assert [f.name for f in found] == [p.name for p in paths]  # each once, the master left out


def test_links_count_once_and_an_output_behind_a_link_is_left_out(tmp_path: Path, spec: FormSpec) -> None:
    """Duplicates and outputs are recognised by their real path, whichever way a file is reached."""
    paths = write_examples(tmp_path / "real", demo_files(spec)[:2], spec)
    inbox = tmp_path / "inkorg"
    inbox.mkdir()
    (inbox / "kopia_via_lank.xlsx").symlink_to(paths[0])
    (inbox / "mapp_via_lank").symlink_to(tmp_path / "real", target_is_directory=True)  # not followed
    master = tmp_path / "real" / "sammanstallning.xlsx"
    master.write_bytes(b"old master")
    (inbox / "huvud_via_lank.xlsx").symlink_to(master)
    found = find_input_files([inbox, tmp_path / "real"], exclude=[inbox / "huvud_via_lank.xlsx"])
    assert sorted(f.path.resolve() for f in found) == sorted(p.resolve() for p in paths)
    assert len(found) == 2


def test_demo_examples_are_current_and_realistic(tmp_path: Path, spec: FormSpec) -> None:
    committed = ROOT / "workbook_templates" / "examples"
    fresh = write_examples(tmp_path, demo_files(spec), spec)
    assert sorted(p.name for p in committed.glob("*.xlsx")) == sorted(p.name for p in fresh), (
        "Exempelfilerna är inaktuella: kör scripts/make-examples"
    )
    for path in fresh:
        assert path.read_bytes() == (committed / path.name).read_bytes(), (
            f"{path.name} skiljer sig från koden: kör scripts/make-examples"
        )
    result = consolidate([committed], spec=spec, workers=1)
    counts = result.counts
    assert counts["found"] >= 12 and counts["rejected"] == 1 and counts["superseded"] == 1
    assert counts["warnings"] >= 2
    assert result["overview"]["case_number"].nunique() >= 4
    assert result["overview"]["report_number"].nunique() >= 3
    assert "Ja" in set(result["time_share"]["disagrees"])  # one self-assessment the numbers contradict
