"""Consolidate a folder of Lägesrapporter into RAR's tables.

`consolidate(inputs)` finds every file, reads them in parallel with the reader, decides the
status of each file (accepted, accepted with warnings, superseded by a newer copy, rejected,
skipped lock file) and builds the tables of the master workbook (tables.py).
`build_consolidation(results)` does the same from ReadResults already in hand (tests, the Excel
layer).

Workers send back only what the master needs of each file (read_one): each answer once, no
workbook. With the tables kept as plain rows and the master's cells streamed to disk, 10 000
reports are consolidated in well under 400 MB (docs/performance.md).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..common.issues import Issue, Severity
from ..form.previous import Previous
from ..form.spec import FormSpec, default_spec
from ..reader import (
    read as reader,  # imported before the workers fork: each inherits it instead of importing it
)
from ..reader.result import ReadResult
from ..reader.rules import Findings, check_previous
from .tables import (
    ABOUT,
    BUDGET,
    CONTROL,
    HISTORY,
    LOCK_FILE_MESSAGE,
    MAX_CELL_TEXT,
    OVERVIEW,
    PARTICIPANTS,
    PROGRAM,
    SHEETS,
    STATUS_PLURAL,
    TEXTS,
    TIME_SHARE,
    Column,
    Status,
    Table,
    build_tables,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..reader.register import RegisterRow
    from .coverage import CoverageReport

DEFAULT_TOLERANCE = 0.15

Progress = Callable[[int, int], None]


class InputError(ValueError):
    """An INBOX argument that does not exist; the message is Swedish and names it."""


# --- finding the files --------------------------------------------------------------------------


@dataclass(frozen=True)
class InputFile:
    path: Path  # as found
    name: str  # shown to people: relative to the common folder of all inputs


def find_input_files(inputs: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> list[InputFile]:
    """Every regular file under the folders (recursively) and every file named, in a stable order.

    A file reached twice (named twice, or inside two given folders) counts once. `exclude` holds
    our own outputs (the master, exports), which must not be read back as reports.
    """
    excluded = {os.path.realpath(p) for p in exclude}
    found: list[tuple[Path, str | None]] = []  # (path, its folder's real path when found in a folder)
    roots: list[str] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            roots.append(os.path.abspath(path))
            for folder, dirs, files in os.walk(path):
                dirs.sort()
                real_folder = os.path.realpath(folder)
                found.extend((Path(folder) / name, real_folder) for name in sorted(files))
        elif path.is_file():
            roots.append(os.path.dirname(os.path.abspath(path)))
            found.append((path, None))
        else:
            raise InputError(f"Hittar inte {raw}: varken en mapp eller en fil.")
    seen: set[str] = set()
    files: list[Path] = []
    for path, real_folder in found:
        # The real path, for duplicates and our own outputs; resolved in full only for a link.
        linked = real_folder is None or os.path.islink(path)
        real = os.path.realpath(path) if linked else os.path.join(real_folder, path.name)
        if real in seen or real in excluded or not os.path.isfile(path):
            continue  # a duplicate path, our own output, or not a regular file (fifo, socket …)
        seen.add(real)
        files.append(path)
    common = os.path.commonpath(roots) if roots else os.getcwd()
    return [InputFile(path, os.path.relpath(os.path.abspath(path), common)) for path in files]


# --- reading, in parallel ---------------------------------------------------------------------------

_WORKER_SPEC: FormSpec | None = None


def _init_worker(spec: FormSpec | None) -> None:
    global _WORKER_SPEC
    _WORKER_SPEC = spec


def file_digest(path: str | Path) -> tuple[str | None, int | None, dt.datetime | None]:
    """SHA-256, size and modification time, or Nones when the file cannot be read."""
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        stat = os.stat(path)
        return digest.hexdigest(), stat.st_size, dt.datetime.fromtimestamp(stat.st_mtime)
    except OSError:
        return None, None, None


def internal_error_result(path: str, exc: BaseException) -> ReadResult:
    """A crash while reading one file becomes that file's rejection, never the batch's end."""
    sha, size, modified = file_digest(path)
    if isinstance(exc, BrokenProcessPool):
        cause = "processen som läste filen avslutades oväntat, till exempel för att minnet tog slut"
    else:
        cause = f"ett fel i programmet: {type(exc).__name__}: {str(exc)[:200]}"
    message = (
        f"Filen kunde inte läsas ({cause}). Kontrollera att filen är en ifylld Lägesrapport "
        "och kontakta den som ansvarar för programmet om felet kvarstår."
    )
    return ReadResult(
        file=path,
        issues=[Issue(Severity.ERROR, message, "internal_error")],
        sha256=sha,
        size=size,
        modified=modified,
    )


def read_one(path: str, spec: FormSpec | None = None) -> tuple[ReadResult, dict[str, Any] | None]:
    """Read one file: (result without its model, the validated answers or None).

    The model is replaced by its plain answers so that results travel cheaply between processes:
    an accepted report's answers are there once, in `answers`, and its `values` are dropped. A
    file with errors keeps its `values` (the JSON export shows what was read; such files are few).
    """
    try:
        result = reader.read_report(path, spec)  # the one line that binds the consolidation to the reader
        answers = result.report.answers() if result.report is not None and result.ok else None
        form_version = result.form_version or (result.report.form_version if result.report else None)
        values = {} if answers is not None else result.values
        result = replace(result, report=None, form_version=form_version, values=values)
        if result.sha256 is None:
            result.sha256, result.size, result.modified = file_digest(path)
        return result, answers
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - one broken file never stops the batch (pyo3 panics included)
        return internal_error_result(path, exc), None


def _read_chunk(paths: list[str]) -> list[tuple[ReadResult, dict[str, Any] | None]]:
    results = [read_one(path, _WORKER_SPEC) for path in paths]
    if not gc.isenabled():  # batch_gc: the few cycles of these files go now, not at the batch's end
        gc.collect()
    return results


@contextmanager
def batch_gc() -> Iterator[None]:
    """Cyclic garbage collection paused for a batch, as batch programs do (6–8 % of the reading).

    Reading allocates millions of short-lived containers and Python's collector keeps scanning
    them although nearly all die by reference counting; the few cycles (exception tracebacks)
    are collected after each chunk of files (_read_chunk) and at the end. What exists when the
    batch starts (modules, the spec) is frozen, so those collections never scan it.
    """
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def read_files(
    paths: Sequence[str],
    spec: FormSpec,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> list[tuple[ReadResult, dict[str, Any] | None]]:
    """Read every file, in parallel chunks over the machine's cores; results in input order.

    `meanwhile` is called once in this process while other processes read (before reading, when
    this process reads alone): work for an otherwise idle core, such as importing the writer."""
    total = len(paths)
    workers = max(1, min(workers or available_cores(), total or 1))
    worker_spec = None if spec is default_spec() else spec
    results: list[tuple[ReadResult, dict[str, Any] | None] | None] = [None] * total
    if workers == 1 or total < 8:
        if meanwhile is not None:
            meanwhile()
        for index, path in enumerate(paths):
            results[index] = read_one(path, worker_spec)
            if progress:
                progress(index + 1, total)
        return results  # type: ignore[return-value]
    # Chunks of up to 16 files (≈ 60 ms), shrinking towards the end ("guided" scheduling): when the
    # last ones run, no core waits long for the other.
    chunks: list[list[int]] = []
    start = 0
    while start < total:
        size = max(1, min(16, math.ceil((total - start) / (workers * 4))))
        chunks.append(list(range(start, min(start + size, total))))
        start += size
    done = 0
    failed: list[int] = []
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(worker_spec,)) as pool:
        futures = {pool.submit(_read_chunk, [paths[i] for i in chunk]): chunk for chunk in chunks}
        if meanwhile is not None:
            meanwhile()
        for future in as_completed(futures):
            chunk = futures[future]
            try:
                for index, outcome in zip(chunk, future.result()):
                    results[index] = outcome
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:  # noqa: BLE001 - a worker died (e.g. out of memory): retry one by one
                failed.extend(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    for index in sorted(failed):
        results[index] = _read_isolated(paths[index], worker_spec)
    return results  # type: ignore[return-value]


def _read_isolated(path: str, spec: FormSpec | None) -> tuple[ReadResult, dict[str, Any] | None]:
    """Read one file in a process of its own, so that a file that kills a process is rejected alone."""
    try:
        with ProcessPoolExecutor(1, initializer=_init_worker, initargs=(spec,)) as pool:
            return pool.submit(_read_chunk, [path]).result()[0]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - BrokenProcessPool, or a result that cannot travel
        return internal_error_result(path, exc)


# --- statuses and duplicates ------------------------------------------------------------------


@dataclass
class FileOutcome:
    """One input file and what became of it."""

    name: str  # relative path shown in the master
    result: ReadResult  # without its model (see read_one)
    answers: dict[str, Any] | None  # the validated answers of an error-free report
    status: Status = Status.REJECTED
    superseded_by: str | None = None
    superseded_reason: str = ""
    insats: tuple[str, str] | None = None  # ("dnr" | "namn", normalised text)

    @property
    def accepted(self) -> bool:
        return self.status in (Status.ACCEPTED, Status.WARNINGS)


def normalise(text: Any, *, squeeze: bool = False) -> str:
    """Case and whitespace do not make another insats: ' 2020-0042 ' and '2020-0042' are equal."""
    words = str(text).split()
    return ("" if squeeze else " ").join(words).casefold()


def assign_insats_keys(outcomes: list[FileOutcome]) -> None:
    """Case number when given, else the name; a name that belongs to exactly one case number in the
    batch is counted as that case number (a coordinator who left the number out)."""
    by_name: dict[str, set[str]] = {}
    for outcome in outcomes:
        if outcome.answers is None:
            continue
        case, name = outcome.answers.get("case_number"), outcome.answers.get("initiative_name")
        if case and name:
            by_name.setdefault(normalise(name), set()).add(normalise(case, squeeze=True))
    for outcome in outcomes:
        if outcome.answers is None:
            continue
        case, name = outcome.answers.get("case_number"), outcome.answers.get("initiative_name") or ""
        if case:
            outcome.insats = ("dnr", normalise(case, squeeze=True))
        elif len(by_name.get(normalise(name), ())) == 1:
            outcome.insats = ("dnr", next(iter(by_name[normalise(name)])))
        else:
            outcome.insats = ("namn", normalise(name))


def _recency(outcome: FileOutcome) -> tuple[dt.date, dt.datetime, str]:
    answers = outcome.answers or {}
    return (
        answers.get("signed_date") or dt.date.min,
        outcome.result.modified or dt.datetime.min,
        outcome.name,
    )


def decide_statuses(outcomes: list[FileOutcome]) -> None:
    """Set each file's status. Among error-free reports of the same insats and report number the
    latest signature date wins, then the latest modification time (then the file name, so that the
    choice never depends on the order of reading)."""
    for outcome in outcomes:
        if outcome.result.skipped:
            outcome.status = Status.SKIPPED
        elif outcome.answers is None or not outcome.result.ok:
            outcome.status = Status.REJECTED
        else:
            outcome.status = Status.WARNINGS if outcome.result.warnings else Status.ACCEPTED
    assign_insats_keys(outcomes)
    groups: dict[tuple[Any, ...], list[FileOutcome]] = {}
    for outcome in outcomes:
        if outcome.accepted:
            groups.setdefault((outcome.insats, outcome.answers["report_number"]), []).append(outcome)
    for group in groups.values():
        if len(group) < 2:
            continue
        winner = max(group, key=_recency)
        for loser in group:
            if loser is winner:
                continue
            loser.status = Status.SUPERSEDED
            loser.superseded_by = winner.name
            loser.superseded_reason = _superseded_reason(loser, winner)


def compare_with_earlier(outcomes: list[FileOutcome], spec: FormSpec) -> None:
    """Each accepted report against the accepted report before it of the same insats in the batch
    (the highest lower number), by the rules a rolled-forward file is checked with against the
    report it carries (rules.check_previous): a warning on the later report names the earlier file.
    A rule the file's own check already gave for the same answer is not repeated."""
    by_insats: dict[Any, list[FileOutcome]] = {}
    for outcome in outcomes:
        if outcome.accepted:
            by_insats.setdefault(outcome.insats, []).append(outcome)
    for reports in by_insats.values():
        reports.sort(key=lambda o: o.answers["report_number"])
        for earlier, later in zip(reports, reports[1:]):
            findings = Findings(spec, {})
            previous = Previous.of(earlier.answers, spec, earlier.name)
            check_previous(later.answers, previous, findings, rolled=False)
            given = {(issue.code, issue.field) for issue in later.result.issues}
            new = [issue for issue in findings.issues if (issue.code, issue.field) not in given]
            if new:
                later.result = replace(later.result, issues=[*later.result.issues, *new])
                later.status = Status.WARNINGS  # accepted still: check_previous warns in a batch


