"""Receiving uploads without HTTP (web/intake.py): what is stored, logged, superseded and refused.

Real reports are generated from the template and filled as a person would, and sent through their
insats' link (`insats=`); the inbox is then read back with `consolidate` given the server's
receipts (as `consolidate --state` does), the way RAR reads it, to prove the server's state agrees.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from webtools import BROKEN, CORRECTED, FIRST, GOOD, examples, insats_of  # noqa: F401

from lagesrapport_dev import attacks
from lagesrapport_dev.examples import demo_files
from lagesrapport_xl.consolidate.file_states import FileStates
from lagesrapport_xl.consolidate.batch import consolidate
from lagesrapport_xl.consolidate.statuses import Status
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.template.writer import write_template
from lagesrapport_xl.web.intake import MAX_STORED_NAME_BYTES, Intake, Outcome, receipt_order, safe_name, shown_name
from lagesrapport_xl.web import overview
from lagesrapport_xl.web.file_links import FileLinks
from lagesrapport_xl.web.overview import store_receipts
from lagesrapport_xl.web.settings import SettingsError, build_settings

EXAMPLES = {example.name: example for example in demo_files()}


@pytest.fixture(scope="module")
def contents(examples: dict[str, Path]) -> dict[str, bytes]:
    """The demo reports' bytes, by name."""
    return {name: path.read_bytes() for name, path in examples.items()}


@pytest.fixture()
def intake(tmp_path: Path) -> Intake:
    return Intake(build_settings(tmp_path / "inkorg", environ={}))


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def log_rows(intake: Intake) -> list[sqlite3.Row]:
    with intake.store.connect() as db:
        return db.execute("SELECT * FROM uploads ORDER BY id").fetchall()


def report_bytes(tmp_path: Path, name: str, answers: dict[str, Any]) -> bytes:
    return write_template(tmp_path / name, answers=answers).read_bytes()


def counted(intake: Intake) -> dict[str, Status]:
    """Each inbox file's status as `consolidate INBOX --state STATE` decides it."""
    return {o.name: o.status for o in consolidate(intake.inbox, workers=1, receipts=store_receipts(intake.store)).files}


def test_a_good_report_is_stored_with_its_hash_its_receipt_time_and_a_log_row(intake: Intake, contents) -> None:
    content = contents[GOOD]
    receipt = intake.receive(content, GOOD, client="127.0.0.1", insats=insats_of(GOOD))
    assert receipt.outcome is Outcome.RECEIVED and receipt.verdict == "RAR har tagit emot rapporten."
    assert (receipt.case_number, receipt.initiative_name, receipt.report_number) == ("2020-0042", "Nyttiga affärer", 2)
    assert receipt.sha256 == sha(content) and receipt.size == len(content)
    stored = intake.inbox / receipt.stored_name
    assert stored.read_bytes() == content
    assert receipt.stored_name.endswith(f"_{sha(content)[:12]}_{GOOD}")
    assert abs(os.stat(stored).st_mtime - receipt.received.timestamp()) < 1e-5
    [row] = log_rows(intake)
    assert (row["outcome"], row["sha256"], row["stored_name"], row["client"]) == (
        "received", sha(content), receipt.stored_name, "127.0.0.1")
    assert row["received_ns"] == os.stat(stored).st_mtime_ns  # the receipt time is the file's mtime
    assert intake.receipt(receipt.token) == receipt
    # The issues are exactly validate's: the same reader on the same bytes.
    assert receipt.result == {**read_report(stored).to_json(), "file": GOOD}
    # Nothing of the server's own is in the inbox: consolidate sees the one report.
    assert [p.name for p in intake.inbox.iterdir()] == [receipt.stored_name]
    assert consolidate(intake.inbox, workers=1).counts["accepted"] == 1


