"""When an upload cannot be taken in or logged the ordinary way (issue 21): every upload still ends
with a log row and a Swedish reason, never a bare 500.

- `failure`: the code and reason for what went wrong inside the server (a full disk, the log's
  lock not to be had, anything else);
- the reserve: a file of RESERVE_BYTES in the state folder, given up when the disk is full so that
  the refusal's row fits (`give_up_reserve`), made again once a file could be stored (`keep_reserve`);
- the queue: a row the log cannot take (its lock held past the wait by another program) is kept as
  a JSON file in `loggkö/` and written in with the next upload or at the next start (`write_queued`);
  its receipt is answered meanwhile (`queued_receipt`).
"""

from __future__ import annotations

import errno
import json
import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

from ..common.atomic import atomic_path
from . import audit
from .receipt import STORAGE_FAILED
from .store import Store

logger = logging.getLogger(__name__)

QUEUE_FOLDER = "loggkö"  # in the state folder: log rows that could not be written yet, one file each
RESERVE_FILE = "reserv"  # in the state folder: room given up for the log when the disk is full
RESERVE_BYTES = 2 * 2**20  # a refusal's rows take a few kB: room for hundreds
INTERNAL_FAILED = ("RAR:s server kunde inte kontrollera filen på grund av ett fel i servern. Filen togs inte "
                   "emot. Försök igen om en stund; kvarstår felet, kontakta RAR:s kansli.")
BUSY = ("RAR:s server är upptagen och kunde inte ta emot filen just nu. Filen togs inte emot. Försök igen "
        "om en stund; kvarstår felet, kontakta RAR:s kansli.")
RECEIPT_COLUMN = 14  # the receipt's JSON in an upload row (write_rows' order)

Rows = tuple[list[Any], dict[str, Any]]  # an upload's row in the upload log, and its audit row's fields


def write_rows(db: sqlite3.Connection, rows: Rows) -> None:
    """Insert an upload's row and its audit row (in the caller's transaction)."""
    upload_row, audit_fields = rows
    db.execute(
        "INSERT INTO uploads (token, received_ns, file_name, size, sha256, outcome, code, stored_name, "
        "duplicate_of, case_number, initiative_name, report_number, signed_date, client, receipt, mode, "
        "insats, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", upload_row)
    fields = dict(audit_fields)
    audit.record(db, fields.pop("action"), **fields)


def disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def failure(exc: BaseException) -> tuple[str, str]:
    """The code and Swedish reason of an upload that failed inside the server."""
    if isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorcode", None) in (
            sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return "busy", BUSY
    if isinstance(exc, (OSError, sqlite3.Error)):
        return "storage_failed", STORAGE_FAILED
    return "internal_error", INTERNAL_FAILED


def queue(state: Path, temporary: Path, token: str, now: int, rows: Rows) -> None:
    """Keep the rows as a file in loggkö/ until the log can take them (logged, never raised)."""
    folder = state / QUEUE_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / f"{now}_{token}.json", temporary_folder=temporary) as tmp:
            tmp.write_text(json.dumps(rows, ensure_ascii=False))
    except OSError:
        logger.exception("Uppladdningen %s kunde varken loggas eller köas", token)


def write_queued(store: Store, state: Path) -> int:
    """Write the rows waiting in loggkö/ into the log (oldest first); how many were written.
    Never raises: a row that still cannot be written waits on."""
    try:
        waiting = sorted((state / QUEUE_FOLDER).glob("*.json"))
    except OSError:
        return 0
    written = 0
    for path in waiting:
        try:
            upload_row, audit_fields = json.loads(path.read_text())
            with store.writing() as db:
                if db.execute("SELECT 1 FROM uploads WHERE token = ?", (upload_row[0],)).fetchone() is None:
                    write_rows(db, (upload_row, audit_fields))
            path.unlink()
            written += 1
        except (OSError, sqlite3.Error, ValueError):
            logger.warning("Loggraden i %s väntar kvar", path.name)
            break
    return written


def queued_receipt(state: Path, token: str) -> dict[str, Any] | None:
    """The receipt (as JSON) of an upload whose row still waits in loggkö/."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", token):
        return None
    for path in (state / QUEUE_FOLDER).glob(f"*_{token}.json"):
        try:
            return json.loads(json.loads(path.read_text())[0][RECEIPT_COLUMN])
        except (OSError, ValueError, IndexError):
            return None
    return None


def give_up_reserve(state: Path) -> bool:
    """Free the reserve file's room for the log (a full disk); False when it was already used."""
    reserve = state / RESERVE_FILE
    try:
        reserve.unlink()
    except OSError:
        return False
    logger.warning("Disken är full: reservutrymmet i %s används för loggen", reserve)
    return True


def keep_reserve(state: Path, temporary: Path) -> None:
    """Make the reserve file when it is missing (at start, and once the disk has room again)."""
    reserve = state / RESERVE_FILE
    if reserve.exists():
        return
    try:
        with atomic_path(reserve, temporary_folder=temporary) as tmp:
            with open(tmp, "wb") as handle:
                handle.write(bytes(RESERVE_BYTES))  # written, not sparse: the room is really taken
    except OSError:
        pass