def _superseded_reason(loser: FileOutcome, winner: FileOutcome) -> str:
    new, old = _recency(winner), _recency(loser)
    number = (loser.answers or {}).get("report_number")
    if new[0] != old[0]:
        why = f"den har ett senare underskriftsdatum ({new[0].isoformat()} mot {old[0].isoformat()})"
    elif new[1] != old[1]:
        why = "den har samma underskriftsdatum men ändrades senare"
    else:
        why = "båda har samma datum; filnamnet avgjorde"
    return f"Samma insats och lägesrapport nr {number} finns i {winner.name}, som gäller eftersom {why}."


# --- the consolidation ------------------------------------------------------------------------


@dataclass
class Consolidation:
    """Every file's outcome and every table of the master; `c["budget"]` is a table as a DataFrame."""

    spec: FormSpec
    tolerance: float
    inputs: tuple[str, ...]
    started: dt.datetime
    files: list[FileOutcome]
    tables: dict[str, Table] = field(default_factory=dict)
    coverage: CoverageReport | None = None  # with a register: who has reported for the period
    register_file: str | None = None  # the register's file, listed on the Om sheet with its SHA-256

    def __getitem__(self, key: str) -> pd.DataFrame:
        return self.tables[key].frame

    @property
    def frames(self) -> dict[str, pd.DataFrame]:
        return {key: table.frame for key, table in self.tables.items()}

    @property
    def counts(self) -> dict[str, int]:
        """found, then one count per Status name (accepted, warnings, superseded, rejected, skipped)."""
        counts = {"found": len(self.files)}
        for status in Status:
            counts[status.name.lower()] = sum(1 for o in self.files if o.status is status)
        return counts

    def sheet_tables(self, sheet: str) -> list[Table]:
        return [t for t in self.tables.values() if t.sheet == sheet]


