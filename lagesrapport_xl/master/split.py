"""The master's data rows written by two processes: a helper process writes the rows of some tables
into files while this process writes everything else; the workbook takes them in when it closes.

Writing the master is one core's work (0.45 s per 1 000 reports, most of it the data rows) while
the machine's other cores idle. The helper writes a table's rows with the very code this process
uses (rows.write_rows) from the table's RowPlan — each column's place, format and formula, worked
out here — so formats and every index agree by construction. This process leaves a place for those
rows in each sheet and goes on; when the workbook closes, each sheet takes in its tables' rows at
their places. The file is the same byte for byte either way (the tests compare).

For a small master the helper is a fork of this process: it starts at once and reads the rows
where they are. A fork's memory counts as its parent's all over again, so for a larger master
(FORK_CELLS) the helper is a fresh interpreter, which costs a start-up (importing the package,
0.12–0.25 s) but only the memory it uses: it reads the rows from a file (a Spool), written here
as the tables are handed over, or the consolidation's own when its rows are on disk already. It is
started as a plain command (not multiprocessing's spawn, which would first run the caller's main
script again), by `prestart` as soon as the command line knows the master will need it (the files
are read; it imports while the tables are built), else when the rows are handed over. Long texts
are not handed to it (handed_tables): writing them down costs more than it saves. On Windows and
macOS, on one core, for a tiny master, or when the helper fails in any way, this process writes
the rows itself.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from ..common.memory import Spool, SpooledSequence
from .rows import RowPlan, write_rows
from .streaming import StreamingWorksheet

# Below this many cells (about 150 reports) a second process costs more than it saves. Up to the
# second (about 3 000 reports) the helper is a fork; beyond, a fresh process (see above).
MIN_CELLS = 20_000
FORK_CELLS = 350_000
# The helper's share of the rows' cost. This process also writes everything else and closes the
# workbook. A fork: half is the fastest of 0.4–0.6 measured. A fresh process: half of the tables it
# may take (handed_tables), which at 6 400 reports ends its rows at about the time this process ends
# its own (0.45 ended them 0.1 s before).
HELPER_SHARE = {"fork": 0.5, "spawn": 0.5}
_PATIENCE = 120  # seconds to wait for the helper's next table (10 000 reports take about 2)
# Rows written down for a fresh helper per record of the spool: one marshal or pickle call for many
# rows instead of one each (6 400 reports: the helper's 25 000 rows in 0.06–0.09 s instead of 0.12 s).
CHUNK_ROWS = 256


class Writer(Protocol):
    """What the writer of one sheet (table_writer.TableWriter) offers the row writers."""

    ws: Any
    info: Any

    def write_rows(self, plan: RowPlan, rows: Any) -> list[tuple[int, float]]: ...


class TableCost(NamedTuple):
    """What one table's rows cost to write (a cell 1), whether they must be written in this process
    and whether they carry long texts (worth keeping here from a fresh process: see handed_tables)."""

    key: str
    cost: int
    stays: bool
    texts: bool = False


class Job(NamedTuple):
    """One table's rows for the helper: how to write them, and the rows (a sequence it can read)."""

    plan: RowPlan
    rows: Sequence[tuple[Any, ...]]


class Block(NamedTuple):
    """One table's data rows as written: the file of their XML (UTF-8; on disk, as 10 000 reports'
    texts are 200 MB), each row's (row, first and last column), the formulas recorded meanwhile
    (None when not asked for) and the taller rows' heights."""

    path: str
    extents: list[tuple[int, int, int]]
    formulas: list[tuple[tuple[str, str], str]] | None
    heights: list[tuple[int, float]]