def test_a_report_with_errors_is_stored_and_its_annotated_copy_lists_the_problems(intake: Intake, contents) -> None:
    receipt = intake.receive(contents[BROKEN], BROKEN, insats=insats_of(BROKEN))
    assert receipt.outcome is Outcome.HAS_ERRORS
    assert "fel som måste rättas" in receipt.verdict and "räknas inte som inkommen" in receipt.advice
    stored = intake.inbox / receipt.stored_name
    expected = read_report(stored)
    assert [i["message"] for i in receipt.issues] == [i.message for i in expected.issues]
    assert {(i["sheet"], i["cell"]) for i in receipt.issues if i["severity"] == "error"} == {
        ("Lägesrapport", "B14"), ("Budget", "D8")}
    copy = intake.annotated_copy(receipt.token)
    assert copy is not None and copy.name == BROKEN.replace(".xlsx", "_kontroll.xlsx")
    assert not copy.is_relative_to(intake.inbox)
    sheet = load_workbook(copy)["Kontroll"]
    listed = [row[5] for row in sheet.iter_rows(min_row=7, values_only=True)]
    assert listed == [issue.message for issue in expected.issues]
    assert consolidate(intake.inbox, workers=1).files[0].status is Status.REJECTED


def test_the_same_bytes_twice_are_logged_twice_and_stored_once(intake: Intake, contents) -> None:
    first = intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))
    again = intake.receive(contents[GOOD], "kopia.xlsx", insats=insats_of(GOOD))
    assert again.outcome is Outcome.RECEIVED and again.already_received == first.received
    assert again.stored_name == first.stored_name and again.token != first.token
    assert len(log_rows(intake)) == 2 and len(list(intake.inbox.iterdir())) == 1
    assert intake.counts() == {"uploads": 2, "received": 2, "has_errors": 0, "refused": 0, "duplicates": 1,
                               "stored": 1, "checks": 0, "found": 0}


def test_a_corrected_report_supersedes_the_first_as_consolidate_decides(intake: Intake, contents) -> None:
    first = intake.receive(contents[FIRST], FIRST, insats=insats_of(FIRST))
    corrected = intake.receive(contents[CORRECTED], CORRECTED, insats=insats_of(CORRECTED))
    assert first.supersedes == () and first.superseded_by is None
    assert corrected.supersedes == (first.stored_name,) and corrected.superseded_by is None
    assert counted(intake) == {first.stored_name: Status.SUPERSEDED, corrected.stored_name: Status.ACCEPTED}


def test_what_the_insats_sent_last_counts_whatever_its_signing_date_says(intake: Intake, contents) -> None:
    """The receipt order decides, not the date in the file: the insats that sends its earlier
    version again (signed 14 days before the correction) has chosen it."""
    corrected = intake.receive(contents[CORRECTED], CORRECTED, insats=insats_of(CORRECTED))
    older = intake.receive(contents[FIRST], FIRST, insats=insats_of(FIRST))
    assert older.supersedes == (corrected.stored_name,) and older.superseded_by is None
    assert counted(intake) == {corrected.stored_name: Status.SUPERSEDED, older.stored_name: Status.ACCEPTED}
    [loser] = [o for o in consolidate(intake.inbox, workers=1, receipts=store_receipts(intake.store)).files
               if o.status is Status.SUPERSEDED]
    assert "den senast mottagna gäller" in loser.superseded_reason and "togs emot" in loser.superseded_reason
    # A folder without the server's account knows only the dates in the files:
    plain = {o.name: o.status for o in consolidate(intake.inbox, workers=1).files}
    assert plain[corrected.stored_name] is Status.ACCEPTED
    # Sending the correction again makes it count again: the same bytes, received anew.
    again = intake.receive(contents[CORRECTED], CORRECTED, insats=insats_of(CORRECTED))
    assert again.already_received == corrected.received and again.supersedes == (older.stored_name,)
    assert counted(intake) == {corrected.stored_name: Status.ACCEPTED, older.stored_name: Status.SUPERSEDED}


def test_with_the_same_signature_date_the_later_upload_wins(intake: Intake, tmp_path: Path) -> None:
    answers = dict(EXAMPLES[GOOD].answers)
    first = intake.receive(report_bytes(tmp_path, "a.xlsx", answers), "rapport.xlsx", insats=insats_of(answers))
    answers["deviations"] = "Rättad text: en avvikelse saknades i första versionen."
    second = intake.receive(report_bytes(tmp_path, "b.xlsx", answers), "rapport.xlsx", insats=insats_of(answers))
    assert second.supersedes == (first.stored_name,)
    assert counted(intake) == {first.stored_name: Status.SUPERSEDED, second.stored_name: Status.ACCEPTED}
    assert second.received > first.received


