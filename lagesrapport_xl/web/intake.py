"""Receiving one upload, without HTTP: read it, store it, log it, and answer with a receipt.

What "received" means, plainly: a file the reader recognises as RAR's Lägesrapport (its form
version or its named answer cells were found) is stored in the inbox — also when it has errors:
RAR's page then shows it as rejected until a corrected file comes, exactly as `consolidate` of
the inbox does. Anything else (not an Excel workbook, unsafe, damaged, another workbook, an Excel
lock file, too large, no file at all) is refused: logged with the reader's Swedish message, kept
in the state folder for audit when there were bytes, never put in the inbox.

Every upload gets one row in the log, whatever its outcome. A stored file gets a name of its own
(receipt time, the start of its SHA-256, the sanitised original name), is written atomically and
never over another file, and its modification time is the receipt time, so that consolidate's
supersede rule (signature date, then modification time) lets the later upload win. The same bytes
uploaded again are logged again but stored once; the receipt says when they first came.
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
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
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
from ..reader.safety import size_text  # sizes as safety's own messages write them: '20 MB', '51 kB'
from .auth import new_token
from .settings import Settings
from .store import Store

logger = logging.getLogger(__name__)
CACHE_FILE = "rapportcache.sqlite"  # in the state folder: the parsed result of every received upload
MAX_SHOWN_NAME = 255  # characters of the sent file name kept for the receipt
MAX_STORED_NAME_BYTES = 120  # of the sanitised name in the inbox (file systems allow 255 bytes)
DEFAULT_NAME = "rapport.xlsx"
_PATH_SEPARATORS = re.compile(r"[\\/]")
_UNSAFE = re.compile(r"[^\w .,()+~$#-]")  # \w: letters of any script (å, ä, ö), digits, "_"


class Outcome(str, Enum):
    RECEIVED = "received"  # in the inbox and counts as RAR's copy of the report (warnings allowed)
    HAS_ERRORS = "has_errors"  # in the inbox, but rejected until a corrected file comes
    REFUSED = "refused"  # not in the inbox


VERDICTS = {
    Outcome.RECEIVED: "RAR har tagit emot rapporten.",
    Outcome.HAS_ERRORS: "RAR har tagit emot filen, men den har fel som måste rättas.",
    Outcome.REFUSED: "Filen togs inte emot.",
}

# Messages for uploads that never reach the reader.
NO_FILE = "Ingen fil kom med. Välj din ifyllda Lägesrapport (.xlsx) och tryck Skicka."
BAD_FORM = "Uppladdningen gick inte att läsa. Välj filen igen och tryck Skicka."
STORAGE_FAILED = "RAR:s server kunde inte spara filen just nu. Försök igen om en stund; kvarstår felet, kontakta RAR:s kansli."
EXPIRED_FORM = (
    "Sidan har varit öppen för länge eller kom inte från RAR:s webbplats, så filen togs inte emot. "
    "Ladda om sidan och skicka filen igen."
)


def too_large_message(limit_bytes: int) -> str:
    return (
        f"Filen är större än {size_text(limit_bytes)} och togs inte emot. En ifylld Lägesrapport är högst "
        "några hundra kB: kontrollera att du har valt rätt fil."
    )


# --- file names ----------------------------------------------------------------------------------


def _visible(sent: str | None) -> str:
    """The sent name without a folder (old browsers send C:\\…\\x.xlsx) and without control or
    format characters (a right-to-left override can make "x.exe" look like "exe.x")."""
    base = _PATH_SEPARATORS.split(sent or "")[-1]
    return "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf")).strip()


def _shorten(name: str, limit: int, *, in_bytes: bool = False) -> str:
    """The name cut to `limit` characters (or UTF-8 bytes), its extension (up to 8 letters) kept."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix) > 8:
        stem, suffix = name, ""
    else:
        suffix = f".{suffix}"
    if in_bytes:
        return stem.encode("utf-8")[: limit - len(suffix.encode("utf-8"))].decode("utf-8", "ignore") + suffix
    return stem[: limit - len(suffix)] + suffix


