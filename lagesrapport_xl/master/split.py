"""The master's data rows written by two processes: a forked helper renders the rows of some tables
into files while this process writes everything else; the workbook takes them in when it closes.

Writing the master is one core's work (0.45 s per 1 000 reports, half of it the data rows) while
the machine's other cores idle. The helper is a fork of this process that runs the very same
writing code in the very same order, so formats, shared strings and every index agree by
construction; it only keeps the rows of the tables handed to it. This process leaves a place for
those rows in each sheet and goes on; when the workbook closes, each sheet takes in its tables'
rows at their places. The file is the same byte for byte either way (the tests compare). On
Windows and macOS (no safe fork), on one core, for a small master, or when the helper fails in
any way, this process writes the rows itself.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import pickle
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

# Below this many cells (about 150 reports) a second process costs more than it saves. Above the
# second (about 3 000 reports) it is not used either: the helper touches the rows it writes, so
# copy-on-write duplicates much of the batch in memory (10 000 reports: 637 MB instead of 360).
MIN_CELLS = 20_000
MAX_CELLS = 350_000
# The helper's share of the rows' cost. This process also writes everything else and closes the
# workbook; the helper also repeats every sheet's setup. Half is the fastest of 0.4–0.6 measured.
HELPER_SHARE = 0.5
_PATIENCE = 120  # seconds to wait for the helper's next table (10 000 reports take about 2)


class Writer(Protocol):
    """What the writer of one sheet (table_writer.TableWriter) offers the row writers."""

    ws: Any
    info: Any

    def write_rows(self, placement: Any, heights: dict[int, float], chart: bool) -> None: ...


class Block(NamedTuple):
    """One table's data rows as written: the file of their XML (UTF-8; on disk, as 10 000 reports'
    texts are 200 MB), each row's (row, first and last column), the formulas recorded meanwhile."""

    path: str
    extents: list[tuple[int, int, int]]
    formulas: list[tuple[Any, str]]


def render_block(writer: Writer, placement: Any, heights: dict[int, float], chart: bool, path: str) -> Block:
    """A table's data rows written aside, into the file `path`, by the writing code itself."""
    ws, info = writer.ws, writer.info
    ws._flush_row()
    saved = ws._rows, ws._row
    with open(path, "w", encoding="utf-8") as rows:
        ws._rows, ws._row, ws._cells, ws.block_extents = rows, placement.header_row, [], []
        known = len(info.formulas)
        try:
            writer.write_rows(placement, heights, chart)
            ws._flush_row()
            return Block(path, ws.block_extents, list(info.formulas.items())[known:])
        finally:
            ws._rows, ws._row, ws._cells, ws.block_extents = *saved, [], None


class OwnRows:
    """Every table's data rows written in this process (the plain way)."""

    def write(self, writer: Writer, placement: Any, heights: dict[int, float], chart: bool) -> None:
        writer.write_rows(placement, heights, chart)

    def finish(self) -> None:
        pass


class HelperRows:
    """In the helper: the rows of each handed table rendered into a file of their own and announced
    on the pipe, in the order the tables are written; every other table's rows are skipped."""

    def __init__(self, handed: frozenset[str], folder: str, pipe: Any):
        self.handed = handed
        self.folder = folder
        self.pipe = pipe

    def write(self, writer: Writer, placement: Any, heights: dict[int, float], chart: bool) -> None:
        key = placement.table.key
        if key not in self.handed:
            return
        block = render_block(writer, placement, heights, chart, os.path.join(self.folder, f"{key}.xml"))
        path = os.path.join(self.folder, f"{key}.pickle")
        with open(path, "wb") as handle:
            pickle.dump((key, block), handle, protocol=pickle.HIGHEST_PROTOCOL)
        self.pipe.send(path)

    def finish(self) -> None:
        pass