def test_a_text_file_is_refused_kept_for_audit_and_never_put_in_the_inbox(intake: Intake) -> None:
    receipt = intake.receive("Insats;Nyttiga affärer\n".encode(), "rapport.xlsx", insats=insats_of(GOOD))
    assert receipt.outcome is Outcome.REFUSED and receipt.verdict == "Filen togs inte emot."
    assert receipt.code == "csv" and "textfil" in receipt.issues[0]["message"]
    assert receipt.stored_name is None and not any(intake.inbox.iterdir())
    [kept] = intake.refused_dir.iterdir()
    assert kept.read_bytes() == "Insats;Nyttiga affärer\n".encode() and kept.name.endswith("_rapport.xlsx")
    assert [row["outcome"] for row in log_rows(intake)] == ["refused"]
    assert intake.annotated_copy(receipt.token) is None


def test_another_workbook_and_a_lock_file_are_not_reports(intake: Intake, tmp_path: Path, contents) -> None:
    other = tmp_path / "budget.xlsx"
    workbook = Workbook()
    workbook.active["A1"] = "Min egen budget"
    workbook.save(other)
    receipt = intake.receive(other.read_bytes(), "budget.xlsx", insats=insats_of(GOOD))
    assert receipt.outcome is Outcome.REFUSED and receipt.code == "not_template"
    lock = intake.receive(b"\x00" * 165, "~$rapport.xlsx", insats=insats_of(GOOD))
    assert lock.outcome is Outcome.REFUSED and lock.code == "lock_file" and "låsfil" in lock.issues[0]["message"]
    assert not any(intake.inbox.iterdir())


def test_uploads_that_never_reach_the_reader_are_logged_too(intake: Intake) -> None:
    receipt = intake.refuse(None, "no_file", "Ingen fil kom med.")
    assert receipt.outcome is Outcome.REFUSED and receipt.file_name == "" and receipt.sha256 is None
    assert [(r["outcome"], r["code"]) for r in log_rows(intake)] == [("refused", "no_file")]


@pytest.mark.parametrize(
    ("sent", "shown", "safe"),
    [
        ("rapport.xlsx", "rapport.xlsx", "rapport.xlsx"),
        ("../../../etc/cron.d/evil.xlsx", "evil.xlsx", "evil.xlsx"),
        ("C:\\Users\\Anna\\Skrivbord\\Lägesrapport 2.xlsx", "Lägesrapport 2.xlsx", "Lägesrapport 2.xlsx"),
        ("<img src=x onerror=alert(1)>.xlsx", "<img src=x onerror=alert(1)>.xlsx", "_img src_x onerror_alert(1)_.xlsx"),
        ("<script>alert(1)</script>.xlsx", "script>.xlsx", "script_.xlsx"),  # "/" ends a folder's name
        ("rap\x00port\r\n\x1b[31m.xlsx", "rapport[31m.xlsx", "rapport_31m.xlsx"),
        ("..", "..", "rapport.xlsx"),
        (".hidden.xlsx", ".hidden.xlsx", "hidden.xlsx"),
        ("", "rapport.xlsx", "rapport.xlsx"),
        ("~$rapport.xlsx", "~$rapport.xlsx", "~$rapport.xlsx"),  # the reader still knows a lock file
        ("rapport\u202exslx.exe", "rapportxslx.exe", "rapportxslx.exe"),  # no right-to-left override
    ],
)
def test_file_names(sent: str, shown: str, safe: str) -> None:
    assert shown_name(sent) == shown
    assert safe_name(sent) == safe


def test_a_huge_file_name_is_shortened_and_keeps_its_extension() -> None:
    name = safe_name("å" * 10_000 + ".xlsx")
    assert name.endswith(".xlsx") and len(name.encode("utf-8")) <= MAX_STORED_NAME_BYTES
    assert len(shown_name("a" * 10_000 + ".xlsx")) == 255


