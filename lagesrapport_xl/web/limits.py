"""Limits that hold: per address, per link and per account, counted in SQLite so that a burst
cannot outrun them and a restart does not forget them (the numbers: settings.Guard, `[web.limits]`).

- Logins (`LoginGuard`): an attempt is written down *before* its password is checked, in the
  same transaction that counts the address's and the account's attempts within the window; a
  correct password removes the attempts of that account from that address. 400 wrong passwords
  at once from one address therefore cost 5 password checks, not 400.
- Uploads (`UploadGuard`): before its body is read, an upload is counted against its address's
  and its link key's uploads of the last minute and its address's bytes of the last day (the
  request's Content-Length), and given a place in the same transaction.
- Refused files kept for audit (`make_room`): at most `refused_files_mb` together; the oldest
  are removed first, each removal written to the audit log.

A refusal says what was exceeded and when to try again (`Refusal.retry_after`, the HTTP
`Retry-After`): the moment the oldest counted attempt leaves its window.
"""

from __future__ import annotations

import math
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..reader.safety import size_text
from . import audit
from .settings import Guard
from .store import Store

MINUTE, DAY = 60.0, 24 * 3600.0


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str  # Swedish, with when to try again
    retry_after: int  # seconds


@dataclass(frozen=True)
class Attempt:
    """A login attempt, counted; removed again when its password was right."""

    id: int
    account: str
    client: str


def wait_text(seconds: float) -> str:
    """'40 sekunder', '1 minut', '15 minuter', '3 timmar': when to try again."""
    if seconds < 60:
        return f"{max(1, math.ceil(seconds))} sekunder"
    if seconds < 2 * 3600:
        minutes = math.ceil(seconds / 60)
        return "1 minut" if minutes == 1 else f"{minutes} minuter"
    return f"{math.ceil(seconds / 3600)} timmar"


def _wait(times: list[float], limit: int, window: float, now: float) -> float:
    """Seconds until fewer than `limit` of `times` (ascending) are within the window."""
    return times[len(times) - limit] + window - now


def _retry(seconds: float) -> int:
    return max(1, math.ceil(seconds))


# --- logins -----------------------------------------------------------------------------------------


def account_key(name: str) -> str:
    """An account as the limits count it: the name as typed, stripped, case ignored."""
    return name.strip().casefold()[:64]


class LoginGuard:
    """Login attempts per address and per account within the window (`login_attempts` table)."""

    def __init__(self, store: Store, guard: Guard, clock: Callable[[], float] = time.time):
        self.store = store
        self.per_address = guard.login_failures_per_address
        self.per_account = guard.login_failures_per_account
        self.window = guard.login_window
        self.clock = clock

    def begin(self, name: str, client: str) -> Attempt | Refusal:
        """Count the attempt before its password is checked, or refuse it when the address or the
        account has had too many within the window."""
        account, now = account_key(name), self.clock()
        with self.store.writing() as db:
            db.execute("DELETE FROM login_attempts WHERE at <= ?", (now - self.window,))
            for column, value, limit in (("client", client, self.per_address), ("account", account, self.per_account)):
                times = [row[0] for row in db.execute(
                    f"SELECT at FROM login_attempts WHERE {column} = ? AND at > ? ORDER BY at",
                    (value, now - self.window))]
                if len(times) >= limit:
                    wait = _wait(times, limit, self.window, now)
                    whose = "från din adress" if column == "client" else "för det här kontot"
                    return Refusal("login_locked", f"För många felaktiga försök {whose}. Vänta {wait_text(wait)} "
                                   "och försök igen.", _retry(wait))
            cursor = db.execute("INSERT INTO login_attempts (at, account, client) VALUES (?, ?, ?)",
                                (now, account, client))
        return Attempt(int(cursor.lastrowid), account, client)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the account's attempts from this address no longer count."""
        with self.store.connect() as db:
            db.execute("DELETE FROM login_attempts WHERE account = ? AND client = ?", (attempt.account, attempt.client))


# --- uploads ----------------------------------------------------------------------------------------


