"""Receiving one upload, without HTTP: read it, store it if its insats sent it, log it, answer.

Only an insats submits for itself. An upload through an insats' link (`insats=`) is read; when
the reader recognises RAR's Lägesrapport (its form version or its named answer cells) *and* the
file is that insats' report (keys.Insats.owns), it is stored in the inbox — also with errors:
RAR's page then shows it as rejected until a corrected file comes, as `consolidate` does. A file
of another insats is refused with a message naming the link's insats. An upload without a link is
only checked: the same reading and the same receipt, but nothing is stored and nothing counts.
Anything that is not the form (not a workbook, unsafe, damaged, another workbook, a lock file,
too large, no file) is refused and logged with the reader's Swedish message; a refused
submission's bytes are kept in the state folder for audit, never in the inbox.

Every upload gets one row in the upload log and one in the audit log, in the same transaction. A
stored file gets a name of its own (receipt time, the start of its SHA-256, the sanitised
original name), is written atomically and never over another file, with the receipt time as its
modification time. Which copy of a report counts is what happened: the latest received through the
link (`receipt_order`, consolidate/receipts.py); a signing date after the day of receipt is an
error. The same bytes sent again are logged again, stored once, and count again from then.

Every upload ends with a log row, whatever fails (issue 21): a storage error, a full disk, the
log's write lock not to be had, a crash inside the reader — the upload is refused with a Swedish
reason and logged. On a full disk a reserve file in the state folder is given up to make room for
the row; when the log cannot be written at all the row waits as a file in `loggkö/` and is written
with the next upload or at the next start (recovery.py). RAR's page and the master read the log as
a snapshot (`Intake.snapshot`) and never hold its write lock, so an upload waits on neither.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..common.atomic import atomic_path
from ..common.issues import Issue, Severity
from ..consolidate.cache import Known, ReportCache
from ..consolidate.parallel import batch_form
from ..reader.annotate import AnnotateError, write_annotated_copy
from ..reader.read import read_checked
from ..reader.result import ReadResult
from ..reader.rules import signed_after_receipt
from . import fallback
from .auth import new_token
from .keys import Insats
from .limits import make_room
from .logview import LogView, Snapshot
from .names import MAX_STORED_NAME_BYTES, STORED_NAME, safe_name, shown_name
from .receipt import (  # noqa: F401  (the names app.py and the tests use, from here)
    BAD_FORM,
    BAD_KEY,
    EXPIRED_FORM,
    NO_FILE,
    STORAGE_FAILED,
    Outcome,
    Receipt,
    shown_values,
    size_text,
    too_large_message,
)
from .settings import Settings
from .store import Store
from .supersession import supersession

logger = logging.getLogger(__name__)
CACHE_FILE = "rapportcache.sqlite"  # in the state folder: the parsed result of every received upload


def _local(ns: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ns / 1e9).astimezone()


def _identity(values: dict[str, Any]) -> dict[str, Any]:
    """Case number, name and report number as the file has them (parsed answers or raw text)."""
    number = values.get("report_number")
    found: dict[str, Any] = {}
    for key in ("case_number", "initiative_name"):
        value = values.get(key)
        found[key] = str(value).strip() or None if value is not None else None
    found["report_number"] = number if isinstance(number, int) and not isinstance(number, bool) else None
    return found


@dataclass
class _Read:
    """An upload as read, before it is logged."""

    token: str
    file_name: str
    safe: str
    content: bytes
    sha256: str | None
    result: ReadResult
    outcome: Outcome
    annotated: bool = False
    code: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    insats: Insats | None = None  # the link it came through; None: only checked


# --- the intake ----------------------------------------------------------------------------------


class Intake:
    """The inbox, the state folder and the log of one server."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.inbox = settings.inbox
        self.state = settings.state
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.state / "intake.sqlite3")
        self._log_view = LogView(self.inbox)  # the upload log folded row by row, for snapshots
        # Each received upload's parsed result, so that RAR's page and the master open no file the intake
        # has checked. Kept under safety's default limits: a stored file is within the upload limit,
        # which is never above safety's, and reads the same under both.
        self.cache = ReportCache(self.state / CACHE_FILE, settings.spec, warn=logger.warning)
        self.temporary = self.state / "tmp"  # files being written into the inbox: never half in it
        self.incoming = self.state / "mottagning"  # each upload's bytes while they are read
        self.annotated_dir = self.state / "kontrollkopior"
        self.refused_dir = self.state / "avvisade"
        fallback.keep_reserve(self.state, self.temporary)

    # --- receiving -------------------------------------------------------------------------------

    def receive(self, content: bytes, file_name: str | None, *, client: str | None = None,
                insats: Insats | None = None) -> Receipt:
        """Read and log one uploaded file, and store it when `insats` (the link it came through)
        sent its own report; without `insats` it is only checked. Never raises: whatever fails
        (a bad file, the disk, the log's lock, the server itself), the upload is logged, refused
        with a Swedish reason when it could not be taken in."""
        try:
            upload = self._read(content, file_name, insats)
        except Exception as exc:  # noqa: BLE001 - a crash while reading is a refusal, never a bare 500
            logger.exception("Uppladdningen %r kunde inte läsas", file_name)
            code, message = fallback.failure(exc)
            return self.refuse(file_name, code, message, client=client, size=len(content), insats=insats)
        try:
            return self._log(upload, client)
        except Exception as exc:  # noqa: BLE001 - storing or logging failed: refused, with the reason logged
            logger.exception("Uppladdningen %r kunde inte sparas", file_name)
            code, message = fallback.failure(exc)
            return self.refuse(file_name, code, message, client=client, size=len(content), insats=insats,
                               sha256=upload.sha256)

    def snapshot(self, *, pending: bool = True) -> Snapshot:
        """The log as it is now, read in one read transaction without its write lock (no upload
        waits for it), and the inbox files being stored at that moment, which it does not hold
        yet: a reading of the whole inbox (RAR's page, the master) leaves those out, and so agrees
        with the log; it is built again once their rows are in."""
        with self.store.reading() as db, self._log_view.lock:
            (view := self._log_view).catch_up(db)  # only the rows since the last snapshot (logview.py)
            snap = Snapshot(known=dict(view.known), order=view.receipt_order(),
                            last_uploads=view.last_upload_times(), counts=dict(view.counts),
                            change=self.last_change(db), logged=frozenset(view.last_uploads),
                            sent=dict(view.sent), log_id=view.last_id)
        if not pending:  # the caller lists the inbox after this and leaves out what being_stored says
            return snap
        return replace(snap, pending=tuple(self.inbox / name for name in _file_names(self.inbox, snap.logged)
                                           if STORED_NAME.match(name)))

    def stored_since(self, log_id: int) -> set[str]:
        """The stored names of upload rows after the snapshot with `log_id`, to the last snapshot."""
        with self._log_view.lock:
            return self._log_view.stored_since(log_id)

    def refuse(self, file_name: str | None, code: str, message: str, *, client: str | None = None,
               size: int | None = None, insats: Insats | None = None, submitted: bool | None = None,
               sha256: str | None = None) -> Receipt:
        """Log an upload that was not taken in (no file, too large, an expired form, a wrong key, or
        a failure of the server's own). When the log cannot be written, its row waits in the queue
        (loggkö/) and the receipt is answered all the same."""
        name = shown_name(file_name) if file_name else ""
        result = ReadResult(file=name, issues=[Issue(Severity.ERROR, message, code)], size=size, sha256=sha256)
        upload = _Read(new_token(), name, safe_name(name), b"", sha256, result, Outcome.REFUSED, code=code,
                       insats=insats)
        try:
            return self._log(upload, client, submitted=submitted)
        except (sqlite3.Error, OSError) as exc:
            if fallback.disk_full(exc) and fallback.give_up_reserve(self.state):
                try:
                    return self._log(upload, client, submitted=submitted)
                except (sqlite3.Error, OSError):
                    pass
            logger.exception("Loggraden för %s väntar i %s", upload.token, fallback.QUEUE_FOLDER)
            return self._queue(upload, client, submitted)

    def _read(self, content: bytes, file_name: str | None, insats: Insats | None) -> _Read:
        """The reader's verdict on the bytes, whose they are, and the annotated copy (outside the
        log's lock)."""
        token, name, safe = new_token(), shown_name(file_name), safe_name(file_name)
        folder = self.incoming / token
        folder.mkdir(parents=True)
        path = folder / safe  # the reader sees the sent name: it recognises lock files by it
        try:
            path.write_bytes(content)
            result, check = read_checked(path, self.settings.spec, limits=self.settings.limits)
            result = replace(result, file=name)
            recognised = bool(result.values) and not result.skipped  # the form's cells were found
            upload = _Read(token, name, safe, content, result.sha256 or _sha256(content), result, Outcome.REFUSED,
                           insats=insats)
            if not recognised:
                upload.code = (result.errors or result.issues)[0].code if result.issues else "not_a_report"
                return upload
            answers = result.report.answers() if result.report is not None else dict(result.values)
            if insats is not None and not insats.owns(answers):
                upload.code = "wrong_insats"
                upload.result = replace(result, issues=[Issue(Severity.ERROR, insats.refusal(answers), "wrong_insats"),
                                                        *result.issues])
                return upload
            if insats is not None:
                self.cache.keep([batch_form(result)])  # the content alone, as consolidate reads it
            upload.result = result = _with_receipt_date(result, answers, self.settings)
            upload.answers = answers
            upload.outcome = Outcome.HAS_ERRORS if result.errors else Outcome.RECEIVED
            try:  # only files safety let through are unpacked again for the copy
                write_annotated_copy(path, result, self.annotated_dir / token, self.settings.spec, check=check)
                upload.annotated = True
            except (AnnotateError, OSError):
                pass  # the receipt simply offers no copy
            return upload
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _log(self, upload: _Read, client: str | None, *, submitted: bool | None = None) -> Receipt:
        """Store (if submitted, received and new) and log, as one step under the write lock. A
        file stored in a step that then fails is taken out of the inbox again."""
        self.write_queued()
        submitted = upload.insats is not None if submitted is None else submitted
        stored: Path | None = None
        try:
            with self.store.writing() as db:
                last = db.execute("SELECT MAX(received_ns) FROM uploads").fetchone()[0] or 0
                now = max(time.time_ns(), last + 1000)  # strictly increasing, also as a float mtime
                stored_name, duplicate_of, already = None, None, None
                supersedes: tuple[str, ...] = ()
                superseded_by, reason = None, ""
                if upload.outcome is not Outcome.REFUSED and submitted:
                    first = db.execute(
                        "SELECT id, stored_name, received_ns FROM uploads WHERE sha256 = ? AND stored_name IS NOT NULL "
                        "AND duplicate_of IS NULL", (upload.sha256,)).fetchone()
                    if first is not None:
                        stored_name, duplicate_of, already = first["stored_name"], first["id"], _local(first["received_ns"])
                    else:
                        stored_name = self._store(upload, now)
                        stored = self.inbox / stored_name
                elif upload.content and submitted:
                    self._keep_refused(upload, now, db)
                if upload.outcome is Outcome.RECEIVED and stored_name is not None:
                    supersedes, superseded_by, reason = supersession(
                        db, stored_name, upload.sha256, upload.answers, now, upload.insats.key if upload.insats else None)
                receipt = self._receipt(upload, now, submitted, stored_name=stored_name, already_received=already,
                                        supersedes=supersedes, superseded_by=superseded_by, superseded_reason=reason)
                fallback.write_rows(db, _rows(upload, receipt, now, client, duplicate_of))
        except BaseException:
            if stored is not None:
                stored.unlink(missing_ok=True)
            raise
        if upload.outcome is not Outcome.REFUSED:  # a file was read and logged: there is room again
            fallback.keep_reserve(self.state, self.temporary)
        return receipt

    def _receipt(self, upload: _Read, now: int, submitted: bool, **stored: Any) -> Receipt:
        insats = upload.insats
        return Receipt(
            token=upload.token,
            received=_local(now),
            file_name=upload.file_name,
            outcome=upload.outcome,
            result=upload.result.to_json(),
            shown=shown_values(upload.result),
            size=upload.result.size if upload.result.size is not None else len(upload.content) or None,
            sha256=upload.sha256,
            annotated=upload.annotated,
            code=upload.code,
            submitted=submitted,
            insats=insats.title if insats is not None else None,
            **stored,
            **_identity(upload.answers or upload.result.values),
        )

    def _store(self, upload: _Read, now: int) -> str:
        """Write the file into the inbox under a new name, with the receipt time as its mtime."""
        stamp = _local(now).strftime("%Y%m%d-%H%M%S")
        name = f"{stamp}_{upload.sha256[:12]}_{upload.safe}"
        target = self.inbox / name
        if target.exists():  # cannot happen (the name holds the time and the hash), never overwrite
            raise FileExistsError(target)
        with atomic_path(target, temporary_folder=self.temporary) as tmp:
            tmp.write_bytes(upload.content)
            os.utime(tmp, ns=(now, now))
        return name

    def _keep_refused(self, upload: _Read, now: int, db: Any) -> None:
        """Keep a refused submission's bytes for audit, within the cap of all kept (the oldest go,
        logged), and when there is room: the row matters more."""
        try:
            make_room(self.refused_dir, len(upload.content), self.settings.guard.refused_files_bytes, db)
        except OSError as exc:
            logger.warning("Plats för den avvisade filen %s kunde inte göras: %s", upload.file_name, exc)
        target = self.refused_dir / f"{_local(now).strftime('%Y%m%d-%H%M%S')}_{upload.token[:8]}_{upload.safe}"
        try:
            with atomic_path(target, temporary_folder=self.temporary) as tmp:
                tmp.write_bytes(upload.content)
        except OSError as exc:
            logger.warning("Den avvisade filen %s sparades inte: %s", upload.file_name, exc)

    # --- when the log cannot be written (fallback.py) -----------------------------------------------

    def _queue(self, upload: _Read, client: str | None, submitted: bool | None) -> Receipt:
        """The refusal's receipt, its rows kept in loggkö/ until the log can take them."""
        submitted = upload.insats is not None if submitted is None else submitted
        now = time.time_ns()
        receipt = self._receipt(upload, now, submitted)
        fallback.queue(self.state, self.temporary, upload.token, now, _rows(upload, receipt, now, client, None))
        return receipt

    def write_queued(self) -> int:
        """Write the rows waiting in loggkö/ (before every upload's own row, and at start)."""
        return fallback.write_queued(self.store, self.state)

    # --- looking up ------------------------------------------------------------------------------

    @contextmanager
    def _reading(self, db: sqlite3.Connection | None) -> Iterator[sqlite3.Connection]:
        """`db` (a snapshot's transaction) when given, else a connection of its own."""
        if db is not None:
            yield db
            return
        with self.store.connect() as own:
            yield own

    def receipt(self, token: str) -> Receipt | None:
        with self.store.connect() as db:
            row = db.execute("SELECT receipt FROM uploads WHERE token = ?", (token,)).fetchone()
        queued = fallback.queued_receipt(self.state, token) if row is None else json.loads(row["receipt"])
        return Receipt.from_json(queued) if queued is not None else None

    def annotated_copy(self, token: str) -> Path | None:
        """The annotated copy of an upload, by its receipt's token (None when there is none)."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", token):
            return None
        copies = sorted((self.annotated_dir / token).glob("*.xlsx"))
        return copies[0] if copies else None

    def stored_file(self, token: str) -> tuple[Path, str] | None:
        """The inbox file an upload was stored as, and the name it was sent with (for RAR's download)."""
        with self.store.connect() as db:
            row = db.execute("SELECT stored_name, file_name FROM uploads WHERE token = ? AND stored_name IS NOT NULL",
                             (token,)).fetchone()
        if row is None or not (self.inbox / row["stored_name"]).is_file():
            return None
        return self.inbox / row["stored_name"], row["file_name"] or row["stored_name"]

    def insats_of(self, token: str) -> str | None:
        """The insats (keys.Insats.key) whose link an upload came through; None for a check."""
        with self.store.connect() as db:
            row = db.execute("SELECT insats FROM uploads WHERE token = ?", (token,)).fetchone()
        return row["insats"] if row else None

    def last_uploads(self, db: sqlite3.Connection | None = None) -> dict[str, dt.datetime]:
        """Stored file name → the last time it was uploaded (its first upload or a re-upload)."""
        with self._reading(db) as db:
            rows = db.execute(
                "SELECT stored_name, MAX(received_ns) AS last FROM uploads WHERE stored_name IS NOT NULL "
                "GROUP BY stored_name").fetchall()
        return {row["stored_name"]: _local(row["last"]) for row in rows}

    def uploads_of(self, insats: str) -> list[Receipt]:
        """Every upload sent through the insats' links, newest first."""
        with self.store.connect() as db:
            rows = db.execute("SELECT receipt FROM uploads WHERE insats = ? ORDER BY id DESC", (insats,)).fetchall()
        return [Receipt.from_json(json.loads(row["receipt"])) for row in rows]

    def known_files(self, db: sqlite3.Connection | None = None) -> dict[str, Known]:
        """Each file the intake stored in the inbox (path as the consolidation lists it) with its
        SHA-256, size and time from the log: files it vouches for need not be hashed again."""
        with self._reading(db) as db:
            rows = db.execute(
                "SELECT stored_name, sha256, size, received_ns FROM uploads WHERE stored_name IS NOT NULL "
                "AND duplicate_of IS NULL AND sha256 IS NOT NULL AND size IS NOT NULL").fetchall()
        return {str(self.inbox / row["stored_name"]): Known(row["sha256"], row["size"], row["received_ns"])
                for row in rows}

    def last_change(self, db: sqlite3.Connection | None = None) -> tuple[int, int, int]:
        """The logs' last row ids: RAR's page is built again only after one of them or the inbox changed."""
        with self._reading(db) as db:
            return tuple(db.execute(  # type: ignore[return-value]
                "SELECT (SELECT COALESCE(MAX(id), 0) FROM uploads), (SELECT COALESCE(MAX(id), 0) FROM reviews), "
                "(SELECT COALESCE(MAX(id), 0) FROM insats_keys) + (SELECT COUNT(revoked_ns) FROM insats_keys)"
            ).fetchone())

    def counts(self, db: sqlite3.Connection | None = None) -> dict[str, int]:
        """Submissions by outcome, duplicates, the files stored in the inbox, the checks without a
        link (which store nothing) and the files found in the inbox at a start (recovery.py), from
        the log."""
        with self._reading(db) as db:
            row = db.execute(
                "SELECT COALESCE(SUM(mode IS NULL OR mode = 'link'), 0) AS uploads, "
                "COALESCE(SUM(outcome = 'received' AND (mode IS NULL OR mode = 'link')), 0) AS received, "
                "COALESCE(SUM(outcome = 'has_errors' AND (mode IS NULL OR mode = 'link')), 0) AS has_errors, "
                "COALESCE(SUM(outcome = 'refused' AND (mode IS NULL OR mode = 'link')), 0) AS refused, "
                "COALESCE(SUM(duplicate_of IS NOT NULL), 0) AS duplicates, "
                "COALESCE(SUM(stored_name IS NOT NULL AND duplicate_of IS NULL), 0) AS stored, "
                "COALESCE(SUM(mode = 'check'), 0) AS checks, "
                "COALESCE(SUM(mode = 'found'), 0) AS found "
                "FROM uploads").fetchone()
        return dict(row)


def receipt_order(db: Any) -> dict[str, dt.datetime]:
    """sha256 → the last time those bytes were received and stored (through a link; before links,
    through the open page), local time: what decides which copy counts (consolidate/receipts.py)."""
    rows = db.execute(
        "SELECT sha256, MAX(received_ns) AS last FROM uploads WHERE stored_name IS NOT NULL "
        "AND outcome != 'refused' GROUP BY sha256").fetchall()
    return {row["sha256"]: dt.datetime.fromtimestamp(row["last"] / 1e9) for row in rows}


def _rows(upload: _Read, receipt: Receipt, now: int, client: str | None,
          duplicate_of: int | None) -> tuple[list[Any], dict[str, Any]]:
    """An upload's row in the upload log and its audit row's fields (plain data: a queued row is JSON)."""
    insats, signed = upload.insats, upload.answers.get("signed_date")
    upload_row = [
        upload.token, now, upload.file_name, receipt.size, upload.sha256, upload.outcome.value, upload.code,
        receipt.stored_name, duplicate_of, receipt.case_number, receipt.initiative_name, receipt.report_number,
        signed.isoformat() if isinstance(signed, dt.date) else None, client,
        json.dumps(receipt.to_json(), ensure_ascii=False), "link" if receipt.submitted else "check",
        insats.key if insats else None, insats.key_id if insats else None,
    ]
    audit_fields = {
        "action": "upload" if receipt.submitted else "check", "at_ns": now,
        "insats": insats.key if insats else None, "insats_title": insats.title if insats else None,
        "key_id": insats.key_id if insats else None, "client": client, "sha256": upload.sha256,
        "verdict": receipt.verdict, "detail": _audit_detail(receipt),
    }
    return upload_row, audit_fields


def _file_names(folder: Path, but: frozenset[str] = frozenset()) -> list[str]:
    """The regular files in `folder` but `but` (the log's names: RAR's page stats only the others)."""
    try:
        return [name for name in os.listdir(folder) if name not in but and os.path.isfile(os.path.join(folder, name))]
    except OSError:
        return []


def _sha256(content: bytes) -> str | None:
    return hashlib.sha256(content).hexdigest() if content else None


def _with_receipt_date(result: ReadResult, answers: dict[str, Any], settings: Settings) -> ReadResult:
    """The result with an error when the report is signed after today, the day of its receipt."""
    signed, today = answers.get("signed_date"), dt.date.today()
    if type(signed) is not dt.date or signed <= today:  # a raw value of a file with errors is left alone
        return result
    return replace(result, issues=[*result.issues, signed_after_receipt(signed, today, settings.spec)])


def _audit_detail(receipt: Receipt) -> str:
    """The audit row's detail: the file, the report, and what became of it."""
    parts = [f"fil: {receipt.file_name or '–'}"]
    if receipt.report_number is not None:
        parts.append(f"rapport nr {receipt.report_number}")
    if receipt.stored_name:
        parts.append(f"sparad som {receipt.stored_name}")
    if receipt.already_received:
        parts.append("samma innehåll fanns redan")
    if receipt.code:
        parts.append(f"skäl: {receipt.code}")
    if receipt.supersedes:
        parts.append(f"ersätter {', '.join(receipt.supersedes)}")
    return "; ".join(parts)