def _sorted_reports(outcomes: list[FileOutcome]) -> list[FileOutcome]:
    """Accepted reports grouped by insats (ordered by the insats' latest name), then by number."""
    accepted = [o for o in outcomes if o.accepted]
    number = {id(o): (o.answers or {}).get("report_number") or 0 for o in accepted}
    names: dict[Any, tuple[int, str]] = {}
    for outcome in accepted:
        current = names.get(outcome.insats)
        if current is None or number[id(outcome)] >= current[0]:
            names[outcome.insats] = (number[id(outcome)], normalise((outcome.answers or {}).get("initiative_name") or ""))
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
) -> Consolidation:
    """The consolidation of results already read (ReadResults with their models, or read_one pairs).

    With `register` (register.read_register's rows) it also says which insatser of the register
    have reported for the period (coverage.py), on the Kontroll sheet and in the exports;
    `register_file`, the file they were read from, is listed with the inputs on the Om sheet."""
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
    decide_statuses(outcomes)
    compare_with_earlier(outcomes, spec)
    consolidation = Consolidation(
        spec=spec,
        tolerance=tolerance,
        inputs=tuple(str(i) for i in inputs),
        started=started or dt.datetime.now(),
        files=outcomes,
        register_file=str(register_file) if register_file is not None else None,
    )
    if register is not None:
        from .coverage import register_coverage  # coverage builds on this module

        consolidation.coverage = register_coverage(consolidation, register)
    reports = _sorted_reports(outcomes)
    latest_by_insats: dict[Any, int] = {}
    for index, outcome in enumerate(reports):
        latest_by_insats[outcome.insats] = index  # sorted by report number: the last one wins
    build_tables(consolidation, reports, list(latest_by_insats.values()))
    return consolidation


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
) -> Consolidation:
    """Find, read and consolidate every file under `inputs` (folders, searched recursively, or files).

    `workers=1` reads in this process; the default uses every core. `progress(done, total)` is
    called as files are read; `meanwhile()` once while they are read (see read_files); `register`
    and `register_file` as for build_consolidation. Raises InputError for an input that does not
    exist.
    """
    spec = spec or default_spec()
    check_tolerance(tolerance)
    inputs = [str(inputs)] if isinstance(inputs, (str, Path)) else [str(i) for i in inputs]
    started = started or dt.datetime.now()
    files = find_input_files(inputs, exclude)
    with batch_gc():
        results = read_files(
            [str(f.path) for f in files], spec, workers=workers, progress=progress, meanwhile=meanwhile
        )
        return build_consolidation(
            results,
            spec=spec,
            tolerance=tolerance,
            names=[f.name for f in files],
            inputs=inputs,
            started=started,
            register=register,
            register_file=register_file,
        )


__all__ = [  # the sheet names, Status and the table classes live in tables.py; importable from here too
    "ABOUT",
    "BUDGET",
    "CONTROL",
    "Column",
    "Consolidation",
    "DEFAULT_TOLERANCE",
    "FileOutcome",
    "HISTORY",
    "InputError",
    "LOCK_FILE_MESSAGE",
    "MAX_CELL_TEXT",
    "OVERVIEW",
    "PARTICIPANTS",
    "PROGRAM",
    "SHEETS",
    "STATUS_PLURAL",
    "Status",
    "TEXTS",
    "TIME_SHARE",
    "Table",
    "build_consolidation",
    "consolidate",
    "find_input_files",
    "read_files",
    "read_one",
]
