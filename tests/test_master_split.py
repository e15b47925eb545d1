"""The master written with a helper process (master_split) is the master written by one process,
byte for byte, whatever the helper does."""

from __future__ import annotations

import os
import random
import threading
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_consolidate import STARTED

from lagesrapport_dev.examples import bulk_files, write_examples
from lagesrapport_xl.consolidate.batch import Consolidation, consolidate
from lagesrapport_xl.form.spec import FormSpec
from lagesrapport_xl.master import split as master_split
from lagesrapport_xl.master import zipping as master_zipping
from lagesrapport_xl.master.placement import place_tables
from lagesrapport_xl.master import writer as master_writer
from lagesrapport_xl.master.writer import _cells, _row_costs, write_master


def test_the_helper_can_fork_here() -> None:
    """The suite runs on Linux (CI installs LibreOffice with apt-get): the helper is tested there."""
    assert master_split.can_fork(), threading.enumerate()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, spec: FormSpec) -> Consolidation:
    folder = tmp_path_factory.mktemp("inkorg")
    write_examples(folder, bulk_files(40, spec, reports_per_insats=4), spec)
    return consolidate([folder], spec=spec, workers=1, started=STARTED)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("kind", ["fork", "spawn"])
def test_the_split_master_is_the_same_file(
    batch: Consolidation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    if kind == "spawn":  # the helper of a large master: a fresh process, reading the rows from files
        monkeypatch.setattr(master_split, "FORK_CELLS", 0)
    alone = write_master(batch, tmp_path / "en.xlsx", helper=False)
    finished, real_finish = [], master_split.SplitRows.finish
    monkeypatch.setattr(master_split.SplitRows, "finish", lambda self: finished.append(self.broken) or real_finish(self))
    split = write_master(batch, tmp_path / "två.xlsx", helper=True)
    assert finished == [False]  # a helper wrote rows, and never failed
    assert parts(split.path) == parts(alone.path)
    assert split.formulas == alone.formulas and len(alone.formulas) > 500
    assert [p.name for p in tmp_path.iterdir()] == ["en.xlsx", "två.xlsx"]  # nothing of the helper's left


def test_half_the_rows_are_handed_and_charts_stay(batch: Consolidation) -> None:
    costs = _row_costs(place_tables(batch)[0])
    handed = master_split.handed_tables(costs, "fork")
    stays = {table.key for table in costs if table.stays}
    assert {"participants_latest", "budget_by_initiative", "about"} <= stays  # charts, and Om's own formats
    assert handed and not handed & stays
    total = sum(table.cost for table in costs)
    there = sum(table.cost for table in costs if table.key in handed)
    assert 0.3 * total < there <= master_split.HELPER_SHARE["fork"] * total
    assert master_split.handed_tables(costs, None) == frozenset()


def test_a_fresh_helper_is_not_handed_the_long_texts(batch: Consolidation, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing the Texter sheet's texts down for a fresh process costs more than it saves; a fork
    reads them where they are, and may take them."""
    monkeypatch.setattr(master_writer, "TEXT_CHARS", 1)  # texts so long that the Texter sheet is the costliest
    costs = _row_costs(place_tables(batch)[0])
    with_texts = {table.key for table in costs if table.texts}
    assert "texts" in with_texts and "budget" not in with_texts
    assert max(costs, key=lambda table: table.cost).key == "texts"
    spawned = master_split.handed_tables(costs, "spawn")
    assert spawned and not spawned & with_texts
    total = sum(table.cost for table in costs)
    assert sum(table.cost for table in costs if table.key in spawned) <= master_split.HELPER_SHARE["spawn"] * total
    monkeypatch.setattr(master_split, "HELPER_SHARE", {"fork": 1.0, "spawn": 1.0})  # room for every table
    movable = {table.key for table in costs if not table.stays}
    assert master_split.handed_tables(costs, "fork") == movable
    assert master_split.handed_tables(costs, "spawn") == movable - with_texts


def test_a_long_text_costs_by_its_length(batch: Consolidation, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Texter sheet's texts weigh by their characters when the rows are shared out; the kind of
    helper is decided by the cells, a text as three, whatever their length."""
    placements = place_tables(batch)[0]
    texts = placements["texts"]
    long_texts = [c.key for c in texts.table.columns if c.kind == "long_text"]
    short = {table.key: table.cost for table in _row_costs(placements)}
    monkeypatch.setattr(master_writer, "TEXT_CHARS", 10)  # the examples' texts, as long as the benchmark's
    costs = {table.key: table.cost for table in _row_costs(placements)}
    mean = {key: sum(len(t) for t in texts.table.values(key) if t) / texts.rows for key in long_texts}
    assert costs["texts"] == texts.rows * (len(texts.table.columns) + sum(round(m / 10) for m in mean.values()))
    assert costs["texts"] > 3 * short["texts"] and costs["budget"] == short["budget"]
    cells = sum(p.rows * sum(3 if c.kind == "long_text" else 1 for c in p.table.columns) for p in placements.values())
    assert _cells(placements) == cells


def test_a_helper_at_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small: none (it would cost more than it saves); up to FORK_CELLS a fork, which starts at once;
    beyond, a fresh process, whose memory is only its own (a fork's counts its parent's again)."""
    kind = master_split.helper_kind
    assert kind(master_split.MIN_CELLS - 1, None) is None
    assert kind(master_split.MIN_CELLS, None) == kind(master_split.FORK_CELLS, None) == "fork"
    assert kind(master_split.FORK_CELLS + 1, None) == kind(100 * master_split.FORK_CELLS, None) == "spawn"
    assert kind(10, True) == "fork" and kind(10**9, False) is None
    monkeypatch.setattr(master_split, "can_fork", lambda: False)  # another thread: no fork, a fresh process
    assert kind(10, True) == kind(master_split.MIN_CELLS, None) == "spawn"


class _Failing:
    """Rows that fail when the helper reads them."""

    def __init__(self, failure: str):
        self.failure = failure

    def __iter__(self):
        if self.failure == "dies":
            os._exit(3)
        raise OSError("disken är full")


@pytest.mark.parametrize("failure", ["raises", "dies", "wrong table", "unreadable jobs"])
def test_whatever_the_helper_does_the_file_is_whole(
    batch: Consolidation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """A helper that fails on its second table: this process writes that table and the rest."""
    real_jobs, real_written = master_split.write_jobs, master_split._written_down

    def failing(jobs, *args) -> None:
        jobs = list(jobs)
        if failure == "wrong table":
            del jobs[1]  # the second table's rows never come: the third's come in their place
        else:
            jobs[1] = jobs[1]._replace(rows=_Failing(failure))
        real_jobs(jobs, *args)

    if failure == "unreadable jobs":  # a fresh process that cannot read what it was given
        monkeypatch.setattr(master_split, "FORK_CELLS", 0)
        monkeypatch.setattr(master_split, "_written_down",
                            lambda jobs, spool, *rest: Path(real_written(jobs, spool, *rest)).write_bytes(b"x") and rest[-1])
    else:
        monkeypatch.setattr(master_split, "write_jobs", failing)  # the fork inherits it
    finished, real_finish = [], master_split.SplitRows.finish
    monkeypatch.setattr(master_split.SplitRows, "finish", lambda self: finished.append(self.broken) or real_finish(self))
    alone = write_master(batch, tmp_path / "en.xlsx", helper=False)
    split = write_master(batch, tmp_path / "två.xlsx", helper=True)
    assert finished == [True]  # the helper was there, failed, and this process took over
    assert parts(split.path) == parts(alone.path)
    assert split.formulas == alone.formulas


def test_no_helper_where_there_is_no_fork(batch: Consolidation, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows and macOS: this process writes every row (a fresh process there is untried)."""
    monkeypatch.setattr(master_split.sys, "platform", "win32")
    costs = _row_costs(place_tables(batch)[0])
    assert master_split.helper_kind(10**6, True) is None
    rows = master_split.split_rows(costs, lambda handed: [], helper=True, options={}, keep_formulas=False)
    assert isinstance(rows, master_split.OwnRows)


def _in_turn(batch: Consolidation, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The master at `path` with every part zipped in turn (rows copied into the sheets, nothing
    deflated ahead); from then on every sheet is deflated ahead, however small."""
    monkeypatch.setattr(master_zipping, "AHEAD_BYTES", 10**12)
    write_master(batch, path, helper=False)
    monkeypatch.setattr(master_zipping, "AHEAD_BYTES", 0)


def test_the_sheets_deflated_ahead_are_stored_as_zipfile_stores_them(
    batch: Consolidation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every sheet, deflated in a thread as soon as it is written, gives the same file."""
    _in_turn(batch, tmp_path / "i_tur.xlsx", monkeypatch)
    monkeypatch.setattr(master_zipping, "_PIECE", 1000)  # in other pieces than zipfile's
    submitted, taken = [], []
    real_submit, real_take = master_zipping._Ahead.submit, master_zipping._Ahead.take
    monkeypatch.setattr(master_zipping._Ahead, "submit",
                        lambda self, path: submitted.append(path) or real_submit(self, path))
    monkeypatch.setattr(master_zipping._Ahead, "take",
                        lambda self, name: (found := real_take(self, name)) and taken.append(name) or found)
    write_master(batch, tmp_path / "i_forvag.xlsx", helper=False)
    with zipfile.ZipFile(tmp_path / "i_forvag.xlsx") as packed:
        sheets = [name for name in packed.namelist() if name.startswith("xl/worksheets/sheet")]
    assert len(submitted) == len(set(submitted)) == len(sheets) == len(taken)  # each sheet once, and taken
    assert sorted(taken) == sorted(submitted)
    assert (tmp_path / "i_forvag.xlsx").read_bytes() == (tmp_path / "i_tur.xlsx").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["i_forvag.xlsx", "i_tur.xlsx"]


@pytest.mark.parametrize("kind", ["fork", "spawn"])
def test_the_rows_stay_where_they_were_written_until_the_sheet_is_deflated(
    batch: Consolidation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A large sheet's file is written without its rows (this process's and the helper's): they are
    read from their own files as the sheet is deflated, and the file is the same as with them copied in."""
    _in_turn(batch, tmp_path / "kopierat.xlsx", monkeypatch)
    if kind == "spawn":
        monkeypatch.setattr(master_split, "FORK_CELLS", 0)
    kept, short = [], []
    real_keep, real_submit = master_zipping.Splices.keep, master_zipping._Ahead.submit

    def keep(self, part, at, pieces, files):  # noqa: ANN001, ANN202
        taken = real_keep(self, part, at, pieces, files)
        kept.append((part, taken, [getattr(file, "name", None) for file, _, _ in pieces]))
        return taken

    def submit(self, path):  # noqa: ANN001, ANN202 - the sheet's file as written, without its rows
        short.append(os.path.getsize(path) < self.splices.size(path))
        return real_submit(self, path)

    monkeypatch.setattr(master_zipping.Splices, "keep", keep)
    monkeypatch.setattr(master_zipping._Ahead, "submit", submit)
    write_master(batch, tmp_path / "på_plats.xlsx", helper=True)
    assert kept and all(taken for _, taken, _ in kept)
    assert short.count(True) == len(kept)  # each of those sheets' files lacked its rows when deflated
    helper_blocks = [name for _, _, names in kept for name in names if str(name).endswith(".xml")]
    assert helper_blocks  # rows the helper wrote, read from its files
    assert (tmp_path / "på_plats.xlsx").read_bytes() == (tmp_path / "kopierat.xlsx").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kopierat.xlsx", "på_plats.xlsx"]


def test_without_pread_the_rows_are_read_by_seeking(
    batch: Consolidation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows has no os.pread: the pieces are read by seeking, and the file is the same."""
    from lagesrapport_xl.master import streaming

    _in_turn(batch, tmp_path / "i_tur.xlsx", monkeypatch)
    monkeypatch.setattr(streaming, "_PREAD", None)
    write_master(batch, tmp_path / "utan_pread.xlsx", helper=True)
    assert (tmp_path / "utan_pread.xlsx").read_bytes() == (tmp_path / "i_tur.xlsx").read_bytes()


def test_a_sheet_that_fails_to_deflate_ahead_is_deflated_in_turn(
    batch: Consolidation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deflation ahead that fails (a full disk, say) leaves no file, and zipfile deflates the sheet."""
    _in_turn(batch, tmp_path / "i_tur.xlsx", monkeypatch)
    real_open, halves = open, []

    def full_disk(path, mode="r", *args, **kwargs):  # the deflated file's first write fails
        handle = real_open(path, mode, *args, **kwargs)
        if str(path).endswith(".z"):
            halves.append(str(path))
            handle.write(b"half")
            handle.close()
            raise OSError(28, "No space left on device")
        return handle

    monkeypatch.setattr(master_zipping, "open", full_disk, raising=False)
    write_master(batch, tmp_path / "trots_fel.xlsx", helper=False)
    assert halves and not any(Path(half).exists() for half in halves)
    assert (tmp_path / "trots_fel.xlsx").read_bytes() == (tmp_path / "i_tur.xlsx").read_bytes()


def test_a_zipfile_without_the_entry_state_used_writes_the_sheet_the_plain_way(
    batch: Consolidation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another Python's zipfile, whose entries lack the state the copy of deflated bytes sets: every
    part is written through the entry, deflated by that zipfile's own compressor (zlib), and holds
    the same bytes."""
    _in_turn(batch, tmp_path / "i_tur.xlsx", monkeypatch)
    monkeypatch.setattr(master_zipping, "_ENTRY_STATE", (*master_zipping._ENTRY_STATE, "_not_in_any_python"))
    write_master(batch, tmp_path / "vanligt.xlsx", helper=False)
    assert parts(tmp_path / "vanligt.xlsx") == parts(tmp_path / "i_tur.xlsx")
    if master_zipping._codec is zlib:
        assert (tmp_path / "vanligt.xlsx").read_bytes() == (tmp_path / "i_tur.xlsx").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["i_tur.xlsx", "vanligt.xlsx"]


_XML_WORDS = [b'<c r="B7" s="5" t="inlineStr"><is><t>', b"</t></is></c>", b"Vi har ", b"deltagarna ", b"\xc3\xa5",
               b"samverkat med ", b"\n", b"&amp;", b'<row r="9">']


def _sheet_like(seed: int, words: int) -> bytes:
    """XML-like bytes that compress as a sheet does (ISA-L's output depends on their cutting)."""
    pick = random.Random(seed)
    return b"".join(pick.choice(_XML_WORDS) + str(pick.randint(0, 99_999)).encode() for _ in range(words))


@given(seed=st.integers(0, 2**32), words=st.integers(0, 60_000), cuts=st.lists(st.integers(0, 900_000), max_size=12))
@settings(max_examples=25, deadline=None)
def test_the_deflater_gives_the_same_bytes_however_its_input_is_cut(seed: int, words: int, cuts: list[int]) -> None:
    """ISA-L's output depends on how its input is cut; the Deflater's must not (a part read from its
    pieces is stored exactly as one read whole), and it is plain raw deflate. With blocks of its own
    size and of 1 000 bytes (many blocks per example)."""
    data = _sheet_like(seed, words)
    for block in (master_zipping._BLOCK, 1000):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(master_zipping, "_BLOCK", block)
            whole = master_zipping.Deflater()
            expected = whole.compress(data) + whole.flush()
            cut = master_zipping.Deflater()
            edges = [0, *sorted(c for c in cuts if c <= len(data)), len(data)]
            got = b"".join(cut.compress(data[start:end]) for start, end in zip(edges, edges[1:])) + cut.flush()
        assert got == expected
        assert zlib.decompress(got, -15) == data


def test_the_compressor_itself_depends_on_the_cutting() -> None:
    """Why the Deflater cuts: ISA-L given the same bytes in other pieces writes other bytes."""
    data = _sheet_like(7, 100_000)

    def deflated(step: int) -> bytes:
        compressor = master_zipping._codec.compressobj(1, master_zipping._codec.DEFLATED, -15)
        return b"".join(compressor.compress(data[at : at + step]) for at in range(0, len(data), step)) + \
            compressor.flush()

    assert deflated(1000) != deflated(1 << 18) and zlib.decompress(deflated(1000), -15) == data


def test_the_master_is_deflated_by_isal_where_it_is_installed() -> None:
    """CI installs the package with its dependencies, isal among them: the fast compressor is the one
    tested (zlib is only the fallback for a machine without an isal wheel)."""
    from isal import isal_zlib

    assert master_zipping._codec is isal_zlib


def test_a_helper_started_ahead_is_the_one_that_writes_the_rows(
    batch: Consolidation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prestart starts the fresh helper early (it imports the package while the tables are built);
    split_rows gives it the work instead of starting another, and the file is the same."""
    alone = write_master(batch, tmp_path / "en.xlsx", helper=False)
    monkeypatch.setattr(master_split, "FORK_CELLS", 0)  # every master's helper a fresh process
    started, real_start = [], master_split._start_command
    monkeypatch.setattr(master_split, "_start_command", lambda: started.append(1) or real_start())
    master_split.prestart(master_split.MIN_CELLS)
    assert len(started) == 1 and len(master_split._AHEAD) == 1
    master_split.prestart(master_split.MIN_CELLS)  # one at most
    assert len(started) == 1
    ahead = master_split._AHEAD[0][0]
    split = write_master(batch, tmp_path / "två.xlsx", helper=True)
    assert len(started) == 1 and not master_split._AHEAD and ahead.poll() == 0  # it wrote, and ended
    assert parts(split.path) == parts(alone.path)


def test_a_helper_started_ahead_and_not_needed_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(master_split, "FORK_CELLS", 0)
    master_split.prestart(master_split.MIN_CELLS)
    process = master_split._AHEAD[0][0]
    master_split.discard_prestarted()
    assert not master_split._AHEAD and process.poll() == 0
    master_split.prestart(master_split.MIN_CELLS - 1)  # too small for a helper at all
    monkeypatch.setattr(master_split, "FORK_CELLS", 10**9)
    master_split.prestart(master_split.MIN_CELLS)  # a fork's size: a fork starts at once, none ahead
    assert not master_split._AHEAD