def test_hostile_file_names_stay_inside_the_inbox(intake: Intake, contents) -> None:
    for name in ("../../utanfor.xlsx", "/etc/passwd", "..\\..\\x.xlsx", "a/" * 2000 + "b.xlsx", "\x00.xlsx"):
        receipt = intake.receive(contents[GOOD], name, insats=insats_of(GOOD))
        assert receipt.stored_name is not None
    assert [p.parent for p in intake.inbox.iterdir()] == [intake.inbox]
    assert not (intake.inbox.parent / "utanfor.xlsx").exists()


def test_concurrent_uploads_of_the_same_and_of_different_files_lose_nothing(
    intake: Intake, tmp_path: Path, contents
) -> None:
    different = []
    for number in range(8):
        answers = dict(EXAMPLES[GOOD].answers, deviations=f"Version {number}")
        different.append(report_bytes(tmp_path, f"v{number}.xlsx", answers))
    uploads = [contents[GOOD]] * 8 + different
    receipts: list[Any] = [None] * len(uploads)
    start = threading.Barrier(len(uploads))

    def send(index: int) -> None:
        start.wait()
        receipts[index] = intake.receive(uploads[index], f"rapport_{index}.xlsx", insats=insats_of(GOOD))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(uploads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = log_rows(intake)
    assert len(rows) == len(uploads) and all(r.outcome is Outcome.RECEIVED for r in receipts)
    stored = {p.name: sha(p.read_bytes()) for p in intake.inbox.iterdir()}
    assert sorted(stored.values()) == sorted({sha(c) for c in uploads})  # each content once
    assert sum(1 for r in receipts if r.already_received) == 7  # the same bytes: one stored them
    assert {r.stored_name for r in receipts} == set(stored)
    times = [row["received_ns"] for row in rows]
    assert len(set(times)) == len(times)  # every receipt time is its own
    # Of the nine versions of report 2 exactly one counts, and it is the last one received.
    outcomes = consolidate(intake.inbox, workers=1, receipts=store_receipts(intake.store)).files
    [winner] = [o for o in outcomes if o.accepted]
    assert winner.name == max(rows, key=lambda r: r["received_ns"])["stored_name"]


def test_the_state_folder_may_not_be_inside_the_inbox(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="får inte ligga i inkorgen"):
        build_settings(tmp_path / "inkorg", state=tmp_path / "inkorg" / "server", environ={})
    assert build_settings(tmp_path / "inkorg", environ={}).state == tmp_path / "inkorg-server"


def test_the_receipt_time_is_local_and_increasing(intake: Intake, contents) -> None:
    first = intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))
    second = intake.receive(b"", "tom.xlsx", insats=insats_of(GOOD))
    assert first.received.tzinfo is not None and second.received > first.received
    assert second.outcome is Outcome.REFUSED and "tom" in second.issues[0]["message"]
    assert abs(first.received - dt.datetime.now().astimezone()) < dt.timedelta(minutes=5)


def test_an_inbox_that_cannot_be_written_refuses_the_upload_and_logs_why(intake: Intake, contents, monkeypatch) -> None:
    def full_disk(*_args: Any) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(intake, "_store", full_disk)
    receipt = intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))
    assert receipt.outcome is Outcome.REFUSED and receipt.code == "storage_failed"
    assert "kunde inte spara filen" in receipt.issues[0]["message"] and receipt.size == len(contents[GOOD])
    assert [(row["outcome"], row["code"]) for row in log_rows(intake)] == [("refused", "storage_failed")]
    assert not any(intake.inbox.iterdir())


def test_a_snapshot_of_the_log_never_makes_an_upload_wait(intake: Intake, contents) -> None:
    """Issue 21: RAR's page held the log's write lock while it read the inbox, and an upload waited
    up to 60 s for it, then failed. A snapshot is a read transaction: the upload goes through while
    it is open, and the snapshot still sees the log as it was."""
    first = intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))
    with intake.store.reading() as db:
        before = intake.counts(db)
        worker = threading.Thread(target=intake.receive, args=(contents[CORRECTED], CORRECTED),
                                  kwargs={"insats": insats_of(CORRECTED)})
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive()  # stored and logged while the snapshot is open
        assert intake.counts(db) == before and len(log_rows(intake)) == 2
    snapshot = intake.snapshot()
    assert snapshot.counts["stored"] == 2 and str(intake.inbox / first.stored_name) in snapshot.known
    assert snapshot.pending == ()


