"""The bad-input corpus (tests/corpus.py) through the reader, both cell sources.

Every kind must get its outcome (accepted, warning, rejected or skipped), a message containing
its Swedish fragment at the right severity, the field (and, for typed answers, the very cell)
it concerns, the same JSON from the fast and the openpyxl source, every issue as common/catalogue.py
declares it, and leave the file untouched.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import shutil
from pathlib import Path

import corpus
import pytest
from conftest import sha256
from corpus import CASES, Case
from openpyxl import load_workbook
from test_catalogue import assert_declared

from lagesrapport_xl.common.digest import file_digest
from lagesrapport_xl.consolidate.batch import consolidate
from lagesrapport_xl.consolidate.cache import ReportCache
from lagesrapport_xl.consolidate.parallel import batch_form, read_one
from lagesrapport_xl.consolidate.statuses import Status
from lagesrapport_xl.form.spec import FormSpec
from lagesrapport_xl.master import writer as master_module
from lagesrapport_xl.master.writer import write_master
from lagesrapport_xl.reader import read as reader
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.reader.result import ReadResult
from lagesrapport_xl.reader.safety import inspect_file

SOURCES = ("fast", "openpyxl")
SEVERITY_OF = {"rejected": "error", "warning": "warning", "skipped": "warning"}

TALLY: collections.Counter[str] = collections.Counter()


def outcome(result: ReadResult) -> str:
    if result.skipped:
        return "skipped"
    if result.errors:
        return "rejected"
    return "warning" if result.warnings else "accepted"


def describe(result: ReadResult) -> str:
    return "\n".join(issue.describe() for issue in result.issues) or "(inga problem)"


def comparable(result: ReadResult) -> dict:
    """The public JSON plus the machine codes, which the JSON contract leaves out."""
    return {**result.to_json(), "codes": [issue.code for issue in result.issues], "skipped": result.skipped}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_corpus_case(case: Case, tmp_path: Path, spec: FormSpec) -> None:
    path = case.build(tmp_path)
    before = sha256(path)
    TALLY["tried"] += 1
    results = {source: read_report(path, spec, source=source) for source in SOURCES}
    TALLY["read without crash"] += 1
    assert sha256(path) == before, "the reader changed the file"

    fast, reference = results["fast"], results["openpyxl"]
    assert comparable(fast) == comparable(reference), "the two cell sources disagree"
    assert read_one(str(path), spec) == kept_by_a_batch(fast), "a batch reads the file as read_report does"
    assert_declared(fast.issues)  # each code in common/catalogue.py, at its severity, with its wording

    assert outcome(fast) == case.expect, describe(fast)
    assert (fast.report is None) == bool(fast.errors or fast.skipped)
    if case.message:
        matching = [issue for issue in fast.issues if case.message in issue.message]
        assert matching, f"no message contains {case.message!r}:\n{describe(fast)}"
        assert any(issue.severity.value == SEVERITY_OF[case.expect] for issue in matching), describe(fast)
        if case.cell:
            pointed = [issue for issue in matching if issue.field == case.cell]
            assert pointed, f"the message does not name the field {case.cell}:\n{describe(fast)}"
            if case.group == "typed":  # the names are intact: the issue points at the template's cell
                field = spec.field(case.cell)
                assert any((i.sheet, i.cell) == (field.sheet, field.cell) for i in pointed), describe(fast)
                assert all(i.label == field.label for i in pointed)
    else:
        assert case.expect == "accepted"
    if case.kind:
        assert inspect_file(path).kind == case.kind
    TALLY[case.expect] += 1


def kept_by_a_batch(result: ReadResult) -> tuple[ReadResult, dict | None]:
    """What read_one made of read_report's result before it read without the model: batch_form,
    and the digest of a file the reader did not hash (a lock file)."""
    kept, answers = batch_form(result)
    if kept.sha256 is None:
        kept.sha256, kept.size, kept.modified = file_digest(kept.file)
    return kept, answers


def test_corpus_covers_every_required_kind() -> None:
    """At least 60 kinds, names unique, every group present, every non-accepted kind with a message."""
    names = [case.name for case in CASES]
    assert len(names) >= 60
    assert len(set(names)) == len(names)
    assert {case.group for case in CASES} == {"typed", "structure", "file", "hostile"}
    assert all(case.message for case in CASES if case.expect != "accepted")
    assert {case.expect for case in CASES} == {"accepted", "warning", "rejected", "skipped"}


def test_corpus_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last in this file: one line for the log, whatever -s says."""
    counts = ", ".join(f"{TALLY[k]} {k}" for k in ("accepted", "warning", "rejected", "skipped"))
    line = (
        f"bad-input corpus: {len(CASES)} kinds, {TALLY['tried']} tried, {TALLY['read without crash']} read "
        f"by both sources without a crash ({counts})"
    )
    with capsys.disabled():
        print("\n" + line)
    assert TALLY["read without crash"] == TALLY["tried"]


# --- the whole corpus as one batch: nothing lost, nothing changed, nothing crashes -------------------

EXPECTED_STATUSES = {
    "accepted": {Status.ACCEPTED, Status.SUPERSEDED},  # every valid example is the same insats and number
    "warning": {Status.WARNINGS, Status.SUPERSEDED},
    "rejected": {Status.REJECTED},
    "skipped": {Status.SKIPPED},
}


