"""A large batch keeps its files' results and answers, and the Texter sheet's rows, on disk
(consolidate(spool=True), chosen by itself above SPOOL_FROM files): everything it makes is the
same as from a batch held in memory, byte for byte."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import pytest
from test_consolidate import STARTED, messy_inbox

from lagesrapport_dev.examples import bulk_files, demo_files, write_demo_register, write_examples
from lagesrapport_xl.common.memory import Spool, SpooledSequence
from lagesrapport_xl.consolidate import batch
from lagesrapport_xl.consolidate.consolidation import Consolidation
from lagesrapport_xl.consolidate.exports import write_csv, write_json
from lagesrapport_xl.consolidate.statuses import FileOutcome, SpooledOutcome, Status
from lagesrapport_xl.form.spec import FormSpec
from lagesrapport_xl.master.writer import write_master
from lagesrapport_xl.reader.register import read_register


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory, spec: FormSpec, template_path: Path) -> Path:
    """The demo set (warnings, a rejected report, a duplicate), a messy folder (broken files, a lock
    file, duplicates) and more reports, one of them missing (a gap the batch warns about)."""
    folder = tmp_path_factory.mktemp("inkorg")
    write_examples(folder / "demo", demo_files(spec), spec)
    messy_inbox(folder / "rorig", spec, template_path)
    more = bulk_files(24, spec, reports_per_insats=4)
    write_examples(folder / "fler", more[:5] + more[6:], spec)
    return folder


@pytest.fixture(scope="module")
def both(inbox: Path, spec: FormSpec, tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Consolidation]:
    register_file = write_demo_register(tmp_path_factory.mktemp("register") / "register.xlsx", spec)
    rows, _problems = read_register(register_file, spec)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch, "SLICE_FILES", 7)  # several slices, one of them short
        return {
            spooled: batch.consolidate([inbox], spec=spec, workers=2, started=STARTED, register=rows,
                                       register_file=register_file, spool=spooled)
            for spooled in (False, True)
        }


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_spooled_batch_keeps_its_files_on_disk(both: dict[bool, Consolidation]) -> None:
    spooled = both[True]
    assert all(isinstance(o, SpooledOutcome) for o in spooled.files)
    assert not any(isinstance(o, SpooledOutcome) for o in both[False].files)
    assert isinstance(spooled.tables["texts"].rows, SpooledSequence)
    assert {o.status for o in spooled.files} == set(Status)  # every kind of file is there
    assert any(issue.code == "report_number_gap" for o in spooled.files for issue in o.result.issues)


def test_the_same_files_tables_and_outputs(both: dict[bool, Consolidation], tmp_path: Path) -> None:
    held, spooled = both[False], both[True]
    assert [(o.name, o.status, o.superseded_by, o.superseded_reason, o.insats) for o in spooled.files] == [
        (o.name, o.status, o.superseded_by, o.superseded_reason, o.insats) for o in held.files
    ]
    assert [(o.result, o.answers, o.facts) for o in spooled.files] == [(o.result, o.answers, o.facts) for o in held.files]
    assert spooled.coverage == held.coverage
    for key, table in held.tables.items():
        assert list(spooled.tables[key].rows) == list(table.rows), key
        assert spooled.tables[key].totals == table.totals and spooled.tables[key].names == table.names
    for spooled_or_not, consolidation in both.items():
        write_master(consolidation, tmp_path / f"{spooled_or_not}.xlsx", helper=False)
        write_json(consolidation, tmp_path / f"{spooled_or_not}.json")
        write_csv(consolidation, tmp_path / f"csv{spooled_or_not}")
    assert members(tmp_path / "True.xlsx") == members(tmp_path / "False.xlsx")
    assert (tmp_path / "True.json").read_bytes() == (tmp_path / "False.json").read_bytes()
    for csv in (tmp_path / "csvFalse").iterdir():
        assert (tmp_path / "csvTrue" / csv.name).read_bytes() == csv.read_bytes(), csv.name


def test_a_spooled_outcome_pickles_as_a_plain_one(both: dict[bool, Consolidation]) -> None:
    outcome = next(o for o in both[True].files if o.status is Status.WARNINGS)
    copy = pickle.loads(pickle.dumps(outcome))
    assert type(copy) is FileOutcome
    assert copy == FileOutcome(outcome.name, outcome.result, outcome.answers, outcome.status, outcome.superseded_by,
                               outcome.superseded_reason, outcome.insats)


def test_the_spool_reads_back_what_it_was_given(tmp_path: Path) -> None:
    """Plain rows (marshal), anything else (pickle), in order and by number, here and elsewhere."""
    import datetime as dt
    from decimal import Decimal

    spool = Spool()
    records = [("å" * 3000, 1, 2.5, None, True), {"a": Decimal("1.5"), "d": dt.date(2020, 1, 1)}, ("x" * 2_000_000,), ()]
    for record in records:
        spool.put(record)
    rows = spool.sequence()
    assert list(rows) == records == [spool.get(i) for i in range(len(records))]
    assert rows[1] == records[1] and rows[-1] == () and rows[1:3] == records[1:3] and len(rows) == 4
    assert list(pickle.loads(pickle.dumps(rows))) == records  # another process reads the same file
    assert list(spool.sequence(2)) == records[2:]
    spool.close()
    assert not Path(spool.folder).exists()


@pytest.mark.parametrize("spooled", [False, True])
def test_read_is_called_once_when_the_files_are_read_and_before_the_tables(
    inbox: Path, spec: FormSpec, monkeypatch: pytest.MonkeyPatch, spooled: bool
) -> None:
    """The command line closes its cache on `read()`: after the last file, before the tables."""
    events: list[str] = []
    counted: list[int] = []
    real_read, real_tables = batch.read_files, batch._consolidation
    monkeypatch.setattr(batch, "read_files", lambda *a, **k: events.append("läser") or real_read(*a, **k))
    monkeypatch.setattr(batch, "_consolidation", lambda *a, **k: events.append("tabeller") or real_tables(*a, **k))
    monkeypatch.setattr(batch, "SLICE_FILES", 7)
    done = batch.consolidate([inbox], spec=spec, workers=1, started=STARTED, spool=spooled,
                             read=lambda files: events.append("läst") or counted.append(files))
    assert done.files and counted == [len(done.files)]
    reads = events.count("läser")
    assert reads >= (3 if spooled else 1) and events == ["läser"] * reads + ["läst", "tabeller"]
