"""What a server does at start, before it takes an upload: make the inbox, the state folder and the
log agree again after a crash (a kill, a power cut, a full disk).

An upload is written in steps: its bytes to `mottagning/<token>/` while it is read, its annotated
copy to `kontrollkopior/<token>/`, the stored file to `tmp/` and then renamed into the inbox, and
its row in the log, in the transaction that renamed it. A crash between any two steps leaves
debris, and one case that matters: a complete inbox file without a log row (renamed, then killed
before the commit). So, at start:

- `tmp/` and `mottagning/` are emptied, and temporary files in the inbox (`.tmp-*`, as the
  intake wrote them before `tmp/` existed) removed: nothing is being written yet;
- annotated copies whose upload has no row are removed (their receipt was never given);
- rows waiting in `loggkö/` (the log could not be written) are written;
- every inbox file without a row is read (or recalled from the cache by its SHA-256) and logged
  as found at start, with its SHA-256 and its modification time as its receipt time (what the
  intake set before the rename), so that the log and the inbox hold the same files.

Only one server reconciles a state folder: the first to lock `server.lock`, which it holds while it runs.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..consolidate.parallel import read_files
from .auth import new_token
from .fallback import write_rows
from .intake import Intake, Outcome, Receipt, _identity, _local
from .keys import Insats

logger = logging.getLogger(__name__)

LOCK_FILE = "server.lock"
FOUND_CODE = "found_at_start"
FOUND_DETAIL = "hittad i inkorgen vid start, utan rad i loggen"
_BATCH = 200  # found files logged per transaction


@dataclass
class Reconciled:
    """What the start found and did (also written to the server's log)."""

    removed: int = 0  # leftover temporary files, reception folders and annotated copies
    queued: int = 0  # rows written from loggkö/
    found: list[str] | None = None  # inbox files logged as found at start

    def __str__(self) -> str:
        return (f"{self.removed} rester borttagna, {self.queued} köade loggrader skrivna, "
                f"{len(self.found or [])} filer i inkorgen loggade som funna vid start")


def hold_state(state: Path) -> IO[Any] | None:
    """Lock the state folder for this server (None: another process holds it). Kept open while the
    server runs; the lock ends with the process, however it ends."""
    state.mkdir(parents=True, exist_ok=True)
    handle = open(state / LOCK_FILE, "a+")  # noqa: SIM115 - held for the server's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def reconcile(intake: Intake) -> Reconciled:
    """Bring the inbox, the state folder and the log into agreement (see the module's docstring).
    Run at start only, by the process that holds the state folder."""
    done = Reconciled()
    for folder in (intake.temporary, intake.incoming):
        done.removed += _empty(folder)
    for leftover in intake.inbox.glob(".tmp-*"):
        done.removed += _remove(leftover)
    done.queued = intake.write_queued()
    with intake.store.connect() as db:
        tokens = {row[0] for row in db.execute("SELECT token FROM uploads")}
        logged = {row[0] for row in db.execute("SELECT stored_name FROM uploads WHERE stored_name IS NOT NULL")}
    if intake.annotated_dir.is_dir():
        for copy in intake.annotated_dir.iterdir():
            if copy.name not in tokens:
                done.removed += _remove(copy)
    unlogged = sorted(path for path in intake.inbox.iterdir()
                      if path.is_file() and not path.name.startswith(".") and path.name not in logged)
    done.found = [path.name for path in unlogged]
    for start in range(0, len(unlogged), _BATCH):
        _log_found(intake, unlogged[start : start + _BATCH])
    if done.removed or done.queued or done.found:
        logger.warning("Vid start: %s", done)
    return done


def _log_found(intake: Intake, paths: list[Path]) -> None:
    """Log inbox files without a row: read once (or recalled from the cache), as found at start."""
    results = read_files([str(p) for p in paths], intake.settings.spec, workers=1, cache=intake.cache,
                         limits=intake.settings.limits)
    with intake.store.writing() as db:
        for path, (result, answers) in zip(paths, results):
            values = answers if answers is not None else result.values or {}
            outcome = (Outcome.RECEIVED if answers is not None and not result.errors
                       else Outcome.HAS_ERRORS if values else Outcome.REFUSED)
            at = path.stat().st_mtime_ns
            first = db.execute("SELECT id FROM uploads WHERE sha256 = ? AND stored_name IS NOT NULL "
                               "AND duplicate_of IS NULL", (result.sha256,)).fetchone()
            insats = Insats.of(values) if values else None
            receipt = Receipt(
                token=new_token(), received=_local(at), file_name=path.name, outcome=outcome,
                result=result.to_json(), size=result.size, sha256=result.sha256, stored_name=path.name,
                code=FOUND_CODE, submitted=True, insats=insats.title if insats else None, **_identity(values),
            )
            signed = values.get("signed_date")
            upload_row = [
                receipt.token, at, path.name, result.size, result.sha256, outcome.value, FOUND_CODE, path.name,
                first[0] if first else None, receipt.case_number, receipt.initiative_name, receipt.report_number,
                signed.isoformat() if hasattr(signed, "isoformat") else None, None,
                json.dumps(receipt.to_json(), ensure_ascii=False), "found", insats.key if insats else None, None,
            ]
            write_rows(db, (upload_row, {
                "action": "found_at_start", "at_ns": at, "insats": insats.key if insats else None,
                "insats_title": insats.title if insats else None, "sha256": result.sha256,
                "verdict": receipt.verdict, "detail": f"fil: {path.name}; {FOUND_DETAIL}",
            }))


def _empty(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(_remove(entry) for entry in folder.iterdir())


def _remove(path: Path) -> int:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except OSError as exc:
        logger.warning("Kunde inte ta bort %s: %s", path, exc)
        return 0
    return 1


__all__ = ["FOUND_CODE", "LOCK_FILE", "Reconciled", "hold_state", "reconcile"]
