"""The master's data rows written by two processes: a forked helper renders the rows of some tables
into files while this process writes everything else, then splices those rows in.

Writing the master is one core's work (0.45 s per 1 000 reports, half of it the data rows) while
the machine's other cores idle. The helper is a fork of this process that runs the very same
writing code in the very same order, so formats, shared strings and every index agree by
construction; it only keeps the rows of the tables handed to it. The file is the same byte for
byte either way (the tests compare). On Windows and macOS (no safe fork), on one core, for a
small master, or when the helper fails in any way, this process writes every row itself.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import pickle
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

# Below this many cells (about 150 reports) a second process costs more than it saves.
MIN_CELLS = 20_000
_PATIENCE = 120  # seconds to wait for the helper's next table (10 000 reports take about 2)


class Block(Protocol):
    """What the writer of one sheet (master._SheetWriter) offers the row writers."""

    ws: Any
    info: Any

    def write_rows(self, placement: Any, heights: dict[int, float], chart: bool) -> None: ...


class OwnRows:
    """Every table's data rows written in this process (the plain way)."""

    def write(self, writer: Block, placement: Any, heights: dict[int, float], chart: bool) -> None:
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

    def write(self, writer: Block, placement: Any, heights: dict[int, float], chart: bool) -> None:
        key = placement.table.key
        if key not in self.handed:
            return
        ws, info = writer.ws, writer.info
        ws._flush_row()  # the header row, into the sheet's own file
        own, ws._rows = ws._rows, io.StringIO()
        ws.block_extents = []
        known = len(info.formulas)
        try:
            writer.write_rows(placement, heights, chart)
            ws._flush_row()
            block = (key, ws._rows.getvalue(), ws.block_extents, list(info.formulas.items())[known:])
        finally:
            ws._rows, ws.block_extents = own, None
        path = os.path.join(self.folder, f"{key}.pickle")
        with open(path, "wb") as handle:
            pickle.dump(block, handle, protocol=pickle.HIGHEST_PROTOCOL)
        self.pipe.send(path)

    def finish(self) -> None:
        pass


class SplitRows:
    """In this process: a handed table's rows spliced in from the helper's file, exactly as if
    written here (row heights, the sheet's dimensions, the formulas recorded). If the helper fails,
    this process writes that table and every later one itself."""

    def __init__(self, handed: frozenset[str], folder: str, pipe: Any, process: Any):
        self.handed = handed
        self.folder = folder
        self.pipe = pipe
        self.process = process
        self.broken = False

    def write(self, writer: Block, placement: Any, heights: dict[int, float], chart: bool) -> None:
        block = self._receive(placement.table.key) if placement.table.key in self.handed else None
        if block is None:
            writer.write_rows(placement, heights, chart)
            return
        text, extents, formulas = block
        ws = writer.ws
        ws._flush_row()
        ws._rows.write(text)
        for row, height in heights.items():  # what write_rows does besides writing the rows
            ws.set_row(row, height)
        for row, first, last in extents:
            ws._check_dimensions(row, first)
            ws._check_dimensions(row, last)
        if placement.table.rows:
            ws._row, ws._cells = placement.first_data_row + len(placement.table.rows) - 1, []
        writer.info.formulas.update(formulas)

    def _receive(self, key: str) -> tuple[str, list[tuple[int, int, int]], list[Any]] | None:
        if self.broken:
            return None
        try:
            if not self.pipe.poll(_PATIENCE):
                raise TimeoutError("the helper is stuck")
            with open(self.pipe.recv(), "rb") as handle:  # the helper's next table: they come in order
                got, text, extents, formulas = pickle.load(handle)
            if got != key:
                raise ValueError(f"expected the rows of {key}, got {got}")
        except Exception:  # noqa: BLE001 - the helper died or wrote nonsense: write the rows here
            self.broken = True
            return None
        return text, extents, formulas

    def finish(self) -> None:
        self.pipe.close()
        self.process.join(timeout=30)
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
    """Which tables the helper writes, from (key, cost, must be written here) in writing order.

    This process reaches a table after writing the rows of its own tables before it; a table is
    handed over when the helper, writing only handed tables, will have finished it by then. So
    neither waits long for the other, and this process also has the closing (about 0.6 of the
    rows' time) to do alone.
    `helper`: None decides by size and machine, True always splits where fork is safe, False never.
    """
    total = sum(cost for _, cost, _ in tables)
    if helper is False or not can_fork() or (helper is None and (total < MIN_CELLS or (os.cpu_count() or 1) < 2)):
        return frozenset()
    here = there = 0
    handed = set()
    for key, cost, stays in tables:
        if not stays and there + cost <= here + cost / 2:
            handed.add(key)
            there += cost
        else:
            here += cost
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