def render_block(
    ws: StreamingWorksheet, first_row: int, write: Callable[[], Any], path: str
) -> tuple[list[tuple[int, int, int]], Any]:
    """Rows written by `write()` into the file `path` instead of the sheet's own: their extents,
    and what `write()` returned."""
    ws._flush_row()
    saved = ws._rows, ws._row
    with open(path, "w", encoding="utf-8") as rows:
        ws._rows, ws._row, ws._cells, ws.block_extents = rows, first_row - 1, [], []
        try:
            returned = write()
            ws._flush_row()
            return ws.block_extents, returned
        finally:
            ws._rows, ws._row, ws._cells, ws.block_extents = *saved, [], None
            ws._parts = None


class OwnRows:
    """Every table's data rows written in this process (the plain way)."""

    def write(self, writer: Writer, placement: Any, plan: RowPlan) -> None:
        writer.write_rows(plan, placement.table.rows)

    def finish(self) -> None:
        pass


class SplitRows:
    """In this process: a handed table gets a place in its sheet (ws.blocks) and the writing goes on;
    when the workbook closes, the sheet takes in the helper's rows there, exactly as if written in
    place (row heights, the sheet's dimensions, the formulas recorded). Rows the helper does not
    deliver are written then, here."""

    def __init__(self, handed: frozenset[str], folder: str, pipe: Any, process: Any, spool: Spool | None):
        self.handed = handed
        self.folder = folder
        self.pipe = pipe
        self.process = process
        self.spool = spool
        self.broken = False

    def write(self, writer: Writer, placement: Any, plan: RowPlan) -> None:
        if placement.table.key not in self.handed:
            writer.write_rows(plan, placement.table.rows)
            return
        ws = writer.ws
        ws._flush_row()
        ws._rows.flush()
        ws.blocks.append((ws._rows.buffer.tell(), functools.partial(self._take, writer, placement, plan)))
        if placement.table.rows:  # the next rows come after these
            ws._row = placement.first_data_row + len(placement.table.rows) - 1

    def _take(self, writer: Writer, placement: Any, plan: RowPlan) -> str:
        """At close: the file of the table's rows, from the helper or written now, with all that
        writing them does to the sheet."""
        block = self._receive(plan.key)
        ws = writer.ws
        if block is None:
            path = os.path.join(self.folder, f"{plan.key}.here.xml")
            render_block(ws, plan.first_row, lambda: writer.write_rows(plan, placement.table.rows), path)
            return path
        for row, height in block.heights:  # what writing the rows does besides the rows
            ws.set_row(row, height)
        for row, first, last in block.extents:
            ws._check_dimensions(row, first)
            ws._check_dimensions(row, last)
        if block.formulas:
            writer.info.formulas.update(block.formulas)
        return block.path

    def _receive(self, key: str) -> Block | None:
        if self.broken:
            return None
        try:
            if not self.pipe.poll(_PATIENCE):
                raise TimeoutError("the helper is stuck")
            with open(self.pipe.recv(), "rb") as handle:  # the helper's next table: they come in order
                got, block = pickle.load(handle)
            if got != key:
                raise ValueError(f"expected the rows of {key}, got {got}")
        except Exception:  # noqa: BLE001 - the helper died or wrote nonsense: write the rows here
            self.broken = True
            return None
        return block

    def finish(self) -> None:
        self.pipe.close()
        if isinstance(self.process, subprocess.Popen):
            try:
                self.process.wait(_PATIENCE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        else:
            self.process.join(timeout=_PATIENCE)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        if self.spool is not None:
            self.spool.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def write_jobs(jobs: Sequence[Job], options: dict[str, Any], keep_formulas: bool, folder: str, pipe: Any) -> None:
    """The helper's work: each table's rows into a file of their own, announced on the pipe in
    order. `options`: the workbook's, so that its cells are written as the workbook's would be."""
    import xlsxwriter

    sheets = xlsxwriter.Workbook(os.devnull, options)  # never closed: it only lends its sheets' settings
    for plan, rows in jobs:
        ws = sheets.add_worksheet(worksheet_class=StreamingWorksheet)  # a sheet per table: its own row heights
        path = os.path.join(folder, f"{plan.key}.xml")
        written = functools.partial(write_rows, ws, plan, rows, keep_formulas=keep_formulas)
        extents, done_rows = render_block(ws, plan.first_row, written, path)
        ws._rows.close()
        done = Block(path, extents, done_rows.formulas, done_rows.heights)
        announced = os.path.join(folder, f"{plan.key}.pickle")
        with open(announced, "wb") as handle:
            pickle.dump((plan.key, done), handle, protocol=pickle.HIGHEST_PROTOCOL)
        pipe.send(announced)


def _helper_main(jobs: Sequence[Job], options: dict[str, Any], keep_formulas: bool, folder: str, pipe: Any) -> None:
    """The helper (a fork): write the jobs; whatever goes wrong, the parent writes the rows itself."""
    try:
        write_jobs(jobs, options, keep_formulas, folder, pipe)
    except BaseException:  # noqa: BLE001, S110 - whatever went wrong, the parent writes the rows itself
        pass
    finally:
        pipe.close()


def helper_command() -> None:
    """The helper as a fresh interpreter: its pipe's descriptor in argv; the file of its work on
    stdin once written (it imports the package meanwhile)."""
    pipe = Connection(int(sys.argv[1]), readable=False)
    try:
        work = sys.stdin.readline().strip()
        if not work:
            return
        with open(work, "rb") as handle:
            jobs, options, keep_formulas = pickle.load(handle)
        write_jobs(jobs, options, keep_formulas, os.path.dirname(work), pipe)
    except BaseException:  # noqa: BLE001, S110 - whatever went wrong, the parent writes the rows itself
        pass
    finally:
        pipe.close()


def can_fork() -> bool:
    """A fork is safe here: Linux, and no other thread that could hold a lock across it."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def helper_kind(cells: int, helper: bool | None) -> str | None:
    """"fork", "spawn" or None (no helper) for a master of `cells` cells. `helper`: None decides by
    size (MIN_CELLS, FORK_CELLS) and machine, True always has one on Linux, False never."""
    if helper is False or not sys.platform.startswith("linux"):
        return None
    if helper is None and (cells < MIN_CELLS or (os.cpu_count() or 1) < 2):
        return None
    return "fork" if cells <= FORK_CELLS and can_fork() else "spawn"


def handed_tables(tables: Sequence[TableCost], kind: str | None) -> frozenset[str]:
    """Which tables the helper writes: the costliest that fit in its share (HELPER_SHARE), as the
    helper's rows are only needed when the workbook closes. A fresh process is not handed long
    texts: writing them down for it and reading them there cost more than writing their rows
    (6 400 reports: the Texter sheet's 91 MB take 0.11 s to write down here, against 0.28 s for
    their rows, and the Budget sheet's 0.03 s, against 0.26 s for theirs)."""
    if kind is None:
        return frozenset()
    total = sum(table.cost for table in tables)
    handed, there = set(), 0
    for table in sorted(tables, key=lambda table: -table.cost):
        if table.stays or (table.texts and kind == "spawn"):
            continue
        if there + table.cost <= HELPER_SHARE[kind] * total:
            handed.add(table.key)
            there += table.cost
    return frozenset(handed)


def split_rows(
    tables: Sequence[TableCost],
    jobs: Callable[[frozenset[str]], list[Job]],
    *,
    helper: bool | None,
    options: dict[str, Any],
    keep_formulas: bool,
    cells: int | None = None,
) -> OwnRows | SplitRows:
    """The row writer for this process: OwnRows, or SplitRows with a helper started on the tables
    it is handed. `tables`: each table's TableCost, in writing order; `jobs(handed)`: the
    handed tables' Jobs, in that order; `options`: the workbook's; `cells`: the rows' cells, which
    decide the kind of helper (default: the costs' sum)."""
    kind = helper_kind(sum(table.cost for table in tables) if cells is None else cells, helper)
    handed = handed_tables(tables, kind)
    if not handed:
        return OwnRows()
    folder = tempfile.mkdtemp(prefix="lagesrapport-rader-")
    spool = Spool() if kind == "spawn" else None
    process: Any = None
    try:
        if kind == "fork":
            receiving, sending = multiprocessing.get_context("fork").Pipe(duplex=False)
            forked = multiprocessing.get_context("fork").Process(
                target=_helper_main, args=(jobs(handed), options, keep_formulas, folder, sending), daemon=True
            )
            forked.start()
            process = forked
            sending.close()  # the helper's end only: a helper that dies then reads as the end of the pipe
        else:  # started first (or long before: prestart): it imports the package meanwhile
            process, receiving = _AHEAD.pop() if _AHEAD else _start_command()
            try:
                work = _written_down(jobs(handed), spool, options, keep_formulas, os.path.join(folder, "jobs.pickle"))
                process.stdin.write(f"{work}\n".encode())
            finally:
                process.stdin.close()
    except Exception:  # noqa: BLE001 - no process to be had (limits, memory): one process writes all
        if process is not None:
            SplitRows(handed, folder, receiving, process, None).finish()
        if spool is not None:
            spool.close()
        shutil.rmtree(folder, ignore_errors=True)
        return OwnRows()
    return SplitRows(handed, folder, receiving, process, spool)


# A fresh helper started ahead of its work (prestart), not yet given it.
_AHEAD: list[tuple[subprocess.Popen, Connection]] = []


def prestart(cells: int) -> None:
    """Start now the fresh helper that a master of about `cells` cells will have (helper_kind), so
    that it has imported the package by the time its rows are handed over: started with them, it
    began writing 0.12–0.25 s after this process (6 400 reports), and this process waited for it.
    One at most; unused, it is ended by discard_prestarted (or by this process's end, which
    closes its stdin)."""
    if _AHEAD or cells <= FORK_CELLS or helper_kind(cells, None) is None:
        return
    try:
        _AHEAD.append(_start_command())
    except Exception:  # noqa: BLE001 - no process to be had now: split_rows tries again
        pass


def discard_prestarted() -> None:
    """End a helper prestart started and nobody used: its stdin closed, it ends without work."""
    while _AHEAD:
        process, pipe = _AHEAD.pop()
        pipe.close()
        process.stdin.close()
        try:
            process.wait(_PATIENCE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start_command() -> tuple[subprocess.Popen, Connection]:
    """helper_command in a fresh interpreter that imports this very package; the pipe it writes to."""
    reading, writing = os.pipe()
    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", "from lagesrapport_xl.master.split import helper_command; helper_command()",
             str(writing)],
            pass_fds=(writing,), env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except BaseException:
        os.close(reading)
        raise
    finally:
        os.close(writing)  # the helper's end only: a helper that dies then reads as the end of the pipe
    return process, Connection(reading, writable=False)


def _written_down(jobs: list[Job], spool: Spool, options: dict[str, Any], keep_formulas: bool, path: str) -> str:
    """The jobs in a file, for a process that shares no memory with this one: rows in memory are
    put in the spool CHUNK_ROWS to a record, rows on disk already (SpooledSequence) stay where
    they are."""
    kept = []
    for plan, rows in jobs:
        if not isinstance(rows, SpooledSequence):
            first = len(spool)
            for start in range(0, len(rows), CHUNK_ROWS):
                spool.put(rows[start : start + CHUNK_ROWS])
            rows = Chunks(spool.sequence(first))
        kept.append(Job(plan, rows))
    with open(path, "wb") as handle:
        pickle.dump((kept, options, keep_formulas), handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path


class Chunks:
    """Rows spooled CHUNK_ROWS to a record, read back one row at a time (picklable: its records
    are a SpooledSequence, the file's name and the records' places)."""

    def __init__(self, records: SpooledSequence):
        self.records = records

    def __iter__(self) -> Iterator[Any]:
        for record in self.records:
            yield from record
