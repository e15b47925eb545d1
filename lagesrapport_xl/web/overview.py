"""RAR's page as data: who has reported, from the inbox as `consolidate --state` sees it, and the master.

The states come from `coverage.register_coverage` over the same statuses as `consolidate(inbox,
receipts=…)` — the same rule (the latest received through the insats' link counts), the same texts
as the Kontroll sheet — and the last upload times, the receipts and RAR's reviews from the server's
log. Without a register, the rows are the insatser and report numbers found in the inbox.

Nothing the intake has received is opened again: each upload's parsed result went into the
intake's cache as it arrived (consolidate/cache.py), the page takes each file's few facts from
it (consolidate/file_states.py) and the log vouches for each stored file's SHA-256. The page and
the master read the log as a snapshot (Intake.snapshot), never under its write lock: an upload
never waits for them. The page is built once per change and kept (_Memo). The master is written in
a fresh process from the cache's full results, with the command's writer, atomically, in the state
folder, and packed in a zip with the files it counts, which its links open (pack_master).
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import json
import logging
import operator
import os
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..consolidate.batch import DEFAULT_TOLERANCE, consolidate
from ..consolidate.cache import Known, ReportCache
from ..consolidate.consolidation import Consolidation
from ..consolidate.coverage import (
    Coverage,
    CoverageReport,
    RegisterCoverage,
)
from ..consolidate.file_states import FileStates
from ..consolidate.receipts import Receipts, Review
from ..consolidate.statuses import STATUS_PLURAL, FileOutcome, Status
from ..form.spec import FormSpec
from ..master.writer import write_master
from ..reader.register import RegisterError, RegisterRow, read_register
from . import review
from .background import run_in_background
from .intake import Intake, receipt_order
from .keys import Insats, KeyState, active_keys
from .store import Store

logger = logging.getLogger(__name__)

MASTER_FOLDER = "sammanstallningar"


@dataclass(frozen=True)
class InsatsRow:
    """One register row (or one insats and report found in the inbox), when it last uploaded, and
    RAR's review of the report that counts."""

    coverage: RegisterCoverage
    last_upload: dt.datetime | None
    insats: Insats | None = None
    review: Review | None = None  # of the file that counts (None: no file counts)
    link: KeyState | None = None  # the insats' active link

    @property
    def state(self) -> Coverage:
        return self.coverage.state

    @functools.cached_property
    def json_bytes(self) -> bytes:
        """to_json encoded, once per row: a page build keeps the rows no upload touched, so status.json
        after an upload encodes the new rows only (all 6 400 took 60–90 ms a build, under uploads)."""
        return _encode(self.to_json())

    def to_json(self) -> dict[str, Any]:
        c = self.coverage
        return {
            "row": c.row,
            "case_number": c.case_number,
            "initiative_name": c.initiative_name,
            "report_number": c.report_number,
            "period_start": c.period_start.isoformat() if c.period_start else None,
            "period_end": c.period_end.isoformat() if c.period_end else None,
            "state": c.state.name.lower(),
            "state_text": c.state.value,
            "accepted": c.accepted,
            "superseded": list(c.superseded),
            "rejected": list(c.rejected),
            "other_periods": list(c.other_periods),
            "last_upload": self.last_upload.isoformat() if self.last_upload else None,
            "insats": self.insats.key if self.insats else None,
            "review": self.review.value if self.review else None,
            "link_issued": self.link is not None,
        }


