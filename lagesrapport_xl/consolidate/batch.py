"""Consolidate a folder of Lägesrapporter into RAR's tables.

`consolidate(inputs)` finds every file (inputs.py), reads them in parallel with the reader
(parallel.py), decides the status of each file — accepted, accepted with warnings, superseded by a
newer copy, rejected, skipped lock file (statuses.py) — matches them against RAR's register when
one is given (coverage.py) and builds the tables of the master workbook (tables/).
`build_consolidation(results)` does the same from ReadResults already in hand (tests, the Excel
layer).

With the tables kept as plain rows and the master's cells streamed to disk, 7 000 reports are
consolidated in under 400 MB; a larger batch keeps its answers on disk (see `consolidate`), so
32 000 fit too (docs/performance.md).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..common.memory import Spool, batch_gc, before_forking
from ..form.spec import FormSpec, default_spec
from ..reader.result import ReadResult
from ..reader.safety import Limits
from .consolidation import Consolidation
from .coverage import register_coverage
from .inputs import InputError, InputFile, find_input_files
from .parallel import Progress, read_files
from .receipts import Receipts, check_receipt_dates
from .statuses import Compared, FileOutcome, SpooledOutcome, compare_with_earlier, decide_statuses, normalise
from .tables import build_tables

if TYPE_CHECKING:  # the cache (sqlite3, importlib.metadata) is imported only by who opens one
    from ..reader.register import RegisterRow
    from .cache import Known, ReportCache

DEFAULT_TOLERANCE = 0.15
SPOOL_FROM = 7_000  # files: up to this many a batch is held in memory (about 300 MB for 7 000 reports)
SLICE_FILES = 500  # files read at a time by a spooled batch (about 15 MB of results in memory)


def _sorted_reports(outcomes: list[FileOutcome]) -> list[FileOutcome]:
    """Accepted reports grouped by insats (ordered by the insats' latest name), then by number."""
    accepted = [o for o in outcomes if o.accepted]
    facts = {id(o): o.facts for o in accepted}
    number = {id(o): facts[id(o)].report_number or 0 for o in accepted}
    names: dict[Any, tuple[int, str]] = {}
    for outcome in accepted:
        current = names.get(outcome.insats)
        if current is None or number[id(outcome)] >= current[0]:
            names[outcome.insats] = (number[id(outcome)], normalise(facts[id(outcome)].initiative_name or ""))
    return sorted(accepted, key=lambda o: (names[o.insats][1], o.insats, number[id(o)], o.name))


def build_consolidation(
    results: Sequence[ReadResult | tuple[ReadResult, dict[str, Any] | None]],
    *,
    spec: FormSpec | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    names: Sequence[str] | None = None,
    inputs: Sequence[str] = (),
    started: dt.datetime | None = None,
    register: Sequence[RegisterRow] | None = None,
    register_file: str | Path | None = None,
    receipts: Receipts | None = None,
) -> Consolidation:
    """The consolidation of results already read (ReadResults with their models, or read_one pairs).

    With `register` (register.read_register's rows) it also says which insatser of the register
    have reported for the period (coverage.py), on the Kontroll sheet and in the exports;
    `register_file`, the file they were read from, is listed with the inputs on the Om sheet.
    With `receipts` (the web intake's account, receipts.py) the latest received copy counts, RAR's
    review is on the Kontroll sheet and, if asked, only approved reports are in the tables."""
    spec = spec or default_spec()
    check_tolerance(tolerance)
    outcomes = []
    for index, item in enumerate(results):
        if isinstance(item, ReadResult):
            answers = item.report.answers() if item.report is not None and item.ok else None
            item = (replace(item, report=None), answers)
        result, answers = item
        name = names[index] if names is not None else Path(result.file).name
        outcomes.append(FileOutcome(name=name, result=result, answers=answers))
    return _consolidation(outcomes, spec, tolerance, inputs, started, register, register_file, receipts)


def _consolidation(
    outcomes: list[FileOutcome],
    spec: FormSpec,
    tolerance: float,
    inputs: Sequence[str],
    started: dt.datetime | None,
    register: Sequence[RegisterRow] | None,
    register_file: str | Path | None,
    receipts: Receipts | None,
    spool: Spool | None = None,
) -> Consolidation:
    """Statuses, the register's coverage and the tables of the outcomes (`spool`: where the Texter
    sheet's rows go, for a large batch)."""
    decide(outcomes, spec, receipts)
    consolidation = Consolidation(
        spec=spec,
        tolerance=tolerance,
        inputs=tuple(str(i) for i in inputs),
        started=started or dt.datetime.now(),
        files=outcomes,
        register_file=str(register_file) if register_file is not None else None,
        receipts=receipts,
    )
    if register is not None:
        consolidation.coverage = register_coverage(outcomes, register)
    reports = _sorted_reports(outcomes)
    if receipts is not None:
        reports = [o for o in reports if receipts.included(o)]
    latest_by_insats: dict[Any, int] = {}
    for index, outcome in enumerate(reports):
        latest_by_insats[outcome.insats] = index  # sorted by report number: the last one wins
    consolidation.tables = build_tables(consolidation, reports, list(latest_by_insats.values()), spool)
    return consolidation


def decide(
    outcomes: list[FileOutcome], spec: FormSpec, receipts: Receipts | None, compared: Compared | None = None
) -> None:
    """Every file's status (statuses.py), by the intake's receipts when given, and each report
    compared with its predecessor in the batch (`compared`: see compare_with_earlier)."""
    if receipts is not None:
        check_receipt_dates(outcomes, receipts, spec)
    decide_statuses(outcomes, receipts.received if receipts is not None else None)
    compare_with_earlier(outcomes, spec, compared)


def check_tolerance(tolerance: float) -> None:
    if not isinstance(tolerance, (int, float)) or math.isnan(tolerance) or not 0 <= tolerance < 10:
        raise ValueError(f"Toleransen ska vara en andel mellan 0 och 10 (t.ex. 0.15 för 15 %), inte {tolerance}.")


def consolidate(
    inputs: str | Path | Iterable[str | Path],
    *,
    spec: FormSpec | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    workers: int | None = None,
    progress: Progress | None = None,
    exclude: Iterable[str | Path] = (),
    started: dt.datetime | None = None,
    meanwhile: Callable[[], object] | None = None,
    register: Sequence[RegisterRow] | None = None,
    register_file: str | Path | None = None,
    cache: ReportCache | None = None,
    known: Mapping[str, Known] | None = None,
    limits: Limits | None = None,
    spool: bool | None = None,
    receipts: Receipts | None = None,
    read: Callable[[int], object] | None = None,
) -> Consolidation:
    """Find, read and consolidate every file under `inputs` (folders, searched recursively, or files).

    `workers=1` reads in this process; the default uses every core. `progress(done, total)` is
    called as files are read; `meanwhile()` once while they are read (see read_files); `register`
    and `register_file` as for build_consolidation. With `cache` (cache.ReportCache) only the
    contents it has not seen are read; `known` (path → cache.Known, from a log) spares hashing the
    files it vouches for. `limits`: safety's limits (default: safety's own). `spool`: whether the
    files' results and answers, and the Texter sheet's rows, wait on disk (None: for more than
    SPOOL_FROM files; see below); `receipts` as for build_consolidation; `read(files)` is called once
    every file has been read and the cache holds what was learnt, before the tables are built (the
    command line closes its cache then). Raises InputError for an input that does not exist.

    A batch holds about 30 kB a report, most of it answers (17 kB of free text in the benchmark's
    reports): 6 400 reports fit in 300 MB, 32 000 would take a gigabyte. Above SPOOL_FROM files the
    files are read SLICE_FILES at a time and each file's result and answers go to a temporary file
    as its slice comes in (SpooledOutcome), so memory holds a few hundred bytes a file; the tables
    read each report's answers back once. The consolidation is the same either way (tests).
    """
    spec = spec or default_spec()
    check_tolerance(tolerance)
    inputs = [str(inputs)] if isinstance(inputs, (str, Path)) else [str(i) for i in inputs]
    started = started or dt.datetime.now()
    if cache is not None:
        exclude = [*exclude, *cache.files]
    files = find_input_files(inputs, exclude)
    if spool is None:
        spool = len(files) > SPOOL_FROM
    with batch_gc():
        if not spool:
            results = read_files(
                [str(f.path) for f in files], spec, workers=workers, progress=progress, meanwhile=meanwhile,
                cache=cache, limits=limits, known=known,
            )
            if read is not None:
                read(len(files))
            return build_consolidation(
                results,
                spec=spec,
                tolerance=tolerance,
                names=[f.name for f in files],
                inputs=inputs,
                started=started,
                register=register,
                register_file=register_file,
                receipts=receipts,
            )
        on_disk = Spool()
        outcomes = _read_to_disk(
            files, spec, on_disk, workers=workers, progress=progress, meanwhile=meanwhile, cache=cache, limits=limits,
            known=known,
        )
        if read is not None:
            read(len(files))
        return _consolidation(outcomes, spec, tolerance, inputs, started, register, register_file, receipts, on_disk)


def _read_to_disk(
    files: Sequence[InputFile],
    spec: FormSpec,
    spool: Spool,
    *,
    meanwhile: Callable[[], object] | None,
    progress: Progress | None,
    **reading: Any,
) -> list[FileOutcome]:
    """Every file read, SLICE_FILES at a time, as SpooledOutcomes: each slice's results go to the
    spool while the processes read the next slice (read_files' `meanwhile`)."""
    outcomes: list[FileOutcome] = []
    pending: list[tuple[Sequence[InputFile], list[tuple[ReadResult, dict[str, Any] | None]]]] = []

    def spool_pending() -> None:
        for part, results in pending:
            outcomes.extend(SpooledOutcome(spool, f.name, *result, spec) for f, result in zip(part, results))
        pending.clear()

    for first in range(0, len(files), SLICE_FILES):
        part = files[first : first + SLICE_FILES]
        before_forking()
        results = read_files(
            [str(f.path) for f in part], spec, progress=_shifted(progress, first, len(files)),
            meanwhile=meanwhile if first == 0 else spool_pending, **reading,
        )
        spool_pending()  # in case the reading had no time for it
        pending.append((part, results))
        del results
    spool_pending()
    return outcomes


def _shifted(progress: Progress | None, done: int, total: int) -> Progress | None:
    """A slice's progress as the whole batch's."""
    if progress is None:
        return None
    return lambda slice_done, _slice_total: progress(done + slice_done, total)


__all__ = [  # Consolidation, FileOutcome, decide_statuses and InputError: other layers import them from here
    "DEFAULT_TOLERANCE",
    "Consolidation",
    "FileOutcome",
    "InputError",
    "build_consolidation",
    "check_tolerance",
    "consolidate",
    "decide_statuses",
]