def shown_name(sent: str | None) -> str:
    """The name as the coordinator knows it, shortened. Shown to people (escaped), never a path."""
    return _shorten(_visible(sent), MAX_SHOWN_NAME) or DEFAULT_NAME


def safe_name(sent: str | None) -> str:
    """A file name that is safe on any file system: letters, digits and a few marks, no folder,
    no leading dot, at most MAX_STORED_NAME_BYTES in UTF-8 with its extension kept. Excel's lock
    file marks (~$) survive, so that the reader still recognises a lock file."""
    name = unicodedata.normalize("NFC", _visible(sent))
    name = re.sub(r"_{2,}", "_", _UNSAFE.sub("_", name)).lstrip(". ").rstrip(". ")
    return _shorten(name, MAX_STORED_NAME_BYTES, in_bytes=True) if name else DEFAULT_NAME


# --- the receipt ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """What the coordinator is told, and what the log keeps of it (as JSON)."""

    token: str
    received: dt.datetime  # local time, with its offset
    file_name: str
    outcome: Outcome
    result: dict[str, Any]  # ReadResult.to_json(): every issue, as `validate --format json`
    size: int | None = None
    sha256: str | None = None
    stored_name: str | None = None  # its file in the inbox
    case_number: str | None = None
    initiative_name: str | None = None
    report_number: int | None = None
    already_received: dt.datetime | None = None  # these bytes came before and were stored then
    supersedes: tuple[str, ...] = ()  # earlier uploads of the same insats and report it replaces
    superseded_by: str | None = None  # a stored upload that counts instead (a later signature date)
    superseded_reason: str = ""
    annotated: bool = False  # an annotated copy can be downloaded
    code: str | None = None  # why it was refused, for statistics

    @property
    def verdict(self) -> str:
        return VERDICTS[self.outcome]

    @property
    def advice(self) -> str:
        """What to do now, in one or two plain sentences."""
        if self.outcome is Outcome.REFUSED:
            return "Ingen rapport har lämnats in till RAR. Läs varför nedan, åtgärda det och skicka filen igen."
        if self.outcome is Outcome.HAS_ERRORS:
            return (
                "Filen är sparad hos RAR, men rapporten räknas inte som inkommen förrän felen är rättade. "
                "Rätta felen i din fil (listan nedan; kontrollkopian visar dem i Excel) och skicka den igen."
            )
        warnings = self.count(Severity.WARNING)
        if warnings:
            return (
                f"Kontrollen hittade inga fel men {warnings} {'varning' if warnings == 1 else 'varningar'}. "
                "Rapporten räknas som inkommen. Läs varningarna: stämmer något inte, rätta filen och skicka den igen."
            )
        return "Kontrollen hittade inga fel. Rapporten räknas som inkommen; du behöver inte göra något mer."

    @property
    def issues(self) -> list[dict[str, Any]]:
        return self.result.get("issues", [])

    def count(self, severity: Severity) -> int:
        return sum(1 for issue in self.issues if issue["severity"] == severity.value)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        data["verdict"] = self.verdict
        for key in ("received", "already_received"):
            data[key] = data[key].isoformat() if data[key] else None
        data["supersedes"] = list(self.supersedes)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Receipt:
        values = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        values["outcome"] = Outcome(values["outcome"])
        values["supersedes"] = tuple(values.get("supersedes", ()))
        for key in ("received", "already_received"):
            values[key] = dt.datetime.fromisoformat(values[key]) if values.get(key) else None
        return cls(**values)


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

    def receive(self, content: bytes, file_name: str | None, *, client: str | None = None) -> Receipt:
        """Read, store and log one uploaded file; never raises for a bad file. When the inbox
        cannot be written (a full disk), the upload is logged as refused, with that reason."""
        upload = self._read(content, file_name)
        try:
            return self._log(upload, client)
        except OSError:
            return self.refuse(file_name, "storage_failed", STORAGE_FAILED, client=client, size=len(content))

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Hold the log's write lock: meanwhile no upload is stored, so that a reading of the whole
        inbox (RAR's page, the master) sees no half-written file and agrees with the log."""
        with self.store.writing():
            yield

    def refuse(self, file_name: str | None, code: str, message: str, *, client: str | None = None,
               size: int | None = None) -> Receipt:
        """Log an upload that never reached the reader (no file, too large, an expired form)."""
        name = shown_name(file_name) if file_name else ""
        result = ReadResult(file=name, issues=[Issue(Severity.ERROR, message, code)], size=size)
        upload = _Read(new_token(), name, safe_name(name), b"", None, result, Outcome.REFUSED, code=code)
        return self._log(upload, client)

    def _read(self, content: bytes, file_name: str | None) -> _Read:
        """The reader's verdict on the bytes, and the annotated copy (outside the log's lock)."""
        token, name, safe = new_token(), shown_name(file_name), safe_name(file_name)
        folder = self.incoming / token
        folder.mkdir(parents=True)
        path = folder / safe  # the reader sees the sent name: it recognises lock files by it
        try:
            path.write_bytes(content)
            result = replace(read_report(path, self.settings.spec, limits=self.settings.limits), file=name)
            recognised = bool(result.values) and not result.skipped  # the form's cells were found
            outcome = Outcome.REFUSED if not recognised else Outcome.HAS_ERRORS if result.errors else Outcome.RECEIVED
            upload = _Read(token, name, safe, content, result.sha256 or _sha256(content), result, outcome)
            if outcome is Outcome.REFUSED:
                upload.code = (result.errors or result.issues)[0].code if result.issues else "not_a_report"
            else:  # only files safety let through are unpacked again for the copy
                self.cache.keep([batch_form(result)])
                upload.answers = result.report.answers() if result.report is not None else dict(result.values)
                try:
                    write_annotated_copy(path, result, self.annotated_dir / token, self.settings.spec)
                    upload.annotated = True
                except (AnnotateError, OSError):
                    pass  # the receipt simply offers no copy
            return upload
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _log(self, upload: _Read, client: str | None) -> Receipt:
        """Store (if received and new) and log, as one step under the database's write lock."""
        identity = _identity(upload.answers or upload.result.values)
        with self.store.writing() as db:
            last = db.execute("SELECT MAX(received_ns) FROM uploads").fetchone()[0] or 0
            now = max(time.time_ns(), last + 1000)  # strictly increasing, also as a float mtime
            stored_name, duplicate_of, already = None, None, None
            supersedes: tuple[str, ...] = ()
            superseded_by, reason = None, ""
            if upload.outcome is not Outcome.REFUSED:
                first = db.execute(
                    "SELECT id, stored_name, received_ns FROM uploads WHERE sha256 = ? AND stored_name IS NOT NULL "
                    "AND duplicate_of IS NULL", (upload.sha256,)).fetchone()
                if first is not None:
                    stored_name, duplicate_of, already = first["stored_name"], first["id"], _local(first["received_ns"])
                else:
                    stored_name = self._store(upload, now)
            elif upload.content:
                self._keep_refused(upload, now)
            if upload.outcome is Outcome.RECEIVED and duplicate_of is None:
                supersedes, superseded_by, reason = _supersession(db, stored_name, upload.answers, now)
            receipt = Receipt(
                token=upload.token,
                received=_local(now),
                file_name=upload.file_name,
                outcome=upload.outcome,
                result=upload.result.to_json(),
                size=upload.result.size if upload.result.size is not None else len(upload.content) or None,
                sha256=upload.sha256,
                stored_name=stored_name,
                already_received=already,
                supersedes=supersedes,
                superseded_by=superseded_by,
                superseded_reason=reason,
                annotated=upload.annotated,
                code=upload.code,
                **identity,
            )
            signed = upload.answers.get("signed_date")
            db.execute(
                "INSERT INTO uploads (token, received_ns, file_name, size, sha256, outcome, code, stored_name, "
                "duplicate_of, case_number, initiative_name, report_number, signed_date, client, receipt) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (upload.token, now, upload.file_name, receipt.size, upload.sha256, upload.outcome.value, upload.code,
                 stored_name, duplicate_of, identity["case_number"], identity["initiative_name"],
                 identity["report_number"], signed.isoformat() if isinstance(signed, dt.date) else None, client,
                 json.dumps(receipt.to_json(), ensure_ascii=False)),
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

    def _keep_refused(self, upload: _Read, now: int) -> None:
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

    def last_uploads(self) -> dict[str, dt.datetime]:
        """Stored file name → the last time it was uploaded (its first upload or a re-upload)."""
        with self.store.connect() as db:
            rows = db.execute(
                "SELECT stored_name, MAX(received_ns) AS last FROM uploads WHERE stored_name IS NOT NULL "
                "GROUP BY stored_name").fetchall()
        return {row["stored_name"]: _local(row["last"]) for row in rows}

    def known_files(self) -> dict[str, Known]:
        """Each file the intake stored in the inbox (path as the consolidation lists it) with its
        SHA-256, size and time from the log: files it vouches for need not be hashed again."""
        with self.store.connect() as db:
            rows = db.execute(
                "SELECT stored_name, sha256, size, received_ns FROM uploads WHERE stored_name IS NOT NULL "
                "AND duplicate_of IS NULL AND sha256 IS NOT NULL AND size IS NOT NULL").fetchall()
        return {str(self.inbox / row["stored_name"]): Known(row["sha256"], row["size"], row["received_ns"])
                for row in rows}

    def last_change(self) -> int:
        """The log's last row id: RAR's page is built again only after it or the inbox changed."""
        with self.store.connect() as db:
            return db.execute("SELECT COALESCE(MAX(id), 0) FROM uploads").fetchone()[0]

    def counts(self) -> dict[str, int]:
        """Uploads by outcome, duplicates, and the files stored in the inbox (from the log)."""
        with self.store.connect() as db:
            row = db.execute(
                "SELECT COUNT(*) AS uploads, "
                "COALESCE(SUM(outcome = 'received'), 0) AS received, "
                "COALESCE(SUM(outcome = 'has_errors'), 0) AS has_errors, "
                "COALESCE(SUM(outcome = 'refused'), 0) AS refused, "
                "COALESCE(SUM(duplicate_of IS NOT NULL), 0) AS duplicates, "
                "COALESCE(SUM(stored_name IS NOT NULL AND duplicate_of IS NULL), 0) AS stored "
                "FROM uploads").fetchone()
        return dict(row)


def _sha256(content: bytes) -> str | None:
    return hashlib.sha256(content).hexdigest() if content else None


def _supersession(
    db: Any, name: str | None, answers: dict[str, Any], now: int
) -> tuple[tuple[str, ...], str | None, str]:
    """What consolidate's own rule (decide_statuses) says of the new file among the error-free
    files stored so far: which it supersedes, or which supersedes it and why."""
    rows = db.execute(
        "SELECT stored_name, case_number, initiative_name, report_number, signed_date, received_ns FROM uploads "
        "WHERE outcome = 'received' AND duplicate_of IS NULL AND stored_name IS NOT NULL").fetchall()
    outcomes = [
        FileOutcome(
            name=row["stored_name"],
            result=ReadResult(file=row["stored_name"], modified=dt.datetime.fromtimestamp(row["received_ns"] / 1e9)),
            answers={
                "case_number": row["case_number"],
                "initiative_name": row["initiative_name"],
                "report_number": row["report_number"],
                "signed_date": dt.date.fromisoformat(row["signed_date"]) if row["signed_date"] else None,
            },
        )
        for row in rows
    ]
    new = FileOutcome(
        name=name or "",
        result=ReadResult(file=name or "", modified=dt.datetime.fromtimestamp(now / 1e9)),
        answers={key: answers.get(key) for key in ("case_number", "initiative_name", "report_number", "signed_date")},
    )
    decide_statuses([*outcomes, new])
    supersedes = tuple(o.name for o in outcomes if o.superseded_by == new.name)
    if new.status is Status.SUPERSEDED:
        return supersedes, new.superseded_by, new.superseded_reason
    return supersedes, None, ""