@dataclass(frozen=True)
class Overview:
    rows: list[InsatsRow]
    unmatched: tuple[str, ...]  # files in the inbox that belong to no row
    files: dict[str, int]  # the consolidation's counts: found, accepted, warnings, superseded …
    uploads: dict[str, int]  # the log's counts (Intake.counts)
    from_register: bool
    register_problems: list[str] = field(default_factory=list)
    outcomes: dict[str, FileOutcome] = field(default_factory=dict)  # every file in the inbox, by name
    receipts: Receipts | None = None  # what the statuses were decided by (the log's receipts, reviews)
    taken: dt.datetime | None = None  # when the log's snapshot was taken: the page says so

    def reviews(self) -> dict[Review, int]:
        """How many counted reports are in each review state."""
        return dict(self._review_counts)

    @functools.cached_property
    def _review_counts(self) -> dict[Review, int]:  # once per build: each view shows them
        found = [row.review for row in self.rows if row.review is not None]
        return {review: found.count(review) for review in Review}

    @functools.cached_property
    def states(self) -> dict[Coverage, int]:  # once per build, in one pass (each view shows them)
        found = collections.Counter(row.state for row in self.rows)
        return {state: found[state] for state in Coverage}

    @functools.cached_property
    def json_bytes(self) -> bytes:
        """to_json as the status JSON sends it (as Starlette's JSONResponse encodes), made once per
        page build from each row's own encoding: RAR's status.json is asked for far more often than
        the page changes."""
        head, tail = self._head(), self._tail()
        rows = b",".join(row.json_bytes for row in self.rows)
        return b"".join((_encode(head)[:-1], b',"rows":[', rows, b"],", _encode(tail)[1:]))

    def to_json(self) -> dict[str, Any]:
        return {**self._head(), "rows": [row.to_json() for row in self.rows], **self._tail()}

    def _head(self) -> dict[str, Any]:
        return {
            "from_register": self.from_register,
            "register_problems": self.register_problems,
            "states": {state.name.lower(): count for state, count in self.states.items()},
            "files": self.files,
            "uploads": self.uploads,
        }

    def _tail(self) -> dict[str, Any]:
        return {
            "unmatched": list(self.unmatched),
            "reviews": {review.name.lower(): count for review, count in self.reviews().items()},
        }


