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
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..common.atomic import atomic_path
from ..common.issues import Issue, Severity
from ..consolidate.cache import Known, ReportCache
from ..consolidate.parallel import batch_form
from ..consolidate.statuses import FileOutcome, Status, decide_statuses
from ..reader.annotate import AnnotateError, write_annotated_copy
from ..reader.read import read_report
from ..reader.result import ReadResult
from ..reader.rules import signed_after_receipt
from . import audit
from .auth import new_token
from .keys import Insats
from .limits import make_room
from .names import MAX_STORED_NAME_BYTES, safe_name, shown_name
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

logger = logging.getLogger(__name__)
CACHE_FILE = "rapportcache.sqlite"  # in the state folder: the parsed result of every received upload
IDENTITY = ("case_number", "initiative_name", "report_number", "signed_date")


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
        # Each received upload's parsed result, so that RAR's page and the master open no file the intake
        # has checked. Kept under safety's default limits: a stored file is within the upload limit,
        # which is never above safety's, and reads the same under both.
        self.cache = ReportCache(self.state / CACHE_FILE, settings.spec, warn=logger.warning)
        self.temporary = self.state / "tmp"  # files being written into the inbox: never half in it
        self.incoming = self.state / "mottagning"  # each upload's bytes while they are read
        self.annotated_dir = self.state / "kontrollkopior"
        self.refused_dir = self.state / "avvisade"

    # --- receiving -------------------------------------------------------------------------------

    def receive(self, content: bytes, file_name: str | None, *, client: str | None = None,
                insats: Insats | None = None) -> Receipt:
        """Read and log one uploaded file, and store it when `insats` (the link it came through)
        sent its own report; without `insats` it is only checked. Never raises for a bad file.
        When the inbox cannot be written (a full disk), the upload is logged as refused, with that
        reason."""
        upload = self._read(content, file_name, insats)
        try:
            return self._log(upload, client)
        except OSError:
            return self.refuse(file_name, "storage_failed", STORAGE_FAILED, client=client, size=len(content),
                               insats=insats)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Hold the log's write lock: meanwhile no upload is stored, so that a reading of the whole
        inbox (RAR's page, the master) sees no half-written file and agrees with the log."""
        with self.store.writing():
            yield

    def refuse(self, file_name: str | None, code: str, message: str, *, client: str | None = None,
               size: int | None = None, insats: Insats | None = None, submitted: bool | None = None) -> Receipt:
        """Log an upload that never reached the reader (no file, too large, an expired form, a
        wrong key)."""
        name = shown_name(file_name) if file_name else ""
        result = ReadResult(file=name, issues=[Issue(Severity.ERROR, message, code)], size=size)
        upload = _Read(new_token(), name, safe_name(name), b"", None, result, Outcome.REFUSED, code=code,
                       insats=insats)
        return self._log(upload, client, submitted=submitted)

    def _read(self, content: bytes, file_name: str | None, insats: Insats | None) -> _Read:
        """The reader's verdict on the bytes, whose they are, and the annotated copy (outside the
        log's lock)."""
        token, name, safe = new_token(), shown_name(file_name), safe_name(file_name)
        folder = self.incoming / token
        folder.mkdir(parents=True)
        path = folder / safe  # the reader sees the sent name: it recognises lock files by it
        try:
            path.write_bytes(content)
            result = replace(read_report(path, self.settings.spec, limits=self.settings.limits), file=name)
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
                write_annotated_copy(path, result, self.annotated_dir / token, self.settings.spec)
                upload.annotated = True
            except (AnnotateError, OSError):
                pass  # the receipt simply offers no copy
            return upload
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _log(self, upload: _Read, client: str | None, *, submitted: bool | None = None) -> Receipt:
        """Store (if submitted, received and new) and log, as one step under the write lock."""
        identity = _identity(upload.answers or upload.result.values)
        insats = upload.insats
        submitted = insats is not None if submitted is None else submitted
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
            elif upload.content and submitted:
                self._keep_refused(upload, now, db)
            if upload.outcome is Outcome.RECEIVED and stored_name is not None:
                supersedes, superseded_by, reason = _supersession(db, stored_name, upload, now)
            receipt = Receipt(
                token=upload.token,
                received=_local(now),
                file_name=upload.file_name,
                outcome=upload.outcome,
                result=upload.result.to_json(),
                shown=shown_values(upload.result),
                size=upload.result.size if upload.result.size is not None else len(upload.content) or None,
                sha256=upload.sha256,
                stored_name=stored_name,
                already_received=already,
                supersedes=supersedes,
                superseded_by=superseded_by,
                superseded_reason=reason,
                annotated=upload.annotated,
                code=upload.code,
                submitted=submitted,
                insats=insats.title if insats is not None else None,
                **identity,
            )
            signed = upload.answers.get("signed_date")
            db.execute(
                "INSERT INTO uploads (token, received_ns, file_name, size, sha256, outcome, code, stored_name, "
                "duplicate_of, case_number, initiative_name, report_number, signed_date, client, receipt, mode, "
                "insats, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (upload.token, now, upload.file_name, receipt.size, upload.sha256, upload.outcome.value, upload.code,
                 stored_name, duplicate_of, identity["case_number"], identity["initiative_name"],
                 identity["report_number"], signed.isoformat() if isinstance(signed, dt.date) else None, client,
                 json.dumps(receipt.to_json(), ensure_ascii=False), "link" if submitted else "check",
                 insats.key if insats else None, insats.key_id if insats else None),
            )
            audit.record(
                db, "upload" if submitted else "check", at_ns=now, insats=insats.key if insats else None,
                insats_title=insats.title if insats else None, key_id=insats.key_id if insats else None,
                client=client, sha256=upload.sha256, verdict=receipt.verdict,
                detail=_audit_detail(receipt),
            )
        return receipt

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
        """Keep a refused submission's bytes for audit, within the cap of all kept (the oldest go, logged)."""
        make_room(self.refused_dir, len(upload.content), self.settings.guard.refused_files_bytes, db)
        target = self.refused_dir / f"{_local(now).strftime('%Y%m%d-%H%M%S')}_{upload.token[:8]}_{upload.safe}"
        with atomic_path(target) as tmp:
            tmp.write_bytes(upload.content)

    # --- looking up ------------------------------------------------------------------------------

    def receipt(self, token: str) -> Receipt | None:
        with self.store.connect() as db:
            row = db.execute("SELECT receipt FROM uploads WHERE token = ?", (token,)).fetchone()
        return Receipt.from_json(json.loads(row["receipt"])) if row else None

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

    def last_uploads(self) -> dict[str, dt.datetime]:
        """Stored file name → the last time it was uploaded (its first upload or a re-upload)."""
        with self.store.connect() as db:
            rows = db.execute(
                "SELECT stored_name, MAX(received_ns) AS last FROM uploads WHERE stored_name IS NOT NULL "
                "GROUP BY stored_name").fetchall()
        return {row["stored_name"]: _local(row["last"]) for row in rows}

    def receipt_order(self) -> dict[str, dt.datetime]:
        """sha256 → the last time those bytes were received and stored (through a link; before
        links, through the open page): what decides which copy counts (consolidate/receipts.py)."""
        with self.store.connect() as db:
            return receipt_order(db)

    def uploads_of(self, insats: str) -> list[Receipt]:
        """Every upload sent through the insats' links, newest first."""
        with self.store.connect() as db:
            rows = db.execute("SELECT receipt FROM uploads WHERE insats = ? ORDER BY id DESC", (insats,)).fetchall()
        return [Receipt.from_json(json.loads(row["receipt"])) for row in rows]

    def known_files(self, paths: Sequence[str] | None = None) -> dict[str, Known]:
        """Each file the intake stored in the inbox (path as the consolidation lists it) with its
        SHA-256, size and time from the log: files it vouches for need not be hashed again. With
        `paths`, only those (RAR's page asks for the files new since its last build)."""
        query = ("SELECT stored_name, sha256, size, received_ns FROM uploads WHERE stored_name IS NOT NULL "
                 "AND duplicate_of IS NULL AND sha256 IS NOT NULL AND size IS NOT NULL")
        with self.store.connect() as db:
            if paths is None:
                rows = db.execute(query).fetchall()
            else:
                names = [Path(path).name for path in paths if Path(path).parent == self.inbox]
                rows = []
                for start in range(0, len(names), 500):  # below SQLite's limit of bound parameters
                    part = names[start : start + 500]
                    rows += db.execute(f"{query} AND stored_name IN ({','.join('?' * len(part))})", part).fetchall()
        return {str(self.inbox / row["stored_name"]): Known(row["sha256"], row["size"], row["received_ns"])
                for row in rows}

    def last_change(self) -> tuple[int, int, int]:
        """The logs' last row ids: RAR's page is built again only after one of them or the inbox changed."""
        with self.store.connect() as db:
            return tuple(db.execute(  # type: ignore[return-value]
                "SELECT (SELECT COALESCE(MAX(id), 0) FROM uploads), (SELECT COALESCE(MAX(id), 0) FROM reviews), "
                "(SELECT COALESCE(MAX(id), 0) FROM insats_keys) + (SELECT COUNT(revoked_ns) FROM insats_keys)"
            ).fetchone())

    def counts(self) -> dict[str, int]:
        """Submissions by outcome, duplicates, the files stored in the inbox, and the checks
        without a link (which store nothing), from the log."""
        with self.store.connect() as db:
            row = db.execute(
                "SELECT COALESCE(SUM(mode IS NOT 'check'), 0) AS uploads, "
                "COALESCE(SUM(outcome = 'received' AND mode IS NOT 'check'), 0) AS received, "
                "COALESCE(SUM(outcome = 'has_errors' AND mode IS NOT 'check'), 0) AS has_errors, "
                "COALESCE(SUM(outcome = 'refused' AND mode IS NOT 'check'), 0) AS refused, "
                "COALESCE(SUM(duplicate_of IS NOT NULL), 0) AS duplicates, "
                "COALESCE(SUM(stored_name IS NOT NULL AND duplicate_of IS NULL), 0) AS stored, "
                "COALESCE(SUM(mode = 'check'), 0) AS checks "
                "FROM uploads").fetchone()
        return dict(row)


