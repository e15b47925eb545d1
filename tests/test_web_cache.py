"""The web intake on the parsed-report cache: RAR's page and the master button open no file the
intake has received, and agree with `consolidate` on the same inbox.

Real reports (the demo set, generated reports with errors and duplicates) are uploaded through the
intake, then the page's statuses and states are compared with a full consolidation of the inbox.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from lagesrapport_dev.examples import ExampleFile, bulk_files, demo_files, write_demo_register, write_examples
from lagesrapport_xl.common.digest import file_digest
from lagesrapport_xl.consolidate import hashing
from lagesrapport_xl.consolidate import file_states as file_states_module
from lagesrapport_xl.consolidate.batch import DEFAULT_TOLERANCE, consolidate
from lagesrapport_xl.consolidate.coverage import register_coverage
from lagesrapport_xl.consolidate.file_states import FileStates, file_states
from lagesrapport_xl.master.writer import write_master
from lagesrapport_xl.reader import read as reader
from lagesrapport_xl.reader.register import read_register
from lagesrapport_xl.consolidate.receipts import Review
from lagesrapport_xl.web import overview, review
from lagesrapport_xl.web.intake import Intake
from lagesrapport_xl.web.keys import Insats
from lagesrapport_xl.web.settings import build_settings


EXAMPLES = demo_files() + bulk_files(16)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("rapporter")
    return write_examples(folder, EXAMPLES)


def _filled(tmp_path: Path, reports: list[Path], *, register: bool = True) -> Intake:
    """An intake that received every report through its own insats' link (with RAR's register, or
    without one: then RAR's page has a row per insats and report number found in the inbox)."""
    register_file = write_demo_register(tmp_path / "register.xlsx") if register else None
    intake = Intake(build_settings(tmp_path / "inkorg", register=register_file, environ={}))
    for path, example in zip(reports, EXAMPLES):
        intake.receive(path.read_bytes(), path.name, insats=Insats.of(example.answers))
    return intake


@pytest.fixture()
def filled(tmp_path: Path, reports: list[Path]) -> Intake:
    return _filled(tmp_path, reports)


@pytest.fixture(params=["register", "inkorg"])
def filled_either(request: pytest.FixtureRequest, tmp_path: Path, reports: list[Path]) -> Intake:
    return _filled(tmp_path, reports, register=request.param == "register")