def _encode(value: Any) -> bytes:
    """JSON as Starlette's JSONResponse encodes it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")


FILE_COUNT_LABELS = {status.name.lower(): STATUS_PLURAL[status] for status in Status}  # the keys of `files`


_REGISTERS: dict[tuple[Any, ...], tuple[list[RegisterRow] | None, list[str]]] = {}
_REGISTERS_LOCK = threading.Lock()


def register_rows(settings: Any) -> tuple[list[RegisterRow] | None, list[str]]:
    """The register's rows (None without a register, or when it cannot be read) and its problems
    as texts; read again whenever the file's size or time changes, so that RAR may edit it while
    the server runs (reading a register of 1 600 rows takes 1.5 s: not on every page build)."""
    if settings.register is None:
        return None, []
    key = (str(settings.register), _stat_key(settings.register), settings.spec.fingerprint)
    with _REGISTERS_LOCK:
        kept = _REGISTERS.get(key)
    if kept is not None:
        return kept
    try:
        rows, found = read_register(settings.register, settings.spec)
        answer: tuple[list[RegisterRow] | None, list[str]] = (rows, [str(p) for p in found])
    except (RegisterError, OSError) as exc:
        return None, [f"Registret {settings.register.name} kan inte läsas: {exc}"]
    with _REGISTERS_LOCK:
        _REGISTERS.clear()  # one register per server: keep the latest only
        _REGISTERS[key] = answer
    return answer


@dataclass(frozen=True)
class _Shown:
    """The rows of the last page built, and what they were worked out from: a row whose coverage is
    the same object (FileStates keeps an unchanged row's), whose files had no upload since, under
    the same reviews and links, is shown as it was."""

    coverage: tuple[RegisterCoverage, ...]
    rows: list[InsatsRow]
    reviews: dict[str, Review]
    links: dict[str, KeyState]
    log_id: int


class _Memo:
    """The last page built, and what it was built from: it is built again when the log has a new
    row, the inbox's listing or the register changed, or a minute has passed (a file changed in
    place by hand shows within the minute)."""

    def __init__(self) -> None:
        self.key: tuple[Any, ...] | None = None
        self.overview: Overview | None = None
        self.states: FileStates | None = None  # the files' facts, kept between builds
        self.shown: _Shown | None = None
        self.built: float = 0.0  # time.monotonic() when the kept overview's snapshot was taken
        self.lock = threading.Lock()


_MEMOS: dict[Path, _Memo] = {}
_MEMOS_LOCK = threading.Lock()
MEMO_SECONDS = 60


def _stat_key(path: Path | None) -> tuple[int, int] | None:
    try:
        stat = path.stat() if path is not None else None
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size) if stat is not None else None


def _memo_of(intake: Intake) -> _Memo:
    with _MEMOS_LOCK:
        return _MEMOS.setdefault(intake.settings.state, _Memo())


def kept_overview(intake: Intake, good_for: float) -> Overview | None:
    """The last overview built, if it is at most `good_for` seconds old, whatever came since; else
    None. Takes no lock and builds nothing (priority.py: RAR's view while uploads keep arriving)."""
    memo = _memo_of(intake)
    overview = memo.overview
    if good_for > 0 and overview is not None and time.monotonic() - memo.built <= good_for:
        return overview
    return None


def build_overview(intake: Intake) -> Overview:
    """RAR's page, from the cache's facts and the log: no file the intake received is opened.
    Built once per change (see _Memo); a page view meanwhile costs only the rendering."""
    settings = intake.settings
    memo = _memo_of(intake)
    with memo.lock:  # one build at a time; the others wait for it and take it
        key = (intake.last_change(), _stat_key(settings.inbox), _stat_key(settings.register),
               int(time.monotonic() // MEMO_SECONDS))
        if memo.key != key or memo.overview is None:
            built = time.monotonic()
            memo.overview, memo.key = _build_overview(intake, memo), key
            memo.built = built
        return memo.overview


def server_receipts(intake: Intake, *, approved_only: bool = False) -> Receipts:
    """The log's account for the consolidation: receipt order and RAR's reviews."""
    return store_receipts(intake.store, approved_only=approved_only)


def store_receipts(store: Store, *, approved_only: bool = False) -> Receipts:
    """The same from a server's database alone (`lagesrapport consolidate --state DIR`), with the
    name each stored file was sent under (the master names files by it)."""
    with store.connect() as db:
        received = receipt_order(db)
        sent = {row["stored_name"]: row["file_name"] for row in db.execute(
            "SELECT stored_name, file_name FROM uploads WHERE stored_name IS NOT NULL AND duplicate_of IS NULL "
            "AND file_name != '' ORDER BY id")}
    return Receipts(received, review.current(store), approved_only, sent)


def _build_overview(intake: Intake, memo: _Memo) -> Overview:
    settings = intake.settings
    register, problems = register_rows(settings)
    if memo.states is None or memo.states.cache is not intake.cache:
        memo.states = FileStates(settings.spec, intake.cache, tolerance=DEFAULT_TOLERANCE)
    taken = dt.datetime.now().replace(microsecond=0)
    snapshot = intake.snapshot(pending=False)  # the log at one moment, without its write lock: uploads go on
    receipts = Receipts(snapshot.order, review.current(intake.store), sent=snapshot.sent)
    consolidation = memo.states.build([settings.inbox], known=snapshot.known, receipts=receipts,
                                      leave_out=snapshot.being_stored, register=register,
                                      cover_inbox=settings.register is None)
    last, uploads = snapshot.last_uploads, snapshot.counts
    links = active_keys(intake.store)
    # the register's rows, or without one the inbox's insatser, worked out again where files changed; an
    # unreadable register leaves its table empty, under the problem
    report = consolidation.coverage if consolidation.coverage is not None else CoverageReport((), ())
    outcomes = dict(zip(map(operator.attrgetter("name"), consolidation.files), consolidation.files))
    reviews = receipts.reviews
    shown = memo.shown
    if shown is None or consolidation.coverage is None or shown.reviews != reviews or shown.links != links:
        before, again = {}, set()
    else:  # the rows whose files or last uploads changed; the others are shown as they were
        before = {id(coverage): row for coverage, row in zip(shown.coverage, shown.rows)}  # kept alive by `shown`
        again = {memo.states.row_of(str(settings.inbox / name)) for name in intake.stored_since(shown.log_id)}
    insats_rows = []
    for index, row in enumerate(report.rows):
        kept = before.get(id(row))
        if kept is not None and index not in again:
            insats_rows.append(kept)
            continue
        names = [row.accepted, *row.superseded, *row.rejected, *row.other_periods]
        times = [last[name] for name in names if name in last]
        insats = _insats_of(row.case_number, row.initiative_name)
        counted = receipts.review_of(outcomes[row.accepted]) if row.accepted else None
        insats_rows.append(InsatsRow(row, max(times) if times else None, insats, counted,
                                     links.get(insats.key) if insats else None))
    memo.shown = _Shown(report.rows, insats_rows, reviews, links, snapshot.log_id)
    return Overview(
        rows=insats_rows,
        unmatched=report.unmatched,
        files=memo.states.counts,
        uploads=uploads,
        from_register=settings.register is not None,
        register_problems=problems,
        outcomes=outcomes,
        receipts=receipts,
        taken=taken,
    )


def _insats_of(case_number: Any, initiative_name: Any) -> Insats | None:
    try:
        return _known_insats(case_number, initiative_name)
    except TypeError:  # a value that cannot be a key
        return Insats.of({"case_number": case_number, "initiative_name": initiative_name})


@functools.lru_cache(maxsize=1 << 14)  # the same register rows on every build: 1 600 rows cost 20 ms a build
def _known_insats(case_number: Any, initiative_name: Any) -> Insats | None:
    return Insats.of({"case_number": case_number, "initiative_name": initiative_name})


@dataclass(frozen=True)
class MasterJob:
    """What the process that writes the master needs; plain data, sent to a fresh process."""

    inbox: Path
    spec: FormSpec
    cache: Path
    known: dict[str, Known]
    register: list[RegisterRow] | None
    register_file: Path | None
    target_folder: Path
    receipts: Receipts | None = None
    pending: tuple[Path, ...] = ()  # files being stored as the job began: not in its log snapshot


def master_job(intake: Intake, target_folder: Path, *, approved_only: bool) -> MasterJob:
    """The inputs of the master (and of the board report) as the log has them at this moment:
    read without the log's write lock, so uploads go on while the job runs."""
    settings = intake.settings
    register, _problems = register_rows(settings)  # shown on RAR's page; the Kontroll sheet has the rows
    snapshot = intake.snapshot()
    return MasterJob(
        inbox=settings.inbox, spec=settings.spec, cache=intake.cache.path, known=snapshot.known,
        register=register, register_file=settings.register if register is not None else None,
        target_folder=target_folder,
        receipts=Receipts(snapshot.order, review.current(intake.store), approved_only, snapshot.sent),
        pending=snapshot.pending,
    )


def write_master_workbook(intake: Intake, *, approved_only: bool = False) -> Path | None:
    """The master workbook of the inbox, as `lagesrapport consolidate INBOX --state STATE -o …
    [--register R] [--approved-only]` writes it (None when the inbox has no file, where the command
    writes nothing either).

    Written in a fresh process at the lowest priority (background.py), single-threaded like the
    command, so that it may use the command's parallel writer; it reads the parsed reports from
    the intake's cache, so it opens no file the intake has already checked."""
    job = master_job(intake, intake.settings.state / MASTER_FOLDER, approved_only=approved_only)
    written = run_in_background(run_master_job, job)
    return Path(written) if written is not None else None


def run_master_job(job: MasterJob) -> str | None:
    """In the master's own process: the consolidation from the cache, then the command's writer;
    returns the zip of the master and the files it counts (pack_master)."""
    with ReportCache(job.cache, job.spec, warn=logger.warning) as cache:
        consolidation = consolidate([job.inbox], spec=job.spec, workers=1, register=job.register,
                                    register_file=job.register_file, cache=cache, known=job.known,
                                    receipts=job.receipts, exclude=job.pending)
    if not consolidation.files:
        return None
    stamp = consolidation.started.strftime("%Y%m%d-%H%M%S-%f")
    target = job.target_folder / f"sammanstallning_{stamp}.xlsx"
    write_master(consolidation, target, keep_formulas=False, files_folder=FILES_FOLDER)
    return str(pack_master(consolidation, target))


FILES_FOLDER = "inkorg"  # the counted files' folder in the master's zip


def pack_master(consolidation: Consolidation, master: Path) -> Path:
    """The master and every file it counts (the master's links point at them: FILES_FOLDER/<stored
    name>), in a zip beside the master: unpacked anywhere, each link opens its file. Written to a
    temporary name first, so a half-written zip is never offered."""
    receipts = consolidation.receipts
    counted = [o for o in consolidation.files if o.accepted and (receipts is None or receipts.included(o))]
    target = master.with_suffix(".zip")
    partial = master.with_suffix(".zip.tmp")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as packed:  # .xlsx files are deflated already
        packed.write(master, master.name)
        for outcome in counted:
            packed.write(outcome.result.file, f"{FILES_FOLDER}/{outcome.name.replace(os.sep, '/')}")
    os.replace(partial, target)
    return target