def receipt_order(db: Any) -> dict[str, dt.datetime]:
    """sha256 → the last receipt of those bytes that stored them (Intake.receipt_order), local time."""
    rows = db.execute(
        "SELECT sha256, MAX(received_ns) AS last FROM uploads WHERE stored_name IS NOT NULL "
        "AND outcome != 'refused' GROUP BY sha256").fetchall()
    return {row["sha256"]: dt.datetime.fromtimestamp(row["last"] / 1e9) for row in rows}


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


def _supersession(db: Any, name: str, upload: _Read, now: int) -> tuple[tuple[str, ...], str | None, str]:
    """What consolidate's rule says of the file just received among the error-free files stored so
    far: the latest received counts (decide_statuses with the receipt order), so it supersedes the
    earlier copies of its report."""
    rows = db.execute(
        "SELECT stored_name, sha256, case_number, initiative_name, report_number, signed_date FROM uploads "
        "WHERE outcome = 'received' AND duplicate_of IS NULL AND stored_name IS NOT NULL AND stored_name != ?",
        (name,)).fetchall()
    outcomes = [
        FileOutcome(
            name=row["stored_name"],
            result=ReadResult(file=row["stored_name"], sha256=row["sha256"]),
            answers={
                "case_number": row["case_number"],
                "initiative_name": row["initiative_name"],
                "report_number": row["report_number"],
                "signed_date": dt.date.fromisoformat(row["signed_date"]) if row["signed_date"] else None,
            },
        )
        for row in rows
    ]
    new = FileOutcome(name=name, result=ReadResult(file=name, sha256=upload.sha256),
                      answers={key: upload.answers.get(key) for key in IDENTITY})
    order = {**receipt_order(db), upload.sha256 or "": dt.datetime.fromtimestamp(now / 1e9)}
    decide_statuses([*outcomes, new], order)
    supersedes = tuple(o.name for o in outcomes if o.superseded_by == new.name)
    if new.status is Status.SUPERSEDED:
        return supersedes, new.superseded_by, new.superseded_reason
    return supersedes, None, ""