def test_an_upload_goes_through_while_rars_page_is_being_built(intake: Intake, contents, monkeypatch) -> None:
    """The page's build is held in the middle (as 14 heavy reports held it for 123 s in issue 21):
    the upload is stored and logged meanwhile, and the page never took the log's write lock."""
    intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))
    building, release = threading.Event(), threading.Event()
    build = FileStates.build
    writers = []

    def held(*args: Any, **kwargs: Any):
        building.set()
        assert release.wait(60)
        return build(*args, **kwargs)

    monkeypatch.setattr(FileStates, "build", held)
    page = threading.Thread(target=lambda: writers.append(overview.build_overview(intake)))
    page.start()
    assert building.wait(60)
    receipt = intake.receive(contents[CORRECTED], CORRECTED, insats=insats_of(CORRECTED))  # not waiting
    assert receipt.outcome is Outcome.RECEIVED and (intake.inbox / receipt.stored_name).is_file()
    assert page.is_alive()  # the page is still being built
    release.set()
    page.join(timeout=60)
    assert writers[0].uploads["stored"] == 1  # its snapshot was taken before the second upload


def test_an_upload_goes_through_while_a_master_is_being_written(intake: Intake, contents, monkeypatch) -> None:
    """The master button's job is held while its process would run: an upload is stored and
    logged meanwhile; the master is then written from the snapshot it started with."""
    intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))
    running, release = threading.Event(), threading.Event()

    def held(job: Any, *args: Any) -> Any:  # stands for the background process: runs the job here, once released
        running.set()
        assert release.wait(60)
        return job(*args)

    monkeypatch.setattr(overview, "run_in_background", held)
    written: list[Path | None] = []
    master = threading.Thread(target=lambda: written.append(overview.write_master_workbook(intake)))
    master.start()
    assert running.wait(60)
    receipt = intake.receive(contents[CORRECTED], CORRECTED, insats=insats_of(CORRECTED))
    assert receipt.outcome is Outcome.RECEIVED and master.is_alive()
    release.set()
    master.join(timeout=120)
    assert written[0] is not None and written[0].is_file()


def test_a_file_being_stored_is_left_out_of_a_snapshot_until_its_row_is_in(intake: Intake, contents,
                                                                             monkeypatch) -> None:
    """An inbox reading taken between the rename and the commit does not count a file the log lacks:
    neither the snapshot's pending files nor RAR's page, which lists the inbox after its snapshot
    and leaves out what Snapshot.being_stored says."""
    seen, pages = [], []
    store = intake._store
    memo = overview._Memo()
    overview._build_overview(intake, memo)

    def store_and_look(upload, now):
        name = store(upload, now)
        seen.append(intake.snapshot())  # another thread's view, with the file in the inbox, no row yet
        pages.append(overview._build_overview(intake, memo))
        return name

    monkeypatch.setattr(intake, "_store", store_and_look)
    receipt = intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))
    [during] = seen
    assert [p.name for p in during.pending] == [receipt.stored_name] and during.counts["stored"] == 0
    assert during.being_stored(receipt.stored_name) and not intake.snapshot().being_stored(receipt.stored_name)
    assert receipt.stored_name not in pages[0].outcomes and pages[0].files["found"] == 0
    assert intake.snapshot().pending == ()
    assert receipt.stored_name in overview._build_overview(intake, memo).outcomes


def test_a_crash_inside_the_reader_is_a_refusal_with_a_log_row(intake: Intake, contents, monkeypatch) -> None:
    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("ett fel i läsaren")

    monkeypatch.setattr("lagesrapport_xl.web.intake.read_checked", crash)
    receipt = intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))
    assert receipt.outcome is Outcome.REFUSED and receipt.code == "internal_error"
    assert "fel i servern" in receipt.issues[0]["message"] and receipt.size == len(contents[GOOD])
    assert [(r["outcome"], r["code"], r["token"]) for r in log_rows(intake)] == [("refused", "internal_error",
                                                                                 receipt.token)]
    assert not any(intake.inbox.iterdir()) and not any(intake.incoming.iterdir())