def _forbid_reading(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []

    def read_report(path, *args, **kwargs):
        opened.append(f"read {path}")
        raise AssertionError(f"{path} was read")

    def file_sha256(path):
        opened.append(f"hashed {path}")
        raise AssertionError(f"{path} was hashed")

    monkeypatch.setattr(reader, "read_report", read_report)
    monkeypatch.setattr(reader, "read_answers", read_report)  # what a batch's read_one calls
    monkeypatch.setattr(hashing, "file_sha256", file_sha256)
    return opened


def _states(consolidation) -> list[tuple[str, str, str | None]]:
    return sorted((o.name, o.status.name, o.superseded_by) for o in consolidation.files)


def test_the_page_agrees_with_consolidate_and_opens_no_received_file(filled: Intake, monkeypatch) -> None:
    settings = filled.settings
    rows, _problems = read_register(settings.register)
    receipts = overview.server_receipts(filled)
    full = consolidate([settings.inbox], spec=settings.spec, workers=1, register=rows, receipts=receipts)
    opened = _forbid_reading(monkeypatch)
    light = file_states([settings.inbox], spec=settings.spec, cache=filled.cache, tolerance=DEFAULT_TOLERANCE,
                        known=filled.known_files(), register=rows, receipts=receipts)
    assert opened == []
    assert _states(light) == _states(full)
    assert light.counts == full.counts
    assert light.coverage == full.coverage == register_coverage(full.files, rows)
    page = overview.build_overview(filled)
    assert opened == []
    assert page.files == full.counts
    assert [row.coverage for row in page.rows] == list(full.coverage.rows)


def test_the_master_job_reads_no_received_file_and_writes_the_commands_master(filled: Intake, monkeypatch,
                                                                             tmp_path: Path) -> None:
    settings = filled.settings
    rows, _problems = read_register(settings.register)
    receipts = overview.server_receipts(filled)
    opened = _forbid_reading(monkeypatch)
    job = overview.MasterJob(inbox=settings.inbox, spec=settings.spec, cache=filled.cache.path,
                             known=filled.known_files(), register=rows, register_file=settings.register,
                             target_folder=tmp_path / "ut", receipts=receipts)
    written = Path(overview.run_master_job(job))
    assert opened == []
    monkeypatch.undo()
    started = dt.datetime.strptime(written.stem.removeprefix("sammanstallning_"), "%Y%m%d-%H%M%S-%f")
    expected = consolidate([settings.inbox], spec=settings.spec, workers=1, register=rows,
                           register_file=settings.register, started=started, receipts=receipts)
    reference = tmp_path / "facit.xlsx"
    write_master(expected, reference, keep_formulas=False, files_folder=overview.FILES_FOLDER)
    with zipfile.ZipFile(written) as packed:  # the master, and the files it counts under their stored names
        assert packed.read(written.with_suffix(".xlsx").name) == reference.read_bytes()
        counted = [o for o in expected.files if o.accepted]
        assert sorted(packed.namelist()) == sorted([written.with_suffix(".xlsx").name,
                                                    *(f"inkorg/{o.name}" for o in counted)])
        assert all(packed.read(f"inkorg/{o.name}") == Path(o.result.file).read_bytes() for o in counted)


def test_a_file_put_in_the_inbox_by_hand_is_read_once_and_shown(filled: Intake, reports: list[Path]) -> None:
    settings = filled.settings
    before = overview.build_overview(filled).files["found"]
    by_hand = settings.inbox / "lagd_for_hand.xlsx"
    shutil.copy(reports[0], by_hand)
    os.utime(by_hand, (1_700_000_000, 1_700_000_000))
    page = overview.build_overview(filled)
    assert page.files["found"] == before + 1
    full = consolidate([settings.inbox], spec=settings.spec, workers=1, receipts=overview.server_receipts(filled))
    assert page.files == full.counts


def test_a_received_file_changed_in_place_is_hashed_and_read_again(filled: Intake, reports: list[Path],
                                                                   monkeypatch) -> None:
    settings = filled.settings
    stored = sorted(settings.inbox.glob("*.xlsx"))
    victim, other = stored[0], next(p for p in reports if p.read_bytes() != stored[0].read_bytes())
    shutil.copy(other, victim)  # another report's bytes under the stored name: size and time change
    monkeypatch.setattr(overview, "MEMO_SECONDS", 1e-9)  # no page kept from before the change
    page = overview.build_overview(filled)
    full = consolidate([settings.inbox], spec=settings.spec, workers=1, receipts=overview.server_receipts(filled))
    assert page.files == full.counts
    known = filled.known_files()[str(victim)]
    assert known.sha256 != file_digest(victim)[0]


def test_the_page_is_built_once_per_change(filled: Intake, reports: list[Path], monkeypatch) -> None:
    calls: list[int] = []
    real = overview._build_overview

    def counting(intake, memo):
        calls.append(1)
        return real(intake, memo)

    monkeypatch.setattr(overview, "_build_overview", counting)
    monkeypatch.setattr(overview.time, "monotonic", lambda: 3600.0)  # no minute turns between the calls
    first = overview.build_overview(filled)
    assert overview.build_overview(filled) is first and len(calls) == 1
    filled.receive(reports[-1].read_bytes(), "en_till.xlsx", insats=Insats.of(EXAMPLES[-1].answers))  # a new log row
    assert overview.build_overview(filled) is not first and len(calls) == 2


def test_the_intakes_temporary_files_are_never_in_the_inbox(filled: Intake) -> None:
    assert not [p for p in filled.settings.inbox.iterdir() if p.name.startswith(".tmp-")]
    assert filled.temporary.is_dir() and filled.temporary.parent == filled.settings.state


def test_a_page_build_after_an_upload_recalls_only_the_new_file(filled: Intake, reports: list[Path],
                                                                 tmp_path: Path, monkeypatch) -> None:
    """FileStates keeps each file's facts between builds: after one more upload, one file is
    recalled, and the build agrees with a fresh one; a file changed in place is recalled again."""
    settings = filled.settings
    rows, _problems = read_register(settings.register)
    states = FileStates(settings.spec, filled.cache, tolerance=DEFAULT_TOLERANCE)
    first = states.build([settings.inbox], known=filled.known_files(), register=rows,
                         receipts=overview.server_receipts(filled))
    assert states.recalled == len(first.files)
    asked: list[list[str]] = []

    def known(paths):
        asked.append(list(paths))
        vouched = filled.known_files()
        return {path: vouched[path] for path in paths if path in vouched}

    extra = bulk_files(17)[-1]  # a report the inbox has not seen
    (copy,) = write_examples(tmp_path / "ny", [extra])
    filled.receive(copy.read_bytes(), "en_till.xlsx", insats=Insats.of(extra.answers))
    receipts = overview.server_receipts(filled)
    again = states.build([settings.inbox], known=known, register=rows, receipts=receipts)
    assert states.recalled == 1 and len(asked) == 1 and len(asked[0]) == 1
    fresh = file_states([settings.inbox], spec=settings.spec, cache=filled.cache, tolerance=DEFAULT_TOLERANCE,
                        known=filled.known_files(), register=rows, receipts=receipts)
    assert len(again.files) == len(first.files) + 1
    assert _states(again) == _states(fresh) and again.counts == fresh.counts and again.coverage == fresh.coverage
    assert [o.result.issues for o in again.files] == [o.result.issues for o in fresh.files]
    victim = next(o for o in again.files if o.accepted)
    path = settings.inbox / victim.name
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # touched by hand
    states.build([settings.inbox], known=known, register=rows, receipts=receipts)
    assert states.recalled == 0  # between the builds that stat every file, only new paths are stat'ed
    later = time.monotonic() + file_states_module.STAT_SECONDS
    monkeypatch.setattr(file_states_module.time, "monotonic", lambda: later)
    states.build([settings.inbox], known=known, register=rows, receipts=receipts)
    assert states.recalled == 1


def _page(intake: Intake, memo: overview._Memo):
    """A page built on from `memo`, checked against one built afresh from the same log and inbox."""
    page = overview._build_overview(intake, memo)
    fresh = overview._build_overview(intake, overview._Memo())
    assert page.rows == fresh.rows and page.unmatched == fresh.unmatched
    assert page.files == fresh.files and page.uploads == fresh.uploads
    # status.json, spliced from the rows' own encodings (kept rows keep theirs), as Starlette encodes the whole
    assert page.json_bytes == json.dumps(fresh.to_json(), ensure_ascii=False, separators=(",", ":")).encode()

    def decided(o):
        return (o.status, o.superseded_by, o.superseded_reason, o.insats,
                [(issue.severity, issue.code, issue.field) for issue in o.result.issues])

    assert {n: decided(o) for n, o in page.outcomes.items()} == {n: decided(o) for n, o in fresh.outcomes.items()}
    return page


def test_each_page_build_after_a_change_equals_a_fresh_build(filled_either: Intake, tmp_path: Path,
                                                             monkeypatch) -> None:
    """RAR's page is built on from the last build (FileStates decides again only the insatser a
    change touches, and shows again only their rows): after each kind of change it is the page a
    fresh build gives, with a register and without one (rows of the insatser in the inbox: a new
    report number or a new insats adds a row in the middle and moves the rows after it). A change
    that links insatser (a name given a case number) or moves a file to another row is among them."""
    filled = filled_either
    settings = filled.settings
    memo = overview._Memo()
    _page(filled, memo)
    first = EXAMPLES[0]
    # a new report of an insats that has one: it supersedes by receipt
    (newer,) = write_examples(tmp_path / "a", [ExampleFile("nyare.xlsx", {**first.answers, "signed_date": dt.date.today()})])
    filled.receive(newer.read_bytes(), newer.name, insats=Insats.of(first.answers))
    page = _page(filled, memo)
    assert memo.states.redecided < len(page.outcomes)  # only the insats' files were decided again
    if settings.register is None:
        assert 0 < memo.states._built.inbox.worked < len(page.outcomes)  # only the insats' rows were worked out
    # the insats' next report, and a new insats whose name sorts first: rows that the inbox had not
    next_one = {**first.answers, "report_number": 9}  # no file has it yet
    new_insats = {**first.answers, "case_number": "RAR 1999/1", "initiative_name": "Aaa nytt försök"}
    for folder, answers in (("d", next_one), ("e", new_insats)):
        (made,) = write_examples(tmp_path / folder, [ExampleFile(f"{folder}.xlsx", answers)])
        filled.receive(made.read_bytes(), made.name, insats=Insats.of(answers))
        rows_before = len(page.rows)
        page = _page(filled, memo)
        assert len(page.rows) == rows_before + (settings.register is None)
    # the older one again, byte for byte: received later, it counts again
    (older,) = [p for p in (settings.inbox).iterdir() if p.stat().st_size and p.name.endswith(EXAMPLES[0].name)]
    filled.receive(older.read_bytes(), EXAMPLES[0].name, insats=Insats.of(first.answers))
    _page(filled, memo)
    # a report without a case number, whose name belongs to one insats: counted as that insats
    nameless = {**EXAMPLES[1].answers, "case_number": None}  # the same report number: one of them counts
    (loose,) = write_examples(tmp_path / "b", [ExampleFile("utan_dnr.xlsx", nameless)])
    shutil.copy(loose, settings.inbox / "för_hand_utan_dnr.xlsx")  # put in the inbox by hand
    assert _page(filled, memo).outcomes["för_hand_utan_dnr.xlsx"].insats[0] == "dnr"
    # another insats' report under that name, with a case number: the name now belongs to two
    another = next(e for e in EXAMPLES if e.answers["case_number"] != EXAMPLES[1].answers["case_number"])
    other = {**another.answers, "initiative_name": EXAMPLES[1].answers["initiative_name"]}
    (twin,) = write_examples(tmp_path / "c", [ExampleFile("tvilling.xlsx", other)])
    filled.receive(twin.read_bytes(), twin.name, insats=Insats.of(other))
    assert _page(filled, memo).outcomes["för_hand_utan_dnr.xlsx"].insats[0] == "namn"
    # a file in a subfolder, a file gone, a review, a link
    (settings.inbox / "undermapp").mkdir()
    shutil.copy(loose, settings.inbox / "undermapp" / "kopia.xlsx")
    (settings.inbox / "för_hand_utan_dnr.xlsx").unlink()
    _page(filled, memo)
    counted = next(row for row in _page(filled, memo).rows if row.coverage.accepted)
    outcome = _page(filled, memo).outcomes[counted.coverage.accepted]
    review.save(filled.store, sha256=outcome.facts.sha256, stored_name=counted.coverage.accepted,
                insats=counted.insats.key, insats_title=counted.insats.title,
                report_number=counted.coverage.report_number, state=Review.APPROVED, comment="", chosen=(),
                user="kansli")
    page = _page(filled, memo)
    assert next(r for r in page.rows if r.coverage.row == counted.coverage.row).review is Review.APPROVED
    # a file changed in place by hand: seen once every file is stat'ed again
    victim = settings.inbox / "undermapp" / "kopia.xlsx"
    shutil.copy(twin, victim)
    later = time.monotonic() + file_states_module.STAT_SECONDS
    monkeypatch.setattr(file_states_module.time, "monotonic", lambda: later)
    page = _page(filled, memo)
    assert page.outcomes[os.path.join("undermapp", "kopia.xlsx")].facts.report_number == other["report_number"]
