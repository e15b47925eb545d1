"""The upload log as RAR's page reads it, kept up to date row by row.

The upload log only grows (no statement updates or deletes an upload's row), so what the page needs
of it — which stored file the log vouches for, when each content and each stored file was last
received, which names it holds — is folded in from the rows newer than the last reading instead of
read whole each time: after one upload the page reads one row, whatever the size of the inbox
(6 400 reports: 0.4 s of a 1 s page build before, docs/performance.md). The counts per outcome
and the times as the page shows them are folded in too, so a Snapshot copies dictionaries.
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..consolidate.cache import Known
from .names import STORED_NAME


def local_time(ns: int) -> dt.datetime:
    """As intake.receipt_order gives it: local time, naive."""
    return dt.datetime.fromtimestamp(ns / 1e9)


COUNTS = ("uploads", "received", "has_errors", "refused", "duplicates", "stored", "checks", "found")


@dataclass
class LogView:
    """Every row of the upload log up to `last_id`, folded (see the module's docstring). The times
    are kept as the page uses them, converted once a row: a snapshot copies them."""

    inbox: Path
    last_id: int = 0
    known: dict[str, Known] = field(default_factory=dict)  # inbox path → the log's word for it
    order: dict[str, int] = field(default_factory=dict)  # sha256 → last receipt that stored it (ns)
    last_uploads: dict[str, int] = field(default_factory=dict)  # every stored name → its last upload (ns)
    sent: dict[str, str] = field(default_factory=dict)  # stored name → the name it was sent under
    order_times: dict[str, dt.datetime] = field(default_factory=dict)  # `order` as receipt_order gives it
    upload_times: dict[str, dt.datetime] = field(default_factory=dict)  # `last_uploads`, local and aware
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))  # as Intake.counts
    journal: list[tuple[int, str]] = field(default_factory=list)  # (row id, stored name) of every stored row
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def catch_up(self, db: sqlite3.Connection) -> None:
        """Fold in the rows added since the last call (in the caller's read transaction)."""
        rows = db.execute(
            "SELECT id, stored_name, duplicate_of, sha256, size, received_ns, outcome, file_name, mode FROM uploads "
            "WHERE id > ? ORDER BY id", (self.last_id,)).fetchall()
        for row_id, stored, duplicate_of, sha256, size, received, outcome, sent, mode in rows:
            self.last_id = row_id
            self._count(stored, duplicate_of, outcome, mode)
            if stored is None:
                continue
            self.journal.append((row_id, stored))
            if received > self.last_uploads.get(stored, -1):
                self.last_uploads[stored] = received
                self.upload_times[stored] = local_time(received).astimezone()
            if outcome != "refused" and sha256 is not None and received > self.order.get(sha256, -1):
                self.order[sha256] = received
                self.order_times[sha256] = local_time(received)
            if duplicate_of is None and sha256 is not None and size is not None:
                self.known[str(self.inbox / stored)] = Known(sha256, size, received)
            if duplicate_of is None and sent:  # as overview.store_receipts reads it
                self.sent[stored] = sent

    def _count(self, stored: str | None, duplicate_of: int | None, outcome: str, mode: str | None) -> None:
        """Intake.counts' aggregate, a row at a time."""
        counts = self.counts
        if mode is None or mode == "link":
            counts["uploads"] += 1
            if outcome in ("received", "has_errors", "refused"):
                counts[outcome] += 1
        counts["duplicates"] += duplicate_of is not None
        counts["stored"] += stored is not None and duplicate_of is None
        counts["checks"] += mode == "check"
        counts["found"] += mode == "found"

    def stored_since(self, row_id: int) -> set[str]:
        """The stored names of the rows folded in after `row_id` (RAR's page: the rows to show again)."""
        return {name for _id, name in self.journal[bisect.bisect_right(self.journal, row_id, key=lambda row: row[0]):]}

    def receipt_order(self) -> dict[str, dt.datetime]:
        return dict(self.order_times)

    def last_upload_times(self) -> dict[str, dt.datetime]:
        return dict(self.upload_times)


@dataclass(frozen=True)
class Snapshot:
    """The log at one moment (one read transaction), for a reading of the whole inbox."""

    known: dict[str, Known]  # inbox path → SHA-256, size, time: the files the log vouches for
    order: dict[str, dt.datetime]  # receipt_order
    last_uploads: dict[str, dt.datetime]
    counts: dict[str, int]
    change: tuple[int, int, int]  # Intake.last_change
    logged: frozenset[str] = frozenset()  # every stored name in the log
    sent: dict[str, str] = field(default_factory=dict)  # stored name → the name it was sent under
    pending: tuple[Path, ...] = ()  # inbox files being stored, whose rows were not in the log yet
    log_id: int = 0  # the last upload row folded in (Intake.stored_since)

    def being_stored(self, name: str) -> bool:
        """Is an inbox file (named as in the inbox) one whose log row is on its way (see pending)?"""
        return name not in self.logged and STORED_NAME.match(name) is not None and os.sep not in name