def test_a_full_disk_still_gets_a_log_row_from_the_reserve(intake: Intake, contents, monkeypatch) -> None:
    """The state folder's disk is full: the bytes cannot be written to be read, nor the log's row,
    until the reserve file gives up its room. The upload is refused with the reason, and logged."""
    real_write = Path.write_bytes
    real_execute = sqlite3.Connection.execute
    reserve = intake.state / "reserv"
    assert reserve.stat().st_size >= 2**20

    def full(self: Path, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    class FullDisk(sqlite3.Connection):
        def execute(self, sql: str, *args: Any):  # type: ignore[override]
            if sql.startswith("INSERT") and reserve.exists():
                error = sqlite3.OperationalError("database or disk is full")
                error.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
                raise error
            return real_execute(self, sql, *args)

    real_connect = sqlite3.connect
    monkeypatch.setattr(Path, "write_bytes", full)
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: real_connect(*a, **k, factory=FullDisk))
    receipt = intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))
    assert receipt.outcome is Outcome.REFUSED and receipt.code == "storage_failed"
    assert "kunde inte spara filen" in receipt.issues[0]["message"]
    assert not reserve.exists()  # its room went to the row
    monkeypatch.setattr(Path, "write_bytes", real_write)
    monkeypatch.setattr(sqlite3, "connect", real_connect)
    assert [(r["outcome"], r["code"]) for r in log_rows(intake)] == [("refused", "storage_failed")]
    assert intake.receipt(receipt.token) == receipt and not any(intake.inbox.iterdir())
    again = intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))  # room again: stored, reserve made anew
    assert again.outcome is Outcome.RECEIVED and reserve.exists()


def test_a_log_locked_by_another_process_queues_the_row_and_writes_it_later(intake: Intake, contents) -> None:
    """Another program holds the log's write lock past the wait: the upload is refused (busy),
    its receipt is answered and readable, and its row is written with the next upload."""
    intake.store.timeout = 0.2
    holder = sqlite3.connect(intake.store.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        receipt = intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert receipt.outcome is Outcome.REFUSED and receipt.code == "busy" and "upptagen" in receipt.issues[0]["message"]
    assert log_rows(intake) == [] and intake.receipt(receipt.token) == receipt  # from the queue
    assert not any(intake.inbox.iterdir())
    later = intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))
    assert [(r["token"], r["code"]) for r in log_rows(intake)] == [(receipt.token, "busy"), (later.token, None)]
    assert not any((intake.state / "loggkö").iterdir()) and intake.receipt(receipt.token) == receipt


def test_a_failing_log_takes_the_stored_file_out_of_the_inbox_again(intake: Intake, contents, monkeypatch) -> None:
    real = sqlite3.Connection.execute

    class Failing(sqlite3.Connection):
        def execute(self, sql: str, *args: Any):  # type: ignore[override]
            if sql.startswith("INSERT INTO uploads") and "stored" not in failed:
                failed.add("stored")
                raise sqlite3.OperationalError("disk I/O error")
            return real(self, sql, *args)

    failed: set[str] = set()
    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: real_connect(*a, **k, factory=Failing))
    receipt = intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))
    assert receipt.outcome is Outcome.REFUSED and receipt.code == "storage_failed"
    assert not any(intake.inbox.iterdir())  # the renamed file went with the transaction
    assert [(r["outcome"], r["stored_name"]) for r in log_rows(intake)] == [("refused", None)]


# --- only the insats submits for itself ----------------------------------------------------------------