class UploadGuard:
    """Uploads per address and per link key within a minute, bytes per address within a day
    (`upload_slots` table)."""

    def __init__(self, store: Store, guard: Guard, clock: Callable[[], float] = time.time):
        self.store = store
        self.guard = guard
        self.clock = clock

    def admit(self, client: str, key_id: int | None, size: int) -> Refusal | None:
        """Give the upload a place, or the reason it gets none (nothing is counted then)."""
        guard, now = self.guard, self.clock()
        with self.store.writing() as db:
            db.execute("DELETE FROM upload_slots WHERE at <= ?", (now - DAY,))
            refusal = self._per_minute(db, "client", client, guard.uploads_per_address_per_minute, now)
            if refusal is None and key_id is not None:
                refusal = self._per_minute(db, "key_id", key_id, guard.uploads_per_key_per_minute, now)
            if refusal is None:
                refusal = self._per_day(db, client, size, now)
            if refusal is None:
                db.execute("INSERT INTO upload_slots (at, client, key_id, bytes) VALUES (?, ?, ?, ?)",
                           (now, client, key_id, size))
        return refusal

    @staticmethod
    def _per_minute(db: sqlite3.Connection, column: str, value: object, limit: int, now: float) -> Refusal | None:
        times = [row[0] for row in db.execute(
            f"SELECT at FROM upload_slots WHERE {column} = ? AND at > ? ORDER BY at", (value, now - MINUTE))]
        if len(times) < limit:
            return None
        wait = _wait(times, limit, MINUTE, now)
        if column == "key_id":
            return Refusal("too_many_for_link", f"Den här länken har använts för {len(times)} uppladdningar den senaste "
                           f"minuten, och RAR:s server tar emot högst {limit} i minuten per länk. Filen togs inte "
                           f"emot. Vänta {wait_text(wait)} och skicka den igen.", _retry(wait))
        return Refusal("too_many_uploads", f"Från din adress har det kommit {len(times)} uppladdningar den senaste "
                       f"minuten, och RAR:s server tar emot högst {limit} i minuten från en adress. Filen togs inte "
                       f"emot. Vänta {wait_text(wait)} och försök igen.", _retry(wait))

    def _per_day(self, db: sqlite3.Connection, client: str, size: int, now: float) -> Refusal | None:
        limit = self.guard.bytes_per_address_per_day
        total = db.execute("SELECT COALESCE(SUM(bytes), 0) FROM upload_slots WHERE client = ? AND at > ?",
                           (client, now - DAY)).fetchone()[0]  # the day's rows are read only for a refusal
        if total + size <= limit:
            return None
        rows = db.execute("SELECT at, bytes FROM upload_slots WHERE client = ? AND at > ? ORDER BY at",
                          (client, now - DAY)).fetchall()
        wait, freed = DAY, 0
        for at, sent in rows:  # the oldest leave the day first
            freed += sent
            if total - freed + size <= limit:
                wait = at + DAY - now
                break
        return Refusal("too_many_bytes", f"Från din adress har det kommit {size_text(total)} det senaste dygnet, och "
                       f"RAR:s server tar emot högst {size_text(limit)} per dygn från en adress. Filen togs inte emot. "
                       f"Försök igen om {wait_text(wait)}; brådskar det, kontakta RAR:s kansli.", _retry(wait))


# --- refused files kept for audit ------------------------------------------------------------------------


def make_room(folder: Path, size: int, cap: int, db: sqlite3.Connection) -> None:
    """Remove the oldest kept refused files until one of `size` bytes fits under `cap`; each
    removal gets an audit row in the caller's transaction."""
    try:
        entries = [entry for entry in os.scandir(folder) if entry.is_file() and not entry.name.startswith(".")]
    except FileNotFoundError:
        return
    files = sorted((entry.stat().st_mtime_ns, entry.name, entry.stat().st_size) for entry in entries)
    total = sum(item[2] for item in files)
    for _mtime, name, kept in files:
        if total + size <= cap:
            break
        (folder / name).unlink(missing_ok=True)
        total -= kept
        audit.record(db, "refused_pruned", detail=f"{name}, {size_text(kept)}: taket för sparade avvisade filer "
                     f"({size_text(cap)}) var nått")