@pytest.fixture(scope="module")
def corpus_inbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Case]]:
    """Every corpus file in a folder of its own under one inbox (built aside, then copied in)."""
    root = tmp_path_factory.mktemp("batch")
    inbox = root / "inkorg"
    by_file: dict[str, Case] = {}
    for case in CASES:
        built = case.build(_fresh(root / "bygge" / case.name))
        target = _fresh(inbox / case.name) / built.name
        shutil.copy2(built, target)
        by_file[f"{case.name}/{built.name}"] = case
    return inbox, by_file


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True)
    return folder


def hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_file_appears_exactly_once_in_kontroll(corpus_inbox, spec: FormSpec, tmp_path: Path) -> None:
    inbox, by_file = corpus_inbox
    before = hashes(inbox)
    assert len(before) == len(CASES)
    consolidation = consolidate(inbox, spec=spec, workers=2)
    assert hashes(inbox) == before, "an input file was changed"

    control = consolidation.tables["control"].frame
    assert sorted(control["file"]) == sorted(by_file), "Kontroll must list every file found, once"
    for file, status in zip(control["file"], control["status"]):
        case = by_file[file]
        assert Status(status) in EXPECTED_STATUSES[case.expect], (file, status)
    counts = consolidation.counts
    assert counts["found"] == len(CASES) == sum(v for k, v in counts.items() if k != "found")

    master = tmp_path / "sammanstallning.xlsx"
    write_master(consolidation, master)
    assert hashes(inbox) == before
    listed = _kontroll_files(master)
    assert sorted(listed) == sorted(by_file), "the written Kontroll sheet must list every file, once"


def test_the_whole_corpus_through_the_cache_gives_the_same_master(corpus_inbox, spec: FormSpec, tmp_path: Path) -> None:
    """Every hostile and broken kind is cached and recalled exactly: the master from a warm cache is
    the master without one, byte for byte, and nothing but the cache is read the second time."""
    inbox, _by_file = corpus_inbox
    started = dt.datetime(2026, 6, 30, 12, 0)
    plain, warm = tmp_path / "utan.xlsx", tmp_path / "varm.xlsx"
    write_master(consolidate(inbox, spec=spec, workers=2, started=started), plain)
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        consolidate(inbox, spec=spec, workers=2, started=started, cache=cache)
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        write_master(consolidate(inbox, spec=spec, workers=2, started=started, cache=cache), warm)
        unreadable = sum(1 for p in inbox.rglob("*") if p.is_file() and not os.access(p, os.R_OK))
        assert cache.misses == unreadable, "only a file that cannot be hashed is read again"
    assert warm.read_bytes() == plain.read_bytes()


def _kontroll_files(master: Path) -> list[str]:
    wb = load_workbook(master, read_only=True)
    rows = list(wb["Kontroll"].iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row and "Fil" in row and "Status" in row)
    column = rows[header].index("Fil")
    return [row[column] for row in rows[header + 1 :] if row and row[column]]


class _Boom(BaseException):
    """Like pyo3's PanicException: not an Exception, so a plain `except Exception` misses it."""


@pytest.mark.parametrize(
    "error",
    [RuntimeError("trasig"), MemoryError(), _Boom("panik")],
    ids=["exception", "memory", "base-exception"],
)
@pytest.mark.parametrize("workers", [1, 2])
def test_a_crash_inside_one_file_rejects_that_file_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, spec: FormSpec, workers: int, error: BaseException
) -> None:
    inbox = _fresh(tmp_path / "inkorg")
    for number in range(1, 10):  # 9 files: enough for the parallel path; nine insatser (all of them
        # for the same period), so that no report is compared with another of its insats
        changes = {"report_number": number, "reports_total": 9, "case_number": f"2020-{number:04d}"}
        corpus.filled(tmp_path, changes, name=f"rapport{number}.xlsx")
        shutil.copy2(tmp_path / f"rapport{number}.xlsx", inbox)
    doomed = "rapport4.xlsx"
    real = reader.read_answers  # what read_one calls

    def failing(path, *args, **kwargs):  # inherited by forked workers
        if Path(path).name == doomed:
            raise error
        return real(path, *args, **kwargs)

    monkeypatch.setattr(reader, "read_answers", failing)
    consolidation = consolidate(inbox, spec=spec, workers=workers)
    control = consolidation.tables["control"].frame.set_index("file")
    assert len(control) == 9
    assert control.loc[doomed, "status"] == Status.REJECTED.value
    assert "Filen kunde inte läsas" in control.loc[doomed, "problems"]
    others = control.drop(index=doomed)
    assert set(others["status"]) == {Status.ACCEPTED.value}


def test_master_replaced_atomically(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, spec: FormSpec) -> None:
    """A write that fails halfway leaves the previous master byte-identical and no temporary file."""
    inbox = _fresh(tmp_path / "inkorg")
    corpus.filled(inbox, name="rapport.xlsx")
    (inbox / "_mall.xlsx").unlink()
    master = tmp_path / "ut" / "sammanstallning.xlsx"
    write_master(consolidate(inbox, spec=spec, workers=1), master)
    previous = master.read_bytes()

    real, written = master_module.write_sheet, []

    def failing_halfway(wb, sheet, *args, **kwargs):
        if len(written) == 3:
            raise OSError("disken är full")
        written.append(sheet)
        return real(wb, sheet, *args, **kwargs)

    monkeypatch.setattr(master_module, "write_sheet", failing_halfway)
    corpus.filled(inbox, {"report_number": 3}, name="rapport3.xlsx")
    with pytest.raises(OSError, match="disken är full"):
        write_master(consolidate(inbox, spec=spec, workers=1), master)
    assert len(written) == 3
    assert master.read_bytes() == previous
    assert [p.name for p in master.parent.iterdir()] == [master.name]