def test_an_upload_without_a_link_is_checked_and_stores_nothing(intake: Intake, contents, examples) -> None:
    receipt = intake.receive(contents[BROKEN], BROKEN)
    assert not receipt.submitted and receipt.outcome is Outcome.HAS_ERRORS and receipt.stored_name is None
    assert receipt.verdict == "Filen är kontrollerad: den har fel som måste rättas."
    assert "har inte skickats till RAR" in receipt.advice
    assert [i["message"] for i in receipt.issues] == [i.message for i in read_report(examples[BROKEN]).issues]
    assert intake.annotated_copy(receipt.token) is not None  # the copy is offered all the same
    assert not any(intake.inbox.iterdir()) and not intake.refused_dir.exists()
    assert [(r["mode"], r["insats"], r["stored_name"]) for r in log_rows(intake)] == [("check", None, None)]
    assert intake.counts()["uploads"] == 0 and intake.counts()["checks"] == 1


def test_a_report_of_another_insats_through_a_link_is_refused_naming_the_links_insats(intake: Intake, contents) -> None:
    receipt = intake.receive(contents[CORRECTED], CORRECTED, insats=insats_of(GOOD))
    assert receipt.outcome is Outcome.REFUSED and receipt.code == "wrong_insats" and receipt.stored_name is None
    assert receipt.issues[0]["message"].startswith(
        "Länken gäller insatsen 2020-0042 Nyttiga affärer, men filen är rapporten för 2021-0007 Steget vidare "
        "Katrineholm. Filen togs inte emot.")
    assert not any(intake.inbox.iterdir())
    [kept] = intake.refused_dir.iterdir()  # kept for audit, outside the inbox
    assert kept.read_bytes() == contents[CORRECTED]
    [row] = log_rows(intake)
    assert (row["mode"], row["insats"], row["code"]) == ("link", "dnr:2020-0042", "wrong_insats")


def test_a_link_without_a_case_number_takes_the_insats_by_its_name(intake: Intake, tmp_path: Path) -> None:
    answers = dict(EXAMPLES[GOOD].answers)
    by_name = insats_of({"initiative_name": " nyttiga  AFFÄRER "})  # a register row without a number
    assert by_name.key == "namn:nyttiga affärer"
    assert intake.receive(report_bytes(tmp_path, "a.xlsx", answers), "a.xlsx", insats=by_name).stored_name
    other = dict(answers, initiative_name="Något annat")
    refused = intake.receive(report_bytes(tmp_path, "b.xlsx", other), "b.xlsx", insats=by_name)
    assert refused.code == "wrong_insats"


def test_a_signing_date_after_the_day_of_receipt_is_an_error(intake: Intake, tmp_path: Path) -> None:
    answers = dict(EXAMPLES[GOOD].answers, signed_date=dt.date(2099, 12, 31))
    receipt = intake.receive(report_bytes(tmp_path, "framtid.xlsx", answers), "framtid.xlsx", insats=insats_of(GOOD))
    assert receipt.outcome is Outcome.HAS_ERRORS and receipt.stored_name is not None
    [error] = [i for i in receipt.issues if i["severity"] == "error"]
    assert (error["sheet"], error["field"]) == ("Lägesrapport", "signed_date")
    assert error["message"].startswith("Rapporten är daterad 2099-12-31, efter dagen RAR tog emot den")
    [outcome] = consolidate(intake.inbox, workers=1, receipts=store_receipts(intake.store)).files
    assert outcome.status is Status.REJECTED and outcome.result.errors[0].code == "signed_after_receipt"



def test_the_receipt_shows_an_amount_as_its_message_writes_it(intake: Intake, tmp_path: Path) -> None:
    """The receipt's "Värde" column: "6 200 kr" as in the message, not the JSON's 6200 (issue 22)."""
    answers = dict(EXAMPLES[GOOD].answers)
    key = "budget_travel_actual_cumulative"
    answers[key] = answers["budget_travel_actual_period"] - 100  # below the period: an error naming both
    receipt = intake.receive(report_bytes(tmp_path, "rapport.xlsx", answers), "rapport.xlsx")
    (index,) = [n for n, i in enumerate(receipt.issues) if i["field"] == key]
    issue = receipt.issues[index]
    assert issue["value"] == int(answers[key])  # the JSON contract keeps the number
    shown = f"{int(answers[key]):,}".replace(",", "\u00a0") + "\u00a0kr"
    assert receipt.shown[index] == shown and shown in issue["message"]
    assert type(receipt).from_json(receipt.to_json()).shown == receipt.shown  # kept in the log