class SplitRows:
    """In this process: a handed table gets a place in its sheet (ws.blocks) and the writing goes on;
    when the workbook closes, the sheet takes in the helper's rows there, exactly as if written in
    place (row heights, the sheet's dimensions, the formulas recorded). Rows the helper does not
    deliver are written then, here."""

    def __init__(self, handed: frozenset[str], folder: str, pipe: Any, process: Any):
        self.handed = handed
        self.folder = folder
        self.pipe = pipe
        self.process = process
        self.broken = False

    def write(self, writer: Writer, placement: Any, heights: dict[int, float], chart: bool) -> None:
        if placement.table.key not in self.handed:
            writer.write_rows(placement, heights, chart)
            return
        ws = writer.ws
        ws._flush_row()
        ws._rows.flush()
        ws.blocks.append((ws._rows.buffer.tell(), functools.partial(self._take, writer, placement, heights, chart)))
        if placement.table.rows:  # the next rows come after these
            ws._row = placement.first_data_row + len(placement.table.rows) - 1

    def _take(self, writer: Writer, placement: Any, heights: dict[int, float], chart: bool) -> str:
        """At close: the file of the table's rows, from the helper or written now, with all that
        writing them does to the sheet."""
        block = self._receive(placement.table.key)
        if block is None:
            path = os.path.join(self.folder, f"{placement.table.key}.here.xml")
            return render_block(writer, placement, heights, chart, path).path
        ws = writer.ws
        for row, height in heights.items():  # what write_rows does besides writing the rows
            ws.set_row(row, height)
        for row, first, last in block.extents:
            ws._check_dimensions(row, first)
            ws._check_dimensions(row, last)
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
        self.process.join(timeout=_PATIENCE)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        shutil.rmtree(self.folder, ignore_errors=True)


def _helper_main(write: Callable[[HelperRows], None], handed: frozenset[str], folder: str, pipe: Any) -> None:
    try:
        write(HelperRows(handed, folder, pipe))
    except BaseException:  # noqa: BLE001 - whatever went wrong, the parent writes the rows itself
        pass
    finally:
        pipe.close()


def can_fork() -> bool:
    """A fork is safe here: Linux, and no other thread that could hold a lock across it."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def handed_tables(tables: Sequence[tuple[str, int, bool]], helper: bool | None) -> frozenset[str]:
    """Which tables the helper writes, from (key, cost, must be written here): the costliest that
    fit in its share (HELPER_SHARE), as the helper's rows are only needed when the workbook closes.
    `helper`: None decides by size (MIN_CELLS–MAX_CELLS) and machine, True always splits where fork
    is safe, False never.
    """
    total = sum(cost for _, cost, _ in tables)
    unsuited = not MIN_CELLS <= total <= MAX_CELLS or (os.cpu_count() or 1) < 2
    if helper is False or not can_fork() or (helper is None and unsuited):
        return frozenset()
    handed, there = set(), 0
    for key, cost, stays in sorted(tables, key=lambda table: -table[1]):
        if not stays and there + cost <= HELPER_SHARE * total:
            handed.add(key)
            there += cost
    return frozenset(handed)


def split_rows(
    tables: Sequence[tuple[str, int, bool]], write_in_helper: Callable[[HelperRows], None], helper: bool | None
) -> OwnRows | SplitRows:
    """The row writer for this process: OwnRows, or SplitRows with a helper started on
    `write_in_helper`, which writes the master as this process will, given the helper's rows."""
    handed = handed_tables(tables, helper)
    if not handed:
        return OwnRows()
    folder = tempfile.mkdtemp(prefix="lagesrapport-rader-")
    try:
        context = multiprocessing.get_context("fork")
        receiving, sending = context.Pipe(duplex=False)
        process = context.Process(target=_helper_main, args=(write_in_helper, handed, folder, sending), daemon=True)
        process.start()
    except Exception:  # noqa: BLE001 - no process to be had (limits, memory): one process writes all
        shutil.rmtree(folder, ignore_errors=True)
        return OwnRows()
    sending.close()  # the helper's end only: a helper that dies then reads as the end of the pipe
    return SplitRows(handed, folder, receiving, process)