# --- bounded work per file (issue 21.3) -------------------------------------------------------------


def test_what_the_form_does_not_use_is_refused_with_a_log_row_and_kept_out_of_the_inbox(intake: Intake,
                                                                                         contents) -> None:
    """Issue 21: a template with a 19 MB random extra part was received into the inbox without a
    word, and a report with a million numbers on the sheets the form does not read cost 15–19 s."""
    report = contents[GOOD]
    for content in (attacks.with_extra_part(report), attacks.with_filled_unused_sheets(report)):
        receipt = intake.receive(content, GOOD, insats=insats_of(GOOD))
        assert receipt.outcome is Outcome.REFUSED and receipt.code == "unused_content"
        assert "som blanketten inte använder" in receipt.issues[0]["message"]
        assert receipt.sha256 == sha(content) and receipt.stored_name is None
    assert not any(intake.inbox.iterdir())
    assert [(r["outcome"], r["code"]) for r in log_rows(intake)] == [("refused", "unused_content")] * 2


def test_the_snapshot_folded_row_by_row_equals_the_whole_log_read_again(intake: Intake, contents) -> None:
    """Intake.snapshot folds in only the rows since the last one (web/logview.py): after uploads,
    a duplicate and a refusal its dictionaries are what reading the whole log gives."""
    intake.snapshot()  # the fold starts here
    intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))
    intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))  # the same bytes again: a duplicate
    intake.receive(contents[CORRECTED], CORRECTED, insats=insats_of(CORRECTED))
    intake.receive(b"inte en arbetsbok", "rapport.xlsx", insats=insats_of(GOOD))  # refused
    folded = intake.snapshot()
    fresh = Intake(intake.settings).snapshot()  # a new intake reads the whole log
    with intake.store.connect() as db:
        assert folded.known == intake.known_files(db) == fresh.known
        assert folded.order == receipt_order(db) == fresh.order
        assert folded.last_uploads == intake.last_uploads(db) == fresh.last_uploads
    assert folded.logged == fresh.logged and len(folded.known) == 2
    with intake.store.connect() as db:
        assert folded.counts == intake.counts(db) == fresh.counts  # the fold against the aggregate query
    assert folded.sent == store_receipts(intake.store).sent == fresh.sent  # the master names files by these
    assert sorted(folded.sent.values()) == sorted([GOOD, CORRECTED])


def test_the_pages_file_links_are_looked_up_once_and_equal_the_receipts(intake: Intake, contents) -> None:
    """RAR's page shows each stored file by its first receipt (web/file_links.py): a file's token, the
    name it was sent under and, with errors, the receipt's issues; after one more upload only that
    file is looked up, and what was looked up before is kept as it was."""
    links = FileLinks(intake)
    sent = {GOOD: intake.receive(contents[GOOD], "Vår rapport.xlsx", insats=insats_of(GOOD)),
            BROKEN: intake.receive(contents[BROKEN], BROKEN, insats=insats_of(BROKEN))}
    intake.receive(contents[GOOD], GOOD, insats=insats_of(GOOD))  # the same bytes again: a duplicate's row
    page = overview.build_overview(intake)
    first = links.for_rows(page.rows, page)
    assert {name: (f["token"], f["sent"]) for name, f in first.items()} == {
        receipt.stored_name: (receipt.token, "Vår rapport.xlsx" if name == GOOD else BROKEN)
        for name, receipt in sent.items()}
    broken = first[sent[BROKEN].stored_name]["issues"]
    assert broken and broken == intake.receipt(sent[BROKEN].token).issues
    assert first[sent[GOOD].stored_name]["issues"] == []
    looked_up = dict(links.known)
    later = intake.receive(contents[CORRECTED], CORRECTED, insats=insats_of(CORRECTED))
    page = overview.build_overview(intake)
    second = links.for_rows(page.rows, page)
    assert set(links.known) - set(looked_up) == {later.stored_name}
    assert all(links.known[name] is link for name, link in looked_up.items())
    assert {name: second[name] for name in first} == first and second[later.stored_name]["sent"] == CORRECTED
